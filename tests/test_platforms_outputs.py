"""What people open is inert, and a planted output name never makes an adapter exit 2 (issue 23).

Every adapter grades with a stand-in ``engine.grade`` that returns a Result full of hostile text (markup,
a Markdown image and link, backticks, control characters), so these tests run in milliseconds and test
only the adapters' outputs. Then each output name is planted with a file, a link or a folder, as a
student who commits or creates them can, and the adapter must still write its real output, exit 0 or 1.
"""

import csv
import io
import json
import os
import re

import pytest

from autograder import rubric
from autograder.grading import engine, report
from autograder.grading.engine import Result, Verdict
from autograder.platforms import batch_files, classroom50, coursera, github, gradescope, prairielearn

HOSTILE = ("<img src=x onerror=alert(1)><script>alert(2)</script> ![pixel](https://evil.example/p.png) "
           "[click](https://evil.example) ``` ```` \x1b[2J\r FAKE PASS")
ENV = {"CLASSROOM": "c", "ASSIGNMENT": "a", "SUBMISSION_TAG": "t", "COMMIT_URL": "https://x/c", "RELEASE_URL": "r"}


class Sink:
    def __init__(self):
        self.text = []

    def write(self, s):
        self.text.append(s)


def hostile_result(path="submission"):
    verdicts = [Verdict(i.id, 0 if k == 0 else i.points, i.points, i.title, HOSTILE if k == 0 else "",
                        case={"m": 3} if k == 0 else None) for k, i in enumerate(rubric.ITEMS)]
    return Result(path, verdicts, notes=["file " + HOSTILE])


@pytest.fixture
def hostile(monkeypatch):
    monkeypatch.setattr(engine, "grade", hostile_result)


# -- Markdown ---------------------------------------------------------------------------------------
def _outside_code(markdown):
    """The Markdown with every fenced block and code span removed: what a renderer would interpret."""
    out, fence = [], None
    for line in markdown.splitlines():
        opened = re.match(r"(`{3,})", line)
        if fence is None and opened:
            fence = opened.group(1)
            continue
        if fence is not None:
            if line.strip() == fence:
                fence = None
            continue
        out.append(re.sub(r"(`+) .*? \1", "", line))
    assert fence is None, "a fence was left open"
    return "\n".join(out)


def test_markdown_puts_student_text_in_code_that_cannot_be_closed():
    md = report.markdown(hostile_result())
    outside = _outside_code(md)
    for live in ("<img", "<script", "![pixel]", "[click]", "evil.example", "FAKE PASS"):
        assert live in md and live not in outside, live
    assert "\x1b" not in md and "\r" not in md
    assert "`````text" in md                    # longer than the longest backtick run (4) in the text


def test_markdown_code_span_and_fence_grow_with_the_text():
    assert report.code_span("a`b") == "`` a`b ``"
    assert report.fenced("x\n````\ny").splitlines()[0] == "`````text"
    assert _outside_code("- " + report.code_span("``` [a](b) ```")) == "- "


def test_github_step_summary_is_inert(tmp_path, hostile):
    summary = tmp_path / "summary.md"
    assert github.run("x", summary_path=str(summary), stdout=Sink()) == 1
    assert "evil.example" not in _outside_code(summary.read_text())


def test_classroom50_release_body_is_inert(tmp_path, hostile):
    assert classroom50.run(str(tmp_path), env=ENV, stdout=Sink()) == 0
    body = (tmp_path / classroom50.BODY_FILE).read_text()
    assert "evil.example" in body and "evil.example" not in _outside_code(body)


# -- Coursera's feedback field ---------------------------------------------------------------------
def test_coursera_feedback_is_escaped_html(tmp_path, hostile):
    assert coursera.run(str(tmp_path), env={"partId": "p"}, stderr=Sink()) == 0
    doc = json.loads((tmp_path / coursera.FEEDBACK).read_text())
    assert doc["feedbackType"] == "HTML"
    assert "<img" not in doc["feedback"] and "<script" not in doc["feedback"]
    assert "&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;" in doc["feedback"]


def test_coursera_cut_never_leaves_half_an_entity():
    verdicts = [Verdict(i.id, 0, i.points, i.title, "<" * 30000) for i in rubric.ITEMS]
    text = coursera.feedback_document(Result("x", verdicts))["feedback"]
    assert len(text.encode("utf-8")) <= coursera.FEEDBACK_LIMIT
    assert re.search(r"&[a-z#0-9]*\n\[report cut", text) is None and text.endswith("[report cut at 64 KB]\n")


# -- the CSV ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("student, shown", [("=1+2", "'=1+2"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
                                            ("\tx", "\\x09x"), ("\rx", "\\x0dx"), ("a\x1b[2Jb", "a\\x1b[2Jb"),
                                            (os.fsdecode(b"r\xe9my"), "r\\xe9my"), ("alice", "alice")])
def test_csv_cells_are_inert(student, shown):
    text = batch_files.csv_text([{"student": student, "status": "error", "detail": "=HYPERLINK(\"x\")\x1b"}])
    row = list(csv.reader(io.StringIO(text)))[1]
    assert row[0] == shown
    assert row[-1] == "'=HYPERLINK(\"x\")\\x1b" and row[-2] == "error"


# -- planted outputs --------------------------------------------------------------------------------
def _plant(path, kind, victim):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if kind == "file":
        with open(path, "w") as f:
            f.write('{"score": 100}')
    elif kind == "link":
        os.symlink(victim, path)
    elif kind == "folder":
        os.makedirs(os.path.join(path, "inside"))
        with open(os.path.join(path, "inside", "x"), "w") as f:
            f.write("x")
    else:
        os.mkfifo(path)


def _adapters(tmp):
    """(run it, [output paths]) per adapter, for a root TMP laid out as the platform lays it out."""
    return {
        "gradescope": (lambda: gradescope.run_in_gradescope(tmp, stdout=Sink()),
                       [os.path.join(tmp, "results", "results.json")]),
        "classroom50": (lambda: classroom50.run(tmp, env=ENV, stdout=Sink()),
                        [os.path.join(tmp, classroom50.RESULT_FILE), os.path.join(tmp, classroom50.BODY_FILE)]),
        "coursera": (lambda: coursera.run(tmp, env={"partId": "p"}, stderr=Sink()),
                     [os.path.join(tmp, coursera.FEEDBACK), os.path.join(tmp, coursera.HTML_FEEDBACK)]),
        "prairielearn": (lambda: prairielearn.run(tmp, stdout=Sink()), [os.path.join(tmp, prairielearn.RESULTS)]),
        "github": (lambda: github.run(tmp, os.path.join(tmp, "results.json"), os.path.join(tmp, "summary.md"),
                                      os.path.join(tmp, "output.txt"), stdout=Sink()),
                   [os.path.join(tmp, n) for n in ("results.json", "summary.md", "output.txt")]),
    }


@pytest.mark.parametrize("kind", ["file", "link", "folder", "fifo"])
@pytest.mark.parametrize("adapter", ["gradescope", "classroom50", "coursera", "prairielearn", "github"])
def test_a_planted_output_never_stops_an_adapter(tmp_path, hostile, adapter, kind):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    root = str(tmp_path / "root")
    os.makedirs(root)
    run, outputs = _adapters(root)[adapter]
    for path in outputs:
        _plant(path, kind, str(victim))
    assert run() in (0, 1)
    assert victim.read_text() == "keep"
    appended = adapter == "github" and kind == "file"      # GitHub's summary and outputs are appended to
    for path in outputs:
        assert os.path.isfile(path) and not os.path.islink(path) and os.lstat(path).st_size > 0, path
        with open(path, encoding="utf-8") as f:
            text = f.read()
        assert ('{"score": 100}' in text) == (appended and not path.endswith("results.json")), path
