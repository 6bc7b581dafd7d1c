"""The wire format between the grader and the child: plain data, never objects.

A frame is an 8-byte big-endian length, then a 4-byte header length, a UTF-8 JSON header and
the raw array buffers the header counts in ``_blobs``. The grader sends its own arguments with
``encode`` (ints, float64 arrays, dicts, tuples). What comes back is decoded with ``decode``:
``np.frombuffer`` on dtype strings checked against a short list, so nothing the child sends can
execute in the grader's process (no pickles, no objects); anything that is not a plain numeric
ndarray, dict, list, tuple, str or None arrives as ``Foreign(type name)``. ``Reply`` is one student
call as the grader sees it. The child's half of the format is in ``child.py``, which imports
nothing from the grader.
"""

import math
import re

import numpy as np

_DTYPE = re.compile(r"^[<>|=]?[biuf][1248]$|^[<>|=]?c(8|16)$|^\|b1$")


class Foreign:
    """A value the child could only describe: not a plain float64 ndarray, dict, list or str."""

    def __init__(self, type_name, array=None):
        self.type_name, self.array = type_name, array

    def __repr__(self):
        return "Foreign(%s)" % self.type_name


def encode(value, blobs):
    """The grader's own arguments (ints, float arrays, dicts, tuples) to the wire format."""
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value, dtype=np.float64)
        blobs.append(arr.tobytes())
        return {"t": "array", "dtype": "<f8", "shape": list(arr.shape), "blob": len(blobs) - 1}
    if isinstance(value, dict):
        return {"t": "dict", "keys": list(value), "values": [encode(v, blobs) for v in value.values()]}
    if isinstance(value, (list, tuple)):
        return {"t": type(value).__name__, "items": [encode(v, blobs) for v in value]}
    if isinstance(value, (int, np.integer)):
        return {"t": "int", "v": int(value)}
    raise TypeError("cannot send %r to the child" % type(value))


def decode(spec, blobs, depth=0):
    """The child's description of a value back to plain data; raises ValueError on anything malformed."""
    if not isinstance(spec, dict) or depth > 8:
        raise ValueError("malformed value")
    t = spec.get("t")
    if t == "array":
        dtype, shape, blob = spec.get("dtype"), spec.get("shape"), spec.get("blob")
        if not (isinstance(dtype, str) and _DTYPE.match(dtype)):
            raise ValueError("bad dtype")
        if not (isinstance(shape, list) and len(shape) <= 32
                and all(isinstance(n, int) and 0 <= n < 2**31 for n in shape)):
            raise ValueError("bad shape")
        if not (isinstance(blob, int) and 0 <= blob < len(blobs)):
            raise ValueError("bad buffer")
        dt = np.dtype(dtype)
        if math.prod(shape) * dt.itemsize != len(blobs[blob]):     # exact: no int64 overflow
            raise ValueError("buffer size does not match shape")
        arr = np.frombuffer(blobs[blob], dtype=dt).reshape(shape).copy()
        cls, scalar = spec.get("cls"), spec.get("scalar")
        if scalar is not None:
            return Foreign(_name(scalar), arr)
        if cls != "numpy.ndarray":
            return Foreign(_name(cls), arr)
        return arr
    if t == "none":
        return None
    if t == "str":
        return str(spec.get("v", ""))[:200]
    if t in ("list", "tuple"):
        items = [decode(v, blobs, depth + 1) for v in _list(spec.get("items"))]
        if spec.get("len", len(items)) != len(items):
            return Foreign("%s of %s items" % (t, spec.get("len")))
        return items if t == "list" else tuple(items)
    if t == "dict":
        keys, values = _list(spec.get("keys")), _list(spec.get("values"))
        if len(keys) != len(values) or not all(isinstance(k, str) for k in keys):
            raise ValueError("bad dict")
        return {k[:80]: decode(v, blobs, depth + 1) for k, v in zip(keys, values)}
    if t == "other":
        return Foreign(_name(spec.get("type")))
    raise ValueError("unknown kind of value")


def _name(text):
    return str(text)[:80] if text is not None else "object"


MAX_LIST = 4096     # items of one list, tuple or dict a reply may describe (the child sends at most 64)


def _list(x):
    if not isinstance(x, list) or len(x) > MAX_LIST:
        raise ValueError("expected a list of at most %d items" % MAX_LIST)
    return x


def one_line(text):
    """``text`` with its line breaks written as visible escapes."""
    return str(text).replace("\r", "\\r").replace("\n", "\\n")


class Reply:
    """One student call: ``value`` and ``args_after`` on success, else ``error``.

    Raises ValueError, KeyError or TypeError on a malformed reply; the runner turns any of them
    into the failure of that request's function.
    """

    def __init__(self, raw, blobs):
        if not isinstance(raw, dict) or (raw.get("ok") is True and "value" not in raw):
            raise ValueError("malformed reply")
        self.ok = raw.get("ok") is True
        # one line: an exception text cannot draw lines of its own (a fake "Score:" line) in the report
        self.error = None if self.ok else one_line(raw.get("error", "failed"))[:600]
        self.value = decode(raw["value"], blobs) if self.ok else None
        self.args_after = [decode(a, blobs) for a in _list(raw.get("args_after", []))] if self.ok else []
