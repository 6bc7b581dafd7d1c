"""The command line, run as a real subprocess: exit codes, the report, results.json, notebooks, folders."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from autograder import rubric
from conftest import CORPUS, ROOT, SOLUTION

STUB = os.path.join(ROOT, "assignment", "random_init.py")
REQUIRED = {"name", "score", "max_score", "status", "output", "visibility", "tags"}


def run(*args):
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def notebook(path, code_cells):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# My work\n"]}]
    cells += [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
               "source": src.splitlines(keepends=True)} for src in code_cells]
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, f)
    return path


def check_results(path, score):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    assert data["score"] == score and isinstance(data["execution_time"], (int, float))
    assert [t["tags"] for t in data["tests"]] == [[i.id] for i in rubric.ITEMS]
    for t in data["tests"]:
        assert REQUIRED <= set(t) and t["status"] in ("passed", "failed")
        assert (t["status"] == "passed") == (t["score"] == t["max_score"])
    return data


def test_solution_exits_0_with_full_marks(tmp_path):
    done = run("grade", SOLUTION, "--results", str(tmp_path / "r.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Score: 100/100" in done.stdout
    check_results(tmp_path / "r.json", 100)


def test_wrong_submission_exits_1_and_explains(tmp_path):
    done = run("grade", os.path.join(CORPUS, "wrong", "zero_weights.py"), "--results", str(tmp_path / "r.json"))
    assert done.returncode == 1
    assert "FAIL  init.breaks_symmetry" in done.stdout and "start identical" in done.stdout
    data = check_results(tmp_path / "r.json", 100 - 20 - 15)
    failed = [t for t in data["tests"] if t["status"] == "failed"]
    assert {t["tags"][0] for t in failed} == {"init.breaks_symmetry", "init.small_scale"}
    assert all("ailing case: " in t["output"] for t in failed)


def test_stub_scores_0_and_says_what_to_do():
    done = run("grade", STUB)
    assert done.returncode == 1
    assert "Score: 0/100" in done.stdout and "not written yet" in done.stdout


@pytest.mark.parametrize("args", [[], ["grade"], ["frobnicate", "x"], ["grade", "/no/such/file.py"]])
def test_wrong_usage_exits_2(args):
    done = run(*args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_notebook_with_experiments_and_magics_scores_100(tmp_path):
    with open(SOLUTION, encoding="utf-8") as f:
        solution = f.read()
    nb = notebook(tmp_path / "random_init.ipynb", [
        "%matplotlib inline\nimport numpy as np\nimport lesson_tools as lt",
        solution,
        "!ls\nprint('checking')\nparams = initialize_parameters(2, 4, 1)",
        "runs = lt.train(initialize_parameters, forward, backward)\nwhile True:\n    pass",
        "this is not python (",
    ])
    done = run("grade", str(nb), "--results", str(tmp_path / "r.json"))
    assert done.returncode == 0, done.stdout
    assert "syntax error" in done.stdout          # the broken cell is reported as a note, costing nothing
    check_results(tmp_path / "r.json", 100)


def test_folder_with_notebook_and_helpers_is_graded(tmp_path):
    folder = tmp_path / "alice"
    folder.mkdir()
    shutil.copy(os.path.join(ROOT, "assignment", "public_checks.py"), folder)
    shutil.copy(SOLUTION, folder / "random_init.py")
    done = run("grade", str(folder))
    assert done.returncode == 0 and "random_init.py" in done.stdout


def test_same_submission_same_report_twice():
    path = os.path.join(CORPUS, "wrong", "tanh_deriv_one_minus_a1.py")
    first, second = run("grade", path), run("grade", path)
    assert first.stdout == second.stdout and first.returncode == second.returncode == 1


def test_folder_with_stub_notebook_and_edited_py_grades_the_edited_file(tmp_path):
    folder = tmp_path / "repo"
    shutil.copytree(os.path.join(ROOT, "assignment"), folder)          # notebook and .py, both stubs
    shutil.copy(SOLUTION, folder / "random_init.py")                   # the student edited the .py
    done = run("grade", str(folder))
    assert done.returncode == 0 and "random_init.py" in done.stdout, done.stdout


def test_the_child_gets_the_graders_packages_but_not_its_checkout(tmp_path):
    """The child starts without the site module and is handed the grader's import path: numpy and the other
    installed packages, but not the folder `python -m autograder` was run from (here the checkout), which
    `python -I` never gave it either."""
    sub = tmp_path / "paths.py"
    sub.write_text((open(SOLUTION, encoding="utf-8").read()
                    + "\n\ndef forward(X, parameters):\n    import sys\n"
                      "    raise ValueError('PATH=' + '|'.join(sys.path))\n"))
    done = run("grade", str(sub))
    assert done.returncode == 1
    line = next(l for l in done.stdout.splitlines() if "PATH=" in l)
    path = line.split("PATH=", 1)[1].split(" (line")[0].split("|")
    import numpy
    assert any(numpy.__file__.startswith(p + os.sep) for p in path)        # numpy found where the grader has it
    assert ROOT not in path and "" not in path                             # the checkout is not on it
