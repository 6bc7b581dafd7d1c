"""Every corpus submission gets exactly the verdict its header promises, in words that are true.

valid/*.py must score 100. wrong/*.py must lose the points of exactly the rubric ids in its
'# expect:' line and keep full points everywhere else; the report must contain its '# says:'
phrase, and the likely causes that fired must be exactly its '# hint:' ids ('none' for none).
Every hint in hints.py is exercised by some wrong submission. The dependency policy (registry.py:
each check reads only what it needs) is asserted by the missing-key submissions, and the
symmetry wording (permanence only with equal W1 rows, b1 entries and W2 columns) by fakes here.
"""

import glob
import os

import numpy as np
import pytest

from autograder import rubric
from autograder.grading import checks, engine, feedback, hints, reference
from autograder.grading.registry import Failed
from autograder.grading.report import item_output
from conftest import CORPUS, SOLUTION, corpus, graded

VALID = corpus("valid")
WRONG = corpus("wrong")


def header(path, key):
    """The words of '# key:' lines in the header (the comment block at the top)."""
    found = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                break
            if line.startswith("# %s:" % key):
                found.append(line.split(":", 1)[1].strip())
    return found


def report(result):
    return "\n".join(item_output(v) for v in result.verdicts if not v.passed)


def test_corpora_are_big_enough():
    assert len(VALID) >= 8 and len(WRONG) >= 60
    assert all(expected == frozenset() for _, expected in VALID)
    for path, expected in WRONG:
        assert expected and expected <= set(rubric.BY_ID), expected
        assert header(path, "says") and len(header(path, "hint")) == 1, "%s needs '# says:' and '# hint:'" % path


def test_reference_solution_scores_100():
    result = graded(SOLUTION)
    assert result.score == 100, [(v.id, v.problem) for v in result.verdicts if not v.passed]


@pytest.mark.parametrize("path,expected", VALID, ids=[os.path.basename(p) for p, _ in VALID])
def test_valid_variant_scores_100(path, expected):
    result = graded(path)
    lost = {v.id: v.problem for v in result.verdicts if not v.passed}
    assert not lost, lost
    assert result.score == rubric.TOTAL


@pytest.mark.parametrize("path,expected", WRONG, ids=[os.path.basename(p) for p, _ in WRONG])
def test_wrong_submission_loses_exactly_its_ids_and_says_why(path, expected):
    result = graded(path)
    lost = {v.id for v in result.verdicts if v.points < v.max_points}
    assert lost == expected, {v.id: v.problem for v in result.verdicts if not v.passed}
    assert result.score == rubric.TOTAL - sum(rubric.BY_ID[i].points for i in expected)
    text = report(result)
    for phrase in header(path, "says"):
        assert phrase in text, (phrase, text)
    fired = {v.hint for v in result.verdicts if not v.passed and v.hint}
    assert fired == set(header(path, "hint")[0].split()) - {"none"}, fired
    for v in result.verdicts:
        if not v.passed:
            assert len(v.problem) > 20 and v.case, (v.id, v.problem, v.case)
            assert "Traceback" not in v.problem and "checks.py" not in v.problem
            # "Read:" follows the cause: the hint's section when a cause was named, else the item's
            # (a crash of the student's code points at its line instead: no section unless a hint gives one)
            crashed = v.kind in engine.POINTS_AT_CODE
            assert v.section == (hints.get(v.hint).section if v.hint else
                                 "" if crashed else rubric.BY_ID[v.id].section), (v.id, v.problem, v.section)


def test_every_hint_is_exercised_by_the_wrong_corpus():
    used = set()
    for path, _ in WRONG:
        used |= set(header(path, "hint")[0].split())
    assert set(hints.HINTS) - used == set()


def test_a_missing_key_costs_only_the_items_that_read_it():
    """registry.py's dependency policy: a missing 'b1' costs init.shapes and init.zero_biases only."""
    missing_b1 = graded(os.path.join(CORPUS, "wrong", "no_b1_key.py"))
    assert {v.id for v in missing_b1.verdicts if not v.passed} == {"init.shapes", "init.zero_biases"}
    missing_db1 = graded(os.path.join(CORPUS, "wrong", "no_db1_key.py"))
    assert {v.id for v in missing_db1.verdicts if not v.passed} == {"backward.shapes", "backward.gradients"}


def test_read_pointer_follows_the_cause_not_the_item():
    seeding = graded(os.path.join(CORPUS, "wrong", "default_rng_unseeded.py")).verdicts
    small = graded(os.path.join(CORPUS, "wrong", "scale_0_001.py")).verdicts
    assert [v.section for v in seeding if not v.passed] == [rubric.SECTION_SEEDING]
    assert [v.section for v in small if not v.passed] == [rubric.SECTION_SCALE]


def test_saturation_is_claimed_only_when_measured():
    for name, claimed in (("unscaled_randn.py", True), ("xavier_scaling.py", False), ("unscaled_w2.py", False),
                          ("scale_0_1.py", False)):
        text = report(graded(os.path.join(CORPUS, "wrong", name)))
        assert ("saturate" in text and "not yet enough to saturate" not in text) == claimed, (name, text)
        assert ("Section 6" in text) == claimed, name


def test_failing_cases_rebuild_exactly(tmp_path):
    """The 'To reproduce it' code runs and reproduces the grader's inputs, for forward and backward."""
    for name, function in (("sign_flip_dz2.py", "backward"), ("missing_b2.py", "forward")):
        v = [v for v in graded(os.path.join(CORPUS, "wrong", name)).verdicts if not v.passed][0]
        assert v.inputs and "relative error" in v.problem and "tolerance" in v.problem
        namespace = {"forward": lambda X, p: (None, None), "backward": lambda p, c, X, Y: {}}
        exec(v.inputs, namespace)
        assert namespace["X"].dtype == np.float64 and set(namespace["parameters"]) == set(checks.SHAPES)
    for sizes in ((1, 2, 3, 4), (10, 10, 10, 10)):
        p, X, Y = reference.problem(5, *sizes)
        cache = reference.forward(X, p)
        namespace = {"backward": lambda *a: None}
        exec(feedback.rebuild("backward", 5, dict(zip(("n_x", "n_h", "n_y", "m"), sizes)), p, X, Y, cache), namespace)
        for key in p:
            assert np.array_equal(namespace["parameters"][key], p[key])
        for key in cache:
            assert np.array_equal(namespace["cache"][key], cache[key])
        assert np.array_equal(namespace["X"], X) and np.array_equal(namespace["Y"], Y)


class Fake:
    """Stands in for the child: calls a trusted in-process initialize_parameters (tests only)."""

    def __init__(self, init):
        self.init = init

    def calls(self, fn, requests, case):
        out = []
        for args, seed in requests:
            if seed is not None:
                np.random.seed(seed)
            reply = type("Reply", (), {})()
            reply.value = self.init(*args)
            out.append(reply)
        return out

    def call(self, fn, args, case, seed=0):
        return self.calls(fn, [(args, seed)], case)[0]


def duplicated_rows(equal_b1, equal_w2):
    def init(n_x, n_h, n_y):
        W1 = np.random.randn(n_h, n_x) * 0.01
        W1[1] = W1[0]
        b1 = np.zeros((n_h, 1)) if equal_b1 else np.arange(n_h, dtype=float).reshape(n_h, 1)
        W2 = np.random.randn(n_y, n_h) * 0.01
        if equal_w2:
            W2[:, 1] = W2[:, 0]
        return {"W1": W1, "b1": b1, "W2": W2, "b2": np.zeros((n_y, 1))}
    return init


@pytest.mark.parametrize("equal_b1", [True, False])
@pytest.mark.parametrize("equal_w2", [True, False])
def test_permanence_is_claimed_only_when_rows_biases_and_columns_are_all_equal(equal_b1, equal_w2):
    with pytest.raises(Failed) as caught:
        checks.init_breaks_symmetry(Fake(duplicated_rows(equal_b1, equal_w2)), n_x=3, n_h=4, n_y=2, seed=7)
    failed = caught.value
    permanent = "however long you train" in failed.problem or "for ever" in failed.problem
    assert permanent == (equal_b1 and equal_w2), failed.problem
    assert failed.hint == ("init_units_copies" if equal_b1 and equal_w2 else "init_equal_rows")
    assert "rows 0 and 1 of 'W1'" in failed.problem
    if equal_b1 and not equal_w2:
        assert "start out computing the same value" in failed.problem and "only through W2" in failed.problem


def test_symmetry_check_is_bounded_on_huge_and_misshaped_weights():
    """A wrong shape is init.shapes' business: no pairwise work on it, and no false symmetry claim."""
    def huge(n_x, n_h, n_y):
        return {"W1": np.zeros((20000, 3)), "W2": np.random.randn(n_y, n_h) * 0.01}
    with pytest.raises(Failed) as caught:       # W1 is the same for every seed: not random
        checks.init_breaks_symmetry(Fake(huge), n_x=3, n_h=4, n_y=2, seed=7)
    assert "rows" not in caught.value.problem and caught.value.hint == "init_constant"
    assert checks._first_equal_rows(np.vstack([np.eye(3), np.eye(3)[:1]])) == (0, 3)
    rows = np.random.default_rng(0).standard_normal((20000, 3))
    assert checks._first_equal_rows(rows) is None


def test_nan_is_named_as_nan_not_as_a_seeding_mistake():
    def nan_w1(n_x, n_h, n_y):
        W1 = np.random.randn(n_h, n_x) * 0.01
        W1[0, 0] = np.nan
        return {"W1": W1, "W2": np.random.randn(n_y, n_h) * 0.01}
    checks.init_breaks_symmetry(Fake(nan_w1), n_x=3, n_h=4, n_y=2, seed=7)     # random draws: passes
    files = glob.glob(os.path.join(CORPUS, "wrong", "nan_in_w1.py"))
    assert "contains nan" in report(graded(files[0]))
