"""Profiling from libomptarget output: ``profile_from_info(stderr) -> Profile``.

Parses LIBOMPTARGET_INFO 0x10 (launch) and 0x20 (copy) lines into per-kernel launch
counts and total bytes host-to-device / device-to-host.  The lines look like (clang-19,
measured; see /work/shared/TOOLCHAIN.md)::

    "PluginInterface" device 0 info: Launching kernel __omp_offloading_fe00_216858_main_l9 with 1 blocks ...
    omptarget device 0 info: Copying data from host to device, HstPtr=0x..., TgtPtr=0x..., Size=8000, Name=a[0:n]
    omptarget device 0 info: Copying data from device to host, TgtPtr=0x..., HstPtr=0x..., Size=4000, Name=b[0:n]

Bytes are taken from these copy lines only (they count partial ``target update`` and
persistent ``target data`` maps correctly; LIBOMPTARGET_PROFILE's byte figures do not).
Kernel times are not in INFO output; ``KernelProfile.seconds`` stays 0 here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pcx_driver.model import KernelProfile, Profile

_LAUNCH = re.compile(r"info: Launching kernel (\S+) with")
_COPY = re.compile(r"info: Copying data from (host to device|device to host), .*?\bSize=(\d+)(?:, Name=(.*))?$")
# __omp_offloading_<device id hex>_<file id hex>_<function (maybe mangled)>_l<line>
_KERNEL_NAME = re.compile(r"^__omp_offloading_[0-9a-f]+_[0-9a-f]+_(.+)_l(\d+)(?:_\d+)?$")


@dataclass(frozen=True)
class KernelName:
    function: str  # as it appears in the name: a C name or a C++ mangled name
    line: int  # the source line of the target directive (after #line remapping)


def parse_kernel_name(name: str) -> KernelName | None:
    """Split ``__omp_offloading_fe00_216858_main_l9`` into (``main``, 9); None if foreign."""
    m = _KERNEL_NAME.match(name)
    return KernelName(m.group(1), int(m.group(2))) if m else None


@dataclass(frozen=True)
class Copy:
    to_device: bool
    size: int
    name: str  # the mapped expression as the compiler recorded it, e.g. "a[0:n]"


def copies(stderr: str) -> list[Copy]:
    """Every data copy in order (INFO bit 0x20 lines)."""
    out: list[Copy] = []
    for line in stderr.splitlines():
        if m := _COPY.search(line):
            out.append(Copy(m.group(1) == "host to device", int(m.group(2)), (m.group(3) or "").strip()))
    return out


def profile_from_info(stderr: str) -> Profile:
    """Per-kernel launch counts (in first-launch order) and bytes moved each way."""
    by_name: dict[str, KernelProfile] = {}
    launches = 0
    for line in stderr.splitlines():
        if m := _LAUNCH.search(line):
            name = m.group(1)
            kp = by_name.get(name)
            if kp is None:
                parsed = parse_kernel_name(name)
                kp = by_name[name] = KernelProfile(
                    name=name,
                    function=parsed.function if parsed else "",
                    line=parsed.line if parsed else 0,
                )
            kp.launches += 1
            launches += 1
    moved = copies(stderr)
    return Profile(
        kernels=list(by_name.values()),
        bytes_to_device=sum(c.size for c in moved if c.to_device),
        bytes_from_device=sum(c.size for c in moved if not c.to_device),
        launches=launches,
    )
