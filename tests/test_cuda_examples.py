"""The CUDA example set (examples/cuda): valid CUDA, translated, built, run, validated.

Each run example must (1) compile with ``nvcc -c -arch=sm_90`` (it is real CUDA), (2) be
translated by ``pcx_driver.cuda``, built with clang-19 for the host device, run under
OMP_TARGET_OFFLOAD=MANDATORY with the gate's strict environment, launch every kernel on
the device (LIBOMPTARGET_INFO launch lines carrying the kernel's .cu line), and print
what its independent serial C twin prints (numbers within rtol 1e-5); (3) have an
``.expected`` file equal to its serial twin's output.  Each refused example must be
valid CUDA too and be refused with the listed IDs at the listed lines.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pcx_driver import gate
from pcx_driver.cuda.evaluate import Example, discover, evaluate, launched_as, missing_toolkit_header, nvcc_compile, nvcc_path
from pcx_driver.model import RunOutput

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "examples" / "cuda"
EXAMPLES = discover(EXAMPLES_DIR)
RUN = [e for e in EXAMPLES if not e.must_refuse]
REFUSE = [e for e in EXAMPLES if e.must_refuse]
VENV_BIN = ROOT / ".venv" / "bin"

needs_clang = pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 is not installed")


def _ids(e: Example) -> str:
    return e.name


def test_example_set_covers_the_issue() -> None:
    names = {e.name for e in EXAMPLES}
    for required in ("vector_add", "saxpy_gridstride", "stencil2d", "matmul_tiled", "block_reduce",
                     "histogram", "transpose", "jacobi_solver", "device_constant", "grid3d"):
        assert required in names
    assert len(RUN) >= 10
    refused_ids = {i for e in REFUSE for i, _ in e.refusals}
    assert {"PCX401", "PCX402", "PCX403"} <= refused_ids


@pytest.mark.parametrize("example", EXAMPLES, ids=_ids)
def test_example_is_valid_cuda(example: Example, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if nvcc_path() is None:
        pytest.skip("nvcc is not installed (expected at /usr/local/bin/nvcc): cannot prove the example is valid CUDA")
    # nvcc takes ~2 s a file; a verdict is cached under the hash of the exact source and
    # nvcc flags, so any edit of the example is compiled again.
    content = b"".join(p.read_bytes() for p in sorted(example.source.parent.iterdir()) if p.is_file()) \
        if example.program else example.source.read_bytes()
    key = "pcx-cuda/nvcc/" + hashlib.sha256(content + nvcc_path().encode()).hexdigest()
    if request.config.cache.get(key, False):
        return
    ok, err = nvcc_compile(example, tmp_path)
    if not ok and (header := missing_toolkit_header(err)):
        pytest.skip(f"this nvcc has no <{header}> (a toolkit library installed apart: set PCX_NVCC_INCLUDE to "
                    "its include directory)")
    assert ok, f"nvcc rejected {example.source.name}:\n{err}"
    request.config.cache.set(key, True)


@needs_clang
@pytest.mark.parametrize("example", RUN, ids=_ids)
def test_example_matches_serial_twin(example: Example, tmp_path: Path) -> None:
    res = evaluate(example, tmp_path)
    assert res.translated and res.compiled, res.detail
    assert res.validated, f"{example.name}: {res.detail}\n--- got:\n{res.stdout}--- expected:\n{example.expected}"
    # Every kernel launched through libomptarget, named after its line in the .cu (mangled
    # where the translation is C++); a Thrust program's algorithms launched too.
    assert res.kernels or any("pcx_thrust" in name for name in res.launched), res.launched
    for kernel, line in res.kernels.items():
        assert any(launched_as(kernel, line, name) for name in res.launched), (kernel, res.launched)


def test_launch_entry_names() -> None:
    assert launched_as("add", 6, "__omp_offloading_fe00_20c025_add_l6")
    assert launched_as("reduce", 13, "__omp_offloading_fe00_20c025__Z6reduce4dim3S_mPKfPfi_l13_1")
    assert not launched_as("add", 6, "__omp_offloading_fe00_20c025_add_l60")
    assert not launched_as("add", 6, "__omp_offloading_fe00_20c025__ZL10cudaMemsetPvim_l6")


@pytest.mark.parametrize("example", REFUSE, ids=_ids)
def test_example_is_refused(example: Example, tmp_path: Path) -> None:
    res = evaluate(example, tmp_path)
    assert res.refused_as_expected, res.detail


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
@pytest.mark.parametrize("example", RUN, ids=_ids)
def test_expected_output_is_the_serial_twins(example: Example, tmp_path: Path) -> None:
    twin = example.twin
    assert twin.exists(), f"{example.name} has no serial twin"
    exe = tmp_path / "serial"
    subprocess.run(["gcc", "-O1", str(twin), "-o", str(exe), "-lm"], check=True, capture_output=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True, timeout=60).stdout
    assert out == example.expected


@needs_clang
@pytest.mark.parametrize("name", ["managed_scale", "atomics_compact"])
def test_example_builds_as_cxx(name: str, tmp_path: Path) -> None:
    """The driver compiles translations as C++ (clang++-19 -x c++): the same text must work."""
    example = next(e for e in RUN if e.name == name)
    res = evaluate(example, tmp_path, language="c++")
    assert res.validated, res.detail


# ---------------------------------------------------------------------- pcx-cc


def _pcx_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def _run_strict(exe: Path, cwd: Path) -> RunOutput:
    return gate.run_program([str(exe)], cwd=str(cwd), env={**gate.VALIDATION_ENV, "KMP_BLOCKTIME": "0"})


@needs_clang
@pytest.mark.skipif(not (VENV_BIN / "pcx-cc").exists(), reason="pcx-cc is not installed in .venv")
def test_pcx_cc_compiles_a_cu_file(tmp_path: Path) -> None:
    src = tmp_path / "matmul_tiled.cu"
    shutil.copy(EXAMPLES_DIR / "matmul_tiled.cu", src)
    p = subprocess.run([str(VENV_BIN / "pcx-cc"), "-O2", "matmul_tiled.cu", "-o", "app"], cwd=tmp_path,
                       env=_pcx_env(), capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    run = _run_strict(tmp_path / "app", tmp_path)
    expected = (EXAMPLES_DIR / "matmul_tiled.expected").read_text()
    verdict = gate.compare_runs(RunOutput([], 0, expected, "", 0.0), run, rtol=1e-5, atol=1e-6)
    assert verdict.passed, verdict.reasons
    assert any("matmul_tiled" in k for k in gate.kernel_launches(run.stderr))


MIXED_CU = r"""
#include <cuda_runtime.h>
__global__ void scale(float *v, float s, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) v[i] *= s;
}
extern "C" void scale_on_device(float *h, float s, int n)
{
    float *d;
    cudaMalloc(&d, n * sizeof(float));
    cudaMemcpy(d, h, n * sizeof(float), cudaMemcpyHostToDevice);
    scale<<<(n + 63) / 64, 64>>>(d, s, n);
    cudaMemcpy(h, d, n * sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(d);
}
"""

MIXED_MAIN = r"""
#include <stdio.h>
void scale_on_device(float *h, float s, int n);
int main(void)
{
    float v[100];
    double sum = 0.0;
    for (int i = 0; i < 100; i++) v[i] = (float)i;
    scale_on_device(v, 3.0f, 100);
    for (int i = 0; i < 100; i++) sum += v[i];
    printf("sum=%.1f\n", sum);
    return 0;
}
"""


@needs_clang
@pytest.mark.skipif(not (VENV_BIN / "pcx-cc").exists(), reason="pcx-cc is not installed in .venv")
def test_pcx_cc_mixed_c_and_cu_build(tmp_path: Path) -> None:
    (tmp_path / "kern.cu").write_text(MIXED_CU)
    (tmp_path / "main.c").write_text(MIXED_MAIN)
    p = subprocess.run([str(VENV_BIN / "pcx-cc"), "-O2", "main.c", "kern.cu", "-o", "app"], cwd=tmp_path,
                       env=_pcx_env(), capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    run = _run_strict(tmp_path / "app", tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout == f"sum={3 * 4950:.1f}\n"
    assert any("scale" in k for k in gate.kernel_launches(run.stderr))


@needs_clang
@pytest.mark.skipif(not (VENV_BIN / "pcx-cc").exists(), reason="pcx-cc is not installed in .venv")
def test_pcx_cc_refuses_a_warp_shuffle(tmp_path: Path) -> None:
    src = tmp_path / "warp_shuffle.cu"
    shutil.copy(EXAMPLES_DIR / "refused" / "warp_shuffle.cu", src)
    p = subprocess.run([str(VENV_BIN / "pcx-cc"), "-c", "warp_shuffle.cu", "-o", "ws.o"], cwd=tmp_path,
                       env=_pcx_env(), capture_output=True, text=True)
    assert p.returncode == 1
    assert ("warp_shuffle.cu:10:14: error: warp function __shfl_down_sync in a __device__ function that is not inlined "
            "into its kernel (called where it may not run, or from host code) is not supported; "
            "write it in the kernel [PCX401]") in p.stderr
    assert not (tmp_path / "ws.o").exists()
