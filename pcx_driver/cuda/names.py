"""What a CUDA unit declares that changes how its code is translated, read before printing.

``scan_names`` reads one syntax tree (a project scans each file once and hands a unit the
``Names`` of the headers it includes); ``unit_scope`` resolves them for the unit being
translated into the ``UnitScope`` the printing rules look names up in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from pcx_driver.cuda import tables
from pcx_driver.cuda.parse import at_file_scope, declarator_name, function_declarator, has_keyword, in_function, parse_macro_body, text, walk


@dataclass
class Names:
    """What a unit declares that changes how other code is translated: the program's own
    names (a ``cudaCheck`` is user code), macros, dim3 and scalar variables, and
    ``__device__``/``__constant__`` variables (``cudaMemcpyToSymbol`` targets).  A
    multi-file translation hands each file the names of the headers it includes."""

    user: set[str] = field(default_factory=set)
    macros: set[str] = field(default_factory=set)
    dim3: set[str] = field(default_factory=set)
    scalars: set[str] = field(default_factory=set)
    symbols: dict[str, str] = field(default_factory=dict)
    templates: set[str] = field(default_factory=set)  # the symbols that are variable templates
    #: macros whose expansion holds a refused construct: macro -> (ID, the construct)
    hidden: dict[str, tuple[str, str]] = field(default_factory=dict)

    def update(self, other: Names) -> None:
        self.hidden.update(other.hidden)
        self.user |= other.user
        self.macros |= other.macros
        self.dim3 |= other.dim3
        self.scalars |= other.scalars
        self.symbols.update(other.symbols)
        self.templates |= other.templates


def scan_names(root: Node) -> Names:
    """The names a syntax tree declares (see ``Names``)."""
    names = Names()
    for n in walk(root):
        if n.type in ("parameter_declaration", "declaration"):
            typ = n.child_by_field_name("type")
            if typ is not None and text(typ) == "dim3":
                for d in n.children_by_field_name("declarator"):
                    names.dim3.add(declarator_name(d))
            elif typ is not None and typ.type in ("primitive_type", "sized_type_specifier"):
                for d in n.children_by_field_name("declarator"):
                    if d.type in ("identifier", "init_declarator") and (
                        d.type == "identifier" or d.child_by_field_name("declarator").type == "identifier"
                    ):
                        names.scalars.add(declarator_name(d))
        if n.type == "enumerator":  # an int constant: dim3 t(NT * NT) at file scope is a constructor
            names.scalars.add(text(n.child_by_field_name("name")))
        if n.type in ("preproc_function_def", "preproc_def"):
            names.user.add(text(n.child_by_field_name("name")))
            names.macros.add(text(n.child_by_field_name("name")))
        elif n.type in ("function_definition", "declaration", "parameter_declaration", "field_declaration"):
            cuda_var = has_keyword(n, "__device__") or has_keyword(n, "__constant__")
            if n.type == "declaration" and cuda_var and not in_function(n) and function_declarator(n) is None:
                for d in n.children_by_field_name("declarator"):
                    names.symbols[declarator_name(d)] = "constant" if has_keyword(n, "__constant__") else "device"
                    if n.parent is not None and n.parent.type == "template_declaration":
                        names.templates.add(declarator_name(d))
            if has_keyword(n, "__global__") or cuda_var:
                continue  # CUDA entities keep their CUDA meaning
            for d in n.children_by_field_name("declarator"):
                name = declarator_name(d)
                if name:
                    names.user.add(name)
    names.hidden = _hidden_refusals(root, {})
    return names


_TOKEN = re.compile(r"[A-Za-z_]\w*")


#: What a macro whose body launches a kernel but does not parse as statements expands to
#: (refused at each use: only launches in bodies that parse are rewritten, ``CallRules.macro_body``).
MACRO_LAUNCH = "a kernel launch <<<...>>> in a body that does not parse as statements"


def _unparsable_launch(body: Node) -> bool:
    """Whether a macro body holds a ``<<<`` but does not parse as statements."""
    root = parse_macro_body(body).root_node
    return root.has_error and any(n.type == "<<<" for n in walk(root))


def _hidden_refusals(root: Node, known: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """Macros whose bodies use a construct the translator refuses (warp shuffles and
    votes, ``warpSize``, cooperative groups, textures, a CUDA runtime API without a
    translation such as an error-check helper calling ``cudaGraphLaunch``), directly or
    through another such macro.  The preprocessor would paste it into translated code
    that cannot compile, so each use of the macro is refused with the construct's ID."""
    bodies: dict[str, set[str]] = {}
    hidden = dict(known)
    for n in walk(root):
        if n.type in ("preproc_def", "preproc_function_def"):
            value = n.child_by_field_name("value")
            macro = text(n.child_by_field_name("name"))
            bodies[macro] = set(_TOKEN.findall(text(value))) if value is not None else set()
            if value is not None and _unparsable_launch(value):
                hidden[macro] = ("PCX407", MACRO_LAUNCH)
    changed = True
    while changed:
        changed = False
        for macro, tokens in bodies.items():
            if macro in hidden:
                continue
            for tok in sorted(tokens):
                r = tables.refusal_for(tok)
                if r is not None and r.id in ("PCX401", "PCX402", "PCX403"):
                    found = (r.id, tok)
                elif tables.is_api_name(tok) and tok not in tables.KNOWN_NAMES and tok not in bodies:
                    found = ("PCX406", f"CUDA runtime API {tok}")
                elif tok in hidden and tok != macro:
                    found = (hidden[tok][0], f"{hidden[tok][1]} (through {tok})")
                else:
                    continue
                hidden[macro] = found
                changed = True
                break
    return hidden


def inline_only_functions(root: Node) -> set[str]:
    """The functions every file-scope declaration of the unit declares ``inline``, never
    ``static`` or ``extern`` (``inline void checkCuda(cudaError_t e) {...}``).

    CUDA is C++, where such a function has one definition program-wide.  In C it is an
    inline definition that emits no symbol, so a call the compiler does not inline (any
    -O0 build) fails to link; these are translated ``static inline``, a copy per unit as
    a header-defined helper gets anyway.  A function also declared without ``inline`` is
    left alone: C then emits its definition.  Templates are C++ only and keep theirs."""
    inline_everywhere: dict[str, bool] = {}
    for n in walk(root):
        if n.type not in ("function_definition", "declaration") or not at_file_scope(n):
            continue
        fd = function_declarator(n)
        if fd is None or fd.child_by_field_name("declarator").type != "identifier":
            continue  # a variable, or a pointer to a function
        specs = {text(c) for c in n.children if c.type == "storage_class_specifier"}
        name = declarator_name(fd)
        inline_everywhere[name] = inline_everywhere.get(name, True) and "inline" in specs and not (
            specs & {"static", "extern"}
        )
    return {name for name, only in inline_everywhere.items() if only}




@dataclass
class UnitScope:
    """The names of the unit being translated and of its headers, as the printing rules
    look them up.  ``dim3`` and ``symbols`` grow while the unit is printed: a dim3
    declaration adds its name, and a ``__device__``/``__constant__`` variable of the unit
    becomes a ``cudaMemcpyToSymbol`` target where its definition (with its copy helpers)
    is printed, so a copy before it is refused."""

    dim3: set[str] = field(default_factory=set)
    scalars: set[str] = field(default_factory=set)  # names declared with an arithmetic type, enumerators
    symbols: dict[str, str] = field(default_factory=dict)  # __device__/__constant__ variable -> its kind
    templates: set[str] = field(default_factory=set)  # the symbols that are variable templates (coef<T>)
    user_minmax: set[str] = field(default_factory=set)  # min/max the program defines itself
    user: set[str] = field(default_factory=set)  # functions, macros, variables the unit defines
    macros: set[str] = field(default_factory=set)  # the unit's #define names
    hidden: dict[str, tuple[str, str]] = field(default_factory=dict)  # macros hiding a refused construct
    inline_only: set[str] = field(default_factory=set)  # functions translated static inline


def unit_scope(root: Node, context: Names | None) -> UnitScope:
    """The ``UnitScope`` of the unit ``root`` whose headers declare ``context``."""
    names = scan_names(root)
    if context is not None:
        names.update(context)
    scope = UnitScope()
    scope.dim3 |= names.dim3
    scope.scalars |= names.scalars
    scope.user |= names.user
    scope.macros |= names.macros
    # Symbols of this unit are registered where their definitions are printed (with
    # their copy helpers); the context's come from headers translated alongside.
    if context is not None:
        scope.symbols.update(context.symbols)
        scope.templates |= context.templates
    scope.user_minmax = {m for m in tables.MINMAX if m in scope.user}
    # A header's macro may be used in this unit's macros: close over both.
    scope.hidden = _hidden_refusals(root, names.hidden)
    # A function its headers declare too may be declared there without inline: C would
    # then reject a static definition here (the header's own translation handles its).
    scope.inline_only = inline_only_functions(root) - (context.user if context else set())
    return scope
