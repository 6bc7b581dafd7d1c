"""The lesson notebook runs headless: with the solution it draws its figures, with stubs it degrades.

Both notebooks are executed for real by nbclient in a python3 kernel:
* the nbgrader source (solution filled in) must run without an error and leave non-empty PNG
  figures (its run time, mostly the 40-seed studies, is printed: about a minute on two quiet
  cores; time is measured, never asserted, per the developers' guide);
* the student release (every function a stub) must run every experiment cell
  without a traceback: each prints a short note instead.
"""

import base64
import os
import shutil
import time

import pytest


from conftest import ROOT, need  # noqa: E402

nbformat = need("nbformat", "dev")
nbclient = need("nbclient", "dev")

SOURCE = os.path.join(ROOT, "solutions", "source", "random_init")
RELEASE = os.path.join(ROOT, "assignment")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# The seed studies need no student function, and the source notebook runs them in full; with the
# stubs this cell, put after the setup cell, shrinks them so that the run checks the cells only.
QUICK_STUDIES = "st.SEEDS, st.STEPS = (1, 2, 3), 100   # inserted by tests/test_notebook.py"


def execute(folder, tmp_path, allow_errors, quick_studies=False):
    # The hidden test cells import the grader; make it importable even without `pip install -e .`.
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    work = tmp_path / "nb"
    shutil.copytree(folder, work, ignore=shutil.ignore_patterns(".*", "__pycache__"))
    nb = nbformat.read(str(work / "random_init.ipynb"), as_version=4)
    if quick_studies:
        setup = next(i for i, c in enumerate(nb.cells) if "import lesson_studies as st" in c.source)
        nb.cells.insert(setup + 1, nbformat.v4.new_code_cell(QUICK_STUDIES))
    # timeout: per cell, only to stop a hang (a study cell takes tens of seconds on a loaded machine)
    client = nbclient.NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=allow_errors,
                                     resources={"metadata": {"path": str(work)}})
    start = time.monotonic()
    client.execute()
    return nb, time.monotonic() - start


def role(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if meta.get("solution"):
        return "solution"
    if meta.get("grade"):
        return "test"
    return "experiment"


def errors(cell):
    return [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def test_source_notebook_runs_and_draws_its_figures(tmp_path):
    nb, seconds = execute(SOURCE, tmp_path, allow_errors=False)
    print("the lesson notebook ran in %.0f s" % seconds)
    pngs = [base64.b64decode(o["data"]["image/png"]) for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(pngs) >= 13, "expected the lesson's figures, found %d PNG outputs" % len(pngs)
    assert all(p.startswith(PNG_MAGIC) and len(p) > 5000 for p in pngs)


def test_release_notebook_degrades_gracefully_with_stubs(tmp_path):
    nb, _ = execute(RELEASE, tmp_path, allow_errors=True, quick_studies=True)
    experiments = [c for c in nb.cells if c.cell_type == "code" and role(c) == "experiment"]
    assert len(experiments) >= 5
    for cell in experiments:
        assert not errors(cell), (cell.source[:80], errors(cell)[0].get("ename"))
    notes = "".join(o.get("text", "") for c in experiments for o in c.get("outputs", [])
                    if o.get("output_type") == "stream")
    assert "first" in notes or "Fill in" in notes, notes[:500]
    # The stubs themselves still fail their test cells: nothing is passed for free.
    tests = [c for c in nb.cells if c.cell_type == "code" and role(c) == "test"]
    assert tests and all(errors(c) for c in tests)
