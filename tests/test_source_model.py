"""The source model and the unit-level behaviour of the analysis: parse problems, OpenMP
already present, preprocessor branches, macros, byte coordinates, libclang failure."""

from __future__ import annotations

import pytest

from pcx_driver.engine import semantics as semantics_mod
from pcx_driver.engine.analysis import analyse_unit
from pcx_driver.engine.source import SourceModel
from pcx_driver.model import Decision, Language, SourceUnit, UnitAnalysis, from_json, to_json

VADD = """void vadd(int n, double *restrict a, const double *restrict b) {
  for (int i = 0; i < n; i++)
    a[i] = b[i] + 1.0;
}
"""


def analyse(src: str, lang: Language = Language.C, path: str = "t.c", args: list[str] | None = None) -> UnitAnalysis:
    return analyse_unit(SourceUnit(path, src, lang, semantic_args=args or []))


def test_source_model_functions_and_positions() -> None:
    m = SourceModel.parse(SourceUnit("t.c", VADD))
    (fn,) = m.functions()
    assert fn.name == "vadd" and not fn.is_template and not fn.is_member
    assert not m.has_errors
    assert m.line_col(VADD.index("for")) == (2, 3)


def test_source_model_cxx_members_and_templates() -> None:
    src = "struct G { void f() {} };\ntemplate <class T> T id(T v) { return v; }\nvoid G2::g() {}\n"
    m = SourceModel.parse(SourceUnit("t.cpp", src, Language.CXX))
    info = {f.name: f for f in m.functions()}
    assert info["f"].is_member and info["id"].is_template and info["G2::g"].is_member


def test_offloaded_nest_coordinates() -> None:
    ua = analyse(VADD)
    (nest,) = ua.nests()
    data = VADD.encode()
    assert nest.decision is Decision.OFFLOADED
    assert data[nest.start_byte:nest.end_byte].decode().startswith("for (int i = 0")
    assert data[nest.start_byte:nest.end_byte].decode().endswith("b[i] + 1.0;")
    assert (nest.line, nest.column) == (2, 3) and nest.nest_id == "vadd:2"


def test_utf8_before_the_loop_keeps_byte_offsets() -> None:
    src = "/* größe — μ */\n" + VADD
    ua = analyse(src)
    (nest,) = ua.nests()
    assert src.encode()[nest.start_byte:nest.start_byte + 3] == b"for"
    assert nest.column == 3


def test_syntax_error_gives_pcx004_and_no_nests() -> None:
    ua = analyse("void f(int n, double *a) { for (int i = 0; i < n; i++) a[i] = ; }\n")
    assert [r.id for r in ua.remarks] == ["PCX004"] and not ua.nests()
    assert ua.remarks[0].line == 1 and ua.remarks[0].column > 1


def test_openmp_already_present_is_left_alone() -> None:
    src = VADD.replace("  for", "  #pragma omp parallel for\n  for")
    ua = analyse(src, args=["-fopenmp"])
    assert [r.id for r in ua.remarks] == ["PCX003"]
    (nest,) = ua.nests()
    assert nest.decision is Decision.NOT_ANALYSED and nest.remarks[0].id == "PCX120"


def test_openmp_elsewhere_leaves_every_nest_alone() -> None:
    src = VADD + "void g(int n, double *restrict a) {\n#pragma omp simd\n  for (int i = 0; i < n; i++) a[i] = 0; }\n"
    ua = analyse(src)
    ids = sorted(n.remarks[0].id for n in ua.nests())
    assert ids == ["PCX003", "PCX120"]
    assert all(n.decision is Decision.NOT_ANALYSED for n in ua.nests())


def test_loop_in_inactive_preprocessor_branch() -> None:
    src = "#if 0\nvoid f(int n, double *restrict a) { for (int i = 0; i < n; i++) a[i] = 0; }\n#endif\n" + VADD
    ua = analyse(src)
    by_fn = {n.function: n for n in ua.nests()}
    assert by_fn["f"].decision is Decision.NOT_ANALYSED and by_fn["f"].remarks[0].id == "PCX114"
    assert by_fn["vadd"].decision is Decision.OFFLOADED


def test_loop_in_branch_selected_by_a_define() -> None:
    src = ("void f(int n, double *restrict a) {\n#ifdef FAST\n for (int i = 0; i < n; i++) a[i] = 1;\n#else\n"
           " for (int i = 0; i < n; i++) a[i] = 2;\n#endif\n}\n")
    plain = {n.line: n.decision for n in analyse(src).nests()}
    fast = {n.line: n.decision for n in analyse(src, args=["-DFAST"]).nests()}
    assert plain == {3: Decision.NOT_ANALYSED, 5: Decision.OFFLOADED}
    assert fast == {3: Decision.OFFLOADED, 5: Decision.NOT_ANALYSED}


def test_loop_from_a_macro_expansion() -> None:
    src = ("#define ZERO(arr, len) for (int z = 0; z < (len); z++) (arr)[z] = 0\n"
           "void f(int n, double *restrict a) { ZERO(a, n); }\n")
    ua = analyse(src)
    (nest,) = ua.nests()
    assert nest.decision is Decision.NOT_ANALYSED and nest.remarks[0].id == "PCX113"
    assert "ZERO" in nest.remarks[0].message


def test_sizes_from_defines_on_the_command_line() -> None:
    src = "double a[SIZE];\nvoid f(void) { for (int i = 0; i < SIZE; i++) a[i] = i; }\n"
    small = analyse(src, args=["-DSIZE=16"]).nests()[0]
    big = analyse(src, args=["-DSIZE=100000"]).nests()[0]
    assert small.decision is Decision.SERIAL and small.remarks[0].id == "PCX115"
    assert big.decision is Decision.OFFLOADED and big.work_estimate >= 100000


def test_libclang_failure_degrades_to_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self, unit):
        raise OSError("libclang.so cannot be loaded")

    monkeypatch.setattr(semantics_mod.Semantics, "_build", boom)
    ua = analyse(VADD)
    (nest,) = ua.nests()
    assert nest.decision is Decision.NOT_ANALYSED and nest.remarks[0].id == "PCX122"
    assert "libclang.so" in nest.remarks[0].message


def test_analysis_round_trips_through_json() -> None:
    ua = analyse(VADD + "double dot(int n, const double *a) { double s = 0; for (int i = 0; i < n; i++) s += a[i];"
                 " return s; }\n#define HALF(x) ((x) / 2)\n"
                 "void rows(int n, double A[n][8]) { for (int i = 0; i < n; i++) A[i][0] = HALF(A[i][1]); }\n")
    assert ua.pure_macros == {"HALF"} and ua.functions[-1].row_extents == {"A": (8,)}
    again = from_json(UnitAnalysis, to_json(ua))
    assert again == ua


def test_odd_inputs_never_raise() -> None:
    for src in ["", "for", "int main(void) { for (;;) {} }", "void f() { for (int i = 0; i < 10; i++) ; }",
                "\xff\xfe garbage", "void f(int n) { int i; for (i = 0; i < n; i++) { } }",
                "void f(int n, double a[]) { for (int i = 0; i < n; i++) a[i] = a[i] / 2; }"]:
        ua = analyse(src)
        assert isinstance(ua, UnitAnalysis)


ADDV = """void *malloc(unsigned long);
static void addv(int n, double *a, const double *b) {
  for (int i = 0; i < n; i++)
    a[i] += b[i];
}
int main(void) {
  int n = 1000;
  double *x = malloc(n * sizeof(double)), *y = malloc(n * sizeof(double));
  double z[1000];
  CALLS
  return 0;
}
"""


@pytest.mark.parametrize("calls, proved", [
    ("addv(n, x, y); addv(n, y, z);", True),  # distinct allocations at every call
    ("addv(n, x, y); addv(n, x, x);", False),  # one call passes the same pointer twice
    ("", False),  # no call site in this file: anything may be passed
    ("double *w = x + 1; addv(n, w, x);", False),  # derived pointer
])
def test_aliasing_proved_at_call_sites(calls: str, proved: bool) -> None:
    # Where the call sites prove the pointers distinct, no check; otherwise the nest is
    # still offloaded, versioned at run time (issue 15, cause 5(c)), and says so.
    ua = analyse(ADDV.replace("CALLS", calls))
    nest = next(n for n in ua.nests() if n.function == "addv")
    assert nest.decision is Decision.OFFLOADED, nest.remarks
    assert bool(nest.alias_checks) is not proved, nest.alias_checks
    if not proved:
        assert any(r.id == "PCX128" and "'a'" in r.message for r in nest.remarks)


def test_pointer_swap_keeps_buffers_distinct() -> None:
    src = """void *malloc(unsigned long);
int main(void) {
  int n = 4096;
  double *u = malloc(n * sizeof(double)), *v = malloc(n * sizeof(double));
  for (int i = 0; i < n; i++) u[i] = v[i] = i;
  for (int t = 0; t < 10; t++) {
    for (int i = 1; i < n - 1; i++) v[i] = 0.5 * (u[i - 1] + u[i + 1]);
    double *tmp = u; u = v; v = tmp;
  }
  return 0;
}
"""
    ua = analyse(src)
    by_line = {n.line: n for n in ua.nests()}
    assert by_line[5].decision is Decision.OFFLOADED
    assert by_line[6].decision is Decision.SERIAL
    kernel = by_line[7]
    assert kernel.decision is Decision.OFFLOADED
    assert {a.name: a.section.render() for a in kernel.arrays} == {"u": "u[0:n]", "v": "v[1:n - 2]"}
    # without the swap's third statement u and v end up equal: no proof
    broken = src.replace(" v = tmp;", "")
    assert {n.line: n for n in analyse(broken).nests()}[7].alias_checks  # compared at run time


def test_nest_ids_are_unique() -> None:
    src = ("void f(int n, double *restrict a, int *restrict len) {\n"
           "  for (int i = 0; i < n; i++) for (int j = 0; j < len[i]; j++) { a[j] = 1; len[i] = 0; }\n}\n")
    ua = analyse(src)
    ids = [n.nest_id for n in ua.nests()]
    assert len(ids) == len(set(ids)) == 2
    assert ua.nests()[0].remarks[0].id == "PCX111"


OLD_C = """static scale(double *a, int n)   /* implicit int: an error in C99 unless the build says not */
{
    int i;
    for (i = 0; i < n; i++) a[i] = a[i] * 2.0 + 1.0;
    return 0;
}
"""


def test_the_analysis_parses_with_the_flags_that_turn_errors_into_warnings() -> None:
    """Rodinia's backprop builds with -Wno-error=implicit-int; the analysis parse must
    take it too, or the file is 'not analysed' (PCX004) though the compiler accepts it."""
    def pcx004(args: list[str]) -> bool:
        unit = SourceUnit("old.c", OLD_C, Language.C, semantic_args=args)
        return any(r.id == "PCX004" for r in analyse_unit(unit).remarks)

    assert pcx004(["-std=c99"])
    assert not pcx004(["-std=c99", "-Wno-error=implicit-int"])
