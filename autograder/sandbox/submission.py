"""Find the student's code and turn it into one Python file the child can run.

This module only reads text: it never imports or executes the submission.

* ``.py``: graded as written (its ``if __name__ == "__main__":`` block is skipped,
  because the child runs it under the name ``submission``).
* ``.ipynb``: the notebook's JSON is parsed here. From its code cells we keep the
  top-level imports, function and class definitions, and assignments; every
  other statement (plots, training runs, prints, IPython magics and shell
  lines) is dropped. That keeps grading fast and lets a failing experiment cell
  cost nothing. Each kept statement runs on its own, so one broken import does
  not hide the functions after it.
* a folder: the ``.py`` or ``.ipynb`` in it that defines the functions; if there are
  several (a student's repository holds both the notebook and the .py stub), the one
  with the fewest untouched stubs, then one named like the assignment, then the notebook.
"""

import json
import os

from ..grading import grader_rules

STATEMENT_MARK = "\n# %%% statement\n"     # child.py splits on this
ASSIGNMENT_NAME = "random_init"
MAX_BYTES = 5 * 2**20


class SubmissionError(Exception):
    """The submission cannot be graded at all; the message says why and what to do."""


class Prepared:
    """What the child needs: the code to run, and how to run it."""

    def __init__(self, source, statements, origin, notes=()):
        self.source, self.statements, self.origin, self.notes = source, statements, origin, list(notes)


def prepare(path):
    """Read SUBMISSION (file or folder) and return a Prepared; raises SubmissionError."""
    if not os.path.exists(path):
        raise SubmissionError("there is no file or folder at %s" % path)
    if os.path.isdir(path):
        path = _pick_from_folder(path)
    if path.endswith(".ipynb"):
        return _from_notebook(path)
    if path.endswith(".py"):
        return Prepared(_read_text(path), False, path)
    raise SubmissionError("%s is neither a .py file nor a .ipynb notebook; submit random_init.py "
                          "or random_init.ipynb" % os.path.basename(path))


def _read_bytes(path):
    if os.path.getsize(path) > MAX_BYTES:
        raise SubmissionError("%s is larger than %d MB; submit only your code" % (path, MAX_BYTES >> 20))
    with open(path, "rb") as f:
        return f.read()


def _read_text(path):
    data = _read_bytes(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SubmissionError("%s is not UTF-8 text (byte %d cannot be read); save it as UTF-8"
                              % (os.path.basename(path), exc.start)) from None
    if not text.strip():
        raise SubmissionError("%s is empty; it must define initialize_parameters, forward and backward"
                              % os.path.basename(path))
    return text


def _pick_from_folder(folder):
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".ipynb")) and not name.startswith(("test_", ".")):
                found.append(os.path.join(root, name))
    candidates = []
    for p in found:
        try:
            if b"def initialize_parameters" in _read_bytes(p) or b"def forward" in _read_bytes(p):
                candidates.append(p)
        except (OSError, SubmissionError):
            continue
    if not candidates:
        raise SubmissionError("no .py or .ipynb file in %s defines initialize_parameters; "
                              "put random_init.py or random_init.ipynb there" % folder)
    # A student's folder may hold both the notebook and the .py stub and edit only one of them:
    # take the one with the fewest untouched stubs, then the assignment's name, then the notebook.
    candidates.sort(key=lambda p: (_read_bytes(p).count(b"raise NotImplementedError"),
                                   not os.path.basename(p).startswith(ASSIGNMENT_NAME),
                                   not p.endswith(".ipynb"), p))
    return candidates[0]


def notebook_code_cells(path):
    """The sources of a notebook's code cells; raises SubmissionError for a broken notebook."""
    name = os.path.basename(path)
    try:
        nb = json.loads(_read_bytes(path).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SubmissionError("%s is not a readable notebook (its JSON is broken or cut off); "
                              "open it in Jupyter, save it again and resubmit" % name) from None
    sources = grader_rules.code_cell_sources(nb)
    if sources is None:
        raise SubmissionError("%s has no list of cells; is it really a Jupyter notebook?" % name)
    return sources


def _from_notebook(path):
    sources = notebook_code_cells(path)
    if not any(s.strip() for s in sources):
        raise SubmissionError("%s has no code cells with code in them" % os.path.basename(path))
    # The rule is shared with the students' public checks (grader_rules.py), so both run the same code.
    kept, notes = grader_rules.kept_statements(sources)
    return Prepared(STATEMENT_MARK.join(kept) + "\n", True, path, notes)
