"""A search replayed from memory returns exactly what hypothesis' own search returns.

The memory (grading/search_memory.py) is sound only if hypothesis' next case depends on nothing
but the outcomes so far. These tests check that claim where it matters: wrong submissions
graded one after another in one process, in two orders, get the very messages a grading with
an empty memory gives; and they check the memory's own bookkeeping (a divergence is caught,
the size cap holds, a run that ran out of time is not kept).
"""

import json
import os

import pytest

from autograder.grading import cases, engine, report, search_memory
from autograder.grading.registry import Failed
from autograder.grading.search_memory import Inconsistent, SearchMemory, outcome
from conftest import CORPUS

# Mistakes of every kind of check: shapes, values, symmetry, scale, seeding, forward, backward,
# a mishap in the child (a raise), and one whose search finds a different failure than the replay did.
MIXED = ["w1_transposed", "biases_ones", "zero_weights", "duplicated_w1_row", "scale_0_1", "abs_randn",
         "default_rng_unseeded", "linear_output", "missing_b2", "mutates_x", "tanh_deriv_dropped",
         "sign_flip_dz2", "db_sum_all", "w2t_elementwise_dz2", "swapped_dw_names", "m_from_rows"]


def _texts(path):
    result = report.results_json(engine.grade(path))
    return [(t["name"], t["score"], t["output"]) for t in result["tests"]]


@pytest.fixture()
def fresh_memory(monkeypatch):
    memory = SearchMemory(strict=True)          # a divergence raises Inconsistent instead of switching off
    monkeypatch.setattr(search_memory, "MEMORY", memory)
    return memory


def test_replayed_searches_give_the_messages_of_real_ones_in_any_order(fresh_memory, monkeypatch):
    paths = [os.path.join(CORPUS, "wrong", name + ".py") for name in MIXED]
    real = {}
    for path in paths:                           # each with an empty memory: hypothesis' own search
        monkeypatch.setattr(search_memory, "MEMORY", SearchMemory(strict=True))
        real[path] = _texts(path)
    monkeypatch.setattr(search_memory, "MEMORY", fresh_memory)
    for order in (paths, paths[::-1]):
        for path in order:
            assert _texts(path) == real[path], os.path.basename(path)
    assert fresh_memory.hits >= len(paths)       # the second order was answered from memory...
    assert not fresh_memory.off                  # ...and no search ever went another way


def _fake_check(rule, item_id="forward.values"):
    class Chk:
        pass
    chk = Chk()
    chk.item_id, chk.cases, chk.examples = item_id, "net", ()

    def fn(student, **case):
        student.append(dict(case))
        if rule(case):
            raise Failed("fails at %s" % sorted(case.items()), dict(case))
    chk.fn = fn
    return chk


def test_a_replay_makes_the_same_calls_in_the_same_order_and_returns_its_own_failure(fresh_memory):
    chk = _fake_check(lambda c: c["n_y"] >= 2 and c["m"] >= 3)
    first, second = [], []
    found = cases.search(chk, first)
    assert fresh_memory.hits == 0 and fresh_memory.nodes > 2
    replayed = cases.search(chk, second)
    assert fresh_memory.hits == 1
    assert second == first                       # the very same cases, in the same order
    assert replayed is not found and replayed.problem == found.problem and replayed.case == found.case


def test_another_outcome_leaves_the_tree_and_searches_for_real(fresh_memory):
    cases.search(_fake_check(lambda c: c["n_y"] >= 2), [])
    calls = []
    other = cases.search(_fake_check(lambda c: c["m"] >= 4), calls)   # same check id, other mistake
    assert fresh_memory.misses >= 1
    assert other.problem.startswith("fails at") and other.case["m"] == 4


def test_a_divergence_is_caught_and_switches_that_check_off():
    memory = SearchMemory(strict=True)
    key = ("forward.values", "fn", "net", "()")
    memory.record(key, [({"a": 1}, None, None), ({"a": 2}, None, None)], None)
    with pytest.raises(Inconsistent):
        memory.record(key, [({"a": 1}, None, None), ({"a": 3}, None, None)], None)
    lenient = SearchMemory()
    lenient.record(key, [({"a": 1}, None, None)], None)
    lenient.record(key, [({"a": 5}, None, None)], None)
    assert key in lenient.off
    assert lenient.replay(key, lambda case: (None, None)) == (False, None)


def test_the_size_cap_holds():
    memory = SearchMemory(max_nodes=5)
    for n in range(10):
        memory.record(("k", n), [({"a": n}, None, None), ({"a": n + 1}, None, None)], None)
    assert memory.nodes <= 5


def test_the_result_is_the_failure_the_search_returned_or_nothing_is_kept():
    memory = SearchMemory(strict=True)
    boom = Failed("x")
    memory.record(("k",), [({"a": 1}, outcome(None), None)], boom)   # not raised by any step: not kept
    assert memory.nodes == 0


def test_a_search_that_ran_out_of_time_is_not_kept(fresh_memory):
    from autograder.verdicts import TimeUp

    chk = _fake_check(lambda c: True)
    seen = []

    def fn(student, **case):
        seen.append(case)
        if len(seen) > 2:
            raise TimeUp("out of time")
        raise Failed("always", dict(case))
    chk.fn = fn
    with pytest.raises(Exception) as raised:
        cases.search(chk, [])
    assert cases._first_failed(raised.value, TimeUp) is not None     # what engine.run_check looks for
    assert fresh_memory.nodes == 0


# -- a memory saved as JSON and read back (grade-all keeps it next to its CSV: platforms/batch_files.py) ------
def test_a_memory_saved_as_json_and_read_back_replays_every_search_exactly(fresh_memory, monkeypatch):
    paths = [os.path.join(CORPUS, "wrong", name + ".py") for name in ("linear_output", "sign_flip_dz2")]
    real = {path: _texts(path) for path in paths}          # searched for real, recorded in fresh_memory
    text = json.dumps(search_memory.encode(fresh_memory.entries()))
    loaded = SearchMemory(strict=True)
    loaded.apply(search_memory.decode(json.loads(text)))
    assert loaded.nodes == fresh_memory.nodes > 0
    monkeypatch.setattr(search_memory, "MEMORY", loaded)
    for path in paths:
        assert _texts(path) == real[path], os.path.basename(path)
    assert loaded.misses == 0 and loaded.hits >= len(paths)


GOOD_CASE = {"n_x": 1, "n_h": 1, "n_y": 1, "m": 1, "seed": 0}
GOOD_EDGE = ["autograder.verdicts.Failed", "/x/checks.py", 3, None, []]


@pytest.mark.parametrize("data, says", [
    ({"paths": []}, "not a list"),
    ([["k"]], "not \\[check, steps, result\\]"),
    ([[[], [], None]], "names no check"),
    ([[["k"], [[GOOD_CASE, GOOD_EDGE]], 1]], "ends in result 1"),
    ([[["k"], [[GOOD_CASE, GOOD_EDGE]], True]], "ends in result True"),
    ([[["k"], [[dict(GOOD_CASE, m="1"), None]], None]], "not a few named whole numbers"),
    ([[["k"], [[dict(GOOD_CASE, m=1.0), None]], None]], "not a few named whole numbers"),
    ([[["k"], [[dict(GOOD_CASE, m=True), None]], None]], "not a few named whole numbers"),
    ([[["k"], [[dict(GOOD_CASE, m=2**70), None]], None]], "not a few named whole numbers"),
    ([[["k"], [[GOOD_CASE, ["Failed", "f", "3", None, []]]], 0]], "not \\[type, file, line"),
    ([[["k"], [[GOOD_CASE, GOOD_EDGE[:4]]], 0]], "not \\[type, file, line"),
])
def test_a_saved_memory_that_is_not_what_encode_writes_is_refused_with_the_reason(data, says):
    with pytest.raises(ValueError, match=says):
        search_memory.decode(data)


def test_a_saved_outcome_nested_deeper_than_any_chain_is_refused():
    edge = None
    for _ in range(search_memory.MAX_NESTING + 1):
        edge = ["builtins.ValueError", "f.py", 1, edge, []]
    with pytest.raises(ValueError, match="not \\[type, file, line"):
        search_memory.decode([[["k"], [[GOOD_CASE, edge]], 0]])
    assert search_memory.decode([[["k"], [[GOOD_CASE, GOOD_EDGE]], 0]]) == [
        (("k",), [(GOOD_CASE, ("autograder.verdicts.Failed", "/x/checks.py", 3, None, ()))], 0)]


def test_an_outcome_of_a_class_made_in_a_function_stays_exact_and_is_never_shared():
    """Two such classes may share a name: kept as the classes themselves, apart as hypothesis keeps them."""
    def make():
        class Odd(Exception):
            pass
        return Odd
    raised = []
    for kind in (make(), make()):
        try:
            raise kind("odd")
        except Exception as exc:
            raised.append(exc)
    edges = [outcome(exc) for exc in raised]
    assert edges[0] != edges[1] and edges[0][1:] == edges[1][1:]
    memory = SearchMemory(strict=True)
    memory.sharing = True
    memory.record(("k",), [({"a": 1}, edges[0], raised[0])], raised[0])
    assert memory.nodes == 2                         # kept for this process...
    assert memory.drain() == [] and memory.entries() == []     # ...never sent to another, never saved
    plain = outcome(ValueError("x"))
    assert plain[0] == "builtins.ValueError" and json.loads(json.dumps(plain)) == list(plain[:4]) + [[]]
