"""How a ``__global__`` kernel definition or prototype is translated.

A kernel becomes a ``declare target`` body function and a host launcher (the texts are
``kernels.py``'s).  Here is decided which form it takes: a kernel with ``__shared__``
memory, barriers or warp functions is block-cooperative, and is split into barrier phases
where ``phases.plan_phases`` proves it can (printed by ``phase_print.py``), else run as
one parallel region per block; every other kernel is one parallel loop over its launch
grid.  The PCX400 remark names the form and, for a block kernel not split, why not.
A kernel any part of which is refused is not translated at all.
"""

from __future__ import annotations

from tree_sitter import Node

from pcx_driver.cuda import block_sum, coop, kernels, phases
from pcx_driver.cuda.parse import declarator_name, function_declarator, has_keyword, parameters, text, walk
from pcx_driver.cuda.phase_print import PhasePrinter
from pcx_driver.cuda.printer import Ctx, Printer, Refused


class KernelDefinitions:
    """The rules for kernel definitions and prototypes; ``translated`` lists the kernels
    translated, in source order."""

    def __init__(self, printer: Printer, cg_namespaces: frozenset[str] = frozenset({coop.NAMESPACE})) -> None:
        self.printer = printer
        self.cg_namespaces = cg_namespaces  # cooperative_groups and the unit's aliases of it
        self.phase_printer = PhasePrinter(printer)
        self.translated: list[str] = []

    def template_info(self, node: Node) -> tuple[str, str]:
        """(``template <...> `` head, ``<A, B>`` arguments naming its parameters)."""
        plist = node.child_by_field_name("parameters")
        names = []
        for p in plist.named_children if plist is not None else []:
            if p.type == "type_parameter_declaration":
                name = next((text(c) for c in p.named_children if c.type == "type_identifier"), "")
            elif p.type == "optional_type_parameter_declaration":  # typename T = float
                name = text(p.child_by_field_name("name"))
            elif p.type in ("parameter_declaration", "optional_parameter_declaration"):  # int C (= 32)
                name = declarator_name(p.child_by_field_name("declarator"))
            else:
                name = ""
            if not name:
                raise self.printer.refuse("PCX407", p, f"template parameter {text(p)} of a kernel is not supported")
            names.append(name)
        return f"template {text(plist)} ", f"<{', '.join(names)}>"

    def kernel_info(self, node: Node) -> kernels.KernelInfo:
        fd = function_declarator(node)
        if fd is None:
            raise self.printer.refuse("PCX407", node, "kernel declarator not understood")
        name = declarator_name(fd)
        params = parameters(fd)
        if params is None:
            raise self.printer.refuse("PCX407", fd, f"kernel {name} has an unnamed or variadic parameter")
        plist = fd.child_by_field_name("parameters")
        return kernels.KernelInfo(name=name, params=params, static=has_keyword(node, "static"),
                                  param_text="", line=node.start_point.row + 1, plist=plist)

    def param_text(self, info: kernels.KernelInfo, ctx: Ctx) -> str:
        drop = _top_level_consts(info.plist)
        inner = self._emit_without(info.plist, ctx, drop)[1:-1].strip() if drop else \
            self.printer.emit_children(info.plist, ctx)[1:-1].strip()
        return "" if inner in ("", "void") else inner

    def _emit_without(self, node: Node, ctx: Ctx, drop: set[int]) -> str:
        """``node`` printed with the nodes in ``drop`` left out (the printer's rules apply
        below them; the nodes on the way down are copied as written)."""
        if node.id in drop:
            return ""
        if not any(d.id in drop for d in walk(node)):
            return self.printer.emit(node, ctx)
        out, pos = [], node.start_byte
        for c in node.children:
            out.append(self.printer.src(pos, c.start_byte))
            out.append(self._emit_without(c, ctx, drop))
            pos = c.end_byte
        out.append(self.printer.src(pos, node.end_byte))
        return "".join(out)

    def prototype(self, node: Node, template: tuple[str, str] = ("", "")) -> str:
        info = self.kernel_info(node)
        info.template, info.template_args = template
        info.param_text = self.param_text(info, Ctx())
        return kernels.launcher_prototype(info) + ";"

    def definition(self, node: Node, template: tuple[str, str] = ("", "")) -> str:
        info = self.kernel_info(node)
        info.template, info.template_args = template
        body = node.child_by_field_name("body")
        info.param_text = self.param_text(info, Ctx())
        refused = False
        plan: phases.PhasePlan | str = ""
        serial_plan: phases.PhasePlan | str = ""  # for the block function one thread runs
        info.groups = coop.kernel_groups(body, self.cg_namespaces)
        try:
            if info.groups.groups:
                hiding = coop.macros_naming(self.printer.tree.root_node, set(info.groups.groups))
                use = next((n for n in walk(body) if n.type == "identifier" and text(n) in hiding), None)
                if use is not None:
                    raise self.printer.refuse("PCX402", use, f"macro {text(use)} uses a cooperative group of kernel {info.name}, "
                                              "which is translated only where the kernel names it")
            self.collect_shared(info, body)
            if info.block and (sync := phases.warp_synchronous(body, info.shared_names(), info.groups)) is not None:
                raise self.printer.refuse("PCX407", sync[0], f"kernel {info.name} relies on the lanes of a warp running in "
                                          f"step: {sync[1]}")
            if info.block:
                plan = phases.plan_phases(body, info.param_names(), info.shared_names(), info.groups)
                serial_plan = phases.plan_phases(body, info.param_names(), info.shared_names(), info.groups, lockstep=True)
            if not isinstance(plan, phases.PhasePlan):
                warp = next((op for n in walk(body) if (op := phases.warp_op(n, info.groups)) is not None), None)
                if warp is not None and warp.spelling in phases.WARP_CALLS:
                    raise self.printer.refuse("PCX401", warp.call, f"warp function {warp.spelling} cannot be translated here: {plan}")
                if warp is not None:
                    raise self.printer.refuse("PCX402", warp.call, f"cooperative groups {warp.spelling} cannot be translated "
                                              f"here: {plan}")
                self.check_block_returns(info, body)
        except Refused:
            refused = True  # still print the body: it reports its own refusals too
        errors_before = len(self.printer.remarks)
        idiom = None
        if isinstance(plan, phases.PhasePlan):
            info.phases = max(plan.phases, 1)
            body_text = (self.phase_printer.block_body(info, plan, parallel=True) + "\n" + kernels.block_header(info, serial=True)
                         + self.phase_printer.block_body(
                             info, serial_plan if isinstance(serial_plan, phases.PhasePlan) else plan, parallel=False))
            header = kernels.block_header(info)
            idiom = block_sum.match(body, info, info.groups, set(phases.writes_of(body)))
            if idiom is not None:
                device = Ctx(device=True, kernel=info)
                body_text += "\n" + block_sum.value_function(info, idiom, lambda n: self.printer.emit(n, device),
                                                             self.printer.line_at)
                info.block_sum = (block_sum.launch_condition(idiom), idiom.element,
                                  self.printer.emit(idiom.target, device))
        else:
            body_text = self.printer.emit(body, Ctx(device=True, kernel=info))
            # The body may use only some of the launch geometry: keep -Wunused-parameter
            # quiet (on the line of the opening brace, so no line moves).
            body_text = "{ (void)blockIdx; (void)threadIdx; (void)blockDim; (void)gridDim;" + body_text[1:]
            header = kernels.body_header(info)
            lockstep = self.lockstep_plan(info, body) if not info.block and not refused else None
            if lockstep is not None:
                info.lockstep = True
                body_text += ("\n" + kernels.block_header(info, serial=True)
                              + self.phase_printer.block_body(info, lockstep, parallel=False))
        if len(self.printer.remarks) > errors_before:
            refused = True  # something in the body was refused: the kernel is not translated
        if refused:
            raise Refused()
        self.translated.append(info.name)
        if info.phases:
            how = (f"a target teams region, one team per block, its {info.phases} barrier phase(s) each a "
                   "parallel loop over the block's threads")
            if idiom is not None:
                how = ("a reduction(+) over its launch grid into one element where its block is one-dimensional and "
                       "a power of two in size (a shared-memory tree ending in one atomicAdd per block), else " + how)
        elif info.block:
            how = ("a target teams region, one team per block with a parallel region of blockDim threads "
                   f"(not split at its barriers: {plan})")
        else:
            how = "a target teams distribute parallel for loop over its launch grid"
            if info.lockstep:
                how += (" (where a team has no threads for it, a parallel loop over the blocks, each running its "
                        "threads' strided loop in lockstep)")
        self.printer.remark("PCX400", node, f"CUDA kernel {info.name} translated to {how}")
        return (
            "\n#pragma omp declare target" + self.printer.line_at(info.plist)
            + header + body_text
            + "\n#pragma omp end declare target\n"
            + f'#line {info.line} "{self.printer.file}"\n'
            + kernels.launcher(info, self.printer.file.replace("\\", "\\\\").replace('"', '\\"'))
            + self.printer.line_at(node, end=True)
        )

    @staticmethod
    def lockstep_plan(info: kernels.KernelInfo, body: Node) -> phases.PhasePlan | None:
        """For a kernel without block cooperation: its phases with a strided loop in
        lockstep (a grid-stride loop, ``phases._Planner.lockstep_loop``), or None when it
        has none."""
        plan = phases.plan_phases(body, info.param_names(), set(), info.groups, lockstep=True)
        if isinstance(plan, phases.PhasePlan) and any(
                isinstance(s, phases.BlockStep) and s.kind == "lockstep" for s in plan.steps):
            return plan
        return None

    def collect_shared(self, info: kernels.KernelInfo, body: Node) -> None:
        for n in walk(body):
            if n.type == "call_expression" and (info.groups.is_barrier(n) or phases.warp_op(n, info.groups) is not None):
                info.block = True
            if n.type != "declaration" or not has_keyword(n, "__shared__"):
                continue
            info.block = True
            is_extern = has_keyword(n, "extern")
            typ = n.child_by_field_name("type")
            spec = " ".join(
                text(c) for c in n.children
                if c.end_byte <= typ.end_byte and c.type not in ("storage_class_specifier",)
                and not (c.type == "type_qualifier" and text(c) == "__shared__")
            )
            for d in n.children_by_field_name("declarator"):
                name = declarator_name(d)
                if d.type == "init_declarator":
                    raise self.printer.refuse("PCX407", d, f"__shared__ variable {name} with an initializer")
                if is_extern:
                    if d.type != "array_declarator" or d.child_by_field_name("size") is not None:
                        raise self.printer.refuse("PCX407", d, f"extern __shared__ {name} must be an unsized array")
                    info.dynamic_shared.append((spec, name))
                elif d.type == "identifier":
                    info.shared_scalars.append(name)
                    info.shared.append(kernels.SharedVar(spec, name, text(d), scalar=True))
                else:
                    info.shared.append(kernels.SharedVar(spec, name, text(d), scalar=False))

    def check_block_returns(self, info: kernels.KernelInfo, body: Node) -> None:
        if not info.block:
            return
        barrier = phases.divergent_barrier(body, info.param_names(), info.shared_names(), info.groups)
        if barrier is not None:
            raise self.printer.refuse(
                "PCX407", barrier,
                f"__syncthreads() under a condition that may differ between threads in kernel {info.name}, which runs "
                "as one parallel region per block: the threads that go another way would never reach it")
        syncs = [n.end_byte for n in walk(body) if info.groups.is_barrier(n)]
        last = max(syncs, default=-1)
        for n in walk(body):
            if n.type == "return_statement" and n.start_byte < last:
                test = n.parent.parent if n.parent is not None and n.parent.type == "compound_statement" else n.parent
                if test is not None and test.type == "if_statement" and phases.leaves_together(
                        body, info.param_names(), info.shared_names(), info.groups, test):
                    continue  # the whole block leaves: no thread misses a barrier the others reach
                raise self.printer.refuse(
                    "PCX407", n,
                    f"return before __syncthreads() in kernel {info.name}: the threads that left would miss the barrier",
                )


def _top_level_consts(plist: Node | None) -> set[int]:
    """The ``const`` of a pointer parameter itself (``float *__restrict__ const out``): the
    launcher points each pointer parameter at its device twin (a held-out HeCBench check:
    ddbp and interleave did not compile).  A by-value parameter's own const is no part of
    the function's type, and the kernel never assigned it."""
    out: set[int] = set()
    for p in plist.named_children if plist is not None else ():
        d = p.child_by_field_name("declarator") if p.type == "parameter_declaration" else None
        if d is not None and d.type == "pointer_declarator":
            out |= {c.id for c in d.children if c.type == "type_qualifier" and text(c) == "const"}
    return out
