"""A stand-in for the LLM: proposes an offloaded version of main's checksum loop.

The first proposal is wrong on purpose (maps the sum's input as map(alloc:)); the second,
given the gate's feedback, is right.  Answers before the real LLM plugin (tryfirst).
"""

from __future__ import annotations

from pcx_driver import hookimpl

WRONG = """#pragma omp target teams distribute parallel for reduction(+: s) map(alloc: z[0:n])
    for (int i = 0; i < n; i++)
        s += z[i] * (i % 7);"""

RIGHT = WRONG.replace("map(alloc: z[0:n])", "map(to: z[0:n])")


@hookimpl(tryfirst=True)
def pcx_propose_rewrite(unit, nest, feedback, config):
    text = unit.data[nest.start_byte:nest.end_byte].decode()
    if "s += z[i] * (i % 7)" not in text:
        return None
    return RIGHT if feedback else WRONG
