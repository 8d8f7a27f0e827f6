"""Per-nest timing instrumentation for pcx tune's hotspot build.

``instrument_source(unit, analysis) -> str`` returns the source with a wall-clock timer
around every outermost loop nest of ``analysis`` (offloadable or not: a hot nest the
engine refused is what the LLM plugin is offered) and around every candidate kernel
(``timed_nests``).  Each nest's time and entry count
accumulate in static counters; at exit (``atexit``) the unit appends one JSON line per
nest that ran to the file named by the environment variable ``PCX_TIMING_FILE``::

    {"key": "<plan_key>", "unit": "<path>", "nest": "<nest_id>", "line": 12,
     "seconds": 0.123456789, "entries": 3}

Contract with the rest of pcx:
- Lines are kept: the prelude ends with ``#line 1 "<path>"`` and the timers are inserted
  inside existing lines, so diagnostics, ``__LINE__`` and debug info name the user's lines.
- Nothing the user could have declared is touched: the prelude includes no header (a
  user's global ``time`` or a feature-test macro defined after our include would break)
  and reaches the C library through asm labels (``pcx_instr_fopen`` is ``fopen``).
- A nest is wrapped as ``{ double t0 = now(); { <for ...> } add(id, t0); }``: a compound
  statement is valid wherever the ``for`` statement was (the inner braces keep
  -Wmisleading-indentation quiet about a call after an unbraced loop body).  Leaving the nest by ``return``
  or ``goto`` loses that entry's time, never correctness.
- Linux/glibc only (``clock_gettime(CLOCK_MONOTONIC)``); CUDA sources are left unchanged.
"""

from __future__ import annotations

import json

from pcx_driver.model import Decision, Language, NestAnalysis, SourceUnit, UnitAnalysis

PREFIX = "pcx_instr_"
CLOCK_MONOTONIC = 1  # Linux


def c_string(text: str) -> str:
    """``text`` as a C string literal (quotes included), safe for #line and printf args."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "?":
            out.append("\\?")  # no trigraphs
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.extend(f"\\{b:03o}" for b in ch.encode("utf-8", "surrogateescape"))
    return '"' + "".join(out) + '"'


def outermost_nests(analysis: UnitAnalysis) -> list[NestAnalysis]:
    """Nests not contained in another nest, in source order."""
    chosen: list[NestAnalysis] = []
    for nest in sorted(analysis.nests(), key=lambda n: (n.start_byte, -n.end_byte)):
        if nest.end_byte <= nest.start_byte:
            continue
        if chosen and nest.start_byte < chosen[-1].end_byte:
            continue
        chosen.append(nest)
    return chosen


def timed_nests(analysis: UnitAnalysis) -> list[NestAnalysis]:
    """The nests that get a timer, in source order.

    Every outermost nest (where the time goes), plus every offloadable nest that is not
    inside another offloadable one (the candidate kernels, e.g. the sweeps inside a serial
    time-step loop).  Inner loops of a kernel are never timed: a timer call per inner
    iteration would distort what it measures.
    """
    outer = {id(n) for n in outermost_nests(analysis)}
    chosen: list[NestAnalysis] = []
    offloaded: list[NestAnalysis] = []
    for nest in sorted(analysis.nests(), key=lambda n: (n.start_byte, -n.end_byte)):
        if nest.end_byte <= nest.start_byte:
            continue
        if nest.decision is Decision.OFFLOADED:
            if any(o.start_byte <= nest.start_byte and nest.end_byte <= o.end_byte for o in offloaded):
                continue
            offloaded.append(nest)
            chosen.append(nest)
        elif id(nest) in outer:
            chosen.append(nest)
    return chosen


def _prelude(unit: SourceUnit, key: str, nests: list[NestAnalysis]) -> str:
    n = len(nests)
    p = PREFIX
    ids = ", ".join(c_string(json.dumps(x.nest_id)) for x in nests)
    lines = ", ".join(str(x.line) for x in nests)
    unused = "__attribute__((unused)) "
    record = (
        '{\\"key\\": \\"%s\\", \\"unit\\": %s, \\"nest\\": %s, \\"line\\": %d, '
        '\\"seconds\\": %.9f, \\"entries\\": %ld}\\n'
    )
    return "\n".join(
        [
            "/* pcx: per-nest timing for pcx tune (PCX_TIMING_FILE) */",
            "#ifdef __cplusplus",
            'extern "C" {',
            "#endif",
            f"struct {p}timespec {{ long tv_sec; long tv_nsec; }};",
            f'extern int {p}clock_gettime(int, struct {p}timespec *) __asm__("clock_gettime");',
            f'extern void *{p}fopen(const char *, const char *) __asm__("fopen");',
            f'extern int {p}fprintf(void *, const char *, ...) __asm__("fprintf");',
            f'extern int {p}fclose(void *) __asm__("fclose");',
            f'extern char *{p}getenv(const char *) __asm__("getenv");',
            f'extern int {p}atexit(void (*)(void)) __asm__("atexit");',
            "#ifdef __cplusplus",
            "}",
            "#endif",
            f"static const char *const {p}ids[{n}] = {{{ids}}};",
            f"static const int {p}lines[{n}] = {{{lines}}};",
            f"static double {p}seconds[{n}];",
            f"static long {p}entries[{n}];",
            f"static int {p}registered;",
            f"static {unused}void {p}dump(void) {{",
            f'  const char *path = {p}getenv("PCX_TIMING_FILE");',
            "  void *f;",
            "  int i;",
            "  if (!path || !*path) return;",
            f'  f = {p}fopen(path, "a");',
            "  if (!f) return;",
            f"  for (i = 0; i < {n}; i++)",
            f"    if ({p}entries[i])",
            f'      {p}fprintf(f, "{record}", {c_string(key)}, {c_string(json.dumps(unit.path))},',
            f"                 {p}ids[i], {p}lines[i], {p}seconds[i], {p}entries[i]);",
            f"  {p}fclose(f);",
            "}",
            f"static {unused}double {p}now(void) {{",
            f"  struct {p}timespec ts;",
            f"  {p}clock_gettime({CLOCK_MONOTONIC}, &ts);",
            "  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;",
            "}",
            f"static {unused}void {p}add(int i, double t0) {{",
            f"  {p}seconds[i] += {p}now() - t0;",
            f"  {p}entries[i]++;",
            f"  if (!{p}registered) {{ {p}registered = 1; {p}atexit({p}dump); }}",
            "}",
            f"#line 1 {c_string(unit.path)}",
            "",
        ]
    )


def instrument_source(unit: SourceUnit, analysis: UnitAnalysis, key_unit: SourceUnit | None = None) -> str:
    """``unit.text`` with per-nest timers (see the module docstring); unchanged if no nest.
    ``key_unit``: the source the timings are recorded under (``plan_key``), where ``unit``
    is the text the analysis read (``PipelineResult.written``); ``unit`` itself if None."""
    if unit.language is Language.CUDA:
        return unit.text
    nests = timed_nests(analysis)
    data = unit.data
    # A loop written through a macro (``FOR_EACH(i, n) { ... }``) is no statement of its
    # own in the text: the braces would close after the macro's use, before its body.
    nests = [n for n in nests if 0 <= n.start_byte < n.end_byte <= len(data) and _written_for(data, n.start_byte)]
    if not nests:
        return unit.text
    from pcx_driver.plancache import plan_key  # the key pcx tune matches timings to records by

    p = PREFIX
    pragmas = _loop_pragmas(unit, {n.start_byte for n in nests})
    nests = [n for n in nests if pragmas.get(n.start_byte) is not None]
    if not nests:
        return unit.text
    blanked = bytearray(data)
    # (position, order, text): at one position closing text goes first (a nest ending
    # where the next starts), inner nests close before outer ones and open after them.
    edits: list[tuple[int, tuple[int, int], bytes]] = []
    for i, nest in enumerate(nests):
        moved = ""
        for start, end, argument in pragmas[nest.start_byte]:
            # the loop's own pragmas move inside the timer as _Pragma operators (a pragma
            # line must stay right before its loop); their lines stay, blank
            blanked[start:end] = bytes(b if b in b"\r\n" else 0x20 for b in data[start:end])
            moved += f"_Pragma({c_string(argument)}) "
        edits.append((nest.start_byte, (1, -nest.end_byte), f"{{ double {p}t0_{i} = {p}now(); {{ {moved}".encode()))
        edits.append((nest.end_byte, (0, -nest.start_byte), f" }} {p}add({i}, {p}t0_{i}); }}".encode()))
    out = bytearray()
    pos = 0
    for at, _order, text in sorted(edits, key=lambda e: (e[0], e[1])):
        out += blanked[pos:at]
        out += text
        pos = at
    out += blanked[pos:]
    body = out.decode("utf-8", "surrogateescape")
    return _prelude(unit, plan_key(key_unit or unit), nests) + body


def _written_for(data: bytes, start: int) -> bool:
    """The nest at ``start`` begins with the keyword ``for`` as written."""
    after = data[start + 3:start + 4]
    return data[start:start + 3] == b"for" and not (after.isalnum() or after == b"_")


def _loop_pragmas(unit: SourceUnit, starts: set[int]) -> dict[int, list[tuple[int, int, str]] | None]:
    """For each loop starting at one of ``starts``: the ``#pragma`` lines right before it
    (its OpenMP or unroll directives), as (start, end, argument) in source order; None for
    a loop whose pragma cannot be written as ``_Pragma`` (a comment in it): not timed."""
    from pcx_driver.engine.source import SourceModel

    root = SourceModel.parse(unit).root
    out: dict[int, list[tuple[int, int, str]] | None] = {}
    for start in starts:
        node = root.descendant_for_byte_range(start, start)
        while node is not None and node.parent is not None and node.parent.start_byte == start:
            node = node.parent
        found: list[tuple[int, int, str]] | None = []
        prev = node.prev_sibling if node is not None else None
        while prev is not None and prev.type == "preproc_call":
            directive = prev.child_by_field_name("directive")
            argument = prev.child_by_field_name("argument")
            if directive is None or unit.data[directive.start_byte:directive.end_byte] != b"#pragma":
                break
            text = "" if argument is None else argument.text.decode("utf-8", "surrogateescape")
            text = " ".join(text.replace("\\\r\n", " ").replace("\\\n", " ").split())
            if "/*" in text or "//" in text:
                found = None
                break
            end = argument.end_byte if argument is not None else directive.end_byte
            found.append((prev.start_byte, end, text))
            prev = prev.prev_sibling
        out[start] = None if found is None else found[::-1]
    return out
