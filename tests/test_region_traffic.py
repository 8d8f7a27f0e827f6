"""What a data region moves, next to a naive plan (PCX205, issue 18 item 3).

Each ``target data`` region gets one remark with two polynomials of the program's sizes:
the bytes its maps and updates move per run, and the bytes a naive plan would move that
maps every array a kernel touches ``tofrom`` at every launch.  The first is checked here
against libomptarget's own count of the bytes copied, for the sizes the program runs with
(a region whose updates run once per iteration of a serial loop, and a region around the
kernels a user wrote without map clauses); the naive figure must be the larger.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pcx_driver.profile import copies

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
CLANG = shutil.which("clang-19")
needs_clang = pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
RUN_ENV = {"LIBOMPTARGET_MEMORY_MANAGER_THRESHOLD": "0", "MALLOC_PERTURB_": "165", "OMP_NUM_THREADS": "2",
           "OMP_TARGET_OFFLOAD": "MANDATORY", "LIBOMPTARGET_INFO": "48"}
REMARK = re.compile(r"remark: data moved by this region, per run: (.+?)(?: bytes)? in, (.+?)(?: bytes)? out; "
                    r"a naive plan mapping each kernel's arrays tofrom at every launch: (at most )?(.+?) bytes")

# A triangular solve in the shape of Levinson-Durbin: the host writes y[k] in each
# iteration of the serial loop, so the region pushes one element per iteration.
DURBIN = (ROOT / "tests" / "fixtures" / "programs" / "levinson_durbin.c").read_text()


def _build(tmp: Path, source: Path, *flags: str) -> tuple[Path, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCX_")}
    r = subprocess.run([str(BIN / "pcx-cc"), "--pcx-mode=static", "--pcx-offload-target=x86_64-pc-linux-gnu",
                        "--pcx-remarks", "--pcx-min-work=0", *flags, "-O1", "-gline-tables-only", str(source), "-o", "app"],
                       cwd=tmp, capture_output=True, text=True, env=env, timeout=180)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    return tmp / "app", r.stderr


def _value(poly: str, sizes: dict[str, int]) -> int:
    """A remark's polynomial (``80*n*steps + 64*n - 128*steps``) at the given sizes."""
    poly = poly.replace(",", "")
    assert re.fullmatch(r"[\w\s*+-]+", poly), poly
    return eval(poly, {"__builtins__": {}}, dict(sizes))  # noqa: S307 - digits, names, + - * only


def _moved(exe: Path, args: list[str]) -> tuple[int, int]:
    p = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, **RUN_ENV))
    assert p.returncode == 0, p.stderr[-2000:]
    cs = [c for c in copies(p.stderr) if "[" in c.name]  # array sections, not scalars
    return sum(c.size for c in cs if c.to_device), sum(c.size for c in cs if not c.to_device)


@needs_clang
def test_region_bytes_per_run_match_what_libomptarget_copies(tmp_path):
    (tmp_path / "durbin.c").write_text(DURBIN)
    exe, remarks = _build(tmp_path, tmp_path / "durbin.c")
    (found,) = [m for m in REMARK.finditer(remarks)]
    into, back, bounded, naive = found.groups()
    assert (into, back) == ("32*n - 32", "16*n - 16")  # r, y, z in; y[k] pushed per k; y, z out
    assert bounded and naive == "96*n*n - 192*n + 96"  # sections grow with k: counted at its last value
    for n in (40, 700):
        moved_in, moved_out = _moved(exe, [str(n)])
        # The last iteration's push of y[n-1] lies past the mapped y[0:n-1] (no kernel reads
        # it): libomptarget skips an update of data that is not present, the formula counts it.
        assert (moved_in, moved_out) == (_value(into, {"n": n}) - 8, _value(back, {"n": n}))
        assert _value(naive, {"n": n}) > _value(into, {"n": n}) + _value(back, {"n": n})


@needs_clang
def test_a_users_unmapped_kernels_get_the_figures_of_the_plan_pcx_adds(tmp_path):
    exe, remarks = _build(tmp_path, ROOT / "examples" / "openmp" / "handwritten.c", "-fopenmp")
    (found,) = [m for m in REMARK.finditer(remarks)]
    into, back, bounded, naive = found.groups()
    assert not bounded
    for n, steps in ((3000, 7), (20000, 40)):
        sizes = {"n": n, "steps": steps}
        assert _moved(exe, [str(n), str(steps)]) == (_value(into, sizes), _value(back, sizes)), remarks
        # every kernel's arrays both ways at every launch: far more than the plan moves
        assert _value(naive, sizes) > 10 * (_value(into, sizes) + _value(back, sizes))
