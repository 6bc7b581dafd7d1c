"""Both HTML pages in a real browser: headless chromium renders them, we read the DOM it built.

A class of more than 300 students is made from the corpus (each valid and wrong submission copied
under five student names), plus a submission whose exception texts and student name carry markup,
one that hits the time limit and one student with two submissions. ``grade-all`` grades it through
the command line; its CSV, the results.json files and the corpus' own verdicts are the expected
numbers the report's DOM must show.

The browser runs with a fresh profile, no network features, no sandbox (we run as root in CI) and
``--enable-logging=stderr``: every console message (a script error, a blocked load, a Content-
Security-Policy violation) is a ``:CONSOLE`` line on stderr, and there must be none. Our pages have
no script, so any console message means something is wrong.

Screenshots are saved to $AUTOGRADER_SCREENSHOTS if set (else a pytest temporary folder) for a
person to look at. Without chromium the tests skip, unless $AUTOGRADER_REQUIRE_BROWSER is set
(.ci/run sets it), where a missing browser is a failure.
"""

import csv
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser

import pytest

from autograder import rubric
from autograder.grading import hints
from conftest import CORPUS, ROOT, graded

COPIES = 5
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]
SECTIONS = ("attention", "distribution", "items", "misconceptions", "compare", "students")
XSS_NAME = "o'brien<img src=x onerror=alert(1)>"
XSS_SOURCE = '''import numpy as np

def initialize_parameters(n_x, n_h, n_y):
    raise ValueError("<script>document.title='pwned'</script>")

def forward(X, parameters):
    raise RuntimeError('"><img src=x onerror="document.title=1">')

def backward(parameters, cache, X, Y):
    return {"<b>dW1</b>": np.zeros((1, 1))}
'''


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("AUTOGRADER_REQUIRE_BROWSER"):
        pytest.fail("no chromium on PATH; .ci/run installs Debian's chromium (apt-get install -y chromium)")
    pytest.skip("no chromium on PATH (apt-get install chromium)")


def browse(url, *extra):
    """Run headless chromium on ``url``; (stdout, [console lines])."""
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        proc = subprocess.run([chromium()] + FLAGS + ["--user-data-dir=" + profile] + list(extra) + [url],
                              capture_output=True, text=True, timeout=180)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]


def dom(path):
    """The DOM chromium built from the file at ``path`` (after any script would have run)."""
    out, console = browse("file://" + os.path.abspath(path), "--dump-dom")
    assert console == [], console
    assert "<main>" in out, out[:500]
    return out


def screenshot(path, png, width, height):
    _, console = browse("file://" + os.path.abspath(path), "--screenshot=" + png,
                        "--window-size=%d,%d" % (width, height))
    assert console == [], console
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    return png


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text, of a DOM dump."""

    def __init__(self, markup):
        super().__init__()
        self.elements, self.text = [], []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def having(self, attr):
        return [a for _, a in self.elements if attr in a]


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = os.environ.get("AUTOGRADER_SCREENSHOTS") or str(tmp_path_factory.mktemp("screenshots"))
    os.makedirs(folder, exist_ok=True)
    return folder


def run(*args):
    return subprocess.run([sys.executable, "-m", "autograder"] + list(args), cwd=ROOT, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=ROOT), timeout=1800)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    chromium()
    tmp = tmp_path_factory.mktemp("class")
    subs = tmp / "submitted"
    subs.mkdir()
    sources = {}
    for path in sorted(glob.glob(os.path.join(CORPUS, "valid", "*.py")) +
                       glob.glob(os.path.join(CORPUS, "wrong", "*.py"))):
        for k in range(COPIES):
            student = "%s_%d" % (os.path.splitext(os.path.basename(path))[0], k)
            shutil.copy(path, subs / (student + ".py"))
            sources[student] = path
    (subs / (XSS_NAME + ".py")).write_text(XSS_SOURCE, encoding="utf-8")
    shutil.copy(os.path.join(CORPUS, "hostile", "hang_in_forward.py"), subs / "slowpoke.py")
    (subs / "two_files.py").write_text("x = 1\n")
    (subs / "two_files.ipynb").write_text("{}")
    csv_path, feedback = str(tmp / "grades.csv"), str(tmp / "feedback")
    first = run("grade-all", str(subs), "--csv", csv_path, "--results-dir", feedback, "--no-plot",
                "-j", "2", "--html", str(tmp / "first.html"))
    assert first.returncode == 1, first.stderr[-2000:]       # 1: the CSV was written, one row is 'missing'
    rows = read_csv(csv_path)
    # The earlier grading to compare with: the same CSV, where every copy 0 and 1 had lost backward.gradients.
    old = [dict(r) for r in rows]
    for r in old:
        if r["status"] == "graded" and r["student"].endswith(("_0", "_1")) and r["backward.gradients"] == "20":
            r["backward.gradients"], r["total"] = "0", str(float(r["total"]) - 20)
    with open(tmp / "old.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(old)
    # Again, with --compare: nothing changed, so every row comes from the state file (hints included).
    second = run("grade-all", str(subs), "--csv", csv_path, "--no-plot", "--html", str(tmp / "report.html"),
                 "--compare", str(tmp / "old.csv"))
    assert second.returncode == 1 and "unchanged since the last run" in second.stderr, second.stderr[-2000:]
    anon = run("grade-all", str(subs), "--csv", csv_path, "--no-plot", "--html", str(tmp / "anon.html"),
               "--anonymous")
    assert anon.returncode == 1, anon.stderr[-2000:]
    return {"tmp": tmp, "rows": rows, "old": read_csv(tmp / "old.csv"), "sources": sources,
            "feedback": feedback, "report": str(tmp / "report.html"), "anon": str(tmp / "anon.html")}


def hint_counts_from_feedback(folder):
    """{hint id: students}, read back from the 'Likely cause:' lines of each results.json."""
    by_text = {h.text.rstrip("."): h.id for h in hints.HINTS.values()}
    counts = {}
    for path in glob.glob(os.path.join(folder, "*.json")):
        with open(path, encoding="utf-8") as f:
            outputs = [t["output"] for t in json.load(f)["tests"]]
        found = {by_text[line[len("Likely cause: "):].rstrip(".")] for out in outputs
                 for line in out.splitlines() if line.startswith("Likely cause: ")}
        for hint_id in found:
            counts[hint_id] = counts.get(hint_id, 0) + 1
    return counts


def test_class_report_in_the_browser_matches_the_csv_and_the_hint_ids(graded_class, shots):
    rows = graded_class["rows"]
    assert len(rows) >= 300
    page = dom(graded_class["report"])
    e = Elements(page)
    ids = {a["id"] for _, a in e.elements if "id" in a}
    assert set(SECTIONS) <= ids, set(SECTIONS) - ids
    assert not [t for t, _ in e.elements if t in ("script", "img", "b", "iframe")]
    assert page.count("<title>What the class got wrong</title>") == 1

    # Students, and per rubric item the students with full points: exactly the CSV's.
    done = [r for r in rows if r["status"] == "graded"]
    overview = next(a for a in e.having("data-students"))
    assert (int(overview["data-students"]), int(overview["data-graded"])) == (len(rows), len(done))
    shown = {a["data-item"]: a for a in e.having("data-passed")}
    for item in rubric.ITEMS:
        passed = sum(1 for r in done if float(r[item.id]) >= item.points)
        assert (int(shown[item.id]["data-passed"]), int(shown[item.id]["data-graded"])) == (passed, len(done))
    bins = {a["data-bin"]: int(a["data-count"]) for a in e.having("data-bin")}
    for label, count in bins.items():
        lo, hi = (100, 100) if label == "100" else map(int, label.split("-"))
        assert count == sum(1 for r in done if lo <= float(r["total"]) < hi + 1), label
    assert sum(bins.values()) == len(done)

    # Misconceptions: the same students per hint id as the results.json files say, most common first.
    expected = hint_counts_from_feedback(graded_class["feedback"])
    cards = [a for a in e.having("data-hint") if "data-count" in a]
    assert {a["data-hint"]: int(a["data-count"]) for a in cards} == expected
    assert len(expected) >= 5 and sum(expected.values()) >= 30
    counts = [int(a["data-count"]) for a in cards]
    assert counts == sorted(counts, reverse=True)
    # ... and the corpus' own verdicts: every copy of a submission is listed under the hint it gets.
    text = " ".join(e.text)
    for name in ("tanh_deriv_one_minus_a1", "relu_hidden", "m_from_rows"):
        verdict_hints = {v.hint for v in graded(os.path.join(CORPUS, "wrong", name + ".py")).verdicts if v.hint}
        assert verdict_hints, name
        for hint_id in verdict_hints:
            card = page.split('data-hint="%s"' % hint_id)[1].split("</section>")[0]
            for k in range(COPIES):
                assert "%s_%d" % (name, k) in card, (name, hint_id)

    # The students to look at first: the one that hit the time limit and the one with two files.
    attention = page.split('id="attention"')[1].split('id="distribution"')[0]
    assert "slowpoke" in attention and "time limit" in attention
    assert "two_files" in attention and "two submissions" in attention
    # The name with markup is text, never an element.
    assert "o'brien&lt;img src=x onerror=alert(1)&gt;" in page and XSS_NAME in text

    # Compared with the earlier CSV: who improved is who had backward.gradients taken away there.
    old = {r["student"]: r for r in graded_class["old"]}
    improved = sum(1 for r in done if float(r["total"]) > float(old[r["student"]]["total"]))
    both = next(a for a in e.having("data-both"))
    assert int(both["data-improved"]) == improved > 0 and both["data-declined"] == "0"
    assert int(both["data-both"]) == len(done)

    png = screenshot(graded_class["report"], os.path.join(shots, "class_report.png"), 1100, 2600)
    assert os.path.getsize(png) > 20000


def test_anonymous_report_hides_every_name(graded_class):
    page = dom(graded_class["anon"])
    for r in graded_class["rows"]:
        assert r["student"] not in page
    assert "Student 1" in page


def test_student_pages_in_the_browser(tmp_path, shots):
    chromium()
    xss = tmp_path / "xss.py"
    xss.write_text(XSS_SOURCE, encoding="utf-8")
    pages = {}
    for name, source in (("student_xss", str(xss)),
                         ("student_tanh", os.path.join(CORPUS, "wrong", "tanh_deriv_one_minus_a1.py"))):
        out = tmp_path / (name + ".html")
        proc = run("grade", source, "--html", str(out))
        assert proc.returncode == 1, proc.stderr
        pages[name] = str(out)
        page = dom(out)
        e = Elements(page)
        for item in rubric.ITEMS:
            assert any(a.get("id") == "item-" + item.id for _, a in e.elements), item.id
        assert not [t for t, _ in e.elements if t in ("script", "img", "b", "iframe")]
        assert page.count("<title>Feedback: ") == 1 and "pwned" not in page.split("</title>")[0]
        screenshot(out, os.path.join(shots, name + ".png"), 390, 1800)
    xss_page = dom(pages["student_xss"])
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in xss_page
    tanh_text = " ".join(" ".join(Elements(dom(pages["student_tanh"])).text).split())
    assert "Likely cause: " + hints.get("backward_tanh_slope_1_minus_a1").text in tanh_text

    # On a phone (390 CSS px), nothing is wider than the screen: code scrolls inside its own box.
    for name, path in pages.items():
        wrapper = tmp_path / ("phone_" + name + ".html")
        wrapper.write_text(
            '<!DOCTYPE html><html><body style="margin:0"><iframe id="f" src="%s" style="width:390px;'
            'height:900px;border:0"></iframe><p id="out">not measured</p><script>'
            'document.getElementById("f").onload=function(){var d=this.contentDocument.documentElement;'
            'document.getElementById("out").textContent="width "+d.scrollWidth+" of "+d.clientWidth;};'
            '</script></body></html>' % os.path.basename(path), encoding="utf-8")
        out, console = browse("file://" + str(wrapper), "--dump-dom", "--allow-file-access-from-files")
        assert console == [], console
        measured = out.split('id="out">')[1].split("<")[0].split()
        assert measured[0] == "width", out[-500:]
        assert int(measured[1]) <= int(measured[3]) <= 390, (name, measured)
