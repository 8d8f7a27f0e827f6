"""The plan checker: translation validation of a data plan, separate from the planner.

The planner (``engine.dataplan``) may be clever; this package must be simple and
obviously right.  Like Alive2 for LLVM's transforms, it does not trust how a plan was
made: it walks each function's control flow with the plan's directives in place
(``target data`` regions, ``target update``s, each kernel's own maps) and tracks, per
array buffer, where its current value lives.  A buffer's state (``state.Buf``) is:

- whether it is present on the device, with the section that was mapped;
- three *may* sets of sections: ``undef`` (the device copy was never defined),
  ``host_new`` (the host wrote it since the device copy was made) and ``dev_new`` (a
  kernel wrote it since the host copy was made).  Everything else is equal on both sides.

The section algebra (linear forms, boxes, may-sets) is ``engine.symsect``.  Sets only
grow by may-facts and only shrink by must-facts (a copy of an exact section, a
kernel write the analysis proves total, checked again here against the syntax), so every
state over-approximates what can really happen; loops are iterated to a fixpoint, with a
section that mentions a variable the loop changes widened to the whole array.  The walk
fails, naming one check, when:

- PCX210 a kernel reads device data that is undefined or older than the host's;
- PCX211 host code reads data whose current value is only on the device;
- PCX212 a copy to the host (``from`` at a region's or kernel's end, ``update from``)
  would overwrite newer host data or bring back undefined device data;
- PCX213 a copy to the device (``update to``) would overwrite newer device data;
- PCX214 values a kernel wrote are dropped with the device copy while the host still
  needs them (the buffer is used later or escapes the function);
- PCX215 a map would extend a mapping that is present, presence differs between paths,
  or a kernel uses an array that is neither mapped nor present;
- PCX216 the plan cannot be checked (a jump out of a region, a pointer into a mapped
  buffer stored elsewhere, section bounds that change while mapped).

``enforce(unit, analysis, plan)`` applies the verdict: a function whose plan fails loses
its data regions (kernels' own maps are correct alone, by the planner's contract) and is
checked again; a kernel that still fails stays serial.  Every such step leaves a remark
with the check's ID.  Nothing that fails the check reaches the rewriter.

One module per question:

- ``state``: the abstract state (``Buf``, ``State``) and its joins and widening;
- ``syntax``: syntax facts (declarations, parameters, pointer copies, array accesses);
- ``facts``: per-unit facts the walk asks about (``UnitFacts``: names, definitions, what
  code may change, kernels' accesses, liveness);
- ``uses``: what each piece of host code does to tracked buffers;
- ``frame``: the function under check and the regions open in it (``Frame``);
- ``walk``: the walk over a function's statements (``Walker``), and calls into functions
  with device code (``callee_effect``);
- ``directives``, ``kernels``, ``host``: the checks at data directives, at kernels and
  at host code;
- ``verdict``: ``check_function`` and ``enforce``.
"""

from pcx_driver.engine.plancheck.state import CheckFailed
from pcx_driver.engine.plancheck.verdict import Verdict, check_function, enforce

__all__ = ["CheckFailed", "Verdict", "check_function", "enforce"]
