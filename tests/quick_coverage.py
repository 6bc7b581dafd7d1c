"""Does the quick loop still run every module of autograder/? (issue 22: a quick loop that covers every module)

    python tests/quick_coverage.py                  # the quick loop: python -m pytest -q -m "not slow"
    python tests/quick_coverage.py tests/test_cli.py  # or any pytest arguments, e.g. to compare a subset

runs pytest under coverage.py (the dev extra pins it) and prints, for every module of autograder/, how
many of its statements the run executed. It exits 1 when a module has none executed, or when pytest
failed, so a quick loop that silently stopped exercising a module cannot pass for a good one.

Only the pytest process itself is measured. Code that runs only in other processes (the student's
child, the warm pool's template, ``python -m autograder`` started by a test) is not counted: coverage
would have to be injected into processes that run as other users, under ``python -I``, and whose
output is the grader's wire protocol, which would then be a different run from the quick loop. Such a
module still shows the lines the test process runs when it imports or calls it. The few modules that
only ever run in another process are listed in ELSEWHERE with the process that runs them; they are
shown, not counted, and a name there that is no module, or that the test process did run, fails too.
"""

import os
import subprocess
import sys
import tempfile
import time

import coverage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "autograder")
QUICK_LOOP = ["-q", "-m", "not slow"]
# module -> the process that runs it (never the test process), and whether the quick loop starts it
ELSEWHERE = {
    "autograder/sandbox/child.py": "the child of every grading (python -I child.py): the quick loop grades",
    "autograder/mutation/bases/dot_style.py": "graded in a child as the mutation runner's second base: "
                                              "test_mutation.py::test_second_base_is_correct_and_in_the_other_style",
}


def modules():
    """Every .py file of autograder/, relative to the checkout, in name order."""
    found = []
    for folder, _, files in os.walk(PACKAGE):
        found += [os.path.join(folder, name) for name in files if name.endswith(".py")]
    return sorted(found)


def run_pytest(data_file, args):
    """pytest under coverage, measuring autograder/ only; (pytest's exit status, wall seconds)."""
    command = [sys.executable, "-m", "coverage", "run", "--data-file", data_file, "--source", PACKAGE,
               "-m", "pytest"] + args
    start = time.monotonic()
    status = subprocess.call(command, cwd=ROOT)
    return status, time.monotonic() - start


def executed(data_file):
    """[(module, statements, statements executed)] for every module of autograder/."""
    cov = coverage.Coverage(data_file=data_file)
    cov.load()
    rows = []
    for path in modules():
        _, statements, _, missing, _ = cov.analysis2(path)
        rows.append((os.path.relpath(path, ROOT), len(statements), len(statements) - len(missing)))
    return rows


def main(argv):
    args = argv or QUICK_LOOP
    with tempfile.TemporaryDirectory(prefix="quick-coverage-") as folder:
        data_file = os.path.join(folder, ".coverage")
        status, seconds = run_pytest(data_file, args)
        rows = executed(data_file)
    print("\nstatements executed by: python -m pytest %s  (%.0f s under coverage)" % (" ".join(args), seconds))
    for name, statements, ran in rows:
        share = 100.0 * ran / statements if statements else 100.0
        print("%6d / %-6d %5.1f %%  %s" % (ran, statements, share, name))
    total, ran = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print("%6d / %-6d %5.1f %%  all %d modules" % (ran, total, 100.0 * ran / total, len(rows)))
    for name, where in sorted(ELSEWHERE.items()):
        print("not measured, runs in another process: %s: %s" % (name, where))
    unrun = [name for name, statements, ran in rows if statements and not ran and name not in ELSEWHERE]
    if unrun:
        print("modules the run never executed (add a test that the quick loop runs): " + ", ".join(unrun))
    ran_by_name = {name: ran for name, _, ran in rows}
    wrong = [name for name in ELSEWHERE if ran_by_name.get(name, 1)]
    if wrong:
        print("ELSEWHERE names a module that is gone or that the test process ran: " + ", ".join(wrong))
    if status:
        print("pytest failed (exit %d): the figures above are of a failing run" % status)
    return 1 if unrun or wrong or status else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
