"""The child process: the only place where student code runs.

Started by ``sandbox.py`` as ``python -I child.py`` in a scratch folder. It
imports nothing from the grader, so tampering here (patching numpy, builtins,
AssertionError, np.random) can only change what the child *reports*, never how
the report is judged: every verdict is computed in the grader's own process.

Wire format, both ways: a frame is an 8-byte big-endian length followed by
that many bytes: a 4-byte header length, a UTF-8 JSON header, then raw array
buffers. Arrays travel as dtype string + shape + bytes, never as pickles.

Requests (JSON): {"op": "load", "id", "source", ...} (the submission's code itself) and a batch,
{"op": "calls", "ahead", "requests": [{"id", "calls": [{"fn", "args", "seed"}]}, ...]}, whose
requests share the frame's buffers and are answered one frame each, in order, as each finishes (the
grader times each one). Every reply repeats its request's "id" (the grader drops frames with any other
id). Once a batch has run "ahead" seconds, the next request is answered {"id", "skipped": true} and
the batch ends there: the grader asks the rest again when it needs them. Each call answers
{"ok": true, "value", "args_after", "output"} or {"ok": false, "error", "output"}; an argument still
exactly as the grader sent it is reported in "args_after" as {"t": "same"} instead of being described
again. Array specs number their buffers across the whole reply frame.

Nothing here is trusted by the grader: student code runs in this process and can replace any of
it (the module is taken out of ``sys.modules`` before student code loads, which stops only the
casual attempt). The grader therefore checks every reply's id, shape and types itself, and the
limits of what it cannot check (the account of arguments after a call, the seeding) are written
in SECURITY.md.
"""

import builtins
import importlib
import io
import json
import os
import re
import resource
import struct
import sys
import time
import traceback
import types

PROTOCOL_OUT = os.fdopen(os.dup(1), "wb", buffering=0)   # replies go here...
PROTOCOL_IN = os.fdopen(os.dup(0), "rb", buffering=0)
os.dup2(2, 1)                                              # ...student prints go to stderr
_devnull = os.open(os.devnull, os.O_RDONLY)
os.dup2(_devnull, 0)                                       # input() sees end of file

# Started on its own, the child runs with -S (no site module: docs/scale.md, "Speed tricks") and is given
# the grader's import path as arguments; forked from the warm pool's template, it has the template's path
# already and no arguments.
sys.path.extend(p for p in sys.argv[1:] if p not in sys.path)

import numpy as np  # noqa: E402  (after the descriptors are set up)

OUTPUT_CAP = 2000
MAX_DEPTH = 6
MAX_ITEMS = 64
NAMESPACE = {"__name__": "submission", "__builtins__": __builtins__}
# Keep private references: student code may replace these names in numpy or builtins.
_ndarray, _asarray, _seed, _generic = np.ndarray, np.asarray, np.random.seed, np.generic
_array = np.array
_isinstance, _type, _len, _str, _repr = isinstance, type, len, str, repr
_issubclass, _dict_keys, _dict_item = issubclass, dict.keys, dict.__getitem__
_monotonic = time.monotonic
_dumps = json.JSONEncoder(separators=(",", ":")).encode
_loads = json.loads
_OUR_BUILTINS = dict(builtins.__dict__)


class StudentBuiltins:
    """Student code may replace builtins (isinstance, len, ...). Inside ``with StudentBuiltins():``
    it sees its own version; outside, the child's own code runs with the original ones."""

    theirs = None

    def __enter__(self):
        if StudentBuiltins.theirs is not None:
            builtins.__dict__.clear()
            builtins.__dict__.update(StudentBuiltins.theirs)

    def __exit__(self, *exc):
        StudentBuiltins.theirs = _swap(_OUR_BUILTINS)
        return False


def _swap(contents):
    before = dict(builtins.__dict__)
    builtins.__dict__.clear()
    builtins.__dict__.update(contents)
    return before


class CappedOutput(io.TextIOBase):
    """Collects what student code prints, keeping at most OUTPUT_CAP characters."""

    def __init__(self):
        self.parts, self.size, self.dropped = [], 0, 0

    def write(self, text):
        text = _str(text)
        room = OUTPUT_CAP - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, _len(text))
        self.dropped += max(0, _len(text) - max(room, 0))
        return _len(text)

    def text(self):
        out = "".join(self.parts)
        if self.dropped:
            out += "\n[... %d more characters of output cut]" % self.dropped
        return out


def describe(value, blobs, depth=0):
    """Turn any value into plain JSON plus raw buffers; unknown objects become their type's name.

    ``blobs`` is the list of buffers of the whole reply frame: an array's "blob" is its index there.
    """
    kind = _type(value)
    if kind is _ndarray and depth <= MAX_DEPTH:       # the common case, without the type's name
        dtype = value.dtype
        if dtype.kind in "biufc" and not dtype.hasobject:
            blobs.append(value.tobytes())           # C order, whatever the layout: a copy of the numbers
            return {"t": "array", "cls": "numpy.ndarray", "dtype": dtype.str, "shape": [*value.shape],
                    "blob": _len(blobs) - 1}
    if (kind is dict or _issubclass(kind, dict)) and depth <= MAX_DEPTH:
        # A dict subclass (OrderedDict, a student's own) is a dict (docs/contract.md section 2): read it
        # through dict's own methods, so none of the subclass's overrides runs or changes what is read.
        keys = [k for k in _dict_keys(value)][:MAX_ITEMS]
        return {"t": "dict", "keys": [k if _type(k) is str else _repr(k)[:80] for k in keys],
                "values": [describe(_dict_item(value, k), blobs, depth + 1) for k in keys]}
    name = kind.__module__ + "." + kind.__qualname__
    if depth > MAX_DEPTH:
        return {"t": "other", "type": name}
    if _isinstance(value, _ndarray):
        if value.dtype.kind not in "biufc" or value.dtype.hasobject:
            return {"t": "other", "type": "numpy.ndarray of dtype %s" % value.dtype}
        plain = _array(_asarray(value).view(_ndarray), copy=True, order="C")
        blobs.append(plain.tobytes())
        return {"t": "array", "cls": name, "dtype": plain.dtype.str, "shape": list(plain.shape),
                "blob": _len(blobs) - 1}
    if value is None:
        return {"t": "none"}
    if kind in (bool, int, float) or _isinstance(value, _generic):
        try:
            return describe(_array(value), blobs, depth + 1) | {"scalar": name}
        except Exception:
            return {"t": "other", "type": name}
    if kind is str:
        return {"t": "str", "v": value[:200]}
    if kind in (list, tuple):
        items = [describe(v, blobs, depth + 1) for v in value[:MAX_ITEMS]]
        return {"t": kind.__name__, "items": items, "len": _len(value)}
    return {"t": "other", "type": name}


SAME = {"t": "same"}     # in "args_after": this argument is exactly as the grader sent it


def unchanged(value, spec, blobs):
    """True if ``value``, rebuilt from the grader's ``spec``, still is exactly what was sent: same types,
    same keys in the same order, same shapes, dtypes and bytes. Then the reply says SAME instead of
    describing it again. Only exact built-in types and ndarrays qualify (nothing of the student's runs)."""
    t, kind = spec["t"], _type(value)
    if t == "array":
        return (kind is _ndarray and value.dtype.str == spec["dtype"] and [*value.shape] == spec["shape"]
                and value.tobytes() == blobs[spec["blob"]])
    if t == "dict":
        keys = spec["keys"]
        if kind is not dict or _len(value) != _len(keys) or _len(keys) > MAX_ITEMS:
            return False
        for k, have, v in zip(keys, value, spec["values"]):
            if _type(have) is not str or have != k or not unchanged(value[have], v, blobs):
                return False
        return True
    if t in ("list", "tuple"):
        items = spec["items"]
        return (kind is (list if t == "list" else tuple) and _len(value) == _len(items) <= MAX_ITEMS
                and all(unchanged(v, s, blobs) for v, s in zip(value, items)))
    if t == "int":
        return kind is int and value == spec["v"] and -2**63 <= value < 2**63
    return False


def rebuild(spec, blobs):
    """Inverse of describe for the grader's own arguments (dicts, tuples and float arrays only)."""
    t = spec["t"]
    if t == "array":
        return _ndarray(spec["shape"], spec["dtype"], blobs[spec["blob"]]).copy()    # a writable C-order copy
    if t == "dict":
        return {k: rebuild(v, blobs) for k, v in zip(spec["keys"], spec["values"])}
    if t in ("list", "tuple"):
        items = [rebuild(v, blobs) for v in spec["items"]]
        return items if t == "list" else tuple(items)
    if t == "int":
        return int(spec["v"])
    return None


def read_frame():
    size = PROTOCOL_IN.read(8)
    if _len(size) < 8:
        raise SystemExit(0)
    (n,) = struct.unpack(">Q", size)
    data = PROTOCOL_IN.read(n)
    if _len(data) < n:                      # a pipe may hand over a large frame in pieces
        parts, got = [data], _len(data)
        while got < n:
            chunk = PROTOCOL_IN.read(n - got)
            if not chunk:
                raise SystemExit(0)
            parts.append(chunk)
            got += _len(chunk)
        data = b"".join(parts)
    (h,) = struct.unpack(">I", data[:4])
    header = _loads(data[4:4 + h].decode("utf-8"))
    blobs, offset = [], 4 + h
    for length in header.pop("_blobs", []):
        blobs.append(data[offset:offset + length])
        offset += length
    return header, blobs


def write_frame(header, blobs):
    header["_blobs"] = [_len(b) for b in blobs]
    head = _dumps(header).encode("utf-8")
    PROTOCOL_OUT.write(b"".join([struct.pack(">QI", 4 + _len(head) + sum(header["_blobs"]), _len(head)), head,
                                 *blobs]))


def short_error(exc):
    """'ValueError: ... (line 12, in forward)' using the student's own frames only."""
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == "<submission>":
            where = " (line %d, in %s)" % (frame.lineno, frame.name)
    text = "%s: %s" % (_type(exc).__name__, _str(exc)[:300])
    return text + where


# Imported before privileges are dropped: after the drop, files outside the scratch folder may be unreadable
# (a Python installed under /root, say), so a module first imported by student code would fail there. The
# warm pool's template imports all of them once; a child started on its own imports those whose last name
# appears in the submission's text (``np.testing`` names "testing"): the few it names cost less than all of
# them (docs/scale.md, "Speed tricks").
PRELOAD = ("math", "random", "functools", "itertools", "collections", "copy", "time", "typing", "warnings",
           "numbers", "operator", "statistics", "dataclasses", "string", "re", "signal", "decimal",
           "fractions", "contextlib", "enum", "heapq", "bisect", "array", "textwrap", "pprint",
           "numpy.linalg", "numpy.random", "numpy.fft", "numpy.testing")


def preload(source=None):
    """Import PRELOAD: all of it, or (given the submission's ``source``) the modules it names."""
    for name in PRELOAD:
        if name in sys.modules:         # the template's, or numpy's: no need to read the source for it
            continue
        if source is not None and not re.search(r"\b%s\b" % name.rsplit(".", 1)[-1], source):
            continue
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def drop_privileges(uid, gid, processes):
    """As root: become ``uid`` (a user no file belongs to) with few processes, before any student code.

    Its only supplementary group is ``gid``, the group the grader's folders deny by an ACL entry.
    """
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    os.setgroups([gid] if gid is not None else [])
    os.setgid(uid)
    os.setuid(uid)


def load(source, statements, uid=None, gid=None, processes=64):
    """Run the submission's code; with statements=True, one top-level statement at a time."""
    if uid is not None:
        preload(source)              # no-op for what the warm pool's template imported already
        drop_privileges(uid, gid, processes)
    sys.modules["__main__"] = types.ModuleType("__main__")   # ``import __main__`` no longer finds this module
    problems = []
    chunks = [source]
    if statements:
        chunks = [c for c in source.split("\n# %%% statement\n") if c.strip()]
    for chunk in chunks:
        sink = CappedOutput()
        old = sys.stdout
        sys.stdout = sink
        try:
            with StudentBuiltins():
                exec(compile(chunk, "<submission>", "exec"), NAMESPACE)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt too: a submission cannot end the child
            problems.append(short_error(exc))
        finally:
            sys.stdout = old
    found = {}
    for name in ("initialize_parameters", "forward", "backward"):
        fn = NAMESPACE.get(name)
        found[name] = "missing" if fn is None else ("ok" if callable(fn) else "not callable")
    return {"ok": True, "functions": found, "problems": problems}


def call(spec, blobs, out):
    """Run one call; its arrays are appended to ``out``, the buffers of the whole reply frame."""
    fn = NAMESPACE.get(spec["fn"])
    sent = spec["args"]
    args = [rebuild(a, blobs) for a in sent]
    if spec.get("seed") is not None:
        _seed(spec["seed"])
    sink = CappedOutput()
    old = sys.stdout
    sys.stdout = sink
    try:
        with StudentBuiltins():
            value = fn(*args)
    except BaseException as exc:
        sys.stdout = old
        return {"ok": False, "error": short_error(exc), "output": sink.text()}
    finally:
        sys.stdout = old
    reply = {"ok": True, "output": sink.text()}
    first = _len(out)
    try:
        reply["value"] = describe(value, out)
        reply["args_after"] = [SAME if unchanged(a, s, blobs) else describe(a, out) for a, s in zip(args, sent)]
    except BaseException as exc:
        del out[first:]
        return {"ok": False, "error": "could not read the returned value: " + short_error(exc),
                "output": sink.text()}
    return reply


def answer(header, blobs):
    """Answer one request of a batch (``header``: its "id" and "calls") in a reply frame of its own."""
    out = []
    replies = [call(spec, blobs, out) for spec in header["calls"]]
    write_frame({"ok": True, "id": header.get("id"), "replies": replies}, out)


def main():
    while True:
        header, blobs = read_frame()
        if header["op"] == "load":
            reply = load(header["source"], header.get("statements", False), header.get("uid"), header.get("gid"),
                         header.get("processes", 64))
            write_frame(dict(reply, id=header.get("id")), [])
        elif header["op"] == "calls":
            # Requests after the first are run ahead of need; past "ahead" seconds the rest are left for the
            # grader to ask again when it needs them (it times every request itself: this only saves work).
            began, ahead = _monotonic(), header.get("ahead")
            for k, request in enumerate(header["requests"]):
                if k and ahead is not None and _monotonic() - began > ahead:
                    write_frame({"ok": True, "id": request.get("id"), "skipped": True}, [])
                    break
                answer(request, blobs)


if __name__ == "__main__":
    main()
