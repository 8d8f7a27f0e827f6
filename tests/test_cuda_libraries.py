"""CUDA toolkit libraries in translated programs: cuRAND's device API (XORWOW: the jump
tables, the names kept and refused, a C++ program that seeds, skips and draws) and the
cuBLAS subset (every name defined, argument checks, a C++ program).  The C programs are
examples/cuda/curand_monte_carlo.cu (its twin written from the documented generator with
GF(2) matrices) and examples/cuda/cublas_gemm.cu."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from pcx_driver.cuda import curand_runtime as cr
from pcx_driver.cuda import tables
from pcx_driver.cuda.cublas_runtime import CUBLAS_RUNTIME
from test_cuda_translate import build_and_run, needs_clang, tr


@pytest.mark.parametrize("runtime, names", [(cr.curand_runtime(), tables.CURAND_NAMES),
                                            (CUBLAS_RUNTIME, tables.CUBLAS_NAMES)], ids=["cuRAND", "cuBLAS"])
def test_each_runtime_defines_exactly_the_names_it_is_said_to(runtime: str, names: frozenset[str]) -> None:
    code = runtime.split("\n", 1)[1]  # after its #line, which names the runtime's file
    defined = set(re.findall(r"\b(?:cublas|CUBLAS_|curand|skipahead)\w*", code))
    assert defined == set(names)


def test_a_jump_polynomial_is_that_many_steps() -> None:
    rng = random.Random(7)
    v = [rng.getrandbits(32) for _ in range(5)]
    stepped = list(v)
    for steps in range(1, 400):
        stepped = cr.xorshift_step(stepped)
        assert cr.apply_jump(cr.jump_polynomial(steps), v) == stepped, steps


def _matrix_power_of_two(log2_steps: int) -> list[int]:
    """One step as 160 columns (160-bit ints), squared ``log2_steps`` times: the way
    cuRAND's own tables are made, independent of the polynomial route."""
    def to_int(words: list[int]) -> int:
        return sum(w << (32 * i) for i, w in enumerate(words))

    def to_words(x: int) -> list[int]:
        return [(x >> (32 * i)) & 0xFFFFFFFF for i in range(5)]

    cols = [to_int(cr.xorshift_step(to_words(1 << k))) for k in range(160)]
    for _ in range(log2_steps):
        def apply(x: int) -> int:
            acc = 0
            for k in range(160):
                if (x >> k) & 1:
                    acc ^= cols[k]
            return acc
        cols = [apply(c) for c in cols]
    return cols


def test_a_subsequence_is_two_to_the_67_steps() -> None:
    cols = _matrix_power_of_two(cr.SUBSEQUENCE_LOG2)
    v = [123456789, 362436069, 521288629, 88675123, 5783321]
    x = sum(w << (32 * i) for i, w in enumerate(v))
    by_matrix = 0
    for k in range(160):
        if (x >> k) & 1:
            by_matrix ^= cols[k]
    by_polynomial = cr.apply_jump(cr.power_of_x(cr.SUBSEQUENCE_LOG2), v)
    assert by_polynomial == [(by_matrix >> (32 * i)) & 0xFFFFFFFF for i in range(5)]


def test_the_characteristic_polynomial_has_degree_160() -> None:
    assert cr.characteristic_polynomial().bit_length() - 1 == 160


@pytest.mark.parametrize("use, name", [
    ("curandStatePhilox4_32_10_t s; curand_init(1, 0, 0, &s);", "curandStatePhilox4_32_10_t"),
    ("curandState s; curand_init(1, 0, 0, &s); v[0] = curand_poisson(&s, 4.0);", "curand_poisson"),
    ("curandState s; curand_init(1, 0, 0, &s); float2 g = curand_normal2(&s); v[0] = g.x;", "curand_normal2"),
])
def test_cuRAND_beyond_the_xorwow_device_api_is_refused(use: str, name: str) -> None:
    src = ("#include <curand_kernel.h>\n__global__ void k(float *v)\n{\n    " + use + "\n}\n"
           "int main(void) { return 0; }\n")
    t = tr(src)
    assert not t.ok
    refusals = [r for r in t.remarks if r.id == "PCX406"]
    assert refusals and refusals[0].line == 4 and f"cuRAND {name} has no translation" in refusals[0].message


def test_the_host_api_header_is_refused_at_its_include() -> None:
    t = tr("#include <curand.h>\nint main(void) { curandGenerator_t g; return 0; }\n")
    assert not t.ok and t.remarks[0].id == "PCX406" and t.remarks[0].line == 1 and "cuRAND" in t.remarks[0].message


CXX_PROGRAM = r"""
#include <cstdio>
#include <vector>
#include <curand_kernel.h>

template <typename T>
__global__ void draw(curandState *states, T *out, int n, int per)
{
    int id = blockIdx.x * blockDim.x + threadIdx.x;
    if (id >= n) return;
    curandState s;
    curand_init(99ull, id, 5ull, &s);
    skipahead_sequence(2ull, &s);
    T sum = 0;
    for (int k = 0; k < per; k++) sum += (T)(curand(&s) % 1000u);
    out[id] = sum;
    states[id] = s;
}

int main()
{
    const int n = 300, per = 40;
    curandState *d_states;
    long long *d_out;
    cudaMalloc(&d_states, n * sizeof(curandState));
    cudaMalloc(&d_out, n * sizeof(long long));
    draw<long long><<<(n + 63) / 64, 64>>>(d_states, d_out, n, per);
    std::vector<long long> out(n);
    cudaMemcpy(out.data(), d_out, n * sizeof(long long), cudaMemcpyDeviceToHost);
    long long total = 0;
    for (long long x : out) total += x;
    std::printf("%lld %lld %lld\n", out[0], out[n - 1], total);
    return 0;
}
"""


def _cxx_expected() -> str:
    """The same draws from the Python model: thread i starts at subsequence i + 2, offset 5."""
    seed = 99
    s0, s1 = (seed & 0xFFFFFFFF) ^ 0xAAD26B49, (seed >> 32) ^ 0xF7DCEFDD
    t0, t1 = (1099087573 * s0) & 0xFFFFFFFF, (2591861531 * s1) & 0xFFFFFFFF
    d0 = (6615241 + t1 + t0 + 362437 * 5) & 0xFFFFFFFF
    v = [(123456789 + t0) & 0xFFFFFFFF, 362436069 ^ t0, (521288629 + t1) & 0xFFFFFFFF, 88675123 ^ t1,
         (5783321 + t0) & 0xFFFFFFFF]
    v = cr.apply_jump(cr.jump_polynomial(5), v)
    subsequence = cr.power_of_x(cr.SUBSEQUENCE_LOG2)
    v = cr.apply_jump(subsequence, cr.apply_jump(subsequence, v))
    out = []
    for _ in range(300):
        d, w, total = d0, list(v), 0
        for _ in range(40):
            w = cr.xorshift_step(w)
            d = (d + 362437) & 0xFFFFFFFF
            total += ((w[4] + d) & 0xFFFFFFFF) % 1000
        out.append(total)
        v = cr.apply_jump(subsequence, v)
    return f"{out[0]} {out[-1]} {sum(out)}\n"


@needs_clang
def test_a_cxx_program_seeds_skips_and_draws_on_the_device(tmp_path: Path) -> None:
    run = build_and_run(tmp_path, CXX_PROGRAM, language="c++")
    assert run.stdout == _cxx_expected()


CUBLAS_CXX = r"""
#include <cstdio>
#include <vector>
#include <cublas_v2.h>

int main()
{
    const int m = 3, n = 4, k = 2;
    std::vector<double> a = {1, 2, 3, 4, 5, 6};          // m x k, column-major
    std::vector<double> b = {1, 0, 2, 1, 0, 3, 1, 1};    // n x k, column-major (used transposed)
    std::vector<double> c(m * n, 7.0);
    double *da, *db, *dc;
    cudaMalloc(&da, a.size() * sizeof(double));
    cudaMalloc(&db, b.size() * sizeof(double));
    cudaMalloc(&dc, c.size() * sizeof(double));
    cudaMemcpy(da, a.data(), a.size() * sizeof(double), cudaMemcpyHostToDevice);
    cudaMemcpy(db, b.data(), b.size() * sizeof(double), cudaMemcpyHostToDevice);
    cudaMemcpy(dc, c.data(), c.size() * sizeof(double), cudaMemcpyHostToDevice);
    cublasHandle_t h;
    cublasCreate(&h);
    const double one = 1.0, zero = 0.0;
    cublasStatus_t bad = cublasDgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, m, n, k, &one, da, m - 1, db, n, &zero, dc, m);
    cublasStatus_t ok = cublasDgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, m, n, k, &one, da, m, db, n, &zero, dc, m);
    cudaMemcpy(c.data(), dc, c.size() * sizeof(double), cudaMemcpyDeviceToHost);
    std::printf("%d %d %s", (int)bad, (int)ok, cublasGetStatusString(bad));
    for (double x : c) std::printf(" %g", x);
    std::printf("\n");
    cublasDestroy(h);
    return 0;
}
"""


@needs_clang
def test_cublas_checks_its_arguments_and_multiplies_in_cxx(tmp_path: Path) -> None:
    """A leading dimension below the rows is CUBLAS_STATUS_INVALID_VALUE (7) and touches
    nothing; C = A B^T with beta 0 never reads C's old values."""
    run = build_and_run(tmp_path, CUBLAS_CXX, language="c++")
    a = [[1, 4], [2, 5], [3, 6]]
    b = [[1, 0], [0, 3], [2, 1], [1, 1]]
    c = [sum(a[i][l] * b[j][l] for l in range(2)) for j in range(4) for i in range(3)]
    assert run.stdout == "7 0 CUBLAS_STATUS_INVALID_VALUE " + " ".join(f"{x:g}" for x in c) + "\n"
