"""What each platform does when things are not as they should be (issue 27, item 7, and the failure
paths that docs/gradescope.md describes).

- Every adapter logs a warning when student code would run without a private user (not root):
  Gradescope, PrairieLearn, Classroom 50 and Coursera in their run, nbgrader in autograde's log
  (``ci`` and ``grade-all`` print the same words from their commands: tests/test_hostile.py).
- Classroom 50's autograder.py runs the grader through passwordless sudo where the runner allows
  it (as the GitHub Actions workflow does), keeping the runner's variables, and says so where not.
- PrairieLearn marks input that cannot be graded ``gradable: false`` with the reason.
- Gradescope: when the grader itself fails, results.json has every test at 0 marked "not graded",
  held-back tests stay held back, and standard output has one line naming the failure.
"""

import importlib.util
import io
import json
import os
import shutil

import pytest

from autograder import platforms, rubric
from autograder.platforms import classroom50, coursera, gradescope, prairielearn
from autograder.sandbox.confine import NOT_ROOT
from conftest import ROOT, SOLUTION

IDENTITY_ENV = {var: "x" for _, var in classroom50.IDENTITY}


@pytest.fixture
def not_root(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)


def empty_layouts(tmp):
    """(name, call(stream)) for each adapter's run, on an upload without code (graded in a moment)."""
    for folder in ("gs/submission", "gs/results", "pl/student", "pl/results", "c50", "cs/submission"):
        os.makedirs(os.path.join(tmp, folder), exist_ok=True)
    return [
        ("gradescope-run", lambda s: gradescope.run_in_gradescope(os.path.join(tmp, "gs"), stdout=s)),
        ("prairielearn-run", lambda s: prairielearn.run(os.path.join(tmp, "pl"), stdout=s)),
        ("classroom50-run", lambda s: classroom50.run(os.path.join(tmp, "c50"), env=IDENTITY_ENV, stdout=s)),
        ("coursera-run", lambda s: coursera.run(os.path.join(tmp, "cs"), env={}, stderr=s)),
    ]


def test_every_adapter_warns_when_student_code_has_no_private_user(not_root, tmp_path):
    for name, call in empty_layouts(str(tmp_path)):
        stream = io.StringIO()
        call(stream)
        log = stream.getvalue()
        assert "%s: warning: %s (uid 1000)." % (name, NOT_ROOT) in log, (name, log[:500])
    # nbgrader's autograde logs the same words; ci and grade-all print them from their commands.
    assert platforms.without_private_user("nbgrader autograde") == (
        "nbgrader autograde: warning: %s (uid 1000)." % NOT_ROOT)


@pytest.mark.skipif(os.geteuid() != 0, reason="the quiet case is root's")
def test_no_warning_as_root(tmp_path):
    for name, call in empty_layouts(str(tmp_path)):
        stream = io.StringIO()
        call(stream)
        assert "warning: " + NOT_ROOT not in stream.getvalue(), name


# --- Classroom 50's entry point and sudo ------------------------------------------------------------

def entry_point():
    path = os.path.join(ROOT, "deploy", "classroom50", "autograder.py")
    spec = importlib.util.spec_from_file_location("classroom50_entry", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_sudo(folder, status):
    path = os.path.join(str(folder), "sudo")
    with open(path, "w", encoding="utf-8") as f:
        f.write("#!/bin/sh\nexit %d\n" % status)
    os.chmod(path, 0o755)
    return path


def test_classroom50_uses_passwordless_sudo_and_keeps_the_runners_variables(not_root, tmp_path, monkeypatch):
    entry = entry_point()
    sudo = fake_sudo(tmp_path, 0)
    monkeypatch.setenv("PATH", str(tmp_path))
    prefix = entry.as_root()
    assert prefix[:2] == [sudo, "--non-interactive"]
    kept = prefix[2].split("=", 1)[1].split(",")
    needed = [var for _, var in classroom50.IDENTITY] + [n for _, names in classroom50.OPTIONAL for n in names]
    assert set(needed) | {"PYTHONPATH"} <= set(kept)


def test_classroom50_without_sudo_says_student_code_keeps_the_runners_user(not_root, tmp_path, monkeypatch,
                                                                         capsys):
    entry = entry_point()
    fake_sudo(tmp_path, 1)                      # sudo asks for a password: -n refuses
    monkeypatch.setenv("PATH", str(tmp_path))
    assert entry.as_root() == []
    assert "no passwordless sudo here" in capsys.readouterr().out


def test_classroom50_as_root_needs_no_sudo():
    if os.geteuid() != 0:
        pytest.skip("only as root")
    assert entry_point().as_root() == []


# --- PrairieLearn: input that cannot be graded ------------------------------------------------------

@pytest.mark.parametrize("name, content, reason", [
    ("random_init.py", "def forward(X, parameters:\n    return X\n", "random_init.py has a syntax error"),
    # /grade/student is a folder: an empty upload and one without the functions are both found wanting there.
    ("random_init.py", "", "defines initialize_parameters, forward or backward; put random_init.py"),
    ("random_init.py", "import numpy as np\nx = 1\n", "defines initialize_parameters, forward or backward;"),
])
def test_prairielearn_marks_input_that_cannot_be_graded(tmp_path, name, content, reason):
    (tmp_path / "student").mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "student" / name).write_text(content, encoding="utf-8")
    prairielearn.run(str(tmp_path), stdout=io.StringIO())
    doc = json.loads((tmp_path / "results" / "results.json").read_text())
    assert doc["gradable"] is False and doc["tests"] == []
    assert doc["message"].startswith("Not graded: ") and reason in doc["message"], doc["message"]


def test_prairielearn_grades_a_stub_it_can_read(tmp_path):
    (tmp_path / "student").mkdir()
    (tmp_path / "results").mkdir()
    shutil.copy(os.path.join(ROOT, "assignment", "random_init.py"), tmp_path / "student" / "random_init.py")
    prairielearn.run(str(tmp_path), stdout=io.StringIO())
    doc = json.loads((tmp_path / "results" / "results.json").read_text())
    assert doc["gradable"] is True and doc["score"] == 0 and len(doc["tests"]) == len(rubric.ITEMS)


# --- Gradescope: the grader fails --------------------------------------------------------------------

def test_gradescope_grader_failure_keeps_held_back_tests_hidden(tmp_path, monkeypatch):
    from autograder.grading import engine
    root = tmp_path / "autograder"
    for folder in ("source", "submission", "results"):
        (root / folder).mkdir(parents=True)
    shutil.copy(SOLUTION, root / "submission" / "random_init.py")
    config = {"visibility": gradescope.visibility_config("visible", ["backward.gradients"])}
    (root / "source" / gradescope.CONFIG).write_text(json.dumps(config), encoding="utf-8")

    def broken(path):
        raise RuntimeError("simulated grader bug")
    monkeypatch.setattr(engine, "grade", broken)
    out = io.StringIO()
    assert gradescope.run_in_gradescope(str(root), stdout=out) == 0
    lines = [line for line in out.getvalue().splitlines() if NOT_ROOT not in line]
    assert lines == ["gradescope-run: the grader failed on %s (RuntimeError: simulated grader bug)"
                     % (root / "submission")]
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["score"] == 0 and len(data["tests"]) == len(rubric.ITEMS)
    assert all(t["score"] == 0 and t["output"].startswith("not graded: the grader itself failed")
               for t in data["tests"]), data["tests"][0]["output"]
    shown = {t["tags"][0]: t["visibility"] for t in data["tests"]}
    assert shown.pop("backward.gradients") == "after_published"
    assert set(shown.values()) == {"visible"}
    assert data["output"].startswith("The grader itself failed: RuntimeError")


def test_a_file_without_the_functions_is_unreadable_in_its_own_words(tmp_path):
    from autograder.grading import report
    from conftest import graded
    path = tmp_path / "random_init.py"
    path.write_text("import numpy as np\nx = 1\n", encoding="utf-8")
    assert report.unreadable(graded(str(path))) == "it defines none of initialize_parameters, forward, backward"
    assert report.unreadable(graded(SOLUTION)) == ""


# --- every bundle's grader imports on its own --------------------------------------------------------

@pytest.mark.parametrize("platform", ["gradescope", "classroom50", "coursera", "prairielearn"])
def test_each_bundles_grader_files_import_without_the_checkout(platform, tmp_path):
    """A module the engine imports but the bundle leaves out breaks every submission on that platform."""
    import subprocess
    import sys
    from autograder.platforms import deploy
    package = os.path.join(ROOT, "autograder")
    for name in deploy.grader_files(platform):
        os.makedirs(os.path.dirname(str(tmp_path / "autograder" / name)), exist_ok=True)
        shutil.copyfile(os.path.join(package, name), str(tmp_path / "autograder" / name))
    # An editable install of this checkout can still supply a module the bundle lacks: list where each came from.
    code = ("import sys; sys.path.insert(0, %r); import autograder.platforms.%s, autograder.grading.engine, "
            "autograder.grading.checks, autograder.grading.html\n"
            "for name, m in sorted(sys.modules.items()):\n"
            "    if name.split('.')[0] == 'autograder': print(name, getattr(m, '__file__', None))"
            % (str(tmp_path), platform))
    done = subprocess.run([sys.executable, "-I", "-c", code], cwd=str(tmp_path), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    outside = [line for line in done.stdout.splitlines() if not line.split()[1].startswith(str(tmp_path))]
    assert outside == [] and len(done.stdout.splitlines()) > 10, outside
