"""A hang is reported for what was timed: one call, or a request of several calls together.

The per-call limit (runner.CALL_SECONDS) bounds one request, which may hold up to four calls of one
function. A function that takes 40 % of the limit is quick enough alone, yet four such calls run out of
time together; the message must not say that the function did not finish within the limit.
"""

import pytest

from autograder.sandbox import runner

SLOW = '''
import time

def initialize_parameters(n_x, n_h, n_y):
    time.sleep(0.4)
    return {}
'''
LIMIT = 1.0     # seconds per request in this test: 4 calls of 0.4 s exceed it, one call does not


def _sandbox(tmp_path, source):
    path = tmp_path / "random_init.py"
    path.write_text(source)
    return runner.Sandbox(str(path), call_seconds=LIMIT)


def test_several_calls_that_run_out_together_are_said_to(tmp_path):
    box = _sandbox(tmp_path, SLOW)
    try:
        assert len(box.calls([("initialize_parameters", (1, 1, 1), 0)])) == 1     # one call alone is in time
        with pytest.raises(runner.Hung) as info:
            box.calls([("initialize_parameters", (1, 1, 1), s) for s in range(4)])
        assert str(info.value).startswith("did not finish within 1 seconds, the time allowed for these 4 calls "
                                          "together")
    finally:
        box.close()


def test_one_call_that_hangs_is_said_to_hang(tmp_path):
    box = _sandbox(tmp_path, SLOW.replace("0.4", "30"))
    try:
        with pytest.raises(runner.Hung) as info:
            box.calls([("initialize_parameters", (1, 1, 1), 0)])
        assert str(info.value).startswith("did not finish within 1 seconds (an endless loop")
    finally:
        box.close()
