"""The students' public checks: one source of truth with the grader, no false verdicts, fast.

* parity: the public checks read a notebook by the grader's own rule (grader_rules.py, shipped as a
  byte-identical copy), use its thresholds and its function list; checked over the corpus notebooks
  and notebooks made from the corpus files;
* no blind spot: no corpus submission passes the public checks of a rubric item and then loses that
  item in the grader; the solution and every valid variant pass them all;
* blame: a student's exception is reported as theirs, a check's own exception never is;
* backward is judged on the grader's cache, on copies, so a wrong forward never fails it.
"""

import contextlib
import filecmp
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from autograder import rubric
from autograder.grading import grader_rules
from autograder.grading import reference
from autograder.sandbox import submission
from conftest import CORPUS, ROOT, SOLUTION, corpus, graded

ASSIGNMENT = os.path.join(ROOT, "assignment")
sys.path.insert(0, ASSIGNMENT)
import public_checks  # noqa: E402

NOTEBOOKS = sorted(os.path.join(CORPUS, "notebooks", n) for n in os.listdir(os.path.join(CORPUS, "notebooks")))
CORPUS_FILES = corpus("wrong") + corpus("valid")


def quietly(fn, *args):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def failing_items(path):
    """{rubric id: [messages]} of the public checks that do not pass on ``path``."""
    functions = quietly(public_checks.load, path)
    bad = {}
    for chk in public_checks.CHECKS:
        status, message = public_checks.outcome(chk, functions)
        if status != "ok":
            bad.setdefault(chk.item, []).append(message)
    return bad


# --- one source of truth ----------------------------------------------------------------------

def test_shipped_rules_are_the_graders_rules():
    original = os.path.join(ROOT, "autograder", "grading", "grader_rules.py")
    for copy in (os.path.join(ASSIGNMENT, "grader_rules.py"),
                 os.path.join(ROOT, "solutions", "source", "random_init", "grader_rules.py")):
        assert filecmp.cmp(original, copy, shallow=False), "%s is stale: run python solutions/build_notebook.py --release" % copy
    assert filecmp.cmp(os.path.join(ASSIGNMENT, "public_checks.py"),
                       os.path.join(ROOT, "solutions", "source", "random_init", "public_checks.py"), shallow=False)
    assert public_checks.rules.FUNCTIONS == rubric.FUNCTIONS == grader_rules.FUNCTIONS
    from autograder.grading import checks, checks_net
    assert checks.BOUND == public_checks.rules.BOUND and checks.SCALE == public_checks.rules.SCALE
    assert (checks_net.GRADIENT_RTOL, checks_net.FORWARD_RTOL) == (public_checks.rules.GRADIENT_RTOL,
                                                                   public_checks.rules.FORWARD_RTOL)


def test_fixture_is_the_graders_reference():
    p, X, Y = reference.problem(0, 2, 3, 2, 4)
    cache, grads = reference.forward(X, p), reference.numeric_gradients(p, X, Y)
    assert np.array_equal(public_checks.X_FIXTURE, X) and np.array_equal(public_checks.Y_FIXTURE, Y)
    for mine, theirs in ((public_checks.PARAMS, p), (public_checks.CACHE, cache), (public_checks.GRADS, grads)):
        assert set(mine) == set(theirs) and all(np.array_equal(mine[k], theirs[k]) for k in theirs)


def as_notebook(py_path, tmp_path):
    """A notebook from a corpus file: one cell per top-level block, plus magics, plots and markdown."""
    with open(py_path, encoding="utf-8") as f:
        blocks = f.read().split("\n\n\n")
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["Replace raise NotImplementedError\n"]},
             {"cell_type": "code", "metadata": {}, "source": ["%matplotlib inline\n", "import matplotlib.pyplot as plt"]}]
    cells += [{"cell_type": "code", "metadata": {}, "source": b} for b in blocks]
    cells.append({"cell_type": "code", "metadata": {}, "source": "plt.plot([1, 2])\nprint('experiment')"})
    path = tmp_path / (os.path.basename(py_path) + ".ipynb")
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return str(path)


@pytest.mark.parametrize("path", NOTEBOOKS + [p for p, _ in CORPUS_FILES[::4]], ids=os.path.basename)
def test_public_checks_run_the_same_notebook_code_as_the_grader(path, tmp_path):
    if path.endswith(".py"):
        path = as_notebook(path, tmp_path)
    prepared = submission.prepare(path, grader_rules)
    graders = [s for s in prepared.source.rstrip("\n").split(submission.STATEMENT_MARK) if s]
    with open(path, encoding="utf-8") as f:
        public = public_checks.rules.kept_statements(public_checks.rules.code_cell_sources(json.load(f)))
    assert public[0] == graders and public[1] == prepared.notes


def test_helpers_and_constants_in_a_notebook_count_on_both_sides():
    path = os.path.join(CORPUS, "notebooks", "helpers_and_constants.ipynb")
    assert failing_items(path) == {} and graded(path).score == rubric.TOTAL


def test_a_syntax_error_gets_the_graders_words():
    path = os.path.join(CORPUS, "notebooks", "syntax_error_cell.ipynb")
    note = submission.prepare(path, grader_rules).notes[0]
    bad = failing_items(path)
    assert set(bad) == {"backward.shapes", "backward.gradients"} == {v.id for v in graded(path).verdicts
                                                                     if not v.passed}
    assert all(note in m for messages in bad.values() for m in messages)


# --- no blind spots, no false verdicts ------------------------------------------------------------

def test_solution_passes_every_public_check():
    assert failing_items(SOLUTION) == {}


@pytest.mark.parametrize("path,expected", CORPUS_FILES, ids=[os.path.basename(p) for p, _ in CORPUS_FILES])
def test_no_item_passes_in_public_and_is_lost_in_the_grader(path, expected):
    """Every rubric item has public checks; an item the grader takes is failed by one of them."""
    assert {chk.item for chk in public_checks.CHECKS} == set(rubric.BY_ID)
    bad = failing_items(path)
    assert set(expected) <= set(bad), (expected, bad)
    if not expected:
        assert bad == {}


def test_backward_is_judged_on_the_graders_cache_not_on_forward():
    solution = quietly(public_checks.load, SOLUTION)
    broken_forward = lambda X, p: (None, None)                                     # noqa: E731
    for chk in public_checks.CHECKS:
        if chk.item.startswith("backward."):
            assert public_checks.outcome(chk, (solution[0], broken_forward, solution[2])) == ("ok", "")

    def mutating_backward(p, cache, X, Y):
        X *= 0
        cache["A2"] -= Y
        return solution[2](p, cache, X + 1, Y)
    public_checks.check_backward_shapes(solution[0], solution[1], mutating_backward)
    assert np.any(public_checks.X_FIXTURE != 0)       # the checks' own arrays are never handed out


def test_the_students_exception_is_theirs_and_the_checks_is_not():
    solution = quietly(public_checks.load, SOLUTION)

    def raising_forward(X, p):
        raise KeyError("W3")
    status, message = public_checks.outcome(public_checks.check_forward, (solution[0], raising_forward, solution[2]))
    assert status == "FAIL" and "forward raised KeyError" in message

    def broken_check(initialize_parameters, forward, backward):
        return {}["no such key"]
    status, message = public_checks.outcome(broken_check, solution)
    assert status == "BUG" and "not a verdict on your code" in message and "your code raised" not in message


def test_the_checks_leave_the_callers_random_state_alone():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    quietly(public_checks.run, *quietly(public_checks.load, SOLUTION))
    assert np.array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize("name,item", [
    ("w2_default_rng_unseeded.py", "init.breaks_symmetry"), ("restores_random_state.py", "init.breaks_symmetry"),
    ("float32_weights.py", "init.shapes"), ("single_output_outer.py", "backward.gradients"),
    ("mutates_x.py", "forward.values"), ("scale_only_large_layers.py", "init.small_scale"),
])
def test_the_cheap_checks_catch_what_used_to_pass(name, item):
    assert item in failing_items(os.path.join(CORPUS, "wrong", name))


# --- the three ways to run them -----------------------------------------------------------------

def test_command_line_says_public_and_exits_by_result():
    ok = subprocess.run([sys.executable, "public_checks.py", SOLUTION], cwd=ASSIGNMENT, capture_output=True,
                        text=True, timeout=60)
    stub = subprocess.run([sys.executable, "public_checks.py"], cwd=ASSIGNMENT, capture_output=True, text=True,
                          timeout=60)
    assert ok.returncode == 0 and "does not promise full marks" in ok.stdout
    assert stub.returncode == 1 and "stub" in stub.stdout and "Traceback" not in stub.stdout + stub.stderr


def test_notebook_mode_does_not_import_matplotlib():
    code = ("import sys, public_checks; public_checks.run(*public_checks.load(%r)); "
            "print('matplotlib' in sys.modules)" % os.path.join(CORPUS, "notebooks", "helpers_and_constants.ipynb"))
    done = subprocess.run([sys.executable, "-c", code], cwd=ASSIGNMENT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip().endswith("False"), done.stdout + done.stderr


def test_pytest_wrapper_runs_on_the_stub_and_fails_cleanly():
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_public.py"],
                          cwd=ASSIGNMENT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "still a stub" in done.stdout
