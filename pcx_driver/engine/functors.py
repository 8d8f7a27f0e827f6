"""Stateless function objects (issue 15, cause 11): ``pool_process.compute(x, y, dy, s, &g)``.

HeCBench's pooling kernels take a policy object by value, ``PoolProcess pool_process``,
and call its method for every element; the class has no data, so the call is a call of
a plain function that happens to be spelled through an object.  Such a method is walked
in place of its call like any helper (access/inline.py) and compiled for the device with
its class (``declare target`` around the class).

Contract:
- ``stateless_class(node, model)``: a ``class``/``struct`` definition with no data
  members, no base classes and no virtual functions.
- ``class_named(name, model)``: the definition of class (template) ``name`` in the unit.
- ``method_callee(call, obj_decl, fnode, model, sem)``: the ``Callee`` of a method call on
  an object of a stateless class: libclang's own where it resolves the call; inside a
  function template, where the object's type is a template parameter, the one method of
  that name of the class every instantiation in the unit gives the parameter.  None
  otherwise.
"""

from __future__ import annotations

from tree_sitter import Node

from pcx_driver.engine.hostaccess import function_name
from pcx_driver.engine.semantics import Callee, Decl, Semantics
from pcx_driver.engine.source import SourceModel, walk

CLASS_TYPES = ("class_specifier", "struct_specifier")


def stateless_class(node: Node | None, model: SourceModel) -> bool:
    if node is None or node.type not in CLASS_TYPES:
        return False
    body = node.child_by_field_name("body")
    if body is None or any(c.type == "base_class_clause" for c in node.children):
        return False
    for member in body.named_children:
        if member.type in ("access_specifier", "comment"):
            continue
        if member.type == "function_definition" and "virtual" not in model.text(member).split("(")[0].split():
            continue
        # a data member, a method defined elsewhere, a nested type, a static member...
        return False
    return True


def class_named(name: str, model: SourceModel) -> Node | None:
    """The one definition of class (template) ``name`` at any depth of the unit."""
    found = [n for n in walk(model.root) if n.type in CLASS_TYPES and n.child_by_field_name("body") is not None
             and model.text(n.child_by_field_name("name")) == name]
    return found[0] if len(found) == 1 else None


def enclosing_class(fn: Node) -> Node | None:
    """The class whose body defines method ``fn`` (None for a free function)."""
    up = fn.parent
    while up is not None and up.type in ("template_declaration",):
        up = up.parent
    if up is None or up.type != "field_declaration_list":
        return None
    return up.parent if up.parent is not None and up.parent.type in CLASS_TYPES else None


def _method(cls: Node, name: str, model: SourceModel) -> Node | None:
    body = cls.child_by_field_name("body")
    found = []
    for member in body.named_children if body is not None else []:
        if member.type == "function_definition" and "".join(function_name(member, model.data).split()) == name:
            found.append(member)
    return found[0] if len(found) == 1 else None


def method_callee(call: Node, obj_decl: Decl | None, method: str, fnode: Node | None, model: SourceModel,
                  sem: Semantics, instantiations: list[list[str]]) -> Callee | None:
    """See the module docstring; ``method``: its name (``compute``, ``operator()`` for a
    call of the object itself); ``instantiations``: the template arguments of each
    instantiation of the function template ``fnode`` in the unit."""
    from pcx_driver.engine.calls import definition_node
    from pcx_driver.engine.legality import template_parameters

    if obj_decl is None or obj_decl.shape not in ("scalar", "record") or obj_decl.reference or not method:
        return None
    callee = sem.callee_of(call.start_byte, call.end_byte)
    if callee is not None and callee.kind != "other":  # ("other": an object of a template's type)
        if callee.kind not in ("method", "operator") or callee.is_virtual or callee.definition is None \
                or not callee.in_main_file:
            return None
        fn = definition_node(model, callee.definition)
        return callee if fn is not None and stateless_class(enclosing_class(fn), model) else None
    # inside a function template: the object's type is one of its type parameters
    params = [p for p, _ in template_parameters(fnode, model)] if fnode is not None else []
    ty = " ".join(obj_decl.type_spelling.replace("const", "").split())
    if ty not in params or not instantiations:
        return None
    k = params.index(ty)
    names = {args[k].split("<")[0].strip() for args in instantiations if k < len(args)}
    if len(names) != 1 or len(instantiations) != sum(1 for a in instantiations if k < len(a)):
        return None
    cls = class_named(names.pop(), model)
    if not stateless_class(cls, model):
        return None
    fn = _method(cls, method, model)
    if fn is None:
        return None
    cname = model.text(cls.child_by_field_name("name"))
    return Callee(name=method, qualified=f"{cname}::{method}", kind="method", definition=(fn.start_byte, fn.end_byte),
                  in_main_file=True, parent_type=cname)
