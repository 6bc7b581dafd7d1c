"""The hidden tests: small properties, each registered under one rubric id, driven by hypothesis.

This module holds the checks of ``initialize_parameters`` and what every check shares (the examples
always tried first, the parameter shapes, ``parameters_dict``); the checks of ``forward`` and
``backward`` are in ``checks_net.py``, which imports this one. Importing ``checks_net`` registers
every check and validates the registry (``engine.rubric_ready``).

Each check receives a ``Student`` (``sandbox/student.py``, a handle on the child process) and one
test case drawn by hypothesis (sizes and a seed), calls exactly one student function, and raises
``Failed`` (``registry.py``) with a sentence that is true of the submission, and the id of a
likely cause that ``causes.py`` has verified (``hints.py``), when the property does not hold.
Hypothesis then shrinks to the smallest such case. Among equally small cases a forward or
backward check prefers one whose gap is clearly beyond rounding (``CLEAR_FACTOR``), and shows
code that rebuilds it exactly. Each check reads only what it needs (the dependency policy in
``registry.py``). The rubric item's title is what the student reads; docstrings here describe
the property for developers.

The grader makes every input: sizes come from hypothesis, arrays from
``reference.problem(seed)``, and numpy's global seed is set in the child before
every call, so the same submission always meets the same cases.

Thresholds of ``init.small_scale`` (one draw of 50,000 weights per matrix, sigma=0.01), shared
with the public checks through ``grader_rules.py``:
* |w| < 0.075 everywhere: 7.5 sigma, P(exceed) < 1e-13 per entry, < 1e-7 in all.
* |std - 0.01| < 6 sigma/sqrt(2N) and |mean| < 6 sigma/sqrt(N): each fails w.p. ~2e-9.
* Kolmogorov-Smirnov D < sqrt(ln(2/1e-8) / 2N) = 0.0138: by the DKW inequality P < 1e-8.
A correct initialisation therefore fails this item with probability below 1e-6.
"""

import numpy as np

from .grader_rules import BOUND
from .grader_rules import SCALE  # noqa: F401  (the thresholds every check shares, read by tests)
from . import draws, spread
from .cases import INIT_CASES, UNITS_CASES
from .spread import KS_LIMIT  # noqa: F401  (init.small_scale's KS bound, read by tests)
from .draws import first_equal_rows as _first_equal_rows
from .feedback import as_numbers, check_array, kind, not_finite_name
from .registry import check
from ..verdicts import LARGE_DRAW, MISSING, PROPERTY, TYPE, VALUE, Entry, Failed, Keys, TypeName, case_text

BIG = {"n_x": 200, "n_h": 250, "n_y": 200}        # the large draw: 50,000 weights in each matrix
BIG_DRAW = BIG["n_h"] * BIG["n_x"]                 # = BIG["n_y"] * BIG["n_h"]: entries of W1 and of W2
assert BIG_DRAW == spread.BIG_DRAW, "spread.py's bounds are made for the large draw's size"
BIG_SEED = 20261129                                # any fixed seed: the draw must be the same on every run
MIN_MEASURED = 1000                                # fewer entries than this cannot show a spread
# Equal rows of W1 at a small case are explained from a larger W1 of the same function: 8 rows of 6.
EVIDENCE_SIZES = (6, 8, 3)


# Always tried first: n_y >= 2, m = 1, m > 1, m != n_x, n_h >= 2.
NET_EXAMPLES = ({"n_x": 3, "n_h": 4, "n_y": 2, "m": 5, "seed": 1},
                {"n_x": 2, "n_h": 3, "n_y": 1, "m": 1, "seed": 2},
                {"n_x": 4, "n_h": 2, "n_y": 3, "m": 7, "seed": 3})
INIT_EXAMPLES = tuple({k: v for k, v in e.items() if k != "m"} for e in NET_EXAMPLES)
SHAPES = {"W1": ("n_h", "n_x"), "b1": ("n_h", 1), "W2": ("n_y", "n_h"), "b2": ("n_y", 1)}
INIT_SHAPE_HINTS = {"W1": {"transposed": "init_transposed", "dtype": "init_not_float64"},
                    "W2": {"transposed": "init_transposed", "dtype": "init_not_float64"},
                    "b1": {"flat": "init_flat_bias", "dtype": "init_bias_not_float64"},
                    "b2": {"flat": "init_flat_bias", "dtype": "init_bias_not_float64"}}


def shape_of(name, sizes):
    return tuple(sizes.get(d, d) for d in SHAPES[name])


def _init_case(n_x, n_h, n_y, seed):
    """The case of an initialize_parameters call: its sizes and numpy's global seed (verdicts.case_text words it)."""
    return {"n_x": n_x, "n_h": n_h, "n_y": n_y, "numpy_seed": seed}


def parameters_dict(value, case, fn="initialize_parameters", keys=("W1", "b1", "W2", "b2"), hint=None):
    if not isinstance(value, dict):
        raise Failed("%s returned %s, expected a dict with keys %s" % (fn, kind(value), ", ".join(keys)),
                     case, expected=TypeName("dict"), actual=TypeName(kind(value)), kind=TYPE)
    for key in keys:
        if key not in value:
            has = ", ".join(sorted(map(str, value))) or "no keys"
            near = [k for k in value if isinstance(k, str) and k.lower() == key.lower()]
            raise Failed("the dict returned by %s has no key '%s' (it has %s)" % (fn, key, has), case,
                         expected=Keys([key]), actual=Keys(sorted(map(str, value))), hint=hint if near else None,
                         kind=MISSING)
    return value


def weights(p, name, case):
    w = as_numbers(p[name])
    if w is None:
        raise Failed("'%s' is %s, so its values cannot be checked (see init.shapes)" % (name, kind(p[name])),
                     case, expected=TypeName("numpy array"), actual=TypeName(kind(p[name])), kind=TYPE)
    return w


def first_position(mask):
    """The index of the first True entry of ``mask`` (row-major), as a list of ints."""
    return [int(i) for i in np.argwhere(mask)[0]]


def _not_finite(name, w, case):
    """Failed naming nan/inf in ``w``, or None."""
    bad = ~np.isfinite(w)
    if not bad.any():
        return None
    where = first_position(bad)
    return Failed("'%s' contains %s at %s (%d of its %d entries are not finite numbers)"
                  % (name, not_finite_name(w[tuple(where)]), where, int(bad.sum()), w.size), case,
                  actual=Entry(name, where, w[tuple(where)], w.shape, w.dtype, differing=int(bad.sum()), size=w.size),
                  hint="init_not_finite", kind=VALUE)


# --- initialize_parameters --------------------------------------------------------------------

def _init(student, n_x, n_h, n_y, seed, keys):
    """Call initialize_parameters; the dict, checked for the ``keys`` this check reads and no others."""
    case = _init_case(n_x, n_h, n_y, seed)
    value = student.call("initialize_parameters", (n_x, n_h, n_y), case, seed=seed).value
    return parameters_dict(value, case, keys=keys, hint="init_key_case"), case


@check("init.shapes", INIT_CASES, INIT_EXAMPLES, calls="initialize_parameters")
def init_shapes(student, n_x, n_h, n_y, seed):
    """initialize_parameters returns W1, b1, W2, b2 with the right shapes, as float64"""
    p, case = _init(student, n_x, n_h, n_y, seed, tuple(SHAPES))
    sizes = {"n_x": n_x, "n_h": n_h, "n_y": n_y}
    for name in SHAPES:
        problem = check_array(name, p[name], shape_of(name, sizes), hints=INIT_SHAPE_HINTS[name])
        if problem:
            raise problem.failed(case)


@check("init.zero_biases", INIT_CASES, INIT_EXAMPLES, calls="initialize_parameters")
def init_zero_biases(student, n_x, n_h, n_y, seed):
    """initialize_parameters sets both biases to exactly zero"""
    p, case = _init(student, n_x, n_h, n_y, seed, ("b1", "b2"))
    for name in ("b1", "b2"):
        b = weights(p, name, case)
        if np.any(b != 0):
            where = tuple(first_position(b != 0))
            raise Failed("'%s' is not all zeros: %s%s = %.4g; e.g. np.zeros((%s, 1)) gives the zero column "
                         "a bias starts as" % (name, name, list(where), b[where], "n_h" if name == "b1" else "n_y"),
                         case, expected=Entry(name, where, 0.0),
                         actual=Entry(name, where, b[where], b.shape, b.dtype, differing=int((b != 0).sum()),
                                      size=b.size),
                         hint=_nonzero_bias_hint(student, seed), kind=VALUE)


def _nonzero_bias_hint(student, seed):
    """init_nonzero_bias only when its claim holds: a larger W1 of the same function has no two equal rows."""
    W1 = _larger(student, seed, "W1")
    return "init_nonzero_bias" if W1 is not None and _first_equal_rows(W1) is None else None


@check("init.breaks_symmetry", UNITS_CASES, INIT_EXAMPLES, calls="initialize_parameters")
def init_breaks_symmetry(student, n_x, n_h, n_y, seed):
    """No two hidden units start alike, and W1 and W2 are random draws from numpy's global state.

    Reads W1 and W2 (b1 only to word the symmetry message: it is never required).
    """
    case = _init_case(n_x, n_h, n_y, seed)
    other = (seed + 1) % 2**31
    args = (n_x, n_h, n_y)
    replies = student.calls("initialize_parameters",
                            [(args, seed), (args, None), (args, seed), (args, other)], case)
    dicts = [parameters_dict(r.value, case, keys=("W1", "W2"), hint="init_key_case") for r in replies]
    W1, W2 = weights(dicts[0], "W1", case), weights(dicts[0], "W2", case)
    _distinct_units(W1, W2, dicts[0].get("b1"), (n_h, n_x), (n_y, n_h), case,
                    lambda: _equal_rows_hint(student, seed))
    for name in ("W1", "W2"):
        first, again, same_seed, new_seed = [weights(d, name, case) for d in dicts]
        if not _same(first, same_seed):
            raise Failed("the grader set np.random.seed(%d) before two calls and got two different '%s', so "
                         "np.random.seed cannot make a run with your code reproducible" % (seed, name), case,
                         hint="init_private_generator", kind=PROPERTY)
        if _same(first, new_seed):
            if first.size and np.all(first == first.ravel()[0]):
                value = "%.4g" % first.ravel()[0]
                raise Failed("every entry of '%s' is %s, whatever seed the grader sets (it tried %d and %d): "
                             "'%s' is not a random draw" % (name, value, seed, other, name), case,
                             hint="init_constant", kind=PROPERTY)
            raise Failed("'%s' is the same after np.random.seed(%d) and after np.random.seed(%d), so it does "
                         "not come from the caller's random state" % (name, seed, other), case,
                         hint="init_ignores_seed", kind=PROPERTY)
        if _same(first, again):
            raise Failed("two calls in a row, with no np.random.seed between them, gave the same '%s'; each "
                         "call must draw fresh weights from numpy's global state" % name, case,
                         hint="init_same_next_call", kind=PROPERTY)
    if _all_equal(W2) and _all_equal(_larger(student, seed, "W2")):
        raise Failed("every entry of 'W2' is %.4g (after np.random.seed(%d)): it changes with the seed, but a W2 "
                     "whose entries are all equal is one number, not a random draw, and gives every hidden unit "
                     "the same outgoing weights" % (W2.ravel()[0], seed), case, hint="init_constant", kind=PROPERTY)
    _no_copied_lines(W1, W2, (n_h, n_x), (n_y, n_h), case)


# What a copied row or column of the weights means, for the message: (matrix, axis) -> words.
_COPIES = {("W2", "rows"): "output units %d and %d start with the same incoming weights",
           ("W1", "columns"): "inputs %d and %d reach every hidden unit with the same weight",
           ("W2", "columns"): "hidden units %d and %d send the same weight to every output"}


def _no_copied_lines(W1, W2, w1_shape, w2_shape, case):
    """Failed when W2 has two equal rows, or W1 or W2 two equal columns (rows of W1 are _distinct_units').

    Repeated or tiled rows or columns are copies, not independent draws (CONTRACT section 2), whatever
    their values: init.small_scale judges the distinct ones. Only matrices with two or more rows and
    columns are read, so every line compared holds two or more entries: two honest draws never agree on
    all of them, where single entries of clipped draws can share a bound.
    """
    for (name, lines), effect in _COPIES.items():
        w, shape = (W1, w1_shape) if name == "W1" else (W2, w2_shape)
        if w.shape != shape or min(shape) < 2 or not np.all(np.isfinite(w)):
            continue
        pair = _first_equal_rows(w if lines == "rows" else w.T)
        if pair is not None:
            i, j = pair
            raise Failed("%s %d and %d of '%s' are equal (%s): they are copies of each other, not independent "
                         "random draws. "
                         "Draw every entry of '%s' at random: np.random.randn(%s) * 0.01"
                         % (lines, i, j, name, effect % (i, j), name, "n_h, n_x" if name == "W1" else "n_y, n_h"),
                         case, kind=PROPERTY)


def _same(a, b):
    """Same shape and entries, nan equal to nan (np.array_equal); equal entries everywhere answer at once."""
    return a.shape == b.shape and (bool((a == b).all()) or np.array_equal(a, b, equal_nan=True))


def _distinct_units(W1, W2, b1, w1_shape, w2_shape, case, why_equal):
    """Failed when two rows of W1 are equal, saying exactly what follows from W1, b1 and W2.

    Units stay copies for ever only when their incoming weights (rows of W1), biases (entries of
    b1) and outgoing weights (columns of W2) are all equal: then, by induction, they compute the
    same value and get the same gradient at every step. With W2's columns different they start out
    computing the same value and separate, through W2 only. Either way the rows of W1 are not
    independent draws, so the item fails. Wrong shapes are left to init.shapes (checked first, so
    a huge W1 costs nothing here), and so are nan and inf (init.small_scale).
    """
    if W1.shape != w1_shape or not np.all(np.isfinite(W1)):
        return
    pair = _first_equal_rows(W1)
    if pair is None:
        return
    i, j = pair
    b = as_numbers(b1) if b1 is not None else None
    b_equal = (None if b is None or b.size != w1_shape[0] or not np.all(np.isfinite(b))
               else bool(b.ravel()[i] == b.ravel()[j]))
    w2_equal = None if W2.shape != w2_shape else bool(np.array_equal(W2[:, i], W2[:, j]))
    if b_equal and w2_equal:
        raise Failed("rows %d and %d of 'W1', entries %d and %d of 'b1' and columns %d and %d of 'W2' are equal, "
                     "so hidden units %d and %d start identical: they compute the same value, receive the same "
                     "gradient, and stay copies of each other however long you train" % (i, j, i, j, i, j, i, j),
                     case, hint="init_units_copies", kind=PROPERTY)
    hint = why_equal()
    text = "rows %d and %d of 'W1' are equal" % (i, j)
    if b_equal:
        text += (" (and so are entries %d and %d of 'b1'), so hidden units %d and %d start out computing the "
                 "same value" % (i, j, i, j))
    elif b_equal is False:
        text += (", so hidden units %d and %d weigh the inputs alike and differ only through their biases "
                 "(entries %d and %d of 'b1')" % (i, j, i, j))
    else:
        text += ", so hidden units %d and %d weigh the inputs alike" % (i, j)
    if w2_equal is False:
        text += ("; columns %d and %d of 'W2' differ, so the two units do get different gradients and "
                 "separate during training, but only through W2" % (i, j))
    elif w2_equal:
        text += "; columns %d and %d of 'W2' are equal too" % (i, j)
    raise Failed(text + ". The rows of W1 must be independent random draws", case, hint=hint, kind=PROPERTY)


def _larger(student, seed, name):
    """``name`` from the same function at EVIDENCE_SIZES (same seed), finite and well shaped, or None."""
    sizes = dict(zip(("n_x", "n_h", "n_y"), EVIDENCE_SIZES))
    try:
        value = student.call("initialize_parameters", EVIDENCE_SIZES, _init_case(*EVIDENCE_SIZES, seed), seed=seed).value
    except Failed:
        return None
    w = as_numbers(value.get(name)) if isinstance(value, dict) else None
    return w if w is not None and w.shape == shape_of(name, sizes) and np.all(np.isfinite(w)) else None


def _equal_rows_hint(student, seed):
    """The cause of equal rows, read off a larger W1 from the same function (EVIDENCE_SIZES, same seed).

    init_constant when that W1 holds one value; init_equal_rows when two of its rows are equal and hold
    more than its two extremes; else none (clipped draws repeat their bounds, so rows made only of
    bounds can be equal by chance, and small_scale names the clipping).
    """
    W1 = _larger(student, seed, "W1")
    if W1 is None:
        return None
    lo, hi = W1.min(), W1.max()
    if lo == hi:
        return "init_constant"
    pair = _first_equal_rows(W1)
    if pair is None or np.all((W1[pair[0]] == lo) | (W1[pair[0]] == hi)):
        return None
    return "init_equal_rows"


def _all_equal(w):
    return w is not None and w.size >= 2 and bool(np.all(w == w.ravel()[0]))


@check("init.small_scale", calls="initialize_parameters")
def init_gaussian_spread(student):
    """The large draw: finite, spread 0.01, centred, Gaussian. Measures before it names a cause.

    Repeated rows or columns are init.breaks_symmetry's mistake: here each matrix is judged over its
    distinct rows and columns (spread.distinct_draws).
    A scale cause is proven on a second large draw at other fan-ins (draws.SECOND).
    """
    sizes = dict(BIG)
    p, case = _init(student, sizes["n_x"], sizes["n_h"], sizes["n_y"], BIG_SEED, ("W1", "W2"))
    case = dict(case, draw=LARGE_DRAW)
    for name in ("W1", "W2"):
        w = weights(p, name, case)
        problem = _not_finite(name, w, case)
        if problem:
            raise problem
        if w.size < MIN_MEASURED:
            raise Failed("'%s' has only %d entries for %s, so its spread cannot be measured (see init.shapes)"
                         % (name, w.size, case_text(case)), case, kind=PROPERTY)
        spread.judge(name, w, p, sizes, BIG_SEED, case, lambda name=name: _second_draw(student, name))


def _second_draw(student, name):
    """The student's ``name`` at draws.SECOND (the same function, other fan-ins), or None."""
    s = draws.SECOND
    case = dict(_init_case(s["n_x"], s["n_h"], s["n_y"], BIG_SEED), draw=LARGE_DRAW)
    try:
        value = student.call("initialize_parameters", (s["n_x"], s["n_h"], s["n_y"]), case, seed=BIG_SEED).value
    except Failed:
        return None
    w = as_numbers(value.get(name)) if isinstance(value, dict) else None
    return w if w is not None and w.shape == shape_of(name, s) and np.all(np.isfinite(w)) else None


@check("init.small_scale", INIT_CASES, INIT_EXAMPLES, calls="initialize_parameters")
def init_small_everywhere(student, n_x, n_h, n_y, seed):
    """Every weight, at every size, is finite and within 7.5 standard deviations of 0."""
    p, case = _init(student, n_x, n_h, n_y, seed, ("W1", "W2"))
    for name in ("W1", "W2"):
        w = weights(p, name, case)
        problem = _not_finite(name, w, case)
        if problem:
            raise problem
        if np.any(np.abs(w) >= BOUND):
            where = first_position(np.abs(w) >= BOUND)
            raise Failed("'%s' has an entry %s = %.4g, far outside what np.random.randn(...) * 0.01 gives: "
                         "its entries stay below %g in size (7.5 standard deviations, exceeded less than once "
                         "in 10^13 draws). Multiply the draws by 0.01 at every size"
                         % (name, where, w[tuple(where)], BOUND), case,
                         actual=Entry(name, where, w[tuple(where)], w.shape, w.dtype), tolerance={"atol": BOUND},
                         kind=VALUE)
