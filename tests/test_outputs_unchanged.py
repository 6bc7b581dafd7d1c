"""Every output the grader writes is what tests/snapshots/corpus_outputs.json recorded (issues 22 and 25).

A refactor must leave what students and instructors read byte-identical (JSON outputs may only gain fields).
tests/outputs_snapshot.py renders every output of a grading and compares it with the snapshot; its docstring
says what is kept and how added fields pass. Update the snapshot only for an intended change of an output
(docs/developers.md).

* ``test_the_whole_corpus_writes_what_the_snapshot_recorded`` grades the whole corpus as one class on two
  warm grade-all workers: every per-submission format, the CSV rows and the class report (slow).
* ``test_representative_submissions_write_what_the_snapshot_recorded`` is the quick variant: a handful of
  submissions, graded once by the cached ``conftest.graded``, every per-submission format.
* ``test_the_command_line_writes_what_the_snapshot_recorded``: ``python -m autograder grade`` itself (its
  printed report, --results and --html) on one wrong submission, since the other two render in-process.
* ``test_a_changed_message_is_caught_and_shown``: the comparison fails, and says where, on a changed line.
"""

import csv
import io
import json
import os
import subprocess
import sys

import pytest

import outputs_snapshot as snap
from conftest import ROOT, graded

# One of each kind of outcome: full marks, a value mistake with hint and rebuild code, a missing key, a
# symmetry mistake, student text with escapes, a notebook, a submission that does not run.
QUICK = ("valid/np_dot.py", "wrong/relu_hidden.py", "wrong/missing_b1.py", "wrong/tiled_w1_row.py",
         "hostile/escapes_in_error_text.py", "notebooks/helpers_and_constants.ipynb",
         "notebooks/syntax_error_cell.ipynb")
CLI_CASE = "wrong/dw1_transposed.py"

# Recorded as root, as .ci/run runs: without root, student code runs as your own user, so what hostile
# submissions see and report (their uid, which folders they may write) is not what the snapshot recorded.
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the snapshot is recorded as root (as .ci/run runs); "
                                "without root, hostile submissions run and report differently")


@pytest.fixture(scope="module")
def snapshot():
    return snap.load()


def _outputs(key, tmp_path):
    path = snap.corpus_files([key])[key]
    return snap.read_outputs(snap.render(graded(path), str(tmp_path)), os.path.dirname(path))


def test_the_whole_corpus_writes_what_the_snapshot_recorded(snapshot, tmp_path):
    outputs, whole, rows, _ = snap.grade_class(snap.corpus_files(), str(tmp_path))
    problems = snap.compare(snapshot, outputs, whole, rows)
    assert not problems, "outputs changed (if intended: python tests/outputs_snapshot.py --update, and say " \
                         "why in the commit body):\n" + "\n".join(problems)


@pytest.mark.parametrize("key", QUICK)
def test_representative_submissions_write_what_the_snapshot_recorded(snapshot, key, tmp_path):
    problems = snap.differences(snapshot, key, _outputs(key, tmp_path))
    assert not problems, "\n".join(problems)


def test_the_command_line_writes_what_the_snapshot_recorded(snapshot, tmp_path):
    path = snap.corpus_files([CLI_CASE])[CLI_CASE]
    results, page = tmp_path / "results.json", tmp_path / "feedback.html"
    env = dict(os.environ, PYTHONPATH=ROOT)
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", path, "--results", str(results),
                          "--html", str(page)], cwd=str(tmp_path), env=env, capture_output=True, timeout=600)
    assert run.returncode == 1, run.stderr.decode("utf-8", "replace")
    folder = os.path.dirname(path)
    outputs = {"text": snap.normalise(run.stdout, folder), "results.json": snap.normalise(results.read_bytes(), folder),
               "feedback.html": snap.normalise(page.read_bytes(), folder)}
    problems = snap.differences(snapshot, CLI_CASE, outputs, complete=False)
    assert not problems, "\n".join(problems)


def test_a_changed_message_is_caught_and_shown(snapshot, tmp_path):
    key = "wrong/relu_hidden.py"
    outputs = _outputs(key, tmp_path)
    assert snap.differences(snapshot, key, outputs) == []
    changed = dict(outputs, text=outputs["text"].replace(b"Likely cause: A1 uses ReLU", b"Likely cause: A1 is ReLU"))
    problems = snap.differences(snapshot, key, changed)
    assert problems[0] == "%s: changed: text" % key
    assert "  -      Likely cause: A1 uses ReLU; the hidden units use tanh." in problems
    assert "  +      Likely cause: A1 is ReLU; the hidden units use tanh." in problems


def test_json_outputs_may_add_fields_but_not_change_one(snapshot, tmp_path):
    key = "wrong/relu_hidden.py"
    outputs = _outputs(key, tmp_path)
    doc = json.loads(outputs["results.json"])
    doc["tests"][4]["extra_data"]["new_field"] = [1, 2]
    doc["new_top_level"] = "x"
    assert snap.differences(snapshot, key, dict(outputs, **{"results.json": snap.as_written(doc)})) == []
    doc["tests"][4]["output"] += " "
    assert snap.differences(snapshot, key, dict(outputs, **{"results.json": snap.as_written(doc)})) == [
        "%s: changed: results.json" % key,
        "  the text report is the same; see the change with: python tests/outputs_snapshot.py --show %s "
        "results.json (here and on main)" % key]


def _csv(columns, rows):
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows([row[c] for c in columns] for row in rows)
    return out.getvalue().encode("utf-8")


def test_the_csv_may_add_columns_but_not_change_a_cell(snapshot):
    columns = snapshot["csv_columns"]
    rows = sorted((dict(e["csv"]) for e in snapshot["submissions"].values()), key=lambda r: r["student"])
    recorded = snapshot["class"]["grades.csv"]
    assert snap.matches("grades.csv", _csv(columns, rows), recorded, snapshot)    # the rows kept in clear are the CSV
    for row in rows:
        row["seconds"] = "1.5"
    assert snap.matches("grades.csv", _csv(columns[:-1] + ["seconds", columns[-1]], rows), recorded, snapshot)
    rows[3]["total"] = "99"
    assert not snap.matches("grades.csv", _csv(columns, rows), recorded, snapshot)
