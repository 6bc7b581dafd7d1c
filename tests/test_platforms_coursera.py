"""Coursera custom grader, end to end on a fake /shared layout, three submissions; Docker is not run.

The zip is built with `python -m autograder coursera-bundle`, unpacked as the Dockerfile's COPY
lines would place it (/grader), and the image's ENTRYPOINT script grade.sh is run with /shared
replaced by a temporary folder (COURSERA_SHARED) holding submission/random_init.py, and partId set,
as Coursera sets it. When the tests run as root, grade.sh runs as the user "nobody", because
Coursera runs grader images as a non-root user.

feedback.json is checked as coursera_autograder's `grade local` checks it (fractionalScore a
number, not a boolean, in [0, 1]; feedback present), plus the v2 rich-feedback rule of
coursera/programming-assignments-demo (feedbackType HTML or TXT, with the matching file in /shared).
"""

import html.parser
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

import pytest

from autograder import rubric
from autograder.grading import engine
from autograder.platforms import coursera
from conftest import CORPUS, ROOT

VALID = os.path.join(CORPUS, "valid", "loops_over_examples.py")
WRONG = os.path.join(CORPUS, "wrong", "scale_0_1.py")                       # expect: init.small_scale
HOSTILE = os.path.join(CORPUS, "hostile", "forge_platform_results.py")     # expect: init.small_scale
RICH = {"HTML": "htmlFeedback.html", "TXT": "txtFeedback.txt"}


def check_feedback(doc, shared):
    """feedback.json as Coursera's tools check it."""
    score = doc["fractionalScore"]
    assert isinstance(score, (int, float)) and not isinstance(score, bool) and 0 <= score <= 1
    assert isinstance(doc["feedback"], str) and len(doc["feedback"].encode("utf-8")) <= coursera.FEEDBACK_LIMIT
    if "feedbackType" in doc:
        assert doc["feedbackType"] in RICH
        assert os.path.isfile(os.path.join(shared, RICH[doc["feedbackType"]]))
    assert set(doc) <= {"fractionalScore", "feedback", "feedbackType"}


class Page(html.parser.HTMLParser):
    """Collects the text and tags of a page, to read it as a learner would."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """The zip, unpacked where the Dockerfile puts it, readable by any user as the Dockerfile makes it."""
    tmp = tmp_path_factory.mktemp("coursera")
    out = tmp / "grader.zip"
    done = subprocess.run([sys.executable, "-m", "autograder", "coursera-bundle", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    grader = tempfile.mkdtemp(prefix="coursera-grader-")          # outside pytest's private tmp folder
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        zf.extractall(grader)
        for info in zf.infolist():
            os.chmod(os.path.join(grader, info.filename), (info.external_attr >> 16) & 0o777 or 0o644)
    for folder, dirs, _ in os.walk(grader):
        os.chmod(folder, 0o755)
    yield grader, names
    shutil.rmtree(grader, ignore_errors=True)


def shared_folder(submission):
    shared = tempfile.mkdtemp(prefix="coursera-shared-")
    os.chmod(shared, 0o755)
    os.mkdir(os.path.join(shared, "submission"))
    shutil.copy(submission, os.path.join(shared, "submission", "random_init.py"))
    os.chmod(os.path.join(shared, "submission"), 0o555)            # read-only, as on Coursera
    return shared


def remove(shared):
    os.chmod(os.path.join(shared, "submission"), 0o755)            # made read-only above
    shutil.rmtree(shared, ignore_errors=True)


def as_learner_user():
    """Coursera runs images as a non-root user: as root, drop to 'nobody' for the run.

    Only if 'nobody' can run this interpreter with numpy (a venv under /root, say, is closed to it);
    else the run stays as is, and the grader's root mode is what gets tested.
    """
    if os.geteuid() != 0:
        return None, None
    nobody = pwd.getpwnam("nobody")

    def drop():
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)
    try:
        probe = subprocess.run([sys.executable, "-c", "import numpy, hypothesis"], preexec_fn=drop, cwd="/",
                               capture_output=True, timeout=60).returncode
    except OSError:
        probe = -1
    return (nobody, drop) if probe == 0 else (None, None)


def run_grader(grader, shared, part="p4rT1"):
    nobody, drop = as_learner_user()
    if nobody:
        os.chown(shared, nobody.pw_uid, nobody.pw_gid)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "COURSERA_SHARED": shared,
           "AUTOGRADER_PYTHON": sys.executable}
    if part:
        env["partId"] = part
    return subprocess.run([os.path.join(grader, "grade.sh")], cwd="/", env=env, preexec_fn=drop,
                          capture_output=True, text=True, timeout=180)


def test_zip_has_the_dockerfile_at_its_root_and_everything_it_copies(image):
    grader, names = image
    assert {"Dockerfile", "grade.sh", "requirements.txt", "autograder/grading/checks.py",
            "autograder/platforms/coursera.py"} <= set(names)
    assert not [n for n in names if n.startswith("autograder/platforms/") and
                os.path.basename(n) not in ("__init__.py", "coursera.py")]
    with open(os.path.join(grader, "Dockerfile"), encoding="utf-8") as f:
        lines = [line.split() for line in f if line.strip() and not line.startswith("#")]
    for words in lines:
        if words[0] == "COPY":
            assert os.path.exists(os.path.join(grader, words[1])), words
    assert not [w for w in lines if w[0] == "ENV"]        # Coursera clears variables set in a Dockerfile
    assert lines[-1] == ["ENTRYPOINT", '["/grader/grade.sh"]']
    done = subprocess.run(["sh", "-n", os.path.join(grader, "grade.sh")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("submission,lost", [(VALID, set()), (WRONG, {"init.small_scale"}),
                                             (HOSTILE, {"init.small_scale"})], ids=["valid", "wrong", "hostile"])
def test_grade_sh_writes_feedback_and_html_on_the_shared_layout(image, submission, lost):
    grader, _ = image
    shared = shared_folder(submission)
    try:
        done = run_grader(grader, shared)
        assert done.returncode == 0, done.stderr
        assert done.stdout == ""                              # learners never see stdout; nothing goes there
        assert "partId=p4rT1" in done.stderr and "Traceback" not in done.stderr
        with open(os.path.join(shared, "feedback.json"), encoding="utf-8") as f:
            doc = json.load(f)
        check_feedback(doc, shared)
        for name in ("feedback.json", "htmlFeedback.html"):          # readable by whoever collects them
            assert os.stat(os.path.join(shared, name)).st_mode & 0o777 == 0o644
        expected = rubric.TOTAL - sum(rubric.BY_ID[i].points for i in lost)
        assert doc["fractionalScore"] == pytest.approx(expected / rubric.TOTAL)
        assert doc["feedbackType"] == "HTML" and "Score: %d/100" % expected in doc["feedback"]
        assert "FORGED" not in doc["feedback"]
        with open(os.path.join(shared, "htmlFeedback.html"), encoding="utf-8") as f:
            page_source = f.read()
        page = Page()
        page.feed(page_source)
        text = " ".join(page.text)
        assert "FORGED" not in text and "script" not in page.tags
        for item in rubric.ITEMS:                             # every rubric item, with its message
            assert item.id in text
        lines = doc["feedback"].splitlines()                  # the text report (escaped HTML): FAIL, then the problem
        problems = [html.unescape(lines[i + 1].strip()) for i, line in enumerate(lines) if line.startswith("FAIL")]
        assert len(problems) == len(lost)
        flat = " ".join("".join(page.text).split())
        for problem in problems:
            assert " ".join(problem.split()) in flat
    finally:
        remove(shared)


def test_missing_part_id_is_noted_and_grading_goes_on(image):
    grader, _ = image
    shared = shared_folder(VALID)
    try:
        done = run_grader(grader, shared, part=None)
        assert done.returncode == 0, done.stderr
        assert "partId=(not set; grading anyway)" in done.stderr
        with open(os.path.join(shared, "feedback.json"), encoding="utf-8") as f:
            assert json.load(f)["fractionalScore"] == 1.0
    finally:
        remove(shared)


def test_a_grader_failure_still_writes_feedback_that_says_so(tmp_path, monkeypatch):
    def broken(path):
        raise RuntimeError("child would not start")
    monkeypatch.setattr(engine, "grade", broken)
    (tmp_path / "submission").mkdir()
    shutil.copy(VALID, tmp_path / "submission" / "random_init.py")

    err = []

    class Sink:
        write = err.append
    assert coursera.run(str(tmp_path), env={"partId": "x"}, stderr=Sink()) == 0
    doc = json.loads((tmp_path / "feedback.json").read_text())
    check_feedback(doc, str(tmp_path))
    assert doc["fractionalScore"] == 0 and "the grader itself failed" in doc["feedback"]
    assert "Traceback" not in doc["feedback"] and "Traceback" in "".join(err)    # staff see it, learners don't


def test_feedback_text_is_cut_to_coursera_limit():
    verdicts = [engine.Verdict(i.id, 0, i.points, i.title, "x" * 20000, section="S") for i in rubric.ITEMS]
    doc = coursera.feedback_document(engine.Result("x.py", verdicts))
    assert len(doc["feedback"].encode("utf-8")) <= coursera.FEEDBACK_LIMIT
    assert doc["feedback"].endswith("[report cut at 64 KB]\n")


def test_leftover_processes_are_killed_only_as_a_containers_first_non_root_process(monkeypatch):
    sent = []
    monkeypatch.setattr(coursera.os, "kill", lambda pid, sig: sent.append((pid, sig)))
    monkeypatch.setattr(coursera.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(coursera.os, "getpid", lambda: 4242)
    coursera.stop_leftovers()
    assert sent == []                                      # outside a container: other processes are not ours
    monkeypatch.setattr(coursera.os, "getpid", lambda: 1)
    coursera.stop_leftovers()
    assert sent == [(-1, coursera.signal.SIGKILL)]
    monkeypatch.setattr(coursera.os, "geteuid", lambda: 0)
    coursera.stop_leftovers()
    assert len(sent) == 1                                  # as root the sandbox's private user covers it


def test_student_text_reaches_the_page_escaped(tmp_path, monkeypatch):
    evil = "your code raised ValueError: <script>alert(1)</script> & <b>100/100</b>"
    verdicts = [engine.Verdict(i.id, 0, i.points, i.title, evil, section=i.section) for i in rubric.ITEMS]
    monkeypatch.setattr(engine, "grade", lambda path: engine.Result(path, verdicts))
    (tmp_path / "submission").mkdir()

    class Sink:
        write = staticmethod(lambda s: None)
    assert coursera.run(str(tmp_path), env={"partId": "x"}, stderr=Sink()) == 0
    source = (tmp_path / "htmlFeedback.html").read_text()
    page = Page()
    page.feed(source)
    assert "script" not in page.tags and "b" not in page.tags
    assert "<script>alert(1)</script>" in "".join(page.text)          # shown as text, never run
    check_feedback(json.loads((tmp_path / "feedback.json").read_text()), str(tmp_path))


# A submission that leaves a process behind which keeps writing a full score into feedback.json for
# a few seconds, longer than grading takes. The scratch folder is its working directory, so it finds
# /shared through the environment of the processes above it (readable: they run as the same user).
LATE_FORGER = r"""
import json, os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        shared = None
        for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
            try:
                for item in open("/proc/%s/environ" % pid, "rb").read().split(b"\0"):
                    if item.startswith(b"COURSERA_SHARED="):
                        shared = item.split(b"=", 1)[1].decode()
            except OSError:
                pass
        end = time.time() + 6
        while shared and time.time() < end:
            try:
                with open(os.path.join(shared, "feedback.json"), "w") as f:
                    f.write(json.dumps({"fractionalScore": 1.0, "feedback": "LATE FORGED"}))
            except OSError:
                pass
            time.sleep(0.002)
    os._exit(0)
"""


def test_as_the_containers_first_process_the_grader_stops_what_the_submission_left_running(image, tmp_path):
    nobody, _ = as_learner_user()
    if nobody is None or not shutil.which("unshare") or not shutil.which("setpriv"):
        pytest.skip("needs root, unshare, setpriv and a Python the user 'nobody' can run")
    grader, _ = image
    submission = tmp_path / "random_init.py"
    with open(WRONG, encoding="utf-8") as f:
        submission.write_text(LATE_FORGER + f.read())
    as_nobody = ["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid, "--clear-groups"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AUTOGRADER_PYTHON": sys.executable, "partId": "x"}
    outcomes = {}
    for where, prefix in (("first process", ["unshare", "--pid", "--fork", "--mount-proc"]), ("not first", [])):
        shared = shared_folder(str(submission))
        try:
            os.chown(shared, nobody.pw_uid, nobody.pw_gid)
            done = subprocess.run(prefix + as_nobody + [os.path.join(grader, "grade.sh")], cwd="/",
                                  env=dict(env, COURSERA_SHARED=shared), capture_output=True, text=True, timeout=180)
            assert done.returncode == 0, done.stderr
            time.sleep(7)                                     # the forger's lifetime, if it still lives
            with open(os.path.join(shared, "feedback.json"), encoding="utf-8") as f:
                outcomes[where] = json.load(f)["feedback"]
        finally:
            remove(shared)
    assert outcomes["first process"].startswith("Grading") and "Score: 85/100" in outcomes["first process"]
    # Outside a container (not the first process) the grader may not kill its user's processes, and
    # the forger wins: that is why this runs only as Coursera runs it. See docs/coursera.md.
    assert outcomes["not first"] == "LATE FORGED"
