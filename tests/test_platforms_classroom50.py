"""Classroom 50, end to end in its own layout, with a correct, a wrong and a hostile submission.

The bundle is built with `python -m autograder classroom50-bundle` into a teacher repository laid
out as Classroom 50 expects (CLASSROOM/autograders/ASSIGNMENT/), packed as a tar.gz and unpacked
into a runtime folder, as the runner does with the bundle it fetches. Its autograder.py is then run
as the runner runs it: `python autograder.py`, in a student checkout, with the identity variables
the runner sets. The checkout also holds a planted autograder/ package that would report 100: the
grader must come from the bundle, never from the checkout.

result.json is stamped as the runner stamps it (owner, assignment_type, datetime, graded_at) and
checked against the result.json contract of the wiki page "Advanced Autograding" (field table and
types, as the runner's validation applies them), by ``check_result`` below.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest

from autograder import rubric
from autograder.grading import engine
from autograder.platforms import classroom50
from conftest import CORPUS, ROOT

CLASSROOM, ASSIGNMENT = "ml101", "random-init"
VALID = os.path.join(CORPUS, "valid", "np_dot.py")
WRONG = os.path.join(CORPUS, "wrong", "scale_0_1.py")                       # expect: init.small_scale
HOSTILE = os.path.join(CORPUS, "hostile", "forge_platform_results.py")     # expect: init.small_scale
ENV = {"CLASSROOM": CLASSROOM, "ASSIGNMENT": ASSIGNMENT, "SUBMISSION_TAG": "submit/2026-11-29T12-00-00Z-abc1234",
       "COMMIT_URL": "https://github.com/org/ml101-random-init-alice/commit/abc1234",
       "RELEASE_URL": "https://github.com/org/ml101-random-init-alice/releases/tag/submit%2F2026",
       "REVIEW_URL": "https://github.com/org/ml101-random-init-alice/compare/000...abc1234",
       "USERNAME": "alice", "OWNER": "alice", "ASSIGNMENT_TYPE": "individual", "PAGES_BASE_URL": "https://org.github.io"}
UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def check_result(doc, classroom=CLASSROOM, assignment=ASSIGNMENT, owner="alice", kind="individual"):
    """The result.json contract (wiki "Advanced Autograding", "The result.json contract")."""
    def count(x):
        return isinstance(x, int) and not isinstance(x, bool) and x >= 0
    assert isinstance(doc, dict) and doc["schema"] == "classroom50/result/v1"
    assert (doc["classroom"], doc["assignment"], doc["owner"]) == (classroom, assignment, owner)
    assert doc["assignment_type"] == kind
    assert isinstance(doc["submission"], str) and doc["submission"].startswith("submit/")
    for key in ("commit", "release", "review", "datetime"):
        assert isinstance(doc[key], str) and doc[key], key
    assert UTC.match(doc["datetime"])
    assert count(doc["score"]) and count(doc["max-score"]) and doc["score"] <= doc["max-score"]
    assert isinstance(doc["tests"], list)
    for t in doc["tests"]:
        assert isinstance(t["test-name"], str) and t["test-name"]
        assert isinstance(t["passed"], bool)
        assert count(t["score"]) and count(t["max-score"]) and t["score"] <= t["max-score"]
    assert doc["score"] == sum(t["score"] for t in doc["tests"])
    assert doc["max-score"] == sum(t["max-score"] for t in doc["tests"])


def stamp(doc):
    """What the runner does to result.json before validating it."""
    doc.update(owner=ENV["USERNAME"], assignment_type=ENV["ASSIGNMENT_TYPE"], datetime="2026-11-29T12:00:00Z",
               graded_at="2026-11-29T12:01:00Z")
    return doc


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    """The bundle, built into a teacher repository, packed and unpacked as the runner does."""
    tmp = tmp_path_factory.mktemp("c50")
    teacher = tmp / "classroom50" / CLASSROOM / "autograders" / ASSIGNMENT
    done = subprocess.run([sys.executable, "-m", "autograder", "classroom50-bundle", str(teacher)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    packed = tmp / (ASSIGNMENT + ".tar.gz")
    with tarfile.open(packed, "w:gz") as tar:
        tar.add(teacher, arcname=ASSIGNMENT)
    run_dir = tmp / "runner-temp" / "classroom50-runtime"
    with tarfile.open(packed) as tar:
        tar.extractall(run_dir, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    return run_dir / ASSIGNMENT


def checkout(tmp_path, submission):
    """A student's checkout: the accept marker, the submission, and a planted fake grader."""
    repo = tmp_path / "checkout"
    repo.mkdir()
    (repo / ".classroom50.yaml").write_text("classroom: %s\nassignment: %s\n" % (CLASSROOM, ASSIGNMENT))
    shutil.copy(submission, repo / "random_init.py")
    fake = repo / "autograder"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text("import json\nopen('result.json', 'w').write(json.dumps({'planted': True, "
                                      "'score': 100}))\n")
    return repo


def run_autograder(runtime, repo, env=ENV):
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    environ.update(env, AUTOGRADER_PYTHON=sys.executable, CLASSROOM50_BUNDLE_DIR=str(runtime))
    return subprocess.run([sys.executable, str(runtime / "autograder.py")], cwd=repo, env=environ,
                          capture_output=True, text=True, timeout=180)


def test_bundle_holds_the_entry_point_the_grader_and_the_pins_but_no_other_platform(runtime):
    assert (runtime / "autograder.py").read_bytes() == open(os.path.join(ROOT, "deploy", "classroom50",
                                                                         "autograder.py"), "rb").read()
    assert (runtime / "autograder" / "grading" / "checks.py").is_file()          # hidden tests: teacher's side
    assert (runtime / "autograder" / "platforms" / "classroom50.py").is_file()
    others = set(os.listdir(runtime / "autograder" / "platforms")) - {"__init__.py", "classroom50.py"}
    assert not others, others
    pins = (runtime / "requirements.txt").read_text()
    assert "hypothesis==" in pins and "numpy==" in pins


@pytest.mark.parametrize("submission,lost", [(VALID, set()), (WRONG, {"init.small_scale"}),
                                             (HOSTILE, {"init.small_scale"})], ids=["valid", "wrong", "hostile"])
def test_autograder_py_writes_a_valid_result_in_the_checkout(runtime, tmp_path, submission, lost):
    repo = checkout(tmp_path, submission)
    done = run_autograder(runtime, repo)
    assert done.returncode == 0, done.stdout + done.stderr          # it ran: the score is in result.json
    assert "Traceback" not in done.stdout + done.stderr
    doc = json.loads((repo / "result.json").read_text())
    assert "planted" not in doc and "forged" not in doc             # neither the fake grader nor the forger
    for key, var in (("classroom", "CLASSROOM"), ("submission", "SUBMISSION_TAG"), ("commit", "COMMIT_URL"),
                     ("release", "RELEASE_URL"), ("review", "REVIEW_URL")):
        assert doc[key] == ENV[var]
    check_result(stamp(doc))
    expected = rubric.TOTAL - sum(rubric.BY_ID[i].points for i in lost)
    assert (doc["score"], doc["max-score"]) == (expected, rubric.TOTAL)
    assert [t["rubric-id"] for t in doc["tests"]] == [i.id for i in rubric.ITEMS]
    assert {t["rubric-id"] for t in doc["tests"] if not t["passed"]} == lost
    for t in doc["tests"]:
        assert t["test-name"].startswith(t["rubric-id"] + ": ")
        if t["passed"]:
            assert t["message"] == "Passed."
        else:
            assert "Read: Section" in t["message"] and "0.1" in t["message"]
    body = (repo / "release-body.md").read_text()
    assert body.startswith("## Autograder: %d / 100" % expected) and "FORGED" not in body
    assert ("What to fix" in body) == bool(lost)
    assert all(i in body.split("What to fix")[-1] for i in lost)


def test_missing_identity_is_refused_before_grading(runtime, tmp_path):
    repo = checkout(tmp_path, VALID)
    env = {k: v for k, v in ENV.items() if k not in ("SUBMISSION_TAG", "COMMIT_URL")}
    done = run_autograder(runtime, repo, env)
    assert done.returncode == 2
    assert "SUBMISSION_TAG, COMMIT_URL" in done.stderr and "docs/classroom50.md" in done.stderr
    assert not (repo / "result.json").exists()


def test_a_grader_failure_exits_2_so_the_runner_records_an_error_not_a_zero(tmp_path, monkeypatch):
    def broken(path):
        raise RuntimeError("child would not start")
    monkeypatch.setattr(engine, "grade", broken)
    shutil.copy(VALID, tmp_path / "random_init.py")
    out = []

    class Sink:
        write = out.append
    assert classroom50.run(str(tmp_path), env=ENV, stdout=Sink()) == 2
    doc = json.loads((tmp_path / "result.json").read_text())
    check_result(stamp(doc))
    assert doc["score"] == 0 and "child would not start" in doc["notes"][0]
    assert "the grader itself failed" in (tmp_path / "release-body.md").read_text()


def test_release_body_is_not_written_through_a_planted_link(tmp_path):
    shutil.copy(WRONG, tmp_path / "random_init.py")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    os.symlink(victim, tmp_path / "release-body.md")
    os.symlink(victim, tmp_path / "result.json")

    class Sink:
        write = staticmethod(lambda s: None)
    assert classroom50.run(str(tmp_path), env=ENV, stdout=Sink()) == 0
    assert victim.read_text() == "keep"
    assert not os.path.islink(tmp_path / "release-body.md") and not os.path.islink(tmp_path / "result.json")


def load_entry_point():
    """deploy/classroom50/autograder.py as a module, to check how it finds a Python with the pins."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("c50_entry", os.path.join(ROOT, "deploy", "classroom50",
                                                                            "autograder.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("pip_works", [True, False], ids=["runner-python", "venv-fallback"])
def test_entry_point_installs_the_pins_into_the_runner_python_or_else_a_venv(monkeypatch, pip_works):
    entry = load_entry_point()
    calls = []

    def fake_run(cmd, check=False, **kw):
        calls.append(cmd)
        code = 0 if (pip_works or cmd[0] != sys.executable or "pip" not in cmd) else 1
        return subprocess.CompletedProcess(cmd, code)
    monkeypatch.setattr(entry.subprocess, "run", fake_run)
    monkeypatch.delenv("AUTOGRADER_PYTHON", raising=False)
    python = entry.installed_python()
    requirements = os.path.join(entry.HERE, "requirements.txt")
    assert calls[0][:4] == [sys.executable, "-m", "pip", "install"] and calls[0][-1] == requirements
    if pip_works:
        assert python == sys.executable and len(calls) == 1
    else:
        venv = os.path.join(entry.HERE, ".venv")
        assert calls[1] == [sys.executable, "-m", "venv", venv]
        assert python == os.path.join(venv, "bin", "python") and calls[2][0] == python and calls[2][-1] == requirements
    calls.clear()
    monkeypatch.setenv("AUTOGRADER_PYTHON", "/opt/py/bin/python")
    assert entry.installed_python() == "/opt/py/bin/python" and calls == []       # nothing installed
