"""The unit's call graph (engine/callgraph.py): one walk of the shared tree gives every call
site and both relations that the analysis, the planner and the OpenMP port read."""

from __future__ import annotations

from pcx_driver.engine import callgraph, ompport
from pcx_driver.engine.source import SourceModel, parse
from pcx_driver.model import Language, SourceUnit

CXX = """\
namespace ns { double scale(double v) { return 2 * v; } }
template <class T> T twice(T v) { return ns::scale(v); }
struct Grid { void step(double *a, int n); };
void Grid::step(double *a, int n) {
  for (int t = 0; t < 4; t++)
    for (int i = 0; i < n; i++)
      a[i] = twice<double>(a[i]);
}
void run(Grid &g, double *a, int n) {
  while (n > 0) { g.step(a, n); n--; }
}
"""


def test_a_site_knows_its_callee_caller_arguments_and_loops() -> None:
    graph = callgraph.of(CXX.encode(), Language.CXX)
    by_callee = {s.spelled: s for s in graph.sites}
    t = by_callee["twice<double>"]
    assert (t.name, t.caller, t.arguments, t.loop_lines) == ("twice", "Grid::step", frozenset({"a", "i"}), (5, 6))
    g = by_callee["g.step"]
    assert (g.name, g.caller, g.loop_lines, g.plain) == ("step", "run", (10,), False)
    assert by_callee["ns::scale"].name == "scale" and by_callee["ns::scale"].loop_lines == ()
    assert [s.start_byte for s in graph.sites] == sorted(s.start_byte for s in graph.sites)


def test_last_names_reach_through_members_templates_and_namespaces() -> None:
    graph = callgraph.of(CXX.encode(), Language.CXX)
    assert graph.reachable({"run"}) == {"run", "step", "twice", "scale"}
    assert graph.reaching({"scale"}) == {"scale", "twice", "step", "run"}
    # spelled names match only a call that names the very definition
    assert graph.reaching({"Grid::step"}, spelled=True) == {"Grid::step"}
    assert set(graph.definitions) == {"scale", "twice", "step", "run"}


def test_sites_between_is_the_calls_inside_a_byte_range() -> None:
    data = CXX.encode()
    graph = callgraph.of(data, Language.CXX)
    lo = data.index(b"void run")
    assert [s.spelled for s in graph.sites_between(lo, len(data))] == ["g.step"]
    assert graph.sites_between(0, data.index(b"struct")) == [graph.sites[0]]


def test_the_analysis_and_the_planner_share_one_tree() -> None:
    unit = SourceUnit("t.cpp", CXX, Language.CXX)
    assert SourceModel.parse(unit).tree is parse(unit.data, Language.CXX)


def test_a_template_called_from_a_cpu_parallel_region_stays_on_the_cpu() -> None:
    text = ("template <class T> void fill(T *a, int n) { for (int i = 0; i < n; i++) a[i] = 0; }\n"
            "void top(double *a, int n) {\n#pragma omp parallel\n  { fill<double>(a, n); }\n}\n")
    found = ompport.scan(text.encode(), Language.CXX)
    assert "called from the OpenMP 'parallel' at line 3" in found.cpu_functions["fill"]
