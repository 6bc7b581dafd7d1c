"""What a failed check found, as data: the bottom floor that the sandbox, the engine and every renderer share.

Design
------
A check that finds a property broken raises ``Failed``. Like check50's ``Mismatch`` and
``Missing``, a ``Failed`` says what *kind* of mistake it is (``KINDS``), and keeps its parts
apart, as data, so that every renderer (terminal, results.json, HTML, the grade-all CSV and the
class report) shows the same facts and none has to parse a sentence:

* ``problem``: the sentence the student reads (already written from the parts below);
* ``case``: where, as a dict of sizes and seeds (``{"n_x": 3, "n_h": 4, "n_y": 2, "m": 5,
  "problem_seed": 1}``); ``case_text`` writes the prose from it;
* ``expected`` and ``actual``: values, not texts. Arrays are summarised as data (``Shape``,
  ``Dtype``, ``TypeName``, ``Entry``: name, shape, dtype, the entry where they differ, how many
  entries differ and by how much); ``str()`` of each is the short text shown, ``data()`` its
  JSON form;
* ``rel`` and ``tolerance``: the relative error of the entry shown and the tolerance it broke,
  for value comparisons;
* ``hint``: the id of a likely cause (``grading/hints.py``; the engine refuses an unknown id);
* ``inputs``: code that rebuilds the failing case;
* ``label``: how the case was found, one of ``LABELS`` (declared by the engine, never guessed).

There is one exception type on purpose: hypothesis tells failures apart by exception type and
raise site, so a kind is a field, not a subclass (a subclass per kind would change which cases a
search shrinks to, and so the messages students read). This module imports nothing of the
grader's (only the standard library), so the sandbox raises ``Failed`` without importing the engine.
"""

import math

# The kinds of mistake. Each names what the grader saw, not what the student should do.
TYPE = "type"              # a value of the wrong type (not an array, not a mapping, not a pair)
MISSING = "missing"        # a key or a function that is not there
SHAPE = "shape"            # an array of the wrong shape
DTYPE = "dtype"            # an array of the wrong dtype
VALUE = "value"            # entries that differ from the true values
PROPERTY = "property"      # a property of the values that does not hold (spread, symmetry, seeding)
RAISED = "raised"          # the student's function raised an exception
HANG = "hang"              # the student's function did not finish within its time limit
CRASH = "crash"            # the student's process died, stopped answering or sent too much
NOT_CHECKED = "not_checked"  # the submission's time budget ran out before this item's case could run
UNREADABLE = "unreadable"  # the submission could not be read or loaded, so nothing ran
KINDS = (TYPE, MISSING, SHAPE, DTYPE, VALUE, PROPERTY, RAISED, HANG, CRASH, NOT_CHECKED, UNREADABLE)

SMALLEST = "Smallest failing case"   # hypothesis shrank it
FIXED = "Failing case"               # a check with one fixed case, or a search cut short, shows the case it has
LABELS = (SMALLEST, FIXED)

_CASE_WORDS = (("n_x", "input", "inputs"), ("n_h", "hidden unit", "hidden units"),
               ("n_y", "output", "outputs"), ("m", "example", "examples"))
CASE_KEYS = ("draw", "n_x", "n_h", "n_y", "m", "numpy_seed", "problem_seed")
LARGE_DRAW = "large"       # case["draw"]: the one large draw of init.small_scale


class Failed(Exception):
    """A property does not hold for the student's function (the fields are described in the module docstring)."""

    FIELDS = ("problem", "case", "expected", "actual", "hint", "inputs", "kind", "rel", "tolerance", "label")

    def __init__(self, problem, case=None, expected=None, actual=None, hint=None, inputs=None, kind=PROPERTY,
                 rel=None, tolerance=None, label=None):
        super().__init__(problem)
        if kind not in KINDS:
            raise ValueError("Failed(kind=%r): the kinds are %s (autograder/verdicts.py)" % (kind, ", ".join(KINDS)))
        if case is not None and not isinstance(case, dict):
            raise TypeError("Failed(case=%r): a case is a dict of sizes and seeds, not prose" % (case,))
        if label is not None and label not in LABELS:
            raise ValueError("Failed(label=%r): the labels are %s" % (label, LABELS))
        self.problem, self.case, self.kind = problem, case, kind
        self.expected, self.actual, self.hint, self.inputs = expected, actual, hint, inputs
        self.rel, self.tolerance, self.label = rel, tolerance, label

    def but(self, **changes):
        """A new Failed with these fields changed and the others kept (a new object: a fresh raise site)."""
        fields = {name: getattr(self, name) for name in self.FIELDS}
        fields.update(changes)
        return Failed(**fields)

    def __repr__(self):
        return "Failed(%r, kind=%r, hint=%r)" % (self.problem, self.kind, self.hint)


def case_text(case):
    """The prose of a case dict: 'n_x=2 inputs, n_h=3 hidden units, n_y=1 output (numpy seed 4)'; '' for None."""
    if not case:
        return ""
    parts = ["%s=%d %s" % (key, case[key], many if case[key] != 1 else one)
             for key, one, many in _CASE_WORDS if key in case]
    text = ", ".join(parts)
    if case.get("draw") == LARGE_DRAW:
        text = "one large draw, " + text
    if "numpy_seed" in case:
        text += " (numpy seed %d)" % case["numpy_seed"]
    if "problem_seed" in case:
        text += " (the grader's parameters)"
    return text


# --- values, summarised as data ----------------------------------------------------------------

def number(x):
    """A float as JSON can hold it: nan and the infinities become the strings a student would search for."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def shape_text(shape):
    shape = tuple(int(n) for n in shape)
    return "(%d,)" % shape[0] if len(shape) == 1 else str(shape)


class TimeUp(Exception):
    """The submission's time budget ran out before this check could get its answer.

    Deliberately not a ``Failed``: a check cannot catch it and re-raise it as a failure of the
    function, and hypothesis cannot shrink it into a "smallest failing case". ``grading/engine.CheckRun``
    turns it into the item's failure ("not checked: ...") only when the check's first case could not
    run; after that, a check keeps what its cases showed, and a search keeps the failure it had.
    """

    def failed(self):
        return Failed("not checked: %s" % self, kind=NOT_CHECKED)


class CallRefused(Exception):
    """A check called a student function it did not declare: a bug in the grader (exit 2), never the
    student's fault. Not a ``Failed``, so no check can turn it into lost points."""


class Value:
    """An expected or actual value: ``str()`` is the short text shown, ``data()`` the JSON form."""

    def data(self):
        raise NotImplementedError

    def __eq__(self, other):
        return type(other) is type(self) and other.data() == self.data()

    __hash__ = None

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self.data())


class Shape(Value):
    """The shape of an array: (3, 4)."""

    def __init__(self, dims):
        self.dims = tuple(int(n) for n in dims)

    def __str__(self):
        return shape_text(self.dims)

    def data(self):
        return {"shape": list(self.dims)}


class Dtype(Value):
    """The dtype of an array: float64."""

    def __init__(self, name):
        self.name = str(name)

    def __str__(self):
        return self.name

    def data(self):
        return {"dtype": self.name}


class TypeName(Value):
    """What a value is, in words the student reads: 'a list', 'numpy.ndarray', 'array of shape (3, 4)'."""

    def __init__(self, text, shape=None):
        self.text, self.shape = text, None if shape is None else tuple(int(n) for n in shape)

    def __str__(self):
        return self.text

    def data(self):
        out = {"type": self.text}
        if self.shape is not None:
            out["shape"] = list(self.shape)
        return out


class Number(Value):
    """A measured number (a spread, a mean, a distance between distributions)."""

    def __init__(self, value, what=None):
        self.value, self.what = float(value), what

    def __str__(self):
        return "%.6g" % self.value

    def data(self):
        out = {"value": number(self.value)}
        if self.what:
            out["what"] = self.what
        return out


class Keys(Value):
    """The keys a mapping has, or should have."""

    def __init__(self, keys):
        self.keys = tuple(str(k) for k in keys)

    def __str__(self):
        return ", ".join(self.keys) or "no keys"

    def data(self):
        return {"keys": list(self.keys)}


class Entry(Value):
    """One entry of an array (where two arrays differ), with the array's summary.

    ``name`` and ``index`` locate it ('dW1', (0, 2)); ``value`` is the number there; ``shape`` and
    ``dtype`` summarise the array; ``differing`` (of ``size``) counts the entries that differ and ``gap``
    is |actual - expected| at this entry, for an actual value compared with the true one.
    """

    def __init__(self, name, index, value, shape=None, dtype=None, differing=None, size=None, gap=None):
        self.name = name
        self.index = None if index is None else tuple(int(i) for i in index)
        self.value, self.differing, self.size, self.gap = float(value), differing, size, gap
        self.shape = None if shape is None else tuple(int(n) for n in shape)
        self.dtype = None if dtype is None else str(dtype)

    def __str__(self):
        if self.name is None:
            return "%.6g" % self.value
        return "%s[%s] = %.6g" % (self.name, ", ".join(str(i) for i in self.index), self.value)

    def data(self):
        out = {"array": self.name, "index": None if self.index is None else list(self.index),
               "value": number(self.value)}
        for key in ("shape", "dtype", "differing", "size", "gap"):
            value = getattr(self, key)
            if value is not None:
                out[key] = list(value) if key == "shape" else number(value) if key == "gap" else value
        return out


def data(value):
    """The JSON form of an expected or actual value (a Value, a plain number or text, or None)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return number(value)
    return value.data()


def record(failure):
    """The structured parts of a Failed (or of a failed engine Verdict, which carries the same fields) as
    JSON-ready data."""
    return {"kind": failure.kind, "case": dict(failure.case) if failure.case else None,
            "expected": data(failure.expected), "actual": data(failure.actual),
            "rel": None if failure.rel is None else number(failure.rel),
            "tolerance": {k: number(x) for k, x in failure.tolerance.items()} if failure.tolerance else None,
            "hint": failure.hint, "label": getattr(failure, "label", None)}
