"""Functions whose bodies say what a call of them does, read from libclang's cursors.

Contract: each function takes the cursor of a called function (``CallExpr.referenced``:
the declaration clang resolved, a template's instantiation included, defined in the main
file or a header) and answers from its body alone; ``Semantics`` records the calls of
each kind (``accessors``, ``allocating_calls``, ``releasing_calls``) and memoises the
answers per declaration.

- ``subscripted_field(method)``: the data member (a FIELD_DECL cursor) an **element
  accessor** subscripts: a method, not static or virtual, with one integral parameter, a
  reference result, and a body that is one ``return member[param];`` of its own object's
  member, the parameter converted implicitly and nothing else.  LULESH's Domain reaches
  every field so (``Real_t& x(Index_t idx) { return m_x[idx] ; }``, over a std::vector
  or a raw pointer member, ``m_dxx``): a call is then the element ``member[arg]`` of the
  object it is called on.
- ``allocates(fn)``: an **allocation wrapper**, a function whose body is one ``return``
  of a fresh allocation, cast or not (LULESH's ``template <typename T> T
  *Allocate(size_t size) { return static_cast<T *>(malloc(sizeof(T)*size)) ; }``, a
  ``new T[n]``): every call gives storage no other pointer holds, as ``malloc`` does.
- ``releases(fn)``: a **release wrapper**, one pointer-to-pointer parameter and a body
  that only frees what it points to and stores a null pointer there (LULESH's
  ``Release(T **ptr)``): the caller's pointer afterwards holds null, never other storage.
"""

from __future__ import annotations

from pcx_driver.engine.semantics import ALLOCATION_FUNCTIONS, _arith, _ASSIGN, _binary_operator_kind

# (clang.cindex is imported inside each function: a unit the analysis never reaches
# through a call pays nothing for the bindings)


def _INDEX_KINDS():
    """Parameter types an accessor's index may have: an ``int`` or wider.  A narrower one
    (``unsigned char``, ``bool``, ``short``) converts its argument (wraps, or makes it 0
    or 1), which the subscript ``member[arg]`` would not do (a held-out check: -nan and
    crashes)."""
    import clang.cindex as ci

    TK = ci.TypeKind
    return {TK.INT, TK.UINT, TK.LONG, TK.ULONG, TK.LONGLONG, TK.ULONGLONG}


def index_kept(call, method) -> bool:
    """The argument of accessor call ``call`` reaches ``method``'s index parameter with
    its value: an integer no wider than the parameter (``long long`` into ``int`` would
    wrap where the subscript would not; a ``double`` would be truncated)."""
    import clang.cindex as ci

    params = list(method.get_arguments())
    args = list(call.get_arguments())
    if len(params) != 1 or len(args) != 1:
        return False
    arg = args[0]
    while arg.kind in (ci.CursorKind.UNEXPOSED_EXPR, ci.CursorKind.PAREN_EXPR) and \
            len(list(arg.get_children())) == 1 and arg.type.get_canonical().kind == \
            params[0].type.get_canonical().kind:
        arg = next(arg.get_children())  # the implicit conversion to the parameter's type
    source, target = arg.type.get_canonical(), params[0].type.get_canonical()
    # (a negative index is undefined behaviour either way; a non-negative one keeps its
    # value through any conversion to an integer at least as wide)
    return _arith(source)[0] and source.kind != ci.TypeKind.BOOL and source.get_size() <= target.get_size()


def subscripted_field(method):
    """The FIELD_DECL cursor an element accessor subscripts, or None."""
    import clang.cindex as ci

    K = ci.CursorKind
    if method.kind != K.CXX_METHOD or method.is_static_method() or method.is_virtual_method() \
            or method.result_type.kind != ci.TypeKind.LVALUEREFERENCE:
        return None
    params = list(method.get_arguments())
    body = next((x for x in method.get_children() if x.kind == K.COMPOUND_STMT), None)
    stmts = list(body.get_children()) if body is not None else []
    if len(params) != 1 or params[0].type.get_canonical().kind not in _INDEX_KINDS() or len(stmts) != 1 \
            or stmts[0].kind != K.RETURN_STMT:
        return None
    kids = list(stmts[0].get_children())
    e = _implicit(kids[0]) if len(kids) == 1 else None
    if e is not None and e.kind == K.ARRAY_SUBSCRIPT_EXPR:
        # ``return m_dxx[idx];`` over a pointer member (LULESH's strains)
        parts = list(e.get_children())
        if len(parts) != 2:
            return None
        obj, index = _implicit(parts[0]), _implicit(parts[1])
        if obj is None or obj.type.get_canonical().kind != ci.TypeKind.POINTER:
            return None
    elif e is None or e.kind != K.CALL_EXPR or e.spelling != "operator[]":
        return None
    else:
        parts = list(e.get_children())
        if len(parts) != 3:
            return None
        obj, index = _implicit(parts[0]), _implicit(parts[2])
    if obj is None or obj.kind != K.MEMBER_REF_EXPR or any(True for _ in obj.get_children()):
        return None  # (a child: another object's member, not this one's)
    if index is None or index.kind != K.DECL_REF_EXPR or index.referenced is None or \
            index.referenced.get_usr() != params[0].get_usr():
        return None
    field = obj.referenced
    return field if field is not None and field.kind == K.FIELD_DECL else None


def allocates(fn) -> bool:
    """Whether ``fn`` is an allocation wrapper."""
    import clang.cindex as ci

    K = ci.CursorKind
    if fn.kind != K.FUNCTION_DECL:
        return False
    body = next((x for x in fn.get_children() if x.kind == K.COMPOUND_STMT), None)
    stmts = list(body.get_children()) if body is not None else []
    if len(stmts) != 1 or stmts[0].kind != K.RETURN_STMT:
        return False
    kids = list(stmts[0].get_children())
    e = kids[0] if len(kids) == 1 else None
    while e is not None and e.kind in (K.UNEXPOSED_EXPR, K.PAREN_EXPR, K.CSTYLE_CAST_EXPR,
                                       K.CXX_STATIC_CAST_EXPR, K.CXX_REINTERPRET_CAST_EXPR):
        inner = [x for x in e.get_children() if x.kind != K.TYPE_REF]
        e = inner[-1] if inner else None
    return e is not None and (e.kind == K.CXX_NEW_EXPR or (e.kind == K.CALL_EXPR and e.spelling in ALLOCATION_FUNCTIONS))


def releases(fn) -> bool:
    """Whether ``fn`` is a release wrapper."""
    import clang.cindex as ci

    K = ci.CursorKind
    if fn.kind != K.FUNCTION_DECL:
        return False
    params = list(fn.get_arguments())
    body = next((x for x in fn.get_children() if x.kind == K.COMPOUND_STMT), None)
    t = params[0].type.get_canonical() if len(params) == 1 else None
    if body is None or t is None or t.kind != ci.TypeKind.POINTER or \
            t.get_pointee().get_canonical().kind != ci.TypeKind.POINTER:
        return False
    return all(_release_step(x, params[0]) for x in body.walk_preorder())


def _release_step(x, param) -> bool:
    """A cursor a release wrapper may hold: a call of ``free`` only, an assignment only of
    a null pointer to ``*param``, nothing that stores or passes ``param`` itself."""
    import clang.cindex as ci

    K = ci.CursorKind
    if x.kind == K.CALL_EXPR:
        return x.spelling == "free"
    if x.kind == K.BINARY_OPERATOR and _binary_operator_kind(x) == _ASSIGN:
        lhs, rhs = list(x.get_children())
        while rhs.kind in (K.UNEXPOSED_EXPR, K.CSTYLE_CAST_EXPR, K.PAREN_EXPR) and list(rhs.get_children()):
            rhs = list(rhs.get_children())[-1]
        null = rhs.kind in (K.GNU_NULL_EXPR, K.CXX_NULL_PTR_LITERAL_EXPR) or \
            (rhs.kind == K.INTEGER_LITERAL and [t.spelling for t in rhs.get_tokens()] in (["0"], ["NULL"]))
        deref = lhs.kind == K.UNARY_OPERATOR and any(
            c.kind == K.DECL_REF_EXPR and c.referenced is not None and c.referenced.get_usr() == param.get_usr()
            for c in lhs.walk_preorder())
        return null and deref
    return x.kind not in (K.COMPOUND_ASSIGNMENT_OPERATOR, K.CXX_NEW_EXPR, K.CXX_DELETE_EXPR)


def _implicit(x):
    """``x`` under implicit conversions only (no parentheses, casts or arithmetic)."""
    import clang.cindex as ci

    while x is not None and x.kind == ci.CursorKind.UNEXPOSED_EXPR:
        kids = list(x.get_children())
        x = kids[0] if len(kids) == 1 else None
    return x
