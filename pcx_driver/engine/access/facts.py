"""The records a walk over a nest returns: its array and scalar references, calls and hazards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tree_sitter import Node

from pcx_driver.engine.loops import Loop
from pcx_driver.engine.semantics import Callee, Decl


@dataclass
class ArrayRef:
    base: str  # text of the array expression: "a", "s->a", "s.a", "v"
    decl: Decl | None  # the array's declaration (variable, parameter or field)
    root: str  # the variable the base starts from ("s" for s->a)
    root_decl: Decl | None
    subs: list[Node]  # subscript expressions, outer first
    fields: tuple[str, ...]  # members selected after the subscripts (p[i].x -> ("x",))
    node: Node  # the whole access
    base_node: Node
    read: bool
    write: bool
    op: str  # "=", "+=", "++", ... for writes; "" for reads
    stmt: Node | None  # the enclosing expression statement
    loops: list[Loop]
    conditional: bool
    via_data: bool = False  # v.data()[i]
    member: bool = False  # base is a struct member (s.a, s->a)
    guards: list = field(default_factory=list)  # (condition node, taken branch) of enclosing ifs in the nest
    polys: list = field(default_factory=list)  # subscripts as Polys (None: not affine); set by the analysis
    delin: list = field(default_factory=list)  # delinearised subscripts of a flattened access
    via: Node | None = None  # in a helper walked as if inlined: the call in the nest (access/inline.py)
    # in a helper walked as if inlined: its parameters -> the arguments of this call
    # (access/inline.py; NestFacts.bound makes them the ones its subscripts are read with)
    bindings: dict[str, Node] = field(default_factory=dict)
    # read anywhere in the array: what a helper that only reads its array parameters may
    # touch (access/footprint.py); ``subs`` then hold the argument, one per dimension
    whole: bool = False
    # a helper's window around a place it is passed (engine/paramwindows.py): the index of
    # the window's own loop (the last of ``loops``), which the analysis adds to the offset
    # ``window_offset`` (None: the array's start); ``subs`` hold the argument
    window: str = ""
    window_offset: Node | None = None
    # through a pointer the nest declares into the array (access/views.py): the view's
    # offset, added to the one subscript written (None: the array's start or a row)
    view: bool = False
    offset: Node | None = None
    # through an element accessor (``domain.x(i)`` for ``domain.m_x[i]``, semantics
    # ``Semantics.accessors``): the call's argument list, whose parentheses the rewrite
    # turns into brackets (``base_node`` is then ``domain.x``)
    accessor_args: Node | None = None
    # through an access macro (``I3D(u, n1, n2, i3, i2, i1)`` for ``u[(i3)*n2*n1 + ...]``,
    # engine/macros.access_macro): the macro's name and its subscript's tokens; ``subs``
    # then holds the macro use, whose arguments the subscript's parameters stand for
    index_macro: tuple[str, list[str]] | None = None
    # the array's name is written in the access macro's list, not at the use (``IN(i, j)``
    # of ``#define IN(i,j) in[i+(j)*n]``): ``base_node`` is the macro's name, which no
    # rewrite may rename
    hidden_base: bool = False


@dataclass
class ScalarRef:
    name: str
    decl: Decl | None
    node: Node
    read: bool
    write: bool
    op: str
    assign: Node | None  # the assignment/update expression when written
    stmt: Node | None
    loops: list[Loop]
    conditional: bool
    header_of: Loop | None = None  # reference in this loop's own init/test/update
    bindings: dict[str, Node] = field(default_factory=dict)  # as ArrayRef.bindings


@dataclass
class CallRef:
    node: Node
    name: str
    callee: Callee | None
    loops: list[Loop]
    inlined: bool = False  # its body was walked in place of the call (access/inline.py)
    footprint: bool = False  # its array arguments read whole (access/footprint.py)
    windowed: bool = False  # its pointer arguments touched in windows (engine/paramwindows.py)


@dataclass
class Hazard:
    id: str
    message: str
    node: Node


@dataclass
class NestFacts:
    arrays: list[ArrayRef] = field(default_factory=list)
    scalars: list[ScalarRef] = field(default_factory=list)
    calls: list[CallRef] = field(default_factory=list)
    hazards: list[Hazard] = field(default_factory=list)
    local_keys: set[str] = field(default_factory=set)  # declared inside the nest
    local_arrays: set[str] = field(default_factory=set)  # array keys declared inside
    container_sizes: list[tuple[str, Node]] = field(default_factory=list)  # v.size() uses
    statements: int = 0  # rough body cost
    # parameters of helpers walked as if inlined -> the argument node each one stands for:
    # during the walk, those of the calls being walked; after it, those that every call
    # of their helper in the nest binds to the same argument
    bindings: dict[str, Node] = field(default_factory=dict)
    # parameters that calls of one helper bind to different arguments (``rd(a, i)`` and
    # ``rd(a, i + 1)``): they are read only through the bindings of the access that names
    # them (``bound``); anywhere else they are no affine value
    ambiguous: set[str] = field(default_factory=set)
    # pointers declared in the nest into an array (access/views.py): decl key -> View
    views: dict = field(default_factory=dict)
    # members read through a reference to a struct (``g.scale``, g a ``Grid&``): the root's name, the read
    reference_members: list = field(default_factory=list)
    # scalar members read through a pointer or a reference (``f->n``), passed in as values:
    # (the read, the member's declaration, its guard, the root's element type, the root's declaration)
    member_values: list = field(default_factory=list)

    @contextmanager
    def bound(self, bindings: dict[str, Node]) -> Iterator[None]:
        """Read a reference's subscripts and guards with the parameters of the call it
        was walked in (ArrayRef.bindings); the nest's own bindings again afterwards."""
        if not bindings:
            yield
            return
        saved = self.bindings
        self.bindings = {**saved, **bindings}
        try:
            yield
        finally:
            self.bindings = saved
