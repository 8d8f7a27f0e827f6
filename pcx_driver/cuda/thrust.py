"""How Thrust is translated: the subset the Thrust runtime defines, and refusals.

``thrust::NAME`` for a name of ``tables.THRUST_NAMES`` becomes ``pcx_thrust::NAME``,
which the runtime heading the output (``thrust_runtime.py``) defines with Thrust's
meaning as OpenMP target loops; a header of ``tables.THRUST_HEADERS`` is replaced by
that runtime.  Every other Thrust name or header, Thrust in device code, a Thrust name
reached other than as ``thrust::NAME`` (``using namespace thrust``, ``using
thrust::reduce``, an alias), an algorithm call in a form the runtime does not define
(``tables.THRUST_ALGORITHMS``: its argument counts) or with an argument it cannot take
(another library's iterator or function object, a container member other than
``tables.THRUST_ITERATOR_MEMBERS``), and a ``device_vector`` member the runtime lacks
(``push_back``) are refused (PCX409) with the construct and its line, so what is
translated always builds.
"""

from __future__ import annotations

from tree_sitter import Node

from pcx_driver.cuda import tables
from pcx_driver.cuda.parse import call_args, text, walk
from pcx_driver.cuda.printer import Ctx, Printer

#: The namespace the runtime defines the subset in.
RUNTIME_NAMESPACE = "pcx_thrust"


def _qualified_base(qualified: Node) -> str:
    """``device_vector`` in ``thrust::device_vector<int>::iterator``: the name right
    after ``thrust::``."""
    name = qualified.child_by_field_name("name")
    while name is not None and name.type in ("qualified_identifier", "template_type", "template_function"):
        inner = name.child_by_field_name("scope") if name.type == "qualified_identifier" else name.child_by_field_name("name")
        if inner is None:
            break
        name = inner
    return text(name) if name is not None else ""


def _declared_name(decl: Node | None) -> str:
    """The name ``thrust::device_vector<int> &v`` or ``v(n)`` declares."""
    while decl is not None:
        if decl.type == "identifier":
            return text(decl)
        if decl.type == "reference_declarator":
            decl = decl.named_children[-1] if decl.named_children else None
        else:
            decl = decl.child_by_field_name("declarator")
    return ""


def device_vectors(root: Node) -> set[str]:
    """The names the unit declares ``thrust::device_vector`` (variables, parameters,
    members), whatever their scope: a member call on one of these names is checked."""
    names = set()
    for n in walk(root):
        if n.type not in ("declaration", "parameter_declaration", "field_declaration"):
            continue
        typ = n.child_by_field_name("type")
        if typ is None or typ.type != "qualified_identifier" or text(typ.child_by_field_name("scope") or typ) != "thrust" \
                or _qualified_base(typ) != "device_vector" or "::" in text(typ.child_by_field_name("name") or typ):
            continue  # not a device_vector (thrust::device_vector<int>::iterator is not one)
        names |= {_declared_name(d) for d in n.children_by_field_name("declarator")} - {""}
    return names


def thrust_callee(call: Node) -> str:
    """``reduce`` for a call of ``thrust::reduce`` (or ``thrust::plus<int>``), else ''."""
    fn = call.child_by_field_name("function")
    if fn is None or fn.type != "qualified_identifier":
        return ""
    scope = fn.child_by_field_name("scope")
    if scope is None or text(scope) != "thrust":
        return ""
    return _qualified_base(fn)


class ThrustRules:
    """The rules for Thrust headers, names and algorithm calls; ``used`` says whether
    the unit needs the runtime (and so is C++ only)."""

    def __init__(self, printer: Printer) -> None:
        self.printer = printer
        self.used = False
        self.device_vectors = device_vectors(printer.tree.root_node)

    def member_call(self, node: Node) -> None:
        """``v.push_back(x)`` on a ``device_vector`` v: refused unless the runtime has the member."""
        fn = node.child_by_field_name("function")
        if fn is None or fn.type != "field_expression":
            return
        obj, member = fn.child_by_field_name("argument"), text(fn.child_by_field_name("field"))
        if obj is not None and obj.type == "identifier" and text(obj) in self.device_vectors \
                and member not in tables.DEVICE_VECTOR_MEMBERS:
            raise self.printer.refuse("PCX409", node, f"thrust::device_vector member {member} ({text(fn)}) has no translation")

    def include(self, node: Node, name: str) -> str | None:
        """``#include <thrust/NAME>``: replaced by the runtime when it defines the header's subset."""
        base = name.split("/", 1)[1]
        if base not in tables.THRUST_HEADERS:
            return None
        self.used = True
        nl = "\n" if text(node).endswith("\n") else ""
        return f"/* pcx: #include <{name}> is replaced by the Thrust runtime */{nl}"

    def name(self, node: Node, ctx: Ctx) -> str | None:
        """``thrust`` in ``thrust::NAME``: the runtime's namespace, or None (refuse)."""
        parent = node.parent
        if parent is None or parent.type != "qualified_identifier" or parent.child_by_field_name("scope") != node:
            return None
        if ctx.device or _qualified_base(parent) not in tables.THRUST_NAMES:
            return None
        if parent.parent is not None and parent.parent.type == "using_declaration":
            return None  # using thrust::reduce: its calls would escape the checks of ``call``
        self.used = True
        return RUNTIME_NAMESPACE

    def call(self, node: Node, algorithm: str, ctx: Ctx) -> None:
        """A call of a translated algorithm: its arguments must be forms the runtime
        takes (raises ``Refused``); reports PCX410."""
        if ctx.device:
            raise self.printer.refuse("PCX409", node, f"thrust::{algorithm} in device code has no translation")
        args = call_args(node)
        policy = bool(args) and text(args[0]) in tables.THRUST_POLICIES
        if len(args) - policy not in tables.THRUST_ALGORITHMS[algorithm]:
            raise self.printer.refuse("PCX409", node, f"thrust::{algorithm} with {len(args)} arguments has no translation")
        for arg in args:
            bad = self._foreign(arg)
            if bad is not None:
                raise self.printer.refuse("PCX409", bad, f"thrust::{algorithm} with the argument {text(bad)} has no "
                                                         "translation (only device_vector, host_vector, device_ptr and "
                                                         "pointer iterators, and Thrust's or the program's function objects)")
        if algorithm in tables.THRUST_STAGED:
            self.printer.remark("PCX410", node, f"thrust::{algorithm} translated ({RUNTIME_NAMESPACE}::{algorithm}): "
                                                "device data is copied to the host, ordered there and copied back")
            return
        self.printer.remark("PCX410", node, f"thrust::{algorithm} translated to OpenMP target loops "
                                            f"({RUNTIME_NAMESPACE}::{algorithm}) where its data is on the device")

    @staticmethod
    def _foreign(arg: Node) -> Node | None:
        """The first part of an algorithm's argument the runtime cannot take, or None."""
        for n in walk(arg):
            if n.type == "qualified_identifier" and text(n.child_by_field_name("scope") or n) != "thrust":
                return n  # std::back_inserter, std::plus<int>(), another library's iterator
            if n.type == "call_expression":
                fn = n.child_by_field_name("function")
                if fn is not None and fn.type == "field_expression" and \
                        text(fn.child_by_field_name("field")) not in tables.THRUST_ITERATOR_MEMBERS:
                    return n  # v.rbegin(): a reverse iterator
        return None
