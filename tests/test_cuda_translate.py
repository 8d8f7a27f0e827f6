"""pcx_driver.cuda.translate_source and ``pcx translate``: decisions, reasons, and programs
that really run.

The tables read like the docs: a CUDA snippet, the remark ID it must get and where.  The
run tests translate small programs whose right answers are computed by hand (or by the
host part of the program itself), build them with clang-19 for the host device and run
them the strict way (OMP_TARGET_OFFLOAD=MANDATORY, no pooled device memory, poisoned
malloc, two threads).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from pcx_driver import gate
from pcx_driver.commands.translate import translate as translate_cmd
from pcx_driver.cuda import CudaTranslation, translate_source
from pcx_driver.model import Language, RunOutput, SourceUnit

ROOT = Path(__file__).resolve().parent.parent
PCX = ROOT / ".venv" / "bin" / "pcx"
FLAGS = ["-O2", "-fopenmp", "-fopenmp-targets=x86_64-pc-linux-gnu", "-gline-tables-only",
         "-Wl,-rpath,/usr/lib/llvm-19/lib"]
needs_clang = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 is not installed")


def tr(src: str, path: str = "app.cu") -> CudaTranslation:
    return translate_source(SourceUnit(path=path, text=src, language=Language.CUDA))


def build_and_run(tmp_path: Path, src: str, name: str = "app", language: str = "c",
                  extra_flags: tuple[str, ...] = ()) -> RunOutput:
    """Translate ``src`` (written as tmp_path/NAME.cu), build from tmp_path (FLAGS, then
    ``extra_flags``), run strictly."""
    (tmp_path / f"{name}.cu").write_text(src)
    t = tr(src, f"{name}.cu")
    assert t.ok, [r.format() for r in t.remarks]
    out = tmp_path / (f"{name}.c" if language == "c" else f"{name}.cpp")
    out.write_text(t.text)
    compiler = "clang-19" if language == "c" else "clang++-19"
    p = subprocess.run([compiler, *FLAGS, *extra_flags, out.name, "-o", name, "-lm"], cwd=tmp_path, capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    run = gate.run_program([str(tmp_path / name)], cwd=str(tmp_path),
                           env={**gate.VALIDATION_ENV, "KMP_BLOCKTIME": "0"}, timeout=60)
    assert run.returncode == 0, run.stderr[-3000:]
    assert not gate.unmapped_pointers(run.stderr)
    return run


# --------------------------------------------------------------------------- refusals

KERNEL = "__global__ void k(float *v, int n)\n{{\n    int i = blockIdx.x * blockDim.x + threadIdx.x;\n{body}\n}}\n"

REFUSALS = [
    # (body of a kernel (lines 4...), remark ID, line, words the message must contain)
    ("    v[i] = 1.0f + __shfl_xor_sync(0xffffffff, v[i], 1);", "PCX401", 4,
     "__shfl_xor_sync cannot be translated here: __shfl_xor_sync must be the whole right-hand side"),
    ("    if (i < n) { unsigned m = __ballot_sync(0xffffffff, v[i] > 0); v[i] = m; }", "PCX401", 4,
     "a warp vote under a condition that may differ between threads"),
    ("    while (i < n) { v[i] = __shfl_down_sync(0xffffffff, v[i], 1); i += 32; }", "PCX401", 4, "inside a while"),
    ("    unsigned m = __activemask(); v[i] = m;", "PCX401", 4, "__activemask"),
    # HeCBench degrid's shape: the loop is warp-uniform, not block-uniform
    ("    for (int q = threadIdx.x; q < n; q += 32) { float s = __shfl_down_sync(0xffffffff, v[q], 1); v[q] = s; }",
     "PCX401", 4, "a loop holding a warp function starts from a value that may differ between threads"),
    ("    unsigned int s = atomicInc((unsigned int *)v, 4u);", "PCX405", 4, "atomicInc"),
    ("    v[0] = 1 + atomicAdd(&v[1], 1.0f);", "PCX405", 4, "atomicAdd whose result is used inside an expression"),
    ("    int c = __syncthreads_count(v[i] > 0);", "PCX407", 4, "__syncthreads_count"),
    ("    long long t = clock64();", "PCX407", 4, "clock64"),
    ("    unsigned int r = __funnelshift_l(1u, 2u, 3u); v[i] = r;", "PCX407", 4,
     "CUDA device intrinsic __funnelshift_l has no translation"),
    ("    k<<<1, 1>>>(v, n);", "PCX404", 4, "dynamic parallelism"),
    ("    cudaMalloc((void **)&v, 4);", "PCX406", 4, "called from device code"),
    # Split into phases, a thread that returned is skipped by the phases after (the
    # hardware releases a barrier that only exited threads hold up); one parallel region
    # per block (a barrier in a while loop) cannot let a thread leave before a barrier.
    ("    if (i >= n) return;\n    int s = 2;\n    while (s > 0) { __syncthreads(); s--; }\n    v[i] = 0.0f;",
     "PCX407", 4, "return before __syncthreads"),
    # A warp may leave before its shuffles (warp_rows runs that), not before a vote (a
    # lane that left votes false in CUDA).
    ("    if (i >= n) return;\n    unsigned b = __ballot_sync(0xffffffffu, v[i] > 0.0f);\n    v[i] = b;",
     "PCX401", 5, "a warp vote in a kernel whose threads may return before it"),
]


@pytest.mark.parametrize("body, rid, line, words", REFUSALS, ids=[r[1] + ":" + r[3] for r in REFUSALS])
def test_refusals_name_construct_and_line(body: str, rid: str, line: int, words: str) -> None:
    t = tr(KERNEL.format(body=body))
    assert not t.ok
    hits = [r for r in t.remarks if r.id == rid and r.line == line]
    assert hits, [r.format() for r in t.remarks]
    assert words in hits[0].message


UNIT_REFUSALS = [
    ("#include <cooperative_groups/memcpy_async.h>\nint main(void) { return 0; }\n", "PCX402", 1),
    ("__global__ void k(cudaTextureObject_t t, float *o) { o[0] = tex1Dfetch<float>(t, 0); }\n", "PCX403", 1),
    ("texture<float, 1> tex;\n", "PCX403", 1),
    ("int main(void) { cudaGraph_t g; cudaGraphCreate(&g, 0); return 0; }\n", "PCX406", 1),
    ("template <typename... Ts>\n__global__ void k(Ts... v) { }\n", "PCX407", 1),
    ("__managed__ int counter;\n", "PCX407", 1),
    ("__device__ int lane(void) { return threadIdx.x & 31; }\n", "PCX407", 1),
    ("__global__ void k(float *v) { v[0] = 1.0f;\n", "PCX407", 1),  # syntax error
    ("#include <thrust/unique.h>\n", "PCX409", 1),
    ("#include <cstdio>\nint main() { thrust::unique(thrust::device, p, p + 4); return 0; }\n", "PCX409", 2),
    ("#include <cub/cub.cuh>\n", "PCX409", 1),
    ("#include <stdio.h>\n#include <curand.h>\n", "PCX406", 2),
    ("#include <cublasLt.h>\n", "PCX406", 1),
    ("#include <cublas_v2.h>\nint f(cublasHandle_t h) { return cublasSgeam(h); }\n", "PCX406", 2),
    ("#include <cuda/std/atomic>\n", "PCX406", 1),
]


@pytest.mark.parametrize("src, rid, line", UNIT_REFUSALS, ids=[f"{r[1]}-{i}" for i, r in enumerate(UNIT_REFUSALS)])
def test_unit_level_refusals(src: str, rid: str, line: int) -> None:
    t = tr(src)
    assert not t.ok
    assert any(r.id == rid and r.line == line for r in t.remarks), [r.format() for r in t.remarks]


def test_the_programs_own_names_are_not_refused() -> None:
    """A helper called cudaCheck, a variable named surface, host clock(): not CUDA constructs."""
    src = ("#include <time.h>\n"
           "#define cudaCheck(call) do { cudaError_t e = (call); if (e) return 1; } while (0)\n"
           "static void cuReport(int surface) { (void)surface; }\n"
           "__global__ void k(int *v) { v[threadIdx.x] = min(threadIdx.x, 3u); }\n"
           "int main(void) { clock_t t = clock(); int *d; cudaCheck(cudaMalloc(&d, 64)); k<<<1, 16>>>(d);\n"
           "  cuReport(1); (void)t; return 0; }\n")
    t = tr(src)
    assert t.ok, [r.format() for r in t.remarks]
    assert "pcx_min(threadIdx.x, 3u)" in t.text


HELPERS_NOT_API = [
    # (host statements in main; the helpers come from a header pcx does not see)
    "cudaCheck(cudaMalloc(&d, 64));",
    "checkCuda(cudaDeviceSynchronize());",
    "CUDA_CHECK(cudaFree(d));",
    "cudaCheckError();",
    "cudaSafeCall(cudaMemset(d, 0, 64), __FILE__, __LINE__);",
]


@pytest.mark.parametrize("stmt", HELPERS_NOT_API)
def test_user_error_check_helpers_are_not_cuda_api(stmt: str) -> None:
    """Only names the CUDA headers define are API: a program's own cudaCheck is user code."""
    t = tr("int main(void) { int *d = 0; " + stmt + " return d != 0; }\n")
    assert t.ok, [r.format() for r in t.remarks]


@pytest.mark.parametrize("stmt, name", [("cudaGraph_t g; cudaGraphCreate(&g, 0);", "cudaGraph_t"),
                                        ("cudaFuncSetCacheConfig(k, cudaFuncCachePreferL1);", "cudaFuncSetCacheConfig"),
                                        ("cuInit(0);", "cuInit")])
def test_runtime_names_without_translation_are_still_refused(stmt: str, name: str) -> None:
    t = tr("int main(void) { " + stmt + " return 0; }\n")
    assert not t.ok
    assert f"CUDA runtime API {name} has no translation" in [r for r in t.remarks if r.id == "PCX406"][0].message


def test_user_helper_body_calls_are_translated() -> None:
    src = ("static cudaError_t cudaSafeMalloc(float **p, size_t n) { return cudaMalloc(p, n); }\n"
           "int main(void) { float *d; return cudaSafeMalloc(&d, 64) != cudaSuccess; }\n")
    t = tr(src)
    assert t.ok, [r.format() for r in t.remarks]
    assert "return cudaMalloc((void **)(p), n);" in t.text


#: The shapes programs give their own error checks: (id, definitions, how a call is checked).
USER_CHECKS = [
    ("do-while-macro",
     "#define cudaCheck(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \\\n"
     "    fprintf(stderr, \"%s\\n\", cudaGetErrorString(e_)); exit(1); } checks++; } while (0)\n",
     "cudaCheck({})"),
    ("function-file-line",
     "static inline void checkCuda(cudaError_t e, const char *file, int line)\n"
     "{\n    if (e != cudaSuccess) { fprintf(stderr, \"%s:%d: %s\\n\", file, line, cudaGetErrorName(e)); exit(1); }\n"
     "    checks++;\n}\n",
     "checkCuda({}, __FILE__, __LINE__)"),
    ("macro-over-function",
     "static void check_status(cudaError_t e, const char *call)\n"
     "{\n    if (e != cudaSuccess) { fprintf(stderr, \"%s: %s\\n\", call, cudaGetErrorString(e)); exit(1); }\n"
     "    checks++;\n}\n#define CHECK_CUDA(call) check_status((call), #call)\n",
     "CHECK_CUDA({})"),
    ("gpuErrchk-gpuAssert",
     "#define gpuErrchk(ans) { gpuAssert((ans), __FILE__, __LINE__); }\n"
     "static void gpuAssert(cudaError_t code, const char *file, int line)\n"
     "{\n    if (code != cudaSuccess) { fprintf(stderr, \"%s %s %d\\n\", cudaGetErrorString(code), file, line); exit(code); }\n"
     "    checks++;\n}\n",
     "gpuErrchk({})"),
]

USER_CHECK_PROGRAM = """#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>
static int checks = 0;
{helpers}
__global__ void twice(int *v, int n)
{{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) v[i] *= 2;
}}
int main(void)
{{
    int h[100], *d, s = 0;
    for (int i = 0; i < 100; i++) h[i] = i;
    {malloc};
    {copy_in};
    twice<<<4, 32>>>(d, 100);
    {launch};
    {extra}
    {copy_out};
    {free};
    for (int i = 0; i < 100; i++) s += h[i];
    printf("%d %d\\n", s, checks);
    return 0;
}}
"""


def user_check_program(helpers: str, check: str, extra: str = "") -> str:
    """USER_CHECK_PROGRAM with every runtime call wrapped in ``check`` (``"CHECK({})"``)."""
    calls = {"malloc": "cudaMalloc(&d, sizeof h)", "copy_in": "cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice)",
             "launch": "cudaGetLastError()", "copy_out": "cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost)",
             "free": "cudaFree(d)"}
    return USER_CHECK_PROGRAM.format(helpers=helpers, extra=extra,
                                     **{k: check.format(v) for k, v in calls.items()})


@needs_clang
@pytest.mark.parametrize("helpers, check", [u[1:] for u in USER_CHECKS], ids=[u[0] for u in USER_CHECKS])
def test_user_error_checks_translate_and_run(tmp_path: Path, helpers: str, check: str) -> None:
    """The program's own checks are user code (not refused); what they wrap, and the
    CUDA names in their bodies, translate; every check passes on the host device."""
    run = build_and_run(tmp_path, user_check_program(helpers, check))
    assert run.stdout == "9900 5\n"


@pytest.mark.parametrize("helpers, check", [u[1:] for u in USER_CHECKS], ids=[u[0] for u in USER_CHECKS])
def test_user_error_checks_around_an_untranslatable_api_are_refused(helpers: str, check: str) -> None:
    """A runtime API without a translation stays refused inside the program's own check,
    with PCX406 at its line naming it; the helper itself is never reported."""
    extra = check.format("cudaFuncSetCacheConfig(twice, cudaFuncCachePreferL1)") + ";"
    src = user_check_program(helpers, check, extra)
    line = src.splitlines().index("    " + extra) + 1
    t = tr(src)
    assert not t.ok
    errors = [(r.id, r.line, r.message) for r in t.remarks if r.id != "PCX400"]
    assert errors == [
        ("PCX406", line, "CUDA runtime API cudaFuncSetCacheConfig has no translation"),
        ("PCX406", line, "CUDA runtime API cudaFuncCachePreferL1 has no translation"),
    ]


INLINE_HELPERS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime.h>
#ifndef HELPERS_H
#define HELPERS_H
inline void checkCuda(cudaError_t e, const char *file, int line)
{
    if (e != cudaSuccess) { fprintf(stderr, "%s:%d: %s\n", file, line, cudaGetErrorString(e)); exit(1); }
}
#endif
inline int blocks_for(int n, int per);
inline int blocks_for(int n, int per) { return (n + per - 1) / per; }
void report(int sum);
inline void report(int sum) { printf("sum=%d\n", sum); }
__device__ inline int square(int x) { return x * x; }
__global__ void squares(int *v, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) v[i] = square(i);
}
int main(void)
{
    int h[50], *d, s = 0;
    checkCuda(cudaMalloc(&d, sizeof h), __FILE__, __LINE__);
    squares<<<blocks_for(50, 16), 16>>>(d, 50);
    checkCuda(cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost), __FILE__, __LINE__);
    for (int i = 0; i < 50; i++) s += h[i];
    report(s);
    return 0;
}
"""


@needs_clang
@pytest.mark.parametrize("language", ["c", "c++"])
def test_inline_helpers_link_without_optimisation(tmp_path: Path, language: str) -> None:
    """``inline void checkCuda(...)`` is C++'s inline in CUDA; C's emits no symbol, so an
    -O0 build failed to link.  Such functions become ``static inline``; one also declared
    without ``inline`` stays as written (C emits its definition)."""
    t = tr(INLINE_HELPERS)
    assert "\nstatic inline void checkCuda(" in t.body and "\nstatic inline int blocks_for(int n, int per);" in t.body
    assert "\ninline void report(int sum)" in t.body
    run = build_and_run(tmp_path, INLINE_HELPERS, language=language, extra_flags=("-O0",))
    assert run.stdout == f"sum={sum(i * i for i in range(50))}\n"


def test_an_untranslatable_api_inside_a_checking_macro_is_refused_where_used() -> None:
    """A macro body is pasted by the preprocessor, untranslated: a runtime API without a
    translation in it is refused (PCX406) at each use of the macro, through other
    macros too; an unused one is harmless."""
    src = ("#define CHECK(x) do { if ((x) != cudaSuccess) return 1; } while (0)\n"
           "#define REPLAY(g, s) CHECK(cudaGraphLaunch(g, s))\n"
           "#define REPLAY_TWICE(g, s) do { REPLAY(g, s); REPLAY(g, s); } while (0)\n"
           "#define PROFILE_ON() cudaProfilerStart()\n"
           "int main(void)\n{\n    int *d;\n    CHECK(cudaMalloc(&d, 64));\n"
           "    REPLAY(0, 0);\n    REPLAY_TWICE(0, 0);\n    return 0;\n}\n")
    t = tr(src)
    assert not t.ok
    assert [(r.id, r.line, r.message) for r in t.remarks] == [
        ("PCX406", 9, "macro REPLAY expands to CUDA runtime API cudaGraphLaunch, which has no OpenMP equivalent"),
        ("PCX406", 10, "macro REPLAY_TWICE expands to CUDA runtime API cudaGraphLaunch (through REPLAY), "
                       "which has no OpenMP equivalent"),
    ]


DEVICE_QUERY = r"""
#include <stdio.h>
#include <cuda_runtime.h>
int main(void)
{
    int n = 0, sms = 0, warp = 0, threads = 0;
    cudaDeviceProp p;
    struct cudaDeviceProp q;
    enum cudaError e = cudaGetDeviceCount(&n);
    cudaError e2 = cudaGetDeviceProperties(&p, 0);
    cudaGetDeviceProperties_v2(&q, n - 1);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
    cudaDeviceGetAttribute(&warp, cudaDevAttrWarpSize, 0);
    cudaDeviceGetAttribute(&threads, cudaDevAttrMaxThreadsPerBlock, 0);
    printf("%d %d %d %d %d %d %d\n", n >= 1, e == cudaSuccess && e2 == cudaSuccess, p.name[0] != 0 && q.name[0] != 0,
           sms == p.multiProcessorCount && sms > 0, warp, threads, p.totalGlobalMem > 0);
    printf("%s %s\n", cudaGetErrorName(cudaSetDevice(n)), cudaGetErrorName(cudaGetDeviceProperties(&p, -1)));
    return 0;
}
"""


@needs_clang
@pytest.mark.parametrize("language", ["c", "c++"])
def test_device_queries_run(tmp_path: Path, language: str) -> None:
    run = build_and_run(tmp_path, DEVICE_QUERY, language=language)
    assert run.stdout.splitlines() == ["1 1 1 1 32 1024 1", "cudaErrorInvalidDevice cudaErrorInvalidDevice"]


def test_device_attribute_table_matches_the_prologue() -> None:
    from pcx_driver.cuda.prologue import prologue
    from pcx_driver.cuda.tables import DEVICE_ATTRIBUTES

    text = prologue()
    for name, (value, field) in DEVICE_ATTRIBUTES.items():
        assert f"{name} = {value}" in text and f"case {name}: *value = (int)p.{field};" in text


HIDDEN_WARP = [
    # (macros, kernel body line 4 using them, ID, words)
    ("#define SUM(v) v += __shfl_down_sync(0xffffffff, v, 16)", "    float s = v[i]; SUM(s); v[i] = s;", "PCX401",
     "macro SUM expands to __shfl_down_sync"),
    ("#define SHFL(v, o) __shfl_xor_sync(0xffffffff, v, o)\n#define RED(v) v += SHFL(v, 1)",
     "    float s = v[i]; RED(s); v[i] = s;", "PCX401", "macro RED expands to __shfl_xor_sync (through SHFL)"),
    ("#define VOTE(p) __ballot_sync(0xffffffffu, p)", "    unsigned m = VOTE(v[i] > 0); v[i] = m;", "PCX401",
     "__ballot_sync"),
    ("#define TILE cooperative_groups::this_thread_block()", "    (void)TILE;", "PCX402", "macro TILE expands to cooperative_groups"),
]


@pytest.mark.parametrize("macros, body, rid, words", HIDDEN_WARP, ids=[h[3] for h in HIDDEN_WARP])
def test_warp_functions_behind_a_macro_are_refused(macros: str, body: str, rid: str, words: str) -> None:
    src = KERNEL.format(body=body)
    t = tr(macros + "\n" + src)
    line = macros.count("\n") + 1 + 4
    assert not t.ok
    hits = [r for r in t.remarks if r.id == rid and r.line == line]
    assert hits and words in hits[0].message, [r.format() for r in t.remarks]


LAUNCH_MACROS = [
    # (macros, the host statement using one (line 4 after the macros), ID or None, words)
    ("#define CFG <<<1, 32>>>", "    k CFG (v, 32);", "PCX407",
     "macro CFG expands to a kernel launch <<<...>>> in a body that does not parse as statements"),
    ("#define CFG <<<1, 32>>>\n#define GO k CFG (v, 32)", "    GO;", "PCX407", "(through CFG)"),
    ("#define GO(ker, n) ker<<<dim3(((n) + 31) / 32), 32>>>(v, n)", "    GO(k, 32);", None,
     "ker(pcx_dim3_of(((n) + 31) / 32), pcx_dim3_of(32), 0, v, n)"),
    ("#define GO(ker) do { ker<<<dim3(2, 1), dim3(16), 8 * sizeof(float)>>>(v, 32); } while (0)", "    GO(k);", None,
     "ker(pcx_dim3_make((unsigned int)(2), (unsigned int)(1), 1), pcx_dim3_of(16), (size_t)(8 * sizeof(float)), v, 32)"),
]


@pytest.mark.parametrize("macros, use, rid, words", LAUNCH_MACROS, ids=[m[3][:40] for m in LAUNCH_MACROS])
def test_kernel_launches_in_macro_bodies(macros: str, use: str, rid: str | None, words: str) -> None:
    """A launch in a macro body that parses is rewritten there; a body holding only part
    of a launch is refused where the macro is used (the program runs: macro_launch)."""
    host = "void run(float *v)\n{\n" + use + "\n}\n"
    t = tr(macros + "\n" + KERNEL.format(body="    if (i < n) v[i] += 1.0f;") + host)
    line = macros.count("\n") + 1 + KERNEL.count("\n") + 3
    if rid is None:
        assert t.ok and words in t.text, [r.format() for r in t.remarks]
        return
    assert not t.ok
    hits = [r for r in t.remarks if r.id == rid and r.line == line]
    assert hits and words in hits[0].message, [r.format() for r in t.remarks]


SPLIT_EXTERN_C = "#ifdef __cplusplus\nextern \"C\" {{\n#endif\n{decl}\n#ifdef __cplusplus\n}}\n#endif\n"


def test_a_header_that_does_not_parse_is_kept_only_without_cuda(tmp_path: Path) -> None:
    """A C header whose extern "C" block opens and closes under #ifdef __cplusplus has no
    syntax tree of its own: with no CUDA in it, it is read as it is (column_stats runs
    such a program); with CUDA in it, the program is refused, never half translated."""
    from pcx_driver.cuda.project import translate_project, translate_single

    (tmp_path / "plain.h").write_text(SPLIT_EXTERN_C.format(decl="static inline int twice(int x) { return 2 * x; }"))
    (tmp_path / "dev.h").write_text(SPLIT_EXTERN_C.format(decl="__device__ static inline int thrice(int x) { return 3 * x; }"))
    (tmp_path / "rt.h").write_text("#include <cuda_runtime.h>\n" + SPLIT_EXTERN_C.format(decl="static inline int twice(int x) { return 2 * x; }"))
    body = KERNEL.format(body="    if (i < n) v[i] = twice(i);")
    (tmp_path / "a.cu").write_text('#include "plain.h"\n' + body)
    single = translate_single(str(tmp_path / "a.cu"), base=str(tmp_path))
    assert single.ok, [r.format() for r in single.remarks]
    program = translate_project([str(tmp_path / "a.cu")], str(tmp_path / "out"), base=str(tmp_path))
    assert program.ok and program.files[str(tmp_path / "out" / "plain.h")] == (tmp_path / "plain.h").read_text()
    for header, source in (("dev.h", "b.cu"), ("rt.h", "c.cu")):  # CUDA code, or a CUDA header it includes
        (tmp_path / source).write_text(f'#include "{header}"\n' + body)
        refused = translate_project([str(tmp_path / source)], str(tmp_path / ("out_" + source)), base=str(tmp_path))
        assert not refused.ok
        assert any(r.id == "PCX407" and r.file == header for r in refused.remarks), [r.format() for r in refused.remarks]


def test_an_unused_warp_macro_is_harmless() -> None:
    t = tr("#define SUM(v) v += __shfl_down_sync(0xffffffff, v, 16)\n#ifdef SUM\n#endif\n"
           + KERNEL.format(body="    v[i] = 1.0f;"))
    assert t.ok, [r.format() for r in t.remarks]


def test_a_warp_macro_from_a_header_is_refused_where_used(tmp_path: Path) -> None:
    from pcx_driver.cuda.project import translate_project

    (tmp_path / "warp.cuh").write_text("#define WARP_MAX(v) __shfl_down_sync(0xffffffffu, v, 1)\n")
    (tmp_path / "a.cu").write_text('#include "warp.cuh"\n' + KERNEL.format(body="    v[i] = WARP_MAX(v[i]);"))
    res = translate_project([str(tmp_path / "a.cu")], str(tmp_path / "o"), base=str(tmp_path))
    assert not res.ok
    assert [(r.file, r.line, r.id) for r in res.remarks if r.id != "PCX400"] == [("a.cu", 5, "PCX401")]


def test_min_with_side_effects_is_refused() -> None:
    t = tr(KERNEL.format(body="    v[0] = min(i++, n);"))
    assert [(r.id, r.line) for r in t.remarks] == [("PCX407", 4)]


def test_remark_prints_compiler_style() -> None:
    src = KERNEL.format(body="    v[i] += __shfl_down_sync(0xffffffffu, v[i], 16);")
    t = tr(src)
    assert [r.format() for r in t.remarks] == [
        "app.cu:4:13: error: warp function __shfl_down_sync cannot be translated here: __shfl_down_sync must be the "
        "whole right-hand side of an assignment or declaration, or __syncwarp() a statement of its own [PCX401]"
    ]


def test_a_refused_kernel_is_reported_once() -> None:
    src = KERNEL.format(body="    if (i >= n) return;\n    int s = 2;\n    while (s > 0) { __syncthreads(); s--; }\n"
                             "    atomicAdd(&v[0], 1.0f);")
    ids = [r.id for r in tr(src).remarks]
    assert ids == ["PCX407"]


# --------------------------------------------------------------------------- what the text says


def test_kernel_becomes_target_loop_over_the_grid() -> None:
    src = "#include <cuda_runtime.h>\n" + KERNEL.format(body="    if (i < n) v[i] *= 2.0f;") + (
        "int main(void)\n{\n    float *d;\n    cudaMalloc(&d, 40);\n    k<<<1, 10>>>(d, 10);\n    return 0;\n}\n"
    )
    t = tr(src)
    assert t.ok and t.kernels == ["k"]
    assert "#pragma omp target teams distribute parallel for collapse(2) firstprivate(pcx_grid, pcx_block) " \
           "is_device_ptr(v)" in t.text
    assert "#pragma omp declare target" in t.text
    assert "k(pcx_dim3_make((unsigned int)(1), 1, 1), pcx_dim3_make((unsigned int)(10), 1, 1), 0, d, 10);" in t.text
    assert "cudaMalloc((void **)(&d), 40)" in t.text
    assert "/* pcx: #include <cuda_runtime.h> is replaced by the prologue */" in t.text
    assert '#line 2 "app.cu"' in t.text
    assert [r.id for r in t.remarks] == ["PCX400"]


def test_shared_memory_kernel_becomes_teams_with_barrier_phases() -> None:
    src = ("__global__ void r(float *v)\n{\n    __shared__ float buf[64];\n    buf[threadIdx.x] = v[threadIdx.x];\n"
           "    __syncthreads();\n    v[threadIdx.x] = buf[63 - threadIdx.x];\n}\n")
    t = tr(src)
    assert t.ok
    assert "#pragma omp barrier" not in t.text
    # Two phases, each a parallel loop over the block's threads (and, for a device
    # thread running a whole block, a plain loop).
    assert t.text.count("#pragma omp parallel for collapse(3)\nfor (unsigned int pcx_z = 0; pcx_z < blockDim.z; pcx_z++)") == 2
    assert t.text.count("\nfor (unsigned int pcx_z = 0; pcx_z < blockDim.z; pcx_z++)") == 4
    assert "#pragma omp target teams distribute thread_limit(pcx_threads)" in t.text
    assert "float buf[64];" in t.text  # team-local copy
    assert "__shared__" not in t.text.split("end of prologue")[1]
    assert "2 barrier phase(s)" in t.remarks[0].message


UNPHASED = [
    # (kernel body between a __shared__ buffer and its use, why it keeps one parallel region per block)
    ("    int s = 32;\n    while (s > 0) { if (t < s) buf[t] += buf[t + s]; __syncthreads(); s /= 2; }",
     "__syncthreads() inside a while statement"),
    # Conditional compilation is a statement of its phase only when it holds no barrier,
    # declaration or jump: a branch the preprocessor keeps must not move a phase boundary.
    ("#ifdef TWICE\n    __syncthreads();\n#endif\n    buf[t] += 1;",
     "a barrier or warp function inside conditional compilation (#ifdef)"),
    ("#if SCALE > 1\n    int s = 2;\n#else\n    int s = 1;\n#endif\n    buf[t] *= s;",
     "a declaration inside conditional compilation (#if)"),
    ("    for (int s = 0; s < 2; s++) {\n#ifndef KEEP\n        if (buf[t] > 3) break;\n#endif\n"
     "        __syncthreads();\n    }", "a break statement inside conditional compilation (#ifndef)"),
    ("#define HALF 32\n    buf[t] += HALF;", "the kernel has a preproc def"),
    # A parameter is each thread's own variable: the block function has one copy, which
    # only a once-per-block update with a value every thread computes alike may move.
    ("    v += threadIdx.x;\n    buf[t] += v[0];", "the parameter v is written with a value that may differ between threads"),
    ("    if (t == 0) v += 1;\n    __syncthreads();", "the parameter v is written by the block's threads one by one"),
    ("    int *w = (v += 2);\n    buf[t] += w[0];", "the parameter v is written inside a statement"),
    # A thread's array across a barrier is one copy per thread of the largest block.
    ("    int big[16][8];\n    big[1][t % 8] = buf[t];\n    __syncthreads();\n    buf[t] = big[1][t % 8];",
     "big lives across __syncthreads() and is an array of 128 elements (a copy per thread: at most 64)"),
    ("    int one[2] = {buf[t], 1};\n    __syncthreads();\n    buf[t] = one[0];",
     "one lives across __syncthreads() and is initialised by a list other than {}"),
]


DIVERGENT_BARRIERS = [
    # A barrier that threads may reach differently: split into phases where the planner
    # can (none of these), else refused: as one parallel region per block the threads that
    # go another way would never reach it, and the others would wait at it forever.
    "    if (t < 32) { buf[t] += 1; __syncthreads(); }",
    "    for (int s = 32; s > 0; s /= 2) { if (t < s) buf[t] += buf[t + s]; else s = 0; __syncthreads(); }",
    "    for (int s = t; s > 0; s /= 2) { __syncthreads(); }",
    "    int k = 0;\n    for (k = 0; k < t; k++) buf[t] += 1;\n    while (k > 3) { __syncthreads(); k--; }",
    "    __shared__ int flag;\n    if (t == 0) flag = buf[0] > 3;\n    if (flag) { buf[t] += 1; __syncthreads(); }",
]


@pytest.mark.parametrize("body", DIVERGENT_BARRIERS)
def test_a_barrier_threads_may_miss_is_refused(body: str) -> None:
    src = ("__global__ void r(int *v)\n{\n    __shared__ int buf[64];\n    int t = threadIdx.x;\n    buf[t] = v[t];\n"
           "    __syncthreads();\n" + body + "\n    v[t] = buf[t];\n}\n")
    t = tr(src)
    assert not t.ok
    assert any(r.id == "PCX407" and "__syncthreads() under a condition that may differ between threads" in r.message
               for r in t.remarks), [r.format() for r in t.remarks]


WARP_SYNCHRONOUS = [
    # HeCBench romberg: thread 0 reads the slots threads 1..7 wrote, with no barrier between
    ("    if (t < 8) buf[t] = t * 2;\n    if (t == 0) v[0] = buf[3] + buf[5];",
     "__shared__ buf read at [3] after a write at [t] with no __syncthreads() between"),
    # the classic volatile warp reduction
    ("    if (t < 32) { volatile int *w = buf; w[t] += w[t + 16]; w[t] += w[t + 8]; }",
     "a volatile pointer to __shared__ memory (warp-synchronous code)"),
]


@pytest.mark.parametrize("body, words", WARP_SYNCHRONOUS, ids=["fixed-read", "volatile"])
def test_warp_synchronous_shared_memory_is_refused(body: str, words: str) -> None:
    """Lanes running in step is no guarantee of CUDA since Volta, and here the threads of a
    block run one after another: such a kernel is refused, not translated into other results."""
    src = ("__global__ void r(int *v)\n{\n    __shared__ int buf[64];\n    int t = threadIdx.x;\n    buf[t] = v[t];\n"
           "    __syncthreads();\n" + body + "\n}\n")
    t = tr(src)
    assert not t.ok
    assert any(r.id == "PCX407" and words in r.message for r in t.remarks), [r.format() for r in t.remarks]


def test_shared_elements_each_thread_indexes_its_own_way_are_not_warp_synchronous() -> None:
    """laplace3d's halo: writes and reads at indices each thread computes (its own cells)."""
    src = ("__global__ void r(int *v, int n)\n{\n    __shared__ int buf[128];\n    int t = threadIdx.x, h = 64 + t % 8;\n"
           "    buf[t] = v[t];\n    if (t < 8) buf[h] = v[h];\n    buf[t] += buf[h];\n    __syncthreads();\n"
           "    v[t] = buf[127 - t];\n}\n")
    t = tr(src)
    assert t.ok, [r.format() for r in t.remarks]


def test_a_volatile_helper_is_not_inlined() -> None:
    src = ("__device__ int scan(int x, volatile int *s)\n{\n    int i = threadIdx.x;\n    s[i] = x;\n    s[i] += s[i - 1];\n"
           "    return s[i];\n}\n__global__ void k(int *v)\n{\n    __shared__ int buf[64];\n    int x = v[threadIdx.x];\n"
           "    int y = scan(x, buf);\n    v[threadIdx.x] = y;\n}\n")
    t = tr(src)
    assert not t.ok and any(r.id == "PCX407" and r.line == 1 and "takes a volatile pointer and the thread index: "
                            "warp-synchronous code" in r.message for r in t.remarks), [r.format() for r in t.remarks]


def test_a_shared_flag_read_after_its_barrier_decides_for_the_block() -> None:
    src = ("__global__ void r(int *v)\n{\n    __shared__ int buf[64];\n    __shared__ int flag;\n    int t = threadIdx.x;\n"
           "    buf[t] = v[t];\n    if (t == 0) flag = v[0] > 3;\n    __syncthreads();\n"
           "    if (flag) { buf[t] += buf[63 - t]; __syncthreads(); }\n    v[t] = buf[t];\n}\n")
    t = tr(src)
    assert t.ok and "#pragma omp barrier" not in t.text, [r.format() for r in t.remarks]
    assert "barrier phase(s)" in t.remarks[0].message


@pytest.mark.parametrize("body, why", UNPHASED, ids=[u[1] for u in UNPHASED])
def test_block_kernels_outside_the_phase_scheme_keep_a_parallel_region(body: str, why: str) -> None:
    src = ("__global__ void r(int *v)\n{\n    __shared__ int buf[64];\n    int t = threadIdx.x;\n    buf[t] = v[t];\n"
           "    __syncthreads();\n" + body + "\n    v[t] = buf[t];\n}\n")
    t = tr(src)
    assert t.ok, [r.format() for r in t.remarks]
    assert "#pragma omp barrier" in t.text
    assert "#pragma omp parallel num_threads(pcx_threads)" in t.text
    assert why in t.remarks[0].message, t.remarks[0].message


def test_dim3_forms() -> None:
    src = ("#define T 8\nint main(void)\n{\n    dim3 a(T, T);\n    dim3 b = dim3(4);\n    dim3 c;\n"
           "    dim3 d(2, 3, 4);\n    return a.x + b.x + c.z + d.y;\n}\n")
    t = tr(src)
    assert t.ok
    assert "dim3 a = pcx_dim3_make((unsigned int)(T), (unsigned int)(T), 1);" in t.text
    assert "dim3 b = pcx_dim3_make((unsigned int)(4), 1, 1);" in t.text
    assert "dim3 c = pcx_dim3_make(1, 1, 1);" in t.text
    assert "pcx_dim3_make((unsigned int)(2), (unsigned int)(3), (unsigned int)(4))" in t.text


DIM3_PROGRAM = r"""
#include <stdio.h>
#include <cuda_runtime.h>
#define NT 4
__global__ void geometry(int *hits, unsigned int *dims)
{
    atomicAdd(hits, 1);
    if (blockIdx.x + blockIdx.y + blockIdx.z + threadIdx.x + threadIdx.y + threadIdx.z == 0) {
        dims[0] = gridDim.x; dims[1] = gridDim.y; dims[2] = gridDim.z;
        dims[3] = blockDim.x; dims[4] = blockDim.y; dims[5] = blockDim.z;
    }
}
%(global)s
int main(void)
{
    int n = 64, a = 2, b = 3, *hits;
    unsigned int *dims, h[6];
    int count = 0;
    (void)n; (void)a; (void)b;
    cudaMalloc(&hits, sizeof(int));
    cudaMalloc(&dims, sizeof h);
    cudaMemset(hits, 0, sizeof(int));
    %(local)s
    geometry<<<%(launch)s>>>(hits, dims);
    cudaMemcpy(&count, hits, sizeof count, cudaMemcpyDeviceToHost);
    cudaMemcpy(h, dims, sizeof h, cudaMemcpyDeviceToHost);
    printf("%%d %%u %%u %%u %%u %%u %%u\n", count, h[0], h[1], h[2], h[3], h[4], h[5]);
    return 0;
}
"""

DIV_UP = "static int div_up(int x, int y) { return (x + y - 1) / y; }"

#: (form, file-scope declarations, local declarations, launch configuration, grid, block)
#: in main: int n = 64, a = 2, b = 3; NT is 4.
DIM3_FORMS = [
    ("ctor-names", "", "dim3 g(a, b);", "g, 8", (2, 3, 1), (8, 1, 1)),
    ("ctor-product", "", "dim3 thr(NT * NT);", "2, thr", (2, 1, 1), (16, 1, 1)),
    ("ctor-expr", "", "dim3 g(n / 16, (b + 1) / 2);", "g, 4", (4, 2, 1), (4, 1, 1)),
    ("assign-call", "", "dim3 blk = dim3(4, 4);", "1, blk", (1, 1, 1), (4, 4, 1)),
    ("brace", "", "dim3 blk{4, 2};", "a, blk", (2, 1, 1), (4, 2, 1)),
    ("assign-brace", "", "dim3 blk = {4, 2, 2};", "1, blk", (1, 1, 1), (4, 2, 2)),
    ("fields", "", "dim3 blk; blk.x = 8; blk.y = 2;", "1, blk", (1, 1, 1), (8, 2, 1)),
    ("in-launch", "", "", "dim3(n / 16), 16", (4, 1, 1), (16, 1, 1)),
    ("in-launch-2d", "", "", "dim3(a, b), dim3(NT, NT)", (2, 3, 1), (4, 4, 1)),
    ("integer", "", "dim3 blk = 32;", "1, blk", (1, 1, 1), (32, 1, 1)),
    ("const-several", "", "const dim3 g(a), blk(NT, NT, 2);", "g, blk", (2, 1, 1), (4, 4, 2)),
    ("array", "", "dim3 geo[2] = {dim3(3), dim3(NT, 2)};", "geo[0], geo[1]", (3, 1, 1), (4, 2, 1)),
    ("file-scope", "dim3 file_grid(NT * NT);\ndim3 file_block(NT, 2);\nstatic dim3 file_one;",
     "", "file_grid, file_block", (16, 1, 1), (4, 2, 1)),
    ("file-scope-call", "dim3 file_grid = dim3(2, 2);\ndim3 file_block = 8;", "", "file_grid, file_block",
     (2, 2, 1), (8, 1, 1)),
    ("ctor-3d", "", "dim3 blk(NT, 2, b);", "1, blk", (1, 1, 1), (4, 2, 3)),
    ("ctor-call", DIV_UP, "dim3 g(div_up(n, 16), 1);", "g, 16", (4, 1, 1), (16, 1, 1)),
    ("ctor-macro-call", "#define CEIL_DIV(x, y) (((x) + (y) - 1) / (y))", "dim3 g(CEIL_DIV(n, NT * NT), a + 1);",
     "g, NT", (4, 3, 1), (4, 1, 1)),
    ("ctor-expr-2d", "", "dim3 g((n + NT - 1) / NT, 1);", "g, 1", (16, 1, 1), (1, 1, 1)),
    ("several", "", "dim3 g(n / 16), blk(16);", "g, blk", (4, 1, 1), (16, 1, 1)),
    ("assign-call-of-call", DIV_UP, "dim3 g = dim3(div_up(n, 32), b);", "g, 2", (2, 3, 1), (2, 1, 1)),
    ("copy", "", "dim3 g(a, b);\n    dim3 g2(g), blk{NT};", "g2, blk", (2, 3, 1), (4, 1, 1)),
    ("copy-of-call", "static dim3 grid_for(int n) { return dim3(n / 32, 2); }", "dim3 g(grid_for(n));", "g, 2",
     (2, 2, 1), (2, 1, 1)),
    ("copy-of-element", "", "dim3 geo[2] = {dim3(3), dim3(NT, 2)};\n    dim3 g(geo[0]), blk(geo[1]);", "g, blk",
     (3, 1, 1), (4, 2, 1)),
    ("copy-file-scope", "dim3 file_block(NT, 2);", "dim3 blk(file_block);", "a, blk", (2, 1, 1), (4, 2, 1)),
    ("in-launch-call", DIV_UP, "", "dim3(div_up(n, 16), a), NT", (4, 2, 1), (4, 1, 1)),
    ("file-scope-enum", "enum { EB = 4 };\ndim3 file_block(EB * 2, EB / 2);", "", "a, file_block", (2, 1, 1),
     (8, 2, 1)),
    ("file-scope-const", "static const int CB = 3;\ndim3 file_block(CB * 2);", "", "1, file_block", (1, 1, 1),
     (6, 1, 1)),
]


@needs_clang
@pytest.mark.parametrize("form, glob, local, launch, grid, block", DIM3_FORMS, ids=[f[0] for f in DIM3_FORMS])
def test_every_dim3_form_runs(tmp_path: Path, form: str, glob: str, local: str, launch: str,
                              grid: tuple[int, int, int], block: tuple[int, int, int]) -> None:
    src = DIM3_PROGRAM % {"global": glob, "local": local, "launch": launch}
    run = build_and_run(tmp_path, src)
    threads = grid[0] * grid[1] * grid[2] * block[0] * block[1] * block[2]
    assert run.stdout.split() == [str(v) for v in (threads, *grid, *block)]


#: Forms whose single extent may itself be a dim3: decided by type (pcx_dim3_of), which is
#: _Generic in C and an overload in C++.
DIM3_BY_TYPE = [f for f in DIM3_FORMS if f[0].startswith("copy")]


@needs_clang
@pytest.mark.parametrize("form, glob, local, launch, grid, block", DIM3_BY_TYPE, ids=[f[0] for f in DIM3_BY_TYPE])
def test_dim3_copies_run_as_cxx(tmp_path: Path, form: str, glob: str, local: str, launch: str,
                                grid: tuple[int, int, int], block: tuple[int, int, int]) -> None:
    src = DIM3_PROGRAM % {"global": glob, "local": local, "launch": launch}
    run = build_and_run(tmp_path, src, language="c++")
    threads = grid[0] * grid[1] * grid[2] * block[0] * block[1] * block[2]
    assert run.stdout.split() == [str(v) for v in (threads, *grid, *block)]


def test_dim3_constructor_arguments_go_through_the_rules() -> None:
    """``dim3 b(cudaTextureObject_t)`` reads the name as a parameter type: still refused at its place."""
    t = tr("void f(void)\n{\n    dim3 blk(cudaTextureObject_t), grid(4);\n}\n")
    assert [(r.id, r.line, r.column) for r in t.remarks] == [("PCX403", 3, 14)]


def test_dim3_prototypes_stay_prototypes() -> None:
    t = tr("dim3 make_grid(int n);\ndim3 pick(Shape *s);\ntypedef int Shape;\n")
    assert t.ok
    assert "dim3 make_grid(int n);" in t.text and "dim3 pick(Shape *s);" in t.text


def test_user_min_is_left_alone() -> None:
    src = "static int min(int a, int b) { return a < b ? a : b; }\nint f(void) { return min(1, 2) + max(3, 4); }\n"
    t = tr(src)
    assert "return min(1, 2) + pcx_max(3, 4);" in t.text


@needs_clang
def test_line_directives_point_errors_at_the_cu_file(tmp_path: Path) -> None:
    src = ("#include <cuda_runtime.h>\n\n__device__ float sq(float x) { return x * x; }\n\n"
           "__global__ void k(float *v, int n)\n{\n    int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
           "    if (i < n) atomicAdd(&v[0], sq(v[i]));\n    v[i] = undefined_name;\n}\n")
    (tmp_path / "app.cu").write_text(src)
    (tmp_path / "app.c").write_text(tr(src).text)
    p = subprocess.run(["clang-19", "-fopenmp", "-fsyntax-only", "app.c"], cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode != 0
    assert "app.cu:9:12: error: use of undeclared identifier 'undefined_name'" in p.stderr


# --------------------------------------------------------------------------- programs that run

ATOMICS = r"""
#include <stdio.h>
#include <cuda_runtime.h>

__global__ void atomics(int *a, unsigned int *u, float *f, int *slots, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    int old = atomicAdd(&a[0], 2);          /* declaration capture */
    slots[old / 2] = 1;                      /* every old value is distinct */
    atomicSub(&a[1], 1);
    atomicMax(&a[2], i);
    atomicMin(&a[3], i - 7);
    int prev;
    prev = atomicExch(&a[4], 5);             /* assignment capture */
    if (prev != 5 && prev != 0) a[5] = -1;   /* never */
    atomicCAS(&a[6], 0, 42);                 /* only the first succeeds, all write 42 */
    atomicOr(&u[0], 1u << (i % 32));
    atomicAnd(&u[1], ~(1u << (i % 16)));
    atomicXor(&u[2], (unsigned int)i);
    atomicAdd(f, 0.5f);
    int m = atomicMax(&a[7], i);             /* compare capture */
    if (m > i + n) a[5] = -2;                /* never */
}

int main(void)
{
    const int n = 1000;
    int ha[8] = {0, 0, -1, 1 << 30, 0, 0, 0, -1}, *a, *slots, hs[n];
    unsigned int hu[3] = {0u, 0xffffffffu, 0u}, *u;
    float hf = 0.0f, *f;
    cudaMalloc(&a, sizeof ha); cudaMalloc(&u, sizeof hu); cudaMalloc(&f, sizeof hf);
    cudaMalloc(&slots, sizeof hs);
    cudaMemset(slots, 0, sizeof hs);
    cudaMemcpy(a, ha, sizeof ha, cudaMemcpyHostToDevice);
    cudaMemcpy(u, hu, sizeof hu, cudaMemcpyHostToDevice);
    cudaMemcpy(f, &hf, sizeof hf, cudaMemcpyHostToDevice);
    atomics<<<(n + 127) / 128, 128>>>(a, u, f, slots, n);
    cudaMemcpy(ha, a, sizeof ha, cudaMemcpyDeviceToHost);
    cudaMemcpy(hu, u, sizeof hu, cudaMemcpyDeviceToHost);
    cudaMemcpy(&hf, f, sizeof hf, cudaMemcpyDeviceToHost);
    cudaMemcpy(hs, slots, sizeof hs, cudaMemcpyDeviceToHost);
    int filled = 0;
    for (int k = 0; k < n; k++) filled += hs[k];
    printf("%d %d %d %d %d %d %d %d\n", ha[0], ha[1], ha[2], ha[3], ha[4], ha[5], ha[6], ha[7]);
    printf("%x %x %u %.1f %d\n", hu[0], hu[1], hu[2], hf, filled);
    return 0;
}
"""


@needs_clang
def test_atomic_forms_run(tmp_path: Path) -> None:
    run = build_and_run(tmp_path, ATOMICS)
    xor = 0
    for i in range(1000):
        xor ^= i
    assert run.stdout.splitlines() == [
        "2000 -1000 999 -7 5 0 42 999",
        f"ffffffff ffff0000 {xor} 500.0 1000",
    ]


MEMORY = r"""
#include <stdio.h>
#include <cuda_runtime.h>

__device__ int total;
__constant__ float gain[2];

__global__ void accumulate(const float *x, float *y, int n);   /* prototype before main */

int main(void)
{
    const int n = 256;
    float hx[256], hy[256], *dx, *dy, *m;
    float g[2] = {3.0f, 0.5f};
    int zero = 0, got = -1;
    for (int i = 0; i < n; i++) hx[i] = (float)i;
    cudaMalloc(&dx, sizeof hx);
    cudaMalloc(&dy, sizeof hy);
    cudaMallocManaged(&m, sizeof hx);
    cudaMemcpyToSymbol(total, &zero, sizeof zero);
    cudaMemcpyToSymbol(gain, g, sizeof g);
    cudaMemcpy(dx, hx, sizeof hx, cudaMemcpyDefault);            /* direction from the pointers */
    cudaMemcpyAsync(dy, dx, sizeof hx, cudaMemcpyDeviceToDevice, 0);
    dim3 grid;
    grid.x = 4;
    accumulate<<<grid, 64>>>(dx, dy, n);
    cudaMemcpy(m, dy, sizeof hy, cudaMemcpyDeviceToHost);      /* into managed memory */
    accumulate<<<grid, dim3(64)>>>(m, m, n);                    /* managed in and out */
    cudaDeviceSynchronize();
    cudaMemcpyFromSymbol(&got, total, sizeof got);
    double s = 0.0;
    for (int i = 0; i < n; i++) s += m[i];
    printf("total=%d sum=%.2f m1=%.2f err=%s\n", got, s, m[1], cudaGetErrorString(cudaGetLastError()));
    cudaFree(dx); cudaFree(dy); cudaFree(m);
    return 0;
}

__global__ void accumulate(const float *x, float *y, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        y[i] = gain[0] * x[i] + gain[1];
        atomicAdd(&total, 1);
    }
}
"""


@needs_clang
def test_memory_symbols_managed_and_prototypes_run(tmp_path: Path) -> None:
    run = build_and_run(tmp_path, MEMORY)
    # y = 3x + 0.5 twice: 9i + 2; sum over i < 256 = 9 * 32640 + 512
    assert run.stdout == f"total=512 sum={9 * 32640 + 512:.2f} m1=11.00 err=no error\n"


BLOCK2D = r"""
#include <stdio.h>
#include <cuda_runtime.h>

#define B 4
__global__ void tile_sum(const int *in, int *out, int w)
{
    __shared__ int tile[B][B];
    __shared__ int total;                    /* a shared scalar */
    extern __shared__ int scratch[];         /* dynamic shared memory */
    int x = blockIdx.x * B + threadIdx.x, y = blockIdx.y * B + threadIdx.y;
    tile[threadIdx.y][threadIdx.x] = in[y * w + x];
    scratch[threadIdx.y * B + threadIdx.x] = 2 * in[y * w + x];
    if (threadIdx.x == 0 && threadIdx.y == 0) total = 0;
    __syncthreads();
    atomicAdd(&total, tile[threadIdx.x][threadIdx.y] + scratch[threadIdx.x * B + threadIdx.y]);
    __syncthreads();
    if (threadIdx.x == 0 && threadIdx.y == 0) out[blockIdx.y * gridDim.x + blockIdx.x] = total;
}

int main(void)
{
    const int w = 8;
    int h[64], r[4], *d_in, *d_out;
    for (int i = 0; i < 64; i++) h[i] = i;
    cudaMalloc(&d_in, sizeof h);
    cudaMalloc(&d_out, sizeof r);
    cudaMemcpy(d_in, h, sizeof h, cudaMemcpyHostToDevice);
    tile_sum<<<dim3(2, 2), dim3(B, B), B * B * sizeof(int)>>>(d_in, d_out, w);
    cudaMemcpy(r, d_out, sizeof r, cudaMemcpyDeviceToHost);
    printf("%d %d %d %d\n", r[0], r[1], r[2], r[3]);
    return 0;
}
"""


@needs_clang
@pytest.mark.parametrize("language", ["c", "c++"])
def test_block_kernel_with_2d_threads_scalar_and_dynamic_shared(tmp_path: Path, language: str) -> None:
    run = build_and_run(tmp_path, BLOCK2D, language=language)
    sums = []
    for by in range(2):
        for bx in range(2):
            sums.append(3 * sum((by * 4 + y) * 8 + bx * 4 + x for y in range(4) for x in range(4)))
    assert run.stdout == " ".join(map(str, sums)) + "\n"
    assert "tile_sum" in " ".join(gate.kernel_launches(run.stderr))


PHASES = r"""
#include <stdio.h>
#include <cuda_runtime.h>
#define B 64

/* Blocks past the work leave before any barrier (SimpleMOC's shape); values live across
   barriers; a uniform loop bound from a declaration; a barrier under a uniform if/else;
   a return in the last phase ends only its thread; a break stays in its own loop. */
__global__ void block_sums(const int *v, int *out, int nblocks, int n)
{
    if (blockIdx.x >= nblocks) return;
    __shared__ int buf[B];
    int t = threadIdx.x;
    const int *base = v + blockIdx.x * B;
    int mine = base[t] * 2;
    buf[t] = mine;
    __syncthreads();
    int half = B / 2;
    for (int s = half; s > 0; s >>= 1) {
        if (t < s) buf[t] += buf[t + s];
        __syncthreads();
    }
    int total = buf[0];
    __syncthreads();
    if (n > 0) {
        buf[t] = total - mine;
        __syncthreads();
    } else {
        buf[t] = 0;
        __syncthreads();
    }
    if (t >= n) return;
    int k = 0;
    for (int j = 0; j < 4; j++) { if (j == t) break; k++; }
    out[blockIdx.x * B + t] = buf[(t + 1) % B] + base[t] + k;
}

/* Outside the phase scheme (a while loop over a thread's own copy of s): one parallel
   region of B threads per block, still right. */
__global__ void halving(int *out)
{
    __shared__ int buf[B];
    int t = threadIdx.x;
    buf[t] = t;
    __syncthreads();
    int s = B / 2;
    while (s > 0) {
        if (t < s) buf[t] += buf[t + s];
        __syncthreads();
        s /= 2;
    }
    if (t == 0) out[blockIdx.x] = buf[0];
}

int main(void)
{
    const int nblocks = 5, n = 40, len = nblocks * B;
    int h[5 * B], o[5 * B], hv[3], *d, *dout, *dh;
    for (int i = 0; i < len; i++) h[i] = i % 7 + 1;
    cudaMalloc(&d, sizeof h);
    cudaMalloc(&dout, sizeof o);
    cudaMalloc(&dh, sizeof hv);
    cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice);
    cudaMemset(dout, 0xff, sizeof o);
    block_sums<<<nblocks + 2, B>>>(d, dout, nblocks, n);
    halving<<<3, B>>>(dh);
    cudaMemcpy(o, dout, sizeof o, cudaMemcpyDeviceToHost);
    cudaMemcpy(hv, dh, sizeof hv, cudaMemcpyDeviceToHost);
    for (int i = 0; i < len; i++) printf("%d ", o[i]);
    printf("| %d %d %d\n", hv[0], hv[1], hv[2]);
    return 0;
}
"""


@needs_clang
@pytest.mark.parametrize("language", ["c", "c++"])
def test_barrier_phases_run(tmp_path: Path, language: str) -> None:
    """C++ too: the return of the last phase jumps out of a scope holding initialised
    declarations, which C++ allows only out of, never over."""
    run = build_and_run(tmp_path, PHASES, language=language)
    expected = []
    for b in range(5):
        v = [(b * 64 + t) % 7 + 1 for t in range(64)]
        total = 2 * sum(v)
        for t in range(64):
            expected.append(total - 2 * v[(t + 1) % 64] + v[t] + min(t, 4) if t < 40 else -1)
    assert run.stdout == " ".join(map(str, expected)) + " | 2016 2016 2016\n"
    launched = " ".join(gate.kernel_launches(run.stderr))
    assert "block_sums" in launched and "halving" in launched
    remarks = {r.message.split()[2]: r.message for r in tr(PHASES).remarks}
    assert "6 barrier phase(s)" in remarks["block_sums"]
    assert "not split at its barriers: __syncthreads() inside a while statement" in remarks["halving"]
    text = tr(PHASES).text
    # t is recomputed in each phase that reads it; mine, total and base are kept per thread.
    assert "int mine__pcx[1024];" in text and "int total__pcx[1024];" in text and "const int *base__pcx[1024];" in text
    assert "t__pcx" not in text and text.count("int t = threadIdx.x;") > 3


CONDITIONAL = r"""
#include <stdio.h>
#include <cuda_runtime.h>
#define B 64

__global__ void rotate_sum(const int *in, int *out, int rounds)
{
    __shared__ int buf[B];
    __shared__ int pick[8];
    int t = threadIdx.x;
    if (t == 0)
        for (int i = 0; i < 8; i++) /* thread 0's loop: the block loop below reuses its counter's name */
            pick[i] = (blockIdx.x * 5 + i * 3) % B;
    buf[t] = in[blockIdx.x * B + t];
    __syncthreads();
    int acc = 0;
    for (int i = 0; i < rounds; i++) {
        int v = buf[(t + pick[i % 8]) % B];
#ifdef DOUBLE
        acc += 2 * v;
#elif defined(TRIPLE)
        acc += 3 * v;
#else
        acc += v;
#endif
        __syncthreads();
        buf[t] = acc % 1000;
        __syncthreads();
    }
    out[blockIdx.x * B + t] = acc;
}

int main(void)
{
    int h[3 * B], o[3 * B], *d, *dout;
    for (int i = 0; i < 3 * B; i++) h[i] = (i * 7 + 3) % 50;
    cudaMalloc(&d, sizeof h);
    cudaMalloc(&dout, sizeof o);
    cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice);
    rotate_sum<<<3, B>>>(d, dout, 11);
    cudaMemcpy(o, dout, sizeof o, cudaMemcpyDeviceToHost);
    for (int i = 0; i < 3 * B; i++) printf("%d ", o[i]);
    printf("\n");
    return 0;
}
"""


def _rotate_sum_expected(factor: int) -> str:
    out = []
    for b in range(3):
        pick = [(b * 5 + i * 3) % 64 for i in range(8)]
        buf = [((b * 64 + t) * 7 + 3) % 50 for t in range(64)]
        acc = [0] * 64
        for i in range(11):
            acc = [acc[t] + factor * buf[(t + pick[i % 8]) % 64] for t in range(64)]
            buf = [a % 1000 for a in acc]
        out += acc
    return " ".join(map(str, out)) + " \n"


@needs_clang
@pytest.mark.parametrize("define, factor", [("", 1), ("-DDOUBLE", 2), ("-DTRIPLE", 3)])
def test_conditional_compilation_inside_a_phase_runs_with_either_branch(tmp_path: Path, define: str,
                                                                         factor: int) -> None:
    """An ``#ifdef`` chain of plain statements stays in its phase whichever branch the
    build keeps (SimpleMOC's ``#ifdef TABLE``), and a block loop's counter may share its
    name with a loop of one thread."""
    t = tr(CONDITIONAL)
    assert "barrier phase(s)" in t.remarks[0].message, t.remarks[0].message
    run = build_and_run(tmp_path, CONDITIONAL, extra_flags=(define,) if define else ())
    assert run.stdout == _rotate_sum_expected(factor)
    assert "rotate_sum" in " ".join(gate.kernel_launches(run.stderr))


WARPS_LEAVE = r"""
#include <stdio.h>
#include <cuda_runtime.h>
#include <cooperative_groups.h>
namespace cg = cooperative_groups;

/* llm.c's layernorm backward shape: a warp per row, warps past the last row return, the
   others reduce their row, add into shared sums, and after the block barrier the block
   adds its sums to the output. */
__global__ void row_sums(const float *in, float *col, float *rowsum, int rows, int C)
{
    extern __shared__ float shared[];
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<32> warp = cg::tiled_partition<32>(block);
    int idx = blockIdx.x * warp.meta_group_size() + warp.meta_group_rank();
    for (int i = threadIdx.x; i < C; i += blockDim.x)
        shared[i] = 0.0f;
    __syncthreads();
    if (idx >= rows) { return; }
    float s = 0.0f;
    for (int i = warp.thread_rank(); i < C; i += warp.size()) {
        s += in[idx * C + i];
        atomicAdd(&shared[i], in[idx * C + i]);
    }
    s = cg::reduce(warp, s, cg::plus<float>{});
    if (warp.thread_rank() == 0)
        rowsum[idx] = s;
    __syncthreads();
    for (int i = threadIdx.x; i < C; i += blockDim.x)
        atomicAdd(&col[i], shared[i]);
}

int main(void)
{
    const int rows = 11, C = 40;
    float h[rows * C], hc[C], hr[rows], *d, *dc, *dr;
    for (int i = 0; i < rows * C; i++) h[i] = (float)((i * 13) % 9);
    cudaMalloc(&d, sizeof h);
    cudaMalloc(&dc, sizeof hc);
    cudaMalloc(&dr, sizeof hr);
    cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice);
    cudaMemset(dc, 0, sizeof hc);
    row_sums<<<(rows + 3) / 4, 128, C * sizeof(float)>>>(d, dc, dr, rows, C);
    cudaMemcpy(hc, dc, sizeof hc, cudaMemcpyDeviceToHost);
    cudaMemcpy(hr, dr, sizeof hr, cudaMemcpyDeviceToHost);
    for (int i = 0; i < C; i++) printf("%g ", hc[i]);
    printf("|");
    for (int i = 0; i < rows; i++) printf(" %g", hr[i]);
    printf("\n");
    return 0;
}
"""


@needs_clang
@pytest.mark.parametrize("language", ["c", "c++"])
def test_warps_that_return_before_a_block_barrier_are_skipped_by_the_phases_after(tmp_path: Path,
                                                                                  language: str) -> None:
    t = tr(WARPS_LEAVE)
    assert t.ok and "barrier phase(s)" in t.remarks[0].message, [r.format() for r in t.remarks]
    run = build_and_run(tmp_path, WARPS_LEAVE, language=language)
    h = [float((i * 13) % 9) for i in range(11 * 40)]
    cols = [sum(h[r * 40 + i] for r in range(11)) for i in range(40)]
    rows = [sum(h[r * 40:(r + 1) * 40]) for r in range(11)]
    assert run.stdout == " ".join(f"{c:g}" for c in cols) + " |" + "".join(f" {r:g}" for r in rows) + "\n"


VECTORS = r"""
#include <stdio.h>
#include <cuda_runtime.h>

/* llm.c's shapes: float4 loads through a cast pointer, make_float4, cache-hinted loads and
   stores (__ldcs, __stcs, __ldg), and an int2 built in a kernel. */
__global__ void scale4(const float *in, float *out, int2 *meta, int n4)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n4) return;
    float4 v = *(const float4 *)(in + 4 * i);
    float4 w = make_float4(v.w, v.z * 2.0f, v.y + __ldg(&in[0]), __ldcs(&v.x) - 1.0f);
    *(float4 *)(out + 4 * i) = w;
    __stcs(&out[4 * i], w.x + 0.5f);
    meta[i] = make_int2(i, (int)(sizeof(float4) + sizeof(int2) * 100 + _Alignof(float4) * 10000));
}

int main(void)
{
    float h[64], o[64], *d, *dout;
    int2 m[16], *dm;
    for (int i = 0; i < 64; i++) h[i] = (float)(i % 9) - 2.0f;
    cudaMalloc((void **)&d, sizeof h);
    cudaMalloc((void **)&dout, sizeof o);
    cudaMalloc((void **)&dm, sizeof m);
    cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice);
    scale4<<<2, 8>>>(d, dout, dm, 16);
    cudaMemcpy(o, dout, sizeof o, cudaMemcpyDeviceToHost);
    cudaMemcpy(m, dm, sizeof m, cudaMemcpyDeviceToHost);
    for (int i = 0; i < 64; i++) printf("%g ", o[i]);
    printf("| %d %d %d\n", m[3].x, m[15].x, m[15].y);
    return 0;
}
"""


@needs_clang
@pytest.mark.parametrize("language", ["c", "c++"])
def test_vector_types_and_cache_hints_run(tmp_path: Path, language: str) -> None:
    src = VECTORS if language == "c" else VECTORS.replace("_Alignof", "alignof")
    run = build_and_run(tmp_path, src, language=language)
    h = [float(i % 9) - 2.0 for i in range(64)]
    out = []
    for i in range(16):
        x, y, z, w = h[4 * i:4 * i + 4]
        out += [w + 0.5, z * 2.0, y + h[0], x - 1.0]
    assert run.stdout == " ".join(f"{v:g}" for v in out) + " | 3 15 160816\n"


PARAM_STEPS = r"""
#include <stdio.h>
#include <cuda_runtime.h>

/* llm.c's softmax backward shape: pointer parameters moved to the block's row once, at the
   top, then a block reduction over the row. */
__global__ void row_total(const int *in, int *out, int width)
{
    __shared__ int part[64];
    in += blockIdx.x * width;
    out += blockIdx.x;
    width -= 1; /* the last column is left out */
    int t = threadIdx.x, s = 0;
    for (int i = t; i < width; i += blockDim.x)
        s += in[i];
    part[t] = s;
    __syncthreads();
    for (int h = 32; h > 0; h >>= 1) {
        if (t < h)
            part[t] += part[t + h];
        __syncthreads();
    }
    if (t == 0)
        *out = part[0] * 1000 + width;
}

int main(void)
{
    int h[5 * 100], o[5], *d, *dout;
    for (int i = 0; i < 5 * 100; i++) h[i] = (i * 7) % 11;
    cudaMalloc(&d, sizeof h);
    cudaMalloc(&dout, sizeof o);
    cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice);
    row_total<<<5, 64>>>(d, dout, 100);
    cudaMemcpy(o, dout, sizeof o, cudaMemcpyDeviceToHost);
    for (int i = 0; i < 5; i++) printf("%d ", o[i]);
    printf("\n");
    return 0;
}
"""


@needs_clang
def test_parameters_moved_once_per_block_run_as_steps_of_the_block(tmp_path: Path) -> None:
    """Each thread of the block would move its own copy of ``in`` and ``out`` by the same
    amount: the block function moves its one copy once (it moved it once per thread, 64
    rows past the block's, before)."""
    t = tr(PARAM_STEPS)
    assert "barrier phase(s)" in t.remarks[0].message, t.remarks[0].message
    run = build_and_run(tmp_path, PARAM_STEPS)
    h = [(i * 7) % 11 for i in range(500)]
    assert run.stdout == " ".join(str(sum(h[b * 100:b * 100 + 99]) * 1000 + 99) for b in range(5)) + " \n"


BLOCK_SUMS = r"""
#include <stdio.h>
#include <cuda_runtime.h>
#define B 64

/* dynamic shared memory, the sum into an element chosen by a parameter */
__global__ void dyn_sum(const int *in, unsigned long long *out, int n, int slot)
{
    extern __shared__ unsigned long long acc[];
    int tid = threadIdx.x;
    int i = blockIdx.x * blockDim.x + tid;
    unsigned long long s = i < n ? (unsigned long long)in[i] * in[i] : 0;
    acc[tid] = s;
    __syncthreads();
    for (int k = blockDim.x / 2; k > 0; k /= 2) {
        if (tid < k)
            acc[tid] = acc[tid] + acc[tid + k];
        __syncthreads();
    }
    if (tid == 0)
        atomicAdd(&out[slot], acc[0]);
}

/* a constant start: the tree is the idiom's where the block has B threads */
__global__ void const_sum(const int *in, int *out, int *hits, int n)
{
    __shared__ int part[B];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    part[threadIdx.x] = i < n ? in[i] : 0;
    if (i < n && in[i] == 7)
        atomicAdd(hits, 1);
    __syncthreads();
    for (int s = B / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s)
            part[threadIdx.x] += part[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0)
        atomicAdd(out, part[0]);
}

int main(void)
{
    const int n = 1000;
    int h[1000], *d, *dc, hc[2];
    unsigned long long o[3], *dout;
    for (int i = 0; i < n; i++) h[i] = (i * 13) % 17;
    cudaMalloc(&d, sizeof h);
    cudaMalloc(&dout, sizeof o);
    cudaMalloc(&dc, sizeof hc);
    cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice);
    cudaMemset(dout, 0, sizeof o);
    cudaMemset(dc, 0, sizeof hc);
    dyn_sum<<<(n + 63) / 64, 64, 64 * sizeof(unsigned long long)>>>(d, dout, n, 1);
    dyn_sum<<<(n + 47) / 48, 48, 48 * sizeof(unsigned long long)>>>(d, dout, n, 2); /* not a power of two: the tree drops partials */
    const_sum<<<(n + B - 1) / B, B>>>(d, dc, dc + 1, n);
    cudaMemcpy(o, dout, sizeof o, cudaMemcpyDeviceToHost);
    cudaMemcpy(hc, dc, sizeof hc, cudaMemcpyDeviceToHost);
    printf("%llu %llu %llu %d %d\n", o[0], o[1], o[2], hc[0], hc[1]);
    return 0;
}
"""


def _block_sums_expected() -> str:
    h = [(i * 13) % 17 for i in range(1000)]

    def tree(block: int) -> int:
        total = 0
        for b in range((1000 + block - 1) // block):
            acc = [h[b * block + t] ** 2 if b * block + t < 1000 else 0 for t in range(block)]
            k = block // 2
            while k > 0:
                for t in range(k):
                    acc[t] += acc[t + k]
                k //= 2
            total += acc[0]
        return total

    return f"0 {tree(64)} {tree(48)} {sum(h)} {h.count(7)}\n"


@needs_clang
@pytest.mark.parametrize("language", ["c", "c++"])
def test_a_shared_memory_tree_ending_in_one_atomic_add_per_block_is_a_grid_reduction(tmp_path: Path,
                                                                                      language: str) -> None:
    """Cause 7's idiom: where the block is 1-D and a power of two in size, the kernel runs
    as a reduction(+) over its grid and one add (two launches, no phases); any other
    launch (48 threads: CUDA's tree drops a partial there) runs the phases, CUDA's result."""
    remarks = {r.message.split()[2]: r.message for r in tr(BLOCK_SUMS).remarks}
    assert "a reduction(+) over its launch grid" in remarks["dyn_sum"]
    assert "a reduction(+) over its launch grid" in remarks["const_sum"]
    run = build_and_run(tmp_path, BLOCK_SUMS, language=language)
    assert run.stdout == _block_sums_expected()
    assert sum(1 for name in gate.kernel_launches(run.stderr) if "dyn_sum" in name) == 2 + 1  # idiom twice, phases once


@pytest.mark.parametrize("change", [
    ("if (tid < k)", "if (tid < k && tid + k < n)"),  # a tree guarded by more than its half
    ("atomicAdd(&out[slot], acc[0]);", "atomicAdd(&out[blockIdx.x], acc[0]);"),  # an element per block
    ("acc[tid] = s;", "acc[tid] = s;\n    if (s > 3) return;"),  # a thread leaves before the barrier
    ("k /= 2", "k /= 3"),
    ("unsigned long long s = i < n ? (unsigned long long)in[i] * in[i] : 0;",
     "unsigned long long s = 0;\n    for (; i < n; i += blockDim.x * gridDim.x) s += in[i];"),
], ids=["guard", "per-block", "return", "third", "grid-stride"])
def test_other_trees_keep_their_phases(change: tuple[str, str]) -> None:
    src = BLOCK_SUMS.replace(*change)
    assert src != BLOCK_SUMS
    remarks = {r.message.split()[2]: r.message for r in tr(src).remarks}
    assert "reduction(+)" not in remarks["dyn_sum"] and "barrier phase(s)" in remarks["dyn_sum"]


THREAD_ARRAYS = r"""
#include <stdio.h>
#include <cuda_runtime.h>

/* llm.c's matmul shape: each thread keeps a small tile of sums (float vals[4][2] = {}) and
   an array it fills before a barrier (rmsnorm's registers), across the block's barriers. */
__global__ void tile_sums(const float *in, float *out, int rounds)
{
    __shared__ float row[64];
    int t = threadIdx.x;
    float vals[4][2] = {};
    float regs[3];
    for (int k = 0; k < 3; k++)
        regs[k] = in[blockIdx.x * 64 + t] * (k + 1);
    for (int r = 0; r < rounds; r++) {
        row[t] = in[blockIdx.x * 64 + (t + r) % 64];
        __syncthreads();
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 2; j++)
                vals[i][j] += row[(t + i * 2 + j) % 64];
        __syncthreads();
    }
    float s = 0.0f;
    for (int i = 0; i < 4; i++)
        s += vals[i][0] * 10.0f + vals[i][1];
    out[blockIdx.x * 64 + t] = s + regs[0] + regs[1] * 100.0f + regs[2];
}

int main(void)
{
    float h[2 * 64], o[2 * 64], *d, *dout;
    for (int i = 0; i < 2 * 64; i++) h[i] = (float)(i % 5);
    cudaMalloc((void **)&d, sizeof h);
    cudaMalloc((void **)&dout, sizeof o);
    cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice);
    tile_sums<<<2, 64>>>(d, dout, 3);
    cudaMemcpy(o, dout, sizeof o, cudaMemcpyDeviceToHost);
    for (int i = 0; i < 2 * 64; i++) printf("%g ", o[i]);
    printf("\n");
    return 0;
}
"""


@needs_clang
@pytest.mark.parametrize("language", ["c", "c++"])
def test_a_threads_arrays_live_across_barriers_one_copy_per_thread(tmp_path: Path, language: str) -> None:
    t = tr(THREAD_ARRAYS)
    assert "barrier phase(s)" in t.remarks[0].message, t.remarks[0].message
    assert "float vals__pcx[1024][4][2];" in t.text and "__builtin_memset(vals__pcx[pcx_t], 0" in t.text
    run = build_and_run(tmp_path, THREAD_ARRAYS, language=language)
    h = [float(i % 5) for i in range(128)]
    out = []
    for b in range(2):
        for th in range(64):
            vals = [[0.0, 0.0] for _ in range(4)]
            for r in range(3):
                row = [h[b * 64 + (x + r) % 64] for x in range(64)]
                for i in range(4):
                    for j in range(2):
                        vals[i][j] += row[(th + i * 2 + j) % 64]
            s = sum(vals[i][0] * 10.0 + vals[i][1] for i in range(4))
            x = h[b * 64 + th]
            out.append(s + x + 2 * x * 100.0 + 3 * x)
    assert run.stdout == " ".join(f"{v:g}" for v in out) + " \n"


BIT_INTRINSICS = r"""
#include <stdio.h>
#include <cuda_runtime.h>

constexpr int kValues = 6;          /* a file-scope constant the kernel reads (langford's shape) */
const unsigned int kSeed = 2654435761u;

__global__ void bits(const unsigned int *in, long long *out)
{
    int i = threadIdx.x;
    if (i >= kValues) return;
    unsigned int x = in[i] * kSeed;
    unsigned long long w = ((unsigned long long)x << 29) ^ in[i];
    long long *o = out + 16 * i;
    o[0] = __popc(x); o[1] = __popcll(w); o[2] = __ffs((int)x); o[3] = __ffsll((long long)w);
    o[4] = __clz((int)in[i]); o[5] = __clzll((long long)in[i]); o[6] = __brev(x); o[7] = __brevll(w) >> 1;
    o[8] = __mul24(-(int)(x & 0x7fffff), 77); o[9] = __umul24(x, x >> 3); o[10] = __mulhi((int)x, -7);
    o[11] = __umulhi(x, x); o[12] = __sad((int)in[i], 40, 3u); o[13] = __byte_perm(x, x ^ 0xdeadbeefu, 0x5140);
    o[14] = __float_as_uint(__uint_as_float(x)); o[15] = __umul64hi(w, w) >> 1;
}

int main(void)
{
    unsigned int h[6] = {0, 1, 37, 4096, 123456789, 0x80000000u};
    long long o[6 * 16];
    unsigned int *d;
    long long *dout;
    cudaMalloc((void **)&d, sizeof h);
    cudaMalloc((void **)&dout, sizeof o);
    cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice);
    bits<<<1, 32>>>(d, dout);
    cudaMemcpy(o, dout, sizeof o, cudaMemcpyDeviceToHost);
    for (int i = 0; i < 6 * 16; i++) printf("%lld ", o[i]);
    printf("\n");
    return 0;
}
"""


def _bits_expected() -> str:
    m32, m64 = (1 << 32) - 1, (1 << 64) - 1

    def s32(v: int) -> int:
        v &= m32
        return v - (1 << 32) if v >> 31 else v

    def s64(v: int) -> int:
        v &= m64
        return v - (1 << 64) if v >> 63 else v

    def ffs(v: int, bits: int) -> int:
        v &= (1 << bits) - 1
        return (v & -v).bit_length()

    def clz(v: int, bits: int) -> int:
        v &= (1 << bits) - 1
        return bits - v.bit_length()

    def brev(v: int, bits: int) -> int:
        return int(format(v & ((1 << bits) - 1), f"0{bits}b")[::-1], 2)

    def s24(v: int) -> int:
        v &= 0xFFFFFF
        return v - (1 << 24) if v >> 23 else v

    out = []
    for v in (0, 1, 37, 4096, 123456789, 0x80000000):
        x = (v * 2654435761) & m32
        w = ((x << 29) ^ v) & m64
        yv = x ^ 0xDEADBEEF
        both = (yv << 32) | x
        perm = sum(((both >> (8 * ((0x5140 >> (4 * i)) & 7))) & 0xFF) << (8 * i) for i in range(4))
        out += [bin(x).count("1"), bin(w).count("1"), ffs(x, 32), ffs(w, 64), clz(v, 32), clz(v, 64), brev(x, 32),
                brev(w, 64) >> 1, s32(s24(-(x & 0x7FFFFF)) * s24(77)), ((x & 0xFFFFFF) * ((x >> 3) & 0xFFFFFF)) & m32,
                s32((s32(x) * -7) >> 32), (x * x) >> 32, (abs(s32(v) - 40) + 3) & m32, perm, x, ((w * w) >> 64) >> 1]
    return " ".join(map(str, out)) + " \n"


@needs_clang
def test_integer_intrinsics_and_file_scope_constants_run(tmp_path: Path) -> None:
    run = build_and_run(tmp_path, BIT_INTRINSICS, language="c++")
    assert run.stdout == _bits_expected()


SHADOWED = r"""
#include <stdio.h>
#include <cuda_runtime.h>

/* HeCBench fwt's shape: pos is a thread's loop counter, then a local of the whole kernel,
   then another loop's counter; i0 is declared in two loops, each living across a barrier. */
__global__ void butterfly(float *data, int log2N)
{
    extern __shared__ float s[];
    const int N = 1 << log2N;
    float *d = data + (blockIdx.x << log2N);
    for (int pos = threadIdx.x; pos < N; pos += blockDim.x)
        s[pos] = d[pos];
    const int pos = threadIdx.x;
    for (int stride = N >> 1; stride > 0; stride >>= 1) {
        int lo = pos & (stride - 1);
        int i0 = ((pos - lo) << 1) + lo;
        __syncthreads();
        float a = s[i0], b = s[i0 + stride];
        s[i0] = a + b;
        s[i0 + stride] = a - b;
    }
    for (int rep = 0; rep < 2; rep++) {
        int i0 = (pos * 2 + rep) % N;
        __syncthreads();
        s[i0] *= 0.5f;
    }
    __syncthreads();
    for (int pos = threadIdx.x; pos < N; pos += blockDim.x)
        d[pos] = s[pos];
}

int main(void)
{
    float h[2 * 16], *dd;
    for (int i = 0; i < 32; i++) h[i] = (float)((i * 5) % 7);
    cudaMalloc((void **)&dd, sizeof h);
    cudaMemcpy(dd, h, sizeof h, cudaMemcpyHostToDevice);
    butterfly<<<2, 8, 16 * sizeof(float)>>>(dd, 4);
    cudaMemcpy(h, dd, sizeof h, cudaMemcpyDeviceToHost);
    for (int i = 0; i < 32; i++) printf("%g ", h[i]);
    printf("\n");
    return 0;
}
"""


def _butterfly_expected() -> str:
    out = []
    for b in range(2):
        s = [float(((b * 16 + i) * 5) % 7) for i in range(16)]
        stride = 8
        while stride > 0:
            for pos in range(8):
                lo = pos & (stride - 1)
                i0 = ((pos - lo) << 1) + lo
                a, c = s[i0], s[i0 + stride]
                s[i0], s[i0 + stride] = a + c, a - c
            stride >>= 1
        for rep in range(2):
            for pos in range(8):
                s[(pos * 2 + rep) % 16] *= 0.5
        out += s
    return " ".join(f"{v:g}" for v in out) + " \n"


@needs_clang
def test_names_declared_again_in_other_scopes_keep_the_phase_split(tmp_path: Path) -> None:
    """A local read in a later phase and recomputable (pos = threadIdx.x) is declared again
    in each phase that reads it, whatever other loops call their counters; locals of two
    loops with the same name (i0) share one copy per thread, their scopes never overlapping
    (fwt and scatterAdd ran one parallel region of 512 threads per block for it)."""
    t = tr(SHADOWED)
    assert "barrier phase(s)" in t.remarks[0].message, t.remarks[0].message
    run = build_and_run(tmp_path, SHADOWED)
    assert run.stdout == _butterfly_expected()


WARPS = r"""
#include <stdio.h>
#include <cuda_runtime.h>
#define LANE (threadIdx.x & (warpSize - 1))

__global__ void lanes(const int *in, int *out)
{
    int t = threadIdx.x;
    int x = in[blockIdx.x * blockDim.x + t];
    int down = __shfl_down_sync(0xffffffff, x, 3);
    int seg = __shfl_xor_sync(0xffffffff, x, 2, 8);
    int bc;
    bc = __shfl_sync(0xffffffff, x, LANE + 5, 16);
    __syncwarp();
    unsigned int b = __ballot_sync(0xffffffff, x & 1);
    out[blockIdx.x * blockDim.x + t] = down * 1000000 + seg * 10000 + bc * 100 + (int)(b % 97);
}

int main(void)
{
    int h[128], o[128], *d, *dout;
    for (int i = 0; i < 128; i++) h[i] = (i * 37 + 11) % 100;
    cudaMalloc(&d, sizeof h);
    cudaMalloc(&dout, sizeof o);
    cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice);
    lanes<<<2, 64>>>(d, dout);
    cudaMemcpy(o, dout, sizeof o, cudaMemcpyDeviceToHost);
    for (int i = 0; i < 128; i++) printf("%d ", o[i]);
    printf("\n");
    return 0;
}
"""


def _warp_lanes_expected() -> list[int]:
    """What CUDA computes for WARPS: a warp is 32 consecutive threads of a 64-thread block."""
    out = []
    x = [(i * 37 + 11) % 100 for i in range(128)]
    for i in range(128):
        lane, base = i % 32, i - i % 32
        down = x[base + lane + 3] if lane + 3 < 32 else x[i]
        seg = x[i - lane % 8 + ((lane % 8) ^ 2)]
        bc = x[i - lane % 16 + (lane + 5) % 16]
        ballot = sum(1 << k for k in range(32) if x[base + k] & 1)
        out.append(down * 1000000 + seg * 10000 + bc * 100 + ballot % 97)
    return out


@needs_clang
@pytest.mark.parametrize("language", ["c", "c++"])
def test_warp_functions_run_as_exchanges_between_phases(tmp_path: Path, language: str) -> None:
    """__shfl_down/xor (with a width)/sync, __syncwarp, __ballot_sync, warpSize behind the
    program's macro: each thread reads its source lane's value, as on a GPU."""
    run = build_and_run(tmp_path, WARPS, language=language)
    assert run.stdout == " ".join(map(str, _warp_lanes_expected())) + " \n"
    assert "lanes" in " ".join(gate.kernel_launches(run.stderr))


MACRO_ALLOCATIONS = r"""
#include <cstdio>
#include <cuda_runtime.h>
#define ALLOC(p, n) cudaMalloc(&p, (n) * sizeof(*p))
#define MANAGED(p, n) cudaMallocManaged(&p, (n) * sizeof(*p))
__global__ void twice(float *v, int n) { int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) v[i] *= 2.0f; }
int main()
{
    float *d, *m, h[64];
    ALLOC(d, 64);
    MANAGED(m, 64);
    for (int i = 0; i < 64; i++) { h[i] = (float)i; m[i] = 1.0f + i; }
    cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice);
    twice<<<2, 32>>>(d, 64);
    twice<<<2, 32>>>(m, 64);
    cudaDeviceSynchronize();
    cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost);
    std::printf("%.1f %.1f\n", h[63], m[63]);
    return 0;
}
"""


@needs_clang
def test_allocations_in_the_programs_macros_build_as_cxx(tmp_path: Path) -> None:
    """A macro body is pasted untranslated: cudaMalloc(&p, n) with a float ** must still
    compile as C++ (CUDA's template overloads, in the prologue)."""
    run = build_and_run(tmp_path, MACRO_ALLOCATIONS, language="c++")
    assert run.stdout == "126.0 128.0\n"


@needs_clang
@pytest.mark.parametrize("language", ["c", "c++"])
def test_forceinline_helper_in_a_shared_header_links(tmp_path: Path, language: str) -> None:
    """__forceinline__ is inline: two sources including its header must not both define it."""
    from pcx_driver.cuda.project import translate_project

    (tmp_path / "sq.cuh").write_text("#pragma once\n__device__ __forceinline__ float sq(float x) { return x * x; }\n"
                                     "static __device__ __forceinline__ float half(float x) { return x / 2; }\n")
    for name, scale in (("a", "2.0f"), ("b", "3.0f")):
        (tmp_path / f"{name}.cu").write_text(
            '#include "sq.cuh"\n'
            f"__global__ void k_{name}(float *v) {{ v[threadIdx.x] = half(sq(v[threadIdx.x])) * {scale}; }}\n"
            f"void run_{name}(float *d) {{ k_{name}<<<1, 4>>>(d); }}\n")
    (tmp_path / "main.cu").write_text(
        "#include <stdio.h>\nvoid run_a(float *d);\nvoid run_b(float *d);\n"
        "int main(void) { float h[4] = {1, 2, 3, 4}, *d; cudaMalloc(&d, sizeof h);\n"
        "  cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice); run_a(d); run_b(d);\n"
        "  cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost); printf(\"%.1f %.1f\\n\", h[0], h[3]); return 0; }\n")
    res = translate_project([str(tmp_path / f) for f in ("main.cu", "a.cu", "b.cu")], str(tmp_path / "out"),
                            base=str(tmp_path))
    assert res.ok, [r.format() for r in res.remarks]
    for path, content in res.files.items():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(content)
    compiler = "clang-19" if language == "c" else "clang++-19"
    b = subprocess.run([compiler, *FLAGS, *(["-x", "c++"] if language == "c++" else []), *res.sources, "-o", "app", "-lm"],
                       cwd=tmp_path, capture_output=True, text=True)
    assert b.returncode == 0, b.stderr
    run = gate.run_program([str(tmp_path / "app")], cwd=str(tmp_path), env=gate.VALIDATION_ENV, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    # a: sq/2*2 = x^2; b: (x^2)^2/2*3
    assert run.stdout == f"{1.5:.1f} {16 ** 2 / 2 * 3:.1f}\n"


TEMPLATES = r"""
#include <cstdio>
#include <cuda_runtime.h>
template <typename T>
__global__ void fill(T *v, T x, int n);          /* template prototype, defined after main */

template <typename T, int B>
__global__ void block_sum(const T *v, T *out, int n)
{
    __shared__ T buf[B];
    int i = blockIdx.x * B + threadIdx.x;
    buf[threadIdx.x] = i < n ? v[i] : T(0);
    __syncthreads();
    for (int s = B / 2; s > 0; s /= 2) {
        if ((int)threadIdx.x < s) buf[threadIdx.x] += buf[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) atomicAdd(out, buf[0]);
}

int main()
{
    const int n = 1000;
    double *d, *s, h = 0;
    cudaMalloc(&d, n * sizeof(double));
    cudaMalloc(&s, sizeof(double));
    cudaMemset(s, 0, sizeof(double));
    fill<<<(n + 127) / 128, 128>>>(d, 1.5, n);               /* T deduced */
    block_sum<double, 64><<<(n + 63) / 64, 64>>>(d, s, n);  /* explicit arguments */
    cudaMemcpy(&h, s, sizeof h, cudaMemcpyDeviceToHost);
    std::printf("%.1f\n", h);
    return 0;
}

template <typename T>
__global__ void fill(T *v, T x, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) v[i] = x;
}
"""


@needs_clang
def test_template_kernels_run_as_cxx(tmp_path: Path) -> None:
    run = build_and_run(tmp_path, TEMPLATES, language="c++")
    assert run.stdout == "1500.0\n"
    launched = " ".join(gate.kernel_launches(run.stderr))
    assert "4fill" in launched and "9block_sum" in launched


# --------------------------------------------------------------------------- the command


def test_cli_translate_writes_output(tmp_path: Path) -> None:
    src = tmp_path / "app.cu"
    src.write_text(KERNEL.format(body="    if (i < n) v[i] = 1.0f;"))
    runner = CliRunner()
    res = runner.invoke(translate_cmd, [str(src), "-o", str(tmp_path / "app.c")])
    assert res.exit_code == 0, res.output
    assert "#pragma omp target teams distribute parallel for" in (tmp_path / "app.c").read_text()
    assert "[PCX400]" in res.output  # remarks on stderr (mixed into output by CliRunner)


def test_cli_translate_refusal_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "bad.cu"
    src.write_text(KERNEL.format(body="    v[i] = 1.0f + __shfl_sync(0xffffffffu, v[i], 0);"))
    res = CliRunner().invoke(translate_cmd, [str(src), "-o", str(tmp_path / "bad.c")])
    assert res.exit_code == 1
    assert f"{src}:4:19: error: warp function __shfl_sync cannot be translated here: __shfl_sync must be the whole " \
           "right-hand side of an assignment or declaration, or __syncwarp() a statement of its own [PCX401]" in res.output
    assert not (tmp_path / "bad.c").exists()


@needs_clang
@pytest.mark.skipif(not PCX.exists(), reason="pcx is not installed in .venv")
def test_installed_pcx_translate_then_clang_c(tmp_path: Path) -> None:
    shutil.copy(ROOT / "examples" / "cuda" / "vector_add.cu", tmp_path / "app.cu")
    p = subprocess.run([str(PCX), "translate", "app.cu", "-o", "app.c"], cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "app.cu:15:1: remark: CUDA kernel vector_add translated" in p.stderr
    b = subprocess.run(["clang-19", *FLAGS, "-std=c11", "-Wall", "-Wextra", "-Werror", "app.c", "-o", "app", "-lm"],
                       cwd=tmp_path, capture_output=True, text=True)
    assert b.returncode == 0, b.stderr
    run = gate.run_program([str(tmp_path / "app")], cwd=str(tmp_path), env=gate.VALIDATION_ENV, timeout=60)
    assert run.stdout == (ROOT / "examples" / "cuda" / "vector_add.expected").read_text()
    assert any("vector_add_l15" in k for k in gate.kernel_launches(run.stderr))


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
def test_translation_compiles_with_gcc(tmp_path: Path) -> None:
    """Portable OpenMP: gcc 12 accepts the emitted directives (atomic compare included)."""
    (tmp_path / "a.c").write_text(tr(ATOMICS).text)
    (tmp_path / "b.c").write_text(tr(BLOCK2D).text)
    for f in ("a.c", "b.c"):
        p = subprocess.run(["gcc", "-fopenmp", "-foffload=disable", "-c", f, "-o", os.devnull], cwd=tmp_path,
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr


@needs_clang
def test_translation_compiles_for_nvptx(tmp_path: Path) -> None:
    """A real GPU target: the same text compiles for sm_90 (barriers in declare-target
    functions, atomic compare, is_device_ptr)."""
    (tmp_path / "b.c").write_text(tr(BLOCK2D).text)
    p = subprocess.run(["clang-19", "-O1", "-fopenmp", "-fopenmp-targets=nvptx64-nvidia-cuda", "--offload-arch=sm_90",
                        "--libomptarget-nvptx-bc-path=/usr/lib/llvm-19/lib", "-c", "b.c", "-o", "b.o"],
                       cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


# --------------------------------------------------------------------------- programs of several files

PROJECT = {
    "src/main.cu": r"""
#include <stdio.h>
#include "kernels.cuh"
#include <shared_defs.h>
int main(void)
{
    float h[N], *d;
    for (int i = 0; i < N; i++) h[i] = (float)i;
    cudaCheck(cudaMalloc(&d, sizeof h));
    cudaCheck(cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice));
    twice<<<1, N>>>(d);
    add_offset(d);
    cudaCheck(cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost));
    printf("%.1f %.1f %d\n", h[0], h[N - 1], SHARED_ANSWER);
    return 0;
}
""",
    "src/offset.cu": r"""
#include "kernels.cuh"
__constant__ float offset_value;
__global__ void add(float *v) { v[threadIdx.x] += offset_value + bump(); }
void add_offset(float *d)
{
    float o = 0.5f;
    cudaCheck(cudaMemcpyToSymbol(offset_value, &o, sizeof o));
    add<<<1, N>>>(d);
}
""",
    "src/kernels.cuh": r"""
#pragma once
#include <cuda_runtime.h>
#include "check.h"
#define N 32
static __device__ float bump(void) { return 1.0f; }
static __global__ void twice(float *v) { v[threadIdx.x] *= 2.0f; }
void add_offset(float *d);
""",
    "src/check.h": r"""
#pragma once
#include <stdlib.h>
static void cudaCheck(cudaError_t e) { if (e != cudaSuccess) { printf("%s\n", cudaGetErrorString(e)); exit(1); } }
""",
    "include/shared_defs.h": "#define SHARED_ANSWER 42\n",
}


def _write_project(root: Path) -> None:
    for name, text in PROJECT.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


@needs_clang
@pytest.mark.skipif(not PCX.exists(), reason="pcx is not installed in .venv")
def test_program_of_several_files_translates_into_a_directory(tmp_path: Path) -> None:
    _write_project(tmp_path)
    p = subprocess.run([str(PCX), "translate", "src/main.cu", "src/offset.cu", "-I", "include", "-o", "out/"],
                       cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    out = tmp_path / "out"
    names = sorted(str(f.relative_to(out)) for f in out.rglob("*") if f.is_file())
    # the common directory of the files is the project root: src/ and include/ keep their places
    assert names == ["include/shared_defs.h", "pcx_cuda_runtime.h", "src/check.h", "src/kernels.cuh",
                     "src/main.c", "src/offset.c"]
    runtime = (out / "pcx_cuda_runtime.h").read_text()
    assert runtime.startswith("#ifndef PCX_CUDA_RUNTIME_H\n#define PCX_CUDA_RUNTIME_H\n")
    for f in ("src/main.c", "src/offset.c", "src/kernels.cuh"):
        text = (out / f).read_text()
        assert text.startswith('#include "../pcx_cuda_runtime.h"\n') and "end of prologue" not in text
    # plain headers are copied as they are; an -I header is respelled relative to its includer
    assert (out / "src/check.h").read_text() == PROJECT["src/check.h"]
    assert '#include "../include/shared_defs.h"' in (out / "src/main.c").read_text()
    assert "src/kernels.cuh:7:1: remark: CUDA kernel twice translated" in p.stderr
    b = subprocess.run(["clang-19", *FLAGS, "-Wall", "-Werror", "-Wno-unused-function", "out/src/main.c",
                        "out/src/offset.c", "-o", "app", "-lm"], cwd=tmp_path, capture_output=True, text=True)
    assert b.returncode == 0, b.stderr
    run = gate.run_program([str(tmp_path / "app")], cwd=str(tmp_path), env=gate.VALIDATION_ENV, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout == f"{1.5:.1f} {31 * 2 + 1.5:.1f} 42\n"
    launched = " ".join(gate.kernel_launches(run.stderr))
    assert "twice_l7" in launched and "add_l4" in launched


HEADER_HELPERS = {
    "reduce.cuh": r"""#pragma once
#define LANES 32
template <typename T> struct Add {
    __device__ static T init() { return T(0); }
    __device__ static T op(const T &a, const T &b) { return a + b; }
};
template <typename T> struct Max {
    __device__ static T init() { return T(-1e30); }
    __device__ static T op(const T &a, const T &b) { return a > b ? a : b; }
};

template <template <class> class F, typename T>
__device__ T warp_all(T v)
{
    for (int d = LANES / 2; d > 0; d >>= 1) {
        T other = __shfl_xor_sync(0xffffffff, v, d);
        v = F<T>::op(v, other);
    }
    return v;
}

/* rmsnorm's shape: a block reduction in a header, its __shared__ array sized by a constexpr */
template <template <class> class F, typename T>
__device__ T block_all(const T &v)
{
    constexpr int MAX_WARPS = 1024 / LANES;
    __shared__ T part[MAX_WARPS];
    const int warps = (blockDim.x + LANES - 1) / LANES;
    T w = warp_all<F, T>(v);
    if (threadIdx.x % LANES == 0)
        part[threadIdx.x / LANES] = w;
    __syncthreads();
    if (threadIdx.x / LANES == 0) {
        w = (threadIdx.x < warps) ? part[threadIdx.x] : F<T>::init();
        w = warp_all<F, T>(w);
        if (threadIdx.x == 0)
            part[0] = w;
    }
    __syncthreads();
    return part[0];
}
""",
    "main.cu": r"""#include <stdio.h>
#include <cuda_runtime.h>
#include "reduce.cuh"

__global__ void stats(const float *in, float *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float x = i < n ? in[i] : 0.0f;
    float total = block_all<Add, float>(x);
    float top = block_all<Max, float>(x);
    if (threadIdx.x == 0) {
        out[2 * blockIdx.x] = total;
        out[2 * blockIdx.x + 1] = top;
    }
}

int main(void)
{
    const int n = 300;
    float h[300], o[6], *d, *dout;
    for (int i = 0; i < n; i++) h[i] = (float)((i * 7) % 23);
    cudaMalloc((void **)&d, sizeof h);
    cudaMalloc((void **)&dout, sizeof o);
    cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice);
    stats<<<3, 128>>>(d, dout, n);
    cudaMemcpy(o, dout, sizeof o, cudaMemcpyDeviceToHost);
    for (int b = 0; b < 6; b++) printf("%g ", o[b]);
    printf("\n");
    return 0;
}
""",
}


@needs_clang
@pytest.mark.skipif(not PCX.exists(), reason="pcx is not installed in .venv")
def test_cooperative_helpers_of_a_header_are_inlined_into_the_units_kernels(tmp_path: Path) -> None:
    """HeCBench rmsnorm's shape: a block reduction template (template template parameter,
    a constexpr-sized __shared__ array) in a header; the unit inlines it, the header keeps
    its other definitions and loses the helpers, which have no form of their own."""
    for name, body in HEADER_HELPERS.items():
        (tmp_path / name).write_text(body)
    p = subprocess.run([str(PCX), "translate", "main.cu", "-o", "out/"], cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "barrier phase(s)" in p.stderr
    header = (tmp_path / "out" / "reduce.cuh").read_text()
    assert "struct Add" in header and "block_all" not in header and "__shfl_xor_sync" not in header
    b = subprocess.run(["clang++-19", *FLAGS, "out/main.cpp", "-o", "app", "-lm"], cwd=tmp_path, capture_output=True,
                       text=True)
    assert b.returncode == 0, b.stderr
    run = gate.run_program([str(tmp_path / "app")], cwd=str(tmp_path), env=gate.VALIDATION_ENV, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    h = [float((i * 7) % 23) for i in range(300)]
    blocks = [h[b * 128:(b + 1) * 128] + [0.0] * (128 - len(h[b * 128:(b + 1) * 128])) for b in range(3)]
    assert run.stdout == " ".join(f"{sum(x):g} {max(x):g}" for x in blocks) + " \n"
    # a call the unit cannot inline (a ?: branch) is refused where it is, not in the header
    (tmp_path / "main.cu").write_text(HEADER_HELPERS["main.cu"].replace(
        "float top = block_all<Max, float>(x);", "float top = n > 0 ? block_all<Max, float>(x) : 0.0f;"))
    p = subprocess.run([str(PCX), "translate", "main.cu", "-o", "out2/"], cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 1
    assert "main.cu:10:25: error: block_all, a __device__ helper of a header" in p.stderr, p.stderr


@pytest.mark.parametrize("out", ["out/", "app.c"])
def test_a_quoted_include_found_nowhere_is_a_warning(tmp_path: Path, out: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """HeCBench layernorm includes rmsnorm's headers through -I: without it the translation
    said nothing and the build failed on the missing header."""
    (tmp_path / "app.cu").write_text('#include "utils.cuh"\n__global__ void k(float *v) { v[0] = 1.0f; }\n'
                                     "int main(void) { return 0; }\n")
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(translate_cmd, ["app.cu", "-o", out])
    assert res.exit_code == 0
    assert 'app.cu:1:1: warning: #include "utils.cuh" is found neither next to app.cu nor in an -I directory' in res.output


def test_single_file_translation_refuses_a_header_with_cuda_code(tmp_path: Path) -> None:
    _write_project(tmp_path)
    res = CliRunner().invoke(translate_cmd, [str(tmp_path / "src/offset.cu"), "-o", str(tmp_path / "offset.c")])
    assert res.exit_code == 1
    assert "offset.cu:2:1: error: header " in res.output and "kernels.cuh holds CUDA code" in res.output
    assert "[PCX408]" in res.output
    assert not (tmp_path / "offset.c").exists()


def test_single_file_translation_knows_the_names_its_headers_define(tmp_path: Path) -> None:
    """A __constant__ declared in a plain-looking header is a cudaMemcpyToSymbol target."""
    (tmp_path / "tab.h").write_text("#pragma once\nextern int unused_here;\n#define cudaCheckAll(x) (x)\n")
    (tmp_path / "app.cu").write_text('#include "tab.h"\nint main(void) { return cudaCheckAll(0); }\n')
    res = CliRunner().invoke(translate_cmd, [str(tmp_path / "app.cu"), "-o", str(tmp_path / "app.c")])
    assert res.exit_code == 0, res.output


def test_cxx_sources_of_a_program_become_cpp(tmp_path: Path) -> None:
    from pcx_driver.cuda.project import translate_project

    (tmp_path / "t.cuh").write_text("template <typename T> __global__ void fill(T *v, T x) { v[threadIdx.x] = x; }\n")
    (tmp_path / "a.cu").write_text('#include "t.cuh"\nint main() { return 0; }\n')
    (tmp_path / "b.cu").write_text("#include <stdio.h>\nint helper(void) { return 1; }\n")
    tr = translate_project([str(tmp_path / "a.cu"), str(tmp_path / "b.cu")], str(tmp_path / "o"), base=str(tmp_path))
    assert tr.ok
    assert sorted(Path(p).name for p in tr.sources) == ["a.cpp", "b.c"]


@needs_clang
def test_a_variable_template_in_a_header_is_one_device_table_per_type(tmp_path: Path) -> None:
    """``template <typename T> __constant__ T scale[4];`` declared in a header and filled from
    the .cu with cudaMemcpyToSymbol(scale<T>, ...): clang-19 gives variable templates no
    device definition, so each instantiation must still reach the device (a wrong table
    prints 0s)."""
    from pcx_driver.cuda.project import translate_project

    (tmp_path / "tab.cuh").write_text(
        "#pragma once\n#include <cuda_runtime.h>\n"
        "template <typename T>\n__constant__ T scale[4];\n"
        "template <typename T>\n__global__ void apply(T *v) { v[threadIdx.x] *= scale<T>[threadIdx.x % 4]; }\n")
    (tmp_path / "app.cu").write_text(r"""
#include <stdio.h>
#include "tab.cuh"
template <typename T>
static double run(T first)
{
    T table[4] = {first, 2, 3, 4}, h[8], *d;
    for (int i = 0; i < 8; i++) h[i] = (T)(i + 1);
    cudaMalloc((void **)&d, sizeof h);
    cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice);
    cudaMemcpyToSymbol(scale<T>, table, sizeof table);
    apply<T><<<1, 8>>>(d);
    cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost);
    cudaFree(d);
    double s = 0;
    for (int i = 0; i < 8; i++) s += h[i];
    return s;
}
int main(void)
{
    double a = run<double>(0.5), b = run<int>(10);
    printf("%.1f %.1f\n", a, b);
    return 0;
}
""")
    tr = translate_project([str(tmp_path / "app.cu")], str(tmp_path / "o"), base=str(tmp_path))
    assert tr.ok, [r.format() for r in tr.remarks]
    assert sorted(Path(p).name for p in tr.sources) == ["app.cpp"]
    for path, content in tr.files.items():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(content)
    b = subprocess.run(["clang++-19", *FLAGS, "-Wall", "-Werror", "-Wno-unused-function", "o/app.cpp", "-o", "app"],
                       cwd=tmp_path, capture_output=True, text=True)
    assert b.returncode == 0, b.stderr
    run = gate.run_program([str(tmp_path / "app")], cwd=str(tmp_path), env=gate.VALIDATION_ENV, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    # double: 1*0.5 + 2*2 + 3*3 + 4*4 + 5*0.5 + 6*2 + 7*3 + 8*4; int: the same with 10
    assert run.stdout == f"{0.5 + 4 + 9 + 16 + 2.5 + 12 + 21 + 32:.1f} {10 + 4 + 9 + 16 + 50 + 12 + 21 + 32:.1f}\n"
    assert len(gate.kernel_launches(run.stderr)) >= 2


STRIDED = r"""
#include <stdio.h>
#include <cuda_runtime.h>
#define B 64

__global__ void strided(const int *in, long long *sums, int *firsts, int n)
{
    __shared__ long long part[B];
    int t = threadIdx.x;
    long long mine = 0;
    int first = -1;
    for (int i = blockIdx.x * B + t; i < n; i = i + gridDim.x * B) {
        mine += (long long)in[i] * (i % 5 + 1);
        for (int k = 0; k < 8; k++)
            if (in[(i + k) % n] == 3) { first = first < 0 ? i : first; break; }
    }
    part[t] = mine;
    __syncthreads();
    for (int s = B / 2; s > 0; s >>= 1) {
        if (t < s)
            part[t] += part[t + s];
        __syncthreads();
    }
    if (t == 0)
        sums[blockIdx.x] = part[0];
    firsts[blockIdx.x * B + t] = first;
}

int main(void)
{
    const int n = 1000, nb = 3;
    int h[1000], f[3 * B], *d, *df;
    long long s[3], *ds;
    for (int i = 0; i < n; i++) h[i] = (i * 7 + 3) % 11;
    cudaMalloc(&d, sizeof h);
    cudaMalloc(&ds, sizeof s);
    cudaMalloc(&df, sizeof f);
    cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice);
    strided<<<nb, B>>>(d, ds, df, n);
    cudaMemcpy(s, ds, sizeof s, cudaMemcpyDeviceToHost);
    cudaMemcpy(f, df, sizeof f, cudaMemcpyDeviceToHost);
    printf("%lld %lld %lld |", s[0], s[1], s[2]);
    for (int i = 0; i < nb * B; i++) printf(" %d", f[i]);
    printf("\n");
    return 0;
}
"""


@needs_clang
@pytest.mark.parametrize("language", ["c", "c++"])
def test_strided_thread_loops_run_in_lockstep_where_one_thread_runs_the_block(tmp_path: Path, language: str) -> None:
    """A block-stride loop whose trip count differs between threads (1000 elements over
    192 threads), with a per-thread sum and an inner loop that breaks: the block function
    one thread runs takes its iterations thread after thread, round by round (each
    thread's counter and running sum kept per thread); the team-parallel form keeps it
    a plain loop per thread."""
    run = build_and_run(tmp_path, STRIDED, language=language)
    n, nb, block = 1000, 3, 64
    h = [(i * 7 + 3) % 11 for i in range(n)]
    sums, firsts = [], []
    for b in range(nb):
        total = 0
        for t in range(block):
            first = -1
            for i in range(b * block + t, n, nb * block):
                total += h[i] * (i % 5 + 1)
                if first < 0 and any(h[(i + k) % n] == 3 for k in range(8)):
                    first = i
            firsts.append(first)
        sums.append(total)
    assert run.stdout == " ".join(map(str, sums)) + " |" + "".join(f" {x}" for x in firsts) + "\n"
    text = tr(STRIDED).text
    serial = text[text.index("strided__pcx_block_serial"):]
    parallel = text[text.index("strided__pcx_block("):text.index("strided__pcx_block_serial")]
    assert "i__pcx[pcx_t] = i__pcx[pcx_t] + gridDim.x * B;" in serial and "long long mine__pcx[1024];" in serial
    assert "pcx_on" not in parallel and "i__pcx" not in parallel


GRID_STRIDE = r"""
#include <stdio.h>
#include <cuda_runtime.h>

__global__ void scale(int n, float a, const float *x, float *y, int *count)
{
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    int stride = blockDim.x * gridDim.x;
    if (gid >= n / 2 + 5) return;
    int mine = 0;
    for (int i = gid; i < n; i += stride) {
        if (threadIdx.y == 0)
            y[i] = a * x[i] + y[i];
        mine++;
    }
    atomicAdd(count, mine);
    if (threadIdx.y == 1)
        atomicAdd(count + 1, 1);
}

int main(void)
{
    const int n = 1000;
    float hx[1000], hy[1000], *x, *y;
    int hc[2] = {0, 0}, *c;
    for (int i = 0; i < n; i++) { hx[i] = (float)(i % 17); hy[i] = (float)(i % 5); }
    cudaMalloc(&x, sizeof hx);
    cudaMalloc(&y, sizeof hy);
    cudaMalloc(&c, sizeof hc);
    cudaMemcpy(x, hx, sizeof hx, cudaMemcpyHostToDevice);
    cudaMemcpy(y, hy, sizeof hy, cudaMemcpyHostToDevice);
    cudaMemcpy(c, hc, sizeof hc, cudaMemcpyHostToDevice);
    scale<<<3, 64>>>(n, 2.0f, x, y, c);
    dim3 block(32, 2);
    scale<<<2, block>>>(n, 0.5f, x, y, c);
    cudaMemcpy(hy, y, sizeof hy, cudaMemcpyDeviceToHost);
    cudaMemcpy(hc, c, sizeof hc, cudaMemcpyDeviceToHost);
    double s = 0;
    for (int i = 0; i < n; i++) s += hy[i] * (i % 7 + 1);
    printf("%.1f %d %d\n", s, hc[0], hc[1]);
    return 0;
}
"""


@needs_clang
@pytest.mark.parametrize("language", ["c", "c++"])
def test_grid_stride_loops_run_in_lockstep_where_teams_have_no_threads(tmp_path: Path, language: str) -> None:
    """A grid-stride loop after an early return, with a per-thread count, launched once
    1-D and once with 2-D blocks (each threadIdx.y row walks the x threads' elements, as in
    CUDA; row 0 writes them): where the device gives a team no threads (the host device) the blocks run in
    parallel, each taking its threads' iterations round by round."""
    run = build_and_run(tmp_path, GRID_STRIDE, language=language)
    n = 1000
    x = [float(i % 17) for i in range(n)]
    y = [float(i % 5) for i in range(n)]
    count = [0, 0]
    for a, blocks, bx, by in ((2.0, 3, 64, 1), (0.5, 2, 32, 2)):
        stride = blocks * bx
        for b in range(blocks):
            for ty in range(by):
                for tx in range(bx):
                    gid = b * bx + tx
                    if gid >= n // 2 + 5:
                        continue
                    for i in range(gid, n, stride):
                        if ty == 0:
                            y[i] = a * x[i] + y[i]  # exact in float: small integers and halves
                        count[0] += 1
                    count[1] += ty == 1
    assert run.stdout == f"{sum(v * (i % 7 + 1) for i, v in enumerate(y)):.1f} {count[0]} {count[1]}\n"
    assert "scale" in " ".join(gate.kernel_launches(run.stderr))
    t = tr(GRID_STRIDE)
    assert "scale__pcx_block_serial" in t.text and "i__pcx[pcx_t] += stride;" in t.text
    assert "strided loop in lockstep" in t.remarks[0].message


EARLY_RETURN = r"""
#include <stdio.h>
#include <cuda_runtime.h>
#define B 32
__global__ void seg(const int *in, int *out, int nseg, int per)
{
    __shared__ int part[B];
    int blockId = blockIdx.y * gridDim.x + blockIdx.x;
    if (blockId >= nseg)
        return;
    blockId *= per;
    int t = threadIdx.x;
    part[t] = in[blockId * B + t];
    __syncthreads();
    for (int s = B / 2; s > 0; s >>= 1) {
        if (t < s)
            part[t] += part[t + s];
        __syncthreads();
    }
    if (t == 0)
        out[blockId / per] = part[0] + blockId;
}
int main(void)
{
    int h[8 * B], o[8], *d, *dout;
    for (int i = 0; i < 8 * B; i++) h[i] = i % 13;
    for (int i = 0; i < 8; i++) o[i] = -1;
    cudaMalloc(&d, sizeof h);
    cudaMalloc(&dout, sizeof o);
    cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice);
    cudaMemcpy(dout, o, sizeof o, cudaMemcpyHostToDevice);
    dim3 grid(4, 2);
    seg<<<grid, B>>>(d, dout, 5, 1);
    cudaMemcpy(o, dout, sizeof o, cudaMemcpyDeviceToHost);
    for (int i = 0; i < 8; i++) printf("%d ", o[i]);
    printf("\n");
    return 0;
}
"""


@needs_clang
@pytest.mark.parametrize("language", ["c", "c++"])
def test_an_early_return_on_a_block_index_local_written_later_leaves_with_its_block(tmp_path: Path,
                                                                                    language: str) -> None:
    """SimpleMOC's shape (issue 19, cause 7): ``blockId`` is computed from blockIdx, tested
    by an early return before the barriers, and rewritten after it.  At the return it still
    holds its uniform value, so the whole block leaves together: the return runs once per
    block with that value, and the kernel is split at its barriers (before: PCX407)."""
    run = build_and_run(tmp_path, EARLY_RETURN, language=language)
    h = [i % 13 for i in range(8 * 32)]
    expected = [sum(h[b * 32:(b + 1) * 32]) + b if b < 5 else -1 for b in range(8)]
    assert run.stdout == " ".join(map(str, expected)) + " \n"
    assert "if ((blockIdx.y * gridDim.x + blockIdx.x) >= nseg)" in tr(EARLY_RETURN).text
    # Written before the test, the local no longer holds its uniform value there: the
    # return is a thread's, and the phases after skip the threads that left.
    moved = EARLY_RETURN.replace("    if (blockId >= nseg)\n        return;\n    blockId *= per;",
                                 "    blockId *= per;\n    if (blockId >= nseg)\n        return;")
    assert moved != EARLY_RETURN
    assert "pcx_left[pcx_t] = 1" in tr(moved).text
    assert build_and_run(tmp_path, moved, name="moved", language=language).stdout == run.stdout


@needs_clang
def test_an_early_return_that_the_whole_block_takes_is_kept_where_the_kernel_is_not_split(tmp_path: Path) -> None:
    """The same kernel with a ``#define`` in it is not split at its barriers: it runs one
    parallel region per block, where the early return is no hazard either, since every
    thread of the block takes it or none does."""
    src = EARLY_RETURN.replace("    blockId *= per;", "#define PCX_UNUSED 1\n    blockId *= per;")
    assert src != EARLY_RETURN
    t = tr(src)
    assert "not split at its barriers: the kernel has a preproc def" in t.remarks[0].message
    run = build_and_run(tmp_path, src)
    h = [i % 13 for i in range(8 * 32)]
    assert run.stdout == " ".join(str(sum(h[b * 32:(b + 1) * 32]) + b if b < 5 else -1) for b in range(8)) + " \n"


CONST_POINTER_PARAMETER = r"""
#include <cstdio>
#include <cuda_runtime.h>
__global__ void scale(const float *__restrict__ const in, float *__restrict__ const out, const int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = 2.0f * in[i] + 1.0f;
}
int main()
{
    const int n = 1000;
    float h[1000], r[1000];
    for (int i = 0; i < n; i++) h[i] = (float)i;
    float *din, *dout;
    cudaMalloc(&din, n * sizeof(float));
    cudaMalloc(&dout, n * sizeof(float));
    cudaMemcpy(din, h, n * sizeof(float), cudaMemcpyHostToDevice);
    scale<<<(n + 127) / 128, 128>>>(din, dout, n);
    cudaMemcpy(r, dout, n * sizeof(float), cudaMemcpyDeviceToHost);
    printf("%.1f %.1f\n", r[0], r[n - 1]);
    cudaFree(din);
    cudaFree(dout);
    return 0;
}
"""


@pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang++-19 not installed")
def test_a_pointer_parameter_declared_const_itself_translates(tmp_path: Path) -> None:
    # ``float *__restrict__ const out`` (HeCBench ddbp, interleave): the launcher points
    # each pointer parameter at its device twin, and an assignment to a const one did not
    # compile; the parameter's own const is dropped (it is no part of the function's type)
    run = build_and_run(tmp_path, CONST_POINTER_PARAMETER, language="cpp")
    assert run.stdout == "1.0 1999.0\n"
