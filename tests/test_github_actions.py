"""The GitHub Actions workflow shipped to students, checked by running its own steps.

The YAML is parsed and its structure checked (on push, one job, the steps in order,
and no GitHub Classroom reporter: GitHub Classroom was discontinued on 2026-08-28). Then the `run:` scripts of the
install and grade steps are taken out of the YAML and run with bash the way a
runner would (`bash -e`), in a copy of the student repository, with
GITHUB_STEP_SUMMARY and GITHUB_OUTPUT pointing at files in a temporary folder.
The install step runs against a stand-in `python` that records what pip was asked
to install, so nothing is downloaded.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from autograder import rubric
from autograder.platforms import github as ci
from conftest import CORPUS, ROOT, need

yaml = need("yaml", "dev")

WORKFLOW = os.path.join(ROOT, "assignment", ".github", "workflows", "grade.yml")
VALID = os.path.join(CORPUS, "valid", "np_dot.py")
WRONG = os.path.join(CORPUS, "wrong", "scale_0_1.py")     # expect: init.small_scale


@pytest.fixture(scope="module")
def workflow():
    with open(WORKFLOW, encoding="utf-8") as f:
        return yaml.safe_load(f)


def steps_of(workflow):
    (job,) = workflow["jobs"].values()
    return job["steps"]


def step(workflow, predicate):
    found = [s for s in steps_of(workflow) if predicate(s)]
    assert len(found) == 1, found
    return found[0]


def test_workflow_runs_on_push_with_the_steps_in_order(workflow):
    assert "on" in workflow, "quote the key: YAML 1.1 reads a bare on: as true"
    assert "push" in workflow["on"]
    (job,) = workflow["jobs"].values()
    assert job["runs-on"].startswith("ubuntu")
    uses = [s.get("uses", "run: " + s.get("name", "")) for s in job["steps"]]
    assert uses[0].startswith("actions/checkout@")
    assert uses[1].startswith("actions/setup-python@")
    assert uses.index("run: Install the grader") < uses.index("run: Grade")
    assert uses[-1].startswith("actions/upload-artifact@")
    assert not [u for u in uses if u.startswith("classroom-resources/")]    # GitHub Classroom is gone


def test_grade_step_runs_the_ci_command_and_feeds_the_artifact(workflow):
    grade = step(workflow, lambda s: s.get("id") == "grade")
    assert '"$(command -v python)" -I -m autograder ci' in grade["run"] and "--results results.json" in grade["run"]
    assert "sudo" in grade["run"]              # student code gets the private uid on a non-root runner
    upload = step(workflow, lambda s: str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert upload["with"]["path"] == "results.json" and "always()" in upload["if"]


def test_grader_comes_from_a_secret_not_from_the_repository(workflow):
    install = step(workflow, lambda s: s.get("name") == "Install the grader")
    assert "secrets.GRADER_TOKEN" in install["env"]["GRADER_TOKEN"]
    assert "pip install" in install["run"] and "${GRADER_TOKEN}" in install["run"]
    assert not os.path.exists(os.path.join(ROOT, "assignment", "autograder"))   # hidden tests stay out


def _student_repo(tmp_path, submission):
    repo = tmp_path / "repo"
    shutil.copytree(os.path.join(ROOT, "assignment"), repo,
                    ignore=shutil.ignore_patterns("__pycache__", "*.ipynb", ".pytest_cache"))
    shutil.copy(submission, repo / "random_init.py")
    return repo


def _run_step(script, cwd, env, tmp_path):
    """Run a step's `run:` text as GitHub's default shell does: bash -e, in the workspace."""
    path = tmp_path / "step.sh"
    path.write_text(script)
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def _python_shim(tmp_path, body):
    """A `python` first on PATH: the real interpreter, or a recorder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "python"
    shim.write_text("#!/bin/sh\n" + body + "\n")
    shim.chmod(0o755)
    return str(bin_dir)


def _actions_env(tmp_path, bin_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update(PATH=bin_dir + os.pathsep + env.get("PATH", ""), PYTHONPATH=ROOT,
               GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
               GITHUB_OUTPUT=str(tmp_path / "output.txt"), GRADER_REPO="course-org/grader", GRADER_REF="v1")
    return env


def _outputs(path):
    pairs = [line.split("=", 1) for line in path.read_text().splitlines() if line]
    return dict(pairs)


@pytest.mark.parametrize("submission,expected", [(WRONG, 85), (VALID, 100)], ids=["loses-points", "full"])
def test_grade_step_writes_summary_outputs_and_results(workflow, tmp_path, submission, expected):
    grade = step(workflow, lambda s: s.get("id") == "grade")
    repo = _student_repo(tmp_path, submission)
    # The step runs `python -I`, which ignores PYTHONPATH; the stand-in drops -I so that the grader
    # under test (this checkout) is the one imported. tests/test_hostile.py checks -I itself.
    env = _actions_env(tmp_path, _python_shim(tmp_path, '[ "$1" = "-I" ] && shift; exec "%s" "$@"' % sys.executable))
    done = _run_step(grade["run"], repo, env, tmp_path)
    assert done.returncode == (0 if expected == 100 else 1), done.stdout + done.stderr   # contract section 3
    assert "::notice title=Autograder::Score %d/100" % expected in done.stdout

    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("## Autograder: %d / 100" % expected)
    assert summary.count("\u274c") == (expected < 100)
    outputs = _outputs(tmp_path / "output.txt")
    assert outputs == {"score": str(expected), "max-score": str(rubric.TOTAL)}     # no Classroom payload
    results = json.loads((repo / "results.json").read_text())
    assert results["score"] == expected
    assert [t["tags"][0] for t in results["tests"]] == [i.id for i in rubric.ITEMS]
    if expected < 100:
        lost = [t for t in results["tests"] if t["status"] == "failed"]
        assert [t["tags"][0] for t in lost] == ["init.small_scale"]
        assert "Section" in lost[0]["output"] and "init.small_scale" in summary


def test_install_step_uses_the_token_and_fails_clearly_without_it(workflow, tmp_path):
    install = step(workflow, lambda s: s.get("name") == "Install the grader")
    log = tmp_path / "pip-args.txt"
    env = _actions_env(tmp_path, _python_shim(tmp_path, 'echo "$@" >> "%s"' % log))
    env["GRADER_TOKEN"] = "ghp_example"
    done = _run_step(install["run"], tmp_path, env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "git+https://x-access-token:ghp_example@github.com/course-org/grader@v1" in log.read_text()

    env.pop("GRADER_TOKEN")
    log.unlink()
    done = _run_step(install["run"], tmp_path, env, tmp_path)
    assert done.returncode == 2 and not log.exists()
    assert "::error" in done.stdout and "GRADER_TOKEN" in done.stdout


def test_a_grader_failure_is_an_error_annotation_and_exit_2(tmp_path, monkeypatch):
    from autograder.grading import engine

    def broken(path):
        raise RuntimeError("child would not start")
    monkeypatch.setattr(engine, "grade", broken)
    out = []

    class Sink:
        write = out.append
    status = ci.run(VALID, str(tmp_path / "results.json"), str(tmp_path / "summary.md"),
                    str(tmp_path / "output.txt"), stdout=Sink())
    assert status == 2
    assert "::error title=Autograder::The grader itself failed: RuntimeError: child would not start" in "".join(out)
    assert _outputs(tmp_path / "output.txt") == {"score": "0", "max-score": "100"}


def test_ci_command_refuses_a_missing_path(tmp_path):
    done = subprocess.run([sys.executable, "-m", "autograder", "ci", str(tmp_path / "nope")], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "no file or folder" in done.stderr


def test_a_grader_error_cannot_start_another_workflow_command():
    from autograder.platforms.github import _command_text
    text = _command_text("boom\n::notice title=Autograder::Score 100/100\r%0A")
    assert "\n" not in text and "\r" not in text
    assert text.startswith("boom%0A::notice") and "%250A" in text
