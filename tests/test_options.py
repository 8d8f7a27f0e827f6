"""The option table (ccache's compopt model): sorted, unique, consistent, and found."""

from __future__ import annotations

import pytest

from pcx_driver import families, options, toolchain
from pcx_driver.options import (
    DEPENDENCY,
    LINK_ONLY,
    NOT_A_COMPILE,
    OPTIONS,
    SEMANTIC,
    TAKES_ARG,
    TAKES_CONCAT_ARG,
    TAKES_PATH,
    TOO_HARD,
)


def test_table_is_sorted_and_unique():
    names = [o.name for o in OPTIONS]
    assert names == sorted(names), "keep OPTIONS sorted (ASCII order)"
    assert len(names) == len(set(names))


@pytest.mark.parametrize("o", OPTIONS, ids=lambda o: o.name)
def test_entry_is_consistent(o):
    assert o.name.startswith("-")
    if o.joined_only:  # "-std=": only a joined value
        assert o.flags & TAKES_CONCAT_ARG and not o.flags & TAKES_ARG
    if o.flags & TAKES_PATH:
        assert o.flags & (TAKES_ARG | TAKES_CONCAT_ARG), "a path option must take a value"
    assert not (o.flags & NOT_A_COMPILE and o.flags & LINK_ONLY)
    assert not (o.flags & SEMANTIC and o.flags & LINK_ONLY)
    # every entry is found by its own name (exact or as a joined prefix with a value)
    probe = o.name + "x" if o.joined_only else o.name
    m = options.match(probe, "next")
    assert m is not None and m.option == o
    assert options.find(o.name) == o


@pytest.mark.parametrize(
    "arg, following, name, value, consumed",
    [
        ("-o", "a.out", "-o", "a.out", 2),
        ("-ofoo.o", None, "-o", "foo.o", 1),
        ("-I", "inc", "-I", "inc", 2),
        ("-Iinc", "x.c", "-I", "inc", 1),
        ("-std=c11", None, "-std=", "c11", 1),
        ("-include-pch", "a.pch", "-include-pch", "a.pch", 2),  # longest name wins
        ("-include", "cfg.h", "-include", "cfg.h", 2),
        ("-fopenmp-targets=nvptx64-nvidia-cuda", None, "-fopenmp-targets=", "nvptx64-nvidia-cuda", 1),
        ("-fopenmp", "x.c", "-fopenmp", None, 1),
        ("-Wl,-rpath,/x", None, "-Wl,", "-rpath,/x", 1),
        ("-MF", "a.d", "-MF", "a.d", 2),
        ("-MD", "-c", "-MD", None, 1),
        ("-print-file-name=libc.a", None, "-print-", "file-name=libc.a", 1),
        ("-lm", None, "-l", "m", 1),
        ("-o", None, "-o", None, 1),  # value missing at the end: the compiler will complain
    ],
)
def test_match(arg, following, name, value, consumed):
    m = options.match(arg, following)
    assert m is not None
    assert (m.option.name, m.value, m.consumed) == (name, value, consumed)


@pytest.mark.parametrize("arg", ["-O2", "-g", "-Wall", "-march=native", "-fPIC", "-pthreads", "-m64"])
def test_unknown_flags_are_not_matched(arg):
    assert options.match(arg, "x.c") is None


def test_bits_that_change_behaviour():
    assert options.find("-E").flags & NOT_A_COMPILE
    assert options.find("-M").flags & NOT_A_COMPILE and options.find("-M").flags & DEPENDENCY
    assert not options.find("-MD").flags & NOT_A_COMPILE
    assert options.find("-save-temps").flags & TOO_HARD
    assert options.find("-MJ").flags & TOO_HARD


def test_autodetect_order_agrees_with_families():
    assert toolchain.AUTODETECT_C == tuple(n for f in families.FAMILIES for n in f.c_compilers)
    assert toolchain.AUTODETECT_CXX == tuple(n for f in families.FAMILIES for n in f.cxx_compilers)


@pytest.mark.parametrize(
    "family, target, stage, user, expected",
    [
        # the device pass is quiet (-w): each warning once, from the host pass
        (families.CLANG, families.HOST, "compile", [], ["-fopenmp", "-fopenmp-targets=x86_64-pc-linux-gnu",
                                                       "-Xopenmp-target=x86_64-pc-linux-gnu", "-w"]),
        # an option and its argument stay together, whatever the user passed
        (families.CLANG, families.HOST, "compile", ["-w"], ["-fopenmp", "-fopenmp-targets=x86_64-pc-linux-gnu",
                                                           "-Xopenmp-target=x86_64-pc-linux-gnu", "-w"]),
        (families.CLANG, families.HOST, "compile", ["-fopenmp-targets=x86_64-pc-linux-gnu"], ["-fopenmp"]),
        (families.CLANG, families.HOST, "link", ["-fopenmp"],
         ["-fopenmp-targets=x86_64-pc-linux-gnu", "-Wl,-rpath,/L"]),
        (families.CLANG, families.NVPTX, "compile", [],
         ["-fopenmp", "-fopenmp-targets=nvptx64-nvidia-cuda", "--offload-arch=sm_90",
          "--libomptarget-nvptx-bc-path=/L", "-Xopenmp-target=nvptx64-nvidia-cuda", "-w"]),
        # the user chose a target: only the OpenMP switch and the rpath are ours
        (families.CLANG, families.NVPTX, "link", ["-fopenmp-targets=amdgcn-amd-amdhsa"],
         ["-fopenmp", "-Wl,-rpath,/L"]),
        (families.CLANG, families.HOST, "compile", ["-fopenmp=libomp"], ["-fopenmp-targets=x86_64-pc-linux-gnu",
                                                                         "-Xopenmp-target=x86_64-pc-linux-gnu", "-w"]),
        (families.GCC, families.HOST, "compile", [], ["-fopenmp", "-foffload=disable"]),
        (families.GCC, families.NVPTX, "link", [],
         ["-fopenmp", "-foffload=nvptx-none", "-foffload-options=nvptx-none=-misa=sm_80"]),
        (families.NVC, families.NVPTX, "compile", [], ["-mp=gpu", "-gpu=cc90"]),
        (families.NVC, families.AMDGCN, "compile", [], []),
        (families.CLANG, families.NONE, "link", [], []),
    ],
)
def test_offload_flags(family, target, stage, user, expected):
    assert families.offload_flags(family, target, stage, user, llvm_lib="/L") == expected


@pytest.mark.parametrize(
    "name, family, cxx",
    [
        ("clang-19", "clang", "clang++-19"),
        ("/usr/lib/llvm-19/bin/clang", "clang", "/usr/lib/llvm-19/bin/clang++"),
        ("x86_64-linux-gnu-gcc-12", "gcc", "x86_64-linux-gnu-g++-12"),
        ("gcc", "gcc", "g++"),
        ("nvc", "nvc", "nvc++"),
    ],
)
def test_family_names(name, family, cxx):
    f = families.family_from_name(name)
    assert f is not None and f.name == family
    assert families.cxx_name_for(name, f) == cxx


def test_family_from_version_banner():
    assert families.family_from_version("Debian clang version 19.1.7").name == "clang"
    assert families.family_from_version("gcc (Debian 12.2.0-14) 12.2.0\nCopyright (C) 2022 Free Software Foundation").name == "gcc"
    assert families.family_from_name("cc") is None  # ambiguous: ask --version
