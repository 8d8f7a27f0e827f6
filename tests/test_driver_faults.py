"""pcx-cc never breaks a build: planted faults, strict mode, user errors, pass-through.

Faults are planted with plugins written into tmp_path (loaded with --pcx-plugin and
PYTHONPATH), never by relying on some engine module being absent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

CLANG = shutil.which("clang-19")
pytestmark = pytest.mark.skipif(CLANG is None, reason="clang-19 is not installed")

#: A stand-in rewriter: offloads every loop preceded by ``// pcx-test-offload: CLAUSES``
#: exactly as written, so the driver's mechanics are tested independently of the engine.
STAND_IN_REWRITER = r'''
import re

from pcx_driver import hookimpl
from pcx_driver.engine import hostaccess
from pcx_driver.model import (ArrayAccessSummary, Decision, EmittedDirective, FunctionAnalysis, KernelPlan,
                              MapClause, MapKind, NestAnalysis, Plan, Reduction, Remark, Rewrite, Section,
                              UnitAnalysis)

MARK = "// pcx-test-offload:"


def _marked(unit):
    return [(no, line.split(MARK, 1)[1].strip())
            for no, line in enumerate(unit.text.splitlines(), 1) if MARK in line]


def _items(text):
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "[" or ch == "("
        depth -= ch == "]" or ch == ")"
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return out + [cur.strip()] if cur.strip() else out


def _section(item):
    base = item.split("[", 1)[0].strip()
    dims = [tuple(d.split(":", 1)) for d in re.findall(r"\[([^\]]*)\]", item)]
    return Section(base, [(lo.strip(), ln.strip()) for lo, ln in dims])


def _nests(unit):
    # The loop under each marker, with the arrays its clauses name: the checker judges the
    # plan against this analysis, as it judges any plugin's.
    root = hostaccess.parse(unit.data, unit.language).root_node
    by_function = {}
    for no, clauses in _marked(unit):
        stack, loop = [root], None
        while stack and loop is None:  # the for statement on the line after the marker
            node = stack.pop()
            if node.type == "for_statement" and node.start_point[0] == no:
                loop = node
            stack.extend(node.children)
        if loop is None:
            continue
        fn = loop
        while fn is not None and fn.type != "function_definition":
            fn = fn.parent
        name = hostaccess.text_of(unit.data, fn.child_by_field_name("declarator").child_by_field_name("declarator"))
        nest = NestAnalysis(f"{name}:{no + 1}", name, no + 1, loop.start_point[1] + 1, loop.start_byte,
                            loop.end_byte, 1, Decision.OFFLOADED,
                            [Remark("PCX100", unit.path, no + 1, loop.start_point[1] + 1,
                                    "loop nest offloaded to the device")])
        maps = []
        for kind, body in re.findall(r"map\((\w+):\s*((?:[^()]|\([^()]*\))*)\)", clauses):
            secs = [_section(i) for i in _items(body)]
            maps.append(MapClause(MapKind(kind), secs))
            for sec in secs:
                nest.arrays.append(ArrayAccessSummary(sec.base, "double", read=kind in ("to", "tofrom"),
                                                      written=kind in ("from", "tofrom"), section=sec,
                                                      written_fully=kind == "from"))
        for op, var in re.findall(r"reduction\(([^:]+):\s*(\w+)\)", clauses):
            nest.reductions.append(Reduction(op.strip(), var))
        nest.maps = maps
        by_function.setdefault(name, (fn, []))[1].append(nest)
    return by_function


@hookimpl(tryfirst=True)
def pcx_analyse(unit, config):
    functions = [FunctionAnalysis(name, fn.start_byte, fn.end_byte, nests)
                 for name, (fn, nests) in _nests(unit).items()]
    return UnitAnalysis(path=unit.path, language=unit.language, functions=functions)


@hookimpl(tryfirst=True)
def pcx_plan(unit, analysis, config):
    kernels = [KernelPlan(nest_id=n.nest_id, function=n.function, line=n.line, column=n.column,
                          start_byte=n.start_byte, end_byte=n.end_byte, decision=Decision.OFFLOADED,
                          remarks=list(n.remarks), reductions=list(n.reductions), maps=n.maps)
               for n in analysis.nests()]
    return Plan(path=unit.path, kernels=kernels)


@hookimpl(tryfirst=True)
def pcx_rewrite(unit, plan, config):
    marked = dict(_marked(unit))
    out, directives = [f'#line 1 "{unit.path}"'], []
    for no, line in enumerate(unit.text.splitlines(), 1):
        out.append(line)
        if no in marked:
            text = "omp target teams distribute parallel for " + marked[no]
            out += ["#pragma " + text, f'#line {no + 1} "{unit.path}"']
            ids = {k.line: k.nest_id for k in plan.kernels}
            directives.append(EmittedDirective(no + 1, text, ids.get(no + 1, f"f:{no + 1}")))
    return Rewrite(unit.path, "\n".join(out) + "\n", directives)


@hookimpl(wrapper=True)
def pcx_validate(unit, rewrite, config):
    try:  # the default validator may still be under construction
        return (yield)
    except Exception:
        return []
'''

PLANTED_FAULT = r'''
from pcx_driver import hookimpl


@hookimpl(tryfirst=True)
def pcx_analyse(unit, config):
    raise RuntimeError("planted fault")
'''

VALIDATION_ENV = {"OMP_TARGET_OFFLOAD": "MANDATORY", "LIBOMPTARGET_MEMORY_MANAGER_THRESHOLD": "0",
                  "MALLOC_PERTURB_": "165", "OMP_NUM_THREADS": "2"}

SAXPY = r'''#include <stdio.h>
#include "values.h"

int main(void)
{
    static double x[N], y[N];
    double s = 0.0;
    for (int i = 0; i < N; i++) { x[i] = i * 0.5; y[i] = 1.0; }
    // pcx-test-offload: map(to: x[0:N]) map(tofrom: y[0:N])
    for (int i = 0; i < N; i++)
        y[i] = 2.0 * x[i] + y[i];
    for (int i = 0; i < N; i++)
        s += y[i];
    printf("%s %.1f\n", __FILE__, s);
    return 0;
}
'''


@pytest.fixture
def project(tmp_path, pcx_env):
    """A one-file project in src/ with a quoted include next to it, plus the plugins."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "values.h").write_text("#define N 1000\n")
    (tmp_path / "src" / "saxpy.c").write_text(SAXPY)
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "pcx_standin.py").write_text(STAND_IN_REWRITER)
    (plugins / "pcx_fault.py").write_text(PLANTED_FAULT)
    pcx_env["PYTHONPATH"] = str(plugins)
    return tmp_path


def run(argv, cwd, env, **kw):
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, **kw)


def trust(directory, env):
    """``pcx trust DIR`` with a private trust store (``XDG_CONFIG_HOME`` under the test's directory)."""
    env["XDG_CONFIG_HOME"] = str(directory / ".xdg-config")
    r = run(["pcx", "trust", str(directory)], directory, env)
    assert r.returncode == 0, r.stderr


def run_prog(path, cwd, offload=False):
    env = {**os.environ, **(VALIDATION_ENV if offload else {}), "LIBOMPTARGET_INFO": "16" if offload else "0"}
    return subprocess.run([path], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


# ------------------------------------------------------------------ never break a build


def test_planted_fault_leaves_a_working_object_and_one_warning(project, pcx_env):
    r = run(["pcx-cc", "--pcx-mode=static", "--pcx-plugin=pcx_fault", "-O2", "-c", "src/saxpy.c",
             "-o", "saxpy.o"], project, pcx_env)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and re.fullmatch(r"pcx-cc: warning: .*planted fault.*\[PCX001\]", lines[0]), r.stderr
    assert "Traceback" not in r.stderr
    assert run(["pcx-cc", "saxpy.o", "-o", "saxpy"], project, pcx_env).returncode == 0
    out = run_prog("./saxpy", project)
    assert out.returncode == 0 and out.stdout == "src/saxpy.c 500500.0\n"


def test_strict_mode_fails_on_a_planted_fault(project, pcx_env):
    pcx_env["PCX_STRICT"] = "1"
    r = run(["pcx-cc", "--pcx-mode=static", "--pcx-plugin=pcx_fault", "-c", "src/saxpy.c", "-o", "saxpy.o"],
            project, pcx_env)
    assert r.returncode == 1
    assert re.fullmatch(r"pcx-cc: error: .*planted fault.*\[PCX001\]\n", r.stderr), r.stderr
    assert not (project / "saxpy.o").exists()


def test_plugin_that_fails_to_load_warns_pcx006(project, pcx_env):
    r = run(["pcx-cc", "--pcx-mode=static", "--pcx-plugin=no_such_plugin_module", "--pcx-plugin=pcx_standin",
             "-c", "src/saxpy.c", "-o", "saxpy.o"], project, pcx_env)
    assert r.returncode == 0
    assert re.search(r"pcx-cc: warning: plugin no_such_plugin_module failed to load.*\[PCX006\]", r.stderr)


@pytest.mark.parametrize("settings", [[], ["--pcx-mode=static", "--pcx-plugin=pcx_standin"]],
                         ids=["default", "static"])
def test_user_syntax_error_looks_like_the_compilers_own(project, pcx_env, settings):
    (project / "bad.c").write_text("int main(void)\n{\n    int x = ;\n    return x\n}\n")
    real = run([CLANG, "-c", "bad.c"], project, pcx_env)
    ours = run(["pcx-cc", *settings, "-c", "bad.c"], project, pcx_env)
    assert real.returncode != 0
    assert (ours.returncode, ours.stdout, ours.stderr) == (real.returncode, real.stdout, real.stderr)


def test_rewrite_that_does_not_compile_falls_back_pcx007(project, pcx_env):
    (project / "src" / "saxpy.c").write_text(SAXPY.replace("map(to: x[0:N])", "map(to: no_such_array[0:N])"))
    r = run(["pcx-cc", "--pcx-mode=static", "--pcx-plugin=pcx_standin", "--pcx-remarks", "-c", "src/saxpy.c",
             "-o", "saxpy.o"], project, pcx_env)
    assert r.returncode == 0, r.stderr
    # ONE warning that names the file and the compiler's first error; the remarks no
    # longer claim an offload for the object that holds the original source
    warnings = [ln for ln in r.stderr.splitlines() if ln.startswith("pcx-cc: warning:")]
    assert len(warnings) == 1, r.stderr
    assert re.fullmatch(r"pcx-cc: warning: src/saxpy\.c: the rewritten source failed to compile "
                        r"\(src/saxpy\.c:\d+:\d+: error: use of undeclared identifier 'no_such_array'\); "
                        r"compiled the original source unchanged \[PCX007\]", warnings[0]), warnings[0]
    assert "[PCX100]" not in r.stderr and "offloaded" not in r.stderr
    assert not any(ln.startswith("src/saxpy.c") and "error:" in ln for ln in r.stderr.splitlines())
    strict = run(["pcx-cc", "--pcx-mode=static", "--pcx-plugin=pcx_standin", "--pcx-strict", "-c",
                  "src/saxpy.c", "-o", "strict.o"], project, pcx_env)
    assert strict.returncode != 0 and "pcx-cc: error:" in strict.stderr


HELPER = r'''#include "values.h"
double scaled_sum(void)
{
    static double z[N];
    double s = 0.0;
    // pcx-test-offload: map(from: z[0:N])
    for (int i = 0; i < N; i++)
        z[i] = 3.0 * i;
    for (int i = 0; i < N; i++)
        s += z[i];
    return s;
}
'''


def test_one_rewrite_that_does_not_compile_costs_only_its_own_file(project, pcx_env):
    """A compile-and-link of two rewritten sources, one of whose rewrites does not compile:
    that source alone is compiled as written (one warning naming it); the other keeps its
    kernel (RSBench's ``pcx-cc *.c`` had lost every file's rewrite to one)."""
    (project / "src" / "saxpy.c").write_text(
        SAXPY.replace("map(to: x[0:N])", "map(to: no_such_array[0:N])")
             .replace("    printf(", "    s += scaled_sum();\n    printf(")
             .replace("int main(void)", "double scaled_sum(void);\nint main(void)"))
    (project / "src" / "helper.c").write_text(HELPER)
    r = run(["pcx-cc", "--pcx-mode=static", "--pcx-plugin=pcx_standin", "-O2", "src/saxpy.c", "src/helper.c",
             "-o", "prog"], project, pcx_env)
    assert r.returncode == 0, r.stderr
    warnings = [ln for ln in r.stderr.splitlines() if ln.startswith("pcx-cc: warning:")]
    assert len(warnings) == 1 and warnings[0].startswith("pcx-cc: warning: src/saxpy.c: the rewritten source "
                                                         "failed to compile"), r.stderr
    out = run_prog("./prog", project, offload=True)
    assert out.returncode == 0 and out.stdout == "src/saxpy.c 1999000.0\n", out
    assert out.stderr.count("Launching kernel") == 1, out.stderr  # helper.c's kernel


def test_a_link_error_of_the_users_own_blames_no_rewrite(project, pcx_env):
    """A rewritten source linked into a program with no ``main``: the linker's error, as
    plain clang gives it, and no PCX007 warning saying the rewrite failed."""
    (project / "src" / "helper.c").write_text(HELPER)
    r = run(["pcx-cc", "--pcx-mode=static", "--pcx-plugin=pcx_standin", "--pcx-remarks", "-O2", "src/helper.c",
             "-o", "prog"], project, pcx_env)
    assert r.returncode != 0
    assert "undefined reference to `main'" in r.stderr, r.stderr
    assert "pcx-cc: warning" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    # (nor a remark that the rewritten source failed to compile: klib's kmin_test without -lm)
    assert "[PCX007]" not in r.stderr, r.stderr


@pytest.mark.parametrize("bad,error", [
    ("int helper(void) { return undeclared_name; }\n",
     "bad.c:1:27: error: use of undeclared identifier 'undeclared_name'"),
    ("#include \"../../common/missing.h\"\nint helper(void) { return 0; }\n",
     "bad.c:1:10: fatal error: '../../common/missing.h' file not found"),
], ids=["an error", "a missing header (a fatal error)"])
def test_an_error_in_a_source_left_as_written_blames_no_rewrite(project, pcx_env, bad, error):
    """A command compiling two sources, one rewritten and one with the user's own error:
    the compiler's error is the user's (the original compile fails the same way), and no
    PCX007 warning says the rewrite failed (Rodinia lud built with -std=c99 got one, and
    built from another directory, with its ``../../common`` header missing, another)."""
    (project / "bad.c").write_text(bad)
    r = run(["pcx-cc", "--pcx-mode=static", "--pcx-plugin=pcx_standin", "-c", "src/saxpy.c", "bad.c"],
            project, pcx_env)
    assert r.returncode != 0
    assert error in r.stderr, r.stderr
    assert "pcx-cc: warning" not in r.stderr and "Traceback" not in r.stderr, r.stderr


NESTED_TARGETS = """#include <stdio.h>
int main(int argc, char **argv) {
  int n = 1000 + argc;
  double a[2000], b[2000];
  for (int i = 0; i < n; i++) a[i] = i * 0.5;
  #pragma omp target map(tofrom: a[0:n])
  #pragma omp target teams distribute parallel for
  for (int i = 0; i < n; i++) a[i] += 1.0;
  for (int i = 0; i < n; i++) b[i] = a[i] * 2.0;
  printf("%f\\n", b[3]);
  return 0;
}
"""


def test_the_sources_own_openmp_error_blames_no_rewrite(project, pcx_env):
    """A source whose own OpenMP is invalid (two stacked ``target`` constructs, as in the
    ParaCodex copy of Rodinia backprop) fails the rewritten compile and the original one
    alike: the error is the compiler's, with no PCX007 warning blaming the rewrite."""
    (project / "nested.c").write_text(NESTED_TARGETS)
    r = run(["pcx-cc", "--pcx-mode=static", "-O2", "-fopenmp", "-MD", "-c", "nested.c", "-o", "nested.o"],
            project, pcx_env)
    assert r.returncode != 0
    assert "error: region cannot be nested inside 'target' region" in r.stderr, r.stderr
    assert "pcx-cc: warning" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not (project / "nested.o").exists()


def test_non_utf8_source_is_analysed_with_its_bytes_kept_pcx002(project, pcx_env):
    (project / "latin1.c").write_bytes(b'#include <stdio.h>\nint main(void) { puts("caf\xe9"); return 0; }\n')
    r = run(["pcx-cc", "--pcx-mode=static", "--pcx-plugin=pcx_standin", "--pcx-remarks", "latin1.c",
             "-o", "latin1"], project, pcx_env)
    assert r.returncode == 0, r.stderr
    assert re.search(r"latin1\.c:1:1: remark: .*\[PCX002\]", r.stderr) and "pcx-cc: warning" not in r.stderr
    out = subprocess.run(["./latin1"], cwd=project, capture_output=True, timeout=30)
    assert out.stdout == b"caf\xe9\n"


def test_source_with_openmp_is_left_as_is_pcx003(project, pcx_env):
    (project / "omp.c").write_text("int main(void)\n{\n    int s = 0;\n#pragma omp parallel for reduction(+:s)\n"
                                   "    // pcx-test-offload: map(tofrom: s)\n"
                                   "    for (int i = 0; i < 10; i++) s += i;\n    return s - 45;\n}\n")
    # (a build with OpenMP, where the file's own pragma runs; without -fopenmp it is inert,
    # PCX019, tests/test_openmp_consistency.py)
    r = run(["pcx-cc", "--pcx-mode=static", "--pcx-plugin=pcx_standin", "--pcx-remarks", "-fopenmp", "-c", "omp.c"],
            project, pcx_env)
    assert r.returncode == 0 and "omp.c:4:1: remark: " in r.stderr and "[PCX003]" in r.stderr


HAND_WRITTEN_TARGET = """#include <stdio.h>
int main(void)
{
    double a[1000];
#pragma omp target teams distribute parallel for map(from: a[0:1000])
    for (int i = 0; i < 1000; i++)
        a[i] = i * 0.5;
    double s = 0.0;
    for (int i = 0; i < 1000; i++)
        s += a[i];
    printf("%g\\n", s);
    return 0;
}
"""


@pytest.mark.parametrize("steps", [["-c", "own.c", "-o", "own.o"], ["own.c", "-o", "own"]])
def test_hand_written_target_code_is_offloaded_in_the_default_mode(project, pcx_env, steps):
    """The default (validated, no plan cache) path does not analyse sources, but a source
    with its own target regions still gets the offload compile and link: its kernel runs
    on the device, not silently on the host."""
    (project / "own.c").write_text(HAND_WRITTEN_TARGET)
    assert run(["pcx-cc", "-O2", *steps], project, pcx_env).returncode == 0
    if "-c" in steps:
        assert run(["pcx-cc", "own.o", "-o", "own"], project, pcx_env).returncode == 0
    env = {**pcx_env, "OMP_TARGET_OFFLOAD": "MANDATORY", "LIBOMPTARGET_INFO": "48"}
    out = subprocess.run(["./own"], cwd=project, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout == "249750\n"
    assert out.stderr.count("Launching kernel") == 1


def test_unknown_pcx_flag_is_an_error(project, pcx_env):
    r = run(["pcx-cc", "--pcx-frobnicate=1", "-c", "src/saxpy.c"], project, pcx_env)
    assert r.returncode == 2
    assert r.stderr.startswith("pcx-cc: error: ") and "--pcx-frobnicate" in r.stderr
    bad = run(["pcx-cc", "--pcx-mode=sometimes", "-c", "src/saxpy.c"], project, pcx_env)
    assert bad.returncode == 2 and bad.stderr.startswith("pcx-cc: error: ")


# ------------------------------------------------------------------ pass-through


FAKE_COMPILER = """#!/bin/sh
printf '%s\\n' "$0" "$@" > "$(dirname "$0")/argv.$$.txt"
ls "$(dirname "$0")" > /dev/null
"""


@pytest.mark.parametrize("extra", [[], ["--pcx-remarks", "--pcx-mode=static"]], ids=["fast", "full"])
def test_offload_target_none_forwards_argv_exactly(tmp_path, pcx_env, extra):
    fake = tmp_path / "bin" / "fake-clang"
    fake.parent.mkdir()
    fake.write_text(FAKE_COMPILER)
    fake.chmod(0o755)
    args = ["-O2", "-Wl,--as-needed", "-Iinc", "-x", "c", "-", "@rsp", "-mfancy", "--weird=1", "a b.c", "-o", "o"]
    r = run(["pcx-cc", f"--pcx-cc={fake}", "--pcx-offload-target=none", *extra, *args], tmp_path, pcx_env)
    assert r.returncode == 0, r.stderr
    (record,) = list(fake.parent.glob("argv.*.txt"))
    assert record.read_text().splitlines() == [str(fake), *args]


def test_stdin_passes_through(tmp_path, pcx_env):
    r = run(["pcx-cc", "-x", "c", "-", "-o", "prog"], tmp_path, pcx_env,
            input="int main(void) { return 3; }\n")
    assert r.returncode == 0, r.stderr
    assert subprocess.run(["./prog"], cwd=tmp_path, timeout=30).returncode == 3


@pytest.mark.parametrize("argv", [["--version"], ["-dumpversion"], ["-E", "-dM", "-x", "c", "/dev/null"],
                                  ["-print-file-name=libomp.so"]])
def test_not_a_compile_matches_the_real_compiler(tmp_path, pcx_env, argv):
    real = run([CLANG, *argv], tmp_path, pcx_env)
    ours = run(["pcx-cc", *argv], tmp_path, pcx_env)
    assert (ours.returncode, ours.stdout) == (real.returncode, real.stdout)


def test_launcher_form_and_wrapper_recursion(project, pcx_env):
    r = run(["pcx-cc", CLANG, "-c", "src/saxpy.c", "-o", "a.o"], project, pcx_env)
    assert r.returncode == 0, r.stderr
    assert (project / "a.o").exists()
    # A wrapper script that runs pcx-cc again, configured as pcx-cc's real compiler.
    wrapper = project / "mycc"
    wrapper.write_text('#!/bin/sh\nexec pcx-cc "$@"\n')
    wrapper.chmod(0o755)
    pcx_env["PCX_CC"] = str(wrapper)
    r = run(["pcx-cc", "-c", "src/saxpy.c", "-o", "b.o"], project, pcx_env)
    assert r.returncode == 0, r.stderr
    assert (project / "b.o").exists()
    # pcx-cc as its own launcher must not recurse either
    r = run(["pcx-cc", "pcx-cc", "-c", "src/saxpy.c", "-o", "c.o"], project, {**pcx_env, "PCX_CC": ""})
    assert r.returncode == 0, r.stderr


def test_cxx_source_through_pcx_cc(tmp_path, pcx_env):
    (tmp_path / "m.cpp").write_text("template <class T> T twice(T x) { return 2 * x; }\n"
                                    "int main() { return twice<int>(3) - 6; }\n")
    assert run(["pcx-cc", "-c", "m.cpp"], tmp_path, pcx_env).returncode == 0
    r = run(["pcx-c++", "m.o", "-o", "m"], tmp_path, pcx_env)
    assert r.returncode == 0, r.stderr
    assert subprocess.run(["./m"], cwd=tmp_path, timeout=30).returncode == 0


# ------------------------------------------------------------------ the rewrite path


def test_rewrite_is_compiled_offloaded_and_names_the_users_file(project, pcx_env):
    """The stand-in rewrite is compiled from a temp dir: the quoted include still
    resolves, __FILE__, warnings and the .d file name src/saxpy.c, and the kernel runs on
    the host device under OMP_TARGET_OFFLOAD=MANDATORY."""
    src = project / "src" / "saxpy.c"
    src.write_text(SAXPY.replace("    double s = 0.0;\n", "    double s = 0.0;\n    int unused;\n"))
    (project / "deps").mkdir()
    r = run(["pcx-cc", "--pcx-mode=static", "--pcx-plugin=pcx_standin", "--pcx-report=report.json",
             "--pcx-emit=emitted", "-Wall", "-g", "-O2", "-MD", "-MT", "saxpy.o", "-MF", "deps/saxpy.d",
             "-c", "src/saxpy.c", "-o", "saxpy.o"], project, pcx_env)
    assert r.returncode == 0, r.stderr
    real = run([CLANG, "-Wall", "-fsyntax-only", "src/saxpy.c"], project, pcx_env)
    assert real.stderr.splitlines()[0] == "src/saxpy.c:8:9: warning: unused variable 'unused' [-Wunused-variable]"
    assert r.stderr.splitlines()[0] == real.stderr.splitlines()[0]  # same place, same words
    assert "pcx-" not in r.stderr.replace("pcx-cc", "")
    deps = (project / "deps" / "saxpy.d").read_text()
    assert deps.startswith("saxpy.o: src/saxpy.c") and "src/values.h" in deps and "/pcx-" not in deps
    assert b"/pcx-" not in (project / "saxpy.o").read_bytes()  # debug info names the user's directory
    assert "#pragma omp target teams" in (project / "emitted" / "src" / "saxpy.c").read_text()

    link = run(["pcx-cc", "saxpy.o", "-o", "saxpy"], project, pcx_env)
    assert link.returncode == 0, link.stderr
    out = run_prog("./saxpy", project, offload=True)
    assert out.returncode == 0 and out.stdout == "src/saxpy.c 500500.0\n", out.stderr
    assert "Launching kernel" in out.stderr  # really offloaded

    report = json.loads((project / "report.json").read_text())
    assert report["version"] == 1
    (entry,) = report["sources"]
    assert entry["file"] == "src/saxpy.c" and entry["compiled"] == "rewritten" and entry["language"] == "c"
    assert entry["mode"] == "static" and entry["offload_target"]
    (nest,) = entry["nests"]
    assert nest["decision"] == "offloaded" and nest["applied"] is True and nest["line"] == 11
    assert [r["id"] for r in nest["reasons"]] == ["PCX100"]
    assert nest["directives"] == ["omp target teams distribute parallel for map(to: x[0:N]) map(tofrom: y[0:N])"]


def test_dependencies_written_to_standard_output_name_the_users_file(project, pcx_env):
    """``-MMD -MF -``: the rules a build saves from standard output name src/saxpy.c (a
    rule for the temp copy, gone after the compile, stopped the next make), once: the
    offload compile's device pass wrote its rule too (with -MP, each header's as well)."""
    r = run(["pcx-cc", "--pcx-mode=static", "--pcx-plugin=pcx_standin", "-O2", "-MMD", "-MF", "-", "-MP",
             "-c", "src/saxpy.c", "-o", "saxpy.o"], project, pcx_env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("saxpy.o: src/saxpy.c") and "/pcx-" not in r.stdout, r.stdout
    targets = [ln.split(":")[0] for ln in r.stdout.splitlines() if ln and not ln[0].isspace()]
    assert len(targets) == len(set(targets)), r.stdout


def test_report_merges_several_compiles_and_records(project, pcx_env):
    (project / "other.c").write_text("int other(int n)\n{\n    int s = 0;\n    for (int i = 0; i < n; i++) s += i;\n"
                                     "    return s;\n}\n")
    base = ["pcx-cc", "--pcx-mode=static", "--pcx-plugin=pcx_standin", "--pcx-report=out/r.json",
            "--pcx-record=rec"]
    assert run([*base, "-c", "src/saxpy.c"], project, pcx_env).returncode == 0
    assert run([*base, "-c", "other.c"], project, pcx_env).returncode == 0
    assert run([*base, "-c", "other.c"], project, pcx_env).returncode == 0  # replaces, not duplicates
    report = json.loads((project / "out" / "r.json").read_text())
    assert sorted(e["file"] for e in report["sources"]) == ["other.c", "src/saxpy.c"]
    other = next(e for e in report["sources"] if e["file"] == "other.c")
    assert other["nests"] == [] and other["compiled"] == "original"
    records = [json.loads(p.read_text()) for p in (project / "rec").glob("*.json")]
    assert sorted(r["unit"]["path"] for r in records) == ["other.c", "src/saxpy.c"]
    assert all({"unit", "analysis", "plan", "key"} <= r.keys() for r in records)


def test_validated_mode_without_a_plan_reports_pcx009(project, pcx_env):
    r = run(["pcx-cc", "--pcx-plugin=pcx_standin", "--pcx-report=r.json", "--pcx-remarks", "-c", "src/saxpy.c"],
            project, pcx_env)
    assert r.returncode == 0, r.stderr
    assert "[PCX009]" in r.stderr
    (entry,) = json.loads((project / "r.json").read_text())["sources"]
    assert entry["compiled"] == "original" and entry["nests"][0]["decision"] == "offloaded"
    assert entry["nests"][0]["applied"] is False


# ------------------------------------------------------------------ CUDA


KERNEL_CU = r'''#include <cuda_runtime.h>

__global__ void scale(float *v, float s, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        v[i] = v[i] * s + 1.0f;
}

extern "C" double scaled_sum(int n)
{
    float *v;
    cudaMallocManaged(&v, n * sizeof(float));
    for (int i = 0; i < n; i++)
        v[i] = (float)(i % 10);
    scale<<<(n + 127) / 128, 128>>>(v, 2.0f, n);
    cudaDeviceSynchronize();
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += v[i];
    cudaFree(v);
    return sum;
}
'''

MAIN_C = r'''#include <stdio.h>
double scaled_sum(int n);
int main(void) { printf("sum=%.1f\n", scaled_sum(1000)); return 0; }
'''


def test_mixed_c_and_cuda_build(tmp_path, pcx_env):
    """A .cu source is translated to OpenMP C++ and compiled with the family's C++ driver,
    next to a C source, in one compile-and-link command and in separate steps."""
    try:
        from pcx_driver.cuda import translate_source  # noqa: F401
    except ImportError:
        pytest.skip("the CUDA translator is not available")
    (tmp_path / "kern.cu").write_text(KERNEL_CU)
    (tmp_path / "main.c").write_text(MAIN_C)
    expected = f"sum={sum((i % 10) * 2.0 + 1.0 for i in range(1000)):.1f}\n"
    r = run(["pcx-cc", "-O2", "main.c", "kern.cu", "-o", "together"], tmp_path, pcx_env)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    for cmd in (["pcx-cc", "-O2", "-c", "kern.cu"], ["pcx-cc", "-O2", "-c", "main.c"],
                ["pcx-c++", "main.o", "kern.o", "-o", "apart"]):
        step = run(cmd, tmp_path, pcx_env)
        assert step.returncode == 0, step.stderr
    for prog in ("together", "apart"):
        out = run_prog(f"./{prog}", tmp_path, offload=True)
        assert out.returncode == 0 and out.stdout == expected, out.stderr
        assert "Launching kernel" in out.stderr


# ------------------------------------------------------------------ settings sources


def test_fast_pass_through_decisions(tmp_path):
    from pcx_driver.driver import fast_pass_through

    env = {"PATH": os.environ["PATH"], "PCX_OFFLOAD_TARGET": "none"}
    argv = fast_pass_through(["--pcx-cc=clang-19", "-c", "a.c"], False, env, str(tmp_path))
    assert argv == [CLANG, "-c", "a.c"]
    assert fast_pass_through(["clang-19", "-c", "a.c"], False, env, str(tmp_path)) == [CLANG, "-c", "a.c"]
    # anything that needs the settings machinery takes the full path
    assert fast_pass_through(["-c", "a.c"], False, {**env, "PCX_OFFLOAD_TARGET": "x86_64-pc-linux-gnu"},
                             str(tmp_path)) is None
    assert fast_pass_through(["--pcx-remarks", "-c", "a.c"], False, env, str(tmp_path)) is None
    assert fast_pass_through(["-c", "a.c"], False, {**env, "PCX_CC_ACTIVE": "/x"}, str(tmp_path)) is None
    (tmp_path / "pcx.toml").write_text('cc = "gcc"\n')
    assert fast_pass_through(["-c", "a.c"], False, env, str(tmp_path / ".")) is None


def test_pcx_toml_settings_apply(tmp_path, pcx_env):
    """pcx.toml (found upward) can switch pcx-cc to pass-through and pick the compiler."""
    fake = tmp_path / "fake-clang"
    fake.write_text(FAKE_COMPILER)
    fake.chmod(0o755)
    (tmp_path / "pcx.toml").write_text(f'[pcx]\noffload_target = "none"\ncc = "{fake}"\n')
    (tmp_path / "sub").mkdir()
    trust(tmp_path, pcx_env)  # `cc` runs a program: only from a trusted pcx.toml
    r = run(["pcx-cc", "-O2", "-c", "x.c"], tmp_path / "sub", pcx_env)
    assert r.returncode == 0, r.stderr
    (record,) = list(tmp_path.glob("argv.*.txt"))
    assert record.read_text().splitlines() == [str(fake), "-O2", "-c", "x.c"]


def test_configured_compiler_that_does_not_exist_is_an_error(tmp_path, pcx_env):
    r = run(["pcx-cc", "--pcx-cc=no-such-compiler-19", "-c", "x.c"], tmp_path, pcx_env)
    assert r.returncode == 1 and r.stderr.startswith("pcx-cc: error: ") and "no-such-compiler-19" in r.stderr


SETTING_PROBE = r'''
from pcx_driver import hookimpl
from pcx_driver.config import OptionSpec


@hookimpl
def pcx_add_options():
    return [OptionSpec("probe", "unset", "a test plugin's setting")]


@hookimpl(tryfirst=True)
def pcx_analyse(unit, config):
    raise RuntimeError("probe=" + str(config.get("probe")))
'''


@pytest.mark.parametrize(
    "where, expected",
    [("flag", "fromflag"), ("environment", "fromenv"), ("pcx.toml", "fromtoml"), ("nowhere", "unset")],
)
def test_plugin_settings_from_flag_environment_and_pcx_toml(project, pcx_env, where, expected):
    (project / "plugins" / "pcx_probe.py").write_text(SETTING_PROBE)
    argv = ["pcx-cc", "--pcx-mode=static", "-c", "src/saxpy.c"]
    if where == "flag":
        argv.insert(1, "--pcx-probe=fromflag")
    if where == "environment":
        pcx_env["PCX_PROBE"] = "fromenv"
    if where == "pcx.toml":
        (project / "pcx.toml").write_text('[pcx]\nplugin = ["pcx_probe"]\nprobe = "fromtoml"\n')
        trust(project, pcx_env)  # `plugin` loads code: only from a trusted pcx.toml
    else:
        pcx_env["PCX_PLUGIN"] = "pcx_probe"
    r = run(argv, project, pcx_env)
    assert r.returncode == 0, r.stderr
    assert f"probe={expected}" in r.stderr and r.stderr.count("\n") == 1, r.stderr


@pytest.mark.parametrize("how", ["-save-temps", "response file", "stdin"])
def test_a_source_compiled_unchanged_says_why(project, pcx_env, how):
    """Options whose meaning a rewritten copy would change (``-save-temps`` names its
    temporaries after the compiled file), and a source named only in a response file,
    compile the source as written: PCX020 says so, where nothing did."""
    (project / "args.rsp").write_text("src/saxpy.c\n")
    words = {"-save-temps": ["-save-temps", "src/saxpy.c"], "response file": ["@args.rsp"],
             "stdin": ["src/saxpy.c", "-x", "c", "-"]}[how]  # (a command that also reads one from stdin)
    out = [] if how == "stdin" else ["-o", "saxpy.o"]
    r = run(["pcx-cc", "--pcx-mode=static", "--pcx-remarks", "-O2", "-c", *words, *out], project, pcx_env,
            input="int from_stdin;\n")
    assert r.returncode == 0, r.stderr
    assert "[PCX020]" in r.stderr and "compiled unchanged" in r.stderr, r.stderr


STATIC_PROGRAM = r"""#include <stdio.h>
#define N 100000
double x[N];
int main(void) {
  for (int i = 0; i < N; i++) x[i] = i * 0.5;
  double s = 0;
  for (int i = 0; i < N; i++) s += x[i];
  printf("%.1f\n", s);
  return 0;
}
"""


def test_a_static_link_builds_as_written(project, pcx_env):
    """``-static``: the OpenMP offload runtime has no static library, so the offload link
    of a rewritten source failed ("cannot find -lomp", a held-out check) where clang
    linked.  The command runs as written (PCX020 says why); objects another command
    compiled with kernels cannot link statically, and a warning says so."""
    (project / "st.c").write_text(STATIC_PROGRAM)
    r = run(["clang-19", "-O2", "-static", "st.c", "-o", "serial"], project, pcx_env)
    if r.returncode != 0:
        pytest.skip("no static C library here: " + r.stderr[-200:])
    r = run(["pcx-cc", "--pcx-mode=static", "--pcx-remarks", "-O2", "-static", "st.c", "-o", "st"], project, pcx_env)
    assert r.returncode == 0 and "links statically (-static)" in r.stderr and "[PCX020]" in r.stderr, r.stderr
    assert run_prog(project / "st", project).stdout == run_prog(project / "serial", project).stdout
    assert run(["pcx-cc", "--pcx-mode=static", "-O2", "-c", "st.c"], project, pcx_env).returncode == 0
    r = run(["pcx-cc", "--pcx-mode=static", "-static", "st.o", "-o", "st2"], project, pcx_env)
    assert r.returncode != 0 and "pcx-cc: warning: objects on this -static link hold OpenMP offload code" in r.stderr
