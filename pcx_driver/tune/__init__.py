"""``pcx tune``: correctness gate, hotspot profiling and plan refinement.

Modules (data flows one way, each step leaves files in ``.pcx/runs/<id>/``):

    runs.py        run specs, scratch project copies, builds and program runs
    hotspots.py    compile records (PCX_RECORD) and per-nest timings (instrument.py)
    candidate.py   a candidate offload: the plans of every unit, and the edits the
                   gate's bisection and the refinement make to them
    flow.py        the orchestration: baseline, hotspots, gate + bisect, profile,
                   refine, save to the plan cache
    profiling.py   per-kernel launches, bytes and device time of a run
    report.py      the per-kernel table, JSON and plot
    llm.py         offering refused hot nests to a proposal plugin (--llm)
    proposals.py   checking and gating untrusted proposals (owned by the LLM plugin work)
    instrument.py  per-nest timers for the hotspot build (called by pcx-cc)
"""
