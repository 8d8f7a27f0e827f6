"""The correctness gate: run a program the strict way and compare it with the serial run.

(Interface fixed; implementation owned by the examples/gate work.)

- ``VALIDATION_ENV``: the environment every gate run uses on the host device
  (OMP_TARGET_OFFLOAD=MANDATORY, LIBOMPTARGET_MEMORY_MANAGER_THRESHOLD=0,
  MALLOC_PERTURB_=165, LIBOMPTARGET_INFO=51, OMP_NUM_THREADS>=2).
- ``run_program(argv, cwd, env, timeout, prefix) -> RunOutput``: run in its own process
  group, kill the group on timeout.
- ``compare_runs(reference, candidate, rtol, atol) -> GateVerdict``: numbers within
  tolerance, other text exact, same exit status, no unmapped pointer, no crash/timeout.
- ``unmapped_pointers(stderr) -> list[str]``: names used as ``use_address(p)`` without a
  ``Mapping exists ... Name=p`` line (the INFO=51 rule of TOOLCHAIN.md).
- ``kernel_launches(stderr) -> list[str]``: kernel names launched (INFO 0x10 lines).
- ``check_portable_openmp(unit, rewrite) -> list[Remark]``: rejects non-portable syntax.
"""
