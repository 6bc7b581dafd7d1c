"""Every corpus submission gets exactly the verdict its header promises.

valid/*.py must score 100. wrong/*.py must lose the points of exactly the rubric
ids in its '# expect:' line, and keep full points everywhere else; each failed
item must carry a message and the smallest failing case.
"""

import os

import pytest

from autograder import rubric
from conftest import SOLUTION, corpus, graded

VALID = corpus("valid")
WRONG = corpus("wrong")


def test_corpora_are_big_enough():
    assert len(VALID) >= 8 and len(WRONG) >= 25
    assert all(expected == frozenset() for _, expected in VALID)
    for _, expected in WRONG:
        assert expected and expected <= set(rubric.BY_ID), expected


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
def test_wrong_submission_loses_exactly_its_ids(path, expected):
    result = graded(path)
    lost = {v.id for v in result.verdicts if v.points < v.max_points}
    assert lost == expected, {v.id: v.problem for v in result.verdicts if not v.passed}
    assert result.score == rubric.TOTAL - sum(rubric.BY_ID[i].points for i in expected)
    for v in result.verdicts:
        if not v.passed:
            assert len(v.problem) > 20 and v.case, (v.id, v.problem, v.case)
            assert "Traceback" not in v.problem and "properties.py" not in v.problem
