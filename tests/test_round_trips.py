"""One round trip per batch of cases: the grader asks a check's cases at once, and nothing else changes.

Before a check runs its recorded cases, the engine sends the first request of each of them to the child
in one frame (``Sandbox.batch``); the child answers each in a frame of its own, and the grader reads
each with its own time limit. These tests count the frames a correct submission needs, and show that a
case that hangs or is slow, and a child that answers a batch wrongly, cost what they cost when every
request travelled alone: that function's items, with the same message, and nothing else.
"""

import sys
import textwrap

import numpy as np
import pytest

from autograder import rubric
from autograder.grading import checks_net, engine, registry
from autograder.sandbox import runner
from autograder.sandbox.student import Student
from conftest import SOLUTION

with open(SOLUTION, encoding="utf-8") as _f:
    RIGHT = _f.read()       # the reference solution; the variants below wrap its forward
# forward loops for ever at one generated case, not its first: m = 10 only at the third net case.
HANGS_AT_ONE_CASE = RIGHT + """
_forward = forward


def forward(X, parameters):
    if X.shape[1] == 10:
        while True:
            pass
    return _forward(X, parameters)
"""
# forward takes 0.4 s at every case with 5 examples or more: each request is in time (LIMIT), the
# several such cases of forward.values together are not.
SLOW_CASES = RIGHT + """
import time
_forward = forward


def forward(X, parameters):
    if X.shape[1] >= 5:
        time.sleep(0.4)
    return _forward(X, parameters)
"""
LIMIT = 1.0     # seconds per request in these tests


def _write(tmp_path, source):
    path = tmp_path / ("random_init_%d.py" % len(list(tmp_path.iterdir())))
    path.write_text(source)
    return str(path)


def _counted(box):
    """Wrap the sandbox's frame writer: the list of ops of every frame sent to the child."""
    sent, send = [], box._send

    def counting(header, *rest):
        sent.append(header["op"])
        return send(header, *rest)
    box._send = counting
    return sent


def test_a_correct_submission_needs_one_round_trip_per_check_at_most():
    box = runner.Sandbox(SOLUTION)
    sent = _counted(box)
    try:
        box.load()
        verdicts, cut = engine.grade_items(rubric.ITEMS, Student(box))
    finally:
        box.close()
    assert all(v.passed for v in verdicts.values()) and not cut
    loads = sent.count("load")
    assert loads == 1
    # every check's cases in one request, the first cases of all of them in one more: today 6 frames in all
    assert checks_net.registry is registry and len(registry.CHECKS) >= len(rubric.ITEMS)    # the checks ran
    assert len(sent) - loads <= len(registry.CHECKS), sent
    assert box.exchanges == len(sent)           # the sandbox's own count, for benchmarks and debugging
    assert box.calls_sent == 127                # the same calls as when each request travelled alone


def test_a_case_that_hangs_costs_its_function_only_with_the_message_it_always_had(tmp_path):
    result = engine.grade(_write(tmp_path, HANGS_AT_ONE_CASE), call_seconds=LIMIT)
    lost = {v.id: v for v in result.verdicts if not v.passed}
    assert set(lost) == {"forward.values"}
    hang = lost["forward.values"]
    # the message, case and label that a grading sending every request alone gave (checked on main)
    assert hang.problem == "forward did not finish within 1 seconds (an endless loop, or far too much work?)"
    assert hang.case == {"n_x": 3, "n_h": 8, "n_y": 7, "m": 10, "problem_seed": 16726}
    assert hang.case_label == "Failing case" and hang.kind == "hang"
    assert result.score == rubric.TOTAL - rubric.BY_ID["forward.values"].points and not result.notes


def test_slow_cases_each_in_time_pass_although_together_they_exceed_one_limit(tmp_path):
    result = engine.grade(_write(tmp_path, SLOW_CASES), call_seconds=LIMIT)
    assert [v.id for v in result.verdicts if not v.passed] == [] and not result.notes


def _net(m, n_x=3, n_h=4, n_y=2):
    rng = np.random.default_rng(m)
    p = {"W1": rng.standard_normal((n_h, n_x)), "b1": np.zeros((n_h, 1)),
         "W2": rng.standard_normal((n_y, n_h)), "b2": np.zeros((n_y, 1))}
    return rng.standard_normal((n_x, m)), p


def _a2(X, p):
    return 1 / (1 + np.exp(-(p["W2"] @ np.tanh(p["W1"] @ X + p["b1"]) + p["b2"])))


def _forward_requests(sizes):
    return [[("forward", _net(m), None)] for m in sizes]


def test_each_request_of_a_batch_has_its_own_limit(tmp_path):
    box = runner.Sandbox(_write(tmp_path, SLOW_CASES), call_seconds=LIMIT)
    box.ahead_seconds = None            # run every request ahead, however long the batch takes
    try:
        outcomes = box.batch(_forward_requests([5, 6, 7, 8]))      # 1.6 s together, 0.4 s each
    finally:
        box.close()
    assert [type(o) for o in outcomes] == [list] * 4


def test_a_hang_ends_its_batch_and_the_requests_after_it_are_asked_again(tmp_path):
    box = runner.Sandbox(_write(tmp_path, HANGS_AT_ONE_CASE), call_seconds=LIMIT)
    box.ahead_seconds = None
    try:
        outcomes = box.batch(_forward_requests([2, 10, 3]))
        assert isinstance(outcomes[0], list) and len(outcomes) == 2
        assert isinstance(outcomes[1], runner.Hung) and str(outcomes[1]).startswith("did not finish within 1 seconds")
        again = box.calls(_forward_requests([3])[0])       # asked again: a fresh child answers it
        np.testing.assert_allclose(again[0].value[0], _a2(*_net(3)))
    finally:
        box.close()


def test_a_child_that_stops_running_ahead_leaves_the_rest_to_be_asked_again(tmp_path):
    box = runner.Sandbox(_write(tmp_path, SLOW_CASES), call_seconds=LIMIT)
    box.ahead_seconds = 0.1
    try:
        outcomes = box.batch(_forward_requests([5, 6, 7]))
        assert [type(o) for o in outcomes] == [list]           # 0.4 s spent: the child stopped after one
        assert box.calls(_forward_requests([6])[0])[0].ok    # the same child answers what it left
    finally:
        box.close()


# The child's loop calls ``answer(request, blobs)`` once per request of a batch; student code can replace
# it. Each variant misanswers forward's requests only.
HOOK = '''
import json, struct, sys
_g = sys._getframe(0)
while "PROTOCOL_OUT" not in _g.f_globals:
    _g = _g.f_back
_g = _g.f_globals
_answer, _held = _g["answer"], []


def _frame(head):
    head = json.dumps(head).encode()
    body = struct.pack(">I", len(head)) + head
    _g["PROTOCOL_OUT"].write(struct.pack(">Q", len(body)) + body)


def _hook(header, blobs):
    if header["calls"][0]["fn"] != "forward":
        return _answer(header, blobs)
%s


_g["answer"] = _hook
'''
MISANSWERS = {
    # a list of replies shorter than the request's calls
    "short": '    _frame({"ok": True, "id": header["id"], "replies": []})',
    # the request's answer, then a copy of it, then frames with ids of no request
    "extra": '    _answer(header, blobs)\n    _answer(header, blobs)\n'
             '    _frame({"ok": True, "id": None, "replies": []})\n    _frame({"ok": True, "id": "next", "replies": []})',
    # each pair of requests answered in the wrong order
    "swapped": '    _held.append(header)\n    if len(_held) == 2:\n        _answer(_held[1], blobs)\n'
               '        _answer(_held.pop(0), blobs)\n        _held.clear()',
    # a request answered under the id of the next one, whose answer never comes
    "wrong_id": '    ids = [r["id"] for r in sys._getframe(1).f_locals["header"]["requests"]]\n'
                '    k = ids.index(header["id"])\n'
                '    _answer(dict(header, id=ids[k + 1] if k + 1 < len(ids) else "none"), blobs)',
    # "skipped" for the first request of a batch, which the child must always run
    "skipped_first": '    _frame({"ok": True, "id": header["id"], "skipped": True})',
}


@pytest.mark.parametrize("how", sorted(MISANSWERS))
def test_a_batch_answered_wrongly_never_gives_a_request_another_ones_answer(how, tmp_path):
    box = runner.Sandbox(_write(tmp_path, RIGHT + HOOK % MISANSWERS[how]), call_seconds=LIMIT)
    sizes = [2, 3, 4, 5]
    try:
        outcomes = box.batch(_forward_requests(sizes))
        for m, outcome in zip(sizes, outcomes):
            if isinstance(outcome, list):        # an answer is always the one to its own request
                np.testing.assert_allclose(outcome[0].value[0], _a2(*_net(m)))
                assert how in ("extra", "swapped")
            else:
                assert isinstance(outcome, runner.StudentError) and outcome is outcomes[-1]
        assert (len(outcomes) == 4) == (how == "extra")
        assert isinstance(box.calls([("initialize_parameters", (2, 3, 1), 0)])[0].value, dict)   # others: fine
    finally:
        box.close()


def test_a_child_that_stops_reading_costs_its_request_its_limit_never_blocks_the_grader(tmp_path):
    # After loading, the child's loop never reads again; a batch frame larger than the pipe's buffer
    # (64 KiB) cannot be written whole, and the write is bounded by the request's limit.
    stops = HOOK.replace('_g["answer"] = _hook', '_g["read_frame"] = lambda: __import__("time").sleep(3600)') % "    pass"
    box = runner.Sandbox(_write(tmp_path, RIGHT + stops), call_seconds=LIMIT)
    try:
        outcomes = box.batch(_forward_requests([4000, 4001]))        # X alone is 3 x 4000 floats: 96 KB
        assert len(outcomes) == 1 and isinstance(outcomes[0], runner.Hung)
    finally:
        box.close()


@pytest.mark.parametrize("how", ["short", "swapped", "wrong_id"])
def test_a_batch_answered_wrongly_costs_that_function_only(how, tmp_path):
    result = engine.grade(_write(tmp_path, RIGHT + HOOK % MISANSWERS[how]), call_seconds=LIMIT)
    lost = [v for v in result.verdicts if not v.passed]
    assert [v.id for v in lost] == ["forward.values"], result.verdicts
    assert lost[0].kind in ("hang", "crash") and "Traceback" not in lost[0].problem


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
