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

from autograder.grading import causes, checks as properties, reference
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


def _ks_with_erf_everywhere(z, cdf):
    """The KS distance as the grader computed it before: math.erf on every entry."""
    z = np.sort(np.asarray(z, dtype=np.float64).ravel())
    c = cdf(z)
    n = z.size
    return float(max((np.arange(1, n + 1) / n - c).max(), (c - np.arange(n) / n).max()))


def test_erf_approximation_stays_within_its_bound():
    x = np.linspace(-12, 12, 2_000_001)
    exact = np.array([math.erf(v) for v in x[::7]])
    assert np.abs(causes.erf_approx(x[::7]) - exact).max() < causes.ERF_APPROX_ERROR / 6
    ends = causes.erf_approx(np.array([0.0, np.inf, -np.inf, 40.0, -40.0]))
    assert np.abs(ends - [0.0, 1.0, -1.0, 1.0, -1.0]).max() < causes.ERF_APPROX_ERROR / 6


@pytest.mark.parametrize("draw", [
    lambda r, n: r.standard_normal(n), lambda r, n: 1.3 * r.standard_normal(n) + 0.1,
    lambda r, n: 3 * r.random(n) - 1, lambda r, n: np.round(r.standard_normal(n), 1),
    lambda r, n: r.standard_t(3, n), lambda r, n: np.full(n, 0.3), lambda r, n: r.standard_normal(n)[:1],
])
def test_ks_distances_are_bit_for_bit_those_of_math_erf_on_every_entry(draw):
    rng = np.random.default_rng(11)
    for n in (1, 2, 17, 1000, 50000):
        z = draw(rng, n)
        assert causes.ks_normal(z) == _ks_with_erf_everywhere(z, causes._normal_cdf)
        a = np.abs(z)
        fast = causes._ks_against(a, causes._folded_cdf, causes._folded_cdf_approx, causes.ERF_APPROX_ERROR)
        assert fast == _ks_with_erf_everywhere(a, causes._folded_cdf)
    z = np.array([0.1, np.nan, -0.2])
    assert math.isnan(causes.ks_normal(z)) == math.isnan(_ks_with_erf_everywhere(z, causes._normal_cdf))


def test_cached_cases_equal_fresh_ones_and_cannot_be_changed_by_a_caller():
    """reference.solved hands out the kept arrays read-only, in dicts of the caller's own."""
    for args in ((3, 2, 4, 1, 5), (9, 10, 10, 10, 10), (5, 1, 1, 1, 1)):
        p, X, Y, values = reference.solved(*args)
        p2, X2, Y2 = reference.problem(*args)
        assert all(np.array_equal(p[k], p2[k]) and p[k].dtype == p2[k].dtype for k in p2) and list(p) == list(p2)
        assert np.array_equal(X, X2) and np.array_equal(Y, Y2)
        fresh = reference.forward(X2, p2)
        assert list(values) == list(fresh) and all(np.array_equal(values[k], fresh[k]) for k in fresh)
        grads, fresh = reference.solved_gradients(*args), reference.numeric_gradients(p2, X2, Y2)
        assert list(grads) == list(fresh) and all(np.array_equal(grads[k], fresh[k]) for k in fresh)
        for array in (p["W1"], X, values["A2"], grads["dW1"]):     # read-only: a write raises at once
            with pytest.raises(ValueError):
                array += 1.0
        p["W1"], values["A2"], grads["dW1"] = p["W1"] + 1.0, 0, None     # a caller's own dicts
        again = reference.solved(*args)
        assert np.array_equal(again[0]["W1"], p2["W1"]) and np.array_equal(again[1], X2)
        assert np.array_equal(again[3]["A2"], reference.forward(X2, p2)["A2"])
        assert np.array_equal(reference.solved_gradients(*args)["dW1"], reference.numeric_gradients(p2, X2, Y2)["dW1"])


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
