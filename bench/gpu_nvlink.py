#!/usr/bin/env python3
"""An ``nvlink`` for clang-19's OpenMP offload to NVIDIA that writes CUDA 12 cubins.

clang-nvlink-wrapper ends by running ``nvlink -o OUT -arch sm_XX [-L DIR] INPUT.cubin...``.
CUDA 13's nvlink writes ELF ABI version 8, which LLVM 19's offload runtime cannot read
(bench/gpu.py explains); this links the same relocatable cubins with CUDA 12's nvJitLink
library (libnvJitLink.so.12 beside this file, from the pip wheel nvidia-nvjitlink-cu12),
whose output is version 7.  bench/gpu.py toolchain installs it as ``bin/nvlink``.
"""

import ctypes
import os
import sys

NVJITLINK_INPUT_CUBIN = 1


def parse(argv: list[str]) -> tuple[str, str, list[str]]:
    out, arch, inputs, i = "", "sm_90", [], 0
    while i < len(argv):
        a = argv[i]
        if a in ("-o", "-arch", "-L", "-l"):
            if a == "-o":
                out = argv[i + 1]
            elif a == "-arch":
                arch = argv[i + 1]
            i += 2
        elif a.startswith("-"):
            i += 1
        else:
            inputs.append(a)
            i += 1
    return out, arch, inputs


def main() -> int:
    out, arch, inputs = parse(sys.argv[1:])
    lib = ctypes.CDLL(os.path.join(os.path.dirname(os.path.realpath(__file__)), "libnvJitLink.so.12"))
    handle = ctypes.c_void_p()
    options = (ctypes.c_char_p * 1)(f"-arch={arch}".encode())
    if lib.nvJitLinkCreate(ctypes.byref(handle), 1, options):
        return f"nvlink: nvJitLink refused -arch={arch}"
    for path in inputs:
        if lib.nvJitLinkAddFile(handle, NVJITLINK_INPUT_CUBIN, path.encode()):
            return f"nvlink: nvJitLink could not read {path}"
    if lib.nvJitLinkComplete(handle):
        size = ctypes.c_size_t()
        lib.nvJitLinkGetErrorLogSize(handle, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value + 1)
        lib.nvJitLinkGetErrorLog(handle, log)
        return f"nvlink: link failed: {log.value.decode(errors='replace')}"
    size = ctypes.c_size_t()
    lib.nvJitLinkGetLinkedCubinSize(handle, ctypes.byref(size))
    cubin = ctypes.create_string_buffer(size.value)
    lib.nvJitLinkGetLinkedCubin(handle, cubin)
    with open(out, "wb") as f:
        f.write(cubin.raw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
