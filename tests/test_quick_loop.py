"""The quick loop (tests/conftest.py): its corpus sample stands for the whole corpus, and its rules fail loudly.

The sample must lose every rubric id in every combination the corpus has, hold every kind of hostile
submission and every notebook, and still be a sample. Collection is replayed on stand-in items to show
that a file outside the sample leaves the quick loop, that a SLOW name matching no test stops a whole
run, and that a whole run in which the sample applies to no test stops too. Whether the quick loop
still runs every module of autograder/ is measured by tests/quick_coverage.py.
"""

import glob
import os

import pytest

import conftest
from autograder import rubric
from conftest import CORPUS, ROOT, corpus, quick_corpus


def kind_of(path):
    return os.path.basename(path).split("_")[0]


def test_the_sample_loses_every_rubric_id_in_every_combination_the_corpus_has():
    quick = quick_corpus()
    for kind in ("wrong", "hostile"):
        whole = {expected for _, expected in corpus(kind)}
        sampled = {expected for path, expected in corpus(kind) if path in quick}
        assert sampled == whole, (kind, whole - sampled)
    assert set().union(*(expected for path, expected in corpus("wrong") if path in quick)) == set(rubric.BY_ID)


def test_the_sample_has_every_kind_of_hostility_every_notebook_and_several_valid_variants():
    quick = quick_corpus()
    assert {kind_of(p) for p, _ in corpus("hostile") if p in quick} == {kind_of(p) for p, _ in corpus("hostile")}
    assert set(glob.glob(os.path.join(CORPUS, "notebooks", "*.ipynb"))) <= quick
    valid = [p for p, _ in corpus("valid")]
    assert len(set(valid) & quick) == len(valid[::conftest.QUICK_STRIDE]) >= 2


def test_the_sample_is_at_most_half_of_the_corpus():
    whole = glob.glob(os.path.join(CORPUS, "*", "*"))
    assert quick_corpus() <= set(whole) and len(quick_corpus()) <= len(whole) // 2, len(quick_corpus())


class Config:
    """A whole run's config, as pytest_collection_modifyitems reads it."""
    args = [os.path.join(ROOT, "tests")]

    def getoption(self, name):
        return ""


class Item:
    """A collected test: its node id, its parameters, and the markers conftest adds."""

    def __init__(self, nodeid, **params):
        self.nodeid, self.markers = nodeid, []
        if params:
            self.callspec = type("CallSpec", (), {"params": params})()

    def add_marker(self, marker):
        self.markers.append(marker.name)


def collected(extra=()):
    """Stand-ins for every test SLOW names, plus ``extra``."""
    return [Item(name) for name in conftest.SLOW] + list(extra)


def test_a_corpus_file_outside_the_sample_leaves_the_quick_loop():
    inside = sorted(quick_corpus())[0]
    outside = sorted(set(glob.glob(os.path.join(CORPUS, "*", "*"))) - quick_corpus())[0]
    items = [Item("tests/test_x.py::test_in[a]", path=inside, expected=frozenset()),
             Item("tests/test_x.py::test_out[b]", path=outside, expected=frozenset()),
             Item("tests/test_x.py::test_by_name[c]", name=os.path.basename(outside)),
             Item("tests/test_x.py::test_in_a_list[d]", paths=[inside, outside]),
             Item("tests/test_x.py::test_other[e]", path="tests/corpus is not a file")]
    conftest.pytest_collection_modifyitems(Config(), collected(items))
    assert [item.markers for item in items] == [[], ["slow"], ["slow"], ["slow"], []]


def test_a_slow_name_that_matches_no_test_stops_a_whole_run():
    outside = sorted(set(glob.glob(os.path.join(CORPUS, "*", "*"))) - quick_corpus())[0]
    items = collected([Item("tests/test_x.py::test_out[b]", path=outside)])
    conftest.pytest_collection_modifyitems(Config(), items)
    with pytest.raises(pytest.UsageError, match="no longer exist: tests/test_hostile.py::test_escaped"):
        conftest.pytest_collection_modifyitems(Config(), [i for i in items if "escaped_process" not in i.nodeid])


def test_a_whole_run_where_the_sample_marks_no_test_stops():
    with pytest.raises(pytest.UsageError, match="the corpus sample marked no test"):
        conftest.pytest_collection_modifyitems(Config(), collected([Item("tests/test_x.py::test_in[a]",
                                                                         path=sorted(quick_corpus())[0])]))
