"""Untrusted code: hostile submissions and bad input are contained, reported, and never gain a point.

tests/corpus/hostile/*.py carry '# expect:' (the rubric ids they must lose) and
'# says:' (words the report must contain); a '# limit:' line marks a case whose
outcome pins a limit SECURITY.md documents. Hostile input that cannot live in the
corpus as a .py file (FIFOs, links, deep folder trees, broken notebooks, planted
result paths, a shadowing package) is made here. Every case is graded by the real
command line in a subprocess, as CI and Gradescope would run it. The classes follow
issue 11: 1-3 and 6 by corpus files, 4-5 and 7-10 by the tests below.
"""

import fcntl
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from autograder import rubric
from autograder.sandbox import runner as sandbox
from autograder.sandbox import trees, uids
from conftest import CORPUS, ROOT, SOLUTION, corpus

AS_ROOT = os.geteuid() == 0
HOSTILE = corpus("hostile")
# The documented worst case for one submission (SECURITY.md): the hard budget for everything its
# code does, plus the grader's own work (start-up, checks on plain values, reports), for which a
# loaded 2-core machine gets GRADER_SECONDS. This is a bound, not a benchmark.
WORST_SECONDS = sandbox.SUBMISSION_SECONDS
GRADER_SECONDS = 30
ROOT_ONLY = {   # cases whose outcome needs a private uid, a memory cgroup or hidden grader files
    "borrow_reference.py": "only a grader running as root can hide its own files from student code",
    "fork_memory.py": "only as root do all of a submission's processes share one memory cgroup",
}


def says(path):
    with open(path, encoding="utf-8") as f:
        f.readline()
        line = f.readline()
    return line.split(":", 1)[1].strip() if line.startswith("# says:") else ""


def grade(path, results, *extra, env=None):
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(path), "--results", str(results)]
                          + list(extra), cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=WORST_SECONDS + GRADER_SECONDS + 120)
    return done, time.monotonic() - start


_GRADED = {}
# The three cases that spend the whole time budget mostly sleep in student code: they are graded at
# the same time (each in its own grader process, timed from its own start) to keep the suite short.
SLOW = ("slow_every_reply.py", "slow_top_level_rerun.py", "slow_wrong_forward_shrinking.py", "slow_wrong_backward.py")
_SLOW_RUNNING = {}


def _start_slow_cases(tmp_path_factory):
    for name in SLOW:
        path = os.path.join(CORPUS, "hostile", name)
        if path in _SLOW_RUNNING or path in _GRADED:
            continue
        results = tmp_path_factory.mktemp("hostile") / "results.json"
        args = [sys.executable, "-m", "autograder", "grade", path, "--results", str(results)]
        proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _SLOW_RUNNING[path] = (proc, args, time.monotonic(), results)


def graded_once(path, tmp_path_factory):
    """(completed process, seconds, results path): each corpus file is graded once per session."""
    if path not in _GRADED and os.path.basename(path) in SLOW:
        _start_slow_cases(tmp_path_factory)
        proc, args, start, results = _SLOW_RUNNING.pop(path)
        out, err = proc.communicate(timeout=WORST_SECONDS + GRADER_SECONDS + 120)
        seconds = time.monotonic() - start
        _GRADED[path] = (subprocess.CompletedProcess(args, proc.returncode, out, err), seconds, results)
    if path not in _GRADED:
        results = tmp_path_factory.mktemp("hostile") / "results.json"
        done, seconds = grade(path, results)
        _GRADED[path] = (done, seconds, results)
    return _GRADED[path]


def lost_ids(results):
    with open(results, encoding="utf-8") as f:
        data = json.load(f)
    assert data["score"] == sum(t["score"] for t in data["tests"])
    return data, {t["tags"][0] for t in data["tests"] if t["score"] < t["max_score"]}


@pytest.mark.parametrize("path,expected", HOSTILE, ids=[os.path.basename(p) for p, _ in HOSTILE])
def test_hostile_submission_is_contained(path, expected, tmp_path_factory):
    if os.path.basename(path) in ROOT_ONLY and not AS_ROOT:
        pytest.skip(ROOT_ONLY[os.path.basename(path)])
    done, seconds, results = graded_once(path, tmp_path_factory)
    assert done.returncode == (0 if not expected else 1), done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    data, lost = lost_ids(results)
    assert lost == set(expected), done.stdout
    assert data["score"] == rubric.TOTAL - sum(rubric.BY_ID[i].points for i in expected)
    assert says(path) in done.stdout
    assert seconds < WORST_SECONDS + GRADER_SECONDS
    assert len(done.stdout) < 20000           # a flood of prints does not reach the report



@pytest.mark.parametrize("name", SLOW)
def test_documented_worst_case_wall_time_is_a_bound(name, tmp_path_factory):
    """SECURITY.md: one submission costs at most SUBMISSION_SECONDS of its own code plus the grader's work.

    Each case would run for minutes without the budget (4.5 s replies across ~75 requests; a 19 s
    top level rerun after every crash; hypothesis shrinking a 3.5 s function).
    """
    done, seconds, _ = graded_once(os.path.join(CORPUS, "hostile", name), tmp_path_factory)
    assert seconds <= WORST_SECONDS + GRADER_SECONDS, (name, seconds)
    assert done.returncode == 1 and "Traceback" not in done.stderr


def test_time_budget_keeps_the_real_failure_and_says_what_was_not_checked(tmp_path_factory):
    done, _, results = graded_once(os.path.join(CORPUS, "hostile", "slow_wrong_forward_shrinking.py"),
                                   tmp_path_factory)
    data, _ = lost_ids(results)
    by_id = {t["tags"][0]: t["output"] for t in data["tests"]}
    assert "time budget" not in by_id["forward.values"] and "Failing case" in by_id["forward.values"]
    # Budget order (issue 23): backward got its cases before forward's search spent the budget.
    assert by_id["backward.gradients"] == by_id["backward.shapes"] == "Passed."


def test_budget_order_gives_every_item_its_first_cases_before_any_search(tmp_path_factory):
    """Issue 23: a wrong backward taking 4 s a call fails backward.gradients at its first case; the search
    must not cost backward.shapes, which is right, its points (it is never "not checked")."""
    done, _, results = graded_once(os.path.join(CORPUS, "hostile", "slow_wrong_backward.py"), tmp_path_factory)
    data, lost = lost_ids(results)
    by_id = {t["tags"][0]: t["output"] for t in data["tests"]}
    assert lost == {"backward.gradients"} and by_id["backward.shapes"] == "Passed.", done.stdout
    assert by_id["backward.gradients"].startswith("'dW2' differs from the derivative of J")
    assert "Failing case: " in by_id["backward.gradients"] and "not checked" not in done.stdout
    assert "the time budget ran out before every case of backward.shapes could run" in data["output"]


def test_a_hang_met_while_searching_keeps_the_failure_found_before_it(tmp_path_factory):
    """Issue 23: the report names the sizes at which backward hung, and keeps the real mistake and its case."""
    done, _, results = graded_once(os.path.join(CORPUS, "hostile", "hang_at_one_size.py"), tmp_path_factory)
    data, lost = lost_ids(results)
    test = {t["tags"][0]: t for t in data["tests"]}["backward.gradients"]
    output = test["output"]
    assert lost == {"backward.gradients"}, done.stdout
    assert output.startswith("'dW2' differs from the derivative of J")
    assert ("While the grader looked for a smaller failing case, backward did not finish within %g seconds"
            % sandbox.CALL_SECONDS) in output
    hung = re.search(r"at n_x=1 input, n_h=1 hidden unit, n_y=1 output, m=(\d+) examples", output)
    assert hung and int(hung.group(1)) >= 2, output        # where it hangs (the file loops only there)
    failing = test["extra_data"]["case"]
    assert failing["m"] >= 4 and "Failing case: " in output      # where it is wrong (the file errs only there)
    assert test["extra_data"]["kind"] == "value"


def test_hostile_dunders_never_run_in_the_grader(tmp_path):
    for name in ("float", "reduce"):
        marker = "/tmp/autograder-evil-" + name
        if os.path.exists(marker):
            os.remove(marker)
    grade(os.path.join(CORPUS, "hostile", "hostile_dunder_objects.py"), tmp_path / "r.json")
    assert not os.path.exists("/tmp/autograder-evil-float")
    assert not os.path.exists("/tmp/autograder-evil-reduce")


@pytest.mark.skipif(not AS_ROOT, reason="processes of student code are tracked by user id only as root")
def test_escaped_process_is_killed(tmp_path):
    marker = "/tmp/autograder-escaped"
    if os.path.exists(marker):
        os.remove(marker)
    grade(os.path.join(CORPUS, "hostile", "escaping_process.py"), tmp_path / "r.json")
    time.sleep(4)                              # the escaped process would write after 3 s
    assert not os.path.exists(marker)


def test_forged_results_are_overwritten(tmp_path):
    results = tmp_path / "results.json"
    done, _ = grade(os.path.join(CORPUS, "hostile", "forge_results.py"), results)
    data, lost = lost_ids(results)
    assert data["score"] == 65 and len(data["tests"]) == len(rubric.ITEMS)


def _notebook(cells):
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


BAD_INPUT = {
    "empty.py": (b"", "is empty"),
    "blank.py": (b"\n\n   \n", "is empty"),
    "syntax_error.py": (b"import numpy as np\ndef initialize_parameters(n_x, n_h, n_y)\n    return {}\n",
                        "syntax_error.py has a syntax error (expected ':', line 2)"),
    "latin1.py": ("# caf\u00e9\ndef forward(X, p):\n    return 1\n".encode("latin-1"), "not UTF-8"),
    "corrupt.ipynb": (b"{\"cells\": [ {\"cell_type\": \"code\", \"sour", "not a readable notebook"),
    "not_a_notebook.ipynb": (b"[1, 2, 3]", "no list of cells"),
    "no_code.ipynb": (_notebook([{"cell_type": "markdown", "metadata": {}, "source": "# hi"}]).encode(),
                      "no code cells"),
    "missing_function.py": (b"import numpy as np\ndef forward(X, parameters):\n    return None\n",
                            "initialize_parameters is not defined"),
    "notes.txt": (b"def initialize_parameters(): pass", "neither a .py file nor"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUT))
def test_bad_input_gets_a_clear_message_and_a_report(name, tmp_path):
    content, message = BAD_INPUT[name]
    path = tmp_path / name
    path.write_bytes(content)
    results = tmp_path / "results.json"
    done, _ = grade(path, results)
    assert done.returncode == 1, done.stdout + done.stderr
    assert message in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    data, lost = lost_ids(results)
    assert data["score"] < rubric.TOTAL and len(data["tests"]) == len(rubric.ITEMS)


def test_empty_folder_is_reported(tmp_path):
    (tmp_path / "sub").mkdir()
    done, _ = grade(tmp_path / "sub", tmp_path / "results.json")
    assert done.returncode == 1 and "no .py or .ipynb file" in done.stdout


def test_grader_crash_still_writes_a_fallback_results_json(tmp_path):
    results = tmp_path / "results.json"
    code = ("import sys, autograder.grading.engine as e\n"
            "def boom(path):\n    raise RuntimeError('simulated bug in the grader')\n"
            "e.grade = boom\n"
            "from autograder.__main__ import main\nsys.exit(main(sys.argv[1:]))\n")
    done = subprocess.run([sys.executable, "-c", code, "grade", SOLUTION, "--results", str(results)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "internal error" in done.stderr
    with open(results, encoding="utf-8") as f:
        data = json.load(f)
    assert data["score"] == 0 and "grader itself failed" in data["output"]
    assert len(data["tests"]) == len(rubric.ITEMS) and all(t["score"] == 0 for t in data["tests"])


REPRODUCE = [os.path.join(CORPUS, "wrong", name) for name in
             ("tiled_w1_row.py", "w2t_elementwise_dz2.py", "default_rng_unseeded.py", "sigmoid_hidden.py")]
REPRODUCE += [os.path.join(CORPUS, "hostile", "reseed_and_replace_random.py"), SOLUTION]


def test_same_scores_and_messages_under_any_hash_seed(tmp_path):
    def run(path, hash_seed):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        done = subprocess.run([sys.executable, "-m", "autograder", "grade", path], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        return done.returncode, done.stdout
    for path in REPRODUCE:
        reports = {run(path, seed) for seed in ("0", "1", "12345", "random")}
        assert len(reports) == 1, path


# -- class 4: folders ------------------------------------------------------------------------------
WRONG_SCALE = os.path.join(CORPUS, "wrong", "scale_0_1.py")      # loses init.small_scale: 85


def test_folder_reads_only_regular_files_inside_it_and_says_what_it_skipped(tmp_path):
    folder = tmp_path / "repo"
    folder.mkdir()
    shutil.copy(WRONG_SCALE, folder / "mine.py")
    os.mkfifo(folder / "random_init.py")                        # would block a plain open() for ever
    os.symlink("/dev/zero", folder / "zero.ipynb")              # would be read until memory runs out
    os.symlink(SOLUTION, folder / "random_init_solution.py")    # the reference, readable by the grader
    os.symlink(os.path.dirname(SOLUTION), folder / "solutions")
    (folder / "big.py").write_bytes(b"def forward(X, p):\n    return 1\n" + b"#" * (6 * 2**20))
    evil = "\x1b[31mevil\r.py"
    shutil.copy(os.path.join(CORPUS, "wrong", "scale_0_1.py"), folder / evil)
    done, seconds = grade(folder, tmp_path / "results.json")
    assert done.returncode == 1 and "Score: 85/100" in done.stdout, done.stdout + done.stderr
    assert seconds < WORST_SECONDS + GRADER_SECONDS
    for phrase in ("zero.ipynb (a link", "random_init_solution.py (a link", "solutions (a link",
                   "random_init.py (not a regular file)", "big.py (larger than 5 MB)"):
        assert phrase in done.stdout, phrase
    assert "\x1b" not in done.stdout and "\r" not in done.stdout and "\\x1b[31mevil\\x0d.py" in done.stdout


def test_deep_folder_tree_is_walked_without_recursion(tmp_path):
    folder = tmp_path / "deep"
    folder.mkdir()
    shutil.copy(WRONG_SCALE, folder / "random_init.py")
    here = os.getcwd()
    try:
        os.chdir(folder)
        for _ in range(1500):                                   # deeper than Python's recursion limit
            os.mkdir("d")
            os.chdir("d")
        shutil.copy(SOLUTION, "random_init.py")
    finally:
        os.chdir(here)
    try:
        done, _ = grade(folder, tmp_path / "results.json")
        assert done.returncode == 1 and "Score: 85/100" in done.stdout, done.stdout + done.stderr
        assert "more than 12 folders deep" in done.stdout
    finally:
        trees.remove_tree(str(folder / "d"))                     # shutil.rmtree would recurse too deep
        assert not os.path.exists(folder / "d")


def _solution_notebook(path, extra_cells=(), markdown_stubs=True, nbformat=4):
    """The solution's three functions as a notebook, with markdown that quotes the stub line."""
    import ast
    with open(SOLUTION, encoding="utf-8") as f:
        source = f.read()
    tree = ast.parse(source)
    code = ["import numpy as np"] + [ast.get_source_segment(source, n) for n in tree.body
                                     if isinstance(n, ast.FunctionDef)]
    cells = [{"cell_type": "markdown", "metadata": {},
              "source": "Replace `raise NotImplementedError()` with your code.\n" * (2 if markdown_stubs else 0)}]
    cells += [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": c}
              for c in code]
    cells += list(extra_cells)
    if nbformat == 3:
        for c in cells:
            if c["cell_type"] == "code":
                c["input"] = c.pop("source")
        nb = {"worksheets": [{"cells": cells}], "metadata": {}, "nbformat": 3, "nbformat_minor": 0}
    else:
        nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")


def _half_done_py(path):
    """The solution with backward put back to the stub."""
    with open(SOLUTION, encoding="utf-8") as f:
        source = f.read()
    head, _ = source.split("def backward", 1)
    path.write_text(head + "def backward(parameters, cache, X, Y):\n    # YOUR CODE HERE\n"
                    "    raise NotImplementedError()\n", encoding="utf-8")


@pytest.mark.parametrize("py", ["untouched", "half-done"])
def test_finished_notebook_beats_an_untouched_or_half_done_py(py, tmp_path):
    """Issue 9.6: judged on function bodies in code cells; the notebook's markdown quotes the stub twice."""
    folder = tmp_path / "repo"
    folder.mkdir()
    _solution_notebook(folder / "random_init.ipynb")
    if py == "untouched":
        shutil.copy(os.path.join(ROOT, "assignment", "random_init.py"), folder / "random_init.py")
    else:
        _half_done_py(folder / "random_init.py")
    done, _ = grade(folder, tmp_path / "results.json")
    assert done.returncode == 0 and "Score: 100/100" in done.stdout, done.stdout
    assert "graded random_init.ipynb: initialize_parameters, forward, backward written" in done.stdout
    assert "ignored random_init.py (fewer functions written)" in done.stdout
    assert "backward not written yet" in done.stdout


# -- class 5: notebooks ----------------------------------------------------------------------------
def _bad_notebooks(tmp_path):
    cases = {}
    deep = tmp_path / "deep_json.ipynb"
    deep.write_text('{"cells": [], "metadata": ' + "[" * 100000 + "]" * 100000 + "}")
    cases["deep_json"] = (deep, None, "nested too deeply")
    odd = tmp_path / "odd_sources.ipynb"
    _solution_notebook(odd, [{"cell_type": "code", "source": 5}, {"cell_type": "code", "source": [1, None]},
                             {"cell_type": "code", "source": {"x": 1}}, {"cell_type": "code"}])
    cases["non_string_sources"] = (odd, 100, "has a source that is not text and was skipped")
    nested = tmp_path / "nested.ipynb"
    _solution_notebook(nested, [{"cell_type": "code", "source": "x = " + "(" * 150000 + "1" + ")" * 150000},
                                {"cell_type": "code", "source": "y = " + "-" * 300000 + "1"},
                                {"cell_type": "code", "source": "z = " + "[" * 5000 + "]" * 5000}])
    cases["parser_exhaustion"] = (nested, 100, "and was skipped")
    old = tmp_path / "nbformat3.ipynb"
    _solution_notebook(old, nbformat=3)
    cases["nbformat3"] = (old, 100, "")
    bom = tmp_path / "bom.ipynb"
    _solution_notebook(bom)
    bom.write_bytes(b"\xef\xbb\xbf" + bom.read_bytes())
    cases["utf8_bom"] = (bom, 100, "")
    return cases


@pytest.mark.parametrize("name", ["deep_json", "non_string_sources", "parser_exhaustion", "nbformat3", "utf8_bom"])
def test_hostile_notebooks_get_a_report_never_exit_2(name, tmp_path):
    path, score, phrase = _bad_notebooks(tmp_path)[name]
    done, _ = grade(path, tmp_path / "results.json")
    assert done.returncode == (0 if score == 100 else 1), done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr and phrase in done.stdout
    data, _ = lost_ids(tmp_path / "results.json")
    assert data["score"] == (score if score is not None else data["score"]) and len(data["tests"]) == 7
    if score is None:
        assert data["score"] == 0


# -- class 6: reports ------------------------------------------------------------------------------
def test_escapes_never_reach_terminal_results_json_or_ci_summary(tmp_path):
    path = os.path.join(CORPUS, "hostile", "escapes_in_error_text.py")
    summary, output, results = tmp_path / "summary.md", tmp_path / "output.txt", tmp_path / "results.json"
    done = subprocess.run([sys.executable, "-m", "autograder", "ci", path, "--results", str(results),
                           "--summary", str(summary), "--output", str(output)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    raw_results = results.read_text(encoding="utf-8")
    shown = [done.stdout, summary.read_text(encoding="utf-8"), json.loads(raw_results)["tests"][4]["output"]]
    for text in shown:
        assert "\x1b" not in text and "\r" not in text and "\u202e" not in text and "\ud800" not in text
        assert "\\x1b[2K" in text
    assert "\nScore: 100/100" not in shown[0] and "Score: 85/100" in shown[0]
    assert "::stop-commands::" in done.stdout                 # no workflow command can hide in the log


def test_nonexistent_path_with_results_still_writes_the_fallback(tmp_path):
    results = tmp_path / "out" / "results.json"
    done, _ = grade(tmp_path / "nope.py", results)
    assert done.returncode == 2 and "no file or folder" in done.stderr
    data, lost = lost_ids(results)
    assert data["score"] == 0 and lost == set(rubric.BY_ID) and "no file or folder" in data["output"]


# -- class 7: nothing outlives a grading (as root) -------------------------------------------------
@pytest.mark.skipif(not AS_ROOT, reason="a private uid, and so its clean-up, exist only as root")
def test_files_the_student_left_are_removed(tmp_path_factory):
    done, _, _ = graded_once(os.path.join(CORPUS, "hostile", "leaves_files_behind.py"), tmp_path_factory)
    assert done.returncode == 0
    for path in ("/tmp/hostile-leftover", "/var/tmp/hostile-leftover", "/dev/shm/hostile-leftover",
                 "/tmp/hostile-leftover-dir"):
        assert not os.path.lexists(path), path
    assert os.path.exists("/etc/passwd")                      # the link inside was removed, not its target


@pytest.mark.skipif(not AS_ROOT, reason="grade-all gives private uids only as root")
def test_grade_all_gives_every_student_their_own_uid(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for student in ("ann", "ben", "cid"):     # not identical files: grade-all grades identical ones once
        shutil.copy(os.path.join(CORPUS, "hostile", "reports_its_uid.py"), subs / (student + ".py"))
        with open(subs / (student + ".py"), "a", encoding="utf-8") as f:
            f.write("# %s\n" % student)
    out = tmp_path / "results"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade-all", str(subs), "--csv",
                           str(tmp_path / "grades.csv"), "--jobs", "1", "--results-dir", str(out), "--no-plot"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    found = set()
    for name in os.listdir(out):
        with open(out / name, encoding="utf-8") as f:
            text = json.dumps(json.load(f))
        found.update(int(u) for u in re.findall(r"running as uid (\d+)", text))
    first, last = uids.uid_range()
    assert len(found) == 3 and all(first < u <= last for u in found), found


@pytest.mark.skipif(not AS_ROOT, reason="reserving uids needs root")
def test_reserved_uid_is_never_one_a_process_uses(tmp_path):
    bystander = subprocess.Popen(["setpriv", "--reuid=1879000001", "--regid=1879000001", "--clear-groups",
                                  "sleep", "60"])
    env = dict(os.environ, AUTOGRADER_UID_RANGE="1879000000-1879000002")   # candidates: ...001 (busy), ...002
    try:
        time.sleep(0.3)
        got = subprocess.run([sys.executable, "-c", "from autograder.sandbox import uids; u = uids.reserve(); "
                              "print(u); uids.release(u)"], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=60)
        assert got.stdout.split() == ["1879000002"], got.stdout + got.stderr
        done, _ = grade(SOLUTION, tmp_path / "results.json", env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert bystander.poll() is None                       # the bystander was not killed
    finally:
        bystander.kill()
        bystander.wait()


@pytest.mark.skipif(not AS_ROOT, reason="reserving uids needs root")
def test_a_reservation_trusts_only_a_recent_scan_of_proc(monkeypatch):
    """One scan of /proc a grading: a reservation right after a clean-up uses that clean-up's scan, which
    saw every uid in use (the bystander's too); an older scan is made again (uids.SCAN_FRESH_SECONDS)."""
    bystander = subprocess.Popen(["setpriv", "--reuid=1879000001", "--regid=1879000001", "--clear-groups",
                                  "sleep", "60"])
    monkeypatch.setenv("AUTOGRADER_UID_RANGE", "1879000000-1879000002")   # candidates: ...001 (busy), ...002
    scans = []
    real = uids._processes_of
    monkeypatch.setattr(uids, "_processes_of", lambda uid: scans.append(uid) or real(uid))
    monkeypatch.setattr(uids, "SCAN_FRESH_SECONDS", 60.0)   # "recent", however loaded the machine is
    try:
        time.sleep(0.3)
        real(1879000002)                              # a clean-up's scan, made after the bystander started
        for _ in range(4):                            # both candidates come up, at random
            got = uids.reserve(walk_files=False)
            assert got == 1879000002 and scans == []  # the bystander's uid avoided, with no scan of its own
            uids._unclaim(uids._claims_folder(), got)
        monkeypatch.setattr(uids, "SCAN_FRESH_SECONDS", 0.0)
        got = uids.reserve(walk_files=False)
        uids._unclaim(uids._claims_folder(), got)
        assert got == 1879000002 and scans           # too old: scanned again
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


@pytest.mark.skipif(not AS_ROOT, reason="uid claims exist only as root")
def test_claims_of_killed_gradings_are_released_at_the_next_start(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()                                             # a pid that no longer runs
    uid = uids.uid_range()[1] - 3
    claim = os.path.join(uids._claims_folder(), str(uid))
    with open(claim, "w") as f:
        f.write("%d\n" % dead.pid)
    leftover = "/tmp/hostile-claim-leftover"
    with open(leftover, "w") as f:
        f.write("left by a killed grading")
    os.chown(leftover, uid, uid)
    done, _ = grade(SOLUTION, tmp_path / "results.json")
    assert done.returncode == 0
    assert not os.path.exists(claim) and not os.path.exists(leftover)


def test_stale_scratch_folders_are_swept_and_live_ones_kept(tmp_path):
    stale = tempfile.mkdtemp(prefix="autograder-staletest-", dir="/tmp")
    live = tempfile.mkdtemp(prefix="autograder-livetest-", dir="/tmp")
    open(os.path.join(stale, ".lock"), "w").close()
    held = os.open(os.path.join(live, ".lock"), os.O_WRONLY | os.O_CREAT)
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        done, _ = grade(SOLUTION, tmp_path / "results.json")
        assert done.returncode == 0
        assert not os.path.exists(stale) and os.path.exists(live)
    finally:
        os.close(held)
        shutil.rmtree(live, ignore_errors=True)
        shutil.rmtree(stale, ignore_errors=True)


# -- class 8: the results path ---------------------------------------------------------------------
@pytest.mark.skipif(not AS_ROOT, reason="planted links of a student uid exist only when student code has one")
def test_results_never_follow_what_a_student_planted(tmp_path_factory, tmp_path):
    done, _, _ = graded_once(os.path.join(CORPUS, "hostile", "plants_result_links.py"), tmp_path_factory)
    assert done.returncode == 0 and not os.path.lexists("/tmp/hostile-results")   # removed with the uid's files
    student = uids.uid_range()[0] + 7
    victim = tmp_path / "victim"
    victim.mkdir()
    planted = tmp_path / "planted"
    os.symlink(victim, planted)
    os.lchown(planted, student, student)                    # a link a student uid made
    done, _ = grade(SOLUTION, planted / "results.json")
    assert done.returncode == 2 and "refusing to write through" in done.stderr
    assert os.listdir(victim) == []
    owned = tmp_path / "owned"
    owned.mkdir()
    os.chown(owned, student, student)                       # a folder a student uid made
    done, _ = grade(SOLUTION, owned / "results.json")
    assert done.returncode == 2 and not os.path.exists(owned / "results.json")
    os.symlink(victim / "target.json", tmp_path / "results.json")   # a link at the name is replaced
    done, _ = grade(SOLUTION, tmp_path / "results.json")
    assert done.returncode == 0 and not os.path.islink(tmp_path / "results.json")
    assert not os.path.exists(victim / "target.json")


# -- classes 9 and 10: CI, non-root, a shared install ----------------------------------------------
def test_python_I_keeps_a_shadowing_autograder_package_out(tmp_path):
    repo = tmp_path / "repo"
    (repo / "autograder").mkdir(parents=True)
    marker = tmp_path / "shadow-ran"
    (repo / "autograder" / "__init__.py").write_text("open(%r, 'w').close()\n" % str(marker))
    (repo / "autograder" / "__main__.py").write_text("print('Score: 100/100')\n")
    shutil.copy(WRONG_SCALE, repo / "random_init.py")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    shadowed = subprocess.run([sys.executable, "-m", "autograder", "grade", "."], cwd=repo, env=env,
                              capture_output=True, text=True, timeout=120)
    assert marker.exists()                                  # without -I the student's package runs
    marker.unlink()
    done = subprocess.run([sys.executable, "-I", "-m", "autograder", "grade", "."], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=120)
    assert not marker.exists() and "Score: 85/100" in done.stdout, done.stdout + done.stderr + shadowed.stdout


def _python_runs_as_nobody():
    if not AS_ROOT or not shutil.which("setpriv"):
        return False
    spawn = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'pass'], check=True)"
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                           spawn], capture_output=True, timeout=60).returncode == 0


NOBODY_PYTHON = _python_runs_as_nobody()


def _as_nobody(args, cwd):
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + args, cwd=cwd,
                          env=dict(os.environ, PYTHONPATH=ROOT, HOME="/tmp"), capture_output=True, text=True,
                          timeout=300)


@pytest.mark.skipif(not NOBODY_PYTHON, reason="runs the grader as nobody via setpriv; this Python must be "
                    "executable by nobody (not installed under a private /root)")
def test_not_root_ci_and_grade_all_warn_that_the_score_is_feedback():
    tmp_path = pathlib.Path(tempfile.mkdtemp(prefix="hostile-nobody-", dir="/tmp"))   # pytest's is root-only
    os.chmod(tmp_path, 0o777)
    try:
        _not_root_warns(tmp_path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def test_not_root_warning_from_the_commands_themselves(tmp_path):
    """The same warning where nobody's Python cannot start a child: the grader is made to see itself as
    not root (os.geteuid patched), which also takes the non-root path of the sandbox."""
    shutil.copy(SOLUTION, tmp_path / "random_init.py")
    code = ("import os, sys; os.geteuid = lambda: 1000\n"
            "from autograder.__main__ import main\nsys.exit(main(sys.argv[1:]))\n")
    for args in (["ci", str(tmp_path / "random_init.py")],
                 ["grade-all", str(tmp_path), "--csv", str(tmp_path / "g.csv"), "--jobs", "1", "--no-plot"]):
        done = subprocess.run([sys.executable, "-c", code] + args, cwd=ROOT, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "not running as root" in done.stderr and "feedback, not as a grade of record" in done.stderr
    done = subprocess.run([sys.executable, "-m", "autograder", "ci", str(tmp_path / "random_init.py")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert (done.returncode, "not running as root" in done.stderr) == (0, not AS_ROOT)


def _not_root_warns(tmp_path):
    sub = tmp_path / "random_init.py"
    shutil.copy(SOLUTION, sub)
    os.chmod(sub, 0o644)
    done = _as_nobody([sys.executable, "-m", "autograder", "ci", str(sub)], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "not running as root" in done.stderr and "feedback, not as a grade of record" in done.stderr
    done = _as_nobody([sys.executable, "-m", "autograder", "grade-all", str(tmp_path), "--csv",
                       str(tmp_path / "g.csv"), "--jobs", "1", "--no-plot"], tmp_path)
    assert "not running as root" in done.stderr, done.stdout + done.stderr


@pytest.mark.skipif(not AS_ROOT or not shutil.which("setpriv"), reason="drops CAP_SYS_ADMIN from a root grader")
def test_failed_network_isolation_is_logged(tmp_path):
    done = subprocess.run(["setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin", sys.executable, "-m",
                           "autograder", "grade", SOLUTION], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "could not give student code an empty network namespace" in done.stderr


@pytest.mark.skipif(not AS_ROOT or not shutil.which("setpriv"), reason="compares what root grading leaves readable")
def test_root_run_hides_the_grader_from_student_code_only(tmp_path):
    """Measured, not assumed: after a root grading, another user still reads the grader's files; a process
    in the student group (as student code runs) reads neither the hidden tests nor the solution."""
    reference = os.path.join(ROOT, "autograder", "grading", "reference.py")
    gid = uids.student_gid()
    student = ["setpriv", "--reuid=%d" % (gid + 9), "--regid=%d" % (gid + 9), "--groups=%d" % gid]
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

    def nobody_reads(path):
        return subprocess.run(nobody + ["cat", path], capture_output=True, timeout=30).returncode == 0

    before = {path: nobody_reads(path) for path in (SOLUTION, reference)}   # a checkout may sit in a 0700 folder
    done, _ = grade(SOLUTION, tmp_path / "results.json")
    assert done.returncode == 0
    for path in (SOLUTION, reference):
        assert nobody_reads(path) == before[path], path      # the root run took nothing away from other users
        denied = subprocess.run(student + ["cat", path], capture_output=True, text=True, timeout=30)
        assert denied.returncode != 0 and "Permission denied" in denied.stderr, path
    assert subprocess.run(student + ["cat", "/etc/hostname"], capture_output=True, timeout=30).returncode == 0
    if NOBODY_PYTHON:                                     # a shared install still imports for other users
        other = _as_nobody([sys.executable, "-c", "import autograder.grading.reference"], "/")
        assert other.returncode == 0, other.stderr
