"""Work guards for data regions that hold kernels only through calls (issue 16).

A caller's ``target data`` region around ``init(n, A); kernel(n, A, B);`` keeps the arrays
on the device between the calls.  The kernels it holds must then always run on the
device (``workguard``: their host fallback would read the stale host copy), so a program
whose kernels are too small to pay (PolyBench's jacobi-1d at MEDIUM: 200 launches of 400
elements) lost the work guards that sent them to the host.

The region gets a guard instead: the conjunction of the guards its callees would emit at
their kernels and regions, read at the region's start with each callee parameter replaced
by the argument the call passes.  The callees keep their own guards.  Sound because the
two agree wherever it matters:

- region entered (the conjunction held): every callee guard reads the same parameters as
  the conjunction read (arguments that nothing in the region writes, parameters the callee
  never writes), so each is true: the kernels run on the device, on the region's data;
- region not entered: its statements run as written, with nothing held; each kernel maps
  its own data and may run on either side.

It applies when every kernel the region holds is in a function the region's statements
call directly, no other region holds any of them, and each callee guard names nothing but
the callee's parameters once its macros are expanded (``UnitAnalysis.macro_table``: the
callee's ``_PB_N`` means ``n`` there, not in the caller).  "The same values" is where it
can go wrong, so the conditions are strict (a held-out campaign of 103 programs found each
of these): the parameters are of arithmetic type and the callee neither writes, declares
again (a block's own ``len``), passes to a storing macro nor takes the address of one;
each argument reads only parameters of the caller and locals set before the region in the
blocks around it (never a global: a call may change it), which the region neither writes
nor declares again, through no inline assembly or macro whose expansion stores
(``UnitAnalysis.writing_macros``); and nothing divides by a variable, since the guard is
read for calls the program may not make (``if (d) f(n / d)``).
"""

from __future__ import annotations

import dataclasses

from pcx_driver.engine.macros import expand_expression
from pcx_driver.model import DataRegion, Language, Plan, SourceUnit, UnitAnalysis

#: argument node types whose value is a pure function of the names they read
_PURE_ARGUMENT = frozenset({
    "identifier", "number_literal", "char_literal", "parenthesized_expression", "binary_expression",
    "cast_expression", "type_descriptor", "primitive_type", "sized_type_specifier", "type_identifier",
    "true", "false", "+", "-", "*", "/", "%", "<", ">", "<=", ">=", "==", "!=", "&&", "||", "(", ")",
    "<<", ">>", "^", "|", "&", "unary_expression", "!", "~", "abstract_pointer_declarator",
})


def caller_guards(unit: SourceUnit, analysis: UnitAnalysis, plan: Plan, exprs: dict[str, str],
                  threshold: float) -> list[DataRegion]:
    """Set the work guard of each region of ``plan`` that holds kernels only through calls
    (module docstring) and return those regions; the others are left as they are."""
    from pcx_driver.engine.workguard import planned_guards

    found = {}
    for r in plan.regions:
        guard, callees, covered = _guard_of(unit, analysis, plan, r, exprs, threshold)
        if guard:
            found[id(r)] = (r, guard, callees, covered)
    # Each guard was built from what its callees emit with only that region let go; check
    # it against what they emit with all of them let go (the same by construction: no
    # other region holds their kernels), and keep only those that agree.
    while found:
        active = [r for r in plan.regions if id(r) not in found]
        final = planned_guards(unit, plan, exprs, threshold, active)
        disagree = [key for key, (r, _, callees, covered) in found.items()
                    if _callee_guards(plan, final, callees) != covered]
        if not disagree:
            break
        for key in disagree:
            del found[key]
    for r, guard, callees, _ in found.values():
        r.work_guard, r.callees_keep_guards = guard, True
        note = (f"; entered where the work guards of {', '.join(repr(c) for c in sorted(callees))} hold with its "
                f"calls' arguments ({guard}), else its statements run as written")
        plan.remarks[:] = [dataclasses.replace(m, message=m.message + note) if m.id == "PCX200" and m.line == r.line
                           and m.file == unit.path else m for m in plan.remarks]
    return [r for r, _, _, _ in found.values()]


def _callee_guards(plan: Plan, guards, callees: set[str]) -> dict[str, tuple[str, str]]:
    """The guards ``guards`` gives the regions and kernels of the functions ``callees``:
    a key for each region or kernel -> (its function, its guard)."""
    from pcx_driver.engine import callgraph

    out = {f"region {r.start_byte}": (callgraph.last_name(r.function), guards.regions.get(id(r), ""))
           for r in plan.regions if callgraph.last_name(r.function) in callees}
    out.update({f"kernel {k.nest_id}": (callgraph.last_name(k.function), guards.kernels[k.nest_id])
                for k in plan.offloaded() if callgraph.last_name(k.function) in callees and k.nest_id in guards.kernels})
    return {key: (c, g) for key, (c, g) in out.items() if g}


def _guard_of(unit: SourceUnit, analysis: UnitAnalysis, plan: Plan, region: DataRegion,
              exprs: dict[str, str], threshold: float) -> tuple[str, set[str], dict[str, tuple[str, str]]]:
    """The caller guard of ``region``, the functions it reads the guards of, and those
    guards; ("", ...) when it cannot have one."""
    from pcx_driver.engine import callgraph, hostaccess
    from pcx_driver.engine.regionreach import held_by_regions
    from pcx_driver.engine.workguard import locals_set_before, planned_guards, region_statements, substitute

    none: tuple[str, set[str], dict[str, tuple[str, str]]] = ("", set(), {})
    # C only: a C++ call may bind an argument to a reference and change it, and a callee
    # may be reached through overloads, templates or virtual calls
    if unit.language is not Language.C or region_statements(unit, region) is None or region.lifted_tests:
        return none
    offloaded = {k.nest_id: k for k in plan.offloaded()}
    if any(k.function == region.function and region.start_byte <= k.start_byte < region.end_byte
           for k in offloaded.values()):
        return none  # (its own kernels: workguard.region_guard)
    held = held_by_regions(unit.data, unit.language, plan, [region]) & set(offloaded)
    # Where the region is entered, each held kernel must run on the device: a test of its
    # own besides the work guard (aliasing, run-time facts, a pivot, a restart) could
    # send it to the host copy.
    if not held or any(_tested(offloaded[n]) for n in held):
        return none
    graph = callgraph.of(unit.data, unit.language)
    sites = graph.sites_between(region.start_byte, region.end_byte)
    callees = {callgraph.last_name(offloaded[n].function) for n in held}
    if any(c not in {s.name for s in sites} or len(graph.definitions.get(c, ())) != 1 for c in callees):
        return none  # reached through another function, or not one definition
    root = hostaccess.parse(unit.data, unit.language).root_node
    if any(_named_as_value(root, unit.data, c) for c in callees):
        return none  # a call through a pointer could pass other arguments
    others = [x for x in plan.regions if x is not region]
    beside = [x for x in others if callgraph.last_name(x.function) not in callees]
    if held_by_regions(unit.data, unit.language, plan, beside) & held:
        return none  # another region holds them too: they stay on the device
    if any(x.alias_test or x.assumptions or x.lifted_tests for x in others
           if callgraph.last_name(x.function) in callees):
        return none  # (a callee region with tests of its own, as above)
    covered = _callee_guards(plan, planned_guards(unit, plan, exprs, threshold, others), callees)
    if not covered:
        return none  # the callees' kernels always run on the device: nothing to guard
    tests: dict[str, list[str]] = {c: [] for c in sorted(callees)}  # (sorted: the same text every build)
    for c, g in covered.values():
        tests[c].append(g)
    table = analysis.macro_table
    around = locals_set_before(root, unit.data, region.start_byte)
    if around is None:
        return none
    # what an argument may read where the region starts: the caller's parameters and the
    # locals set before it in the blocks around it (a global, which a call may change, is
    # not among them)
    local_values, caller = around
    visible = local_values | set(hostaccess.param_names(caller, unit.data))
    conjuncts: list[str] = []
    for c, conds in tests.items():
        if not conds:
            continue
        fnode = graph.definitions[c][0]
        params = _scalar_parameters(fnode, unit.data)
        if params is None:
            return none
        expanded = [expand_expression(t, table, unit.language) for t in conds]
        if any(t is None for t in expanded):
            return none
        named = set().union(*(hostaccess.expression_identifiers(t, unit.language) for t in expanded))
        if not named <= {p for p, t in params.items() if t} or any(not _safe_divisions(t, unit.language)
                                                                   for t in expanded):
            return none  # a local, a global, a parameter not of arithmetic type; a division by a variable
        body = fnode.child_by_field_name("body")
        if body is None or named & _changed_names(body, unit.data, body.start_byte, body.end_byte) or \
                _hidden_writes(body, unit.data, body.start_byte, body.end_byte, analysis.writing_macros):
            return none  # the callee changes or shadows a parameter its guard reads (or may)
        for s in (s for s in sites if s.name == c):
            values = _argument_values(s.node, unit, params, named, caller, visible, region, table,
                                      analysis.writing_macros)
            if values is None:
                return none
            conjuncts.extend(substitute(t, values, unit.language) for t in expanded)
    unique = list(dict.fromkeys(conjuncts))
    guard = unique[0] if len(unique) == 1 else " && ".join(f"({t})" for t in unique)
    return guard, callees, covered


def _tested(k) -> bool:
    """Whether kernel ``k`` may run on the host for a reason other than its work guard."""
    from pcx_driver.engine.rewrite import device_test

    return bool(device_test(dataclasses.replace(k, work_expr="")) or k.pivot_test or k.reruns() or k.exits)


def _scalar_parameters(fnode, data: bytes) -> dict[str, str] | None:
    """Parameter name -> its type as written, for a callee whose parameters are all named;
    a parameter that is not a plain name (a pointer, an array, a reference) maps to ""."""
    from pcx_driver.engine import hostaccess

    out: dict[str, str] = {}
    for p in hostaccess.parameters(fnode):
        name = hostaccess.declared_identifier(p, data)
        if not name:
            return None
        d, t = p.child_by_field_name("declarator"), p.child_by_field_name("type")
        arithmetic = t is not None and (t.type in ("primitive_type", "sized_type_specifier") or
                                        hostaccess.text_of(data, t) in _ARITHMETIC_TYPEDEFS)
        out[name] = hostaccess.text_of(data, t) if d is not None and d.type == "identifier" and arithmetic else ""
    return out


#: the C library's integer typedefs a guard may convert an argument to
_ARITHMETIC_TYPEDEFS = frozenset({
    "size_t", "ssize_t", "ptrdiff_t", "intptr_t", "uintptr_t", "int8_t", "int16_t", "int32_t", "int64_t",
    "uint8_t", "uint16_t", "uint32_t", "uint64_t",
})


def _safe_divisions(expr: str, language) -> bool:
    """Whether every ``/`` and ``%`` of ``expr`` divides by a literal: the region's guard
    reads the callees' guards for calls the program may not make (``if (d) f(n / d)``), and
    must not trap where they would not run."""
    from pcx_driver.engine import hostaccess
    from pcx_driver.engine.workguard import literal_divisor

    data, node = hostaccess.parse_expression(expr, language)
    if node is None:
        return False
    return all(literal_divisor(n.child_by_field_name("right"), data) for n in hostaccess.all_nodes(node)
               if n.type == "binary_expression" and hostaccess.text_of(data, n.child_by_field_name("operator")) in "/%")


def _argument_values(call, unit: SourceUnit, params: dict[str, str], named: set[str], caller, visible: set[str],
                     region, table, writing_macros: set[str]) -> dict[str, str] | None:
    """Callee parameter -> the C text that reads, where ``region`` starts, the value the
    call passes it (converted to the parameter's type), for each parameter in ``named``;
    None when an argument may differ there from the call (it names something other than a
    parameter of the caller or a local set before the region, it is written, declared
    again or has its address taken in the region, or it has effects or traps of its own)."""
    from pcx_driver.engine import hostaccess

    data = unit.data
    args_node = call.child_by_field_name("arguments")
    if args_node is None:
        return None
    args = [a for a in args_node.named_children if a.type != "comment"]
    order = list(params)
    if len(args) != len(order):
        return None
    changed = _changed_names(caller, data, region.start_byte, region.end_byte)
    if _hidden_writes(caller, data, region.start_byte, region.end_byte, writing_macros):
        return None
    values: dict[str, str] = {}
    for name, arg in zip(order, args):
        if name not in named:
            continue
        if not params[name] or any(n.type not in _PURE_ARGUMENT for n in hostaccess.all_nodes(arg)):
            return None
        for n in hostaccess.all_nodes(arg):
            op = n.child_by_field_name("operator") if n.type in ("unary_expression", "binary_expression") else None
            if op is not None and hostaccess.text_of(data, op) not in ("-", "+", "!", "~", "*") and \
                    not (n.type == "binary_expression" and hostaccess.text_of(data, op) in _PURE_BINARY):
                return None  # (a shift may be undefined where the call is not made)
        if not _safe_divisions(hostaccess.text_of(data, arg), unit.language):
            return None  # (``len / d`` traps on zero where ``if (d)`` makes no call)
        for ident in hostaccess.identifiers_in(arg, data):
            if ident in table and ident not in visible:
                expansion = expand_expression(ident, table, unit.language)
                if expansion is None or hostaccess.expression_identifiers(expansion, unit.language):
                    return None  # (a macro that reads a variable)
                continue
            if ident not in visible or ident in changed:
                return None
        values[name] = f"({params[name]})({hostaccess.text_of(data, arg)})"
    return values


#: binary operators an argument may use (a division only by a literal: _safe_divisions)
_PURE_BINARY = frozenset({"+", "-", "*", "/", "%", "<", ">", "<=", ">=", "==", "!=", "&&", "||", "&", "|", "^"})


def _changed_names(node, data: bytes, lo: int, hi: int) -> set[str]:
    """Names that bytes ``lo..hi`` of ``node`` assign, increment, declare (a shadowing
    declaration is another variable) or pass to a macro that stores to its argument, and
    names whose address ``node`` takes anywhere."""
    from pcx_driver.engine import hostaccess

    return hostaccess.assigned_and_declared(node, data, lo, hi) | hostaccess.addressed_names(node, data)


def _hidden_writes(node, data: bytes, lo: int, hi: int, writing_macros: set[str]) -> bool:
    """Whether bytes ``lo..hi`` of ``node`` hold a store the syntax does not show: inline
    assembly, or a macro whose expansion may store (``UnitAnalysis.writing_macros``)."""
    from pcx_driver.engine import hostaccess

    for n in hostaccess.all_nodes(node):
        if n.end_byte <= lo or n.start_byte >= hi:
            continue
        if "asm" in n.type or n.type == "identifier" and hostaccess.text_of(data, n) in writing_macros:
            return True
    return False


def _named_as_value(root, data: bytes, name: str) -> bool:
    """Whether the unit names function ``name`` other than to call, declare or define it
    (its address stored or passed: a call through that pointer is no site of ours)."""
    from pcx_driver.engine import hostaccess

    for n in hostaccess.all_nodes(root):
        if n.type != "identifier" or hostaccess.text_of(data, n) != name:
            continue
        up = n.parent
        while up is not None and up.type == "parenthesized_expression":
            up = up.parent
        if up is not None and (up.type == "call_expression" and up.child_by_field_name("function") is not None
                               and up.child_by_field_name("function").start_byte <= n.start_byte
                               < up.child_by_field_name("function").end_byte or up.type == "function_declarator"):
            continue
        return True
    return False
