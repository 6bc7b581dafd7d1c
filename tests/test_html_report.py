"""The HTML pages: the student's feedback (grading/html.py) and the class report (platforms/class_report.py).

These tests read the markup with the standard library's HTML parser; tests/test_html_browser.py
opens the same pages in a real (headless) chromium.
"""

import os
import subprocess
import sys
from html.parser import HTMLParser

from autograder import rubric
from autograder.grading import hints, html, report
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
                "details", "summary", "div", "img", "svg", "rect", "text", "line", "g", "nav", "a", "ol"}


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
    assert "http://" not in page and "https://" not in page.replace("https://www.w3.org/2000/svg", "")


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
    assert "%s: %s" % (v.case_label, v.case.rstrip(".")) in words
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
