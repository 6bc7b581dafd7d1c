"""The HTML pages: the student's feedback (grading/html.py) and the class report (platforms/class_report.py).

These tests read the markup with the standard library's HTML parser; tests/test_html_browser.py
opens the same pages in a real (headless) chromium.
"""

import os
import subprocess
import sys
from html.parser import HTMLParser

from autograder import rubric, verdicts
from autograder.grading import hints, html, report
from autograder.grading.engine import Result, Verdict
from conftest import CORPUS, ROOT, graded

TANH = os.path.join(CORPUS, "wrong", "tanh_deriv_one_minus_a1.py")
VALID = os.path.join(CORPUS, "valid", "np_dot.py")

XSS_SOURCE = '''# Exception texts, printed output and returned keys that carry markup.
import numpy as np
print("<script>document.title='pwned-print'</script>")

def initialize_parameters(n_x, n_h, n_y):
    raise ValueError("<script>document.title='pwned'</script><img src=x onerror=alert(1)>")

def forward(X, parameters):
    raise RuntimeError('"><script>alert(2)</script>')

def backward(parameters, cache, X, Y):
    return {"<b>dW1</b>": np.zeros((1, 1))}

raise ValueError("<script>document.title='pwned-load'</script>")
'''

# Every tag the two pages may contain; a tag outside this set came from someone's text.
ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "header", "section", "h1", "h2",
                "h3", "p", "span", "code", "pre", "ul", "li", "table", "thead", "tbody", "tr", "th", "td",
                "details", "summary", "div", "svg", "rect", "text", "line", "g", "br", "strong"}


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def parse(page):
    t = Tags()
    t.feed(page)
    return t


def assert_inert(page):
    """No script, no event handler, no remote load, only the tags our renderers write."""
    t = parse(page)
    assert set(t.tags) <= ALLOWED_TAGS, set(t.tags) - ALLOWED_TAGS
    assert "script" not in t.tags
    assert not [a for a, _ in t.attrs if a.startswith("on")]
    for name, value in t.attrs:
        if name in ("src", "href"):
            assert value.startswith(("data:", "#")), (name, value)
    assert "http://" not in page and "https://" not in page


def write_xss(tmp_path):
    path = tmp_path / "xss.py"
    path.write_text(XSS_SOURCE, encoding="utf-8")
    return str(path)


def test_student_page_shows_each_item_with_cause_case_and_section():
    result = graded(TANH)
    page = html.student_page(result)
    t = parse(page)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    for v in result.verdicts:
        assert 'id="item-%s"' % v.id in page
    failed = [v for v in result.verdicts if not v.passed]
    assert [v.id for v in failed] == ["backward.gradients"]
    v = failed[0]
    assert v.hint == "backward_tanh_slope_1_minus_a1"
    assert 'data-hint="backward_tanh_slope_1_minus_a1"' in page
    words = " ".join(" ".join(t.text).split())
    assert hints.get(v.hint).text.rstrip(".") in words
    assert "Read: %s of the notebook." % v.section in words
    assert "%s: %s" % (v.case_label, v.case_text.rstrip(".")) in words
    assert "%s / %d" % (report.num(result.score), rubric.TOTAL) in words
    assert words.count("PASS") == 6 and words.count("FAIL") == 1
    assert_inert(page)


def test_student_page_escapes_markup_from_the_submission(tmp_path):
    from autograder.grading.engine import grade
    result = grade(write_xss(tmp_path))
    assert any("<script>" in v.problem for v in result.verdicts), "the test needs a problem text with markup"
    assert any("pwned-load" in n for n in result.notes), "and a note with markup"
    page = html.student_page(result)
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in page
    assert "&lt;script&gt;document.title=&#x27;pwned-load&#x27;" in page
    assert "<img" not in page and "<b>" not in page
    assert_inert(page)


def test_student_page_of_a_grader_failure_says_it_is_not_a_grade():
    page = html.student_page(report.fallback("<x>.py", "RuntimeError: <boom>"))
    assert 'id="grader-error"' in page and "not your grade" in page
    assert "&lt;boom&gt;" in page and "<boom>" not in page
    assert_inert(page)


def test_grade_command_writes_the_page(tmp_path):
    out = tmp_path / "deep" / "feedback.html"
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", VALID, "--html", str(out)],
                          cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.returncode == 0, proc.stderr
    page = out.read_text(encoding="utf-8")
    assert "Every rubric item passed." in page and "100 / 100" in page
    bad = subprocess.run([sys.executable, "-m", "autograder", "grade", VALID, "--html", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=ROOT))
    assert bad.returncode == 2 and "cannot write" in bad.stderr and "Traceback" not in bad.stderr


# -- the class report, from grade-all's rows ---------------------------------------------------------
from autograder.errors import UsageError  # noqa: E402
from autograder.platforms import class_report  # noqa: E402

FULL = {i.id: i.points for i in rubric.ITEMS}


def row(student, lost=(), hint=None, limits=None, status="graded", detail=""):
    if status != "graded":
        return {"student": student, "status": status, "detail": detail}
    points = {k: (0 if k in lost else v) for k, v in FULL.items()}
    return {"student": student, "status": "graded", "detail": "", "points": points,
            "total": sum(points.values()), "hints": dict(hint or {}), "limits": dict(limits or {})}


def data(page, attr):
    """{value of attr: {other data- attributes}} for every element that carries attr."""
    t, found = Tags(), {}
    t.handle_starttag = lambda tag, attrs: found.__setitem__(dict(attrs)[attr], dict(attrs)) \
        if attr in dict(attrs) else None
    t.feed(page)
    return found


CLASS = [
    row("ann_q"),
    row("ben_q", ["backward.gradients"], {"backward.gradients": "backward_tanh_slope_1_minus_a1"}),
    row("cat_q", ["backward.gradients"], {"backward.gradients": "backward_tanh_slope_1_minus_a1"}),
    row("dan_q", ["forward.values", "backward.gradients"],
        {"forward.values": "forward_a1_relu", "backward.gradients": "backward_tanh_slope_1_minus_a1"}),
    row("eve_q", ["init.small_scale"]),                                   # lost, no recognised cause
    row("fay_q", ["forward.values"], limits={"forward.values": "time limit"}),
    row("gus_q", status="error", detail="grading took longer than 300 s and was stopped"),
    row("hal_q", status="missing", detail="two submissions for one student (hal.py, hal.ipynb); keep one"),
    row("<img src=x onerror=alert(1)>", ["init.shapes"], {"init.shapes": "init_transposed"}),
]


def test_class_report_counts_items_hints_and_scores():
    page = class_report.render(CLASS)
    assert_inert(page)
    items = data(page, "data-item")
    assert items["backward.gradients"]["data-passed"] == "4" and items["backward.gradients"]["data-graded"] == "7"
    assert items["init.shapes"]["data-passed"] == "6" and items["forward.values"]["data-passed"] == "5"
    found = data(page, "data-hint")
    assert {h: int(a["data-count"]) for h, a in found.items()} == {
        "backward_tanh_slope_1_minus_a1": 3, "forward_a1_relu": 1, "init_transposed": 1}
    ranked = [h for h in (a.split('"')[0] for a in page.split('<section class="card failed" data-hint="')[1:])]
    assert ranked == ["backward_tanh_slope_1_minus_a1", "init_transposed", "forward_a1_relu"]  # then hints.py order
    assert hints.get("backward_tanh_slope_1_minus_a1").text.rstrip(".") in page.replace("&#x27;", "'")
    assert data(page, "data-unexplained")["init.small_scale"]["data-count"] == "1"
    assert data(page, "data-unexplained")["forward.values"]["data-count"] == "1"        # fay: a limit, no hint
    bins = {b: int(a["data-count"]) for b, a in data(page, "data-bin").items()}
    assert bins["100"] == 1 and bins["80-89"] == 4 and bins["60-69"] == 1 and bins["90-99"] == 1
    assert sum(bins.values()) == 7


def test_class_report_lists_errors_missing_and_limits_first_and_escapes_names():
    page = class_report.render(CLASS)
    attention = page.split('id="attention"')[1].split('id="distribution"')[0]
    for who, why in (("gus_q", "took longer than 300 s"), ("hal_q", "two submissions"),
                     ("fay_q", "forward.values (time limit)")):
        assert 'data-student="%s"' % who in attention and why in attention
    assert attention.index("gus_q") < attention.index("fay_q")
    assert page.index('id="attention"') < page.index('id="distribution"') < page.index('id="items"') \
        < page.index('id="misconceptions"') < page.index('id="students"')
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img" not in page


def test_anonymous_report_shows_no_name():
    page = class_report.render(CLASS, anonymous=True)
    for r in CLASS:
        assert r["student"] not in page and html.text(r["student"]) not in page
    assert "Student 1" in page and "Names are hidden" in page
    again = class_report.render(list(reversed(CLASS)), anonymous=True)
    assert data(page, "data-student") == data(again, "data-student")      # stable aliases


def test_compare_with_an_earlier_csv(tmp_path):
    old = tmp_path / "old.csv"
    old.write_text("student,%s,total,status,detail\n" % ",".join(FULL) +
                   "ann_q,10,10,20,15,15,10,0,80,graded,\n"          # improved (backward.gradients now passes)
                   "ben_q,10,10,20,15,15,10,20,100,graded,\n"        # declined
                   "cat_q,10,10,20,15,15,10,0,80,graded,\n"          # unchanged
                   "zed_q,10,10,20,15,15,10,20,100,graded,\n", encoding="utf-8")
    page = class_report.render(CLASS, class_report.read_old_csv(str(old)))
    both = data(page, "data-both")["3"]
    assert both["data-improved"] == "1" and both["data-declined"] == "1"
    grads = data(page, "data-item")["backward.gradients"]          # the compare table comes after the items table
    assert grads["data-before"] == "1" and grads["data-now"] == "1"
    assert "graded only before: 1" in page and "zed_q" in page
    (tmp_path / "bad.csv").write_text("name,score\nann,3\n", encoding="utf-8")
    for path in (str(tmp_path / "bad.csv"), str(tmp_path / "none.csv")):
        try:
            class_report.read_old_csv(path)
        except UsageError as exc:
            assert path in str(exc) and "grade-all" in str(exc)
        else:
            raise AssertionError("a bad --compare file must be a UsageError")


def test_rows_from_an_older_run_are_flagged_not_miscounted():
    stale = [dict(r) for r in CLASS]
    del stale[1]["hints"]
    page = class_report.render(stale)
    assert 'id="stale"' in page and "--fresh" in page
    assert data(page, "data-hint")["backward_tanh_slope_1_minus_a1"]["data-count"] == "2"
    retired = [dict(r) for r in CLASS]
    retired[5] = row("fay_q", ["forward.values"], {"forward.values": "a_hint_since_removed"})
    page = class_report.render(retired)
    assert "a_hint_since_removed" not in data(page, "data-hint")
    assert data(page, "data-unexplained")["forward.values"]["data-count"] == "1"


def test_limits_are_read_from_the_runners_words():
    result = graded(os.path.join(CORPUS, "hostile", "hang_in_forward.py"))
    assert class_report.limits(result) == {"forward.values": "time limit"}
    assert class_report.limits(graded(TANH)) == {}


def test_limits_come_from_the_verdicts_kind_not_from_a_students_words():
    item = rubric.ITEMS[4]
    said = Verdict(item.id, 0, item.points, item.title, "forward raised ValueError: did not finish within 1 s",
                   kind=verdicts.RAISED)
    hung = Verdict(item.id, 0, item.points, item.title, "forward did not finish within 5 seconds",
                   kind=verdicts.HANG)
    assert class_report.limits(Result("x.py", [said])) == {}
    assert class_report.limits(Result("x.py", [hung])) == {item.id: "time limit"}
