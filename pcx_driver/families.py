"""Compiler families as data: how to recognise one, and its OpenMP/offload flags.

Bear's ``flags/*.yaml`` tables are the model: a family (clang, gcc, nvc) is a record,
not code.  Flag templates may name ``{arch}`` (the offload architecture), ``{arch_cc}``
(``sm_90`` -> ``90`` for nvc's ``-gpu=cc90``), ``{llvm_lib}`` (clang's library directory,
home of libomptarget and the device bitcode) and ``{rocm_lib}`` (AMD device libraries);
a flag whose placeholder has no value is left out.

This module is pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NVPTX = "nvptx64-nvidia-cuda"
AMDGCN = "amdgcn-amd-amdhsa"
HOST = "x86_64-pc-linux-gnu"
NONE = "none"
TARGETS = (NVPTX, AMDGCN, HOST, NONE)

#: Default architecture per offload target (PCX_OFFLOAD_ARCH overrides).
DEFAULT_ARCH = {NVPTX: "sm_90", AMDGCN: "gfx90a", HOST: ""}

ROCM_DEVICE_LIB = "/usr/lib/x86_64-linux-gnu/amdgcn/bitcode"


@dataclass(frozen=True)
class OffloadFlags:
    compile: tuple[str, ...]
    link: tuple[str, ...]
    #: added to a compile as one unit (an option and its argument), unless the user chose
    #: the target: clang compiles the source a second time for the device, and ``-w``
    #: there keeps each of the user's warnings to one copy, the host pass's
    device_only: tuple[str, ...] = ()


@dataclass(frozen=True)
class Family:
    name: str
    c_compilers: tuple[str, ...]  # autodetection order (first found on PATH wins)
    cxx_compilers: tuple[str, ...]
    name_markers: tuple[str, ...]  # substrings of an executable's name that identify it
    version_markers: tuple[str, ...]  # substrings of ``--version`` output that identify it
    c_to_cxx: tuple[tuple[str, str], ...]  # name fragments: "clang" -> "clang++"
    openmp: tuple[str, ...]  # what turns OpenMP on
    # Options with which a user already chose an offload target: if present, pcx adds
    # only ``openmp`` and rpath-like flags and leaves the target to the user.
    target_options: tuple[str, ...]
    targets: dict[str, OffloadFlags] = field(default_factory=dict)
    default_arch: dict[str, str] = field(default_factory=dict)


CLANG = Family(
    name="clang",
    c_compilers=("clang-19", "clang"),
    cxx_compilers=("clang++-19", "clang++"),
    name_markers=("clang",),
    version_markers=("clang version",),
    c_to_cxx=(("clang", "clang++"),),
    openmp=("-fopenmp",),
    target_options=("-fopenmp-targets=", "--offload-arch=", "-Xopenmp-target"),
    targets={
        HOST: OffloadFlags(
            compile=("-fopenmp", "-fopenmp-targets=x86_64-pc-linux-gnu"),
            link=("-fopenmp", "-fopenmp-targets=x86_64-pc-linux-gnu", "-Wl,-rpath,{llvm_lib}"),
            device_only=("-Xopenmp-target=x86_64-pc-linux-gnu", "-w"),
        ),
        NVPTX: OffloadFlags(
            compile=("-fopenmp", "-fopenmp-targets=nvptx64-nvidia-cuda", "--offload-arch={arch}",
                     "--libomptarget-nvptx-bc-path={llvm_lib}"),
            link=("-fopenmp", "-fopenmp-targets=nvptx64-nvidia-cuda", "--offload-arch={arch}",
                  "--libomptarget-nvptx-bc-path={llvm_lib}", "-Wl,-rpath,{llvm_lib}"),
            device_only=("-Xopenmp-target=nvptx64-nvidia-cuda", "-w"),
        ),
        AMDGCN: OffloadFlags(
            compile=("-fopenmp", "-fopenmp-targets=amdgcn-amd-amdhsa", "--offload-arch={arch}",
                     "--rocm-device-lib-path={rocm_lib}"),
            link=("-fopenmp", "-fopenmp-targets=amdgcn-amd-amdhsa", "--offload-arch={arch}",
                  "--rocm-device-lib-path={rocm_lib}", "-Wl,-rpath,{llvm_lib}"),
            device_only=("-Xopenmp-target=amdgcn-amd-amdhsa", "-w"),
        ),
    },
    default_arch=dict(DEFAULT_ARCH),
)

GCC = Family(
    name="gcc",
    c_compilers=("gcc", "cc"),
    cxx_compilers=("g++", "c++"),
    name_markers=("gcc", "g++"),
    version_markers=("Free Software Foundation", "(GCC)", "gcc version"),
    c_to_cxx=(("gcc", "g++"), ("cc", "c++")),
    openmp=("-fopenmp",),
    target_options=("-foffload=", "-foffload-options="),
    targets={
        # gcc has no separate-memory host device; -foffload=disable keeps target regions
        # on the host even when an offload compiler package is installed.
        HOST: OffloadFlags(compile=("-fopenmp", "-foffload=disable"), link=("-fopenmp", "-foffload=disable")),
        NVPTX: OffloadFlags(
            compile=("-fopenmp", "-foffload=nvptx-none", "-foffload-options=nvptx-none=-misa={arch}"),
            link=("-fopenmp", "-foffload=nvptx-none", "-foffload-options=nvptx-none=-misa={arch}"),
        ),
        AMDGCN: OffloadFlags(
            compile=("-fopenmp", "-foffload=amdgcn-amdhsa", "-foffload-options=amdgcn-amdhsa=-march={arch}"),
            link=("-fopenmp", "-foffload=amdgcn-amdhsa", "-foffload-options=amdgcn-amdhsa=-march={arch}"),
        ),
    },
    # CUDA 13's ptxas rejects gcc 12's default sm_35, and gcc 12 knows nothing past sm_80.
    default_arch={**DEFAULT_ARCH, NVPTX: "sm_80"},
)

NVC = Family(
    name="nvc",
    c_compilers=("nvc",),
    cxx_compilers=("nvc++",),
    name_markers=("nvc", "pgcc", "pgc++"),
    version_markers=("nvc ", "nvc++ ", "NVIDIA Compilers"),
    c_to_cxx=(("nvc", "nvc++"), ("pgcc", "pgc++")),
    openmp=("-mp",),
    target_options=("-mp=", "-gpu="),
    targets={
        HOST: OffloadFlags(compile=("-mp=multicore",), link=("-mp=multicore",)),
        NVPTX: OffloadFlags(compile=("-mp=gpu", "-gpu=cc{arch_cc}"), link=("-mp=gpu", "-gpu=cc{arch_cc}")),
    },
    default_arch=dict(DEFAULT_ARCH),
)

#: Autodetection tries families in this order (clang first: it has the real host device).
FAMILIES: tuple[Family, ...] = (CLANG, GCC, NVC)
BY_NAME: dict[str, Family] = {f.name: f for f in FAMILIES}


def family_from_name(executable_name: str) -> Family | None:
    """The family an executable's base name reveals (None: ask ``--version``).

    Contract: pure.  ``cc``/``c++`` alone are ambiguous (Debian points them at gcc,
    macOS at clang): None.  nvc is tested before gcc ("nvc" never contains "gcc").
    """
    base = executable_name.rsplit("/", 1)[-1]
    for fam in (CLANG, NVC, GCC):
        if any(m in base for m in fam.name_markers):
            return fam
    return None


def family_from_version(text: str) -> Family | None:
    """The family whose version banner ``text`` is (contract: pure)."""
    for fam in (CLANG, NVC, GCC):
        if any(m in text for m in fam.version_markers):
            return fam
    return None


def cxx_name_for(c_name: str, family: Family) -> str | None:
    """The C++ driver's name next to the C driver ``c_name``: clang-19 -> clang++-19.

    Contract: pure; the LAST occurrence of the fragment is replaced so that
    ``x86_64-linux-gnu-gcc-12`` becomes ``x86_64-linux-gnu-g++-12``.  None when the name
    has no known fragment or already names a C++ driver.
    """
    base = c_name.rsplit("/", 1)[-1]
    head = c_name[: len(c_name) - len(base)]
    for c_frag, cxx_frag in family.c_to_cxx:
        if cxx_frag in base:
            return c_name
        k = base.rfind(c_frag)
        if k >= 0:
            return head + base[:k] + cxx_frag + base[k + len(c_frag):]
    return None


def _option_key(flag: str) -> str:
    """What makes two flags "the same option": ``-fopenmp-targets=a`` ~ ``-fopenmp-targets=b``."""
    if flag.startswith("-Wl,"):
        return flag  # rpaths: only an identical one is a duplicate
    eq = flag.find("=")
    return flag[: eq + 1] if eq > 0 else flag


def offload_flags(
    family: Family,
    target: str,
    stage: str,
    user_args: list[str],
    arch: str | None = None,
    llvm_lib: str | None = None,
    rocm_lib: str | None = ROCM_DEVICE_LIB,
) -> list[str]:
    """The flags pcx adds for ``target`` at ``stage`` ("compile" or "link").

    Contract: pure.  Never returns a flag the user already gave (same option, any value:
    a user's ``-fopenmp=libgomp`` stands for our ``-fopenmp``); when the user chose their
    own offload target, only the OpenMP switch and rpaths are added.  Unknown target or
    a family without that target: [].
    """
    spec = family.targets.get(target)
    if spec is None or target == NONE:
        return []
    arch = arch or family.default_arch.get(target, "")
    values = {
        "arch": arch,
        "arch_cc": arch.removeprefix("sm_") if arch else "",
        "llvm_lib": llvm_lib or "",
        "rocm_lib": rocm_lib or "",
    }
    user_keys = {_option_key(a) for a in user_args}
    user_keys |= {a.split("=", 1)[0] for a in user_args if a.startswith("-fopenmp=")}
    user_chose_target = any(a.startswith(t) for a in user_args for t in family.target_options)
    out: list[str] = []
    for template in spec.compile if stage == "compile" else spec.link:
        if user_chose_target and template not in family.openmp and not template.startswith("-Wl,"):
            continue
        needed = [k for k in values if "{" + k + "}" in template]
        if any(not values[k] for k in needed):
            continue
        flag = template.format(**values)
        if _option_key(flag) in user_keys or flag in out:
            continue
        out.append(flag)
    if stage == "compile" and not user_chose_target:
        out += spec.device_only
    return out


def openmp_flags(family: Family, user_args: list[str]) -> list[str]:
    """The family's OpenMP switch (``-fopenmp``, nvc's ``-mp``) unless the user gave it.

    Contract: pure.  A user's ``-fopenmp=libgomp`` or any of the family's own target
    options (``-mp=gpu``) counts as given.  In a build in which pcx can rewrite, every
    C/C++ compile and every link gets these flags, so that ``_OPENMP`` means the same in
    every file of the build (see ``cc.state.Command.openmp_build``).
    """
    user_keys = {_option_key(a) for a in user_args} | {a.split("=", 1)[0] for a in user_args if "=" in a}
    return [f for f in family.openmp if _option_key(f) not in user_keys]

