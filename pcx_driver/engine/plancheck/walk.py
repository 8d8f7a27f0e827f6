"""The walk over one function's statements that applies the plan to the abstract state.

``Walker`` places the plan's kernels, data regions and updates at their statements, then
walks the body in order: branches join their states, loops iterate to a fixpoint (with a
section that mentions a variable the loop changes widened to the whole array, and
everything widened whole after ``MAX_PASSES``), and each kernel, directive and piece of
host code is handed to its checks (``kernels.py``, ``directives.py``, ``host.py``).
``callee_effect`` walks a function with device code that a call passes a present buffer.
"""

from __future__ import annotations

import dataclasses

import tree_sitter

from pcx_driver.engine import hostaccess
from pcx_driver.engine.hostaccess import LOOP_TYPES, param_names, text_of
from pcx_driver.engine.plancheck.directives import enter_region, leave_region, update
from pcx_driver.engine.plancheck.facts import UnitFacts
from pcx_driver.engine.plancheck.frame import Frame, PlacedKernel
from pcx_driver.engine.plancheck.host import host_code
from pcx_driver.engine.plancheck.kernels import kernel
from pcx_driver.engine.plancheck.reach import reach_of
from pcx_driver.engine.plancheck.state import Buf, CheckFailed, State, each, fail, join, hull, join_buf, members, widen
from pcx_driver.engine.plancheck.syntax import declared_in, function_named, preorder
from pcx_driver.engine.source import node_key
from pcx_driver.engine.symsect import CALLER, RANGES, WHOLE, freeze, le, rename, rename_sect, rename_sets, subst, uncaller
from pcx_driver.model import DataRegion, Plan

MAX_PASSES = 6  # loop passes before everything a loop touches is widened whole


def assumed_ranges(r: DataRegion) -> dict:
    """What region ``r``'s run-time test guarantees inside it, as ranges of names
    (``DataRegion.assumptions``: the device path runs only when they hold)."""
    return {a.name: (freeze({(): a.bound}), None) for a in r.assumptions}


class Walker:
    """Walks one function body with one plan, raising CheckFailed at the first problem."""

    def __init__(self, facts: UnitFacts, fname: str, fnode: tree_sitter.Node) -> None:
        self.facts = facts
        facts.defs = facts.definitions(fnode)
        self.frame = Frame(facts, fname, fnode)
        self.fname = fname
        self.kernels: dict[int, PlacedKernel] = {}
        self.before: dict[int, list] = {}  # node id -> [("region", r) | ("update", u)]
        self.ends: dict[tuple[int, int], list[DataRegion]] = {}  # (block id, end byte)
        self.at_end: dict[int, list] = {}  # block id -> updates before its closing brace
        self.loops: list[tuple[list, list]] = []  # (breaks, continues)
        self.returns: list[State] = []

    # -- set-up
    def place(self, plan: Plan) -> None:
        """Put this function's kernels, data regions and updates of ``plan`` at their statements."""
        root = self.facts.root
        for k in plan.offloaded():
            if k.function != self.fname:
                continue
            node = hostaccess.statement_at(root, k.start_byte)
            if node is None or node.type not in LOOP_TYPES:
                raise CheckFailed("PCX216", "no loop statement where the kernel goes", k.start_byte, k.nest_id)
            self.kernels[node_key(node)] = PlacedKernel(k, self.facts.nests.get(k.nest_id))
        for r in plan.regions:
            if r.function != self.fname:
                continue
            first = hostaccess.statement_at(root, r.start_byte)
            if first is None or first.parent is None:
                raise CheckFailed("PCX216", "no statement where the data region starts", r.start_byte)
            self.before.setdefault(node_key(first), []).append(("region", r))
            self.ends.setdefault((node_key(first.parent), r.end_byte), []).append(r)
            for u in r.updates:
                if u.byte == r.end_byte:
                    continue
                node = hostaccess.statement_at(root, u.byte)
                if node is None:  # before a closing brace: the last thing in its block
                    brace = root.descendant_for_byte_range(u.byte, u.byte)
                    if brace is None or brace.type != "}" or brace.parent is None:
                        raise CheckFailed("PCX216", "no statement where a target update goes", u.byte)
                    self.at_end.setdefault(node_key(brace.parent), []).append(u)
                    continue
                self.before.setdefault(node_key(node), []).append(("update", u))

    def host(self, node: tree_sitter.Node | None, st):
        """Host code ``node``: see ``host.host_code``."""
        return host_code(self.frame, node, st, callee_effect)

    # -- statements
    def run(self, node: tree_sitter.Node, st):
        if st is None:
            return None
        if isinstance(st, tuple):
            return each(st, lambda m: self.run(node, m))
        for kind, item in self.before.get(node_key(node), ()):
            if kind == "update":
                st = update(self.frame, item.direction, item.sections, st, node)
        if node_key(node) in self.kernels:
            return kernel(self.frame, self.kernels[node_key(node)], node, st, self.loop)
        t = node.type
        if t == "compound_statement":
            for child in node.named_children:
                for kind, item in self.before.get(node_key(child), ()):
                    if kind == "region":
                        st = enter_region(self.frame, item, st, child)
                        RANGES.append(assumed_ranges(item))
                st = self.run(child, st)
                for r in self.ends.get((node_key(node), child.end_byte), ()):
                    st = leave_region(self.frame, r, st, child)
                    RANGES.pop()
            for u in self.at_end.get(node_key(node), ()):
                st = each(st, lambda m, u=u: update(self.frame, u.direction, u.sections, m, node))
            return st
        if t == "if_statement":
            st = self.host(node.child_by_field_name("condition"), st)
            then = self.run(node.child_by_field_name("consequence"), st)
            alt = node.child_by_field_name("alternative")
            if alt is not None:
                body = alt.named_children[-1] if alt.type == "else_clause" else alt
                return join([then, self.run(body, st)])
            return join([then, st])
        if t in ("for_statement", "while_statement", "do_statement", "for_range_loop"):
            return self.loop(node, st)
        if t == "switch_statement":
            return self.switch(node, st)
        if t in ("break_statement", "continue_statement"):
            if not self.loops:
                return None
            self.loops[-1][0 if t == "break_statement" else 1].append(st)
            return None
        if t == "return_statement":
            st = self.host(node, st)
            if st is not None and self.frame.open:
                fail("PCX216", "a return leaves a data region", node)
            self.returns.append(st)
            return None
        if t == "expression_statement" and self.frame.open:
            leaving = hostaccess.leaving_macro(self.frame.facts.data, node)
            if leaving is not None:
                fail("PCX216", f"macro '{leaving[0]}' may leave a data region (its expansion holds '{leaving[1]}')", node)
        if t in ("goto_statement", "labeled_statement") and (self.kernels or self.before) and \
                not self._forward_jumps_only():
            fail("PCX216", "goto or label in a function with device code", node)
        if t == "goto_statement":
            # (a forward jump in a function whose kernels map their own data: the walk goes
            # on as if it fell through, which runs every skipped statement: conservative)
            return st
        if t == "labeled_statement":
            return self.run(node.named_children[-1], st)
        return self.host(node, st)

    def _forward_jumps_only(self) -> bool:
        """Whether the function holds no data region or update of its own and each of its
        ``goto``s jumps forward (C's ``goto cleanup``): no state is carried back, and the
        only thing a jump changes is which statements run, each checked on the way."""
        if self.before:
            return False
        fnode = self.frame.fnode
        data = self.frame.facts.data
        labels = {}
        for n in preorder(fnode):
            if n.type == "labeled_statement":
                label = n.child_by_field_name("label")
                labels[text_of(data, label) if label is not None else ""] = n.start_byte
        for n in preorder(fnode):
            if n.type == "goto_statement":
                label = n.child_by_field_name("label")
                target = labels.get(text_of(data, label) if label is not None else "")
                if target is None or target < n.start_byte:
                    return False
        return True

    def switch(self, node: tree_sitter.Node, st: State) -> State | None:
        st = self.host(node.child_by_field_name("condition"), st)
        body = node.child_by_field_name("body")
        self.loops.append(([], []))
        cur: State | None = None
        for case in body.named_children if body is not None else ():
            cur = join([cur, st])
            stmts = case.named_children[1:] if case.type == "case_statement" and case.child_by_field_name("value") else case.named_children
            for s in stmts if case.type == "case_statement" else [case]:
                cur = self.run(s, cur)
        breaks, conts = self.loops.pop()
        if conts:
            self.loops[-1][1].extend(conts) if self.loops else None
        return join([cur, st, *breaks])

    def loop(self, node: tree_sitter.Node, st: State) -> State | None:
        """A loop to a fixpoint: the head state joins the entry and every back edge, with
        sections that mention what the loop changes widened; checks run on each pass."""
        t = node.type
        changed = self.facts.assigned(node)
        if t == "for_statement":
            init = node.child_by_field_name("initializer")
            st = self.host(init, st) if init is not None else st
        head = widen(st, changed)
        body = node.child_by_field_name("body")
        cond = node.child_by_field_name("condition")
        upd = node.child_by_field_name("update")
        ranges = self.facts.index_range(node)
        # a counted loop whose bounds show it runs at least once never exits from its entry
        once = t == "do_statement" or any(le(lo, hi) for lo, hi in ranges.values())
        back = None
        exit_states: list = []
        for i in range(MAX_PASSES + 1):
            if i == MAX_PASSES:
                head = widen(head, None)
            self.loops.append(([], []))
            s = head
            if t != "do_statement":
                s = self.host(cond, s) if cond is not None else s
            RANGES.append(ranges)
            try:
                s = self.run(body, s)
            finally:
                RANGES.pop()
            breaks, conts = self.loops.pop()
            # what this iteration did, as every iteration of the counted loop did it (before
            # the update moves the index, which would widen the sections away)
            s = hull(join([s, *conts]), ranges)
            if t == "do_statement" and s is not None and cond is not None:
                s = self.host(cond, s)
            if upd is not None and s is not None:
                s = self.host(upd, s)
            after = widen(s, changed) if s is not None else None
            back = join([back, after])
            new_head = join([head, after])
            exit_states = [back if once else head, *breaks] if t != "do_statement" else [s, *breaks]
            if new_head == head:
                break
            head = new_head
        return join(exit_states)


def callee_effect(facts: UnitFacts, fname: str, arg, forms: list, v: Buf, at: int,
                  held: set[int] = frozenset()) -> Buf:
    """The state of a present buffer after a call to ``fname`` (a function with device
    code) that receives it as argument ``arg`` (a position, or a global's name).  The
    callee is walked with the buffer present and the caller's sets; the caller's names
    are marked (so a callee local of the same name is another variable) and each
    parameter the callee never changes stands for its argument's value.  ``held``: the
    positions of arguments the caller passes by name with their data on the device (a
    kernel whose alias test compares only such parameters may run without it)."""
    fnode = function_named(facts.data, facts.lang, fname)
    if fnode is None or facts.depth >= 4:
        raise CheckFailed("PCX216", f"'{fname}' is called with data on the device and cannot be checked", at)
    params = param_names(fnode, facts.data)
    param = arg if isinstance(arg, str) else (params + [""] * (arg + 1))[arg]
    if not param:
        raise CheckFailed("PCX216", f"'{fname}' is called with data on the device and cannot be checked", at)
    saved = facts.defs
    saved_held = facts.held_params
    inner = Walker(facts, fname, fnode)
    body = fnode.child_by_field_name("body")
    changed = facts.assigned(body, calls=False)
    # (a block's own ``int m = 5000;`` is another m than the parameter's: not bound)
    bound = {p: rename(form, CALLER) for p, form in zip(params, forms)
             if p and form is not None and p not in changed and not declared_in(body, p, facts.data)}
    facts.held_params = frozenset(params[k] for k in held if k < len(params) and params[k]
                                  and params[k] not in changed and not declared_in(body, params[k], facts.data))
    for p, form in list(bound.items()):  # a container argument brings its size along
        if len(form) == 1 and form[0][1] == 1 and len(form[0][0]) == 1:
            arg = form[0][0][0][len(CALLER):]
            size = saved.get(f"{arg}.size()", ((((f"{arg}.size()",), 1),)))
            bound[f"{p}.size()"] = rename(size, CALLER)
    facts.defs = {k: subst(f, bound) for k, f in facts.defs.items()} | bound
    inner.place(facts.plan)
    names = facts.track(fnode, facts.plan, fname) | {param}
    saved_reach = facts.reach
    facts.reach = reach_of(facts, fnode, names, fname)
    env = {n: frozenset([n]) for n in names}
    env[param] = frozenset(["\0caller"])
    have = v.present[1] if isinstance(v.present, tuple) else WHOLE
    entry = Buf(("\0caller", rename_sect(have, CALLER)), v.depth, rename_sets(v.undef, CALLER),
                rename_sets(v.host_new, CALLER), rename_sets(v.dev_new, CALLER))
    st = State(tuple(sorted(env.items())), (("\0caller", entry),))
    facts.depth += 1
    # the caller's loop ranges (and region assumptions) are about the caller's names, which
    # the callee's walk marks: a callee variable of the same name is another one
    outer_ranges = list(RANGES)
    RANGES[:] = [{CALLER + n: (rename(lo, CALLER), rename(hi, CALLER)) for n, (lo, hi) in r.items()}
                 for r in outer_ranges]
    try:
        end = inner.run(fnode.child_by_field_name("body"), st)
    except CheckFailed as e:
        line = facts.data.count(b"\n", 0, at) + 1
        raise CheckFailed(e.rid, f"in '{fname}' called at line {line}: {e.message}", at)
    finally:
        RANGES[:] = outer_ranges
        facts.depth -= 1
        facts.defs = saved
        facts.held_params = saved_held
        facts.reach = saved_reach
    final = members(join([end, *inner.returns]))
    out = entry
    for m in final:  # the caller's buffer, whatever the callee's own names point to
        v2 = m.buf("\0caller")
        out = v2 if out is entry else join_buf(out, v2)
    if out.present != entry.present or out.depth != entry.depth:
        raise CheckFailed("PCX215", f"'{fname}' changes whether its argument is on the device", at)
    back = uncaller
    return dataclasses.replace(out, present=v.present, depth=v.depth, undef=back(out.undef),
                               host_new=back(out.host_new), dev_new=back(out.dev_new))
