"""A class folder is untrusted input (issue 23): one folder holding every hazard a review found, graded
by ``grade-all -j 2`` and by ``grade-all --dask`` on a LocalCluster.

Each honest student's row must equal a single ``grade`` of that student's file; each hostile student is
either an ``error`` row that says why, or graded as their own code (never as the file a link points at);
the CSV, the state file and the class report are written, whatever one student submitted.
"""

import csv
import io
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from autograder.grading import engine
from autograder.platforms import batch, batch_dask, batch_files
from conftest import CORPUS, ROOT, SOLUTION, feedback_files, need
from test_safefs import deep_tree, remove_deep_tree

VALID = os.path.join(CORPUS, "valid", "np_dot.py")
WRONG = os.path.join(CORPUS, "wrong", "relu_hidden.py")          # loses forward.values
SCALE = os.path.join(CORPUS, "wrong", "scale_0_1.py")            # loses init.small_scale
LATIN1 = os.fsdecode(b"r\xe9my")                                  # as unzip leaves a name from a Windows zip
LONG = "s" * 252                                                  # + ".py": a 255-byte file name
DEEP = 1200


def _copy(source, *parts):
    path = os.path.join(*parts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shutil.copy(source, path)
    return path


def _remove(top):
    """shutil.rmtree recurses; a 1,200-level tree needs the bottom-up removal of test_safefs."""
    for here in [os.path.join(top, "deep", "d"), os.path.join(top, "alice2", "ps1", "d")]:
        if os.path.isdir(here):
            remove_deep_tree(here)
    shutil.rmtree(top)


def flat_class(root):
    """One file or folder per student, no --assignment. {student: own code to compare with, or None: error}."""
    honest = {"alice": _copy(VALID, root, "alice.py"), "bob": _copy(WRONG, root, "bob.py"),
              "carol": _copy(SCALE, root, "carol", "random_init.py"),
              LATIN1: _copy(VALID, root, LATIN1 + ".py"), LONG: _copy(SCALE, root, LONG + ".py"),
              "=1+2": _copy(WRONG, root, "=1+2.py"), "@sum": _copy(VALID, root, "@sum.py"),
              "\x1b[2Jesc\rcr": _copy(VALID, root, "\x1b[2Jesc\rcr.py")}
    honest["deep"] = _copy(WRONG, root, "deep", "random_init.py")
    deep_tree(os.path.join(root, "deep"), DEEP)                  # a 1,200-level tree next to real code
    os.mkfifo(os.path.join(root, "fifo.py"))                       # would block any reader for ever
    os.symlink("/dev/zero", os.path.join(root, "zero.py"))         # would be read until memory runs out
    os.symlink(SOLUTION, os.path.join(root, "copycat.py"))         # the reference, as a student's file
    os.symlink(os.path.dirname(SOLUTION), os.path.join(root, "sol"))          # solutions/ as a student folder
    os.makedirs(os.path.join(root, "trudy"))
    os.symlink(os.path.join(root, "alice.py"), os.path.join(root, "trudy", "random_init.py"))   # a classmate's
    own = _copy(SCALE, root, "mallory", "mine.py")                 # own code, and a link to a classmate's
    os.symlink(os.path.join(root, "alice.py"), os.path.join(root, "mallory", "random_init.py"))
    os.makedirs(os.path.join(root, "pipes"))
    os.mkfifo(os.path.join(root, "pipes", "random_init.py"))
    hostile = {"fifo": None, "zero": None, "copycat": None, "sol": None, "trudy": None, "pipes": None,
               "mallory": own}
    return honest, hostile


def assignment_class(root):
    """nbgrader's layout, graded with --assignment ps1."""
    honest = {"alice2": _copy(VALID, root, "alice2", "ps1", "random_init.py"),
              "bob2": _copy(WRONG, root, "bob2", "ps1", "random_init.py")}
    deep_tree(os.path.join(root, "alice2", "ps1"), DEEP)
    os.makedirs(os.path.join(root, "mallory2"))
    os.symlink(os.path.dirname(SOLUTION), os.path.join(root, "mallory2", "ps1"))       # ps1 -> solutions/
    os.makedirs(os.path.join(root, "trudy2", "ps1"))
    os.symlink(os.path.join(root, "alice2", "ps1", "random_init.py"),
               os.path.join(root, "trudy2", "ps1", "random_init.py"))
    os.symlink(SOLUTION, os.path.join(root, "eve2.py"))                                 # a student entry -> reference
    return honest, {"mallory2": None, "trudy2": None, "eve2": None}


@pytest.fixture(scope="module")
def classes(tmp_path_factory):
    top = str(tmp_path_factory.mktemp("hazards"))
    flat, nbgrader = os.path.join(top, "flat"), os.path.join(top, "nbgrader")
    os.makedirs(flat)
    os.makedirs(nbgrader)
    made = {"flat": (flat, None) + flat_class(flat), "nbgrader": (nbgrader, "ps1") + assignment_class(nbgrader)}
    expected = {}
    for honest_and_hostile in (made["flat"][2:], made["nbgrader"][2:]):
        for group in honest_and_hostile:
            for student, own in group.items():
                if own:
                    expected[student] = _single_grade(own)
    yield made, expected
    _remove(flat)
    _remove(nbgrader)


def _single_grade(path):
    """What ``grade`` gives a clean copy of a student's own file: {rubric id: points}, total."""
    folder = os.path.join(os.path.dirname(os.path.dirname(path)), ".single")
    os.makedirs(folder, exist_ok=True)
    copy = os.path.join(folder, "random_init.py")
    shutil.copy(path, copy)
    result = engine.grade(copy)
    shutil.rmtree(folder)
    return {v.id: v.points for v in result.verdicts}, result.score


def _grade_all_cli(root, assignment, out, *extra):
    args = [sys.executable, "-m", "autograder", "grade-all", root, "--csv", os.path.join(out, "grades.csv"),
            "--no-plot", "--html", os.path.join(out, "report.html"), "--results-dir", os.path.join(out, "feedback")]
    args += ["--assignment", assignment] if assignment else []
    done = subprocess.run(args + list(extra), cwd=ROOT, capture_output=True, timeout=900)
    assert done.returncode == 1, done.stderr.decode("utf-8", "replace")        # error rows, never exit 2
    assert b"Traceback" not in done.stderr, done.stderr.decode("utf-8", "replace")
    for name in ("grades.csv", "grades.csv.state.jsonl", "report.html"):
        assert os.path.isfile(os.path.join(out, name)), name
    with open(os.path.join(out, "grades.csv"), newline="", encoding="utf-8") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def _check(rows, honest, hostile, expected, out):
    for student in honest:
        row = rows[batch_files.inert(student)]
        points, total = expected[student]
        assert row["status"] == "graded", (student, row["detail"])
        assert {k: float(row[k]) for k in points} == {k: float(v) for k, v in points.items()}, student
        assert float(row["total"]) == total
        assert os.path.isfile(os.path.join(out, "feedback", batch_files.feedback_name(student)))
    for student, own in hostile.items():
        row = rows[batch_files.inert(student)]
        if own is None:
            assert row["status"] == "error" and row["detail"], student
            assert row["total"] == "", student
        else:                                                     # graded, as their own code
            assert row["status"] == "graded" and float(row["total"]) == expected[student][1], student
    assert len(rows) == len(honest) + len(hostile)


def test_the_hazards_one_by_one(classes):
    """Each hostile entry's row names its own cause."""
    made, _ = classes
    flat = {s: (p, why) for s, p, why in batch.discover(made["flat"][0])}
    assert "not a regular file" in flat["fifo"][1] and "is a link" in flat["zero"][1]
    assert "is a link" in flat["copycat"][1] and "is a link" in flat["sol"][1]
    assert "no .py or .ipynb file the grader may read" in flat["trudy"][1] and "a link" in flat["trudy"][1]
    assert "not a regular file" in flat["pipes"][1]
    assert flat["mallory"][1] == "" and flat["deep"][1] == "" and flat[LATIN1][1] == ""
    nb = {s: (p, why) for s, p, why in batch.discover(made["nbgrader"][0], assignment="ps1")}
    assert "is a link" in nb["mallory2"][1] and "is a link" in nb["eve2"][1]
    assert "may read" in nb["trudy2"][1]


@pytest.fixture(scope="module")
def local_runs(classes, tmp_path_factory):
    """Both class folders graded by ``grade-all -j 2``: {layout: (CSV rows, output folder)}."""
    made, _ = classes
    runs = {}
    for layout, (root, assignment, _, _) in made.items():
        out = str(tmp_path_factory.mktemp("local-" + layout))
        runs[layout] = _grade_all_cli(root, assignment, out, "-j", "2"), out
    return runs


def test_the_csv_is_inert_and_keeps_every_student(classes, local_runs):
    made, expected = classes
    _, _, honest, hostile = made["flat"]
    rows, out = local_runs["flat"]
    tmp_path = pathlib.Path(out)
    _check(rows, honest, hostile, expected, out)
    assert "'=1+2" in rows and "'@sum" in rows                   # OWASP: never read as a formula
    assert "r\\xe9my" in rows                                     # a Latin-1 name, written as visible escapes
    assert "\\x1b[2Jesc\\x0dcr" in rows                           # ESC and CR escaped, not written raw
    text = (tmp_path / "grades.csv").read_bytes()
    assert b"\x1b" not in text and b"\r\n=" not in text and b",=" not in text
    long_name = batch_files.feedback_name(LONG)
    assert len(os.fsencode(long_name)) <= 255 and long_name == batch_files.feedback_name(LONG)
    assert os.path.isfile(os.path.join(out, "feedback", long_name))


def test_a_rerun_grades_nobody_again(classes, local_runs):
    """The 255-byte name, the Latin-1 name and the rest are kept in the state file: a rerun grades no one."""
    made, _ = classes
    root = made["flat"][0]
    rows, out = local_runs["flat"]
    csv_path = os.path.join(out, "grades.csv")
    with open(csv_path, "rb") as f:
        before = f.read()
    done = batch.grade_all(root, csv_path, jobs=1, plot=False, results_dir=os.path.join(out, "feedback"),
                           stream=io.StringIO())
    assert done["graded"] == 0 and done["skipped"] == sum(r["status"] == "graded" for r in rows.values())
    with open(csv_path, "rb") as f:
        assert f.read() == before


def test_assignment_layout_refuses_links_to_solutions_and_classmates(classes, local_runs):
    made, expected = classes
    _, _, honest, hostile = made["nbgrader"]
    rows, out = local_runs["nbgrader"]
    _check(rows, honest, hostile, expected, out)
    deep = feedback_files(os.path.join(out, "feedback"))["alice2.json"]
    assert any("more than 12 folders deep" in n for n in deep["output"].splitlines()), deep["output"][-500:]


@pytest.fixture(scope="module")
def cluster():
    distributed = need("distributed", "dask")           # only the Dask tests skip without the extra
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as c:
        yield c


@pytest.mark.parametrize("layout", ["flat", "nbgrader"])
def test_dask_grades_the_hazards_as_the_local_pool(classes, local_runs, cluster, tmp_path, layout):
    made, expected = classes
    root, assignment, honest, hostile = made[layout]
    rows = _grade_all_cli(root, assignment, str(tmp_path), "--dask", cluster.scheduler_address)
    _check(rows, honest, hostile, expected, str(tmp_path))
    local_rows, local_out = local_runs[layout]
    with open(os.path.join(local_out, "grades.csv"), "rb") as f:
        assert (tmp_path / "grades.csv").read_bytes() == f.read()
    # The same feedback, notes included: what the reader skipped is remade on the worker as a stand-in.
    assert feedback_files(str(tmp_path / "feedback")) == feedback_files(os.path.join(local_out, "feedback"))


def test_dask_packing_ships_no_link_target(classes):
    made, _ = classes
    root = made["flat"][0]
    name, files = batch_dask.pack(os.path.join(root, "mallory"))
    assert name == "mallory" and sorted(files) == ["mine.py"]      # the link to alice.py is not shipped
    with pytest.raises(OSError, match="is a link"):
        batch_dask.pack(os.path.join(root, "copycat.py"))
    with pytest.raises(OSError, match="not a regular file"):
        batch_dask.pack(os.path.join(root, "fifo.py"))
