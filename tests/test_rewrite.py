"""The rewriter: exact edits, #line fidelity, braceless bodies, C++ containers, and the
output compiling with clang-19 (host device, nvptx) and gcc."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import (  # noqa: E402
    CLANG,
    Arr,
    Nest,
    analysis_of,
    compile_source,
    serial_and_offloaded,
    write_unit,
)

from pcx_driver.engine.dataplan import plan_unit  # noqa: E402
from pcx_driver.engine.rewrite import c_string, rewrite_unit  # noqa: E402

ND = [("0", "n")]

BRACELESS = r"""#include <stdio.h>
#define SCALE 3.0 /* a macro the rewriter must keep */
int main(void) {
    enum { n = 1000 };
    static double a[n], b[n];
    int go = 1;
    for (int i = 0; i < n; i++) a[i] = i;
    if (go) for (int i = 0; i < n; i++) b[i] = SCALE * a[i]; /* K1 */
    else
        for (int i = 0; i < n; i++) /* K2 */
            b[i] = 0;
    double s = 0;
    for (int i = 0; i < n; i++) s += b[i];	// tab before this comment
    printf("%.3f\n", s);
    return 0;
}
"""


def _strip_inserted(text: str) -> str:
    """Remove what the rewriter adds (whole lines and ' }' closers) to get the original back."""
    out = []
    for line in text.split("\n"):
        if line.startswith(("#line ", "#pragma omp")) or line == "{":
            continue
        out.append(line)
    return "\n".join(out)


def _nests_braceless() -> list[Nest]:
    return [Nest("/* K1 */", [Arr("a", ND), Arr("b", ND, "w", full=True)]),
            Nest("/* K2 */", [Arr("b", ND, "w", full=True)])]


def test_braceless_bodies_are_wrapped_and_meaning_kept(tmp_path: Path) -> None:
    unit = write_unit(tmp_path, "prog.c", BRACELESS)
    plan = plan_unit(unit, analysis_of(unit, _nests_braceless()))
    rw = rewrite_unit(unit, plan)
    assert rw.text.startswith('#line 1 "prog.c"\n')
    serial, off = serial_and_offloaded(tmp_path, unit, rw.text)
    assert off.stdout == serial.stdout and off.launches == 1  # only the `if` branch runs
    # the kernel of K1 is named after the user's line 8, K2 after line 10
    assert "_main_l8 " in off.stderr
    # every original byte is still there, in order, apart from the added braces
    stripped = _strip_inserted(rw.text)
    assert stripped.replace(" }", "").replace("\n", "").replace(" ", "") == \
        BRACELESS.replace(" }", "").replace("\n", "").replace(" ", "")
    assert "\t// tab before this comment" in rw.text and "#define SCALE 3.0 /* a macro" in rw.text


def test_untouched_lines_are_byte_identical(tmp_path: Path) -> None:
    unit = write_unit(tmp_path, "prog.c", BRACELESS)
    rw = rewrite_unit(unit, plan_unit(unit, analysis_of(unit, _nests_braceless())))
    original = BRACELESS.split("\n")
    kept = [ln for ln in rw.text.split("\n") if not ln.startswith(("#line", "#pragma")) and ln != "{"]
    # lines without a kernel start appear verbatim
    for ln in original:
        if "K1" not in ln and "K2" not in ln and "b[i] = 0;" not in ln:
            assert ln in kept


def test_compile_error_points_at_the_users_line(tmp_path: Path) -> None:
    broken = BRACELESS.replace("    printf(\"%.3f\\n\", s);", "    printf(\"%.3f\\n\", s + undeclared_thing);")
    assert broken != BRACELESS
    unit = write_unit(tmp_path, "prog.c", broken)
    rw = rewrite_unit(unit, plan_unit(unit, analysis_of(unit, _nests_braceless())))
    (tmp_path / "out.c").write_text(rw.text)
    r = compile_source(tmp_path / "out.c", tmp_path / "x", offload=True, cwd=tmp_path)
    assert r.returncode != 0
    line = broken.split("\n").index("    printf(\"%.3f\\n\", s + undeclared_thing);") + 1
    assert f"prog.c:{line}:" in r.stderr and "undeclared_thing" in r.stderr


HIST = r"""#include <stdio.h>
int main(void) {
    int n = 50000, h[8] = {0};
    static int v[50000];
    for (int i = 0; i < n; i++) v[i] = (i * 31) % 97;
    for (int i = 0; i < n; i++) /* K1 */
        if (v[i] > 10) h[v[i] % 8]++;
    for (int k = 0; k < 8; k++) printf("%d\n", h[k]);
    return 0;
}
"""


def test_atomic_update_in_braceless_if(tmp_path: Path) -> None:
    unit = write_unit(tmp_path, "prog.c", HIST)
    an = analysis_of(unit, [Nest("/* K1 */", [Arr("v", ND, type="int"), Arr("h", [("0", "8")], "rw", type="int")],
                                 atomic=["h[v[i] % 8]++;"])])
    rw = rewrite_unit(unit, plan_unit(unit, an))
    assert "#pragma omp atomic update" in rw.text
    assert any(d.text == "omp atomic update" for d in rw.directives)
    serial, off = serial_and_offloaded(tmp_path, unit, rw.text)
    assert off.stdout == serial.stdout


VEC = r"""#include <cstdio>
#include <vector>
int main() {
    const int n = 3000;
    std::vector<double> x(n), y(n, 1.0);
    for (int i = 0; i < n; i++) x[i] = i * 0.25;
    for (int t = 0; t < 4; t++) {
        for (int i = 0; i < n; i++) /* K1 */
            y[i] = y[i] * 0.5 + x[i];
    }
    double s = 0;
    for (int i = 0; i < n; i++) s += y[i];
    std::printf("%.6f\n", s);
    return 0;
}
"""


def test_std_vector_through_local_pointer(tmp_path: Path) -> None:
    unit = write_unit(tmp_path, "prog.cpp", VEC)
    an = analysis_of(unit, [Nest("/* K1 */", [Arr("x", [("0", "x.size()")], container="std::vector"),
                                              Arr("y", [("0", "y.size()")], "rw", container="std::vector")])])
    plan = plan_unit(unit, an)
    rw = rewrite_unit(unit, plan)
    assert "auto *pcx_x = (x).data();" in rw.text and "pcx_y[i] = pcx_y[i] * 0.5 + pcx_x[i];" in rw.text
    assert len(plan.regions) == 1  # the time loop keeps both vectors on the device
    serial, off = serial_and_offloaded(tmp_path, unit, rw.text)
    assert off.stdout == serial.stdout and off.launches == 4
    assert off.array_to_device == 2 * 3000 * 8 and off.array_from_device == 3000 * 8


def test_declare_target_and_other_compilers(tmp_path: Path) -> None:
    src = r"""#include <stdio.h>
static const double weight[3] = {0.5, 2.0, 4.0}; /* read on the device: needs declare target */
static double sq(double v);
static double sq(double v) { return weight[1] * v * v; }
int main(void) {
    int n = 1000;
    double a[1000], b[1000];
    for (int i = 0; i < n; i++) a[i] = i;
    for (int i = 0; i < n; i++) /* K1 */
        b[i] = sq(a[i]);
    printf("%.1f\n", b[n - 1]);
    return 0;
}
"""
    unit = write_unit(tmp_path, "prog.c", src)
    an = analysis_of(unit, [Nest("/* K1 */", [Arr("a", ND), Arr("b", ND, "w", full=True)], calls=["sq"])])
    rw = rewrite_unit(unit, plan_unit(unit, an))
    assert rw.text.count("#pragma omp declare target") == 3  # table, prototype and definition
    serial, off = serial_and_offloaded(tmp_path, unit, rw.text)
    assert off.stdout == serial.stdout
    out = tmp_path / "rw.c"
    out.write_text(rw.text)
    if shutil.which("gcc"):
        r = subprocess.run(["gcc", "-fopenmp", "-foffload=disable", "-c", str(out), "-o", str(tmp_path / "g.o")],
                           capture_output=True, text=True, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    r = subprocess.run([CLANG, "-O1", "-fopenmp", "-fopenmp-targets=nvptx64-nvidia-cuda", "--offload-arch=sm_90",
                        "--libomptarget-nvptx-bc-path=/usr/lib/llvm-19/lib", str(out), "-o", str(tmp_path / "nv")],
                       capture_output=True, text=True, cwd=tmp_path, timeout=300)
    if "cannot find CUDA" in r.stderr or "libdevice" in r.stderr:
        pytest.skip("no CUDA installation for nvptx")
    assert r.returncode == 0, r.stderr


def test_stale_plan_is_refused_cleanly(tmp_path: Path) -> None:
    unit = write_unit(tmp_path, "prog.c", BRACELESS)
    plan = plan_unit(unit, analysis_of(unit, _nests_braceless()))
    plan.kernels[0].start_byte += 3  # no statement starts there any more
    rw = rewrite_unit(unit, plan)
    # the kernel kept serial, and the region around it, which is not emitted either
    assert [r.id for r in rw.remarks] == ["PCX204", "PCX204"]
    assert "data region not emitted" in rw.remarks[1].message
    assert (plan.kernels[0].line, "PCX100") in rw.withdrawn and any(rid == "PCX200" for _, rid in rw.withdrawn)
    assert rw.text.count("omp target teams") == 1


@pytest.mark.parametrize("path, literal", [
    ("a.c", '"a.c"'),
    ('dir "x"/b\\c.c', '"dir \\"x\\"/b\\\\c.c"'),
    ("tab\tname.c", '"tab\\011name.c"'),
])
def test_line_directive_path_escaping(path: str, literal: str) -> None:
    assert c_string(path) == literal


DECL_IN_RANGE = r"""#include <stdio.h>
#include <stdlib.h>
int main(void) {
    int n = 5000;
    double *x = malloc(n * sizeof(double));
    for (int i = 0; i < n; i++) /* K1 */
        x[i] = i * 0.5;
    double s = 0.0;
    for (int i = 0; i < n; i++) /* K2 */
        s += x[i];
    printf("%.3f %.3f\n", s, x[n - 1]);
    free(x);
    return 0;
}
"""


def test_declaration_between_kernels_gets_enter_exit_data(tmp_path: Path) -> None:
    """Braces around the kernels would end the scope of `s`: the region becomes an
    enter/exit data pair, and x is created on the device, never copied in."""
    unit = write_unit(tmp_path, "prog.c", DECL_IN_RANGE)
    an = analysis_of(unit, [Nest("/* K1 */", [Arr("x", ND, "w", full=True)]),
                            Nest("/* K2 */", [Arr("x", ND)], reductions=[("+", "s")])])
    rw = rewrite_unit(unit, plan_unit(unit, an))
    assert "#pragma omp target enter data map(alloc: x[0:(long)n * (n > 0)])" in rw.text
    assert "#pragma omp target exit data map(from: x[0:(long)n * (n > 0)])" in rw.text
    serial, off = serial_and_offloaded(tmp_path, unit, rw.text)
    assert off.stdout == serial.stdout
    assert off.array_to_device == 0 and off.array_from_device == 5000 * 8


JACOBI_CXX = r"""#include <algorithm>
#include <cmath>
#include <cstdio>
int main() {
    const int n = 48;
    double *a = new double[n * n];
    double *b = new double[n * n];
    for (int i = 0; i < n * n; i++) a[i] = b[i] = (i < n) ? 1.0 : 0.0;
    double err = 1.0;
    int iter = 0;
    while (err > 1e-4 && iter < 200) {
        err = 0.0;
        for (int i = 1; i < n - 1; i++) /* K1 */
            for (int j = 1; j < n - 1; j++) {
                double next = 0.25 * (a[(i - 1) * n + j] + a[(i + 1) * n + j] + a[i * n + j - 1] + a[i * n + j + 1]);
                err = std::max(err, std::fabs(next - a[i * n + j]));
                b[i * n + j] = next;
            }
        std::swap(a, b);
        iter++;
    }
    std::printf("%d %.10e %.10e\n", iter, err, a[(n / 2) * n + n / 2]);
    delete[] a;
    delete[] b;
    return 0;
}
"""


def test_std_swap_of_pointers_in_a_convergence_loop(tmp_path: Path) -> None:
    unit = write_unit(tmp_path, "prog.cpp", JACOBI_CXX)
    an = analysis_of(unit, [Nest("/* K1 */", [Arr("a", [("0", "n*n")]), Arr("b", [("n+1", "n*n-2*n-2")], "w")],
                                 collapse=2, reductions=[("max", "err")])])
    plan = plan_unit(unit, an)
    (region,) = plan.regions
    # a and b: one device buffer each for the whole loop; only what `a` names at the
    # end comes back, by an update at the end of the region
    assert [(u.direction, [s.base for s in u.sections]) for u in region.updates] == [("from", ["a"])]
    serial, off = serial_and_offloaded(tmp_path, unit, rewrite_unit(unit, plan).text)
    assert off.stdout == serial.stdout
    assert off.array_to_device == 2 * 48 * 48 * 8 and off.array_from_device == 48 * 48 * 8


def test_tuning_knobs_and_clauses_render() -> None:
    from pcx_driver.engine.rewrite import kernel_directive
    from pcx_driver.model import Decision, KernelPlan, MapClause, MapKind, Reduction, Section

    k = KernelPlan("f:3", "f", 3, 5, 0, 10, Decision.OFFLOADED, collapse=2, private=["t"], firstprivate=["n"],
                   reductions=[Reduction("+", "s"), Reduction("max", "m"), Reduction("+", "q")],
                   maps=[MapClause(MapKind.TO, [Section("a", [("0", "N")])])], num_teams=64, thread_limit=128,
                   simd=True)
    assert kernel_directive(k, constants={"N": 100}) == (
        "omp target teams distribute parallel for simd collapse(2) num_teams(64) thread_limit(128) private(t) "
        "firstprivate(n) reduction(+: s, q) reduction(max: m) map(to: a[0:N])")


def test_section_lengths_that_may_be_negative_are_clamped_at_zero() -> None:
    """A hull over loops that run no iteration has a negative length (OpenMP forbids one;
    libomptarget aborts on the allocation): emitted lengths are clamped unless they are
    constants >= 0, macros included.  Branch-free, as clang-19 crashes on ?: in a map."""
    from pcx_driver.engine.rewrite import emitted_length

    assert emitted_length("64", {}) == "64"
    assert emitted_length("2*N + 1", {"N": 10}) == "2*N + 1"
    assert emitted_length("N - 20", {"N": 10}) == "(N - 20) * (N > 20)"
    assert emitted_length("n", {}) == "n * (n > 0)"
    # (the positive terms against the negative ones: unsigned operands cannot wrap the test)
    assert emitted_length("(r / 2)*ld + c - 3*ld - 1", {}) == \
        "((r / 2)*ld + c - 3*ld - 1) * (((r/2)) * ld + c > 1 + 3 * ld)"


TWO_ELEMENTS = r"""
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    int n = 64;
    double (*c)[n] = malloc(sizeof(double[n][n]));
    for (int i = 0; i < n; i++) /* K1 */
        for (int j = 0; j < n; j++)
            c[i][j] = i + j;
    for (int t = 1; t < 4; t++) {
        c[t][t + 1] = 1.0;
        c[t + 1][t] = 1.0;
        for (int i = 0; i < n; i++) /* K2 */
            for (int j = 0; j < n; j++)
                c[i][j] = c[i][j] * 0.5;
    }
    double s = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            s += c[i][j];
    printf("%.6f\n", s);
    free(c);
    return 0;
}
"""


def test_two_sections_of_one_array_in_an_update_compile(tmp_path: Path) -> None:
    """Issue 12: covariance's plan `target update to(cov[i:1][j:1], cov[j:1][i:1])` names
    one array twice in one clause, which clang-19 rejects; each repeat gets a directive of
    its own, and the program still gives the serial output."""
    from pcx_driver.model import DataRegion, MapClause, MapKind, Section, TargetUpdate

    unit = write_unit(tmp_path, "prog.c", TWO_ELEMENTS)
    whole = [("0", "n"), ("0", "n")]
    nests = [Nest("/* K1 */", [Arr("c", whole, "w", full=True)], collapse=2),
             Nest("/* K2 */", [Arr("c", whole, "rw")], collapse=2)]
    plan = plan_unit(unit, analysis_of(unit, nests), regions=False)
    data = unit.data
    first, last = data.index(b"for (int i = 0; i < n; i++) /* K1 */"), data.index(b"    double s = 0;")
    end = data.rindex(b"}", 0, last) + 1
    push = data.index(b"for (int i = 0; i < n; i++) /* K2 */")
    home = data.index(b"double s = 0;")
    region = DataRegion("main", first, end, 7, [MapClause(MapKind.FROM, [Section("c", whole)])],
                        updates=[TargetUpdate(push, 13, "to", [Section("c", [("t", "1"), ("t + 1", "1")]),
                                                               Section("c", [("t + 1", "1"), ("t", "1")])]),
                                 TargetUpdate(end, 16, "from", [Section("c", whole)])],
                        kernels=[k.nest_id for k in plan.kernels])
    region.start_byte, region.end_byte = first, end
    plan.regions = [region]
    text = rewrite_unit(unit, plan).text
    assert text.count("#pragma omp target update to(") == 2
    serial, off = serial_and_offloaded(tmp_path, unit, text)
    assert off.returncode == 0 and off.stdout == serial.stdout, off.stderr[-2000:]


PARTIAL_WRITE = r"""#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    int n = 4000 + argc;
    double *a = malloc(sizeof(double) * n), *b = malloc(sizeof(double) * n);
    for (int i = 0; i < n; i++) a[i] = i * 0.5;            /* K1 */
    for (int i = 1; i < n - 1; i++) a[i] = i * 2.0 + 1.0;  /* K2 */
    for (int i = 0; i < n; i++) b[i] = a[i] * 3.0;          /* K3 */
    double s = 0, t = 0;
    for (int i = 0; i < n; i++) { s += a[i] * (i % 5); t += b[i] * (i % 3); }
    printf("%.3f %.3f %.3f %.3f\n", s, t, a[0], a[n - 1]);
    return 0;
}
"""


def test_a_dropped_region_leaves_its_kernels_their_own_sections(tmp_path: Path) -> None:
    """Inside a region K2 maps the region's a[0:n] (its own a[1:n-2] might reach past a
    clipped region section); when the region is not emitted, because K3 cannot be placed,
    K2 must map its own section again: ``map(from: a[0:n])`` would copy back two elements
    it never wrote over the host's values."""
    from pcx_driver.engine.analysis import analyse_unit

    unit = write_unit(tmp_path, "prog.c", PARTIAL_WRITE)
    plan = plan_unit(unit, analyse_unit(unit))
    assert len(plan.regions) == 1 and len(plan.offloaded()) == 4
    k2 = next(k for k in plan.kernels if k.line == 7)
    assert k2.alone_maps and k2.maps != k2.alone_maps  # the region's section, and its own
    next(k for k in plan.kernels if k.line == 8).start_byte += 3  # K3 cannot be placed
    rw = rewrite_unit(unit, plan)
    assert "omp target data" not in rw.text and "PCX204" in [r.id for r in rw.remarks]
    assert "map(from: a[1:(long)(n - 2) * (n > 2)])" in rw.text
    serial, off = serial_and_offloaded(tmp_path, unit, rw.text)
    assert off.stdout == serial.stdout


AROUND_A_CALL = r"""#include <stdio.h>
#include <stdlib.h>
static void scale(int n, double *restrict a) {
    for (int i = 0; i < n; i++) a[i] = a[i] * 2.0 + 1.0;   /* CALLEE */
}
int main(int argc, char **argv) {
    int n = 5000 + argc;
    double *a = malloc(sizeof(double) * n), *b = malloc(sizeof(double) * n);
    for (int i = 0; i < n; i++) a[i] = i * 0.25;
    scale(n, a);
    for (int i = 0; i < n; i++) b[i] = a[i] + 3.0;
    double s = 0;
    for (int i = 0; i < n; i++) s += a[i] * (i % 7) + b[i];
    printf("%.3f\n", s);
    return 0;
}
"""


def test_a_callee_kernel_that_cannot_be_placed_takes_the_callers_region_along(tmp_path: Path) -> None:
    """main's region keeps ``a`` on the device across ``scale(n, a)``, whose kernel then
    finds it present.  If that kernel is kept serial, its loop runs on the host copy: the
    region around the call must not be emitted either, or main reads a stale ``a``."""
    from pcx_driver.engine.analysis import analyse_unit
    from pcx_driver.engine.regionreach import held_by_regions

    unit = write_unit(tmp_path, "prog.c", AROUND_A_CALL)
    plan = plan_unit(unit, analyse_unit(unit))
    callee = next(k for k in plan.kernels if k.function == "scale")
    assert [r.function for r in plan.regions] == ["main"]
    assert callee.nest_id in held_by_regions(unit.data, unit.language, plan)
    callee.start_byte += 3  # the callee's kernel cannot be placed
    rw = rewrite_unit(unit, plan)
    assert "omp target data" not in rw.text and "omp target enter data" not in rw.text
    serial, off = serial_and_offloaded(tmp_path, unit, rw.text)
    assert off.stdout == serial.stdout
