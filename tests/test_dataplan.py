"""The data plan, judged by real runs: same output as the serial program, and the bytes
libomptarget copies (LIBOMPTARGET_INFO=48) equal to what the program needs at least.

Each case is a C program, the nests the analysis would offload (described by hand, byte
ranges found with tree-sitter), and the bytes a perfect plan moves each way.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from offload_helpers import Arr, Nest, analysis_of, serial_and_offloaded, write_unit  # noqa: E402

from pcx_driver.engine.dataplan import plan_unit  # noqa: E402
from pcx_driver.engine.sections import union_sections  # noqa: E402
from pcx_driver.engine.rewrite import rewrite_unit  # noqa: E402
from pcx_driver.model import Language, MapKind, Section  # noqa: E402

N = 4096  # elements per array in the 1-D programs
D = 8  # sizeof(double)

VECTOR_OPS = r"""
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    int n = 4096;
    double *x = malloc(n * sizeof(double)), *y = malloc(n * sizeof(double));
    double *z = malloc(n * sizeof(double)), *w = malloc(n * sizeof(double));
    for (int i = 0; i < n; i++) { x[i] = i * 0.5; y[i] = 1.0 / (i + 1); }
    for (int i = 0; i < n; i++) /* K1 */
        z[i] = x[i] + y[i];
    for (int i = 0; i < n; i++) /* K2 */
        w[i] = z[i] * x[i];
    double s = 0;
    for (int i = 0; i < n; i++) s += w[i];
    printf("%.12e\n", s);
    free(x); free(y); free(z); free(w);
    return 0;
}
"""

STENCIL_SWAP = r"""
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    int n = 64, steps = 7;
    double *a = malloc(n * n * sizeof(double));
    double *b = malloc(n * n * sizeof(double));
    for (int i = 0; i < n * n; i++) { a[i] = (i % 7) * 0.5; b[i] = a[i]; }
    for (int t = 0; t < steps; t++) {
        for (int i = 1; i < n - 1; i++) /* K1 */
            for (int j = 1; j < n - 1; j++)
                b[i * n + j] = 0.25 * (a[(i - 1) * n + j] + a[(i + 1) * n + j] + a[i * n + j - 1] + a[i * n + j + 1]);
        double *tmp = a; a = b; b = tmp;
    }
    double s = 0;
    for (int i = 0; i < n * n; i++) s += a[i] * (i % 13);
    printf("%.12e\n", s);
    free(a); free(b);
    return 0;
}
"""

SOLVER = r"""
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    int n = 4096, it = 0;
    double *a = malloc(n * sizeof(double)), *anew = malloc(n * sizeof(double));
    for (int i = 0; i < n; i++) { a[i] = 0.0; anew[i] = 0.0; }
    a[0] = anew[0] = 1.0; a[n - 1] = anew[n - 1] = 2.0;
    double err = 1.0;
    while (err > 1e-3 && it < 50) {
        for (int i = 1; i < n - 1; i++) /* K1 */
            anew[i] = 0.5 * (a[i - 1] + a[i + 1]);
        err = 0.0;
        for (int i = 1; i < n - 1; i++) /* K2 */
            err = fmax(err, fabs(anew[i] - a[i]));
        for (int i = 1; i < n - 1; i++) /* K3 */
            a[i] = anew[i];
        it++;
    }
    double s = 0;
    for (int i = 0; i < n; i++) s += a[i] * i;
    printf("%d %.12e %.12e\n", it, err, s);
    free(a); free(anew);
    return 0;
}
"""

HOST_READS = r"""
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    int n = 4096;
    double *a = malloc(n * sizeof(double));
    double *b = malloc(n * sizeof(double));
    for (int i = 0; i < n; i++) { a[i] = i; b[i] = 0; }
    for (int t = 0; t < 3; t++) {
        for (int i = 0; i < n; i++) /* K1 */
            a[i] = a[i] * 0.5 + 1.0;
        printf("step %d a[7]=%.6f\n", t, a[7]);
        a[0] = -t;
        for (int i = 0; i < n; i++) /* K2 */
            b[i] = b[i] + a[i];
    }
    printf("%.6f %.6f\n", a[0], b[n - 1]);
    free(a); free(b);
    return 0;
}
"""

HISTOGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    int n = 100000;
    int *data = malloc(n * sizeof(int));
    int h[16] = {0};
    for (int i = 0; i < n; i++) data[i] = (i * 7919) % 1000;
    for (int i = 0; i < n; i++) /* K1 */
        h[data[i] % 16] += 1;
    for (int k = 0; k < 16; k++) printf("%d ", h[k]);
    printf("\n");
    free(data);
    return 0;
}
"""

CALLS = r"""
#include <stdio.h>
#include <stdlib.h>
static double poly(double x);
static double poly(double x) { return (x * x + 2.0) * 0.5; }
int main(void) {
    int n = 4096;
    double *x = malloc(n * sizeof(double)), *y = malloc(n * sizeof(double));
    for (int i = 0; i < n; i++) x[i] = i * 1e-3;
    for (int i = 0; i < n; i++) /* K1 */
        y[i] = poly(x[i]);
    double s = 0;
    for (int i = 0; i < n; i++) s += y[i];
    printf("%.12e\n", s);
    free(x); free(y);
    return 0;
}
"""

POWER = r"""
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
static void matvec(int n, const double *restrict a, const double *restrict x, double *restrict y) {
    for (int i = 0; i < n; i++) { /* K1 */
        double s = 0;
        for (int j = 0; j < n; j++) s += a[i * n + j] * x[j];
        y[i] = s;
    }
}
static double dot(int n, const double *x, const double *y) {
    double s = 0;
    for (int i = 0; i < n; i++) /* K2 */
        s += x[i] * y[i];
    return s;
}
static void scale_into(int n, double f, const double *restrict y, double *restrict x) {
    for (int i = 0; i < n; i++) /* K3 */
        x[i] = f * y[i];
}
int main(void) {
    int n = 300, iters = 20;
    double *a = malloc((size_t)n * n * sizeof *a);
    double *x = malloc(n * sizeof(double)), *y = malloc(n * sizeof(double));
    for (int i = 0; i < n * n; i++) a[i] = 1.0 / (1 + i % 17);
    for (int i = 0; i < n; i++) x[i] = 1.0;
    double lambda = 0;
    for (int it = 0; it < iters; it++) {
        matvec(n, a, x, y);
        lambda = dot(n, x, y);
        double nrm = sqrt(dot(n, y, y));
        scale_into(n, 1.0 / nrm, y, x);
    }
    printf("%.10e %.10e %.10e\n", lambda, x[0], x[n / 2]);
    free(a); free(x); free(y);
    return 0;
}
"""

ND = [("0", "n")]
INNER = [("1", "n-2")]
INNER_1 = [("1", "n-1")]


def n_bytes(count: int, size: int = 8) -> int:
    return count * size

# name -> (source, nests, expected bytes host->device, device->host, launches)
CASES = {
    "vector_ops": (VECTOR_OPS, [
        Nest("/* K1 */", [Arr("x", ND), Arr("y", ND), Arr("z", ND, "w", full=True)]),
        Nest("/* K2 */", [Arr("z", ND), Arr("x", ND), Arr("w", ND, "w", full=True)]),
    ], 2 * N * D, N * D, 2),  # x, y in once; w out once; z never leaves the device
    "stencil_swap": (STENCIL_SWAP, [
        Nest("/* K1 */", [Arr("a", [("0", "n*n")]), Arr("b", [("n", "n*n-2*n")], "w")], collapse=2),
    ], 2 * 64 * 64 * D, 64 * 64 * D, 7),  # a and b's boundary in; what `a` names at the end out
    "solver": (SOLVER, [
        Nest("/* K1 */", [Arr("a", ND), Arr("anew", INNER, "w", full=True)]),
        Nest("/* K2 */", [Arr("anew", INNER), Arr("a", INNER)], reductions=[("max", "err")]),
        Nest("/* K3 */", [Arr("anew", INNER), Arr("a", INNER, "w", full=True)]),
    ], N * D, N * D, None),  # a in once and out once; anew lives on the device
    "host_reads": (HOST_READS, [
        Nest("/* K1 */", [Arr("a", ND, "rw")]),
        Nest("/* K2 */", [Arr("b", ND, "rw"), Arr("a", ND)]),
    ], None, None, 6),
    "histogram": (HISTOGRAM, [
        Nest("/* K1 */", [Arr("data", ND, type="int"), Arr("h", [("0", "16")], "rw", type="int")],
             atomic=["h[data[i] % 16] += 1;"]),
    ], 100000 * 4 + 64, 64, 1),
    "power_calls": (POWER, [
        Nest("/* K1 */", [Arr("a", [("0", "n*n")]), Arr("x", ND), Arr("y", ND, "w", full=True)]),
        Nest("/* K2 */", [Arr("x", ND), Arr("y", ND)], reductions=[("+", "s")]),
        Nest("/* K3 */", [Arr("y", ND), Arr("x", ND, "w", full=True)]),
    ], (300 * 300 + 300) * D, 300 * D, 80),  # kernels in functions, region in the caller
    "calls": (CALLS, [
        Nest("/* K1 */", [Arr("x", ND), Arr("y", ND, "w", full=True)], calls=["poly"]),
    ], N * D, N * D, 1),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_offloaded_run_matches_serial_with_minimal_bytes(tmp_path: Path, name: str) -> None:
    text, nests, to_dev, from_dev, launches = CASES[name]
    unit = write_unit(tmp_path, "prog.c", text)
    plan = plan_unit(unit, analysis_of(unit, nests))
    rw = rewrite_unit(unit, plan)
    serial, off = serial_and_offloaded(tmp_path, unit, rw.text)
    assert off.returncode == 0, off.stderr[-2000:]
    assert off.stdout == serial.stdout
    assert off.launches >= 1
    if launches is not None:
        assert off.launches == launches
    if to_dev is not None:
        assert off.array_to_device == to_dev, (off.copies, rw.text)
    if from_dev is not None:
        assert off.array_from_device == from_dev, (off.copies, rw.text)


def test_solver_keeps_both_arrays_resident_across_the_convergence_loop(tmp_path: Path) -> None:
    text, nests, *_ = CASES["solver"]
    unit = write_unit(tmp_path, "prog.c", text)
    plan = plan_unit(unit, analysis_of(unit, nests))
    assert len(plan.regions) == 1 and not plan.regions[0].updates
    region = plan.regions[0]
    kinds = {s.base: m.kind for m in region.maps for s in m.sections}
    # a: read before written, read by the host after -> tofrom; anew: written fully on
    # the device before any read, never read by the host after the region -> alloc.
    assert kinds == {"a": MapKind.TOFROM, "anew": MapKind.ALLOC}
    assert any(r.id == "PCX200" for r in plan.remarks)
    serial, off = serial_and_offloaded(tmp_path, unit, rewrite_unit(unit, plan).text)
    assert off.stdout == serial.stdout
    # a in once and out once, no array copies per iteration
    assert off.array_to_device == N * D and off.array_from_device == N * D


def test_host_access_between_kernels_gets_updates(tmp_path: Path) -> None:
    text, nests, *_ = CASES["host_reads"]
    unit = write_unit(tmp_path, "prog.c", text)
    plan = plan_unit(unit, analysis_of(unit, nests))
    (region,) = plan.regions
    dirs = sorted((u.direction, u.line, tuple(s.base for s in u.sections)) for u in region.updates)
    # printf reads a (from before it); a[0] = -t writes a (to after it)
    assert dirs == [("from", 12, ("a",)), ("to", 14, ("a",))]
    assert sum(r.id == "PCX201" for r in plan.remarks) == 2
    serial, off = serial_and_offloaded(tmp_path, unit, rewrite_unit(unit, plan).text)
    assert off.stdout == serial.stdout
    # in: a, b once + the one element a[0] after each host write; out: a before each
    # printf + b at the end (the host copy of a is current after the last `update to`)
    assert [d.text for d in rewrite_unit(unit, plan).directives if "update to" in d.text] == \
        ["omp target update to(a[0:1])"]
    assert off.array_to_device == 2 * N * D + 3 * D
    assert off.array_from_device == 3 * N * D + N * D


def test_unknown_pointer_reassignment_falls_back_to_kernel_maps(tmp_path: Path) -> None:
    text = STENCIL_SWAP.replace("double *tmp = a; a = b; b = tmp;", "a = b + 0;")
    unit = write_unit(tmp_path, "prog.c", text)
    plan = plan_unit(unit, analysis_of(unit, CASES["stencil_swap"][1]))
    assert plan.regions == []
    assert [r.id for r in plan.remarks] == ["PCX203"]
    assert "reassigned" in plan.remarks[0].message
    (k,) = plan.kernels
    assert {s.base: m.kind for m in k.maps for s in m.sections} == {"a": MapKind.TO, "b": MapKind.TOFROM}


def test_per_kernel_plan_alone_is_correct(tmp_path: Path) -> None:
    """Kernel maps are correct without their region (the rewriter may drop a region)."""
    text, nests, *_ = CASES["solver"]
    unit = write_unit(tmp_path, "prog.c", text)
    plan = plan_unit(unit, analysis_of(unit, nests), regions=False)
    assert plan.regions == []
    serial, off = serial_and_offloaded(tmp_path, unit, rewrite_unit(unit, plan).text)
    assert off.stdout == serial.stdout


@pytest.mark.parametrize("secs, expected", [
    ([[("0", "n")], [("1", "n-2")]], [("0", "n")]),
    ([[("1", "n-2")], [("0", "n-1")]], [("0", "n - 1")]),
    ([[("0", "n")], [("n", "n")]], None),  # bounds differ by n: unknown order
    ([[("0", "n"), ("0", "m")], [("0", "n"), ("1", "m-1")]], [("0", "n"), ("0", "m")]),
])
def test_union_of_sections(secs, expected) -> None:
    got = union_sections([Section("a", d) for d in secs], Language.C)
    assert (got.dims if got else None) == expected


@pytest.mark.parametrize("decl, name, dims", [
    ("double *a = malloc(n * sizeof(double));", "a", ["n"]),
    ("double *a = (double *)malloc((size_t)n * m * sizeof *a);", "a", ["(size_t)n * m"]),
    ("double *a = calloc(n, sizeof(double));", "a", ["n"]),
    ("double a[N][M + 1];", "a", ["N", "M + 1"]),
    ("double (*a)[m] = malloc(sizeof(double[n][m]));", "a", ["n", "m"]),
    ("double (*a)[m] = malloc(n * sizeof *a);", "a", ["n", "m"]),
    ("double *a = get_buffer(n);", "a", None),
    ("char *a = malloc((size_t)n), *b = malloc(m);", "a", ["(size_t)n"]),
])
def test_declared_extent(decl: str, name: str, dims) -> None:
    from pcx_driver.engine.hostaccess import declared_extent

    data = f"void f(int n, int m) {{ {decl} }}".encode()
    ext = declared_extent(data, Language.C, (0, len(data)), name)
    assert (ext.dims if ext else None) == dims


HOST_CODE_IN_CALLEE = r"""
#include <stdio.h>
#include <stdlib.h>
static void smooth(int n, double *x) {
    for (int i = 0; i < n; i++) /* K1 */
        x[i] = x[i] * 0.5;
}
static void bump(int n, double *x) {
    x[0] = 100.0;  /* host write, then a kernel reads x */
    for (int i = 0; i < n; i++) /* K2 */
        x[i] = x[i] + 1.0;
}
int main(void) {
    int n = 1000;
    double *x = malloc(n * sizeof(double));
    for (int i = 0; i < n; i++) x[i] = i;
    for (int t = 0; t < 3; t++) {
        smooth(n, x);
        bump(n, x);
    }
    printf("%.6f %.6f\n", x[0], x[n - 1]);
    free(x);
    return 0;
}
"""


def test_no_caller_region_across_a_callee_with_host_code(tmp_path: Path) -> None:
    """bump's kernel maps assume x is not present: the caller must not hold it."""
    unit = write_unit(tmp_path, "prog.c", HOST_CODE_IN_CALLEE)
    nests = [Nest("/* K1 */", [Arr("x", ND, "rw")]), Nest("/* K2 */", [Arr("x", ND, "rw")])]
    plan = plan_unit(unit, analysis_of(unit, nests))
    assert plan.regions == []
    assert any(r.id == "PCX203" and "'bump'" in r.message for r in plan.remarks)
    serial, off = serial_and_offloaded(tmp_path, unit, rewrite_unit(unit, plan).text)
    assert off.stdout == serial.stdout


@pytest.mark.parametrize("stmt, reads, writes", [
    ("x = a[2] + 1;", {"a"}, set()),
    ("a[i] += 2;", {"a"}, {"a"}),  # a partial write needs the host copy current first
    ("*(a + i) = 3;", {"a"}, {"a"}),
    ("s = *(b + 3);", {"b"}, set()),
    ("f(a + 1);", {"a"}, {"a"}),  # the callee may write through any pointer into a
    ("h(&a[3]);", {"a"}, {"a"}),
    ("printf(\"%f\", b[0]);", {"b"}, set()),
    ("double *p = a + 1;", None, None),  # an alias the walk cannot follow: no region
    ("return;", None, None),
])
def test_host_statement_reads_and_writes(stmt: str, reads, writes) -> None:
    from pcx_driver.engine import hostaccess
    from pcx_driver.engine.hostscan import HostScanner, RegionRefused

    data = ("void z(double *a, double *b) { " + stmt + " }").encode()
    body = hostaccess.parse(data, Language.C).root_node.named_children[0].child_by_field_name("body")
    scanner = HostScanner(data, {"a", "b"}, set())
    if reads is None:
        with pytest.raises(RegionRefused):
            scanner.scan(body.named_children[0])
        return
    use = scanner.scan(body.named_children[0])
    assert (use.reads, use.writes) == (reads, writes)


DEFERRED = r"""
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    int n = 4096;
    long *v = malloc(n * sizeof(long)), *p = malloc(n * sizeof(long)), *d = malloc(n * sizeof(long));
    for (int i = 0; i < n; i++) /* K1 */
        v[i] = (i * 37L) % 1000 - 300;
    p[0] = v[0];
    for (int i = 1; i < n; i++)
        p[i] = p[i - 1] + v[i];
    for (int i = 1; i < n; i++) /* K2 */
        d[i] = p[i] - p[i - 1];
    for (int it = 0; it < 50; it++) {
        for (int i = 1; i < n; i++) /* K3 */
            d[i] = d[i] / 2;
        if (d[n - 1] == 0) break;
    }
    long s = 0;
    for (int i = 1; i < n; i++) s += d[i];
    printf("%ld %ld\n", s, p[n - 1]);
    free(v); free(p); free(d);
    return 0;
}
"""


def test_host_writes_are_pushed_once_before_the_next_kernel(tmp_path: Path) -> None:
    """p is written by two host statements: one `update to` right before K2, not two.
    The `break` on a device value needs d[n-1] on the host in every iteration."""
    unit = write_unit(tmp_path, "prog.c", DEFERRED)
    LONG = dict(type="long")
    nests = [Nest("/* K1 */", [Arr("v", ND, "w", full=True, **LONG)]),
             Nest("/* K2 */", [Arr("p", ND, **LONG), Arr("d", INNER_1, "w", full=True, **LONG)]),
             Nest("/* K3 */", [Arr("d", INNER_1, "rw", **LONG)])]
    plan = plan_unit(unit, analysis_of(unit, nests))
    (region,) = plan.regions
    ups = sorted((u.direction, u.line, tuple(s.base for s in u.sections)) for u in region.updates)
    assert ups == [("from", 9, ("v",)), ("from", 17, ("d",)), ("to", 12, ("p",))]
    serial, off = serial_and_offloaded(tmp_path, unit, rewrite_unit(unit, plan).text)
    assert off.stdout == serial.stdout
    iterations = sum(1 for c in off.copies if not c.to_device and c.name.startswith("d["))
    assert off.array_to_device == n_bytes(4096) and iterations >= 2


@pytest.mark.parametrize("after, pushed", [
    ("", "a[i:1]"),  # only the element the host wrote goes back to the device
    ("i++;", "a[0:n]"),  # i changed before the push: a[i] names another element by then
    ("a[i + 1] = 2;", "a[i:1], a[i + 1:1]"),
])
def test_update_to_covers_what_the_host_wrote(tmp_path: Path, after: str, pushed: str) -> None:
    text = f"""
void f(int n, double *a, int i) {{
    for (int t = 0; t < 2; t++) {{
        for (int j = 0; j < n; j++) /* K1 */
            a[j] += 1;
        a[i] = 0;
        {after}
    }}
}}
"""
    unit = write_unit(tmp_path, "prog.c", text)
    plan = plan_unit(unit, analysis_of(unit, [Nest("/* K1 */", [Arr("a", ND, "rw")])]))
    (region,) = plan.regions
    to = [u for u in region.updates if u.direction == "to"]
    assert [", ".join(s.render() for s in u.sections) for u in to] == [pushed]


def test_declared_extent_with_a_reassigned_size_is_not_used(tmp_path: Path) -> None:
    """`n` changes after the malloc: `a[0:n]` at the region's start would not be a."""
    text = STENCIL_SWAP.replace("    for (int i = 0; i < n * n; i++) { a[i]", "    n = n - 1;\n    for (int i = 0; i < n * n; i++) { a[i]")
    assert text != STENCIL_SWAP
    unit = write_unit(tmp_path, "prog.c", text)
    nests = [Nest("/* K1 */", [Arr("a", [("0", "n*n")]), Arr("b", [("n", "n*n-2*n")], "w")], collapse=2)]
    plan = plan_unit(unit, analysis_of(unit, nests))
    assert plan.regions == [] and [r.id for r in plan.remarks] == ["PCX203"]


READ_ONLY_CALLEE = r"""
#include <stdio.h>
#include <stdlib.h>
static double trace(int n, double a[n][n], double *w) {
    double s = 0;
    for (int i = 0; i < n; i++) {
        double t = 0;
        for (int j = 0; j < n; j++) /* K2 */
            t += a[i][j] * w[j];
        w[i] = t / n + a[i][i];
        s += w[i];
    }
    return s;
}
int main(void) {
    int n = 64;
    double (*a)[n] = malloc(sizeof(double[n][n]));
    double *w = malloc(n * sizeof(double));
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) /* K1 */
            a[i][j] = ((i * 7 + j * 3) % 11) * 0.25;
        a[i][i] = i + 1.0;
        w[i] = 1.0;
    }
    double s = trace(n, a, w);
    double q = 0;
    for (int i = 0; i < n; i++) /* K3 */
        for (int j = 0; j < n; j++)
            q += a[i][j] * (j % 3);
    printf("%.12e %.12e %.12e\n", s, q, w[n - 1]);
    free(a); free(w);
    return 0;
}
"""

# trace() reads a whole row of a on the host: it needs its host copy current
ROW_READ = ("        s += w[i];\n",
            "        s += w[i];\n        for (int j = 0; j < n; j++)\n            s += a[i][j] / n;\n")


@pytest.mark.parametrize("row_read", [False, True])
def test_array_only_read_by_a_kernel_function_stays_resident(tmp_path: Path, row_read: bool) -> None:
    """trace() only reads a and writes w on the host between its kernels: main keeps a
    on the device across the call (trace's maps find it present) and leaves w to trace.
    trace reads a[i][i] with an element update of its own, so main need not bring a
    home first; when trace reads whole rows, main brings a home before the call.  The
    host's a[i][i] over a device-written row goes back element by element, without
    bringing the row home first."""
    n = 64
    text = READ_ONLY_CALLEE.replace(*ROW_READ) if row_read else READ_ONLY_CALLEE
    unit = write_unit(tmp_path, "prog.c", text)
    row = [("i", "1"), ("0", "n")]
    nests = [Nest("/* K2 */", [Arr("a", row), Arr("w", ND)], reductions=[("+", "t")]),
             Nest("/* K1 */", [Arr("a", row, "w", full=True)]),
             Nest("/* K3 */", [Arr("a", [("0", "n"), ("0", "n")])], reductions=[("+", "q")])]
    plan = plan_unit(unit, analysis_of(unit, nests))
    regions = {r.function: r for r in plan.regions}
    assert sorted(regions) == ["main", "trace"]
    # to: the row loop may run no times, and trace's kernels read a
    assert {s.base: m.kind for m in regions["main"].maps for s in m.sections} == {"a": MapKind.TO}
    ups = sorted((u.direction, ", ".join(s.render() for s in u.sections)) for u in regions["main"].updates)
    assert ups == ([("from", "a[0:n][0:n]")] if row_read else []) + [("to", "a[i:1][i:1]")]
    ups = sorted((u.direction, ", ".join(s.render() for s in u.sections)) for u in regions["trace"].updates)
    assert ups == ([] if row_read else [("from", "a[i:1][i:1]")]) + [("to", "w[i:1]")]
    # main's region then leaves a stale on the host: it depends on trace's kernels
    assert set(regions["trace"].kernels) <= set(regions["main"].kernels) or row_read
    assert not set(regions["trace"].kernels) & set(regions["main"].kernels) or not row_read
    serial, off = serial_and_offloaded(tmp_path, unit, rewrite_unit(unit, plan).text)
    assert off.returncode == 0, off.stderr[-2000:]
    assert off.stdout == serial.stdout
    # in: a once, a[i][i] after each row (n), w once by trace's region and w[i] after
    # each host write (2n); out: a[i][i] in trace (n), or a once before the call
    assert off.array_to_device == n * n * D + 3 * n * D
    assert off.array_from_device == (n * n * D if row_read else n * D)


@pytest.mark.parametrize("body, ro", [
    ("s += a[i][j] + b[i];", {1, 2}),
    ("a[i][j] = b[i];", {2}),
    ("b[i]++;", {1}),
    ("g(&b[i]);", {1}),
    ("double *r = a[i]; s += r[0];", {2}),  # a row stored: a may be written through it
    ("s += *b;", {1}),  # not an element access the rule knows
    ("b = 0;", {1}),
])
def test_read_only_parameters(body: str, ro: set[int]) -> None:
    from pcx_driver.engine import hostaccess
    from pcx_driver.engine.dataplan import _read_only

    data = ("void f(int n, double a[n][n], double *b) { double s = 0; int i = 0, j = 0; " + body + " }").encode()
    fnode = hostaccess.parse(data, Language.C).root_node.named_children[0]
    assert _read_only(fnode, data) == ro


@pytest.mark.parametrize("macros, params, names", [
    ("#define ARR(v) v[restrict N]\n", "int n, u32 ARR(p2), u32 q[N]", ["n", "p2", "q"]),
    # PolyBench's form: the name is the macro's first argument, the sizes follow
    ("#define POLY_2D(var, d1, d2, dd1, dd2) var[d1][d2]\n", "int n, double POLY_2D(A, N, N, n, n)", ["n", "A"]),
    ("", "int n, int g(int)", ["n", "g"]),  # a real function parameter keeps its name
    ("#define WRAP(v) (v)\n", "int WRAP(x)", ["WRAP"]),  # not a declaring macro: left as read
])
def test_parameters_declared_through_a_macro_have_the_name_it_declares(macros: str, params: str, names: list[str]) -> None:
    """``u32 ARR(p2)`` reads as a function declarator named ARR; the planner and the plan
    checker find parameters by position, so the name must be p2 (loopfuzz seed 3602047)."""
    from pcx_driver.engine import hostaccess

    data = (macros + "typedef unsigned u32;\nvoid f(" + params + ") { }\n").encode()
    fnode = [n for n in hostaccess.parse(data, Language.C).root_node.named_children if n.type == "function_definition"][0]
    assert hostaccess.param_names(fnode, data) == names


FORWARD = r"""
#include <stdio.h>
#include <stdlib.h>
static void forward(int n, const double *l, double *restrict x) {
    for (int i = 1; i < n; i++) {
        double s = 0;
        for (int j = 0; j < i; j++) /* K1 */
            s += l[j] * x[j];
        x[i] = x[i] - s / n;
    }
}
int main(void) {
    int n = 256;
    double *l = malloc(n * sizeof(double)), *x = malloc(n * sizeof(double));
    for (int i = 0; i < n; i++) { l[i] = (i % 5) * 0.1; x[i] = 1.0 + (i % 3); }
    forward(n, l, x);
    double t = 0;
    for (int i = 0; i < n; i++) t += x[i];
    printf("%.12e\n", t);
    free(l); free(x);
    return 0;
}
"""


def test_pointer_parameters_are_mapped_with_the_hull_over_the_loop(tmp_path: Path) -> None:
    """l and x have no declared extent and their sections grow with i: the region maps
    the sections over every i (length clamped at 0 for a loop that runs no times) and
    pushes only the x[i] the host writes, instead of mapping x[0:i] per launch."""
    n = 256
    unit = write_unit(tmp_path, "prog.c", FORWARD)
    upto_i = [("0", "i")]
    plan = plan_unit(unit, analysis_of(unit, [Nest("/* K1 */", [Arr("l", upto_i), Arr("x", upto_i)],
                                                   reductions=[("+", "s")])]))
    (region,) = plan.regions
    assert {(m.kind, s.render()) for m in region.maps for s in m.sections} == \
        {(MapKind.TO, "l[0:n - 1]"), (MapKind.TO, "x[0:n - 1]")}
    assert [(u.direction, [s.render() for s in u.sections]) for u in region.updates] == [("to", ["x[i:1]"])]
    text = rewrite_unit(unit, plan).text
    assert "x[0:(long)(n - 1) * (n > 1)]" in text  # n == 0 would make it negative
    serial, off = serial_and_offloaded(tmp_path, unit, text)
    assert off.returncode == 0, off.stderr[-2000:]
    assert off.stdout == serial.stdout
    # l and x once (n - 1 elements each), then x[i] after each host write but the last:
    # x[n-1] lies outside the mapped section (no kernel reads it), so its update is a no-op
    assert off.array_to_device == 2 * (n - 1) * D + (n - 2) * D
    assert off.array_from_device == 0


@pytest.mark.parametrize("n", [0, 1, 2])
def test_hull_of_a_loop_that_runs_no_times_maps_nothing(tmp_path: Path, n: int) -> None:
    """for (i = 1; i < n; ...) with n <= 1 runs no times: the hull's length n - 1 would
    be negative (a fatal mapping error); it is clamped at 0."""
    text = FORWARD.replace("int n = 256;", f"int n = {n};")
    unit = write_unit(tmp_path, "prog.c", text)
    upto_i = [("0", "i")]
    plan = plan_unit(unit, analysis_of(unit, [Nest("/* K1 */", [Arr("l", upto_i), Arr("x", upto_i)],
                                                   reductions=[("+", "s")])]))
    assert len(plan.regions) == 1
    serial, off = serial_and_offloaded(tmp_path, unit, rewrite_unit(unit, plan).text)
    assert off.returncode == 0, off.stderr[-2000:]
    assert off.stdout == serial.stdout


# Fixture 22 (loopfuzz seed 3500108), reduced: inside main's region, which holds 'b', a
# kernel function is called with 'q', a second name of b.  Its kernel must never fall back
# to the host copy (the region holds b on the device), so it gets no work guard.
ALIAS_CALL = r"""
#include <stdio.h>
static void fill(int n, unsigned *restrict p) {
  for (int i = 0; i < n - 2; i++) p[i] = 7u;
}
int main(int argc, char **argv) {
  int n = 64 - (argc > 1);
  unsigned b[64];
  unsigned *q = b;
  for (int i = 0; i < n; i++) b[i] = (unsigned)i * 2654435761u;
  fill(n, q);
  for (int i = 2; i < n; i++) b[i] = b[i] ^ 5u;
  unsigned h = 0;
  for (int i = 0; i < n; i++) h = h * 31u + b[i];
  printf("%u\n", h);
  return 0;
}
"""


def test_a_kernel_function_given_a_second_name_of_held_data_never_falls_back():
    from pcx_driver.engine.analysis import analyse_unit
    from pcx_driver.engine.regionreach import held_by_regions
    from pcx_driver.model import SourceUnit

    unit = SourceUnit("alias_call.c", ALIAS_CALL, Language.C)
    plan = plan_unit(unit, analyse_unit(unit))
    assert [r.function for r in plan.regions] == ["main"]
    fill = next(k for k in plan.kernels if k.function == "fill")
    assert fill.nest_id in held_by_regions(unit.data, unit.language, plan)
