"""grade-all: a whole class in parallel, resumable, robust to bad submissions.

A handful of corpus submissions is graded for real (two workers); the pool's
robustness (a grader that raises, a worker that dies, one that hangs) is tested
with a stand-in grading function so that it takes seconds, not minutes.
"""

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from autograder import rubric
from autograder.platforms import batch
from conftest import CORPUS, ROOT

VALID = os.path.join(CORPUS, "valid", "np_dot.py")
WRONG_FORWARD = os.path.join(CORPUS, "wrong", "relu_hidden.py")      # expect: forward.values
WRONG_SCALE = os.path.join(CORPUS, "wrong", "scale_0_1.py")          # expect: init.small_scale
WRONG_BACKWARD = os.path.join(CORPUS, "wrong", "dw1_transposed.py")


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def expected_total(path):
    with open(path, encoding="utf-8") as f:
        words = f.readline().split(":", 1)[1].split()
    return 100 - sum(rubric.BY_ID[w].points for w in words if w != "full")


def test_discover_reads_both_layouts_and_names_problems(tmp_path):
    (tmp_path / "alice.py").write_text("x = 1\n")
    (tmp_path / "bob.ipynb").write_text("{}")
    (tmp_path / "carol" / "ps1").mkdir(parents=True)
    (tmp_path / "dave").mkdir()
    (tmp_path / "erin.py").write_text("")
    (tmp_path / "erin.ipynb").write_text("{}")
    (tmp_path / "grades.csv").write_text("")          # not a submission
    (tmp_path / ".hidden.py").write_text("")
    found = {s: (p, why) for s, p, why in batch.discover(str(tmp_path), assignment="ps1")}
    assert sorted(found) == ["alice", "bob", "carol", "dave", "erin"]
    assert found["carol"][0] == str(tmp_path / "carol" / "ps1")
    assert found["dave"][0] is None and "no folder ps1" in found["dave"][1]
    assert found["erin"][0] is None and "two submissions" in found["erin"][1]
    assert found["alice"] == (str(tmp_path / "alice.py"), "")
    with pytest.raises(batch.BatchError, match="not a folder"):
        batch.discover(str(tmp_path / "nope"))


def test_digest_follows_content_not_file_name(tmp_path):
    (tmp_path / "a.py").write_text("same\n")
    (tmp_path / "b.py").write_text("same\n")
    (tmp_path / "c.py").write_text("other\n")
    d = [batch.submission_digest(str(tmp_path / n)) for n in ("a.py", "b.py", "c.py")]
    assert d[0] == d[1] != d[2]


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """Five students, four distinct submissions, graded for real on two workers."""
    tmp = tmp_path_factory.mktemp("class")
    subs = tmp / "submitted"
    for student, source in (("alice", VALID), ("bob", WRONG_FORWARD), ("erin", VALID)):
        subs.mkdir(exist_ok=True)
        shutil.copy(source, subs / (student + ".py"))
    (subs / "carol" / "ps1").mkdir(parents=True)                         # nbgrader's layout
    shutil.copy(WRONG_SCALE, subs / "carol" / "ps1" / "random_init.py")
    (subs / "dave.py").write_text("def initialize_parameters(:\n")      # does not even parse
    out = tmp / "grades.csv"
    log = io.StringIO()
    done = batch.grade_all(str(subs), str(out), jobs=2, stream=log, results_dir=str(tmp / "feedback"))
    return subs, out, done, log.getvalue()


def test_csv_has_a_column_per_rubric_id_and_the_right_totals(graded_class):
    subs, out, done, _ = graded_class
    with open(out, encoding="utf-8") as f:
        header = f.readline().strip().split(",")
    assert header == ["student"] + [i.id for i in rubric.ITEMS] + ["total", "status", "detail"]
    rows = read_csv(out)
    assert sorted(rows) == ["alice", "bob", "carol", "dave", "erin"]
    assert rows["alice"]["total"] == rows["erin"]["total"] == "100"
    assert int(rows["bob"]["total"]) == expected_total(WRONG_FORWARD)
    assert rows["bob"]["forward.values"] == "0" and rows["bob"]["init.shapes"] == "10"
    assert int(rows["carol"]["total"]) == expected_total(WRONG_SCALE)
    assert rows["dave"]["total"] == "0"                    # code that does not run loses every point
    assert {r["status"] for r in rows.values()} == {"graded"}
    for r in rows.values():
        assert sum(int(r[i.id]) for i in rubric.ITEMS) == int(r["total"])
    assert done["graded"] == 5 and done["skipped"] == 0


def test_each_student_gets_a_results_json(graded_class):
    subs, out, _, _ = graded_class
    rows = read_csv(out)
    for student in rows:
        with open(os.path.join(os.path.dirname(str(out)), "feedback", student + ".json"), encoding="utf-8") as f:
            data = json.load(f)
        assert data["score"] == int(rows[student]["total"])
        assert [t["tags"] for t in data["tests"]] == [[i.id] for i in rubric.ITEMS]


def test_summary_names_the_most_lost_items_and_is_plotted(graded_class):
    _, out, done, _ = graded_class
    top = {item.id for item, lost, n in done["summary"] if lost == 2}
    assert top == {"forward.values", "init.small_scale"}  # bob+dave, carol+dave
    assert done["summary"][0][2] == 5
    text = batch.summary_text(done["summary"])
    assert "40% lost it (2/5)" in text and rubric.BY_ID["forward.values"].section in text
    with open(done["png"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.dirname(done["png"]) == os.path.dirname(str(out))


def test_progress_went_to_the_log(graded_class):
    log = graded_class[3]
    assert "5 to grade" in log and "5/5 100%" in log


def test_rerun_skips_unchanged_and_regrades_what_changed(graded_class, tmp_path):
    subs, out, _, _ = graded_class
    copy, csv_copy = tmp_path / "submitted", tmp_path / "grades.csv"
    shutil.copytree(subs, copy)
    shutil.copy(out, csv_copy)
    shutil.copy(str(out) + ".state.jsonl", str(csv_copy) + ".state.jsonl")
    shutil.copy(WRONG_BACKWARD, copy / "bob.py")          # bob resubmits
    done = batch.grade_all(str(copy), str(csv_copy), jobs=2, plot=False, stream=io.StringIO())
    assert done["skipped"] == 4 and done["graded"] == 1
    rows = read_csv(csv_copy)
    assert int(rows["bob"]["total"]) == expected_total(WRONG_BACKWARD)
    assert rows["alice"]["total"] == "100"
    with open(str(csv_copy) + ".state.jsonl", encoding="utf-8") as f:
        assert len(f.read().splitlines()) == 5          # compacted: one line per student


def test_state_file_survives_a_half_written_line(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"student": "a", "key": "k", "status": "graded"}) + "\n{\"student\": \"b\", \"ke")
    assert list(batch.load_state(str(path))) == ["a"]


def stand_in_grader(path):
    """Grades instantly, or misbehaves as the file name says."""
    name = os.path.basename(path)
    if name.startswith("boom"):
        raise RuntimeError("grader bug")
    if name.startswith("die"):
        os._exit(3)
    if name.startswith("hang"):
        time.sleep(60)
    return {"status": "graded", "points": {i.id: i.points for i in rubric.ITEMS}, "total": 100}


def test_one_bad_submission_never_stops_the_batch(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for i, name in enumerate(["boom", "die", "hang", "ok1", "ok2", "ok3", "ok4"]):
        (subs / (name + ".py")).write_text("# %d\n" % i)
    start = time.monotonic()
    done = batch.grade_all(str(subs), str(tmp_path / "g.csv"), jobs=2, timeout=3, plot=False,
                           stream=io.StringIO(), grade_fn=stand_in_grader)
    assert time.monotonic() - start < 60
    rows = read_csv(tmp_path / "g.csv")
    assert [rows["ok%d" % i]["status"] for i in range(1, 5)] == ["graded"] * 4
    assert rows["boom"]["status"] == "error" and "grader bug" in rows["boom"]["detail"]
    assert rows["die"]["status"] == "error" and "exit code 3" in rows["die"]["detail"]
    assert rows["hang"]["status"] == "error" and "longer than 3 s" in rows["hang"]["detail"]
    assert rows["hang"]["total"] == ""                      # no grade rather than a false zero
    assert done["graded"] == 7


def test_progress_bar_counts_and_estimates():
    out = io.StringIO()
    bar = batch.Progress(4, out, width=8)
    bar.update(1, 0)
    bar.update(4, 1, final=True)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("grading [##------] 1/4  25%")
    assert "4/4 100%" in lines[-1] and "errors 1" in lines[-1]


def test_command_line_exit_status(tmp_path):
    done = subprocess.run([sys.executable, "-m", "autograder", "grade-all", str(tmp_path / "nope"),
                           "--csv", str(tmp_path / "g.csv")], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "not a folder" in done.stderr
