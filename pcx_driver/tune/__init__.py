"""``pcx tune``: correctness gate, hotspot profiling and plan refinement.

Modules (data flows one way, each step leaves files in ``.pcx/runs/<id>/``):

    runs.py        run specs, scratch project copies, builds and program runs
    hotspots.py    compile records (PCX_RECORD) and per-nest timings (instrument.py)
    candidate.py   a candidate offload: the plans of every unit, and the edits the
                   gate's bisection and the refinement make to them
    session.py     what the steps share: options, run directory, workspace, plugins
    flow.py        the orchestration (``Tuner``): the steps below, in order
    baseline.py    1 the serial build, its reference runs and timing
    measure.py     2 the instrumented build and runs, nests ranked by time
    selection.py   3 the kernels hot enough to try
    evaluate.py    3-5 one candidate built, gated, profiled and timed
    gating.py      4 the gate runs of one build against the serial reference
    bisection.py   4 gate + bisect: switch culprits off until the gate passes
    refine.py      6 knob variants, kept when measurably faster
    demote.py      6b kernels slower than their serial loops
    save.py        7 the final plans into the plan cache
    table.py       the per-kernel rows of the result (results.py, timing.py: the data)
    profiling.py   per-kernel launches, bytes and device time of a run
    report.py      the per-kernel table, JSON and plot
    llm.py         offering refused hot nests to a proposal plugin (--llm)
    proposals.py   checking and gating untrusted proposals (owned by the LLM plugin work)
    instrument.py  per-nest timers for the hotspot build (called by pcx-cc)
"""
