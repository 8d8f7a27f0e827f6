"""Per-kernel numbers for pcx tune: launches, bytes moved and device time.

Launch counts and byte totals come from the profiler hook (``pcx_profile`` ->
``pcx_driver.profile.profile_from_info`` on LIBOMPTARGET_INFO output).  Two things the
hook's ``Profile`` does not carry are added here:

- bytes per kernel: each copy line is charged to the kernel launch it serves: copies to
  the device to the next launch, copies back to the previous one (a data region's entry
  copies go to its first kernel, its exit copies to its last);
- time per kernel: the ``Runtime: target exe`` events of a LIBOMPTARGET_PROFILE trace
  (the kernel plus its own map copies), matched to the launches.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from pcx_driver.model import Profile

#: libomptarget settings of a profiling run (no 0x01/0x02: they slow every launch down).
PROFILE_ENV = {
    "OMP_TARGET_OFFLOAD": "MANDATORY",
    "LIBOMPTARGET_INFO": "48",
    "LIBOMPTARGET_PROFILE_GRANULARITY": "0",
}


# The INFO 0x10/0x20 lines (as pcx_driver.profile reads them); parsed here again because
# charging copies to kernels needs their interleaving, which Profile does not keep.
_LAUNCH = re.compile(r"info: Launching kernel (\S+) with")
_COPY = re.compile(r"info: Copying data from (host to device|device to host), .*?\bSize=(\d+)")


@dataclass
class KernelNumbers:
    """Everything measured about one device kernel (one ``__omp_offloading_`` symbol)."""

    name: str
    function: str
    line: int
    launches: int = 0
    seconds: float = 0.0
    bytes_to_device: int = 0
    bytes_from_device: int = 0

    @property
    def bytes_moved(self) -> int:
        return self.bytes_to_device + self.bytes_from_device


@dataclass
class RunProfile:
    kernels: dict[str, KernelNumbers] = field(default_factory=dict)  # by kernel name
    bytes_to_device: int = 0
    bytes_from_device: int = 0
    launches: int = 0

    def merge(self, other: "RunProfile") -> None:
        for name, k in other.kernels.items():
            mine = self.kernels.setdefault(name, KernelNumbers(name, k.function, k.line))
            mine.launches += k.launches
            mine.seconds += k.seconds
            mine.bytes_to_device += k.bytes_to_device
            mine.bytes_from_device += k.bytes_from_device
        self.bytes_to_device += other.bytes_to_device
        self.bytes_from_device += other.bytes_from_device
        self.launches += other.launches


def attribute_bytes(stderr: str) -> dict[str, tuple[int, int]]:
    """Bytes (to device, from device) charged to each kernel name (see module docstring)."""
    out: dict[str, list[int]] = {}
    pending_to = 0
    last: str | None = None
    pending_from_before_any = 0
    for line in stderr.splitlines():
        if m := _LAUNCH.search(line):
            last = m.group(1)
            slot = out.setdefault(last, [0, 0])
            slot[0] += pending_to
            pending_to = 0
            if pending_from_before_any:
                slot[1] += pending_from_before_any
                pending_from_before_any = 0
        elif m := _COPY.search(line):
            size = int(m.group(2))
            if m.group(1) == "host to device":
                pending_to += size
            elif last is not None:
                out[last][1] += size
            else:
                pending_from_before_any += size
    if pending_to and last is not None:
        out[last][0] += pending_to  # copies after the last launch (e.g. a final update to)
    return {k: (v[0], v[1]) for k, v in out.items()}


def _target_exe_events(trace_path: Path) -> list[dict]:
    try:
        data = json.loads(trace_path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        return []
    events = data.get("traceEvents", []) if isinstance(data, dict) else data
    if not isinstance(events, list):
        return []
    found = [e for e in events if isinstance(e, dict) and e.get("name") == "Runtime: target exe"]
    return sorted(found, key=lambda e: float(e.get("ts", 0)))


def kernel_seconds(trace_path: Path, launches: list[str]) -> dict[str, float]:
    """Seconds per kernel name from a LIBOMPTARGET_PROFILE Chrome trace.

    Each ``Runtime: target exe`` event is one launch (the kernel plus its own map copies).
    The trace names the source only in binaries built with debug line tables, so events
    are matched to the run's INFO launch lines (``launches``, in order) by position; when
    the counts disagree, by the function and line in the event's detail.
    """
    from pcx_driver.profile import parse_kernel_name

    events = _target_exe_events(trace_path)
    out: dict[str, float] = {}
    if len(events) == len(launches):
        for name, e in zip(launches, events):
            out[name] = out.get(name, 0.0) + float(e.get("dur", 0)) / 1e6
        return out
    by_place: dict[tuple[str, int], str] = {}
    for name in launches:
        parsed = parse_kernel_name(name)
        if parsed is not None:
            by_place[(parsed.function, parsed.line)] = name
    for e in events:
        parts = str((e.get("args") or {}).get("detail", "")).split(";")  # ";file;function;line;..."
        try:
            name = by_place.get((parts[2], int(parts[3])))
        except (IndexError, ValueError):
            continue
        if name is not None:
            out[name] = out.get(name, 0.0) + float(e.get("dur", 0)) / 1e6
    return out


def run_profile(profile: Profile | None, stderr: str, trace: Path | None) -> RunProfile:
    """Combine the hook's Profile with per-kernel bytes and trace times for one run."""
    rp = RunProfile()
    if profile is None:
        return rp
    bytes_by = attribute_bytes(stderr)
    times = kernel_seconds(trace, _LAUNCH.findall(stderr)) if trace is not None else {}
    for kp in profile.kernels:
        to_dev, from_dev = bytes_by.get(kp.name, (0, 0))
        seconds = kp.seconds or times.get(kp.name, 0.0)
        rp.kernels[kp.name] = KernelNumbers(kp.name, kp.function, kp.line, kp.launches, seconds, to_dev, from_dev)
    rp.bytes_to_device = profile.bytes_to_device
    rp.bytes_from_device = profile.bytes_from_device
    rp.launches = profile.launches
    return rp
