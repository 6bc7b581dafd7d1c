"""Words for what went wrong: types, shapes, and where two arrays differ and by how much.

Each helper returns ``None`` when all is well, else a ``Mismatch``: one sentence the student can
act on, in the style "'W1' has shape (3, 4), expected (4, 3)", with the expected and actual parts
kept apart so that every renderer can show them, and the id of a likely cause where the mismatch
itself shows one (a transposed shape). Values are plain data decoded by ``sandbox/wire.py``;
nothing here touches student objects.
"""

import numpy as np

from ..sandbox.wire import Foreign
from ..verdicts import DTYPE, SHAPE, TYPE, VALUE, Dtype, Entry, Failed, Shape, TypeName, shape_text


class Mismatch:
    """What check_array and compare found: ``text`` plus optional ``expected``, ``actual``, ``hint``.

    ``expected`` and ``actual`` are values (``verdicts.Shape``, ``Entry``, ...), ``kind`` the kind of
    mistake. ``rel`` is the relative error of the entry shown (inf when no entry can be compared: a wrong
    shape, a missing value, nan), so a check can prefer a case whose gap is clearly beyond rounding;
    ``tolerance`` is the one it broke, for a value comparison.
    """

    def __init__(self, text, expected=None, actual=None, hint=None, rel=float("inf"), kind=VALUE, tolerance=None):
        self.text, self.expected, self.actual, self.hint, self.rel = text, expected, actual, hint, rel
        self.kind, self.tolerance = kind, tolerance

    def failed(self, case, hint=None, inputs=None):
        return Failed(self.text, case, expected=self.expected, actual=self.actual, hint=hint or self.hint,
                      inputs=inputs, kind=self.kind, rel=self.rel if self.tolerance else None,
                      tolerance=self.tolerance)

    def __str__(self):
        return self.text


def kind(value):
    """A short, student-facing name for the type of a decoded value."""
    if isinstance(value, np.ndarray):
        return "a numpy array"
    if isinstance(value, Foreign):
        return "a %s" % value.type_name.replace("builtins.", "")
    if value is None:
        return "None"
    return "a %s" % type(value).__name__


def fmt(x):
    """A number as the student reads it in a sentence: six significant digits."""
    return "%.6g" % x


def check_array(name, value, shape, dtype=True, hints=None):
    """The type, dtype and shape of ``value`` as the contract wants them, or a sentence saying why not.

    ``hints`` maps what the mismatch shows ("transposed", "flat", "dtype") to the id of the likely
    cause in the caller's terms; the sentence itself names no code, since the fix depends on where
    the array came from (a bias made with np.zeros, a gradient summed with np.sum).
    """
    hints = hints or {}
    if not isinstance(value, np.ndarray):
        if isinstance(value, Foreign) and value.array is not None and value.array.ndim > 0:
            return Mismatch("'%s' is %s, expected a plain numpy.ndarray (use np.asarray)" % (name, kind(value)),
                            TypeName("numpy.ndarray"), TypeName(kind(value)), kind=TYPE)
        return Mismatch("'%s' is %s, expected a numpy array of shape %s" % (name, kind(value), _tuple(shape)),
                        TypeName("array of shape %s" % _tuple(shape), shape), TypeName(kind(value)), kind=TYPE)
    if value.shape != tuple(shape):
        note, hint = "", None
        if value.shape == tuple(shape)[::-1]:
            note, hint = " (it looks transposed)", hints.get("transposed")
        elif value.size == int(np.prod(shape)) and value.ndim < len(shape):
            note, hint = " (the right entries, but %d-D)" % value.ndim, hints.get("flat")
        return Mismatch("'%s' has shape %s, expected %s%s" % (name, _tuple(value.shape), _tuple(shape), note),
                        Shape(shape), Shape(value.shape), hint, kind=SHAPE)
    if dtype and value.dtype != np.float64:
        return Mismatch("'%s' has dtype %s, expected float64" % (name, value.dtype), Dtype("float64"),
                        Dtype(value.dtype), hints.get("dtype"), kind=DTYPE)
    return None


def as_numbers(value):
    """A float array for value checks, or None: ndarrays, numeric Foreign values and lists of numbers."""
    if isinstance(value, Foreign):
        value = value.array
    if isinstance(value, (list, tuple)):
        try:
            value = np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            return None
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.astype(np.float64)
    return None


def compare(name, got, expected, rtol, atol, what="the expected value"):
    """None if ``got`` matches ``expected`` entry by entry, else where and by how much it does not.

    An entry matches when |got - expected| <= atol + rtol * |expected| (numpy's allclose rule). The
    sentence shows the entry with the largest gap, its relative error and the tolerance it exceeds.
    """
    got = as_numbers(got)
    if got is None:
        return Mismatch("'%s' holds no numbers the grader can compare" % name, kind=TYPE)
    if got.shape != expected.shape:
        if np.squeeze(got).shape == np.squeeze(expected).shape:
            got = got.reshape(expected.shape)
        else:
            return Mismatch("'%s' has shape %s, expected %s" % (name, _tuple(got.shape), _tuple(expected.shape)),
                            Shape(expected.shape), Shape(got.shape), kind=SHAPE)
    tolerance = {"rtol": rtol, "atol": atol}
    if not np.all(np.isfinite(got)):
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
        bad = int((~np.isfinite(got)).sum())
        return Mismatch("'%s' contains %s at %s, where %s is %s" % (name, not_finite_name(got[where]), list(where),
                                                                 what, fmt(expected[where])),
                        Entry(None, where, expected[where], expected.shape, expected.dtype),
                        Entry(None, where, got[where], got.shape, got.dtype, differing=bad, size=got.size),
                        tolerance=tolerance)
    gap = np.abs(got - expected)
    bad = gap > atol + rtol * np.abs(expected)
    if not bad.any():
        return None
    where = np.unravel_index(int(np.argmax(np.where(bad, gap, -1))), gap.shape)
    at = "[%s]" % ", ".join(str(int(i)) for i in where)
    rel = float(gap[where] / abs(expected[where])) if expected[where] != 0 else float("inf")
    return Mismatch("'%s' differs from %s at %d of %d entries; the largest gap is at %s: you returned %s, "
                    "expected %s (off by %s, %s; the tolerance is %s relative plus %s absolute)"
                    % (name, what, int(bad.sum()), bad.size, at, fmt(got[where]), fmt(expected[where]),
                       fmt(gap[where]), relative_text(rel), fmt(rtol), fmt(atol)),
                    Entry(name, where, expected[where], expected.shape, expected.dtype),
                    Entry(name, where, got[where], got.shape, got.dtype, differing=int(bad.sum()), size=bad.size,
                          gap=gap[where]),
                    rel=rel, tolerance=tolerance)


def relative_text(rel):
    """'relative error 0.0021' or, when the expected value is 0, why there is none."""
    return "relative error %.2g" % rel if np.isfinite(rel) else "where 0 was expected"


def not_finite_name(x):
    """'nan', 'inf' or '-inf': the name a student searches for."""
    return "nan" if np.isnan(x) else ("inf" if x > 0 else "-inf")


# --- failing cases a student can rebuild ---------------------------------------------------------

INLINE_NUMBERS = 40   # up to this many numbers, the inputs are shown as literal arrays; beyond, as code


def _literal(a):
    """An exact literal for a float64 array: repr of a Python float round-trips every bit."""
    return "np.array(%r)" % (np.asarray(a, dtype=np.float64).tolist(),)


def _dict_literal(d, keys):
    return "{%s}" % ", ".join('"%s": %s' % (k, _literal(d[k])) for k in keys)


PARAMETER_KEYS = ("W1", "b1", "W2", "b2")
CACHE_KEYS = ("Z1", "A1", "Z2", "A2")


def problem_code(seed, n_x, n_h, n_y, m):
    """Code that rebuilds reference.problem(seed, n_x, n_h, n_y, m) exactly (a test checks it)."""
    return ("rng = np.random.default_rng(%d)\n"
            "parameters = {\"W1\": np.clip(rng.standard_normal((%d, %d)), -2.5, 2.5), "
            "\"b1\": 0.5 * rng.standard_normal((%d, 1)),\n"
            "              \"W2\": np.clip(rng.standard_normal((%d, %d)), -2.5, 2.5), "
            "\"b2\": 0.5 * rng.standard_normal((%d, 1))}\n"
            "X = rng.standard_normal((%d, %d))\n"
            "Y = (rng.random((%d, %d)) < 0.5).astype(np.float64)"
            % (seed, n_h, n_x, n_h, n_y, n_h, n_y, n_x, m, n_y, m))


CACHE_CODE = ("Z1 = parameters[\"W1\"] @ X + parameters[\"b1\"]\n"
              "Z2 = parameters[\"W2\"] @ np.tanh(Z1) + parameters[\"b2\"]\n"
              "cache = {\"Z1\": Z1, \"A1\": np.tanh(Z1), \"Z2\": Z2, \"A2\": 0.5 * (1 + np.tanh(0.5 * Z2))}")


def rebuild(function, seed, sizes, p, X, Y=None, cache=None):
    """Code that rebuilds a forward or backward case exactly and calls the student's function.

    Small cases are literal arrays (exact: every float is written with all its digits); larger
    ones are the generator calls the grader itself made.
    """
    numbers = sum(v.size for v in p.values()) + X.size + (Y.size if Y is not None else 0) \
        + (sum(cache[k].size for k in CACHE_KEYS) if cache is not None else 0)
    lines = ["import numpy as np"]
    if numbers <= INLINE_NUMBERS:
        lines.append("parameters = %s" % _dict_literal(p, PARAMETER_KEYS))
        lines.append("X = %s" % _literal(X))
        if function == "backward":
            lines.append("Y = %s" % _literal(Y))
            lines.append("cache = %s" % _dict_literal(cache, CACHE_KEYS))
    else:
        lines.append(problem_code(seed, sizes["n_x"], sizes["n_h"], sizes["n_y"], sizes["m"]))
        if function == "backward":
            lines.append(CACHE_CODE)
    lines.append("A2, cache = forward(X, parameters)" if function == "forward"
                 else "grads = backward(parameters, cache, X, Y)")
    return "\n".join(lines)


_tuple = shape_text
