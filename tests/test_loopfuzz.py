"""Loop-nest fuzzing: bench/loopfuzz.py's programs print the same output built by pcx-cc
(``--pcx-mode=static``, offloaded to the host device) and by clang-19.

The campaign test runs a fixed seed range (issue 12 asks CI for it): no wrong output, no
crash, no timeout, no rejected rewrite, no broken build, and at least half the programs
offload a nest (a fuzzer whose programs offload nothing proves nothing).  The larger
campaign is ``python bench/loopfuzz.py --count N --seed S --jobs 2 --keep-going``.
The other tests hold the harness itself: a miscompile, a rejected rewrite and a broken
build are each reported as such, the reducer keeps a failure while it shrinks it, and the
generator's programs are deterministic and free of undefined behaviour.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
_spec = importlib.util.spec_from_file_location("loopfuzz", ROOT / "bench" / "loopfuzz.py")
lf = importlib.util.module_from_spec(_spec)
sys.modules["loopfuzz"] = lf
_spec.loader.exec_module(lf)

#: the CI campaign: 200 programs (about three minutes with two jobs on two idle cores)
FIRST_SEED = 1
COUNT = 200

pytestmark = [
    pytest.mark.skipif(shutil.which("clang-19") is None, reason="clang-19 not installed"),
    pytest.mark.xdist_group("loopfuzz"),
]


def _needs_driver() -> None:
    if lf.find_pcx_cc() is None:
        pytest.skip("pcx-cc is not installed")


@pytest.mark.slow
def test_fixed_seed_campaign_has_no_failures_and_offloads(tmp_path):
    _needs_driver()
    lines: list[str] = []
    results = lf.fuzz(range(FIRST_SEED, FIRST_SEED + COUNT), jobs=2, save=tmp_path / "saved",
                      max_reduce=0, log=lines.append)
    s = lf.summarize(results)
    report = lf.summary_line(s) + "\n" + "\n".join(lines)
    assert s["programs"] == COUNT, report
    assert s["bad_programs"] == 0, report          # the generator's own bugs
    failing = {cls: [r.seed for r in results if r.outcome == cls] for cls in lf.BUGS}
    assert s["wrong"] == 0, f"wrong output at seeds {failing['wrong']}\n{report}"
    assert s["crashes"] == 0, f"crashes at seeds {failing['crash']}\n{report}"
    assert s["timeouts"] == 0, f"timeouts at seeds {failing['timeout']}\n{report}"
    assert s["rejected"] == 0, f"rejected rewrites at seeds {failing['rejected']}\n{report}"
    assert s["build_failures"] == 0, f"pcx build failures at seeds {failing['build-failure']}\n{report}"
    assert s["offloaded_programs"] * 2 >= s["programs"], report


#: the CI campaign of CPU-OpenMP programs (issue 18's port): a `parallel for` before about
#: half the outer loops, right or wrong
OPENMP_SEEDS = range(1, 25)


@pytest.mark.slow
def test_cpu_openmp_programs_are_ported_or_warned_about_never_wrong(tmp_path):
    _needs_driver()
    lines: list[str] = []
    results = lf.fuzz(OPENMP_SEEDS, jobs=2, save=tmp_path / "saved", max_reduce=0, openmp=True, log=lines.append)
    s = lf.summarize(results)
    report = lf.summary_line(s) + "\n" + "\n".join(lines)
    assert s["programs"] == len(OPENMP_SEEDS) and s["same"] == s["programs"], report
    # the user's claims were put on the device where pcx proved them, refused where wrong
    assert s["ported_loops"] >= 2 * len(OPENMP_SEEDS) and s["warned_loops"] >= len(OPENMP_SEEDS) // 4, report


def test_openmp_programs_put_the_pragma_on_its_own_line_before_a_loop_that_may_not_leave():
    text = lf.generate(3, openmp=True)
    lines = text.splitlines()
    pragmas = [i for i, ln in enumerate(lines) if ln.strip().startswith("#pragma omp parallel for")]
    assert pragmas and all(lines[i + 1].strip().startswith("for (") for i in pragmas)
    assert lf.generate(3, openmp=True) == text and lf.generate(3) == "\n".join(
        ln for ln in lines if not ln.strip().startswith("#pragma omp")) + "\n"


def test_generator_is_deterministic_and_varied():
    a, b = lf.generate(17), lf.generate(17)
    assert a == b
    assert lf.generate(18) != a
    texts = "".join(lf.generate(s) for s in range(1, 40))
    for shape in ("ARR(", "MAT(", "vec_t", "restrict", "cur = nxt", "for (int t = 0; t < T", "if (argc",
                  "* ld + ", "<= i", "struct box", "[r][c]", "memcpy(", "+= ", "kern",
                  "malloc(sizeof(struct pt)", "[i].b"):
        assert shape in texts, shape
    plain = lf.generate(17, {"struct", "swap"})
    assert not any(d in plain for d in ("struct box g", "struct box a", "struct box *p", "struct hbox a", "cur",
                                        "malloc(sizeof(struct pt)"))


def test_generated_programs_are_free_of_undefined_behaviour(tmp_path):
    sanity = lf._Sanity("clang-19")
    if not sanity.sanitizers:
        pytest.skip("no sanitizer runtimes (apt-get install libclang-rt-19-dev)")
    for seed in (3, 11, 29):
        d = tmp_path / str(seed)
        d.mkdir()
        (d / "prog.c").write_text(lf.generate(seed))
        for variant in lf.VARIANTS:
            assert sanity.clean(d, variant), (seed, variant)


def _fake_pcx(tmp_path: Path, body: str) -> str:
    """A stand-in pcx-cc: drops --pcx-* flags, then runs body with the rest in $args."""
    fake = tmp_path / "fake-pcx-cc"
    fake.write_text("#!/bin/sh\nargs=''\nfor a in \"$@\"; do case \"$a\" in --pcx-*) ;; "
                    "*) args=\"$args $a\";; esac; done\n" + body)
    fake.chmod(0o755)
    return str(fake)


PROGRAM = """#include <stdio.h>
#ifndef DELTA
#define DELTA 0u
#endif
int main(int argc, char **argv) {
  unsigned a[8], s = 0u;
  (void)argv;
  for (int i = 0; i < 8; i++) {
    a[i] = (unsigned)i * 3u;
  }
  for (int i = 0; i < 8; i++) {
    s += a[i];
  }
  if (argc > 1) {
    s += DELTA;
  }
  printf("%u\\n", s);
  return 0;
}
"""


def test_a_miscompile_only_with_an_argument_is_reported_and_reduced(tmp_path):
    fake = _fake_pcx(tmp_path, "exec clang-19 -DDELTA=1u $args\n")
    checker = lf.Checker(pcx_cc=fake)
    r = checker.check(PROGRAM, tmp_path / "w")
    assert (r.outcome, r.variant) == ("wrong", ("x",)), r
    reducer = lf.Reducer(checker, cvise=False)
    small = reducer.reduce(PROGRAM, tmp_path / "red", r.outcome, r.variant)
    assert "s += DELTA;" in small and "printf" in small
    assert "a[i] = (unsigned)i * 3u;" not in small, small   # the loops are gone
    assert checker.check(small, tmp_path / "w2", variants=(r.variant,)).outcome == "wrong"


def test_rejected_rewrites_and_broken_builds_are_counted(tmp_path):
    rejected = _fake_pcx(tmp_path, "echo 'prog.c:1:1: remark: rewritten source failed to compile; the original "
                                   "source was compiled instead [PCX007]' >&2\nexec clang-19 $args\n")
    r = lf.Checker(pcx_cc=rejected).check(PROGRAM, tmp_path / "a")
    assert r.outcome == "rejected", r
    warned = _fake_pcx(tmp_path, "echo 'pcx-cc: warning: internal error; compiled the original source "
                                 "unchanged [PCX001]' >&2\nexec clang-19 $args\n")
    assert lf.Checker(pcx_cc=warned).check(PROGRAM, tmp_path / "b").outcome == "rejected"
    broken = _fake_pcx(tmp_path, "exit 1\n")
    assert lf.Checker(pcx_cc=broken).check(PROGRAM, tmp_path / "c").outcome == "build-failure"
    (tmp_path / "crash.h").write_text("#include <stdio.h>\n#define printf(...) __builtin_trap()\n")
    crash = _fake_pcx(tmp_path, f"exec clang-19 -include {tmp_path / 'crash.h'} $args\n")
    assert lf.Checker(pcx_cc=crash).check(PROGRAM, tmp_path / "d").outcome == "crash"
    s = lf.summarize([lf.Result(1, "rejected"), lf.Result(2, "same", offloaded=2, nests=3)])
    assert (s["rejected"], s["offloaded_programs"], s["offloaded_nests"]) == (1, 1, 2)
