"""Text builders for translated kernels: body function, host launcher, symbol helpers.

A kernel ``k(P)`` becomes two functions:

* ``static void k__pcx_body(dim3 blockIdx, dim3 threadIdx, dim3 blockDim, dim3 gridDim,
  [shared arrays,] P)`` in ``declare target``: the CUDA body verbatim, so every index
  expression, guard and ``return`` means what it meant.
* ``void k(dim3 pcx_grid, dim3 pcx_block, size_t pcx_shmem, P)``: the host launcher.

Launchers come in three shapes.  A kernel without block cooperation runs every (block,
thread) pair as one iteration of ``target teams distribute parallel for collapse(2)``.

A kernel with ``__shared__`` memory or ``__syncthreads()`` that ``phases.py`` can split at
its barriers becomes a *block function* ``k__pcx_block(blockIdx, blockDim, gridDim,
[shared arrays,] P)`` whose phases are loops over the block's threads.  Where the device
gives a team the block's threads (a GPU, by the probe below) one team runs each block and
each phase is a ``parallel for``; elsewhere (the host device) the blocks are the
``parallel for`` and ``k__pcx_block_serial`` runs each phase as a plain loop.

Any other block-cooperative kernel runs one block per
``distribute`` iteration: the shared arrays are declared in the team, and a
``parallel num_threads(B)`` region supplies the block's threads (an orphaned
``#pragma omp barrier`` in the body is the ``__syncthreads``).  The host device gives a
parallel region nested in ``teams`` a single thread, so a probe
(``pcx_cuda_teams_give_threads``) picks the teams form where the device provides B
threads per team and otherwise runs the blocks one after another inside a single
``target`` region.  Every parallel region checks it really has B threads and the
launcher stops the program with a message otherwise: never a silently wrong result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from pcx_driver.cuda.coop import Groups
from pcx_driver.cuda.parse import Param

BODY_SUFFIX = "__pcx_body"
BLOCK_SUFFIX = "__pcx_block"  # a phased kernel's block function, its phases parallel loops
SERIAL_BLOCK_SUFFIX = "__pcx_block_serial"  # the same with plain loops: one device thread runs the block
VALUE_SUFFIX = "__pcx_value"  # a block-sum kernel's value of one thread (block_sum.py)
#: CUDA's limit on the threads of a block: the length of a per-thread array.
MAX_BLOCK = 1024
PER_THREAD_SUFFIX = "__pcx"  # ``acc`` living across a barrier is ``acc__pcx[pcx_t]``


@dataclass
class SharedVar:
    spec: str  # type specifiers without __shared__ ("float", "const int")
    name: str
    declarator: str  # "tile[TILE][TILE]" or "count"
    scalar: bool = False


@dataclass
class KernelInfo:
    name: str
    params: list[Param]
    static: bool
    param_text: str  # the parameter list as printed, without parentheses ("" if none)
    line: int
    plist: Node | None = None
    block: bool = False  # uses __shared__ or __syncthreads (needs real block teams)
    shared: list[SharedVar] = field(default_factory=list)
    shared_scalars: list[str] = field(default_factory=list)
    dynamic_shared: list[tuple[str, str]] = field(default_factory=list)  # (spec, name)
    template: str = ""  # "template <typename T, int B> " for a template kernel
    template_args: str = ""  # "<T, B>": how the launcher names the body's instantiation
    phases: int = 0  # > 0: the body runs once per block, split into this many barrier phases
    #: a kernel without block cooperation whose strided loop runs in lockstep in a serial
    #: block function where a team has no threads for it (``phases.py``, lockstep loops)
    lockstep: bool = False
    groups: Groups = field(default_factory=Groups)  # its cooperative groups (coop.py)
    #: the block-sum idiom (block_sum.py): (launch condition, element type, atomicAdd's
    #: target as C); the launcher runs a grid reduction where the condition holds
    block_sum: tuple[str, str, str] | None = None

    def param_names(self) -> set[str]:
        return {p.name for p in self.params}

    def shared_names(self) -> set[str]:
        """Its ``__shared__`` variables, static and dynamic."""
        return {s.name for s in self.shared} | {name for _, name in self.dynamic_shared}


def _with_params(prefix: list[str], param_text: str) -> str:
    return ", ".join(prefix + ([param_text] if param_text else []))


def body_header(k: KernelInfo) -> str:
    """The body function's head up to (and including) its parameter list."""
    extra = ["dim3 blockIdx", "dim3 threadIdx", "dim3 blockDim", "dim3 gridDim"]
    for s in k.shared:
        extra.append(f"{s.spec} *{s.name}" if s.scalar else f"{s.spec} {s.declarator}")
    for spec, name in k.dynamic_shared:
        extra.append(f"{spec} *{name}")
    return f"{k.template}static void {k.name}{BODY_SUFFIX}({_with_params(extra, k.param_text)}) "


def block_header(k: KernelInfo, serial: bool = False) -> str:
    """The head of a phased kernel's block function: it runs one whole block, its phases
    looping over the block's threads (``phases.py``), so it takes no threadIdx."""
    extra = ["dim3 blockIdx", "dim3 blockDim", "dim3 gridDim"]
    for s in k.shared:
        extra.append(f"{s.spec} *{s.name}" if s.scalar else f"{s.spec} {s.declarator}")
    for spec, name in k.dynamic_shared:
        extra.append(f"{spec} *{name}")
    suffix = SERIAL_BLOCK_SUFFIX if serial else BLOCK_SUFFIX
    return f"{k.template}static void {k.name}{suffix}({_with_params(extra, k.param_text)}) "


def launcher_prototype(k: KernelInfo) -> str:
    storage = "static " if k.static else ""
    return f"{k.template}{storage}void {k.name}({_with_params(['dim3 pcx_grid', 'dim3 pcx_block', 'size_t pcx_shmem'], k.param_text)})"


def _block_call(k: KernelInfo, serial: bool) -> str:
    args = ["pcx_dim3_unflatten(pcx_b, pcx_grid)", "pcx_block", "pcx_grid"]
    args += [f"&{s.name}" if s.scalar else s.name for s in k.shared]
    args += [f"({spec} *)(pcx_dyn + pcx_b * pcx_dyn_stride)" for spec, _ in k.dynamic_shared]
    args += [p.name for p in k.params]
    return f"{k.name}{SERIAL_BLOCK_SUFFIX if serial else BLOCK_SUFFIX}{k.template_args}({', '.join(args)});"


def _body_call(k: KernelInfo, thread: str, suffix: str = BODY_SUFFIX) -> str:
    """A call of the function ``suffix`` names for one (block, thread); the value function
    (``VALUE_SUFFIX``) takes no shared memory."""
    args = ["pcx_dim3_unflatten(pcx_b, pcx_grid)", f"pcx_dim3_unflatten({thread}, pcx_block)",
            "pcx_block", "pcx_grid"]
    if suffix == BODY_SUFFIX:
        args += [f"&{s.name}" if s.scalar else s.name for s in k.shared]
        args += [f"({spec} *)(pcx_dyn + pcx_b * pcx_dyn_stride)" for spec, _ in k.dynamic_shared]
    args += [p.name for p in k.params]
    return f"{k.name}{suffix}{k.template_args}({', '.join(args)});"


def launcher(k: KernelInfo, file: str) -> str:
    """The host launcher's full definition; its target regions carry the kernel's line
    in ``file`` (so LIBOMPTARGET_INFO names ``..._<kernel>_l<line>``)."""
    here = f'#line {k.line} "{file}"'

    ptrs = [p.name for p in k.params if p.pointer]
    if k.dynamic_shared:
        ptrs.append("pcx_dyn")
    is_dev = f" is_device_ptr({', '.join(ptrs)})" if ptrs else ""
    param_ptrs = [p.name for p in k.params if p.pointer]
    param_dev = f" is_device_ptr({', '.join(param_ptrs)})" if param_ptrs else ""
    lines = [
        launcher_prototype(k),
        "{",
        "  long long pcx_nb = (long long)pcx_grid.x * pcx_grid.y * pcx_grid.z;",
        "  long long pcx_nt = (long long)pcx_block.x * pcx_block.y * pcx_block.z;",
        "  (void)pcx_shmem;",
        "  if (pcx_nb <= 0 || pcx_nt <= 0) return;",
    ]
    # Managed buffers live on the host between launches; kernels see their device twins.
    # Always emitted: the allocation may come from another unit of a mixed build (the
    # registry is shared), and with no managed memory these are short loops.
    lines += [f"  {p} = (__typeof__({p}))pcx_cuda_devptr((void *){p});" for p in ptrs if p != "pcx_dyn"]
    lines.append("  pcx_cuda_managed_push();")
    if not k.block:
        grid = [
            here,
            f"#pragma omp target teams distribute parallel for collapse(2) firstprivate(pcx_grid, pcx_block){is_dev}",
            "  for (long long pcx_b = 0; pcx_b < pcx_nb; pcx_b++)",
            "    for (long long pcx_t = 0; pcx_t < pcx_nt; pcx_t++)",
            "      " + _body_call(k, "pcx_t"),
        ]
        if k.lockstep:
            # A thread per iteration where teams have threads (a GPU); elsewhere the
            # blocks are the parallel loop and each runs its threads' strided loop in
            # lockstep: one device thread walking a thread's stride after another's
            # touches a cache line per element.
            grid = [
                f"  if (pcx_nt > {MAX_BLOCK} || pcx_cuda_teams_give_threads((int)pcx_nt)) {{", *grid, "  } else {",
                here,
                f"#pragma omp target teams distribute parallel for firstprivate(pcx_grid, pcx_block){is_dev}",
                "  for (long long pcx_b = 0; pcx_b < pcx_nb; pcx_b++)",
                "    " + _block_call(k, True),
                "  }",
            ]
        lines += grid
    elif k.phases:
        # Where the device gives a team the block's threads (a GPU), one team per block,
        # its shared arrays in the team and each phase a parallel loop over its threads.
        # Elsewhere (the host device gives a parallel region nested in teams two threads,
        # and a fork per phase costs more than the phase) the blocks are the parallel
        # loop and each runs its phases as plain loops.  Either way every phase covers all
        # of the block's threads, whatever number of threads the device gives.
        decls = "".join(f"    {s.spec} {s.declarator};\n" for s in k.shared)
        phased = []
        if k.dynamic_shared:
            phased += [
                "  size_t pcx_dyn_stride = (pcx_shmem + 15) & ~(size_t)15;",
                "  char *pcx_dyn = (char *)omp_target_alloc(pcx_nb * pcx_dyn_stride + 16, omp_get_default_device());",
            ]
        phased += [
            f'  if (pcx_nt > {MAX_BLOCK}) pcx_cuda_block_failed("{k.name}", pcx_nt);',
            "  int pcx_threads = (int)pcx_nt;",
            "  if (pcx_cuda_teams_give_threads(pcx_threads)) {",
            here,
            f"#pragma omp target teams distribute thread_limit(pcx_threads) firstprivate(pcx_grid, pcx_block){is_dev}",
            "  for (long long pcx_b = 0; pcx_b < pcx_nb; pcx_b++) {\n" + decls + "    " + _block_call(k, False) + "\n  }",
            "  } else {",
            here,
            f"#pragma omp target teams distribute parallel for firstprivate(pcx_grid, pcx_block){is_dev}",
            "  for (long long pcx_b = 0; pcx_b < pcx_nb; pcx_b++) {\n" + decls + "    " + _block_call(k, True) + "\n  }",
            "  }",
        ]
        if k.dynamic_shared:
            phased.append("  omp_target_free(pcx_dyn, omp_get_default_device());")
        if k.block_sum is None:
            lines += phased
        else:
            # Where the tree adds every thread's value of its block (block_sum.py), the
            # kernel adds the grid's total to one element: a reduction, then one add.
            cond, element, target = k.block_sum
            lines += [
                f"  if ({cond}) {{",
                f"    {element} pcx_sum = 0;",
                here,
                f"#pragma omp target teams distribute parallel for collapse(2) firstprivate(pcx_grid, pcx_block) "
                f"reduction(+: pcx_sum){param_dev}",
                "  for (long long pcx_b = 0; pcx_b < pcx_nb; pcx_b++)",
                "    for (long long pcx_t = 0; pcx_t < pcx_nt; pcx_t++)",
                f"      pcx_sum += {_body_call(k, 'pcx_t', VALUE_SUFFIX)}",
                here,
                f"#pragma omp target firstprivate(pcx_sum){param_dev}",
                f"  *({target}) += pcx_sum;",
                "  } else {", *phased, "  }",
            ]
    else:
        if k.dynamic_shared:
            lines += [
                "  size_t pcx_dyn_stride = (pcx_shmem + 15) & ~(size_t)15;",
                "  char *pcx_dyn = (char *)omp_target_alloc(pcx_nb * pcx_dyn_stride + 16, omp_get_default_device());",
            ]
        decls = "".join(f"    {s.spec} {s.declarator};\n" for s in k.shared)
        block = (
            "  for (long long pcx_b = 0; pcx_b < pcx_nb; pcx_b++) {\n"
            + decls
            + "#pragma omp parallel num_threads(pcx_threads)\n"
            "    {\n"
            "      if (omp_get_num_threads() != pcx_threads) {\n"
            "#pragma omp atomic write\n"
            "        pcx_short = 1;\n"
            "      } else\n"
            "        " + _body_call(k, "omp_get_thread_num()") + "\n"
            "    }\n"
            "  }"
        )
        lines += [
            # The thread count travels as an explicit int: clang-19 -O2 miscompiled the
            # implicitly captured long long in num_threads() of the plain-target form.
            "  int pcx_short = 0, pcx_threads = (int)pcx_nt;",
            "  if (pcx_cuda_teams_give_threads(pcx_threads)) {",
            here,
            "#pragma omp target teams distribute num_teams(pcx_nb < 65535 ? (int)pcx_nb : 65535) "
            f"thread_limit(pcx_threads) firstprivate(pcx_grid, pcx_block, pcx_threads) map(tofrom: pcx_short){is_dev}",
            block,
            "  } else {",
            here,
            f"#pragma omp target firstprivate(pcx_grid, pcx_block, pcx_threads) map(tofrom: pcx_short){is_dev}",
            block,
            "  }",
        ]
        if k.dynamic_shared:
            lines.append("  omp_target_free(pcx_dyn, omp_get_default_device());")
    lines.append("  pcx_cuda_managed_pull();")
    if k.block and not k.phases:
        lines.append(f'  if (pcx_short) pcx_cuda_block_failed("{k.name}", pcx_nt);')
    lines.append("}")
    return "\n".join(lines)


def symbol_helpers(name: str, template: tuple[str, str] | None = None) -> str:
    """``pcx_to_symbol_<name>`` / ``pcx_from_symbol_<name>``: cudaMemcpy{To,From}Symbol
    for one ``declare target`` variable (host copy + ``target update``); for a variable
    template, ``template`` is the helpers' template head and the expression naming the
    variable (``pcx_var_coef<T>::v``)."""
    head, ref = template if template is not None else ("", name)
    return (
        f"{head}PCX_API cudaError_t pcx_to_symbol_{name}(const void *src, size_t n, size_t off, cudaMemcpyKind kind)\n"
        "{\n"
        "  if (kind == cudaMemcpyDeviceToDevice)\n"
        f"    omp_target_memcpy((char *)&{ref} + off, (void *)src, n, 0, 0, omp_get_initial_device(), omp_get_default_device());\n"
        "  else\n"
        f"    memcpy((char *)&{ref} + off, src, n);\n"
        f"#pragma omp target update to({ref})\n"
        "  return cudaSuccess;\n"
        "}\n"
        f"{head}PCX_API cudaError_t pcx_from_symbol_{name}(void *dst, size_t n, size_t off, cudaMemcpyKind kind)\n"
        "{\n"
        f"#pragma omp target update from({ref})\n"
        "  if (kind == cudaMemcpyDeviceToDevice)\n"
        f"    omp_target_memcpy(dst, (char *)&{ref} + off, n, 0, 0, omp_get_default_device(), omp_get_initial_device());\n"
        "  else\n"
        f"    memcpy(dst, (char *)&{ref} + off, n);\n"
        "  return cudaSuccess;\n"
        "}\n"
    )
