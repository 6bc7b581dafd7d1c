"""``check(rubric_id)``: what the hidden part of every grade cell in the course notebook calls.

Design
------
A grade cell runs in the student's own kernel, where earlier cells may have replaced numpy,
builtins, ``AssertionError`` or this very module (a fake ``autograder`` in ``sys.modules``).
Nothing computed in that kernel can be trusted, so **no score ever comes from here**:

* Under ``nbgrader autograde`` (nbgrader sets ``NBGRADER_EXECUTION=autograde``), ``check`` does
  no grading at all. It raises :class:`GradedElsewhere`. The course's autograde step
  ``GradeInIsolation`` (``autograder/platforms/nbgrader/verdicts.py``) grades the submitted file
  with the engine of ``python -m autograder grade`` in a separate process and *replaces* the outputs of every grade cell, so
  this error never reaches the gradebook. If a course forgot that step, every hidden part
  fails: a misconfigured course gives zeros that an instructor notices, never free points.
* Anywhere else (an instructor running the source notebook, ``nbgrader validate``), ``check``
  grades the code that this kernel has run: the kernel's input history becomes the code cells
  of a scratch notebook, which ``engine.grade`` reads exactly as it reads a submitted notebook
  (imports, definitions and plain assignments only) and runs in its child process. The result
  is cached per history, so the seven grade cells of one run cost one grading. A failed item
  raises ``AssertionError`` with the same text the command-line report prints.
* Outside IPython, the file of ``__main__`` is graded the same way.

The hidden part of a grade cell is written, run and removed in three places, so its form is
fixed here once: ``hidden_part(id)`` gives the lines ``solutions/build_notebook.py`` writes
between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``; ``split_hidden`` takes those
regions out of a cell's source (an unterminated region runs to the end of the cell, as in
nbgrader's own ClearHiddenTests); ``scrub`` blanks any line of text that quotes a hidden line
(the feedback step applies it to outputs, where a student's cell may have printed ``In``).

This module imports nothing heavy at import time: a student's kernel (and the grader's child,
which may see ``from autograder.notebook import check`` in a notebook it loads) pays nothing.
"""

import hashlib
import json
import os
import sys
import tempfile

from ... import rubric

AUTOGRADE_ENV = "NBGRADER_EXECUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
HIDDEN_MARK = "HIDDEN TESTS"      # what nbgrader looks for, with BEGIN / END before it
_cache = {"key": None, "result": None}


class GradedElsewhere(Exception):
    """Raised under nbgrader autograde: the verdict of this cell is set by the isolated grader."""


def check(rubric_id):
    """Check one rubric item (its rubric id, or its grade_id) against the code run so far.

    Prints a line when it passes; raises AssertionError with the grader's feedback when it fails.
    """
    if rubric_id not in rubric.BY_ID:            # an nbgrader grade_id names the same item
        rubric_id = rubric.rubric_id(rubric_id)
    if rubric_id not in rubric.BY_ID:
        raise KeyError("%r is not a rubric id; the ids are %s" % (rubric_id, ", ".join(rubric.BY_ID)))
    if os.environ.get(AUTOGRADE_ENV) == "autograde":
        raise GradedElsewhere(
            "%s is graded by the autograder in a separate process, not in this kernel. If this message "
            "reaches a gradebook, the course's nbgrader_config.py does not run "
            "autograder.platforms.nbgrader.verdicts.GradeInIsolation (see docs/instructors.md)." % rubric_id)
    verdict = _verdict(rubric_id)
    # lazy: report imports the engine, which a kernel that only runs grade cells never needs (see the design)
    from ...grading.report import item_output, num as _num
    if not verdict.passed:
        raise AssertionError("%s (0/%d points)\n%s" % (rubric_id, verdict.max_points, item_output(verdict)))
    print("%s passed (%s/%d points)." % (rubric_id, _num(verdict.points), verdict.max_points))


def current_code():
    """The code cells this kernel has run, oldest first (IPython), or the source of ``__main__``."""
    shell = _ipython()
    if shell is not None:
        history = list(getattr(shell.history_manager, "input_hist_raw", None) or shell.user_ns.get("In", []))
        return [cell for cell in history if isinstance(cell, str) and cell.strip()]
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if main_file and os.path.isfile(main_file):
        with open(main_file, encoding="utf-8") as f:
            return [f.read()]
    raise RuntimeError("check() found no code to grade: run it inside a notebook, or grade a file with "
                       "python -m autograder grade FILE")


def grade_cells(cells):
    """engine.grade on a scratch notebook whose code cells are ``cells``; cached on their text."""
    key = hashlib.sha256(json.dumps(cells).encode("utf-8")).hexdigest()
    if _cache["key"] == key:
        return _cache["result"]
    from ...grading.engine import grade  # lazy: see the design (what a kernel pays on import)
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "cell-%d" % i, "metadata": {},
                     "outputs": [], "source": src} for i, src in enumerate(cells)],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    with tempfile.TemporaryDirectory(prefix="autograder-check-") as tmp:
        path = os.path.join(tmp, "random_init.ipynb")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(nb, f)
        print("Grading the functions this notebook defines, in a separate process...", flush=True)
        here = os.getcwd()
        os.chdir(tmp)           # hypothesis keeps a cache folder in the working directory: not the course's
        try:
            result = grade(path)
        finally:
            os.chdir(here)
    if result.error:
        raise RuntimeError("the autograder itself failed: %s" % result.error)
    _cache.update(key=key, result=result)
    return result


def _verdict(rubric_id):
    result = grade_cells(current_code())
    for verdict in result.verdicts:
        if verdict.id == rubric_id:
            return verdict
    raise RuntimeError("the autograder returned no verdict for %s" % rubric_id)


def hidden_part(rubric_id):
    """The lines of a grade cell's hidden part, markers included."""
    return [BEGIN_HIDDEN, "from autograder.notebook import check", 'check("%s")' % rubric_id, END_HIDDEN]


def split_hidden(source):
    """(source without its hidden regions, [the stripped non-empty lines that were inside them])."""
    kept, hidden, inside = [], [], False
    for line in source.split("\n"):
        if "BEGIN " + HIDDEN_MARK in line:
            inside = True
        elif "END " + HIDDEN_MARK in line and inside:
            inside = False
        elif inside:
            if line.strip():
                hidden.append(line.strip())
        else:
            kept.append(line)
    return "\n".join(kept).rstrip("\n"), hidden


def scrub(text, hidden):
    """``text`` with every line that contains one of the ``hidden`` lines replaced by "[hidden]"."""
    if not hidden:
        return text
    return "\n".join("[hidden]" if any(h in line for h in hidden) else line for line in text.split("\n"))


def _ipython():
    if "IPython" not in sys.modules:
        return None
    try:
        return sys.modules["IPython"].get_ipython()
    except AttributeError:
        return None
