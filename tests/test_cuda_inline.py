"""Cooperative device helpers (warp functions, barriers, the launch geometry inside a
``__device__`` function) are inlined into their kernels before translation (cuda/inline.py);
examples/cuda/warp_helpers.cu runs the whole path against its serial twin."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pcx_driver import gate
from pcx_driver.cuda.inline import inline_cooperative_helpers
from pcx_driver.cuda.translate import translate_source
from pcx_driver.diagnostics import level_of
from pcx_driver.model import Language, SourceUnit

FLAGS = ["-O2", "-fopenmp", "-fopenmp-targets=x86_64-pc-linux-gnu", "-gline-tables-only",
         "-Wl,-rpath,/usr/lib/llvm-19/lib", "-Wall", "-Werror", "-Wno-unused-function"]

WARP_SUM = """\
template <typename T>
__device__ T warp_sum(T v)
{
    // a butterfly over the warp
    for (int d = 16; d > 0; d >>= 1)
        v += __shfl_xor_sync(0xffffffff, v, d);
    return v;
}
"""


def inline(src: str) -> str:
    return inline_cooperative_helpers(src.encode()).decode()


def test_a_helper_call_becomes_its_body_on_the_same_line() -> None:
    src = WARP_SUM + """\
__global__ void k(float *out)
{
    float v = out[threadIdx.x];
    float total = warp_sum(v) * 2.0f;
    out[threadIdx.x] = total;
}
"""
    got = inline(src)
    lines = got.split("\n")
    assert len(lines) == len(src.split("\n"))  # every later line keeps its number
    assert lines[8:10] == ["__global__ void k(float *out)", "{"]
    # T deduced from the caller's `float v`; the helper's locals renamed; the value returned
    # assigned to a fresh local that the statement then reads
    assert lines[11] == ("    float pcx_ret__pcx_in1; { float v__pcx_in1 = (v); for (int d__pcx_in1 = 16; d__pcx_in1 > 0; "
                         "d__pcx_in1 >>= 1) v__pcx_in1 += __shfl_xor_sync(0xffffffff, v__pcx_in1, d__pcx_in1); "
                         "pcx_ret__pcx_in1 = (v__pcx_in1); } float total = pcx_ret__pcx_in1 * 2.0f;")
    assert "warp_sum" not in got  # no call is left: the helper is blanked out, its lines kept


def test_calls_it_cannot_inline_are_left_to_the_refusal() -> None:
    host_call = WARP_SUM + "int main(void) { return (int)warp_sum(1.0f); }\n"
    assert inline(host_call) == host_call  # called from host code: nothing to inline into
    shadowed = """\
__constant__ int scale;
__device__ int scaled(int v) { return __shfl_sync(0xffffffff, v, 0) * scale; }
__global__ void k(int *out) { int scale = 3; out[threadIdx.x] = scaled(scale); }
"""
    assert inline(shadowed) == shadowed  # the kernel's `scale` would hide the global the helper reads
    short_circuit = WARP_SUM + """\
__global__ void k(float *out) { float v = out[threadIdx.x]; if (v > 0 && warp_sum(v) > 1) out[0] = v; }
"""
    assert inline(short_circuit) == short_circuit  # the call does not always run
    t = translate_source(SourceUnit(path="app.cu", text=short_circuit, language=Language.CUDA))
    assert not t.ok and any(r.id == "PCX401" and r.line == 6 for r in t.remarks)


def test_reference_parameters_name_the_callers_variables() -> None:
    src = """\
__device__ void min_max(float &lo, float &hi)
{
    for (int m = 16; m > 0; m >>= 1) {
        auto a = __shfl_xor_sync(0xffffffff, lo, m);
        lo = fminf(lo, a);
        hi = fmaxf(hi, __shfl_xor_sync(0xffffffff, hi, m));
    }
}
__global__ void k(float *v) { float lo = v[threadIdx.x], hi = lo; min_max(lo, hi); v[threadIdx.x] = hi - lo; }
"""
    line = inline(src).split("\n")[8]
    assert "{ for (int m__pcx_in1 = 16;" in line and "auto a__pcx_in1 = __shfl_xor_sync(0xffffffff, lo, m__pcx_in1);" in line
    assert "lo = fminf(lo, a__pcx_in1);" in line and "min_max(" not in line


@pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang-19 is not installed")
def test_nested_helpers_with_barriers_run_as_the_serial_loop(tmp_path: Path) -> None:
    """A block sum (a template with a non-type parameter and a value parameter it writes)
    calling the warp sum twice around __syncthreads(), used in an expression; each block's
    sum of 0..N-1 times its index, checked against the closed form."""
    src = WARP_SUM + r"""
template <typename T, int WARPS>
__device__ T block_sum(T v, T *scratch)
{
    v = warp_sum(v);
    if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
    __syncthreads();
    T s = 0;
    for (int w = 0; w < WARPS; w++) s += scratch[w];
    return s;
}
__global__ void sums(const int *in, long *out)
{
    __shared__ long part[4];
    long mine = (long)in[blockIdx.x * blockDim.x + threadIdx.x] * blockIdx.x;
    long total = 1 + block_sum<long, 4>(mine, part);
    if (threadIdx.x == 0) out[blockIdx.x] = total;
}
#include <stdio.h>
int main(void)
{
    int h[8 * 128];
    long o[8], *dout;
    int *din;
    for (int i = 0; i < 8 * 128; i++) h[i] = i % 128;
    cudaMalloc((void **)&din, sizeof h);
    cudaMalloc((void **)&dout, sizeof o);
    cudaMemcpy(din, h, sizeof h, cudaMemcpyHostToDevice);
    sums<<<8, 128>>>(din, dout);
    cudaMemcpy(o, dout, sizeof o, cudaMemcpyDeviceToHost);
    for (int b = 0; b < 8; b++) printf("%ld ", o[b]);
    printf("\n");
    return 0;
}
"""
    (tmp_path / "app.cu").write_text(src)
    t = translate_source(SourceUnit(path="app.cu", text=src, language=Language.CUDA))
    assert t.ok, [r.format() for r in t.remarks]
    assert t.cxx
    (tmp_path / "app.cpp").write_text(t.text)
    p = subprocess.run(["clang++-19", *FLAGS, "app.cpp", "-o", "app"], cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    run = gate.run_program([str(tmp_path / "app")], cwd=str(tmp_path), env={**gate.VALIDATION_ENV, "KMP_BLOCKTIME": "0"},
                           timeout=60)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout == " ".join(str(1 + b * 127 * 128 // 2) for b in range(8)) + " \n"
    assert any("sums" in name for name in gate.kernel_launches(run.stderr))


def test_a_headers_helpers_are_its_includers_to_inline(tmp_path: Path) -> None:
    """A cooperative helper has no form of its own: a header loses it, and each file that
    includes the header inlines its calls; a call that file cannot inline (its template
    argument is deduced from no variable) is refused there, at the call."""
    from pcx_driver.cuda.project import translate_project

    (tmp_path / "sum.cuh").write_text("#pragma once\n" + WARP_SUM)
    (tmp_path / "app.cu").write_text('#include "sum.cuh"\n__global__ void k(float *v) { v[0] = warp_sum(v[threadIdx.x]); }\n'
                                     "int main(void) { return 0; }\n")
    res = translate_project([str(tmp_path / "app.cu")], str(tmp_path / "out"), base=str(tmp_path))
    assert not res.ok
    assert [(r.id, r.file, r.line) for r in res.remarks if level_of(r.id) == "error"] == [("PCX401", "app.cu", 2)]
    assert "warp_sum" not in res.files[str(tmp_path / "out" / "sum.cuh")]
    (tmp_path / "app.cu").write_text('#include "sum.cuh"\n__global__ void k(float *v) { float x = v[threadIdx.x]; '
                                     "v[0] = warp_sum(x); }\nint main(void) { return 0; }\n")
    assert translate_project([str(tmp_path / "app.cu")], str(tmp_path / "out"), base=str(tmp_path)).ok
