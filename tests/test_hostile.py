"""Untrusted code: hostile submissions and bad input are contained, reported, and never gain a point.

tests/corpus/hostile/*.py carry '# expect:' (the rubric ids they must lose) and
'# says:' (words the report must contain). Bad input that is not a Python file
(broken notebooks, non-UTF-8 bytes, ...) is made here. Every case is graded by
the real command line in a subprocess, as CI and Gradescope would run it.
"""

import json
import os
import subprocess
import sys
import time

import pytest

from autograder import rubric
from autograder.sandbox import runner as sandbox
from conftest import CORPUS, ROOT, SOLUTION, corpus

AS_ROOT = os.geteuid() == 0
HOSTILE = corpus("hostile")
# What one submission can cost at most: loading once, then one timed-out request per function.
WORST_SECONDS = sandbox.LOAD_SECONDS + 3 * sandbox.CALL_SECONDS
SLACK_SECONDS = 30          # start-up and checks of a loaded 2-core machine; this is a bound, not a benchmark


def says(path):
    with open(path, encoding="utf-8") as f:
        f.readline()
        line = f.readline()
    return line.split(":", 1)[1].strip() if line.startswith("# says:") else ""


def grade(path, results):
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(path), "--results", str(results)],
                          cwd=ROOT, capture_output=True, text=True, timeout=WORST_SECONDS + 120)
    return done, time.monotonic() - start


def lost_ids(results):
    with open(results, encoding="utf-8") as f:
        data = json.load(f)
    assert data["score"] == sum(t["score"] for t in data["tests"])
    return data, {t["tags"][0] for t in data["tests"] if t["score"] < t["max_score"]}


@pytest.mark.parametrize("path,expected", HOSTILE, ids=[os.path.basename(p) for p, _ in HOSTILE])
def test_hostile_submission_is_contained(path, expected, tmp_path):
    if os.path.basename(path) == "borrow_reference.py" and not AS_ROOT:
        pytest.skip("only a grader running as root can hide its own files from student code")
    results = tmp_path / "results.json"
    done, seconds = grade(path, results)
    assert done.returncode == (0 if not expected else 1), done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    data, lost = lost_ids(results)
    assert lost == set(expected), done.stdout
    assert data["score"] == rubric.TOTAL - sum(rubric.BY_ID[i].points for i in expected)
    assert says(path) in done.stdout
    assert seconds < WORST_SECONDS + SLACK_SECONDS
    assert len(done.stdout) < 20000           # a flood of prints does not reach the report


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
                        "SyntaxError"),
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
