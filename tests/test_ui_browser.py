"""The interfaces people actually open, in a real browser (issue 27, item 8).

- A student opens the release notebook, with the reference solution's functions filled in, in
  JupyterLab 4 on localhost, chooses Run > Run All Cells, and sees the public checks' verdicts and
  the lesson's plots (rendered images, no error output).
- An instructor opens nbgrader's formgrader on a small autograded class: the gradebook lists each
  student's autograded score, and one submission's grade cells hold the grader's verdict text.
- Every page a person opens (the student's feedback page from ``grade --html``, the class report
  from ``grade-all --html``, nbgrader's feedback as this course renders it) passes axe-core's audit
  with no serious or critical violation.

One JupyterLab server and one formgrader server per session (module-scoped fixtures), one browser.
Screenshots go to $AUTOGRADER_SCREENSHOTS if set, else a pytest temporary folder. What is missing
makes the tests skip with the reason, unless $AUTOGRADER_REQUIRE_BROWSER is set (.ci/run).
"""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

import nbgrader_support as ns
import ui_support as ui
from autograder import rubric
from conftest import CORPUS, ROOT, SOLUTION

RUN_ALL_SECONDS = 600       # run-all of the release notebook takes 12-17 s on a quiet 2-core machine
LESSON_PLOTS = 12           # the release notebook's figures (test_notebook.py counts them too)
STUDENTS = {                # the small class of the formgrader test: submission -> expected total
    "ada": (SOLUTION, 100),
    "ben": (os.path.join(CORPUS, "wrong", "zero_weights.py"), None),
    "cy": (os.path.join(CORPUS, "wrong", "tanh_deriv_one_minus_a1.py"), None),
}


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = os.environ.get("AUTOGRADER_SCREENSHOTS") or str(tmp_path_factory.mktemp("ui-screenshots"))
    os.makedirs(folder, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def axe_js():
    return ui.axe_source()


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    d = ui.make_driver(str(tmp_path_factory.mktemp("chromium-profile")))
    yield d
    d.quit()


def wait_for(driver, script, seconds, what):
    """Poll ``script`` in the page until it returns something truthy; that value."""
    deadline = time.monotonic() + seconds
    value = None
    while time.monotonic() < deadline:
        try:
            value = driver.execute_script(script)
        except Exception:       # the page is still loading: selenium raises JavascriptException
            value = None
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError("waited %d s for %s; last value %r" % (seconds, what, value))


# --- the student in JupyterLab ---------------------------------------------------------------------

def filled_release(folder):
    """assignment/ copied to ``folder``, its notebook holding the reference solution's functions."""
    shutil.copytree(os.path.join(ROOT, "assignment"), folder,
                    ignore=shutil.ignore_patterns("__pycache__", ".*"))
    path = os.path.join(folder, "random_init.ipynb")
    with open(path, encoding="utf-8") as f:
        release = json.load(f)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(ns.fill(release, path=SOLUTION), f, indent=1)
    return path


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    ui.need_module("jupyterlab")
    folder = str(tmp_path_factory.mktemp("student") / "random_init")
    filled_release(folder)
    scratch = str(tmp_path_factory.mktemp("lab-scratch"))
    server = ui.Server("lab", folder, scratch, extra=[
        "--LabApp.expose_app_in_browser=True", "--LabApp.workspaces_dir=" + os.path.join(scratch, "ws"),
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.news_url=None"])
    yield server
    server.stop()


NOTEBOOK_JSON = ("var w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                 "return w && w.context && w.context.isReady && w.sessionContext.session"
                 " && w.sessionContext.session.kernel"
                 " ? JSON.stringify({status: w.sessionContext.session.kernel.status,"
                 " nb: w.context.model.toJSON()}) : null;")


def click_menu(driver, menu, command):
    from selenium.webdriver.common.by import By
    bar = [e for e in driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item") if e.text.strip() == menu]
    assert bar, "no %r menu in JupyterLab's menu bar" % menu
    bar[0].click()
    item = driver.find_element(By.CSS_SELECTOR, '.lm-Menu-item[data-command="%s"]' % command)
    item.click()


def text_of(output):
    if output.get("output_type") == "stream":
        return "".join(output["text"])
    return "".join(output.get("data", {}).get("text/plain", ""))


def test_student_runs_the_release_notebook_in_jupyterlab(lab, driver, shots):
    driver.get(lab.url("/lab/tree/random_init.ipynb"))
    wait_for(driver, NOTEBOOK_JSON.replace("return w &&", "return w && w.sessionContext.session"
                                           " && w.sessionContext.session.kernel.status === 'idle' &&"),
             180, "the notebook open with an idle kernel")
    started = time.monotonic()
    click_menu(driver, "Run", "runmenu:run-all")
    nb = None
    deadline = started + RUN_ALL_SECONDS
    while time.monotonic() < deadline:
        state = json.loads(wait_for(driver, NOTEBOOK_JSON, 60, "the notebook's model"))
        nb = state["nb"]
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        if state["status"] == "idle" and all(c.get("execution_count") for c in code):
            break
        time.sleep(1)
    seconds = time.monotonic() - started
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c.get("execution_count") for c in code), "run-all did not finish in %d s" % RUN_ALL_SECONDS
    errors = [(c.get("id"), o.get("ename"), o.get("evalue")) for c in code for o in c.get("outputs", [])
              if o["output_type"] == "error"]
    assert errors == []
    plots = sum(1 for c in code for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
    assert plots == LESSON_PLOTS, plots

    checks = next(c for c in code if c.get("id") == "93-public-checks")
    verdicts = "".join(text_of(o) for o in checks["outputs"])
    statuses = [line.split()[0] for line in verdicts.splitlines() if line.startswith("  ")]
    assert len(statuses) >= 8 and set(statuses) == {"ok"}, verdicts
    assert "%d of %d public checks passed" % (len(statuses), len(statuses)) in verdicts, verdicts

    # What the student sees: the images drawn (decoded, non-empty) and the verdict text on screen.
    drawn = driver.execute_script(
        "return Array.from(document.querySelectorAll('.jp-OutputArea-output img'))"
        ".filter(function (i) { return i.complete && i.naturalWidth > 100; }).length;")
    assert drawn == LESSON_PLOTS, drawn
    shown = driver.execute_script(
        "var cells = Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell'));"
        "var last = cells.filter(function (e) { return e.classList.contains('jp-CodeCell'); }).pop();"
        "last.scrollIntoView(); return last.innerText;")
    assert "public checks passed" in shown, shown
    ui.save_shot_window(driver, shots, "lab_public_checks")
    driver.execute_script(
        "Array.from(document.querySelectorAll('.jp-OutputArea-output img'))[1].scrollIntoView();")
    ui.save_shot_window(driver, shots, "lab_plot")
    print("run-all took %.1f s (machine shared with other jobs)" % seconds)
