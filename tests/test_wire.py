"""The wire format: an argument the child reports as {"t": "same"} is exactly what a full description
would have given, and a forged or malformed "same" is handled as SECURITY.md says (a "same" is the
child's word; one that stands for no argument fails that request's function, never the grader)."""
import numpy as np
import pytest

from autograder.sandbox import runner, wire
from conftest import SOLUTION

SAME = {"t": "same"}


def _sent(*args):
    blobs = []
    return [wire.encode(a, blobs) for a in args], blobs


def _params():
    rng = np.random.default_rng(3)
    return {"W1": rng.standard_normal((4, 3)), "b1": np.zeros((4, 1)), "W2": rng.standard_normal((2, 4)),
            "b2": np.full((2, 1), -0.0)}


def test_same_stands_for_a_fresh_copy_of_what_was_sent():
    X, p = np.random.default_rng(1).standard_normal((3, 5)), _params()
    sent, blobs = _sent(X, p, 7)
    reply = wire.Reply({"ok": True, "value": {"t": "none"}, "args_after": [SAME, SAME, SAME]}, [], sent, blobs)
    X_after, p_after, n_after = reply.args_after
    assert type(X_after) is np.ndarray and X_after.dtype == np.float64 and X_after.tobytes() == X.tobytes()
    assert X_after.flags.writeable and X_after.flags.c_contiguous and not np.shares_memory(X_after, X)
    assert list(p_after) == list(p)
    assert all(p_after[k].tobytes() == p[k].tobytes() and p_after[k].shape == p[k].shape for k in p)
    assert isinstance(n_after, wire.Foreign) and n_after.type_name == "builtins.int"
    assert n_after.array.dtype == np.int64 and n_after.array.shape == () and n_after.array == 7


@pytest.mark.parametrize("args_after", [
    [SAME, SAME, SAME],                       # a third "same" for a call with two arguments
    [SAME, {"t": "dict", "keys": ["W1"], "values": [SAME]}],   # "same" only stands for a whole argument
    [{"t": "same!"}, SAME],
])
def test_same_that_stands_for_no_argument_is_malformed(args_after):
    sent, blobs = _sent(np.ones((2, 2)), _params())
    with pytest.raises(ValueError):
        wire.Reply({"ok": True, "value": {"t": "none"}, "args_after": args_after}, [], sent, blobs)


def test_same_is_no_value():
    sent, blobs = _sent(np.ones((2, 2)))
    with pytest.raises(ValueError):
        wire.Reply({"ok": True, "value": SAME, "args_after": []}, [], sent, blobs)


def test_dtype_table_is_the_numeric_dtypes_only():
    assert wire.DTYPES["<f8"] == np.float64 and wire.DTYPES["|b1"] == np.bool_ and ">c16" in wire.DTYPES
    for bad in ("O", "|O", "V8", "<U4", "f1", "b8", "<f8\n", "M8[s]", "<f16"):
        assert bad not in wire.DTYPES
        spec = {"t": "array", "cls": "numpy.ndarray", "dtype": bad, "shape": [1], "blob": 0}
        with pytest.raises(ValueError):
            wire.decode(spec, [b"\0" * 8])


MUTATES = '''
_forward = forward


def forward(X, parameters):
    out = _forward(X, parameters)
    X *= 2
    parameters["W1"] = parameters["W1"].astype(np.float32)
    return out
'''

DESCRIBES_EVERYTHING = '''
import sys
_f = sys._getframe(0)
while "PROTOCOL_OUT" not in _f.f_globals:
    _f = _f.f_back
_f.f_globals["unchanged"] = lambda value, spec, blobs: False      # never "same": describe every argument
'''


def _sandbox(tmp_path, source):
    """A sandbox holding the reference solution followed by ``source``."""
    with open(SOLUTION, encoding="utf-8") as f:
        (tmp_path / "submission.py").write_text(f.read() + "\n" + source)
    return runner.Sandbox(str(tmp_path / "submission.py"))


def _after(tmp_path, source):
    X, p = np.random.default_rng(2).standard_normal((3, 5)), _params()
    Y = np.array([[1.0, 0.0, 1.0, 1.0, 0.0]])
    sb = _sandbox(tmp_path, source)
    try:
        fwd = sb.calls([("forward", (X, p), 0)])[0]
        cache = fwd.value[1]
        bwd = sb.calls([("backward", (p, cache, X, Y), 0)])[0]
        init = sb.calls([("initialize_parameters", (3, 4, 2), 0)])[0]
        return X, p, fwd, bwd, init
    finally:
        sb.close()


def _same_form(a, b):
    """Equal as the grader sees values: same types, keys, dtypes, shapes and bytes."""
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same_form(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same_form(x, y)
    elif isinstance(a, wire.Foreign):
        assert a.type_name == b.type_name
        _same_form(a.array, b.array)
    else:
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_same_gives_exactly_what_a_full_description_gives(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    used, as_sent = [], wire.as_sent
    monkeypatch.setattr(wire, "as_sent", lambda spec, blobs: used.append(spec["t"]) or as_sent(spec, blobs))
    honest = _after(tmp_path / "a", "")
    assert used == []                                # copies are made only when args_after is read
    for reply in honest[2:]:
        assert reply.args_after is reply.args_after  # made once
    assert {"array", "dict", "int"} <= set(used)     # the honest child did answer "same"
    used.clear()
    described = _after(tmp_path / "b", DESCRIBES_EVERYTHING)
    for reply in described[2:]:
        reply.args_after
    assert used == []
    for reply, full in zip(honest[2:], described[2:]):
        _same_form(reply.args_after, full.args_after)
        _same_form(reply.value, full.value)
    X, p, fwd = honest[:3]
    _same_form(fwd.args_after, [X, p])


def test_changed_arguments_are_described_not_called_same(tmp_path):
    X, p, fwd, _, _ = _after(tmp_path, MUTATES)
    X_after, p_after = fwd.args_after
    assert np.array_equal(X_after, 2 * X)
    assert p_after["W1"].dtype == np.float32 and np.array_equal(p_after["b1"], p["b1"])


def test_child_numbers_buffers_across_the_calls_of_one_request(tmp_path):
    sb = _sandbox(tmp_path, "")
    try:
        batched = sb.calls([("initialize_parameters", (3, 4, 2), seed) for seed in range(4)])
        alone = [sb.calls([("initialize_parameters", (3, 4, 2), seed)])[0] for seed in range(4)]
    finally:
        sb.close()
    assert len({r.value["W1"].tobytes() for r in batched}) == 4      # each call's own arrays
    for one, other in zip(batched, alone):
        _same_form(one.value, other.value)
        _same_form(one.args_after, other.args_after)
