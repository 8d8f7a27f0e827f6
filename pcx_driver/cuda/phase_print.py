"""How a kernel split at its barriers (``phases.py``) is printed as a block function's body.

The plan's per-thread locals become arrays indexed by the thread, each phase a loop over
the block's threads (a ``parallel for`` on a device that gives a team the block's threads,
a plain loop in the serial block function), a warp exchange a store at the end of one
phase and a read of the source lane's value at the start of the next, and a
thread-dependent condition around exchanges a per-thread predicate guarding the phases
inside it.
"""

from __future__ import annotations

from dataclasses import replace

from pcx_driver.cuda import kernels, phases
from tree_sitter import Node

from pcx_driver.cuda.parse import declarator_name, text, walk
from pcx_driver.cuda.printer import Ctx, Printer


def _threads(loop_pragma: str, inner: str) -> str:
    """A loop over the block's threads running ``inner`` for each (three loops, not one
    over pcx_t unflattened: no divisions per thread)."""
    return ("\n" + loop_pragma
            + "for (unsigned int pcx_z = 0; pcx_z < blockDim.z; pcx_z++)\n"
            "for (unsigned int pcx_y = 0; pcx_y < blockDim.y; pcx_y++)\n"
            "for (unsigned int pcx_x = 0; pcx_x < blockDim.x; pcx_x++) {\n"
            "const int pcx_t = (int)((pcx_z * blockDim.y + pcx_y) * blockDim.x + pcx_x); (void)pcx_t;\n"
            "dim3 threadIdx = pcx_dim3_make(pcx_x, pcx_y, pcx_z); (void)threadIdx;"
            + inner + "\n}")


class PhasePrinter:
    """Prints a ``phases.PhasePlan``; every statement in it goes through the printer's rules."""

    def __init__(self, printer: Printer) -> None:
        self.printer = printer

    def block_body(self, info: kernels.KernelInfo, plan: phases.PhasePlan, parallel: bool) -> str:
        """A block function's body: per-thread arrays, then the steps (``phases.py``), each
        phase a ``parallel for`` over the block's threads or, for the device thread that
        runs a whole block (``kernels.launcher``), a plain loop."""
        ctx = Ctx(device=True, kernel=info, per_thread=frozenset(plan.per_thread))
        out = ["{ (void)blockIdx; (void)blockDim; (void)gridDim;",
               "\n  const int pcx_nt = (int)(blockDim.x * blockDim.y * blockDim.z); (void)pcx_nt;"]
        for ex in plan.exchanges:
            elem = self.printer.emit(ex.type, ctx) if ex.type is not None else "int"
            out.append(f"\n  {elem} pcx_xchg{ex.index}[{kernels.MAX_BLOCK}];")
        out += [f"\n  int pcx_pred{k}[{kernels.MAX_BLOCK}];" for k in range(plan.predicates)]
        if plan.leaves:  # which threads returned before the last phase (phases.PhasePlan.leaves)
            out.append(f"\n  unsigned char pcx_left[{kernels.MAX_BLOCK}];"
                       "\n  for (int pcx_i = 0; pcx_i < pcx_nt; pcx_i++) pcx_left[pcx_i] = 0;")
            ctx = replace(ctx, leaves=True)
        for v in plan.per_thread.values():
            d = v.declarator
            ident = next(n for n in walk(d) if n.type == "identifier")
            decl = (self.printer.src(d.start_byte, ident.start_byte)
                    + f"{v.name}{kernels.PER_THREAD_SUFFIX}[{kernels.MAX_BLOCK}]" + self.printer.src(ident.end_byte, d.end_byte))
            out.append(f"\n  {'const ' if v.const_pointee else ''}{self.printer.emit(v.type, ctx)} {decl};")
        out.append(self.print_steps(plan.steps, ctx, "#pragma omp parallel for collapse(3)\n" if parallel else ""))
        return "".join(out) + "\n}"

    def print_steps(self, steps: list[phases.Step], ctx: Ctx, loop_pragma: str) -> str:
        out = []
        for st in steps:
            if isinstance(st, phases.Phase):
                leave = f"pcx_thread_left{st.number}" if ctx.leaves and not st.final else ""
                inner = self.preamble(st, ctx) + (self.receive(st.opening, ctx) if st.opening is not None else "") + "".join(
                    self.printer.line_at(s) + self.printer.emit(s, replace(ctx, thread_exit=st.final, leave_label=leave))
                    for s in st.statements
                ) + "".join(f"\n(void){name};" for name in st.recomputed_later) + (
                    self.publish(st.closing, ctx) if st.closing is not None else "")
                if ctx.guards:
                    inner = f"\nif ({' && '.join(ctx.guards)}) {{" + inner + "\n}"
                # a return leaves this block scope, never jumps over a declaration; a label no
                # return jumps to is left out (-Wunused-label)
                if st.final and "goto pcx_thread_done;" in inner:
                    inner = "{" + inner + "\n}\npcx_thread_done: ;"
                elif leave and f"goto {leave};" in inner:
                    inner = "{" + inner + f"\n}}\n{leave}: ;"
                if ctx.leaves:
                    inner = "\nif (pcx_left[pcx_t]) continue;" + inner
                out.append(_threads(loop_pragma, inner))
            elif st.kind == "lockstep":
                out.append(self.lockstep(st.node, st.body[0], ctx, loop_pragma))
            elif st.kind == "uniform":
                here = ctx
                if st.values:  # (phases._Planner.uniform_return)
                    here = replace(ctx, uniform_values=tuple(
                        (name, self.printer.emit(value, ctx)) for name, value in st.values.items()))
                out.append(self.printer.line_at(st.node) + self.printer.emit(st.node, here))
            elif st.kind == "guarded":
                pred = f"pcx_pred{st.predicate}[pcx_t]"
                out.append(self.print_steps(st.body, replace(ctx, guards=ctx.guards + (pred,)), loop_pragma))
                if st.orelse is not None:
                    out.append(self.print_steps(st.orelse, replace(ctx, guards=ctx.guards + ("!" + pred,)), loop_pragma))
            elif st.kind == "block":
                out.append("\n{" + self.print_steps(st.body, ctx, loop_pragma) + "\n}")
            else:
                body = st.node.child_by_field_name("body" if st.kind == "for" else "consequence")
                out.append(self.printer.line_at(st.node) + self.printer.emit_children_range(st.node, ctx, st.node.start_byte, body.start_byte)
                           + "{" + self.print_steps(st.body, ctx, loop_pragma) + "\n}")
                if st.orelse is not None:
                    out.append(" else {" + self.print_steps(st.orelse, ctx, loop_pragma) + "\n}")
        return "".join(out)

    def preamble(self, ph: phases.Phase, ctx: Ctx, unused_ok: bool = False) -> str:
        """The recomputed locals ``ph`` reads, declared again at its top (``unused_ok``:
        where only part of the phase is printed, as a lockstep loop's start)."""
        return "".join(
            self.printer.line_at(r.statement) + self.printer.emit_children_range(
                r.statement, ctx, r.statement.start_byte, r.statement.child_by_field_name("type").end_byte)
            + " " + self.printer.emit(r.declarator, ctx) + ";" + (f" (void){r.name};" if unused_ok else "")
            for r in ph.preamble)

    def lockstep(self, loop: Node, body: phases.Phase, ctx: Ctx, loop_pragma: str) -> str:
        """A strided per-thread loop (``phases._Planner.lockstep_loop``) run in lockstep:
        each thread starts its counter (its element of a per-thread array) and tests the
        condition, then every round each thread still running takes one iteration, until
        none is.  Threads that left or that a guard excludes never start."""
        assert not loop_pragma, "lockstep loops are for a block run by one thread"
        n = body.number
        decl = loop.child_by_field_name("initializer").child_by_field_name("declarator")
        counter = f"{declarator_name(decl)}{kernels.PER_THREAD_SUFFIX}[pcx_t]"
        cond = loop.child_by_field_name("condition")
        test = f"({self.printer.emit(cond, ctx)}) != 0" if cond is not None else "1"
        start = " && ".join(("!pcx_left[pcx_t]",) * ctx.leaves + ctx.guards + (test,))
        pre = self.preamble(body, ctx, unused_ok=True)
        stmts = "".join(self.printer.line_at(s) + self.printer.emit(s, ctx) for s in body.statements)
        return (f"\n{{ unsigned char pcx_on{n}[{kernels.MAX_BLOCK}]; int pcx_any{n};"
                + _threads("", pre + self.printer.line_at(loop) + f"{counter} = {self.printer.emit(decl.child_by_field_name('value'), ctx)};"
                           f" pcx_on{n}[pcx_t] = {start};")
                + f"\ndo {{ pcx_any{n} = 0;"
                + _threads("", f"\nif (!pcx_on{n}[pcx_t]) continue;" + pre + "\n{" + stmts + "\n}"
                           + self.printer.line_at(loop) + f"{self.printer.emit(loop.child_by_field_name('update'), ctx)};"
                           f" if ((pcx_on{n}[pcx_t] = {test})) pcx_any{n} = 1;")
                + f"\n}} while (pcx_any{n});\n}}")

    def publish(self, what: phases.Exchange | phases.Predicate, ctx: Ctx) -> str:
        """The end of a phase: each thread stores what the next phase reads (phases.py)."""
        if isinstance(what, phases.Predicate):
            return self.printer.line_at(what.condition) + f"pcx_pred{what.index}[pcx_t] = ({self.printer.emit(what.condition, ctx)}) != 0;"
        value = self.printer.emit(what.warp.value, ctx)
        if what.warp.kind == "vote":
            value = f"({value}) != 0"
        return self.printer.line_at(what.statement) + f"pcx_xchg{what.index}[pcx_t] = {value};"

    def receive(self, ex: phases.Exchange, ctx: Ctx) -> str:
        """The start of the next phase: each thread reads its source lane's value (a warp
        is 32 consecutive threads of the block; ``pcx_warp_*`` in the prologue), or
        combines its tile's values (``cg::reduce``; a tile is ``warp.tile`` consecutive
        threads of a warp, and sums the lanes the block has)."""
        op, buf, first = ex.warp, f"pcx_xchg{ex.index}", ""
        if op.kind == "shuffle":
            width = f"(int)({self.printer.emit(op.width, ctx)})" if op.width is not None else str(op.tile)
            rhs = f"{buf}[pcx_warp_src(pcx_t, pcx_nt, {op.shuffle}, (int)({self.printer.emit(op.lane, ctx)}), {width})]"
        elif op.kind == "vote":
            # A tile's lanes within its warp: the member mask of its __*_sync form.
            lanes = f"((pcx_t & 31) & ~{op.tile - 1})"
            mask = (f"(unsigned int)({self.printer.emit(op.mask, ctx)})" if op.mask is not None
                    else "0xffffffffu" if op.tile == 32 else f"({(1 << op.tile) - 1}u << {lanes})")
            ballot = f"pcx_warp_ballot({buf}, pcx_t, pcx_nt, {mask})"
            rhs = {"__ballot_sync": ballot if op.mask is not None or op.tile == 32 else f"({ballot} >> {lanes})",
                   "__any_sync": f"({ballot} != 0u)",
                   "__all_sync": f"({ballot} == pcx_warp_present(pcx_t, pcx_nt, {mask}))"}[op.vote]
        else:  # reduce: every lane of the tile combines the same values in the same order
            typ = self.printer.emit(op.type, ctx)
            acc = f"pcx_red{ex.index}"
            first = (f"{typ} {acc} = {buf}[pcx_t & ~{op.tile - 1}]; "
                     f"for (int pcx_l = (pcx_t & ~{op.tile - 1}) + 1; pcx_l < (pcx_t & ~{op.tile - 1}) + {op.tile} && pcx_l < pcx_nt; pcx_l++) "
                     f"{acc} = {op.combine.format(a=acc, b=f'{buf}[pcx_l]')}; ")
            rhs = acc
        name = text(ex.target)
        if ex.op != "decl":
            stmt = f"{self.printer.emit(ex.target, ctx)} {ex.op} {rhs};"
        elif name in ctx.per_thread:
            stmt = f"{name}{kernels.PER_THREAD_SUFFIX}[pcx_t] = {rhs};"
        else:
            typ = ex.statement.child_by_field_name("type")
            stmt = f"{self.printer.emit_children_range(ex.statement, ctx, ex.statement.start_byte, typ.end_byte)} {name} = {rhs};"
        return self.printer.line_at(ex.statement) + first + stmt
