"""The instructor's formgrader and the student's feedback page in a real browser: nothing a student wrote runs.

A small real course (tests/nbgrader_support.py) gets one submission: zero weights, which the
grader scores 65, plus the cells of tests/corpus/notebooks/markup_attack.ipynb. Its markdown,
raw cells, attachments and saved outputs try, in every way the issue found and a few more, to
run script (each script would set a ``window.PWNED_*`` property, add an element whose id holds
``PWNED``, or restyle the page) and to draw a fake "100/100" box. The course autogrades it and
makes the feedback; then a Jupyter server with nbgrader's formgrader serves the submission, as an
instructor would open it, logged in with a token.

Headless Debian chromium through Selenium 4 and ``/usr/bin/chromedriver`` (the flags of
tests/test_html_browser.py, a fresh profile) opens the formgrader's page of the submission and
the feedback page. On both, after the page's own scripts ran: no ``PWNED`` property on
``window``, no element with ``PWNED`` in its id, no ``PWNED`` in the title or in a generated
``::after`` content, and the true score: the formgrader's score boxes hold the autograded scores
(their ``placeholder``, set by the formgrader's own script from the gradebook) adding up to 65,
and the feedback page says 65. The formgrader loads MathJax from a CDN; offline that script fails
("MathJax is not defined"), which changes nothing here.

Without chromium, chromedriver or Selenium the test skips, unless $AUTOGRADER_REQUIRE_BROWSER is
set, where that is a failure (as in tests/test_html_browser.py).
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

from autograder import rubric
from conftest import CORPUS

import nbgrader_support as ns

ASSIGNMENT = ns.ASSIGNMENT
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]
TRUE_SCORE = 65         # zero weights lose init.breaks_symmetry (20) and init.small_scale (15)
PAGE_SECONDS = 60       # longest wait for a page and its own scripts, on a loaded machine
# What any of the attack's scripts would have left behind, read from the live page.
PROBE = """
var found = Object.getOwnPropertyNames(window).filter(function (k) { return k.indexOf('PWNED') >= 0; });
document.querySelectorAll('[id]').forEach(function (e) { if (e.id.indexOf('PWNED') >= 0) found.push('#' + e.id); });
if (document.title.indexOf('PWNED') >= 0) found.push('title: ' + document.title);
var after = getComputedStyle(document.body, '::after').content;
if (after && after.indexOf('PWNED') >= 0) found.push('::after ' + after);
return found;
"""


def need(condition, why):
    if condition:
        return
    if os.environ.get("AUTOGRADER_REQUIRE_BROWSER"):
        pytest.fail(why)
    pytest.skip(why)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    need(shutil.which("chromium") or shutil.which("chromium-browser"),
         "no chromium on PATH (apt-get install chromium)")
    need(os.path.exists(CHROMEDRIVER), "no %s (apt-get install chromium-driver)" % CHROMEDRIVER)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        need(False, "Selenium is not installed (pip install selenium)")
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    for flag in FLAGS + ["--user-data-dir=" + profile]:
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(PAGE_SECONDS)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    pytest.importorskip("nbgrader")
    c = ns.Course(tmp_path_factory.mktemp("course"))
    release = c.release_notebook()
    nb = ns.fill(release, path=os.path.join(CORPUS, "wrong", "zero_weights.py"))
    c.submit("oscar", ns.with_cells(nb, ns.attack_cells(os.path.join(CORPUS, "notebooks", "markup_attack.ipynb"))))
    c.nbgrader("autograde", ASSIGNMENT)
    c.nbgrader("generate_feedback", ASSIGNMENT)
    from nbgrader.api import Gradebook
    with Gradebook("sqlite:///" + c.path("gradebook.db")) as gb:
        c.submission_id = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "oscar").id
        assert gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "oscar").score == TRUE_SCORE
    return c


@pytest.fixture(scope="module")
def server(course, tmp_path_factory):
    """A Jupyter server with nbgrader's formgrader in the course folder; (base URL, token)."""
    token, port = secrets.token_hex(16), free_port()
    home = str(tmp_path_factory.mktemp("jupyter-home"))     # a fresh runtime and config folder
    env = dict(course.env, HOME=home, JUPYTER_RUNTIME_DIR=os.path.join(home, "runtime"),
               JUPYTER_CONFIG_DIR=os.path.join(home, "config"), JUPYTER_DATA_DIR=os.path.join(home, "data"))
    args = [sys.executable, "-m", "jupyter", "server", "--no-browser", "--ip=127.0.0.1", "--port=%d" % port,
            "--ServerApp.token=" + token, "--ServerApp.root_dir=" + course.root]
    if os.geteuid() == 0:
        args.append("--allow-root")
    log = open(os.path.join(home, "server.log"), "w+")
    proc = subprocess.Popen(args, cwd=course.root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = "http://127.0.0.1:%d" % port
    deadline = time.monotonic() + PAGE_SECONDS
    while True:
        try:
            urllib.request.urlopen("%s/api/status?token=%s" % (base, token), timeout=5).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                proc.kill()
                pytest.fail("the Jupyter server did not start:\n" + log.read()[-3000:])
            time.sleep(0.3)
    yield base, token
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def wait_for(driver, script, seconds=PAGE_SECONDS):
    """The first truthy value of ``script`` run in the page, waiting up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = driver.execute_script(script)
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_the_formgrader_page_runs_no_student_script_and_shows_the_true_score(browser, course, server):
    base, token = server
    browser.get("%s/formgrader?token=%s" % (base, token))         # logs the browser in
    browser.get("%s/formgrader/submissions/%s/" % (base, course.submission_id))
    placeholders = wait_for(browser, """
        var boxes = document.querySelectorAll('input.score');
        var all = Array.prototype.map.call(boxes, function (b) { return [b.id, b.getAttribute('placeholder')]; });
        return all.length && all.every(function (p) { return p[1] !== null && p[1] !== ''; }) ? all : null;""")
    assert placeholders, "the formgrader's score boxes never got their autograded scores"
    scores = {grade_id: float(value) for grade_id, value in placeholders}
    assert set(scores) == {rubric.grade_id(i.id) for i in rubric.ITEMS}
    assert sum(scores.values()) == TRUE_SCORE, scores
    assert scores["init-breaks_symmetry"] == 0 and scores["init-shapes"] == 10
    assert browser.execute_script(PROBE) == []
    text = browser.find_element("tag name", "body").text
    assert "Autograder: %d/100 points" % TRUE_SCORE in text
    assert "<script>window.PWNED_markdown" in text          # the student's markup is there, as text


def test_the_feedback_page_runs_no_student_script_and_shows_the_true_score(browser, course):
    page = course.path("feedback", "oscar", ASSIGNMENT, ASSIGNMENT + ".html")
    browser.get("file://" + page)
    assert wait_for(browser, "return document.readyState === 'complete';")
    time.sleep(0.5)                                          # let any onerror/onload handler fire
    assert browser.execute_script(PROBE) == []
    text = browser.find_element("tag name", "body").text
    assert "Autograder: %d/100 points" % TRUE_SCORE in text
    assert "Score: %d" % TRUE_SCORE in text or "%d.0 / 100.0" % TRUE_SCORE in text, text[:500]
