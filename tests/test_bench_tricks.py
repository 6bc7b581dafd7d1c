"""benchmarks/bench_tricks.py still describes the grader: every trick's substitutions match exactly once.

The benchmark replaces each speed trick by its plain code with source substitutions (docs/scale.md, "Speed
tricks"). When a trick's code is edited, moved or removed, its substitution no longer matches, and the table's
figures could no longer be measured again: this test fails then and names the trick, so that TRICKS is updated
in the same commit.
"""

import os
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import bench_tricks  # noqa: E402  (the benchmarks folder is not a package)


@pytest.mark.parametrize("name", sorted(bench_tricks.TRICKS))
def test_every_substitution_of_a_trick_matches_once(name, tmp_path):
    _, _, substitutions = bench_tricks.TRICKS[name]
    copy = os.path.join(bench_tricks.copy_grader(str(tmp_path), substitutions), "autograder")
    for file, old, new in substitutions:
        with open(os.path.join(copy, file), encoding="utf-8") as f:
            text = f.read()
        assert old not in text or old in new, (name, file)      # the trick's text was replaced
        assert new in text, (name, file)


def test_a_substitution_that_no_longer_matches_stops_the_benchmark(tmp_path):
    with pytest.raises(SystemExit, match="occurs 0 times"):
        bench_tricks.copy_grader(str(tmp_path), [("grading/cases.py", "no such text in the grader", "")])
