"""Cooperative device helpers, inlined into the kernels that call them.

A ``__device__`` function that calls a warp function (``__shfl_*_sync``, a vote,
``__syncwarp``) or ``__syncthreads()``, or reads the launch geometry (``threadIdx``...), has
no OpenMP form of its own: those are statements of its kernel's barrier phases
(``phases.py``).  Programs put them in helpers all the same (a warp reduction, a block
reduction), so before a unit is translated each call of such a *cooperative helper* inside
a kernel is replaced by the helper's body, as a compiler's inliner would:

* template parameters are bound to the call's explicit template arguments, or deduced from
  an argument that is a variable of the caller declared with a plain type (``T &m`` given
  ``float acc`` binds T to float);
* a reference parameter is replaced by its argument, which must be a variable of the caller;
  a value parameter too when the argument is a variable that neither name writes in the
  body; otherwise it is a local initialised with the argument;
* the body's own locals are renamed (``lane`` -> ``lane__pcx_in1``) so that none shadows
  the caller's, and a call whose helper reads a global that the caller's own variable would
  hide is left alone;
* a value returned by the body's last statement goes to a fresh local declared just before
  the statement holding the call (``float r = f(x) / n;`` reads it), where that call runs
  exactly once and first.

The body is written on the call's line (comments and ``#pragma unroll`` dropped), so every
later line keeps its number and remarks and ``#line`` stay right.  Rounds repeat until no
call of a cooperative helper is left in a kernel (helpers call helpers); a cooperative
helper none of whose calls remain is blanked out of the text (its lines kept).  A unit
also inlines the cooperative helpers of the project headers it includes, and those
headers lose them.  A call the inliner cannot handle is left as written, and the
translator refuses the helper (PCX401, PCX407), or the call to a header's (PCX401).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tree_sitter import Node

from pcx_driver.cuda.parse import (call_args, declarator_name, function_declarator, has_keyword, parameter_declarations,
                                   parse, text, walk)
from pcx_driver.cuda.phases import WARP_CALLS, is_unroll_hint

GEOMETRY = frozenset({"threadIdx", "blockIdx", "blockDim", "gridDim"})
SUFFIX = "__pcx_in"
MAX_ROUNDS = 8
#: Statements whose expressions run once, before anything else in them: a call there can
#: be hoisted in front of the statement.
_HOISTABLE = frozenset({"expression_statement", "declaration", "return_statement", "if_statement"})


@dataclass
class _Param:
    name: str
    node: Node  # parameter_declaration
    reference: bool
    const: bool
    type_name: str  # the type as written (``T``, ``int``), without qualifiers
    shape: str  # "value", "pointer": how the declarator wraps the name (deduction matches it)
    written: bool  # assigned, incremented, address taken or passed on by name in the body


@dataclass
class _Helper:
    name: str
    definition: Node  # function_definition
    outer: Node  # the template_declaration around it, or the definition itself
    template: list[str]  # template parameter names, in order
    params: list[_Param]
    returns: bool  # the body ends with ``return expr;``
    locals: set[str] = field(default_factory=set)
    free: set[str] = field(default_factory=set)  # identifiers the body reads that it does not declare
    constants: dict[str, Node] = field(default_factory=dict)  # constexpr locals of constant value (_constants)


def inline_cooperative_helpers(data: bytes, foreign: Mapping[str, _Helper] | None = None, header: bool = False) -> bytes:
    """``data`` with every inlinable call of a cooperative helper in a kernel replaced by the
    helper's body (see the module); ``data`` itself when there is none.  The helpers left
    uncalled are blanked out (``_drop_unused``).  ``foreign``: the cooperative helpers of
    the project headers the unit includes (``header_helpers``), inlined too.  ``header``:
    ``data`` is such a header: a helper its own text no longer names is blanked whatever
    its linkage (each unit inlines it, or refuses the call)."""
    foreign = foreign or {}
    out = data
    counter = [0]
    inlined: set[str] = set()
    for _ in range(MAX_ROUNDS):
        root = parse(out).root_node
        if root.has_error:
            return data
        helpers = _cooperative_helpers(root, set(foreign))
        if not helpers and not foreign:
            return out
        edits = _round(root, {**foreign, **helpers}, counter, inlined)
        if not edits:
            return _drop_unused(out, root, helpers, inlined, header)
        for start, end, new in sorted(edits, reverse=True):
            out = out[:start] + new.encode("utf-8", "surrogateescape") + out[end:]
    return out


def header_helpers(headers: Sequence[bytes]) -> dict[str, _Helper]:
    """The cooperative helpers the texts of a unit's project headers define."""
    out: dict[str, _Helper] = {}
    for h in headers:
        root = parse(h).root_node
        if not root.has_error:
            out.update(_cooperative_helpers(root))
    return out


def cooperative_names(root: Node) -> frozenset[str]:
    """The cooperative helpers a parsed text defines (a unit including it inlines their calls)."""
    return frozenset() if root.has_error else frozenset(_cooperative_helpers(root))


# ---------------------------------------------------------------------------- helpers


def _is_cooperative_node(n: Node, names: set[str]) -> bool:
    if n.type == "call_expression":
        fn = n.child_by_field_name("function")
        callee = callee_name(fn)
        return callee in WARP_CALLS or callee == "__syncthreads" or callee in names
    return n.type == "field_expression" and text(n.child_by_field_name("argument")) in GEOMETRY


def callee_name(fn: Node | None) -> str:
    if fn is None:
        return ""
    if fn.type == "template_function":
        fn = fn.child_by_field_name("name")
    return text(fn) if fn is not None and fn.type == "identifier" else ""


def _cooperative_helpers(root: Node, foreign: set[str] = frozenset()) -> dict[str, _Helper]:
    """The cooperative helpers ``root`` defines; ``foreign``: those of its headers (a
    helper calling one is cooperative too)."""
    defs: dict[str, list[Node]] = {}
    for n in walk(root):
        if n.type == "function_definition" and has_keyword(n, "__device__") and not has_keyword(n, "__global__"):
            fd = function_declarator(n)
            if fd is not None and fd.child_by_field_name("declarator").type == "identifier":
                defs.setdefault(declarator_name(fd), []).append(n)
    unique = {name: ns[0] for name, ns in defs.items() if len(ns) == 1}  # overloads: left alone
    cooperative: set[str] = set()
    while True:  # a helper calling a cooperative helper is cooperative too
        grown = {name for name, fn in unique.items() if name not in cooperative
                 and any(_is_cooperative_node(n, cooperative | foreign) for n in walk(fn.child_by_field_name("body")))}
        if not grown:
            break
        cooperative |= grown
    out = {}
    for name in cooperative:
        h = _helper(name, unique[name])
        if h is not None:
            out[name] = h
    return out


def _helper(name: str, fn: Node) -> _Helper | None:
    outer = fn.parent if fn.parent is not None and fn.parent.type == "template_declaration" else fn
    template: list[str] = []
    if outer is not fn:
        plist = outer.child_by_field_name("parameters")
        for p in plist.named_children if plist is not None else []:
            if p.type in ("type_parameter_declaration", "template_template_parameter_declaration"):
                # ``template <class> class Func`` names its parameter in an inner declaration
                named = next((c for c in p.named_children if c.type == "type_parameter_declaration"), p) \
                    if p.type == "template_template_parameter_declaration" else p
                names = [c for c in named.named_children if c.type == "type_identifier"]
                if not names:
                    return None
                template.append(text(names[-1]))
            elif p.type == "parameter_declaration":
                template.append(declarator_name(p.child_by_field_name("declarator")))
            else:
                return None  # defaults, variadic packs
    body = fn.child_by_field_name("body")
    params = []
    decls = parameter_declarations(function_declarator(fn))
    if decls is None:
        return None  # an unnamed or variadic parameter
    for p in decls:
        if any(c.type == "type_qualifier" and text(c) == "volatile" for c in walk(p)):
            return None  # a volatile pointer: warp-synchronous code, which lanes run in step only on a GPU
        d = p.child_by_field_name("declarator")
        reference, shape = d.type == "reference_declarator", "value"
        inner = d.named_children[0] if reference and d.named_children else d
        if inner.type == "pointer_declarator" and inner.child_by_field_name("declarator").type == "identifier":
            shape = "pointer"
        elif inner.type != "identifier":
            return None  # arrays, pointers to pointers, functions
        pname = declarator_name(inner)
        params.append(_Param(pname, p, reference, any(c.type == "type_qualifier" and text(c) == "const" for c in p.children),
                             text(p.child_by_field_name("type")), shape, _written(body, pname)))
    stmts = [c for c in body.named_children if c.type != "comment"]
    returns = [n for n in walk(body) if n.type == "return_statement"]
    value_return = bool(stmts) and stmts[-1].type == "return_statement" and bool(stmts[-1].named_children)
    if any(r.id != stmts[-1].id for r in returns) or (returns and not value_return and text(fn.child_by_field_name("type")) != "void"):
        return None
    if value_return and (fn.child_by_field_name("declarator").type != "function_declarator"):
        return None  # returns a pointer or reference: left alone
    if any(n.type.startswith("preproc_") and not is_unroll_hint(n) and not (n.parent is not None and is_unroll_hint(n.parent))
           for n in walk(body)):
        return None
    h = _Helper(name, fn, outer, template, params, value_return)
    h.locals = {declarator_name(d) for n in walk(body) if n.type == "declaration"
                for d in n.children_by_field_name("declarator")}
    declared = h.locals | {p.name for p in params} | set(template)
    h.free = {text(n) for n in walk(body) if n.type == "identifier" and _renamable(n)} - declared
    h.constants = _constants(body, declared)
    return h


def _constants(body: Node, declared: set[str]) -> dict[str, Node]:
    """The body's own ``constexpr`` locals initialised from constants alone (literals,
    macros, template parameters, other such locals): name -> its value.  Inlined, each
    use is its value, so it may size a ``__shared__`` array the kernel's launcher declares
    (rmsnorm's ``__shared__ T smem[MAX_NUM_WARPS];``)."""
    out: dict[str, Node] = {}
    for s in body.named_children:
        if s.type != "declaration" or not any(c.type == "type_qualifier" and text(c) == "constexpr" for c in s.children):
            continue
        decls = s.children_by_field_name("declarator")
        values = [d.child_by_field_name("value") for d in decls if d.type == "init_declarator"]
        if len(values) != len(decls) or any(
            n.type == "identifier" and text(n) in declared and text(n) not in out for v in values for n in walk(v)
        ) or any(n.type in ("call_expression", "assignment_expression", "update_expression") for v in values for n in walk(v)):
            continue
        for d, v in zip(decls, values):
            out[declarator_name(d)] = v
    return out


def _written(body: Node, name: str) -> bool:
    for n in walk(body):
        if n.type == "identifier" and text(n) == name and _renamable(n):
            p = n.parent
            if p.type == "assignment_expression" and p.child_by_field_name("left").id == n.id:
                return True
            if p.type == "update_expression" or (p.type == "pointer_expression" and text(p.child_by_field_name("operator")) == "&"):
                return True
            if p.type == "argument_list":
                return True  # a reference parameter of the callee may write it
    return False


def _renamable(n: Node) -> bool:
    """An identifier naming a variable (not a member, a qualified name's last part, or a label)."""
    p = n.parent
    if p is None:
        return False
    if p.type == "qualified_identifier" and p.child_by_field_name("name") is not None and p.child_by_field_name("name").id == n.id:
        return False
    return p.type not in ("goto_statement", "labeled_statement")  # a member is a field_identifier


# ---------------------------------------------------------------------------- one round


def _round(root: Node, helpers: dict[str, _Helper], counter: list[int], inlined: set[str]) -> list[tuple[int, int, str]]:
    edits: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for kernel in walk(root):
        if kernel.type != "function_definition" or not has_keyword(kernel, "__global__"):
            continue
        for call in walk(kernel.child_by_field_name("body")):
            if call.type != "call_expression" or callee_name(call.child_by_field_name("function")) not in helpers:
                continue
            helper = helpers[callee_name(call.child_by_field_name("function"))]
            stmt = _statement(call)
            if stmt is None or any(s <= stmt.start_byte < e or s < stmt.end_byte <= e or stmt.start_byte <= s < stmt.end_byte
                                   for s, e in taken):
                continue  # one call per statement per round
            counter[0] += 1
            new = _inline(call, stmt, helper, kernel, counter[0])
            if new is None:
                counter[0] -= 1
                continue
            # the lines the statement spanned stay: later lines keep their numbers
            edits.append((stmt.start_byte, stmt.end_byte, new + "\n" * text(stmt).count("\n")))
            taken.append((stmt.start_byte, stmt.end_byte))
            inlined.add(helper.name)
    return edits


def _statement(call: Node) -> Node | None:
    """The statement holding ``call`` when the call runs exactly once, before the rest of it."""
    n = call
    while n.parent is not None and n.parent.type not in ("compound_statement",) and not n.type.endswith("_statement") \
            and n.type != "declaration":
        p = n.parent
        if p.type == "conditional_expression" and p.child_by_field_name("condition").id != n.id:
            return None
        if p.type == "binary_expression" and text(p.child_by_field_name("operator")) in ("&&", "||") \
                and p.child_by_field_name("right").id == n.id:
            return None
        if p.type in ("for_statement", "while_statement", "do_statement", "comma_expression", "lambda_expression"):
            return None
        n = p
    if n.type not in _HOISTABLE:
        return None
    if n.type == "if_statement" and not _within(call, n.child_by_field_name("condition")):
        return None
    return n


def _within(n: Node, outer: Node | None) -> bool:
    return outer is not None and outer.start_byte <= n.start_byte and n.end_byte <= outer.end_byte


def _inline(call: Node, stmt: Node, h: _Helper, caller: Node, k: int) -> str | None:
    args = call_args(call)
    if len(args) != len(h.params):
        return None
    types = _template_bindings(call, h, args, caller)
    if types is None:
        return None
    caller_names = _declared_names(caller)
    if h.free & caller_names:
        return None  # the caller's variable would hide a global the helper reads
    rename = {name: f"{name}{SUFFIX}{k}" for name in h.locals}
    for name, value in h.constants.items():  # in order: a value may read an earlier constant
        rename[name] = "(" + _render(value, rename, types) + ")"
    copies = []
    ref_args = {text(a) for p, a in zip(h.params, args) if p.reference and a.type == "identifier"}
    for p, a in zip(h.params, args):
        if p.reference and not p.const:
            if a.type != "identifier":
                return None
            rename[p.name] = text(a)
        elif a.type == "identifier" and not p.written and text(a) not in ref_args:
            rename[p.name] = text(a)
        else:
            rename[p.name] = f"{p.name}{SUFFIX}{k}"
            copies.append(_render(p.node, rename, types, skip_ampersand=True) + f" = ({text(a)});")
    body = h.definition.child_by_field_name("body")
    stmts = [c for c in body.named_children if c.type != "comment"]
    result = f"pcx_ret{SUFFIX}{k}"
    whole = _is_call_stmt(call, stmt)  # the call is the statement: its value is not used
    parts = list(copies)
    for s in stmts:
        if s.type == "return_statement":
            if h.returns:
                value = _render(s.named_children[0], rename, types)
                parts.append(f"(void)({value});" if whole else f"{result} = ({value});")
            continue
        if is_unroll_hint(s) or (s.type == "declaration" and all(
                declarator_name(d) in h.constants for d in s.children_by_field_name("declarator"))):
            continue  # a hint, or constants whose uses are their values
        parts.append(_render(s, rename, types))
    block = "{ " + " ".join(parts) + " }"
    if whole:
        return block
    if not h.returns:
        return None  # a void helper's value used in an expression
    rtype = _render(h.definition.child_by_field_name("type"), rename, types)
    rest = _source(stmt, stmt.start_byte, call.start_byte) + result + _source(stmt, call.end_byte, stmt.end_byte)
    rest = rest.replace("\n", " ")
    text_ = f"{rtype} {result}; {block} {rest}"
    if stmt.parent is None or stmt.parent.type != "compound_statement":
        if stmt.type == "declaration":
            return None
        text_ = "{ " + text_ + " }"
    return text_


def _is_call_stmt(call: Node, stmt: Node) -> bool:
    return stmt.type == "expression_statement" and bool(stmt.named_children) and stmt.named_children[0].id == call.id


def _template_bindings(call: Node, h: _Helper, args: list[Node], caller: Node) -> dict[str, str] | None:
    types: dict[str, str] = {}
    fn = call.child_by_field_name("function")
    if fn.type == "template_function":
        targs = [c for c in fn.child_by_field_name("arguments").named_children if c.type != "comment"]
        if len(targs) > len(h.template):
            return None
        for name, a in zip(h.template, targs):
            types[name] = text(a)
    for p, a in zip(h.params, args):
        if p.type_name in h.template and p.type_name not in types:
            found = _caller_type(caller, a, p.shape)
            if found is None:
                return None
            types[p.type_name] = found
    return types if all(t in types for t in h.template) else None


def _caller_type(caller: Node, arg: Node, shape: str) -> str | None:
    """The type a variable of the caller is declared with, when its declarator has ``shape``."""
    if arg.type != "identifier":
        return None
    found = []
    for n in walk(caller):
        if n.type not in ("declaration", "parameter_declaration"):
            continue
        for d in n.children_by_field_name("declarator"):
            if declarator_name(d) != text(arg):
                continue
            inner = d.child_by_field_name("declarator") if d.type == "init_declarator" else d
            kind = "pointer" if inner.type == "pointer_declarator" and inner.child_by_field_name("declarator").type == "identifier" \
                else "value" if inner.type == "identifier" else "other"
            typ = n.child_by_field_name("type")
            found.append((kind, text(typ) if typ is not None else ""))
    if len(found) != 1 or found[0][0] != shape or found[0][1] in ("", "auto"):
        return None
    return found[0][1]


def _declared_names(fn: Node) -> set[str]:
    return {declarator_name(d) for n in walk(fn) if n.type in ("declaration", "parameter_declaration")
            for d in n.children_by_field_name("declarator")}


def _render(node: Node, rename: dict[str, str], types: dict[str, str], skip_ampersand: bool = False) -> str:
    """``node``'s text on one line with variables renamed and template parameters bound;
    comments and ``#pragma unroll`` dropped."""
    out: list[str] = []
    pos = node.start_byte
    src = node.text or b""
    base = node.start_byte

    def emit_gap(upto: int) -> None:
        gap = src[pos - base:upto - base].decode("utf-8", "surrogateescape")
        out.append(" " if gap and gap.isspace() and "\n" in gap else gap)

    for leaf in _leaves(node):
        emit_gap(leaf.start_byte)
        pos = leaf.end_byte
        t = text(leaf)
        if leaf.type == "comment" or is_unroll_hint(leaf):
            out.append(" ")
        elif leaf.type == "identifier" and _renamable(leaf) and t in rename:
            out.append(rename[t])
        elif leaf.type == "identifier" and _renamable(leaf) and t in types:
            out.append(f"({types[t]})")  # a non-type template parameter
        elif leaf.type == "type_identifier" and t in types:
            out.append(types[t])
        elif skip_ampersand and leaf.type == "&" and leaf.parent is not None and leaf.parent.type == "reference_declarator":
            out.append("")
        else:
            out.append(t)
    return "".join(out).replace("\n", " ")


def _leaves(node: Node):
    if node.child_count == 0 or node.type in ("comment", "preproc_call"):
        yield node
        return
    for c in node.children:
        yield from _leaves(c)


def _source(stmt: Node, start: int, end: int) -> str:
    return (stmt.text or b"")[start - stmt.start_byte:end - stmt.start_byte].decode("utf-8", "surrogateescape")


# ---------------------------------------------------------------------------- cleanup


def _drop_unused(data: bytes, root: Node, helpers: dict[str, _Helper], inlined: set[str], header: bool = False) -> bytes:
    """Blank out cooperative helpers that were inlined, or that no other unit can call
    (``static``, ``inline``, templates; in a ``header``, any), and that nothing names any
    more but their own bodies and other helpers blanked out (a helper called only by a
    dropped one goes too).  Any other keeps its refusal: an external helper may be another
    unit's."""
    spans = {name: (h.outer.start_byte, h.outer.end_byte) for name, h in helpers.items()
             if name in inlined or header or _internal(h)}
    named = [(text(n), n.start_byte) for n in walk(root) if n.type == "identifier" and text(n) in spans]
    dropped: set[str] = set()
    while True:
        live = {name for name, at in named
                if not any(s <= at < e for other, (s, e) in spans.items() if other == name or other in dropped)}
        gone = set(spans) - live - dropped
        if not gone:
            break
        dropped |= gone
    out = bytearray(data)
    for name in dropped:
        s, e = spans[name]
        out[s:e] = bytes(b if b == 0x0A else 0x20 for b in data[s:e])
    return bytes(out)


def _internal(h: _Helper) -> bool:
    fn = h.definition
    return h.outer is not fn or has_keyword(fn, "static") or has_keyword(fn, "__forceinline__") or any(
        c.type == "storage_class_specifier" and text(c) == "inline" for c in fn.children)
