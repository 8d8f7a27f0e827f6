"""Function-like macros inside a nest: which ones the analysis may read through.

Contract: ``macro_problem(name, sem)`` returns None when every expansion of the
function-like macro ``name`` is an expression over its arguments alone, and otherwise a
phrase saying why not (for a PCX113 remark).  ``argument_problem(args, ...)`` adds the
conditions on one use's arguments.

Why this is enough: the analysis reads the tree-sitter tree of the source as written,
where ``M(e1, e2)`` is a call whose arguments are real source text.  When the replacement
list names nothing but its parameters, literals, type words, math functions and other such
macros, and neither assigns, increments, subscripts, dereferences nor pastes tokens, the
expansion reads exactly what its arguments read: analysing the arguments as plain reads
is analysing the expanded code.  The rewrite only inserts pragma lines before real ``for``
tokens, and every name a clause needs appears in the arguments, so nothing is edited
inside an expansion.  Arguments with side effects are refused (the replacement list may
evaluate a parameter twice, or not at all).
"""

from __future__ import annotations

from typing import Callable

from tree_sitter import Node

from pcx_driver.engine.calls import MATH_FUNCTIONS, MATH_STD
from pcx_driver.engine.semantics import Decl, Semantics
from pcx_driver.engine.source import arguments_of, strip_parens, walk

TYPE_WORDS = {
    "void", "char", "short", "int", "long", "float", "double", "signed", "unsigned", "_Bool", "bool", "const",
    "volatile", "sizeof", "__int128", "_Float16", "size_t", "true", "false",
}
WRITE_TOKENS = {"=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "|=", "^=", "++", "--"}
MEMORY_TOKENS = {"[": "subscripts memory", "->": "accesses a member", ".": "accesses a member"}
STATEMENT_TOKENS = {"{", "}", ";"}
#: what ``x##S`` may paste onto a number literal (PolyBench's float SCALAR_VAL(x) is x##f)
LITERAL_SUFFIXES = {"f", "F", "l", "L", "u", "U", "ul", "UL", "ll", "LL", "ull", "ULL"}


def _is_identifier(tok: str) -> bool:
    return bool(tok) and (tok[0].isalpha() or tok[0] == "_") and all(ch.isalnum() or ch == "_" for ch in tok)


def _is_operand_end(tok: str) -> bool:
    """A token after which ``*`` or ``&`` is binary (multiplication, bitwise and)."""
    return tok in (")", "]") or _is_identifier(tok) and tok not in TYPE_WORDS or tok[:1].isdigit() or \
        tok[:1] in ("'", '"')


def macro_problem(name: str, sem: Semantics, depth: int = 0, body: list[str] | None = None,
                  free: set[str] | None = None) -> str | None:
    """None when macro ``name`` expands to an expression over its arguments; else why not.
    ``body``: check these tokens instead of its whole replacement list (the subscript of
    an access macro, ``access_macro``).  ``free``: collect the names the list reads that
    are not its parameters (``cols`` of ``(i)*cols+(j)``) here instead of refusing them;
    a use then checks what each names where it stands (``use_problem``)."""
    entry = sem.macro_defs.get(name)
    if entry is None:
        return f"the definition of macro '{name}' is not visible"
    if name in sem.unstable_macros:
        return f"macro '{name}' is defined more than once or #undef'd in this file"
    function_like, whole = entry
    body = whole if body is None else body
    params = set(sem.macro_params.get(name, [])) if function_like else set()
    if not body:
        return None
    prev = ""
    for k, tok in enumerate(body):
        nxt = body[k + 1] if k + 1 < len(body) else ""
        if tok == "##" and prev in params and nxt in LITERAL_SUFFIXES:
            prev = ""  # x##f: a suffix on a number literal (use_problem checks the argument)
            continue
        if prev == "##" or tok in ("#", "##", "#@"):
            return f"macro '{name}' pastes or stringifies tokens"
        why = _effect(name, tok, prev)
        if why is not None:
            return why
        if k >= 2 and body[k - 1] == "##" and tok in LITERAL_SUFFIXES and body[k - 2] in params:
            prev = tok
            continue
        if _is_identifier(tok) and tok not in params and tok not in TYPE_WORDS:
            if nxt == "(" and (tok in MATH_FUNCTIONS or tok in MATH_STD):
                pass
            elif not function_like and len(body) == 1 and tok in MATH_FUNCTIONS:
                pass  # ``#define SQRT sqrtf``, used as SQRT(x): the use gives the call's parentheses
            elif tok in sem.macro_defs and tok != name and depth < 8:
                why = macro_problem(tok, sem, depth + 1, free=free)
                if why is not None:
                    return why
            elif tok == name:
                pass  # a macro's own name in its list is not expanded again
            elif free is not None and nxt != "(":
                free.add(tok)
            else:
                return f"macro '{name}' refers to '{tok}', which is not one of its arguments"
        prev = tok
    return None


def _effect(name: str, tok: str, prev: str) -> str | None:
    """Why token ``tok`` (after ``prev``) in macro ``name``'s expansion is more than a
    value: a statement, a write, a memory access, a dereference; None for none of them."""
    if tok in STATEMENT_TOKENS:
        return f"macro '{name}' expands to statements"
    if tok in WRITE_TOKENS:
        return f"macro '{name}' assigns or increments ('{tok}')"
    if tok in MEMORY_TOKENS:
        return f"macro '{name}' {MEMORY_TOKENS[tok]} ('{tok}')"
    if tok in ("*", "&") and not _is_operand_end(prev):
        return f"macro '{name}' dereferences or takes an address (unary '{tok}')"
    return None


def arithmetic_type_tokens(body: list[str], sem: Semantics, depth: int = 0) -> bool:
    """An object-like macro's replacement names an arithmetic type (``double``, ``unsigned
    long``, or another such macro): a cast to it converts a value and touches no memory."""
    if not body:
        return False
    for tok in body:
        if tok in TYPE_WORDS and tok not in ("sizeof", "true", "false", "void"):
            continue
        entry = sem.macro_defs.get(tok)
        if entry is not None and not entry[0] and depth < 8 and arithmetic_type_tokens(entry[1], sem, depth + 1):
            continue
        return False
    return True


def pasted_params(name: str, sem: Semantics) -> set[str]:
    """Parameters of macro ``name`` that its replacement list pastes a literal suffix onto."""
    entry = sem.macro_defs.get(name)
    body = entry[1] if entry is not None else []
    return {body[k - 1] for k in range(1, len(body) - 1) if body[k] == "##"}


def use_problem(name: str, args: Node | None, sem: Semantics, decl_of: Callable[[Node], Decl | None],
                unwritten: bool = False) -> str | None:
    """None when this use ``name(args)`` reads exactly what its arguments read, and names in
    its list that are no parameters are constant scalars where it stands; else why not.
    ``unwritten``: the loop nest around the use assigns none of those names (the analysis
    checked it), so that a scalar parameter or local of the function is one value in every
    iteration too (HeCBench convolution3D's ``II(n,c,h,w)`` reads ``C``, ``Hin``, ``Win``)."""
    free: set[str] = set()
    why = macro_problem(name, sem, free=free)
    if why is not None:
        return why
    use = args.parent if args is not None else None
    named = sem.expansion_refs.get(use.start_byte, {}) if use is not None else {}
    for tok in sorted(free):
        d = named.get(tok)
        if not constant_scalar(d) and not (unwritten and d is not None and d.shape == "scalar" and
                                           (d.integral or d.floating) and not d.reference and not d.volatile
                                           and d.kind in ("param", "local")):
            return (f"macro '{name}' refers to '{tok}', which is not one of its arguments nor a constant "
                    "local scalar here")
    arg_nodes = arguments_of(args)
    pasted = pasted_params(name, sem)
    if pasted:
        params = sem.macro_params.get(name, [])
        if len(arg_nodes) != len(params):
            return f"macro '{name}' pastes onto an argument and is given {len(arg_nodes)} of {len(params)}"
        for p, a in zip(params, arg_nodes):
            if p in pasted and a.type != "number_literal":
                return f"macro '{name}' pastes a suffix onto '{a.text.decode(errors='replace')}', not a number literal"
    for a in arg_nodes:
        why = _argument_problem(name, a, decl_of, calls=False)
        if why is not None:
            return why
    return None


def constant_scalar(d: Decl | None) -> bool:
    """``d`` is a ``const`` arithmetic local or parameter (``const int cols``): a name a
    macro's list may read without it being an argument, as it has one value in every
    iteration and OpenMP passes it to a kernel by value."""
    return d is not None and d.shape == "scalar" and (d.integral or d.floating) and d.const and \
        not d.reference and not d.volatile and d.kind in ("param", "local")


def _argument_problem(name: str, a: Node, decl_of: Callable[[Node], Decl | None], calls: bool) -> str | None:
    """Why argument ``a`` of a use of macro ``name`` cannot be read as a value: an array
    (the expansion may subscript it), or a side effect (it may be evaluated twice or not
    at all), a call too where ``calls``."""
    bare = strip_parens(a)
    if bare is not None and bare.type == "identifier":
        d = decl_of(bare)
        if d is not None and d.shape in ("array", "pointer", "container"):
            return f"array '{d.name}' is an argument of macro '{name}'"
    effects = ("assignment_expression", "update_expression", "comma_expression") + (("call_expression",) if calls else ())
    if any(x.type in effects for x in walk(a)):
        what = "side effects or calls" if calls else "side effects"
        return f"an argument of macro '{name}' has {what} (the expansion may evaluate it twice)"
    return None


def access_macro(name: str, sem: Semantics) -> tuple[int | str, list[str]] | None:
    """(the index of its array parameter, or the array's name where the list names it,
    the subscript's tokens) when function-like macro ``name`` expands to one element of an
    array: ``A[e]`` (in parentheses or not) with ``e`` an expression over its parameters by
    ``macro_problem``'s rules (no subscript, write or call but libm inside; other names
    are read where the macro is used).  NPB MG's ``#define I3D(array,n1,n2,i3,i2,i1)
    (array[(i3)*n2*n1 + (i2)*n1 + (i1)])``: a use is the access ``array[(i3)*n2*n1 + ...]``
    of the argument's array; ParRes Kernels' ``#define IN(i,j) in[i+(j)*n]``, of the array
    ``in`` that the name means where it is used.  The analysis reads the subscript as
    ``_macro_poly`` reads a subscript macro's expansion."""
    entry = sem.macro_defs.get(name)
    if entry is None or not entry[0]:
        return None
    body = list(entry[1])
    params = sem.macro_params.get(name, [])
    while len(body) >= 2 and body[0] == "(" and body[-1] == ")" and _parens_balanced(body[1:-1]):
        body = body[1:-1]
    if len(body) < 4 or body[1] != "[" or body[-1] != "]":
        return None
    array = body[0]
    if array not in params and (not (array[:1].isalpha() or array[:1] == "_") or array in sem.macro_defs):
        return None
    inner = body[2:-1]
    if array in inner or not _parens_balanced(inner) or macro_problem(name, sem, body=inner, free=set()) is not None:
        return None
    return (params.index(array) if array in params else array), inner


def _parens_balanced(tokens: list[str]) -> bool:
    depth = 0
    for tok in tokens:
        depth += (tok == "(") - (tok == ")")
        if depth < 0:
            return False
    return depth == 0


def access_use_problem(name: str, args: Node | None, at: int | str, sem: Semantics,
                       decl_of: Callable[[Node], Decl | None]) -> str | None:
    """None when this use of access macro ``name`` (array parameter ``at``, or the array
    its list names) reaches an array variable and its other arguments have no side
    effects; else why not."""
    arg_nodes = arguments_of(args)
    if len(arg_nodes) != len(sem.macro_params.get(name, [])):
        return f"macro '{name}' is given {len(arg_nodes)} arguments"
    if isinstance(at, str):
        d = free_array(name, at, args, sem)
        if d is None:
            return f"the array '{at}' that macro '{name}' names is not an array variable here"
    else:
        array = strip_parens(arg_nodes[at])
        d = decl_of(array) if array is not None and array.type == "identifier" else None
    if d is None or d.shape not in ("array", "pointer"):
        return f"the array argument of macro '{name}' is not an array variable"
    for k, a in enumerate(arg_nodes):
        why = _argument_problem(name, a, decl_of, calls=True) if k != at else None
        if why is not None:
            return why
    return None


def free_array(name: str, array: str, args: Node | None, sem: Semantics) -> Decl | None:
    """The declaration that ``array``, named in the list of access macro ``name``, means at
    the use whose arguments are ``args`` (libclang's reading of the expansion there): an
    array or a pointer variable, not a container; None when it is anything else."""
    use = args.parent if args is not None else None
    d = sem.expansion_refs.get(use.start_byte, {}).get(array) if use is not None else None
    if d is None or d.shape not in ("array", "pointer") or d.kind not in ("param", "local", "global", "static-local"):
        return None
    return d


# ------------------------------------------------------------------ object-like macros


def object_macro_reads(name: str, sem: Semantics) -> tuple[set[str], str | None]:
    """What an object-like macro used as a value in a nest reads: the names left in its
    full expansion (nested object- and function-like macros expanded, whatever file
    defines them), and None; or, where the expansion calls anything but libm, assigns,
    increments, touches memory or pastes tokens, why not.  The analysis reads such a use
    as an opaque value (``_PB_N``, ``N``, ``EPS``); that is right only when the expansion
    has no effect and its names are not written in the nest (the caller checks that)."""
    tokens = _expand([name], sem, 0)
    if tokens is None:
        return set(), f"macro '{name}' pastes or stringifies tokens, or nests too deeply"
    reads: set[str] = set()
    prev = ""
    for k, tok in enumerate(tokens):
        nxt = tokens[k + 1] if k + 1 < len(tokens) else ""
        why = _effect(name, tok, prev)
        if why is not None:
            return reads, why
        if _is_identifier(tok) and tok not in TYPE_WORDS:
            if nxt == "(":
                if tok not in MATH_FUNCTIONS and tok not in MATH_STD:
                    return reads, f"macro '{name}' calls '{tok}'"
            else:
                reads.add(tok)
        prev = tok
    return reads, None


def _expand(tokens: list[str], sem: Semantics, depth: int) -> list[str] | None:
    """``tokens`` with every macro in them expanded (arguments parenthesised), or None
    for ``#``/``##`` in a replacement list, a malformed invocation, or past 8 levels."""
    if depth > 8:
        return None
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        found = sem.any_macro(tok) if _is_identifier(tok) and tok not in TYPE_WORDS else None
        if found is None:
            out.append(tok)
            i += 1
            continue
        function_like, body, params = found
        if "#" in body or "##" in body or "#@" in body:
            return None
        if not function_like:
            inner = _expand(body, sem, depth + 1)
            if inner is None:
                return None
            out.extend(["(", *inner, ")"])
            i += 1
            continue
        if i + 1 >= len(tokens) or tokens[i + 1] != "(":
            out.append(tok)  # a function-like macro's name alone is not expanded
            i += 1
            continue
        args: list[list[str]] = [[]]
        level, j = 0, i + 1
        while j < len(tokens):
            t = tokens[j]
            if t == "(":
                level += 1
                if level == 1:
                    j += 1
                    continue
            elif t == ")":
                level -= 1
                if level == 0:
                    break
            elif t == "," and level == 1:
                args.append([])
                j += 1
                continue
            args[-1].append(t)
            j += 1
        if j >= len(tokens) or "__VA_ARGS__" in params or len(args) != max(len(params), 1) or \
                (not params and args != [[]]):
            return None
        bound = dict(zip(params, args))
        inner = _expand([x for b in body for x in (["(", *bound[b], ")"] if b in bound else [b])], sem, depth + 1)
        if inner is None:
            return None
        out.extend(["(", *inner, ")"])
        i = j + 1
    return out



# C's binary operators by precedence (higher binds tighter); unary operators and casts
# are UNARY, postfix operators (subscript, call, member) POSTFIX.
_BINARY_PRECEDENCE = {
    "*": 13, "/": 13, "%": 13, "+": 12, "-": 12, "<<": 11, ">>": 11, "<": 10, "<=": 10, ">": 10, ">=": 10,
    "==": 9, "!=": 9, "&": 8, "^": 7, "|": 6, "&&": 5, "||": 4, "?": 3, ":": 3,
    "=": 2, "+=": 2, "-=": 2, "*=": 2, "/=": 2, "%=": 2, "<<=": 2, ">>=": 2, "&=": 2, "|=": 2, "^=": 2, ",": 1,
}
UNARY, POSTFIX, ATOM = 14, 15, 99


def expand_object_macros(tokens: list[str], sem: Semantics, seen: frozenset[str] = frozenset()) -> list[str]:
    """``tokens`` with every object-like macro replaced by its replacement list, as the
    preprocessor does: ``#define W N+8`` makes ``W*2`` the tokens ``N + 8 * 2``, whose value is
    not ``W``'s times two."""
    out: list[str] = []
    for tok in tokens:
        entry = sem.macro_defs.get(tok)
        if entry is not None and not entry[0] and tok not in seen and len(seen) < 8:
            out.extend(expand_object_macros(entry[1], sem, seen | {tok}))
        else:
            out.append(tok)
    return out


def binding_strength(tokens: list[str]) -> int:
    """How tightly a replacement list holds together where a use of it stands: the
    precedence of its loosest operator outside parentheses (``N+8``: that of ``+``);
    UNARY for a cast or a unary operator in front; ATOM for one token, one parenthesised
    group, or a name with calls or subscripts after it."""
    if len(tokens) <= 1 or (tokens[0] == "(" and _closing(tokens, 0) == len(tokens) - 1):
        return ATOM
    loosest = ATOM
    depth = 0
    prev = ""
    for k, tok in enumerate(tokens):
        if tok in ("(", "["):
            depth += 1
        elif tok in (")", "]"):
            depth -= 1
        elif depth == 0 and tok in _BINARY_PRECEDENCE and (_is_operand_end(prev) or tok in ("?", ":", ",")):
            loosest = min(loosest, _BINARY_PRECEDENCE[tok])
        prev = tok
    if loosest < ATOM:
        return loosest
    groups_after_name = _is_identifier(tokens[0]) and tokens[0] not in TYPE_WORDS
    k = 1
    while groups_after_name and k < len(tokens):
        if tokens[k] not in ("(", "["):
            groups_after_name = False
            break
        k = _closing(tokens, k) + 1
        groups_after_name = k > 0
    return ATOM if groups_after_name else UNARY


def _closing(tokens: list[str], at: int) -> int:
    """The index of the bracket that closes ``tokens[at]``, or -1."""
    depth = 0
    for k in range(at, len(tokens)):
        depth += tokens[k] in ("(", "[") and 1 or (tokens[k] in (")", "]") and -1 or 0)
        if depth == 0:
            return k
    return -1


def stands_as_written(use: Node, tokens: list[str]) -> bool:
    """A macro use (``use``: the name of an object-like macro, or the call of a function-like
    one) whose replacement list is ``tokens`` parses as one operand where it stands, as if
    parenthesised: ``a[i*W + j]`` with ``#define W N+8`` is ``a[i*N + 8 + j]``, so reading
    W as a value there is wrong."""
    strength = binding_strength(tokens)
    if strength == ATOM:
        return True
    p = use.parent
    if p is None:
        return True
    t = p.type
    if t == "binary_expression":
        op = p.child_by_field_name("operator")
        need = _BINARY_PRECEDENCE.get(op.type if op is not None else "", POSTFIX)
        left = p.child_by_field_name("left")
        # (the left operand of an operator as tight as the list's loosest groups the same;
        # so does either operand of a sum: ``x + a - b`` is ``x + (a - b)``)
        return strength > need or (strength == need and need > 3 and (
            left is not None and left.id == use.id or op is not None and op.type == "+"))
    if t in ("parenthesized_expression", "argument_list", "initializer_list", "init_declarator",
             "expression_statement", "return_statement", "condition_clause", "subscript_argument_list"):
        return strength > 1
    if t == "subscript_expression":
        idx = p.child_by_field_name("index")
        return idx is not None and idx.id == use.id and strength > 1
    if t == "for_statement":
        return strength > 1
    if t == "assignment_expression":
        right = p.child_by_field_name("right")
        return right is not None and right.id == use.id and strength > 2
    if t == "conditional_expression":
        return strength > 3
    return False


def list_names(name: str, body: list[str], params: list[str], sem: Semantics,
               defined_here: dict[str, frozenset[str]]) -> set[str]:
    """The identifiers macro ``name``'s replacement list reads (its ``body`` tokens less
    its ``params``), through the macros it names in turn: ``defined_here`` for those this
    file defines (``hostaccess.macro_names``), libclang's tokens (``sem.macro_defs``) for
    a header's, which this file's syntax does not show (a held-out check: ``#define AT(i)
    c[(i) * stride]`` in a header read ``stride``, which the loop assigned)."""
    out = set(defined_here.get(name, ()))
    seen, todo = {name}, [(body, set(params))]
    while todo:
        tokens, own = todo.pop()
        for tok in tokens:
            if not _is_identifier(tok) or tok in own:
                continue
            out.add(tok)
            out |= defined_here.get(tok, frozenset())
            if tok in sem.macro_defs and tok not in seen:
                seen.add(tok)
                todo.append((sem.macro_defs[tok][1], set(sem.macro_params.get(tok, ()))))
    return out


def select_form(body: list[str], params: list[str]) -> tuple[str, int, int, int, int] | None:
    """``(op, a, b, chosen, other)`` where the replacement list ``body`` of a function-like
    macro with ``params`` is ``(PA) op (PB) ? (PC) : (PD)`` over its parameters alone
    (``#define min(a,b) (a) < (b) ? (a) : (b)``, the whole in parentheses or not; the use
    must stand as written where it is, ``stands_as_written``): ``op`` the comparison, the
    others the indices of the parameters standing in each place; None for any other."""
    body = _unwrap(body)
    top = [k for k in _top_level(body) if body[k] in ("?", ":")]
    if [body[k] for k in top] != ["?", ":"]:
        return None
    q, c = top
    cond, chosen, other = _unwrap(body[:q]), body[q + 1:c], body[c + 1:]
    ops = [k for k in _top_level(cond) if cond[k] in ("<", "<=", ">", ">=")]
    if len(ops) != 1:
        return None
    # (each parameter in parentheses: ``a < b ? a : b`` given ``x & 7`` reads
    # ``(m < x) & 7 ? ...``; a bare one is refused, whatever its argument)
    parts = [cond[:ops[0]], cond[ops[0] + 1:], chosen, other]
    if any(len(p) != 3 or p[0] != "(" or p[2] != ")" for p in parts):
        return None
    places = [p[1] if p[1] in params else None for p in parts]
    if None in places:
        return None
    a, b, x, y = (params.index(p) for p in places)
    return cond[ops[0]], a, b, x, y


def _unwrap(tokens: list[str]) -> list[str]:
    """``tokens`` without the parentheses that enclose all of them."""
    while len(tokens) >= 2 and tokens[0] == "(" and _closing(tokens, 0) == len(tokens) - 1:
        tokens = tokens[1:-1]
    return tokens


def _top_level(tokens: list[str]) -> list[int]:
    """The indices of the tokens outside every parenthesis and bracket."""
    out, depth = [], 0
    for k, tok in enumerate(tokens):
        if tok in ("(", "["):
            depth += 1
        elif tok in (")", "]"):
            depth -= 1
        elif depth == 0:
            out.append(k)
    return out


class MacroTable:
    """``_expand``'s view of ``UnitAnalysis.macro_table`` (the stages after the analysis
    have no libclang unit to ask)."""

    def __init__(self, table) -> None:
        self.table = table

    def any_macro(self, name: str):
        found = self.table.get(name)
        return None if found is None else (found[0], list(found[1]), list(found[2]))


def expand_expression(expr: str, table, language) -> str | None:
    """``expr`` (an expression the engine wrote, in a function of the unit) with every
    macro of ``table`` (``UnitAnalysis.macro_table``) in it expanded, each replacement
    parenthesised; None where one cannot be (``#``, ``##``, a malformed use)."""
    from pcx_driver.engine import hostaccess

    data, node = hostaccess.parse_expression(expr, language)
    if node is None:
        return None
    # the leaves in source order are its tokens (all_nodes walks in stack order)
    leaves = sorted((n.start_byte, hostaccess.text_of(data, n)) for n in hostaccess.all_nodes(node)
                    if n.child_count == 0 and n.end_byte > n.start_byte)
    out = _expand([t for _, t in leaves], MacroTable(table), 0)
    return None if out is None else " ".join(out).replace("( ", "(").replace(" )", ")")

