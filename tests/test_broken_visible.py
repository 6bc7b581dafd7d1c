"""Broken submissions are visible, and a syntax error costs the same in a .py as in a notebook
(issue 27, item 2).

A ``.py`` whose ``forward`` does not parse is graded like the notebook with the same broken
``forward`` cell: the functions that parse are graded, ``forward``'s items are lost, and the note
names the broken lines (a .py) or the broken cell by its first line (a notebook). A class holding a
file that cannot be parsed at all, an empty one and a partly broken one lists each under "Look at
these first" in the class report, with its reason, and the CSV's detail column says it.
"""

import csv
import json
import os
import re
import shutil
import subprocess
import sys

from autograder import rubric
from autograder.grading import grader_rules
from autograder.platforms import class_report
from autograder.sandbox import submission
from conftest import ROOT, SOLUTION, graded

BROKEN_SIGNATURE = ("def forward(X, parameters):", "def forward(X, parameters:")


def solution_text():
    with open(SOLUTION, encoding="utf-8") as f:
        return f.read()


def broken_forward_py(folder):
    """The reference solution with forward's def line missing its closing parenthesis."""
    text = solution_text()
    assert text.count(BROKEN_SIGNATURE[0]) == 1
    path = os.path.join(str(folder), "random_init.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(*BROKEN_SIGNATURE))
    return path


def as_notebook(text, path):
    """``text`` split into one code cell per top-level function, as the release notebook holds them."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.startswith("def ")] + [len(lines)]
    cells = ["".join(lines[:starts[0]])] + ["".join(lines[a:b]) for a, b in zip(starts, starts[1:])]
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# My work"}]
          + [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": c}
             for c in cells],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 4}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(nb, f)
    return path


def lost(result):
    return {v.id for v in result.verdicts if not v.passed}


def test_a_syntax_error_costs_the_same_in_a_py_as_in_a_notebook(tmp_path):
    py = broken_forward_py(tmp_path)
    with open(py, encoding="utf-8") as f:
        text = f.read()
    nb = as_notebook(text, str(tmp_path / "random_init.ipynb"))
    from_py, from_nb = graded(py), graded(nb)
    forward_items = {i.id for i in rubric.ITEMS if i.function == "forward"}
    assert lost(from_py) == lost(from_nb) == forward_items
    assert from_py.score == from_nb.score == rubric.TOTAL - sum(i.points for i in rubric.ITEMS
                                                                if i.id in forward_items)

    # The .py note names the broken lines: from forward's def to the last line before backward's.
    lines = text.splitlines()
    first = lines.index(BROKEN_SIGNATURE[1]) + 1
    last = max(k for k in range(first, lines.index("def backward(parameters, cache, X, Y):") + 1)
               if lines[k - 1].strip())
    note = "random_init.py lines %d-%d have a syntax error ('(' was never closed, line %d) and were skipped" % (
        first, last, first)
    assert note in from_py.notes, from_py.notes
    # The notebook's note names the cell as Jupyter shows it: by its first line, not by a number.
    assert any(n.startswith("the code cell that starts %r has a syntax error" % BROKEN_SIGNATURE[1])
               for n in from_nb.notes), from_nb.notes
    assert not any(re.search(r"code cell \d", n) for n in from_nb.notes + from_py.notes)
    # The failed item's message carries the note, so the student reads why forward is missing.
    v = next(v for v in from_py.verdicts if v.id == "forward.values")
    assert note in v.problem


def test_the_rest_of_a_broken_py_keeps_its_line_numbers(tmp_path):
    py = broken_forward_py(tmp_path)
    source = submission.prepare(py, grader_rules).source
    with open(py, encoding="utf-8") as f:
        original = f.read().splitlines()
    kept = source.splitlines()
    assert len(kept) == len(original)
    backward = original.index("def backward(parameters, cache, X, Y):")
    assert kept[backward] == original[backward] and kept[backward + 5] == original[backward + 5]
    assert BROKEN_SIGNATURE[1] not in source


def test_a_py_where_nothing_parses_says_so(tmp_path):
    path = tmp_path / "random_init.py"
    path.write_text("def initialize_parameters(n_x, n_h, n_y:\n    return {}\n", encoding="utf-8")
    result = graded(str(path))
    assert result.score == 0
    assert class_report.unread(result) == ("nothing could be graded: random_init.py has a syntax error "
                                           "('(' was never closed, line 1)")
    assert class_report.unread(graded(SOLUTION)) == ""


def run_grade_all(*args):
    return subprocess.run([sys.executable, "-m", "autograder", "grade-all", *args], cwd=ROOT,
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=ROOT), timeout=600)


def test_the_class_report_and_csv_list_what_could_not_be_read(tmp_path):
    subs = tmp_path / "submitted"
    subs.mkdir()
    shutil.copy(SOLUTION, subs / "ada.py")
    (subs / "dora.py").write_text("def initialize_parameters(n_x, n_h, n_y:\n    return {}\n", encoding="utf-8")
    (subs / "emil.py").write_text("", encoding="utf-8")
    shutil.copy(broken_forward_py(tmp_path), subs / "fred.py")
    out = tmp_path / "out"
    done = run_grade_all(str(subs), "--csv", str(out / "grades.csv"), "--no-plot", "-j", "2",
                         "--html", str(out / "report.html"))
    assert done.returncode == 0, done.stderr[-3000:]
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        detail = {r["student"]: r["detail"] for r in csv.DictReader(f)}
    assert detail["ada"] == ""
    assert detail["dora"] == "nothing could be graded: dora.py has a syntax error ('(' was never closed, line 1)"
    assert detail["emil"].startswith("nothing could be graded: emil.py is empty")
    assert detail["fred"].startswith("part of the code did not parse: fred.py lines ")
    with open(out / "report.html", encoding="utf-8") as f:
        page = f.read()
    attention = page.split('id="attention"')[1].split('id="distribution"')[0]
    assert "nothing to check by hand" not in attention
    for student in ("dora", "emil", "fred"):
        shown = re.search(r'<li data-student="%s">.*?</li>' % student, attention)
        assert shown, (student, attention)
        assert detail[student].replace("'", "&#x27;") in shown.group(0)
    assert 'data-student="ada"' not in attention
