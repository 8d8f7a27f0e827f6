"""Profiling from libomptarget output: ``profile_from_info(stderr) -> Profile``.

(Interface fixed; implementation owned by the examples/gate work.)
Parses LIBOMPTARGET_INFO 0x10 (launch) and 0x20 (copy) lines into per-kernel launch
counts and total bytes host-to-device / device-to-host.
"""
