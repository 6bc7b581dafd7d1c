"""What a person meets first on the command line (issue 27, item 4).

Every subcommand's --help opens with a description and every option and positional says what it
is; output folders that do not exist yet are created; the public checks name the function that is
still a stub; a notebook's cells are named the way Jupyter shows them (tests/test_broken_visible.py
has the syntax-error notes).
"""

import argparse
import contextlib
import io
import os
import subprocess
import sys

from autograder.__main__ import SUBCOMMANDS, build_parser
from conftest import ROOT, SOLUTION

ASSIGNMENT = os.path.join(ROOT, "assignment")


def subcommands():
    parser = build_parser(sorted(set(SUBCOMMANDS.values())))
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices


def test_every_subcommand_and_option_has_help():
    found = subcommands()
    assert set(found) == set(SUBCOMMANDS) | {"grade"}
    missing = []
    for name, parser in found.items():
        if not (parser.description or "").strip():
            missing.append((name, "description"))
        for action in parser._actions:
            if not isinstance(action, argparse._HelpAction) and not (action.help or "").strip():
                missing.append((name, action.dest))
    assert missing == []


def test_a_subcommands_help_page_says_what_it_does():
    done = subprocess.run([sys.executable, "-m", "autograder", "grade-all", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    usage, description = done.stdout.split("\n\n")[:2]
    assert usage.startswith("usage: python -m autograder grade-all")
    assert description.strip() == subcommands()["grade-all"].description


def test_grade_all_creates_its_output_folders(tmp_path):
    subs = tmp_path / "submitted"
    subs.mkdir()
    (subs / "ada.py").write_text(open(SOLUTION, encoding="utf-8").read(), encoding="utf-8")
    out = tmp_path / "not" / "yet"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade-all", str(subs), "--csv",
                           str(out / "csv" / "grades.csv"), "--results-dir", str(out / "json"), "--html",
                           str(out / "html" / "report.html"), "--no-plot", "-j", "1"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert ".lock" not in done.stderr
    for path in ("csv/grades.csv", "json/ada.json", "html/report.html"):
        assert (out / path).is_file(), path


def public_outcomes(functions):
    sys.path.insert(0, ASSIGNMENT)
    try:
        import public_checks
    finally:
        sys.path.remove(ASSIGNMENT)
    with contextlib.redirect_stdout(io.StringIO()):
        return [public_checks.outcome(chk, functions) for chk in public_checks.CHECKS]


def test_stub_messages_name_the_function_that_is_still_a_stub():
    namespace = {}
    exec(compile(open(SOLUTION, encoding="utf-8").read(), SOLUTION, "exec"), namespace)

    def forward(X, parameters):
        raise NotImplementedError()

    def backward(parameters, cache, X, Y):
        raise NotImplementedError()

    outcomes = public_outcomes((namespace["initialize_parameters"], forward, backward))
    todo = [message for status, message in outcomes if status == "todo"]
    assert todo and all(m in ("forward is still a stub: it raises NotImplementedError",
                              "backward is still a stub: it raises NotImplementedError") for m in todo), todo
    assert any(m.startswith("forward") for m in todo) and any(m.startswith("backward") for m in todo)
    assert [s for s, _ in outcomes].count("ok") >= 5        # initialize_parameters' checks pass


def test_the_grader_names_the_stub_too():
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", os.path.join(ASSIGNMENT, "random_init.py")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    for name in ("initialize_parameters", "forward", "backward"):
        assert "%s is not written yet: it still raises NotImplementedError" % name in done.stdout
