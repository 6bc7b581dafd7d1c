"""PrairieLearn external grading, end to end in its /grade layout (a fake root), three submissions.

The files are built with `python -m autograder prairielearn-bundle`; its serverFilesCourse folder
is copied to <root>/serverFilesCourse/ and the submission to <root>/student/, as PrairieLearn
assembles a grading job (docs/externalGrading.md, "The Grading Process"). The entrypoint named in
the bundle's info.json snippet is then run with /grade replaced by the fake root (PL_GRADE_ROOT).
results.json is checked against the "Grading results" section of that page by ``check_results``.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from autograder import rubric
from autograder.grading import engine
from autograder.platforms import prairielearn
from autograder.sandbox import runner as sandbox
from conftest import CORPUS, ROOT

VALID = os.path.join(CORPUS, "valid", "einsum.py")
WRONG = os.path.join(CORPUS, "wrong", "scale_0_1.py")                       # expect: init.small_scale
HOSTILE = os.path.join(CORPUS, "hostile", "forge_platform_results.py")     # expect: init.small_scale
MAX_BYTES = 2**20                      # "this file should be limited to 1 MB"
TIMEOUT_LIMIT = 600                    # externalGradingOptions.timeout may not exceed 600 s


def check_results(doc):
    """PrairieLearn's grading results: gradable, score in [0, 1], message, tests with their fields."""
    def number(x):
        return isinstance(x, (int, float)) and not isinstance(x, bool)
    assert isinstance(doc, dict)
    assert isinstance(doc.get("gradable", True), bool)
    if doc.get("gradable", True):
        assert number(doc["score"]) and 0.0 <= doc["score"] <= 1.0
    assert isinstance(doc["message"], str) and isinstance(doc.get("output", ""), str)
    for test in doc.get("tests", []):
        assert isinstance(test["name"], str) and test["name"]
        assert number(test["points"]) and number(test["max_points"]) and 0 <= test["points"] <= test["max_points"]
        assert isinstance(test["message"], str) and isinstance(test["output"], str)
        assert isinstance(test.get("description", ""), str)
    assert len(json.dumps(doc).encode("utf-8")) < MAX_BYTES


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("pl") / "bundle"
    done = subprocess.run([sys.executable, "-m", "autograder", "prairielearn-bundle", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def options(bundle):
    with open(bundle / "info.json", encoding="utf-8") as f:
        return json.load(f)["externalGradingOptions"]


def job(bundle, tmp_path, submission):
    """A grading job laid out as PrairieLearn lays out /grade."""
    root = tmp_path / "grade"
    shutil.copytree(bundle / "serverFilesCourse", root / "serverFilesCourse")
    (root / "student").mkdir(parents=True)
    shutil.copy(submission, root / "student" / "random_init.py")
    (root / "data").mkdir()
    (root / "data" / "data.json").write_text(json.dumps({"params": {}, "submitted_answers": {}}))
    (root / "tests").mkdir()
    return root


def run_entrypoint(options, root):
    entry = options["entrypoint"]
    path = root / os.path.relpath(entry, "/grade")        # /grade/... -> the fake root
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PL_GRADE_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable)
    os.chmod(path, 0o755)                                 # PrairieLearn does chmod +x on a mounted entrypoint
    return subprocess.run([str(path)], cwd=root, env=env, capture_output=True, text=True, timeout=180)


def test_info_json_snippet_points_at_the_bundled_entrypoint(bundle, options):
    with open(bundle / "info.json", encoding="utf-8") as f:
        assert json.load(f)["gradingMethod"] == "External"
    assert options["enabled"] is True and isinstance(options["image"], str)
    assert options["serverFilesCourse"] == [prairielearn.SERVER_FOLDER + "/"]
    entry = options["entrypoint"]
    assert entry == "/grade/serverFilesCourse/%s/run.sh" % prairielearn.SERVER_FOLDER
    assert (bundle / os.path.relpath(entry, "/grade")).is_file()
    worst = sandbox.LOAD_SECONDS + 3 * sandbox.CALL_SECONDS
    assert worst + 30 <= options["timeout"] <= TIMEOUT_LIMIT     # room for the slowest hostile submission
    server = bundle / "serverFilesCourse" / prairielearn.SERVER_FOLDER / "autograder" / "platforms"
    assert sorted(os.listdir(server)) == ["__init__.py", "prairielearn.py"]
    assert "numpy==" in (bundle / "requirements.txt").read_text()
    assert "COPY requirements.txt" in (bundle / "Dockerfile").read_text()


@pytest.mark.parametrize("submission,lost", [(VALID, set()), (WRONG, {"init.small_scale"}),
                                             (HOSTILE, {"init.small_scale"})], ids=["valid", "wrong", "hostile"])
def test_entrypoint_writes_results_in_the_grade_layout(bundle, options, tmp_path, submission, lost):
    root = job(bundle, tmp_path, submission)
    done = run_entrypoint(options, root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    doc = json.loads((root / "results" / "results.json").read_text())
    check_results(doc)
    assert (root / "results" / "results.json").stat().st_mode & 0o777 == 0o644
    assert "forged" not in doc and "FORGED" not in json.dumps(doc)
    expected = rubric.TOTAL - sum(rubric.BY_ID[i].points for i in lost)
    assert doc["gradable"] is True and doc["score"] == pytest.approx(expected / rubric.TOTAL)
    assert [t["name"] for t in doc["tests"]] == [i.id for i in rubric.ITEMS]
    assert sum(t["points"] for t in doc["tests"]) == expected
    assert {t["name"] for t in doc["tests"] if t["points"] < t["max_points"]} == lost
    for t in doc["tests"]:
        assert t["description"] == rubric.BY_ID[t["name"]].title
        assert (t["message"] == "Passed.") == (t["name"] not in lost)
    if lost:
        failed = next(t for t in doc["tests"] if t["name"] == "init.small_scale")
        assert "Read: Section 2" in failed["message"]     # 10 times too large, not yet saturating
    assert doc["message"].startswith("Score: %d/100" % expected)


def test_a_grader_failure_is_not_gradable_and_says_whose_fault(tmp_path, monkeypatch):
    def broken(path):
        raise RuntimeError("child would not start")
    monkeypatch.setattr(engine, "grade", broken)
    (tmp_path / "student").mkdir()
    shutil.copy(VALID, tmp_path / "student" / "random_init.py")

    class Sink:
        write = staticmethod(lambda s: None)
    assert prairielearn.run(str(tmp_path), stdout=Sink()) == 0
    doc = json.loads((tmp_path / "results" / "results.json").read_text())
    check_results(doc)
    assert doc["gradable"] is False and "score" not in doc
    assert "the grader itself failed" in doc["message"] and "not your submission" in doc["message"]


def test_an_empty_submission_is_not_gradable_and_says_why(bundle, options, tmp_path):
    """PrairieLearn's gradable: false ("this input cannot be graded, charge no attempt") for an empty upload."""
    root = job(bundle, tmp_path, VALID)
    os.unlink(root / "student" / "random_init.py")
    done = run_entrypoint(options, root)
    assert done.returncode == 0, done.stderr
    doc = json.loads((root / "results" / "results.json").read_text())
    check_results(doc)
    assert doc["gradable"] is False and doc["tests"] == [] and "score" not in doc
    assert doc["message"].startswith("Not graded: no .py or .ipynb file in ")
    assert "This attempt costs nothing" in doc["message"]
