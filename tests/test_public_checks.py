"""The students' public checks: pass on the solution, catch classic mistakes, run fast, say they are public."""

import os
import subprocess
import sys

import pytest

from conftest import CORPUS, ROOT, SOLUTION

ASSIGNMENT = os.path.join(ROOT, "assignment")
sys.path.insert(0, ASSIGNMENT)
import public_checks  # noqa: E402


def failures(path):
    functions = public_checks.load(path)
    bad = []
    for chk in public_checks.CHECKS:
        try:
            chk(*functions)
        except (public_checks.CheckFailed, Exception):
            bad.append(chk.__name__)
    return bad


def test_solution_passes_every_public_check():
    assert failures(SOLUTION) == []


@pytest.mark.parametrize("name,check", [
    ("zero_weights.py", "check_rows_differ"), ("biases_ones.py", "check_zero_biases"),
    ("unscaled_randn.py", "check_small_scale"), ("sigmoid_hidden.py", "check_forward"),
    ("tanh_deriv_one_minus_a1.py", "check_backward"), ("w1_transposed.py", "check_init_shapes"),
])
def test_public_checks_catch_classic_mistakes(name, check):
    assert check in failures(os.path.join(CORPUS, "wrong", name))


def test_command_line_says_public_and_exits_by_result():
    ok = subprocess.run([sys.executable, "public_checks.py", SOLUTION], cwd=ASSIGNMENT, capture_output=True,
                        text=True, timeout=60)
    stub = subprocess.run([sys.executable, "public_checks.py"], cwd=ASSIGNMENT, capture_output=True, text=True,
                          timeout=60)
    assert ok.returncode == 0 and "does not promise full marks" in ok.stdout
    assert stub.returncode == 1 and "stub" in stub.stdout and "Traceback" not in stub.stdout + stub.stderr


def test_pytest_wrapper_runs_on_the_stub_and_fails_cleanly():
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_public.py"],
                          cwd=ASSIGNMENT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "still a stub" in done.stdout
