"""The validated plan cache in ``.pcx/plans/`` (interface fixed; owned by the tune work).

- ``cache_dir(config, cwd) -> Path | None``: --pcx-plan-cache, else the nearest ``.pcx/``
  upward from cwd, else None.
- ``plan_key(unit) -> str``: sha256 over the source text, language and semantic flags.
- ``lookup(unit, config) -> Plan | None``: a validated plan for exactly this source, or None.
  A corrupt or foreign entry is ignored (returns None) with a PCX307 warning on stderr.
- ``store(unit, plan, measurements, config) -> Path``: atomic write (tmp + rename), under a lock.
"""
