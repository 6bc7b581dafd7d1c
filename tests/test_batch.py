"""grade-all: a whole class in parallel, resumable, robust to bad submissions.

A handful of corpus submissions is graded for real (two workers, warm pool); the
pool's robustness (a grader that raises, a worker that dies, one that hangs) and the
rough edges of a run (lock, sweep, failed writes) are tested with a stand-in grading
function so that they take seconds, not minutes. The warm pool (sandbox/pool.py) is
tested on its own and on hostile submissions graded one after another in one worker.
"""

import ast
import csv
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time

import pytest

from autograder import rubric
from autograder.errors import UsageError
from autograder.platforms import batch, batch_figure, batch_pool, batch_summary
from autograder.platforms.batch_files import feedback_name
from conftest import CORPUS, ROOT, feedback_files

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
    (tmp_path / "carol" / "ps1" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "carol" / "ps1" / "random_init.ipynb").write_text("{}")
    (tmp_path / "dave").mkdir()
    (tmp_path / "frank" / "ps1" / ".ipynb_checkpoints").mkdir(parents=True)   # a folder without code
    (tmp_path / "frank" / "ps1" / ".ipynb_checkpoints" / "random_init-checkpoint.ipynb").write_text("{}")
    (tmp_path / "frank" / "ps1" / "notes.txt").write_text("I will submit tomorrow")
    (tmp_path / "erin.py").write_text("")
    (tmp_path / "erin.ipynb").write_text("{}")
    (tmp_path / "grades.csv").write_text("")          # not a submission
    (tmp_path / ".hidden.py").write_text("")
    found = {s: (p, why) for s, p, why in batch.discover(str(tmp_path), assignment="ps1")}
    assert sorted(found) == ["alice", "bob", "carol", "dave", "erin", "frank"]
    assert found["carol"][0] == str(tmp_path / "carol" / "ps1")
    assert found["dave"][0] is None and "no folder ps1" in found["dave"][1]
    assert found["erin"][0] is None and "two submissions" in found["erin"][1]
    assert found["frank"][0] is None and "holds no .py or .ipynb file" in found["frank"][1]
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
    (subs / "frank").mkdir()                                             # a folder without code
    (subs / "frank" / "README.txt").write_text("forgot to upload\n")
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
    assert sorted(rows) == ["alice", "bob", "carol", "dave", "erin", "frank"]
    frank = rows.pop("frank")
    assert frank["status"] == "missing" and frank["total"] == "" and "no .py or .ipynb" in frank["detail"]
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
    assert not os.path.exists(os.path.join(os.path.dirname(str(out)), "feedback", "frank.json"))
    del rows["frank"]
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
    text = batch_summary.summary_text(done["summary"])
    assert "40% lost it (2/5)" in text and rubric.BY_ID["forward.values"].section in text
    with open(done["png"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.dirname(done["png"]) == os.path.dirname(str(out))


def test_progress_went_to_the_log(graded_class):
    log = graded_class[3]
    assert "6 students: 5 to grade" in log and "5/5 100%" in log


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
    assert rows["frank"]["status"] == "missing"
    assert int(rows["bob"]["total"]) == expected_total(WRONG_BACKWARD)
    assert rows["alice"]["total"] == "100"
    with open(str(csv_copy) + ".state.jsonl", encoding="utf-8") as f:
        assert len(f.read().splitlines()) == 5          # compacted: one line per student


def test_state_file_survives_a_half_written_line(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"student": "a", "key": "k", "status": "graded"}) + "\n{\"student\": \"b\", \"ke")
    assert list(batch.load_state(str(path))) == ["a"]


def test_a_state_file_others_could_write_is_ignored_and_everyone_regraded(graded_class, tmp_path):
    """The state file decides who is not graded again: one that someone else wrote or may write is not read."""
    subs, out, _, _ = graded_class
    copy, csv_copy = tmp_path / "submitted", tmp_path / "grades.csv"
    shutil.copytree(subs, copy)
    state = str(csv_copy) + ".state.jsonl"
    for planted in ("writable", "foreign"):
        shutil.copy(str(out) + ".state.jsonl", state)
        os.chmod(state, 0o666) if planted == "writable" else os.chown(state, 65534, 65534)
        note = io.StringIO()
        done = batch.grade_all(str(copy), str(csv_copy), jobs=2, plot=False, stream=note)
        assert done["skipped"] == 0 and done["graded"] == 5, planted
        assert "ignored the state file" in note.getvalue() and "every student is graded again" in note.getvalue()
        assert read_csv(csv_copy)["alice"]["total"] == "100"


def stand_in_grader(path):
    """Grades instantly, or misbehaves as the file name says."""
    name = os.path.basename(path)
    if name.startswith("boom"):
        raise RuntimeError("grader bug")
    if name.startswith("die"):
        os._exit(3)
    if name.startswith(("hang", "slow")):
        time.sleep(60)
    return {"status": "graded", "points": {i.id: i.points for i in rubric.ITEMS}, "total": 100,
            "results": {"score": 100, "tests": [], "graded": name}}


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
    bar = batch_summary.Progress(4, out, width=8)
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


# -- the plot -------------------------------------------------------------------------------------
def test_plot_has_a_histogram_of_total_scores_and_legends(graded_class):
    _, out, done, _ = graded_class
    csv_totals = sorted(float(r["total"]) for r in read_csv(out).values() if r["status"] == "graded")
    scores = batch_summary.totals(done["rows"])
    assert sorted(scores) == csv_totals and len(scores) == 5
    bars_ax, hist_ax = batch_figure.figure(done["summary"], scores).axes
    heights = [p.get_height() for p in hist_ax.patches]
    assert len(heights) == len(batch_figure.histogram_bins()) - 1 == 10
    assert sum(heights) == 5 and heights[-1] == 2               # alice and erin: full marks, last bin
    assert heights[0] == 1                                       # dave: 0 points
    hist_labels = [t.get_text() for t in hist_ax.get_legend().get_texts()]
    assert "students (5 graded)" in hist_labels
    assert "mean %.1f" % (sum(scores) / 5) in hist_labels
    bar_labels = [t.get_text() for t in bars_ax.get_legend().get_texts()]
    assert bar_labels == ["lost by %d%% or more of the class" % batch_figure.WIDELY_LOST,
                          "lost by fewer than %d%%" % batch_figure.WIDELY_LOST]


# -- rough edges of a run -------------------------------------------------------------------------
def test_rerun_writes_missing_feedback_files_without_grading_again(graded_class, tmp_path):
    subs, out, _, _ = graded_class
    csv_copy, feedback = tmp_path / "grades.csv", tmp_path / "feedback"
    shutil.copy(out, csv_copy)
    shutil.copy(str(out) + ".state.jsonl", str(csv_copy) + ".state.jsonl")
    shutil.copytree(os.path.join(os.path.dirname(str(out)), "feedback"), feedback)
    original = (feedback / "bob.json").read_text()
    (feedback / "bob.json").unlink()
    log = io.StringIO()
    done = batch.grade_all(str(subs), str(csv_copy), jobs=2, plot=False, stream=log, results_dir=str(feedback))
    assert done["graded"] == 0 and done["skipped"] == 5 and done["rewritten"] == 1
    assert (feedback / "bob.json").read_text() == original
    assert "1 feedback files written again" in log.getvalue()


def test_a_failed_feedback_write_is_not_recorded_as_graded(tmp_path):
    subs, feedback, out = tmp_path / "subs", tmp_path / "feedback", tmp_path / "g.csv"
    subs.mkdir()
    for name in ("ok1", "ok2"):
        (subs / (name + ".py")).write_text("# %s\n" % name)
    (feedback / "ok1.json").mkdir(parents=True)          # a folder where ok1's file must go: the write fails
    batch.grade_all(str(subs), str(out), jobs=1, plot=False, stream=io.StringIO(), results_dir=str(feedback),
                    grade_fn=stand_in_grader)
    rows = read_csv(out)
    assert rows["ok2"]["status"] == "graded" and json.loads((feedback / "ok2.json").read_text())["score"] == 100
    assert rows["ok1"]["status"] == "error"
    assert "feedback file could not be written" in rows["ok1"]["detail"]
    assert batch.load_state(str(out) + ".state.jsonl")["ok1"]["status"] == "error"
    (feedback / "ok1.json").rmdir()
    done = batch.grade_all(str(subs), str(out), jobs=1, plot=False, stream=io.StringIO(),
                           results_dir=str(feedback), grade_fn=stand_in_grader)
    assert done["graded"] == 1 and done["skipped"] == 1
    assert read_csv(out)["ok1"]["status"] == "graded"
    assert json.loads((feedback / "ok1.json").read_text())["graded"] == "ok1.py"
    assert not [n for n in os.listdir(feedback) if n.startswith(".")]     # no temporary file left


def test_a_second_run_on_the_same_csv_is_stopped_with_a_clear_message(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "g.csv"
    subs.mkdir()
    (subs / "ok1.py").write_text("# ok\n")
    first = batch.RunLock(str(out), str(tmp_path / "scratch"), io.StringIO())
    first.acquire()                                       # a run of this very process holds the CSV
    try:
        with pytest.raises(UsageError) as raised:
            batch.grade_all(str(subs), str(out), jobs=1, plot=False, stream=io.StringIO(),
                            grade_fn=stand_in_grader)
        message = str(raised.value)
        assert "another grade-all (pid %d" % os.getpid() in message
        assert "wait for it to finish" in message and str(out) + ".lock" in message
        done = subprocess.run([sys.executable, "-m", "autograder", "grade-all", str(subs), "--csv", str(out)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert "autograder grade-all: another grade-all (pid %d" % os.getpid() in done.stderr
        assert not out.exists()                           # the second run wrote nothing
    finally:
        first.release()
    batch.grade_all(str(subs), str(out), jobs=1, plot=False, stream=io.StringIO(), grade_fn=stand_in_grader)
    assert read_csv(out)["ok1"]["status"] == "graded" and not os.path.exists(str(out) + ".lock")


KILLED_RUN = """
import sys
sys.path[:0] = [%r, %r]
from autograder.platforms import batch
from test_batch import stand_in_grader
batch.grade_all(%r, %r, jobs=1, plot=False, grade_fn=stand_in_grader)
"""


def test_leftovers_of_a_killed_run_are_swept_at_the_next_start(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "g.csv"
    subs.mkdir()
    for name in ("ok1", "ok2", "slow"):                  # graded in this order, one worker
        (subs / (name + ".py")).write_text("# %s\n" % name)
    run = subprocess.Popen([sys.executable, "-c", KILLED_RUN % (ROOT, os.path.dirname(__file__), str(subs), str(out))],
                           cwd=ROOT, start_new_session=True, stderr=subprocess.DEVNULL)
    state = str(out) + ".state.jsonl"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(batch.load_state(state)) < 2:
            time.sleep(0.2)
        assert len(batch.load_state(state)) == 2, "the run to be killed never graded ok1 and ok2"
    finally:
        os.killpg(run.pid, signal.SIGKILL)                # the whole run, workers too, as the OOM killer would
        run.wait()
    with open(str(out) + ".lock", encoding="utf-8") as f:
        scratch = json.load(f)["scratch"]
    assert os.path.isdir(scratch)                         # the killed run left its scratch folder...
    half = tmp_path / ".g.csv.tmp-k1ll3d"
    half.write_text("student,half a CSV")                 # ...and, say, a half-written CSV
    (subs / "slow.py").unlink()
    log = io.StringIO()
    done = batch.grade_all(str(subs), str(out), jobs=1, plot=False, stream=log, grade_fn=stand_in_grader)
    text = log.getvalue()
    assert "an earlier run on %s (pid %d" % (out, run.pid) in text and "did not finish" in text
    assert scratch in text and str(half) in text
    assert not os.path.exists(scratch) and not half.exists() and not os.path.exists(str(out) + ".lock")
    assert done["skipped"] == 2 and done["graded"] == 0    # what the killed run graded is kept
    assert sorted(read_csv(out)) == ["ok1", "ok2"]


def test_sigterm_stops_a_run_cleanly(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "g.csv"
    subs.mkdir()
    shutil.copy(os.path.join(CORPUS, "hostile", "hang_at_import.py"), subs / "stuck.py")
    run = subprocess.Popen([sys.executable, "-m", "autograder", "grade-all", str(subs), "--csv", str(out), "-j", "1"],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = str(out) + ".lock"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not os.path.exists(lock):
        time.sleep(0.1)
    with open(lock, encoding="utf-8") as f:
        scratch = json.load(f)["scratch"]
    time.sleep(1.0)                                        # the worker is grading now
    run.send_signal(signal.SIGTERM)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr
    assert not os.path.exists(lock) and not os.path.exists(scratch)


# -- the warm pool --------------------------------------------------------------------------------
def _status_field(pid, field):
    with open("/proc/%d/status" % pid, encoding="ascii") as f:
        return next(line.split()[1:] for line in f if line.startswith(field + ":"))


def test_warm_pool_forks_a_fresh_limited_child_per_sandbox(tmp_path):
    from autograder.sandbox import pool, runner
    launcher = pool.Launcher()
    try:
        seen = []
        for _ in range(2):
            box = runner.Sandbox(VALID, launcher=launcher)
            try:
                assert box.load()["functions"]["forward"] == "ok"      # child.py runs and answers
                pid = box.proc.pid
                assert isinstance(box.proc, pool.ForkedChild)
                assert int(_status_field(pid, "PPid")[0]) == launcher.proc.pid   # forked by the template
                assert os.getsid(pid) == pid                              # its own session and group
                with open("/proc/%d/limits" % pid, encoding="ascii") as f:
                    limits = {line[:26].strip(): line[26:].split() for line in f}
                assert limits["Max address space"][:2] == [str(runner.MEMORY_BYTES)] * 2
                assert limits["Max file size"][:2] == [str(runner.FILE_BYTES)] * 2
                if box.uid is not None:
                    assert _status_field(pid, "Uid") == [str(box.uid)] * 4    # the private uid, as root
                seen.append((pid, launcher.proc.pid))
            finally:
                box.close()
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)                                           # killed and reaped
        assert seen[0][0] != seen[1][0] and seen[0][1] == seen[1][1]      # fresh child, same template
        child = launcher.spawn({"PATH": os.environ.get("PATH", "")}, str(tmp_path))
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL                            # Popen's convention
        scratch, template = launcher.scratch, launcher.proc
        launcher.sock.close()                   # as if the grading process died without closing it
        launcher.sock = None
        assert template.wait(30) == 0 and not os.path.exists(scratch)   # the template cleaned up itself
    finally:
        launcher.close()
    assert launcher.proc is None and launcher.sock is None


def test_every_sandbox_of_a_worker_gets_its_own_uid_as_root():
    from autograder.sandbox import pool, runner, uids
    if os.geteuid() != 0:
        pytest.skip("private uids need root")
    launcher = pool.Launcher()
    try:
        boxes = [runner.Sandbox(VALID, launcher=launcher) for _ in range(3)]
        try:
            assert len({b.uid for b in boxes}) == 3
            first, last = uids.uid_range()
            assert all(first <= b.uid <= last for b in boxes)
        finally:
            for b in boxes:
                b.close()
    finally:
        launcher.close()


def _cgroup_of(pid):
    with open("/proc/%d/cgroup" % pid, encoding="ascii") as f:
        return sorted(line.split(":", 2)[2].strip() for line in f if "memory" in line.split(":")[1].split(","))


def test_pool_children_are_born_in_the_templates_memory_cgroup_which_spares_the_template(tmp_path):
    """As root the template and its children share one cgroup (no per-child join); a submission that forks
    past the memory bound loses only its own processes: the template lives on and the next submission in
    the same worker is graded in full."""
    from autograder.grading import engine
    from autograder.sandbox import confine, pool, runner
    if os.geteuid() != 0:
        pytest.skip("memory cgroups need root")
    launcher = pool.Launcher()
    try:
        box = runner.Sandbox(VALID, launcher=launcher)
        try:
            if launcher.group is None:
                pytest.skip("no writable memory cgroup here")
            assert box.cgroup is None and box.shared_group is launcher.group
            # born in the template's empty network namespace, not the grader's
            assert confine.child_network_isolated(box.proc.pid)
            assert os.readlink("/proc/%d/ns/net" % box.proc.pid) == os.readlink("/proc/%d/ns/net" % launcher.proc.pid)
            assert _cgroup_of(box.proc.pid) == _cgroup_of(launcher.proc.pid)
            assert launcher.group.pids() == sorted([launcher.proc.pid, box.proc.pid])
            limit = os.path.join(launcher.group.path, "memory.limit_in_bytes" if launcher.group.kind == "v1"
                                 else "memory.max")
            with open(limit, encoding="ascii") as f:
                assert int(f.read()) == runner.MEMORY_BYTES + pool.TEMPLATE_ALLOWANCE
            with open("/proc/%d/oom_score_adj" % box.proc.pid, encoding="ascii") as f:
                assert f.read().strip() == "0"                       # the child is the OOM killer's to take
            with open("/proc/%d/oom_score_adj" % launcher.proc.pid, encoding="ascii") as f:
                # -1000 needs CAP_SYS_RESOURCE (some containers drop it); never above the child's
                assert int(f.read()) in (pool.TEMPLATE_OOM_SCORE_ADJ, 0)
        finally:
            box.close()
        assert launcher.group.pids() == [launcher.proc.pid]          # nothing of the submission is left
        template = launcher.proc.pid
        hog = engine.grade(os.path.join(CORPUS, "hostile", "fork_memory.py"), launcher=launcher)
        lost = sorted(v.id for v in hog.verdicts if not v.passed)
        assert lost == ["init.breaks_symmetry", "init.shapes", "init.small_scale", "init.zero_biases"]
        assert launcher.proc.pid == template and launcher.proc.poll() is None
        assert launcher.group.pids() == [template]
        assert engine.grade(VALID, launcher=launcher).score == 100
    finally:
        launcher.close()


def test_uid_clean_up_walks_only_where_the_uid_could_write(tmp_path):
    from autograder.sandbox import uids
    if os.geteuid() != 0:
        pytest.skip("files of another uid can only be made as root")
    uid = uids.uid_range()[1] - 7
    open_dir = tmp_path / "open"
    open_dir.mkdir(mode=0o777)
    open_dir.chmod(0o1777)                                # like /tmp
    theirs = open_dir / "left-by-student"
    theirs.write_text("x")
    own = open_dir / "own-folder"
    own.mkdir()
    (own / "deep").mkdir()
    (own / "deep" / "file").write_text("y")
    closed = tmp_path / "closed"                           # root's 0700 tree: the uid cannot enter it
    closed.mkdir(mode=0o700)
    (closed / "planted").write_text("z")
    readonly = tmp_path / "readonly"                       # installed software: enterable, not writable
    readonly.mkdir(mode=0o755)
    (readonly / "lib.py").write_text("")
    for path in (theirs, own, own / "deep", own / "deep" / "file", closed / "planted", readonly / "lib.py"):
        os.lchown(path, uid, uid)
    os.chmod(own, 0o700)
    tmp_path.chmod(0o755)
    found = {p for p, st in uids._walk(str(tmp_path), uid) if st.st_uid == uid}
    assert found == {str(theirs), str(own), str(own / "deep"), str(own / "deep" / "file")}
    everything = {p for p, st in uids._walk(str(tmp_path)) if st.st_uid == uid}
    assert everything == found | {str(closed / "planted"), str(readonly / "lib.py")}


def test_hostile_code_cannot_reach_the_next_submission_in_the_same_worker(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    order = [("a", "hostile/monkeypatch_numpy_and_builtins.py"), ("b", "valid/np_dot.py"),
             ("c", "hostile/escaping_process.py"), ("d", "valid/einsum.py"),
             ("e", "hostile/sigkill_self_in_init.py"), ("f", "hostile/os_exit_in_forward.py"),
             ("g", "valid/normal_0_01.py")]
    for student, source in order:
        shutil.copy(os.path.join(CORPUS, source), subs / (student + ".py"))
    batch.grade_all(str(subs), str(tmp_path / "g.csv"), jobs=1, plot=False, stream=io.StringIO())
    rows = read_csv(tmp_path / "g.csv")
    for student, source in order:                          # one worker, one template, in this order
        assert rows[student]["status"] == "graded"
        assert int(rows[student]["total"]) == expected_total(os.path.join(CORPUS, source)), student


# -- a single grade pays for nothing of this ------------------------------------------------------
IMPORTS_OF_A_GRADE = """
import json, sys
from autograder.__main__ import main
code = main(["grade", %r])
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)))
sys.exit(code)
"""


def test_one_grade_imports_only_what_it_needs():
    done = subprocess.run([sys.executable, "-c", IMPORTS_OF_A_GRADE % VALID], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    modules = set(json.loads(done.stderr.rsplit("MODULES ", 1)[1]))
    assert "autograder.grading.engine" in modules and "numpy" in modules
    for name in ("autograder.platforms.batch", "autograder.sandbox.pool", "hypothesis", "importlib.metadata",
                 "matplotlib", "distributed", "multiprocessing"):
        assert name not in modules, name          # a passing submission never needs hypothesis' search


def test_the_cheap_version_lookup_agrees_with_importlib_metadata():
    from importlib import metadata
    from autograder.grading import cases
    for package in ("hypothesis", "numpy", "pytest"):
        assert cases.installed_version(package) == metadata.version(package)
    assert cases.installed_version("surely_no_such_package_here") is None


# -- workers share hypothesis' searches -------------------------------------------------------------
class _Conn:
    """A worker's end of the pipe, scripted: the tasks it receives, the rows it sent."""

    def __init__(self, tasks):
        self.tasks, self.sent = list(tasks), []

    def recv(self):
        return self.tasks.pop(0) if self.tasks else None

    def send(self, row):
        self.sent.append(row)


def test_a_worker_learns_the_searches_of_the_others_and_reports_its_own(monkeypatch):
    from autograder.grading import search_memory
    from autograder.sandbox import pool
    wrong = os.path.join(CORPUS, "wrong", "linear_output.py")
    first = search_memory.SearchMemory(strict=True)
    monkeypatch.setattr(search_memory, "MEMORY", first)
    launcher = pool.Launcher()
    try:
        conn = _Conn([(wrong, [])])
        batch_pool._serve(conn, batch_pool.grade_row, launcher)   # worker A searches for real...
        found = conn.sent[0][batch_pool.SEARCHES]
        assert found and first.misses >= 1 and first.hits == 0    # ...and sends what it found
        other = search_memory.SearchMemory(strict=True)
        monkeypatch.setattr(search_memory, "MEMORY", other)
        conn = _Conn([(wrong, found)])
        batch_pool._serve(conn, batch_pool.grade_row, launcher)   # worker B is handed it with its task...
        assert other.hits >= 1 and other.misses == 0    # ...and replays instead of searching
        assert conn.sent[0][batch_pool.SEARCHES] == []       # nothing new to report
    finally:
        launcher.close()


def test_shared_searches_change_no_grade(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    names = ["linear_output", "missing_b2", "tanh_deriv_dropped", "biases_ones"]
    for i, name in enumerate(names * 2):                # each mistake twice, as two students
        text = open(os.path.join(CORPUS, "wrong", name + ".py"), encoding="utf-8").read()
        (subs / ("s%d.py" % i)).write_text("# student %d\n" % i + text)
    rows = {}
    for jobs in (1, 2):
        batch.grade_all(str(subs), str(tmp_path / ("g%d.csv" % jobs)), jobs=jobs, plot=False,
                        results_dir=str(tmp_path / ("r%d" % jobs)), stream=io.StringIO())
        rows[jobs] = read_csv(tmp_path / ("g%d.csv" % jobs))
        assert not any(batch_pool.SEARCHES in json.loads(line)
                       for line in open(str(tmp_path / ("g%d.csv.state.jsonl" % jobs)), encoding="utf-8"))
    assert rows[1] == rows[2]
    for i in range(len(names) * 2):
        one = json.load(open(tmp_path / "r1" / ("s%d.json" % i), encoding="utf-8"))
        two = json.load(open(tmp_path / "r2" / ("s%d.json" % i), encoding="utf-8"))
        for res in (one, two):
            res.pop("execution_time", None)
        assert one == two


# -- the rooms of grade-all ---------------------------------------------------------------------------
def _platform_imports():
    """{module of autograder/platforms: platform modules it imports, at its top or inside a function}."""
    folder = os.path.join(ROOT, "autograder", "platforms")
    names = {n[:-3] for n in os.listdir(folder) if n.endswith(".py")}
    graph = {}
    for name in sorted(names):
        with open(os.path.join(folder, name + ".py"), encoding="utf-8") as f:
            tree = ast.parse(f.read())
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                found |= {node.module} if node.module else {a.name for a in node.names}
        graph[name] = found & names
    return graph


def test_the_platform_modules_import_each_other_one_way():
    """No cycle (batch <-> batch_dask and deploy <-> gradescope were two), read from the syntax trees."""
    graph = _platform_imports()
    assert graph["batch_dask"] and "batch" not in graph["batch_dask"]
    done, path = set(), []

    def visit(name):
        assert name not in path, "import cycle: %s" % " -> ".join(path[path.index(name):] + [name])
        if name in done:
            return
        path.append(name)
        for other in sorted(graph[name]):
            visit(other)
        path.pop()
        done.add(name)
    for name in graph:
        visit(name)
    graph["batch_pool"] = graph["batch_pool"] | {"batch"}     # the check itself can fail: plant a cycle
    done.clear()
    with pytest.raises(AssertionError, match="import cycle"):
        for name in graph:
            visit(name)


def test_feedback_file_names_fit_and_stay_stable():
    """A 255-byte student name used to fail its feedback file on every run (ENAMETOOLONG)."""
    assert feedback_name("alice") == "alice.json"
    a, b = "s" * 252 + "a", "s" * 252 + "b"                     # the same first 233 bytes
    names = [feedback_name(n) for n in (a, b, "\u00e9" * 130, os.fsdecode(b"\xe9" * 300))]
    assert all(len(os.fsencode(n)) <= 255 and n.endswith(".json") for n in names)
    assert names[0] != names[1] and names[0] == feedback_name(a)
    assert os.fsencode(names[2]).decode("utf-8")                 # never cut inside a character


# -- the search memory saved next to the CSV (batch_files.py) -----------------------------------------------
MEMORY_SAMPLE = {"valid": ["np_dot"], "wrong": ["linear_output", "missing_b2", "tanh_deriv_dropped", "sign_flip_dz2",
                                                "w1_transposed", "db_sum_all"], "hostile": ["os_exit_in_forward"]}


def _class(folder, sample, first=0):
    """One student per corpus file of SAMPLE ({kind: [names]}), each file distinct; {student: corpus path}."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for kind, names in sorted(sample.items()):
        for name in names:
            path = os.path.join(CORPUS, kind, name + ".py")
            student = "s%02d_%s" % (first + len(made), name)
            with open(path, encoding="utf-8") as f:
                (folder / (student + ".py")).write_text("# %s\n%s" % (student, f.read()))
            made[student] = path
    return made


def test_grades_and_messages_are_the_same_with_and_without_the_saved_memory(tmp_path, monkeypatch):
    from autograder.grading import engine, report, search_memory
    students = _class(tmp_path / "subs", MEMORY_SAMPLE)
    cold = batch.grade_all(str(tmp_path / "subs"), str(tmp_path / "cold.csv"), jobs=2, plot=False,
                           results_dir=str(tmp_path / "r_cold"), stream=io.StringIO())
    assert cold["searches"]["searched"] >= 4 and cold["remembered"] == 0
    shutil.copy(str(tmp_path / "cold.csv.searches.json"), str(tmp_path / "warm.csv.searches.json"))
    warm = batch.grade_all(str(tmp_path / "subs"), str(tmp_path / "warm.csv"), jobs=2, plot=False,
                           results_dir=str(tmp_path / "r_warm"), stream=io.StringIO())
    assert warm["remembered"] > 0 and warm["searches"]["searched"] == 0     # every search replayed...
    assert warm["searches"]["replayed"] == sum(cold["searches"].values())
    assert (tmp_path / "cold.csv").read_bytes() == (tmp_path / "warm.csv").read_bytes()   # ...to the same bytes
    assert feedback_files(tmp_path / "r_cold") == feedback_files(tmp_path / "r_warm")
    for student, path in students.items():      # and what a grading without any memory at all says
        monkeypatch.setattr(search_memory, "MEMORY", search_memory.SearchMemory(strict=True))
        alone = json.loads(json.dumps(report.results_json(engine.grade(str(tmp_path / "subs" / (student + ".py"))))))
        alone.pop("execution_time", None)
        assert feedback_files(tmp_path / "r_warm")[student + ".json"] == alone, student


def test_a_rerun_after_late_submissions_replays_from_the_saved_memory(tmp_path):
    subs, csv_path = tmp_path / "subs", str(tmp_path / "g.csv")
    _class(subs, {"wrong": ["linear_output", "tanh_deriv_dropped"]})
    first = batch.grade_all(str(subs), csv_path, jobs=1, plot=False, stream=io.StringIO())
    assert first["searches"]["searched"] >= 2
    st = os.stat(csv_path + ".searches.json")
    assert st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) == 0o644
    _class(subs, {"wrong": ["linear_output", "tanh_deriv_dropped"]}, first=2)      # the same mistakes, late
    log = io.StringIO()
    second = batch.grade_all(str(subs), csv_path, jobs=2, plot=False, stream=log)
    assert second["graded"] == 2 and second["skipped"] == 2
    assert "searches remembered from earlier runs" in log.getvalue()
    assert second["searches"] == {"replayed": first["searches"]["searched"], "searched": 0}
    rows = read_csv(csv_path)
    assert rows["s02_linear_output"]["total"] == rows["s00_linear_output"]["total"]
    fresh = batch.grade_all(str(subs), csv_path, jobs=1, plot=False, fresh=True, stream=io.StringIO())
    assert fresh["remembered"] == 0 and fresh["searches"]["searched"] >= 2      # --fresh starts cold


@pytest.fixture(scope="module")
def memory_class(tmp_path_factory):
    """A small class, its CSV and feedback graded cold, and the memory that run saved."""
    root = tmp_path_factory.mktemp("memory")
    _class(root / "subs", {"valid": ["np_dot"], "wrong": ["linear_output"]})
    batch.grade_all(str(root / "subs"), str(root / "cold.csv"), jobs=1, plot=False,
                    results_dir=str(root / "r_cold"), stream=io.StringIO())
    with open(str(root / "cold.csv.searches.json"), encoding="utf-8") as f:
        return root, json.load(f)


def _planted(saved):
    """SAVED with every path replaced by one that tries a large case first and stops at its failure: trusted,
    it would show that case instead of the smallest one hypothesis finds."""
    data = json.loads(json.dumps(saved))
    big = {"n_x": 9, "n_h": 8, "n_y": 7, "m": 9, "seed": 4242}
    data["paths"] = [[key, [[big, steps[index][1]]], 0] for key, steps, index in data["paths"] if index is not None]
    return data


def _bad_memory(kind, saved, target):
    """Write a memory file of KIND at TARGET (the text of the note it must cause is returned)."""
    data = _planted(saved)
    if kind == "garbage":
        target.write_bytes(b"\x00\xffnot json at all")
        return "ignored the search memory"
    if kind == "deep":
        target.write_text("[" * 200000)
        return "ignored the search memory"
    if kind == "a case of text":
        data["paths"][0][1][0][0]["m"] = "9; import os"
        target.write_text(json.dumps(data))
        return "not a few named whole numbers"
    if kind == "another grader":
        data["grader"] = "0" * 16
        target.write_text(json.dumps(data))
        return "made by another grader"
    if kind == "not a memory":
        target.write_text(json.dumps({"student": "x", "status": "graded"}))
        return "not a search memory"
    if kind == "a link":
        real = target.parent / "elsewhere.json"
        real.write_text(json.dumps(data))
        target.symlink_to(real)
        return "is a link"
    target.write_text(json.dumps(data))
    if kind == "writable by others":
        os.chmod(str(target), 0o666)
        return "others may write it"
    os.chown(str(target), 65534, 65534)          # "someone else's"
    return "belongs to uid 65534"


@pytest.mark.parametrize("kind", ["garbage", "deep", "a case of text", "another grader", "not a memory", "a link",
                                  "writable by others", "someone else's"])
def test_a_corrupted_or_planted_memory_is_ignored_with_a_note_and_changes_nothing(memory_class, tmp_path, kind):
    root, saved = memory_class
    if kind == "someone else's" and os.geteuid() != 0:
        pytest.skip("giving a file to another uid needs root")
    says = _bad_memory(kind, saved, tmp_path / "g.csv.searches.json")
    log = io.StringIO()
    done = batch.grade_all(str(root / "subs"), str(tmp_path / "g.csv"), jobs=1, plot=False,
                           results_dir=str(tmp_path / "r"), stream=log)
    assert "ignored the search memory" in log.getvalue() and says in log.getvalue()
    assert "searches start cold (grades are not affected)" in log.getvalue()
    assert done["remembered"] == 0 and done["searches"]["searched"] >= 1
    assert (tmp_path / "g.csv").read_bytes() == (root / "cold.csv").read_bytes()
    assert feedback_files(tmp_path / "r") == feedback_files(root / "r_cold")


def test_the_planted_memory_would_change_a_message_if_it_were_trusted(memory_class, tmp_path):
    """What the ownership and mode checks guard against: the same planted file, written as grade-all writes
    it, is believed (so the test above would fail if those checks were gone)."""
    root, saved = memory_class
    (tmp_path / "g.csv.searches.json").write_text(json.dumps(_planted(saved)))
    os.chmod(str(tmp_path / "g.csv.searches.json"), 0o644)
    done = batch.grade_all(str(root / "subs"), str(tmp_path / "g.csv"), jobs=1, plot=False,
                           results_dir=str(tmp_path / "r"), stream=io.StringIO())
    assert done["remembered"] > 0 and done["searches"]["searched"] == 0
    assert feedback_files(tmp_path / "r") != feedback_files(root / "r_cold")
    assert (tmp_path / "g.csv").read_bytes() == (root / "cold.csv").read_bytes()   # points: still the same


def test_a_dask_batch_below_one_is_a_usage_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "autograder", "grade-all", str(tmp_path), "--csv",
                           str(tmp_path / "g.csv"), "--dask", "tcp://127.0.0.1:9", "--dask-batch", "0"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--dask-batch must be at least 1, not 0" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "g.csv").exists()
