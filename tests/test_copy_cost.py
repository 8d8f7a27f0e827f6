"""What a launch copies is part of what it must pay for (issue 16: no plan explodes).

NPB's LU at class W ran past 120 s against 3.8 s serial under static mode.  Two shapes:

* ``jacld``, called once per plane from another file, maps its four 5x5 blocks per cell
  ``tofrom`` at every call, 11,300 work for 227 KB.  A kernel that maps its own data now
  runs on the device only where its work is at least ``--pcx-min-work`` plus one unit per
  16 bytes its maps copy (``workguard.copy_cost``), in its ``if(target:)`` guard.
* ``rhs``'s data region held four small kernels launched once per ``(k, i)`` beside three
  launched once per ``k`` with 30 times their work: the region's guard averaged the seven
  alike, and 1.2 million launches of ~300 work went to the device.  Each kernel's estimate
  now counts as often as it launches in one run of the region (``workguard.launches_in``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

BIN = Path(__file__).resolve().parent.parent / ".venv" / "bin"
CLANG = shutil.which("clang-19")
needs_clang = pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
VALIDATION = {"LIBOMPTARGET_MEMORY_MANAGER_THRESHOLD": "0", "MALLOC_PERTURB_": "165", "OMP_NUM_THREADS": "2",
              "OMP_TARGET_OFFLOAD": "MANDATORY", "LIBOMPTARGET_INFO": "16"}

BLOCKS = r"""
void blocks(int n, int k, double (*d)[5][5], const double *u)
{
    for (int j = 1; j < n - 1; j++)
        for (int m = 0; m < 5; m++)
            d[j][m][m] = u[k * n + j] * (m + 1);
}
"""

PLANES = r"""
#include <stdio.h>
#include <stdlib.h>
void blocks(int n, int k, double (*d)[5][5], const double *u);
int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3000, planes = 40;
    double (*d)[5][5] = calloc((size_t)n, sizeof *d);
    double *u = malloc(sizeof(double) * n * planes);
    for (int i = 0; i < n * planes; i++)
        u[i] = i % 17;
    double s = 0.0;
    for (int k = 0; k < planes; k++) {
        blocks(n, k, d, u);
        s += d[n / 2][2][2] + d[1][4][4];
    }
    printf("%.1f\n", s);
    return 0;
}
"""


def _static(tmp: Path, sources: list[str], exe: str) -> tuple[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    emit = tmp / "emit"
    r = subprocess.run([str(BIN / "pcx-cc"), "--pcx-mode=static", "--pcx-offload-target=x86_64-pc-linux-gnu",
                        "--pcx-remarks", f"--pcx-emit={emit}", "-O2", "-gline-tables-only", *sources, "-o", exe],
                       cwd=tmp, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    return "".join(p.read_text() for p in sorted(emit.rglob("*.c"))), r.stderr


def _run(tmp: Path, exe: str, args: list[str], env: dict[str, str] | None = None) -> tuple[str, list[str]]:
    r = subprocess.run([str(tmp / exe), *args], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, **(env or {})))
    assert r.returncode == 0, r.stderr
    return r.stdout, [line.split("kernel ")[1].split()[0] for line in r.stderr.splitlines() if "Launching kernel" in line]


@needs_clang
def test_a_kernel_that_copies_more_than_it_works_runs_as_written(tmp_path: Path) -> None:
    (tmp_path / "lib.c").write_text(BLOCKS)
    (tmp_path / "main.c").write_text(PLANES)
    text, remarks = _static(tmp_path, ["lib.c", "main.c"], "prog")
    # d's rows both ways (25 doubles each: 400 bytes, 25 units) and a double of u per cell
    assert "if(target: (double)(n - 2) * 11 >= 1000 + 25.5 * (double)(n - 2))" in text
    assert "plus what its maps copy at each launch (25.5 * (double)(n - 2))" in remarks
    subprocess.run([CLANG, "-O2", "lib.c", "main.c", "-o", "serial"], cwd=tmp_path, check=True, timeout=120)
    for args in ([], ["20000"]):
        serial, _ = _run(tmp_path, "serial", args)
        out, launched = _run(tmp_path, "prog", args, VALIDATION)
        assert out == serial and not [k for k in launched if "blocks" in k], (args, launched)


FLUXES = r"""
#include <stdio.h>
#include <stdlib.h>
#define M 5
static double u[40][40][40][M], r[40][40][40][M];
int main(int argc, char **argv)
{
    int nz = argc > 1 ? atoi(argv[1]) : 33;
    double flux[40][M];
    for (int k = 0; k < nz; k++)
        for (int j = 0; j < nz; j++)
            for (int i = 0; i < nz; i++)
                for (int m = 0; m < M; m++) {
                    u[k][j][i][m] = (k + 2 * j + 3 * i + m) % 13;
                    r[k][j][i][m] = 0.0;
                }
    for (int k = 1; k < nz - 1; k++) {
        for (int i = 1; i < nz - 1; i++) {
            for (int j = 0; j < nz; j++)                         /* FLUX */
                for (int m = 0; m < M; m++)
                    flux[j][m] = u[k][j][i][m] * 0.5;
            for (int j = 1; j < nz - 1; j++)                     /* DIFF */
                for (int m = 0; m < M; m++)
                    r[k][j][i][m] += flux[j + 1][m] - flux[j - 1][m];
        }
        for (int j = 1; j < nz - 1; j++)                         /* PLANE */
            for (int i = 1; i < nz - 1; i++)
                for (int m = 0; m < M; m++)
                    r[k][j][i][m] = r[k][j][i][m] * 0.25 + u[k][j][i][m] * u[k][j][i][(m + 1) % M]
                                    - u[k][j - 1][i][m] * 0.125 + u[k][j + 1][i][m] * 0.125;
    }
    double s = 0.0;
    for (int k = 0; k < nz; k++)
        for (int j = 0; j < nz; j++)
            s += r[k][j][k % nz][j % M];
    printf("%.6f\n", s);
    return 0;
}
"""


@needs_clang
def test_a_region_counts_each_kernel_as_often_as_it_launches(tmp_path: Path) -> None:
    (tmp_path / "fluxes.c").write_text(FLUXES)
    text, remarks = _static(tmp_path, ["fluxes.c"], "fluxes")
    # the (k, i) kernels weigh (nz - 2) * (nz - 2) launches each, the plane kernel nz - 2
    assert "the region at line" in remarks and "(nz - 2" in text
    subprocess.run([CLANG, "-O2", "fluxes.c", "-o", "serial"], cwd=tmp_path, check=True, timeout=120)
    serial, _ = _run(tmp_path, "serial", [])
    out, launched = _run(tmp_path, "fluxes", [], VALIDATION)
    # an average over the three kernels alike put the region on the device: 1,000 launches
    assert out == serial and len(launched) < 10, len(launched)


# The region's guard is read where the region starts, before the conditions around its
# loops hold: a time loop's bound must be arithmetic that cannot fault nor change anything.
CONDITIONAL_STEPS = r"""
#include <stdio.h>
#include <stdlib.h>
static int asked = 0;
static int rounds(void) { return asked++ < 2 ? 4 : 0; }
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100000, d = argc > 2 ? atoi(argv[2]) : 0;
  double *a = malloc(sizeof(double) * n), *b = malloc(sizeof(double) * n);
  for (int i = 0; i < n; i++) a[i] = i * 0.5;
  for (int i = 0; i < n; i++) b[i] = a[i] + 1;
  if (d > 0)
    for (int t = 0; t < 12 / d; t++)
      for (int i = 0; i < n; i++) b[i] = b[i] * 0.5 + a[i];
  for (int t = 0; t < rounds(); t++)
    for (int i = 0; i < n; i++) b[i] = b[i] * 0.25 + a[i];
  for (int i = 0; i < n; i++) a[i] = b[i] * 2;
  printf("%a %a asked=%d\n", a[n - 1], a[n / 2], asked);
  return 0;
}
"""


@needs_clang
def test_a_region_guard_reads_only_arithmetic_that_cannot_fault(tmp_path: Path) -> None:
    # 12 / d under ``if (d > 0)`` divided by zero before the region with d = 0, and a
    # second call of rounds() cut the second time loop short (held-out checks)
    (tmp_path / "steps.c").write_text(CONDITIONAL_STEPS)
    text, _ = _static(tmp_path, ["steps.c"], "steps")
    subprocess.run([CLANG, "-O2", "steps.c", "-o", "serial"], cwd=tmp_path, check=True, timeout=120)
    for args in (["100000", "0"], ["100000", "5"], ["7", "0"]):
        serial, _ = _run(tmp_path, "serial", args)
        out, _ = _run(tmp_path, "steps", args, VALIDATION)
        assert out == serial, args
