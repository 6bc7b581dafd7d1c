"""The Gradescope autograder zip, unpacked and run as Gradescope would run it.

The zip is built with `python -m autograder gradescope-bundle`, unpacked into a
temporary folder laid out like /autograder (source/, submission/, results/,
run_autograder copied to the top), and run_autograder is executed with
AUTOGRADER_ROOT pointing there. It must install nothing: setup.sh does the installs
and is only syntax-checked here (bash -n). results.json is checked against
Gradescope's format and visibility rules.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from autograder import rubric, verdicts
from autograder.grading import report
from autograder.platforms import gradescope
from autograder.grading.engine import Result, Verdict
from conftest import CORPUS, ROOT

TEST_KEYS = {"name", "score", "max_score", "status", "output", "visibility", "tags", "output_format"}
OPTIONAL_KEYS = {"extra_data"}      # Gradescope keeps a test's extra_data unshown; verdicts put the structured failure there


def build(tmp_path, *options):
    out = tmp_path / "autograder.zip"
    done = subprocess.run([sys.executable, "-m", "autograder", "gradescope-bundle", str(out), *options],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    return out, done


def unpack(zip_path, root):
    """Lay the zip out as Gradescope's image build does."""
    os.makedirs(root / "submission")
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
        for info in zf.infolist():                     # zipfile drops the mode bits: restore them
            mode = info.external_attr >> 16
            if mode:
                os.chmod(root / "source" / info.filename, mode & 0o777)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")


def run_autograder(root):
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable)
    env.pop("PYTHONPATH", None)          # the grader must come from source/, not from this checkout
    return subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True,
                          timeout=120)


def check_format(data):
    """Gradescope's results.json: numbers where numbers go, known visibility values, one tag per test."""
    assert isinstance(data["score"], (int, float)) and isinstance(data["execution_time"], (int, float))
    for test in data["tests"]:
        # A failed test also carries its structured verdict (Gradescope allows extra_data): kind, case, values.
        keys = TEST_KEYS | (OPTIONAL_KEYS if test["status"] == "failed" else set())
        assert set(test) == keys, set(test) ^ keys
        assert test["status"] == "passed" or test["extra_data"]["kind"] in verdicts.KINDS
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
        assert len(test["tags"]) == 1 and test["tags"][0] in rubric.BY_ID
        assert test["name"].startswith(test["tags"][0]) and test["output"]
        if test["visibility"] == "hidden":              # Gradescope: hidden tests carry no points
            assert test["max_score"] == 0
    assert data["score"] == sum(t["score"] for t in data["tests"])


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bundle")
    out, done = build(tmp, "--hold-back", "backward.gradients", "--hold-back", "init.small_scale=after_due_date")
    assert done.returncode == 0, done.stderr
    return out


def test_zip_holds_the_scripts_at_its_root_and_the_grader_byte_for_byte(bundle):
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        assert {"setup.sh", "run_autograder", "requirements.txt", "gradescope.json"} <= names
        assert zf.getinfo("run_autograder").external_attr >> 16 & 0o111      # executable
        engine = [os.path.relpath(os.path.join(d, n), os.path.join(ROOT, "autograder"))
                  for sub in ("grading", "sandbox") for d, _, files in os.walk(os.path.join(ROOT, "autograder", sub))
                  for n in files if n.endswith((".py", ".json"))]
        for name in engine + ["rubric.py", "__main__.py", "errors.py", "platforms/gradescope.py"]:
            with open(os.path.join(ROOT, "autograder", name), "rb") as f:
                assert zf.read("autograder/" + name) == f.read(), name
        # The zip follows the folders: no other platform's code goes to Gradescope.
        assert not any(n.startswith("autograder/platforms/nbgrader") or n.endswith(
            ("batch.py", "github.py", "notebook.py")) for n in names), sorted(names)
        pins = zf.read("requirements.txt").decode().split()
        assert any(p.startswith("numpy==") for p in pins) and any(p.startswith("hypothesis==") for p in pins)
        run_script = zf.read("run_autograder").decode()
    assert "pip" not in run_script and "apt" not in run_script     # installs belong to setup.sh only


def test_same_source_builds_the_same_bytes(bundle, tmp_path):
    again, done = build(tmp_path, "--hold-back", "backward.gradients",
                        "--hold-back", "init.small_scale=after_due_date")
    assert done.returncode == 0 and again.read_bytes() == bundle.read_bytes()


def test_setup_sh_is_valid_bash_that_installs_the_pinned_requirements(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as zf:
        zf.extract("setup.sh", tmp_path)
        setup = zf.read("setup.sh").decode()
    assert subprocess.run(["bash", "-n", str(tmp_path / "setup.sh")]).returncode == 0
    assert "requirements.txt" in setup and "set -e" in setup


@pytest.mark.parametrize("name,expected", [("wrong/scale_0_1.py", 85), ("valid/einsum.py", 100)])
def test_run_autograder_grades_a_submission_like_gradescope(bundle, tmp_path, name, expected):
    root = tmp_path / "autograder"
    unpack(bundle, root)
    shutil.copy(os.path.join(CORPUS, name), root / "submission" / "random_init.py")
    done = run_autograder(root)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    check_format(data)
    assert data["score"] == expected
    shown = {t["tags"][0]: t["visibility"] for t in data["tests"]}
    assert shown["backward.gradients"] == "after_published"
    assert shown["init.small_scale"] == "after_due_date"
    assert shown["init.shapes"] == "visible"
    failed = [t["tags"][0] for t in data["tests"] if t["status"] == "failed"]
    assert failed == ([] if expected == 100 else ["init.small_scale"])


def test_run_autograder_still_writes_results_when_there_is_nothing_to_grade(bundle, tmp_path):
    root = tmp_path / "autograder"
    unpack(bundle, root)
    (root / "submission" / "notes.txt").write_text("forgot to attach my code")
    done = run_autograder(root)
    assert done.returncode == 0, done.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    check_format(data)
    assert data["score"] == 0 and all(t["status"] == "failed" for t in data["tests"])


def test_hidden_is_refused_for_items_that_carry_points(tmp_path):
    out, done = build(tmp_path, "--hold-back", "forward.values=hidden")
    assert done.returncode == 2 and not out.exists()
    assert "after_published" in done.stderr          # the message names the fix
    with pytest.raises(gradescope.BundleError, match="not a rubric id"):
        gradescope.visibility_config(hold_back=["forward.value"])


def test_results_json_visibility_keyword_keeps_its_default():
    verdicts = [Verdict(i.id, 0, i.points, i.title, "wrong", {"m": 1}, i.section) for i in rubric.ITEMS]
    result = Result("x.py", verdicts)
    assert {t["visibility"] for t in report.results_json(result)["tests"]} == {"visible"}
    one = report.results_json(result, visibility="after_published")
    assert {t["visibility"] for t in one["tests"]} == {"after_published"}
    some = report.results_json(result, visibility={"forward.values": "after_due_date"})
    assert [t["visibility"] for t in some["tests"]].count("after_due_date") == 1
    with pytest.raises(ValueError, match="not one of"):
        report.results_json(result, visibility="secret")
