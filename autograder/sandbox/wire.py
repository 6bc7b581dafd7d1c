"""The wire format between the grader and the child: plain data, never objects.

A frame is an 8-byte big-endian length, then a 4-byte header length, a UTF-8 JSON header and
the raw array buffers the header counts in ``_blobs``. The grader sends its own arguments with
``encode`` (ints, float64 arrays, dicts, tuples). What comes back is decoded with ``decode``:
raw bytes viewed as an array of a dtype looked up in a table of numeric dtypes made once
(``DTYPES``), then copied, so nothing the child sends can execute in the grader's process (no
pickles, no objects); anything that is not a plain numeric ndarray, dict, list, tuple, str or None
arrives as ``Foreign(type name)``. ``Reply`` is one student call as the grader sees it. An argument
the child reports unchanged ({"t": "same"}) is not described by the child nor decoded here: it is
rebuilt from what the grader itself sent (``as_sent``), when a check first reads it. The child's
half of the format is in ``child.py``, which imports nothing from the grader.
"""

import math

import numpy as np


def _numeric_dtypes():
    """Every dtype string a reply may name (bool, ints, floats, complex; any byte order), each with its
    np.dtype made once: a reply's dtype is looked up here, never parsed."""
    codes = [kind + str(size) for kind in "iuf" for size in (1, 2, 4, 8)] + ["b1", "c8", "c16"]
    table = {}
    for prefix in ("", "<", ">", "|", "="):
        for code in codes:
            try:
                table[prefix + code] = np.dtype(prefix + code)
            except TypeError:       # "f1": no such numpy type
                pass
    return table


DTYPES = _numeric_dtypes()
_INT64 = np.dtype(np.int64)


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
        arr = _array(spec, blobs)
        cls, scalar = spec.get("cls"), spec.get("scalar")
        if scalar is not None:
            return Foreign(_name(scalar), arr)
        if cls != "numpy.ndarray":
            return Foreign(_name(cls), arr)
        return arr
    if t == "dict":
        keys, values = _list(spec.get("keys")), _list(spec.get("values"))
        if len(keys) != len(values):
            raise ValueError("bad dict")
        for k in keys:
            if not isinstance(k, str):
                raise ValueError("bad dict")
        depth += 1
        return {k[:80]: decode(v, blobs, depth) for k, v in zip(keys, values)}
    if t == "none":
        return None
    if t == "str":
        return str(spec.get("v", ""))[:200]
    if t in ("list", "tuple"):
        items = [decode(v, blobs, depth + 1) for v in _list(spec.get("items"))]
        if spec.get("len", len(items)) != len(items):
            return Foreign("%s of %s items" % (t, spec.get("len")))
        return items if t == "list" else tuple(items)
    if t == "other":
        return Foreign(_name(spec.get("type")))
    raise ValueError("unknown kind of value")


def _array(spec, blobs):
    """The grader's own copy of the array an "array" spec describes; ValueError on anything malformed."""
    dtype, shape, blob = spec.get("dtype"), spec.get("shape"), spec.get("blob")
    dt = DTYPES.get(dtype) if isinstance(dtype, str) else None
    if dt is None:
        raise ValueError("bad dtype")
    if not (isinstance(shape, list) and len(shape) <= 32):
        raise ValueError("bad shape")
    plain = True            # every length an int, not a bool: np.ndarray takes the shape as it is
    for n in shape:
        if type(n) is not int:
            if not isinstance(n, int):
                raise ValueError("bad shape")
            plain = False
        if not 0 <= n < 2**31:
            raise ValueError("bad shape")
    if not (isinstance(blob, int) and 0 <= blob < len(blobs)):
        raise ValueError("bad buffer")
    buffer = blobs[blob]
    if math.prod(shape) * dt.itemsize != len(buffer):     # exact: no int64 overflow
        raise ValueError("buffer size does not match shape")
    if plain:
        return np.ndarray(shape, dt, buffer).copy()     # a view of exactly the buffer's bytes, then our copy
    return np.frombuffer(buffer, dtype=dt).reshape(shape).copy()


def as_sent(spec, blobs):
    """What the child reports for an argument it calls SAME: exactly what ``decode`` makes of its
    description of the value ``encode`` sent (``spec`` and ``blobs`` are the grader's own)."""
    t = spec["t"]
    if t == "array":
        return np.ndarray(spec["shape"], DTYPES[spec["dtype"]], blobs[spec["blob"]]).copy()
    if t == "dict":
        return {k[:80]: as_sent(v, blobs) for k, v in zip(spec["keys"], spec["values"])}
    if t in ("list", "tuple"):
        items = [as_sent(v, blobs) for v in spec["items"]]
        return items if t == "list" else tuple(items)
    if t == "int":      # the child describes an int as a 0-d int64 array named builtins.int
        return Foreign("builtins.int", np.array(spec["v"], dtype=_INT64))
    raise ValueError("unknown kind of argument")


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

    ``sent`` is the list of the grader's own argument specs of this call (from ``encode``, with their
    buffers ``sent_blobs``): an "args_after" entry {"t": "same"} stands for the argument at its
    position exactly as sent (``as_sent``); a SAME with no argument at its position is malformed.
    Everything is checked here; only the copies of sent arguments are made when ``args_after`` is
    first read (most checks never read it).
    Raises ValueError, KeyError or TypeError on a malformed reply; the runner turns any of them
    into the failure of that request's function.
    """

    def __init__(self, raw, blobs, sent=(), sent_blobs=()):
        if not isinstance(raw, dict) or (raw.get("ok") is True and "value" not in raw):
            raise ValueError("malformed reply")
        self.ok = raw.get("ok") is True
        # one line: an exception text cannot draw lines of its own (a fake "Score:" line) in the report
        self.error = None if self.ok else one_line(raw.get("error", "failed"))[:600]
        self.value = decode(raw["value"], blobs) if self.ok else None
        self._after, self._sent, self._sent_blobs, self._pending = [], sent, sent_blobs, False
        if self.ok:
            for i, spec in enumerate(_list(raw.get("args_after", []))):
                if isinstance(spec, dict) and spec.get("t") == "same":
                    if i >= len(sent):
                        raise ValueError("'same' stands for no argument")
                    self._after.append(_SAME)
                    self._pending = True
                else:
                    self._after.append(decode(spec, blobs))

    @property
    def args_after(self):
        """The arguments after the call, as the child reports them (SAME: a copy of what was sent)."""
        if self._pending:
            self._after = [as_sent(self._sent[i], self._sent_blobs) if v is _SAME else v
                           for i, v in enumerate(self._after)]
            self._pending = False
        return self._after


_SAME = object()    # an argument the child reported as sent, not yet copied
