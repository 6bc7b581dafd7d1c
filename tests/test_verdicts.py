"""A failed check is data: its kind, case, expected and actual values reach every renderer as data.

The student-visible sentences are unchanged by this (the whole corpus was compared before and after);
these tests pin the structured parts: results.json's per-test ``extra_data``, the case dict and the
prose made from it, and the value summaries of arrays (shape, dtype, where they differ, by how much).
"""

import json
import os

import numpy as np
import pytest

from autograder import verdicts
from autograder.grading import feedback, report
from autograder.platforms import batch_pool
from autograder.verdicts import Failed
from conftest import CORPUS, graded


def extra(path):
    data = report.results_json(graded(os.path.join(CORPUS, *path.split("/"))))
    json.dumps(data, allow_nan=False)                   # valid JSON: no NaN or Infinity anywhere
    return {t["tags"][0]: t.get("extra_data") for t in data["tests"]}


def test_a_shape_mismatch_is_data_in_results_json():
    found = extra("wrong/dw1_transposed.py")["backward.shapes"]
    assert found["kind"] == verdicts.SHAPE and found["hint"] == "backward_dw_transposed"
    assert found["expected"] == {"shape": [2, 1]} and found["actual"] == {"shape": [1, 2]}
    assert found["case"] == {"n_x": 1, "n_h": 2, "n_y": 1, "m": 1, "problem_seed": found["case"]["problem_seed"]}
    assert found["label"] == verdicts.SMALLEST


def test_a_value_mismatch_says_where_and_by_how_much_as_data():
    found = extra("wrong/dw1_transposed.py")["backward.gradients"]
    assert found["kind"] == verdicts.VALUE and found["tolerance"] == {"rtol": 1e-05, "atol": 1e-07}
    actual, expected = found["actual"], found["expected"]
    assert actual["array"] == expected["array"] == "dW1" and actual["index"] == expected["index"] == [0, 1]
    assert actual["shape"] == [2, 2] and actual["dtype"] == "float64" and actual["differing"] == 2
    assert actual["gap"] == pytest.approx(abs(actual["value"] - expected["value"]))
    assert found["rel"] == pytest.approx(actual["gap"] / abs(expected["value"]))


def test_passed_items_carry_no_extra_data_and_hangs_are_a_kind():
    found = extra("hostile/hang_in_forward.py")
    assert found["init.shapes"] is None
    assert found["forward.values"]["kind"] == verdicts.HANG


def test_the_case_prose_is_made_from_the_case_dict():
    assert verdicts.case_text({"n_x": 2, "n_h": 3, "n_y": 1, "numpy_seed": 4}) == \
        "n_x=2 inputs, n_h=3 hidden units, n_y=1 output (numpy seed 4)"
    assert verdicts.case_text({"draw": verdicts.LARGE_DRAW, "n_x": 1, "n_h": 1, "n_y": 2, "m": 1,
                               "problem_seed": 9}) == \
        "one large draw, n_x=1 input, n_h=1 hidden unit, n_y=2 outputs, m=1 example (the grader's parameters)"
    with pytest.raises(TypeError, match="not prose"):
        Failed("x", "n_x=1 input")
    with pytest.raises(ValueError, match="kinds are"):
        Failed("x", kind="oops")


def test_non_finite_values_stay_valid_json_and_read_as_before():
    got = np.array([[1.0, np.nan]])
    mismatch = feedback.compare("A2", got, np.array([[1.0, 2.0]]), 1e-6, 1e-9)
    assert str(mismatch.actual) == "nan" and str(mismatch.expected) == "2"
    failure = mismatch.failed({"m": 2})
    data = verdicts.record(failure)
    assert data["actual"]["value"] == "nan" and data["actual"]["differing"] == 1 and data["rel"] == "inf"
    json.dumps(data, allow_nan=False)


def test_a_student_string_in_the_data_is_made_safe():
    failure = Failed("x", {"m": 1}, expected=verdicts.Keys(["dW1"]), actual=verdicts.Keys(["\x1b[2Jevil"]),
                     kind=verdicts.MISSING)
    v = type("V", (), dict(verdicts.record(failure), case=failure.case, case_label=verdicts.SMALLEST,
                           expected=failure.expected, actual=failure.actual, kind=failure.kind, rel=None,
                           tolerance=None, hint=None))()
    assert report.failure_data(v)["actual"] == {"keys": ["\\x1b[2Jevil"]}


LYING_GRADS = '''

class Grads(dict):
    """Overrides that would hide the stored values from anyone who asked them."""

    def keys(self):
        return ["nothing"]

    def items(self):
        return []

    def __getitem__(self, key):
        raise KeyError(key)

    def __iter__(self):
        return iter(())


_backward = backward


def backward(parameters, cache, X, Y):
    grads = Grads()
    dict.update(grads, _backward(parameters, cache, X, Y))
    return grads
'''


def test_a_dict_subclass_is_read_through_dicts_own_methods(tmp_path):
    """The child reads what a dict subclass stores, whatever its keys() or __getitem__ say (issue 23)."""
    with open(os.path.join(CORPUS, "valid", "np_dot.py"), encoding="utf-8") as f:
        source = f.read()
    path = tmp_path / "lying_grads.py"
    path.write_text(source + LYING_GRADS, encoding="utf-8")
    result = graded(str(path))
    assert result.score == 100, [(v.id, v.problem) for v in result.verdicts if not v.passed]


def test_a_non_mapping_is_named_without_calling_a_dict_not_a_dict():
    found = extra("hostile/returns_wrong_types.py")
    texts = [t["output"] for t in report.results_json(graded(os.path.join(CORPUS, "hostile",
                                                                           "returns_wrong_types.py")))["tests"]]
    assert any("expected a dict with keys" in t for t in texts)
    assert not any("a dict, expected a dict" in t or "OrderedDict, expected" in t for t in texts)
    kinds = {v["kind"] for v in found.values() if v}
    assert verdicts.TYPE in kinds


def test_the_class_csv_detail_names_each_lost_item_and_its_kind():
    """grade-all's CSV (batch_pool.grade_row) gives a graded student's lost items with the kind of each failure."""
    path = os.path.join(CORPUS, "wrong", "dw1_transposed.py")
    assert report.lost_detail(graded(path)) == "backward.shapes: shape; backward.gradients: value"
    assert report.lost_detail(graded(os.path.join(CORPUS, "valid", "np_dot.py"))) == ""
    row = batch_pool.grade_row(path)
    assert row["status"] == "graded" and row["detail"] == "backward.shapes: shape; backward.gradients: value"
