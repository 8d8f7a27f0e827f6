"""argv parsing over real command lines as Make, CMake and autotools emit them."""

from __future__ import annotations

import pytest

from pcx_driver.invocation import (
    Mode,
    depfile_candidates,
    expand_response_files,
    input_language,
    parse,
    split_pcx_flags,
)

# (command line after the compiler name, mode, [(source, language)], output, extra checks)
CASES = [
    pytest.param(
        "-DHAVE_CONFIG_H -I. -I.. -g -O2 -MT foo.o -MD -MP -MF .deps/foo.Tpo -c -o foo.o foo.c",
        Mode.COMPILE, [("foo.c", "c")], "foo.o",
        {"semantic": ["-DHAVE_CONFIG_H", "-I.", "-I.."], "depfile": ".deps/foo.Tpo", "targets": ("foo.o",)},
        id="autotools",
    ),
    pytest.param(
        "-DVECOPS -I/src/lib -O3 -DNDEBUG -MD -MT CMakeFiles/x.dir/a.c.o -MF CMakeFiles/x.dir/a.c.o.d "
        "-o CMakeFiles/x.dir/a.c.o -c /abs/a.c",
        Mode.COMPILE, [("/abs/a.c", "c")], "CMakeFiles/x.dir/a.c.o",
        {"semantic": ["-DVECOPS", "-I/src/lib", "-DNDEBUG"], "depfile": "CMakeFiles/x.dir/a.c.o.d",
         "targets": ("CMakeFiles/x.dir/a.c.o",)},
        id="cmake-makefiles",
    ),
    pytest.param(
        "-Iinclude -DNDEBUG -O2 -MMD -MP -MF src/main.d -c -o src/main.o src/main.c",
        Mode.COMPILE, [("src/main.c", "c")], "src/main.o", {"depfile": "src/main.d"}, id="make-pattern-rule",
    ),
    pytest.param("-O2 -c a.c b.cc k.cu", Mode.COMPILE, [("a.c", "c"), ("b.cc", "c++"), ("k.cu", "cuda")], None,
                 {}, id="several-sources"),
    pytest.param("-O2 -o prog main.c util.o -lm", Mode.COMPILE_LINK, [("main.c", "c")], "prog", {},
                 id="compile-and-link"),
    pytest.param("-O2 -rdynamic CMakeFiles/app.dir/app/main.c.o -o app libvecops.a -lm -Wl,-rpath,/opt/lib",
                 Mode.LINK, [], "app", {}, id="cmake-link"),
    pytest.param("-shared -Wl,-soname,libx.so.1 -o libx.so.1.0 a.o b.o -L/usr/lib -lz", Mode.LINK, [],
                 "libx.so.1.0", {}, id="shared-link"),
    pytest.param("-x c -c prog.txt -o p.o", Mode.COMPILE, [("prog.txt", "c")], "p.o", {}, id="x-lang"),
    pytest.param("-x c++ a.c -x none b.c -c", Mode.COMPILE, [("a.c", "c++"), ("b.c", "c")], None, {},
                 id="x-none-resets"),
    pytest.param("main.C -c", Mode.COMPILE, [("main.C", "c++")], None, {}, id="capital-C-is-cxx"),
    pytest.param("-x c -", Mode.PASS_THROUGH, [], None, {"reason": "stdin"}, id="stdin"),
    pytest.param("-E -dM -x c /dev/null", Mode.PASS_THROUGH, [], None, {"reason": "-E"}, id="preprocess"),
    pytest.param("-M -Iinc a.c", Mode.PASS_THROUGH, [], None, {"reason": "-M"}, id="deps-only"),
    pytest.param("-MM a.c", Mode.PASS_THROUGH, [], None, {}, id="deps-only-MM"),
    pytest.param("-S -O2 a.c", Mode.PASS_THROUGH, [], None, {}, id="assembly"),
    pytest.param("-fsyntax-only a.c", Mode.PASS_THROUGH, [], None, {}, id="syntax-only"),
    pytest.param("--version", Mode.PASS_THROUGH, [], None, {}, id="version"),
    pytest.param("-dumpversion", Mode.PASS_THROUGH, [], None, {}, id="dumpversion"),
    pytest.param("-print-file-name=libgomp.so", Mode.PASS_THROUGH, [], None, {}, id="print-file-name"),
    pytest.param("-### -c a.c", Mode.PASS_THROUGH, [], None, {}, id="hash-hash-hash"),
    pytest.param("-v", Mode.PASS_THROUGH, [], None, {"reason": "-v without inputs"}, id="v-alone"),
    pytest.param("-v -c a.c", Mode.COMPILE, [("a.c", "c")], None, {}, id="v-with-input"),
    pytest.param("-c -save-temps a.c", Mode.COMPILE, [("a.c", "c")], None, {"too_hard": True}, id="too-hard"),
    pytest.param("-c a.c -mfancy-new-flag --weird=1 -O2", Mode.COMPILE, [("a.c", "c")], None, {},
                 id="unknown-flags"),
    pytest.param("-c a.s", Mode.PASS_THROUGH, [], None, {}, id="assembler-only"),
    pytest.param("-std=c11 -include cfg.h -isystem /sys -iquote q -U X -c a.c", Mode.COMPILE, [("a.c", "c")],
                 None, {"semantic": ["-std=c11", "-include", "cfg.h", "-isystem", "/sys", "-iquote", "q", "-U", "X"]},
                 id="semantic-flags"),
    # errors by default in C99 and later (clang 16+): whether old C parses depends on them
    pytest.param("-std=c99 -Wall -Wno-error=implicit-int -Wno-implicit-function-declaration -Wno-unused -c a.c",
                 Mode.COMPILE, [("a.c", "c")], None,
                 {"semantic": ["-std=c99", "-Wno-error=implicit-int", "-Wno-implicit-function-declaration"]},
                 id="errors-made-warnings"),
]


@pytest.mark.parametrize("line, mode, sources, output, extra", CASES)
def test_parse(line, mode, sources, output, extra):
    inv = parse(line.split())
    assert inv.mode is mode, inv.pass_reason
    assert [(s.path, s.language) for s in inv.sources if mode is not Mode.PASS_THROUGH] == sources
    if mode is not Mode.PASS_THROUGH:
        assert inv.output == output
    if "semantic" in extra:
        assert inv.semantic_args == extra["semantic"]
    if "depfile" in extra:
        assert inv.dependencies.depfile == extra["depfile"]
    if "targets" in extra:
        assert inv.dependencies.targets == extra["targets"]
    if "reason" in extra:
        assert extra["reason"] in inv.pass_reason
    assert bool(inv.too_hard) == extra.get("too_hard", False)
    # positions point back into the original args
    for s in inv.sources:
        assert inv.args[s.position] == s.path


def test_response_files_expand_for_analysis_only():
    files = {"flags.rsp": '-I"dir with space" -DX=1 @more.rsp', "more.rsp": "-c src/a.c"}
    inv = parse(["-O2", "@flags.rsp", "-o", "a.o"], read=files.get)
    assert inv.args == ["-O2", "@flags.rsp", "-o", "a.o"]  # what the real compiler gets
    assert inv.expanded == ["-O2", "-Idir with space", "-DX=1", "-c", "src/a.c", "-o", "a.o"]
    assert inv.mode is Mode.COMPILE
    assert inv.semantic_args == ["-Idir with space", "-DX=1"]
    (src,) = inv.sources
    assert src.position is None and not src.rewritable  # cannot be substituted: compiled unchanged
    assert inv.output == "a.o"


def test_source_outside_response_file_keeps_its_position():
    inv = parse(["@inc.rsp", "-c", "a.c"], read={"inc.rsp": "-Ia -Ib"}.get)
    (src,) = inv.sources
    assert src.position == 2 and src.rewritable


def test_unreadable_response_file_is_too_hard():
    inv = parse(["@missing.rsp", "-c", "a.c"], read=lambda p: None)
    assert inv.too_hard and "missing.rsp" in inv.too_hard


def test_expand_reports_origins():
    out, origins, problem = expand_response_files(["a", "@r", "b"], {"r": "x y"}.get)
    assert out == ["a", "x", "y", "b"] and origins == [0, None, None, 2] and problem is None


def test_split_pcx_flags_keeps_order_and_strips():
    flags, rest = split_pcx_flags(["-O2", "--pcx-mode=static", "-c", "--pcx-remarks", "a.c", "--pcx-plugin=a",
                                   "--pcx-plugin=b"])
    assert rest == ["-O2", "-c", "a.c"]
    assert flags == {"mode": ["static"], "remarks": [""], "plugin": ["a", "b"]}


@pytest.mark.parametrize(
    "path, x, language",
    [("a.c", None, "c"), ("a.cpp", None, "c++"), ("a.cxx", None, "c++"), ("a.cu", None, "cuda"),
     ("a.o", None, "object"), ("libz.a", None, "archive"), ("libz.so.1", None, "shared-object"),
     ("a.txt", "c", "c"), ("a.c", "none", "c"), ("a.cu", "cu", "cuda")],
)
def test_input_language(path, x, language):
    assert input_language(path, x) == language


@pytest.mark.parametrize(
    "line, expected",
    [
        ("-MD -c -o obj/a.o src/a.c", ["obj/a.d", "a.d"]),
        ("-MMD -MF deps/a.d -c src/a.c", ["deps/a.d"]),
        ("-MD -c src/a.c", ["a.d"]),
        ("-c src/a.c", []),
    ],
)
def test_depfile_candidates(line, expected):
    inv = parse(line.split())
    assert depfile_candidates(inv, inv.sources[0])[: len(expected)] == expected
    if not expected:
        assert depfile_candidates(inv, inv.sources[0]) == []
