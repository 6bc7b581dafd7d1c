"""Mutation operators: small, plausible mistakes made in the AST of a correct submission.

Design
------
* Each operator is a function ``op(node, site, top)`` that yields replacements for one AST node:
  an expression for an expression, a statement (or a list of statements, for an insertion) for a
  statement. ``top`` is True when the node is one of the function body's statements. Operators
  build replacements from source text (``_expr``), so what they do reads like the code it makes.
* Only the bodies of the three graded functions are mutated (never the docstring, never a helper).
  ``generate`` walks each statement (``ast.walk``, a fixed order), applies every replacement to the
  tree in place, renders the module with ``ast.unparse`` and puts the node back. The original is
  rendered the same way, so a mutant's diff shows only its change, and nbgrader's
  ``### BEGIN SOLUTION`` comments vanish by themselves (``ast`` keeps no comments).
* A mutant's id is stable: ``base:operator:function:anchor:before->after``. The anchor names the
  statement (its assigned names, or ``return``), never a line number, so editing a docstring or
  moving a function keeps every id; ``#k`` tells apart the k-th equal change in one statement.
  Mutants whose source equals an earlier one, or the original, are dropped (the first id wins),
  so the counts are of distinct programs.

The operators are our own; mutmut's documentation was read for the idea, no code was taken.
"""

import ast
import copy
import difflib
import re
from dataclasses import dataclass

from .. import rubric

DRAWS = ("np.random.randn", "np.random.standard_normal")
# Scales a student might use instead of 0.01; "/ 100" and "* 0.01" are the same, the rest are not.
SCALES = ("{d} * 0.1", "{d} * 0.001", "{d}", "{d} * 0.02", "{d} * 0.005", "{d} / 100",
          "{d} * np.sqrt(1 / {fan_in})")
# What a student might draw instead of np.random.randn(dims); {d} is "a, b", {s} is "(a, b)".
REDRAWS = {
    "rand": "np.random.rand({d})",
    "zeros": "np.zeros({s})",
    "ones": "np.ones({s})",
    "uniform": "np.random.uniform(-1, 1, {s})",
    "abs": "np.abs(np.random.randn({d}))",
    "standard_normal": "np.random.standard_normal({s})",
    "normal": "np.random.normal(0, 1, {s})",
    "rng_unseeded": "np.random.default_rng().standard_normal({s})",
    "rng_seeded": "np.random.default_rng(0).standard_normal({s})",
    "randomstate_unseeded": "np.random.RandomState().randn({d})",
    "randomstate_seeded": "np.random.RandomState(0).randn({d})",
}
SEED_INSIDE = "np.random.seed(0)"
ARITH = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
         ast.MatMult: ast.Mult, ast.Pow: ast.Mult}
SIZES = ("n_x", "n_h", "n_y")
LAYERED = re.compile(r"^(d?)([A-Za-z])([12])$")   # W1, b2, Z1, A2, dZ1, dW2, db1 ...


@dataclass(frozen=True)
class Mutant:
    id: str
    base: str
    operator: str
    function: str
    before: str
    after: str
    source: str
    diff: str


class Site:
    """What an operator may need to know about where it is: the function and its names."""

    def __init__(self, module, function, func_node):
        self.function = function
        self.helpers = {n.name for n in module.body if isinstance(n, ast.FunctionDef)
                        and n.name not in rubric.FUNCTIONS}
        self.bound = {a.arg for a in func_node.args.args}   # grows statement by statement (see bind)
        self.parents = {}

    def bind(self, stmt):
        """After ``stmt``, the names it assigns are bound: a swap uses only names bound before it."""
        self.bound |= {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _expr(text):
    return ast.parse(text, mode="eval").body


def _text(node):
    if isinstance(node, list):
        return "; ".join(ast.unparse(n) for n in node)
    return ast.unparse(node)


def dotted(node):
    """'np.random.randn' for that attribute chain, 'sigmoid' for a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id] + parts[::-1])


def _number(node):
    return (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
            and not isinstance(node.value, bool))


def _call_of(node, names, nargs=1):
    return (isinstance(node, ast.Call) and dotted(node.func) in names and len(node.args) == nargs
            and not node.keywords)


def _draw_dims(node):
    """('a, b', '(a, b)') when node is a standard-normal draw of that shape, else None."""
    if not isinstance(node, ast.Call) or node.keywords or dotted(node.func) not in DRAWS:
        return None
    if dotted(node.func) == "np.random.randn":
        d = ", ".join(ast.unparse(a) for a in node.args)
        return d, "(%s%s)" % (d, "," if len(node.args) == 1 else "")
    if len(node.args) != 1:
        return None
    s = ast.unparse(node.args[0])
    return (s[1:-1] if s.startswith("(") else "*" + s), s


# --- the operators ------------------------------------------------------------------------------

def arith(node, site, top):
    """Swap an arithmetic operator (+ -, * /, @ -> *, ** -> *); drop a unary minus; np.dot -> *."""
    if isinstance(node, ast.BinOp) and type(node.op) in ARITH:
        yield ast.BinOp(node.left, ARITH[type(node.op)](), node.right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield node.operand
    if isinstance(node, ast.Call) and dotted(node.func) == "np.dot" and len(node.args) == 2:
        yield ast.BinOp(node.args[0], ast.Mult(), node.args[1])


def constant(node, site, top):
    """Change a number: to 0, +1, -1 (integers); to 0, x*10, x/10, x+1, -x (floats).

    Numbers that are the value of ``axis=``/``keepdims=`` belong to the axis operator."""
    if not _number(node):
        return
    parent = site.parents.get(id(node), (None,))[0]
    if isinstance(parent, ast.keyword) and parent.arg in ("axis", "keepdims"):
        return
    x = node.value
    if isinstance(x, int):
        new = [x + 1, x - 1, 0]
    else:
        new = [0.0, round(x * 10, 12), round(x / 10, 12), round(x + 1, 12), -x]
    seen = {x}
    for v in new:
        if v not in seen and not (isinstance(v, int) and v < 0):
            seen.add(v)
            yield _expr(repr(v)) if v >= 0 else ast.UnaryOp(ast.USub(), ast.Constant(-v))


def axis(node, site, top):
    """Change axis= (0 <-> 1, None, dropped) and keepdims=True (False, dropped) of a reduction."""
    if not isinstance(node, ast.Call):
        return
    for i, kw in enumerate(node.keywords):
        if kw.arg == "axis":
            values = ["None"] + (["%d" % (1 - kw.value.value)] if _number(kw.value)
                                 and kw.value.value in (0, 1) else [])
        elif kw.arg == "keepdims":
            values = ["False"] if isinstance(kw.value, ast.Constant) and kw.value.value is True else []
        else:
            continue
        for v in values + [None]:
            new = copy.copy(node)
            new.keywords = list(node.keywords)
            if v is None:
                del new.keywords[i]
            else:
                new.keywords[i] = ast.keyword(kw.arg, _expr(v))
            yield new


def transpose(node, site, top):
    """Drop a transpose: ``A.T``, ``A.transpose()`` or ``np.transpose(A)`` -> ``A``."""
    if isinstance(node, ast.Attribute) and node.attr == "T" and isinstance(node.ctx, ast.Load):
        yield node.value
    elif _call_of(node, ("np.transpose",)):
        yield node.args[0]
    elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "transpose"
          and not node.args and not node.keywords):
        yield node.func.value


def _sigmoid_arg(node):
    """z when node is 1 / (1 + np.exp(-z)), else None."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and _number(node.left)
            and node.left.value == 1 and isinstance(node.right, ast.BinOp) and isinstance(node.right.op, ast.Add)):
        return None
    one, exp = node.right.left, node.right.right
    if _number(one) and one.value == 1 and _call_of(exp, ("np.exp",)):
        inner = exp.args[0]
        if isinstance(inner, ast.UnaryOp) and isinstance(inner.op, ast.USub):
            return inner.operand
    return None


def _slope_arg(node):
    """a when node is 1 - a ** 2, 1 - np.power(a, 2) or 1 - a * a (the slope of tanh), else None."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and _number(node.left)
            and node.left.value == 1):
        return None
    sq = node.right
    if isinstance(sq, ast.BinOp) and isinstance(sq.op, ast.Pow) and _number(sq.right) and sq.right.value == 2:
        return sq.left
    if isinstance(sq, ast.Call) and dotted(sq.func) == "np.power" and len(sq.args) == 2 \
            and _number(sq.args[1]) and sq.args[1].value == 2:
        return sq.args[0]
    if isinstance(sq, ast.BinOp) and isinstance(sq.op, ast.Mult) and ast.dump(sq.left) == ast.dump(sq.right):
        return sq.left
    return None


def activation(node, site, top):
    """tanh <-> sigmoid, in forward (the activation) and in backward (the slope of tanh)."""
    tanhs = ("np.tanh",) + (("tanh",) if "tanh" in site.helpers else ())
    if _call_of(node, tanhs):
        z = ast.unparse(node.args[0])
        yield _expr("sigmoid(%s)" % z if "sigmoid" in site.helpers else "1.0 / (1.0 + np.exp(-%s))" % z)
    z = node.args[0] if _call_of(node, ("sigmoid",)) and "sigmoid" in site.helpers else _sigmoid_arg(node)
    if z is not None:
        yield _expr("np.tanh(%s)" % ast.unparse(z))
    a = _slope_arg(node)
    if a is not None:
        a = ast.unparse(a)
        yield _expr("%s * (1 - %s)" % (a, a))


def draw(node, site, top):
    """Change the random draw: another distribution, a constant, a private generator (seeded or
    not), another scale, or a call to np.random.seed inside the function."""
    if top:
        if any(_draw_dims(n) for n in ast.walk(node)):
            yield [ast.parse(SEED_INSIDE).body[0], node]
        return
    dims = _draw_dims(node)
    if dims:
        for template in REDRAWS.values():
            yield _expr(template.format(d=dims[0], s=dims[1]))
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        sides = [(node.left, node.right), (node.right, node.left)]
        for d, c in sides:
            found = _draw_dims(d)
            if found and _number(c):
                fan_in = found[0].split(", ")[-1]
                for template in SCALES:
                    yield _expr(template.format(d=ast.unparse(d), fan_in=fan_in))


def _kin(name):
    """Names of the same kind: the other layer (W1 <-> W2), Z <-> A of one layer, sizes, X <-> Y."""
    if name in SIZES:
        return [s for s in SIZES if s != name]
    if name in ("X", "Y"):
        return ["Y" if name == "X" else "X"]
    found = LAYERED.match(name)
    if not found:
        return []
    d, letter, layer = found.groups()
    kin = [d + letter + ("2" if layer == "1" else "1")]
    if letter in "ZA":
        kin.append(d + ("A" if letter == "Z" else "Z") + layer)
    return kin


def swap(node, site, top):
    """Use a variable (or a dict key) of the same kind instead: W1 for W2, A1 for Z1, n_x for n_h...

    Only a name already bound at that statement: a name used before its assignment is a crash,
    which any grader catches and which says nothing about the checks."""
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        for other in _kin(node.id):
            if other in site.bound:
                yield ast.Name(other, ast.Load())
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        parent = site.parents.get(id(node), (None, None))
        if isinstance(parent[0], (ast.Subscript, ast.Dict)) and parent[1] in ("slice", "keys"):
            for other in _kin(node.value):
                yield ast.Constant(other)


def _is_m(node):
    return isinstance(node, ast.Name) and node.id == "m"


def drop_m(node, site, top):
    """Remove the average over examples: ``x / m`` -> ``x``, ``1 / m * x`` -> ``x``."""
    if not isinstance(node, ast.BinOp):
        return
    if isinstance(node.op, ast.Div) and _is_m(node.right):
        yield node.left
    if isinstance(node.op, ast.Mult):
        for factor, other in ((node.left, node.right), (node.right, node.left)):
            if isinstance(factor, ast.BinOp) and isinstance(factor.op, ast.Div) and _is_m(factor.right) \
                    and _number(factor.left) and factor.left.value == 1:
                yield other


def delete(node, site, top):
    """Delete a statement of the function body (it becomes ``pass``)."""
    if top:
        yield ast.Pass()


# The order decides which operator a mutant made by two of them is credited to (the first).
OPERATORS = {"arith": arith, "constant": constant, "axis": axis, "transpose": transpose,
             "activation": activation, "draw": draw, "swap": swap, "drop_m": drop_m, "delete": delete}


# --- making the mutants -------------------------------------------------------------------------

def _anchor(stmt):
    if isinstance(stmt, ast.Assign):
        return " = ".join(ast.unparse(t) for t in stmt.targets)
    if isinstance(stmt, ast.Return):
        return "return"
    return type(stmt).__name__.lower()


def _link(root, parents):
    for parent in ast.walk(root):
        for field, value in ast.iter_fields(parent):
            if isinstance(value, list):
                for i, child in enumerate(value):
                    if isinstance(child, ast.AST):
                        parents[id(child)] = (parent, field, i)
            elif isinstance(value, ast.AST):
                parents[id(value)] = (parent, field, None)


def _apply(node, new, parents):
    """Put ``new`` where ``node`` is; return the function that puts ``node`` back."""
    parent, field, index = parents[id(node)]
    if index is None:
        setattr(parent, field, new)
        return lambda: setattr(parent, field, node)
    seq = getattr(parent, field)
    new = new if isinstance(new, list) else [new]
    seq[index:index + 1] = new
    return lambda: seq.__setitem__(slice(index, index + len(new)), [node])


def generate(source, base, operators=None):
    """Every distinct mutant of ``source``'s three functions, in a fixed order.

    ``base`` names the source in the ids; ``operators`` limits the operators by name."""
    module = ast.parse(source)
    original = ast.unparse(module)
    seen = {original}
    chosen = [(name, OPERATORS[name]) for name in (operators or OPERATORS)]
    parents = {}
    _link(module, parents)
    mutants = []
    for func in module.body:
        if not (isinstance(func, ast.FunctionDef) and func.name in rubric.FUNCTIONS):
            continue
        site = Site(module, func.name, func)
        site.parents = parents
        body = list(func.body)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]                                   # never the docstring
        anchors = {}
        for stmt in body:
            anchor = _anchor(stmt)
            anchors[anchor] = anchors.get(anchor, 0) + 1
            if anchors[anchor] > 1:
                anchor += "@%d" % anchors[anchor]
            counts = {}
            for node in list(ast.walk(stmt)):
                for op_name, op in chosen:
                    for new in list(op(node, site, node is stmt)):
                        before, after = _text(node), _text(new)
                        key = (op_name, before, after)
                        counts[key] = counts.get(key, 0) + 1
                        where = anchor + ("#%d" % counts[key] if counts[key] > 1 else "")
                        undo = _apply(node, new, parents)
                        try:
                            text = ast.unparse(module)
                        finally:
                            undo()
                        if text in seen:
                            continue
                        seen.add(text)
                        mid = "%s:%s:%s:%s:%s->%s" % (base, op_name, func.name, where, before, after)
                        mutants.append(Mutant(mid, base, op_name, func.name, before, after, text + "\n",
                                              diff(original, text, base)))
            site.bind(stmt)
    return mutants


def diff(original, mutated, name):
    lines = difflib.unified_diff(original.splitlines(), mutated.splitlines(), name, name + " (mutant)",
                                 n=1, lineterm="")
    return "\n".join(list(lines)[2:])
