"""The function under check: what the walk of one function knows besides the abstract state.

A ``Frame`` holds the unit's facts, the function, and the data regions open at the
current point of the walk; the checks in ``directives.py``, ``kernels.py`` and ``host.py``
read it.  ``PlacedKernel`` is a kernel of the plan at its loop, ``OpenRegion`` a data
region the walk has entered, with the buffers its maps took.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import tree_sitter

from pcx_driver.engine.plancheck.state import State
from pcx_driver.engine.symsect import Sect, sect_of
from pcx_driver.model import DataRegion, KernelPlan, NestAnalysis, Section

if TYPE_CHECKING:
    from pcx_driver.engine.plancheck.facts import UnitFacts


@dataclass
class PlacedKernel:
    """An offloaded kernel of the plan, with the analysis of its nest."""

    plan: KernelPlan
    nest: NestAnalysis | None


@dataclass
class OpenRegion:
    """A data region the walk has entered and not yet left."""

    region: DataRegion
    buffers: list = field(default_factory=list)  # (kind, Section, frozenset ids) at entry
    # a region versioned for aliasing: the names it maps, with the buffers each named before
    rebound: dict = field(default_factory=dict)


@dataclass
class Frame:
    """The function being walked, and the data regions open at the current point."""

    facts: UnitFacts
    fname: str
    fnode: tree_sitter.Node
    open: list[OpenRegion] = field(default_factory=list)  # innermost last
    # pointer parameters that every call passes distinct objects for
    # (``FunctionAnalysis.distinct_params``), and what each parameter may be at entry: two
    # such parameters, neither moved since, are two arrays, though each may be a third
    # (``v`` and ``xv`` may each be the out-parameter ``first``, never both)
    apart: set = field(default_factory=set)
    entry: dict = field(default_factory=dict)

    def apart_still(self, st: State, a: str, b: str) -> bool:
        """Whether ``a`` and ``b`` are parameters distinct at every call, each still
        holding what it held at entry."""
        return frozenset((a, b)) in self.apart and all(
            n in self.entry and self.ids(st, n) == self.entry[n] for n in (a, b))

    @functools.cached_property
    def global_arrays(self) -> set[str]:
        """The file-scope arrays the function's names mean (``UnitFacts.global_arrays_in``)."""
        return self.facts.global_arrays_in(self.fnode)

    def ids(self, st: State, name: str) -> frozenset:
        """The buffers ``name`` may point to in ``st``."""
        return st.names().get(self.facts.canonical(name), frozenset())

    def line(self, byte: int) -> int:
        return self.facts.data.count(b"\n", 0, byte) + 1

    def sect(self, sec: Section) -> Sect:
        """``sec`` as a symbolic section, in the function's fixed definitions."""
        return sect_of(sec, self.facts.lang, self.facts.defs)
