"""The block-sum idiom: a shared-memory tree reduction ending in one atomicAdd per block,
translated as what an OpenMP programmer writes, a ``reduction(+)`` over the launch grid.

The kernel's body must be, statement for statement::

    <prefix>                      // per-thread code, with exactly one  S[t] = E;
    __syncthreads();
    for (T s = blockDim.x / 2; s > 0; s >>= 1) {      // or a constant B / 2; s /= 2
        if (t < s) S[t] += S[t + s];                  // or S[t] = S[t] + S[t + s]
        __syncthreads();
    }
    if (t == 0) atomicAdd(X, S[0]);                   // X: p or &p[k], k the same in every block

with ``t`` ``threadIdx.x`` (or a local set once to it), ``S`` the kernel's only
``__shared__`` array, and the prefix touching no shared memory, holding no barrier, warp
function, return or loop (a grid-stride accumulation stays with the phases, which run it
in lockstep on the host device).  Where the block is one-dimensional, its size a power of two that
``S`` holds (and the tree's constant start is half of it), the tree adds every thread's
``E`` of the block, so the kernel adds ``sum over the grid of E`` to ``*X``: the launcher
runs the prefix once per (block, thread) in a ``target teams distribute parallel for
reduction(+)`` (``k__pcx_value`` returns ``E``, the prefix's other effects kept) and adds
the total to ``*X`` in one small target region.  Any other launch runs the phase form, as
before.  Sums run in another order than the tree's: floating-point totals agree to
rounding (CUDA's order of the blocks' atomicAdds is no more fixed).
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from pcx_driver.cuda import kernels, phases
from pcx_driver.cuda.coop import Groups
from pcx_driver.cuda.parse import call_args, call_name, declarator_name, has_keyword, text, walk

#: Element types ``reduction(+)`` takes (C's arithmetic types as CUDA programs spell them).
_SUMMABLE = frozenset({
    "float", "double", "int", "unsigned", "unsigned int", "long", "unsigned long", "long long",
    "unsigned long long", "long int", "unsigned long int", "long long int", "unsigned long long int",
})


@dataclass
class BlockSum:
    """A kernel matched to the idiom; the texts the launcher and the value function need."""

    shared: str  # S
    element: str  # S's element type, the sum's
    store: Node  # the statement ``S[t] = E;``
    value: Node  # E
    prefix: list[Node]  # the statements before the first barrier but S's declaration (the store among them)
    target: Node  # atomicAdd's first argument
    half: str  # the tree's start as C text: "" for blockDim.x / 2, else the constant halved (``BLOCK / 2``)
    capacity: str  # S's length as C text ("" for extern __shared__: the launch's bytes decide)


def _statements(body: Node) -> list[Node]:
    return [c for c in body.named_children if c.type != "comment"]


def _is_thread_x(node: Node | None, t: str) -> bool:
    if node is None:
        return False
    node = _bare(node)
    return (node.type == "identifier" and text(node) == t) if t else text(node).replace(" ", "") == "threadIdx.x"


def _bare(node: Node) -> Node:
    """The expression inside parentheses (and inside an ``if``'s condition clause)."""
    while node.type in ("parenthesized_expression", "condition_clause") and node.named_children:
        node = node.child_by_field_name("value") or node.named_children[-1]
    return node


def _subscript(node: Node, array: str) -> Node | None:
    """The index of ``array[index]``, or None."""
    node = _bare(node)
    if node.type != "subscript_expression" or text(node.child_by_field_name("argument")) != array:
        return None
    idx = node.child_by_field_name("indices") or node.child_by_field_name("index")
    if idx is not None and idx.type == "subscript_argument_list":
        idx = idx.named_children[0] if len(idx.named_children) == 1 else None
    return idx


def _single(stmt: Node | None) -> Node | None:
    """The one statement of ``{ s; }`` or ``s``."""
    if stmt is None:
        return None
    if stmt.type == "compound_statement":
        inner = _statements(stmt)
        return inner[0] if len(inner) == 1 else None
    return stmt


def _expression(stmt: Node | None) -> Node | None:
    if stmt is None or stmt.type != "expression_statement" or not stmt.named_children:
        return None
    return stmt.named_children[0]


def match(body: Node, info: kernels.KernelInfo, groups: Groups, written: set[str]) -> BlockSum | None:
    """The idiom in a kernel ``body`` (see the module), or None.  ``written``: the names
    the body assigns (a parameter the index of ``X`` reads must be one no thread moves)."""
    if groups.groups or info.shared_scalars or len(info.shared) + len(info.dynamic_shared) != 1:
        return None
    if info.shared:
        shared, element = info.shared[0].name, info.shared[0].spec
        decl = info.shared[0].declarator
        capacity = decl[decl.index("[") + 1:decl.rindex("]")] if decl.count("[") == 1 else None
        if capacity is None:
            return None
    else:
        (element, shared), capacity = info.dynamic_shared[0], ""
    if element.replace("const ", "").strip() not in _SUMMABLE:
        return None
    stmts = _statements(body)
    barrier = next((k for k, s in enumerate(stmts) if groups.is_barrier(s) or any(groups.is_barrier(n) for n in walk(s))), None)
    if barrier is None or len(stmts) != barrier + 3 or not _is_sync_statement(stmts[barrier], groups):
        return None
    tree, final = stmts[barrier + 1], stmts[barrier + 2]
    prefix = [s for s in stmts[:barrier] if not (s.type == "declaration" and has_keyword(s, "__shared__"))]
    t = _thread_local(prefix, written)
    if t is None:
        return None
    stores = [s for s in prefix if any(n.type == "identifier" and text(n) == shared for n in walk(s))]
    if len(stores) != 1:
        return None
    store = stores[0]
    e = _expression(store)
    if e is None or e.type != "assignment_expression" or text(e.child_by_field_name("operator")) != "=" \
            or not _is_thread_x(_subscript(e.child_by_field_name("left"), shared), t):
        return None
    value = e.child_by_field_name("right")
    if any(n.type == "identifier" and text(n) == shared for n in walk(value)):
        return None
    for s in prefix:
        for n in walk(s):
            # A thread's loop (a grid-stride accumulation) stays with the phases: where one
            # device thread runs a block they run it in lockstep, where a loop per
            # iteration of the reduction would walk memory a grid apart (shared_stencil's
            # change: 0.21 s -> 0.33 s on the host device).
            if n.type in ("return_statement", "goto_statement", "for_statement", "while_statement", "do_statement"):
                return None
            if n.type == "call_expression" and phases.warp_op(n, groups) is not None:
                return None
    half = _tree(tree, shared, t, groups)
    if half is None:
        return None
    target = _final(final, shared, t, written, set(info.param_names()))
    if target is None:
        return None
    return BlockSum(shared, element, store, value, prefix, target, half, capacity)


def _is_sync_statement(stmt: Node, groups: Groups) -> bool:
    e = _expression(stmt)
    return e is not None and groups.is_barrier(e)


def _thread_local(prefix: list[Node], written: set[str]) -> str | None:
    """``t`` where the prefix declares ``T t = threadIdx.x;`` (never written again), else
    "" (``threadIdx.x`` is written out); None where a declared thread index is written."""
    for s in prefix:
        if s.type != "declaration":
            continue
        for d in s.children_by_field_name("declarator"):
            if d.type == "init_declarator" and text(d.child_by_field_name("value")).replace(" ", "") == "threadIdx.x":
                name = declarator_name(d)
                return None if name in written else name
    return ""


def _tree(loop: Node, shared: str, t: str, groups: Groups) -> str | None:
    """The tree loop's start as "" (``blockDim.x / 2``) or the constant's text, or None."""
    if loop.type != "for_statement":
        return None
    init = loop.child_by_field_name("initializer")
    if init is None or init.type != "declaration" or len(init.children_by_field_name("declarator")) != 1:
        return None
    d = init.child_by_field_name("declarator")
    if d.type != "init_declarator":
        return None
    s = declarator_name(d)
    start = _bare(d.child_by_field_name("value"))
    if start.type != "binary_expression" or text(start.child_by_field_name("operator")) not in ("/", ">>") \
            or text(start.child_by_field_name("right")) not in (("2",) if text(start.child_by_field_name("operator")) == "/" else ("1",)):
        return None
    left = _bare(start.child_by_field_name("left"))
    if text(left).replace(" ", "") == "blockDim.x":
        half = ""
    elif left.type in ("number_literal", "identifier"):
        half = text(start)  # a constant or a macro halved: the launcher checks blockDim.x is twice it
    else:
        return None
    cond = _bare(loop.child_by_field_name("condition"))
    if text(cond).replace(" ", "") not in (f"{s}>0", f"0<{s}", f"{s}>=1", f"{s}!=0"):
        return None
    if text(loop.child_by_field_name("update")).replace(" ", "") not in (f"{s}>>=1", f"{s}/=2", f"{s}={s}/2", f"{s}={s}>>1"):
        return None
    body = loop.child_by_field_name("body")
    inner = _statements(body) if body is not None and body.type == "compound_statement" else []
    if len(inner) != 2 or not _is_sync_statement(inner[1], groups):
        return None
    add = inner[0]
    if add.type != "if_statement" or add.child_by_field_name("alternative") is not None:
        return None
    test = _bare(add.child_by_field_name("condition"))
    if test.type != "binary_expression" or text(test.child_by_field_name("operator")) != "<" \
            or not _is_thread_x(test.child_by_field_name("left"), t) or text(test.child_by_field_name("right")) != s:
        return None
    e = _expression(_single(add.child_by_field_name("consequence")))
    if e is None or e.type != "assignment_expression" or not _is_thread_x(_subscript(e.child_by_field_name("left"), shared), t):
        return None
    op, right = text(e.child_by_field_name("operator")), _bare(e.child_by_field_name("right"))
    if op == "=":
        if right.type != "binary_expression" or text(right.child_by_field_name("operator")) != "+" \
                or not _is_thread_x(_subscript(right.child_by_field_name("left"), shared), t):
            return None
        right = _bare(right.child_by_field_name("right"))
    elif op != "+=":
        return None
    idx = _subscript(right, shared)
    if idx is None:
        return None
    idx = _bare(idx)
    if idx.type != "binary_expression" or text(idx.child_by_field_name("operator")) != "+" \
            or not _is_thread_x(idx.child_by_field_name("left"), t) or text(idx.child_by_field_name("right")) != s:
        return None
    return half


def _final(stmt: Node, shared: str, t: str, written: set[str], params: set[str]) -> Node | None:
    """``X`` of ``if (t == 0) atomicAdd(X, S[0]);`` where X is the same in every block."""
    if stmt.type != "if_statement" or stmt.child_by_field_name("alternative") is not None:
        return None
    test = _bare(stmt.child_by_field_name("condition"))
    if test.type != "binary_expression" or text(test.child_by_field_name("operator")) != "==" \
            or not _is_thread_x(test.child_by_field_name("left"), t) or text(test.child_by_field_name("right")) != "0":
        return None
    call = _expression(_single(stmt.child_by_field_name("consequence")))
    if call is None or call.type != "call_expression" or call_name(call) != "atomicAdd" or len(call_args(call)) != 2:
        return None
    target, value = call_args(call)
    idx = _subscript(value, shared)
    if idx is None or text(idx) != "0":
        return None
    # X reads only parameters no thread moves, numbers and macros (never the launch geometry)
    for n in walk(target):
        if n.type == "identifier" and (text(n) in written or (text(n) not in params and not text(n).isupper())):
            return None
        if n.type in ("call_expression", "assignment_expression", "update_expression"):
            return None
    if not any(n.type == "identifier" and text(n) in params for n in walk(target)):
        return None
    return target


def value_function(k: kernels.KernelInfo, bs: BlockSum, emit, line_at) -> str:
    """``k__pcx_value(blockIdx, threadIdx, blockDim, gridDim, P)``: the prefix of one thread,
    returning its ``E`` (``emit(node)`` prints a node of the kernel as device code,
    ``line_at(node)`` a ``#line`` to its place)."""
    parts = [f"{{ (void)blockIdx; (void)threadIdx; (void)blockDim; (void)gridDim; {bs.element} pcx_value = 0;"]
    for s in bs.prefix:
        if s.id == bs.store.id:
            parts.append(line_at(s) + f"pcx_value = ({emit(bs.value)});")
        else:
            parts.append(line_at(s) + emit(s))
    parts.append("\nreturn pcx_value;\n}")
    head = ["dim3 blockIdx", "dim3 threadIdx", "dim3 blockDim", "dim3 gridDim"] + ([k.param_text] if k.param_text else [])
    return f"{k.template}static {bs.element} {k.name}{kernels.VALUE_SUFFIX}({', '.join(head)}) " + "".join(parts)


def launch_condition(bs: BlockSum) -> str:
    """When the tree adds every thread's value of the block: a 1-D block whose size is a
    power of two that the shared array holds (and that the tree's constant halves)."""
    cond = ["pcx_block.y == 1", "pcx_block.z == 1", "(pcx_nt & (pcx_nt - 1)) == 0"]
    if bs.capacity:
        cond.append(f"pcx_nt <= (long long)({bs.capacity})")
    else:
        cond.append(f"(size_t)pcx_nt * sizeof({bs.element}) <= pcx_shmem")
    if bs.half:
        cond.append(f"pcx_nt == 2 * (long long)({bs.half})")
    return " && ".join(cond)

