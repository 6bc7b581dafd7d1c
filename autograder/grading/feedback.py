"""Words for what went wrong: types, shapes, and where two arrays differ and by how much.

Each helper returns ``None`` when all is well, else a ``Mismatch``: one sentence the student can
act on, in the style "'W1' has shape (3, 4), expected (4, 3)", with the expected and actual parts
kept apart so that every renderer can show them, and the id of a likely cause where the mismatch
itself shows one (a transposed shape). Values are plain data decoded by ``sandbox/wire.py``;
nothing here touches student objects.
"""

import numpy as np

from ..sandbox.wire import Foreign
from .registry import Failed


class Mismatch:
    """What check_array and compare found: ``text`` plus optional ``expected``, ``actual``, ``hint``."""

    def __init__(self, text, expected=None, actual=None, hint=None):
        self.text, self.expected, self.actual, self.hint = text, expected, actual, hint

    def failed(self, case, hint=None):
        return Failed(self.text, case, expected=self.expected, actual=self.actual, hint=hint or self.hint)

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


def check_array(name, value, shape, dtype=True):
    """The type, dtype and shape of ``value`` as the contract wants them, or a sentence saying why not."""
    if not isinstance(value, np.ndarray):
        if isinstance(value, Foreign) and value.array is not None and value.array.ndim > 0:
            return Mismatch("'%s' is %s, expected a plain numpy.ndarray (use np.asarray)" % (name, kind(value)),
                            "numpy.ndarray", kind(value))
        return Mismatch("'%s' is %s, expected a numpy array of shape %s" % (name, kind(value), _tuple(shape)),
                        "array of shape %s" % _tuple(shape), kind(value))
    if value.shape != tuple(shape):
        note = ""
        if value.shape == tuple(shape)[::-1] and value.shape != tuple(shape):
            note = " (it looks transposed)"
        elif value.size == int(np.prod(shape)) and len(value.shape) != len(shape):
            note = " (keep it 2-D: keepdims=True in np.sum, or .reshape(%s))" % ", ".join(map(str, shape))
        return Mismatch("'%s' has shape %s, expected %s%s" % (name, _tuple(value.shape), _tuple(shape), note),
                        _tuple(shape), _tuple(value.shape))
    if dtype and value.dtype != np.float64:
        return Mismatch("'%s' has dtype %s, expected float64 (do not cast the weights to another type)"
                        % (name, value.dtype), "float64", str(value.dtype))
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
    """None if ``got`` matches ``expected`` entry by entry, else where and by how much it does not."""
    got = as_numbers(got)
    if got is None:
        return Mismatch("'%s' holds no numbers the grader can compare" % name)
    if got.shape != expected.shape:
        if np.squeeze(got).shape == np.squeeze(expected).shape:
            got = got.reshape(expected.shape)
        else:
            return Mismatch("'%s' has shape %s, expected %s" % (name, _tuple(got.shape), _tuple(expected.shape)),
                            _tuple(expected.shape), _tuple(got.shape))
    if not np.all(np.isfinite(got)):
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
        return Mismatch("'%s' contains %s at %s" % (name, got[where], list(where)), fmt(expected[where]),
                        str(got[where]))
    gap = np.abs(got - expected)
    bad = gap > atol + rtol * np.abs(expected)
    if not bad.any():
        return None
    where = np.unravel_index(int(np.argmax(np.where(bad, gap, -1))), gap.shape)
    at = "[%s]" % ", ".join(str(int(i)) for i in where)
    return Mismatch("'%s' differs from %s at %d of %d entries; the largest gap is at %s: you returned %s, "
                    "expected %s (off by %s)" % (name, what, int(bad.sum()), bad.size, at, fmt(got[where]),
                                                 fmt(expected[where]), fmt(gap[where])),
                    "%s%s = %s" % (name, at, fmt(expected[where])), "%s%s = %s" % (name, at, fmt(got[where])))


def _tuple(shape):
    shape = tuple(int(n) for n in shape)
    return "(%d,)" % shape[0] if len(shape) == 1 else str(shape)


def describe_case(**sizes):
    """'n_x=2 inputs, n_h=3 hidden units, n_y=1 output, m=4 examples' from keyword sizes."""
    words = {"n_x": ("input", "inputs"), "n_h": ("hidden unit", "hidden units"),
             "n_y": ("output", "outputs"), "m": ("example", "examples")}
    parts = []
    for key in ("n_x", "n_h", "n_y", "m"):
        if key in sizes:
            n = sizes[key]
            parts.append("%s=%d %s" % (key, n, words[key][n != 1]))
    return ", ".join(parts)
