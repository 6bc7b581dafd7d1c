"""What the grader and the students' public checks share: one source of truth for both sides.

The grader (``autograder``) and the public checks a student runs (``public_checks.py``, shipped
without the ``autograder`` package) must agree on three things, or a submission that passes the
public checks loses points for a reason the student could not see:

* the functions a submission defines (``FUNCTIONS``);
* which code of a notebook runs (``kept_statements``): the top-level imports, function and class
  definitions, and the assignments that call nothing but numpy, math or a few builtins (so
  ``SCALE = 0.01`` and ``sigmoid = lambda z: ...`` are kept); every other statement (plots,
  training runs, prints, IPython magics and shell lines) is dropped, and a cell with a syntax
  error is skipped with a note;
* the thresholds a check applies (``SCALE``, ``BOUND``, the tolerances, the spread bands).

This file uses the standard library only. ``autograder/grading/grader_rules.py`` is the one
maintained copy; ``solutions/build_notebook.py --release`` writes it next to nbgrader's source
notebook and into the release, ``assignment/``, and tests/test_release.py fails when either copy
is stale. Edit this file, then run that build.
"""

import ast
import math

FUNCTIONS = ("initialize_parameters", "forward", "backward")

# --- thresholds ---------------------------------------------------------------------------------
SCALE = 0.01        # the lecture's weights: np.random.randn(...) * 0.01, standard deviation 0.01
BOUND = 0.075       # 7.5 standard deviations: a N(0, 0.01^2) entry exceeds it with P < 1e-13
MIN_DISTINCT = 100  # a matrix is judged over its distinct rows and columns; with fewer entries than this there,
#                     its spread is not judged (a tiled row of the grader's large draw still has 200)
TILED_SHARE = 0.5   # fewer distinct values than this share of the entries: most are copies (a tiled block),
#                     where continuous draws never repeat a value
SIGMAS = 6          # a mean or spread band of 6 standard errors: a correct draw leaves it w.p. ~2e-9
# forward has no approximation in it, so a correct one matches the grader's float64 values to
# rounding; gradients are compared with centred finite differences (error ~1e-10), hence 1e-5.
FORWARD_RTOL, FORWARD_ATOL = 1e-6, 1e-9
GRADIENT_RTOL, GRADIENT_ATOL = 1e-5, 1e-7


def mean_band(n):
    """How far from 0 the mean of n draws from N(0, SCALE^2) may be: SIGMAS standard errors."""
    return SIGMAS * SCALE / math.sqrt(n)


def spread_band(n):
    """How far from SCALE the standard deviation of n such draws may be: SIGMAS standard errors."""
    return SIGMAS * SCALE / math.sqrt(2 * n)


# --- which code of a notebook runs ---------------------------------------------------------------
_KEEP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
         ast.Assign, ast.AnnAssign)
_SAFE_ROOTS = {"np", "numpy", "math"}
_SAFE_BUILTINS = {"float", "int", "range", "len", "tuple", "list", "dict", "set", "abs", "min", "max",
                  "round", "str", "bool", "zip", "enumerate", "sorted", "sum"}


def harmless(node):
    """Imports and definitions always; assignments only if they call nothing but numpy or builtins."""
    if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
        return True
    for sub in ast.walk(node.value):
        if isinstance(sub, ast.Call):
            root = sub.func
            while isinstance(root, ast.Attribute):
                root = root.value
            if not isinstance(root, ast.Name):
                return False
            if root.id not in _SAFE_ROOTS and not (root is sub.func and root.id in _SAFE_BUILTINS):
                return False
    return True


def without_magics(src):
    """A cell's source with IPython magics (%...) and shell lines (!...) blanked, line numbers kept."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in src.splitlines())


def cell_name(src):
    """How a person finds a code cell in Jupyter, which numbers no cells: by its first line of code."""
    first = next((line.strip() for line in src.splitlines() if line.strip()), "")
    if not first:
        return "an empty code cell"
    return "the code cell that starts %r" % (first if len(first) <= 60 else first[:57] + "...")


def kept_statements(sources):
    """([source of each kept statement], [notes]) for the code cells' sources, in order.

    Each kept statement keeps its decorators; a note names each cell skipped for a syntax error
    by its first line and the broken line within it.
    """
    kept, notes = [], []
    for src in sources:
        name = cell_name(src)
        src = without_magics(src)
        try:
            tree = ast.parse(src)
        except SyntaxError as exc:
            notes.append("%s has a syntax error (%s, its line %s) and was skipped" % (name, exc.msg, exc.lineno))
            continue
        lines = src.splitlines()
        for node in tree.body:
            if isinstance(node, _KEEP) and harmless(node):
                start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
                kept.append("\n".join(lines[start - 1:node.end_lineno]))
    return kept, notes


def code_cell_sources(notebook):
    """The sources of a parsed notebook's code cells, or None when it has no list of cells."""
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        return None
    sources = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            src = cell.get("source", "")
            sources.append("".join(src) if isinstance(src, list) else str(src))
    return sources
