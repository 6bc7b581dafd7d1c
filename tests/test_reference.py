"""The grader's own mathematics and thresholds, checked without any student code.

* finite differences of the cost agree with the hand-derived gradients of the
  reference solution (so the oracle of backward.gradients is right);
* init.small_scale's statistics accept correct draws for many seeds and reject
  uniform, mis-scaled and constant ones (so its thresholds separate the two);
* the stub is the solution with the bodies removed (no drift).
"""

import importlib.util
import math
import subprocess
import sys

import numpy as np
import pytest

from autograder.grading import checks as properties, reference
from conftest import ROOT, SOLUTION


def load_solution():
    spec = importlib.util.spec_from_file_location("solution", SOLUTION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("sizes", [(1, 1, 1, 1), (3, 4, 2, 5), (2, 7, 3, 1), (10, 10, 10, 10)])
def test_finite_differences_match_the_analytic_gradients(sizes):
    sol = load_solution()
    for seed in range(5):
        p, X, Y = reference.problem(seed, *sizes)
        _, cache = sol.forward(X, p)
        analytic = sol.backward(p, cache, X, Y)
        numeric = reference.numeric_gradients(p, X, Y)
        for name in analytic:
            np.testing.assert_allclose(numeric[name], analytic[name], rtol=1e-6, atol=1e-8)


def test_cost_matches_the_contract_formula():
    p, X, Y = reference.problem(7, 3, 4, 2, 6)
    A2 = reference.forward(X, p)["A2"]
    direct = -np.mean(np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2), axis=0))
    assert reference.cost(p, X, Y) == pytest.approx(direct, rel=1e-12)


class InProcess:
    """Stands in for the child: calls a trusted in-process function (tests only)."""

    def __init__(self, init):
        self.init = init

    def calls(self, fn, requests, case):
        class Reply:
            pass
        out = []
        for args, seed in requests:
            if seed is not None:
                np.random.seed(seed)
            r = Reply()
            r.value = self.init(*args)
            out.append(r)
        return out

    def call(self, fn, args, case, seed=0):
        return self.calls(fn, [(args, seed)], case)[0]


def spread_check(init, seed):
    saved = properties.BIG_SEED
    properties.BIG_SEED = seed
    try:
        properties.init_gaussian_spread(InProcess(init))
        return None
    except properties.Failed as failed:
        return failed.problem
    finally:
        properties.BIG_SEED = saved


def gaussian(scale):
    return lambda n_x, n_h, n_y: {"W1": np.random.randn(n_h, n_x) * scale, "b1": np.zeros((n_h, 1)),
                                  "W2": np.random.randn(n_y, n_h) * scale, "b2": np.zeros((n_y, 1))}


def test_correct_draws_pass_the_spread_check_for_many_seeds():
    assert [s for s in range(60) if spread_check(gaussian(0.01), s)] == []


def weights_from(draw):
    return lambda n_x, n_h, n_y: {"W1": draw((n_h, n_x)), "b1": np.zeros((n_h, 1)),
                                  "W2": draw((n_y, n_h)), "b2": np.zeros((n_y, 1))}


@pytest.mark.parametrize("init,words", [
    (gaussian(0.012), "standard deviation"),
    (gaussian(0.008), "standard deviation"),
    (weights_from(lambda s: np.random.rand(*s) * 0.01), "mean"),
    (weights_from(lambda s: (np.random.rand(*s) - 0.5) * 0.01 * math.sqrt(12)), "Gaussian"),
    (weights_from(lambda s: np.full(s, 0.01)), "constant"),
])
def test_wrong_distributions_fail_the_spread_check(init, words):
    problem = spread_check(init, 1)
    assert problem is not None and words in problem


def test_thresholds_are_wide_enough_for_one_in_a_million():
    n = 50000
    assert properties.KS_LIMIT >= math.sqrt(math.log(2 / 1e-7) / (2 * n))     # DKW bound
    assert properties.BOUND / 0.01 >= 7                                         # 7 sigma per entry


def test_stub_has_not_drifted_from_the_solution():
    done = subprocess.run([sys.executable, "solutions/build_stub.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_recorded_cases_equal_what_hypothesis_generates_now():
    """cases.json must be what the pinned hypothesis generates; a passing check replays it."""
    import json
    from importlib import metadata
    from autograder.grading import cases
    with open(cases.CASES_FILE, encoding="utf-8") as f:
        data = json.load(f)
    assert data["hypothesis"] == metadata.version("hypothesis"), "re-record: python -m autograder.grading.cases"
    assert data["max_examples"] == cases.MAX_EXAMPLES
    for kind, recorded in data["cases"].items():
        assert recorded == cases.record(kind), kind
        assert any(c.get("n_y", 1) >= 2 for c in recorded)


def test_cases_do_not_depend_on_what_else_the_process_imported(tmp_path, monkeypatch):
    """Hypothesis mines constants from loaded local modules; the grader must switch that off."""
    import importlib
    import json
    from autograder.grading import cases
    (tmp_path / "lots_of_constants.py").write_text(
        "VALUES = [%s]\n" % ", ".join(str(n) for n in list(range(2, 11)) + [77, 1000, 2020, 31337, 2**31 - 2]))
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("lots_of_constants")
    with open(cases.CASES_FILE, encoding="utf-8") as f:
        recorded = json.load(f)["cases"]
    for kind in recorded:
        assert cases.record(kind) == recorded[kind], kind
