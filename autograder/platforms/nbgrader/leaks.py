"""The grader's messages never quote the solution, a hidden test or a classmate's code.

Design
------
The isolated grader's feedback quotes what a student's function raised (``forward raised
ValueError: ...``). That function ran in the grader's sandboxed child, as a private uid when
nbgrader runs as root, and a course folder of mode 0700 is then out of its reach. But a course
run as an ordinary user, or a world-readable course folder, lets the child read the source
notebook or a classmate's submission and raise it as an exception message, which would then
appear in the student's feedback.

So, as defence in depth, ``GradeInIsolation`` passes every message through ``Scrubber``: any
line that contains a line of a course file the student has no right to read is replaced by a
note. The lines are those of the source notebook's ``### BEGIN/END SOLUTION`` and hidden test
regions, and every code line of the other students' submitted notebooks; lines shorter than
``MIN_LINE`` (``return x``, ``import numpy as np``) and lines the student's own notebook holds
are not secrets. Checking is by an index of each secret line's first ``MIN_LINE`` characters,
so one message line costs one set lookup per character, not one search per secret.

What it cannot catch (an encoded copy: base64, reversed text) is why the sandbox's uid and a
course folder of mode 0700 are the real protection; docs/instructors.md says so.
"""

import glob
import json
import os

from . import cells as grade_cells

MIN_LINE = 16          # shorter lines are too generic to call a quotation (e.g. "A1 = np.tanh(Z1)" is 16)
REMOVED = "[removed: this line quoted a course file you cannot read]"


def code_lines(nb):
    """The stripped lines of a notebook's code cells."""
    out = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            out += ("".join(source) if isinstance(source, list) else str(source)).split("\n")
    return [line.strip() for line in out if line.strip()]


def solution_lines(nb):
    """The stripped lines inside solution and hidden test regions of a source notebook."""
    found = []
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        found += grade_cells.split_hidden(source)[1]
        inside = False
        for line in source.split("\n"):
            if "### BEGIN SOLUTION" in line:
                inside = True
            elif "### END SOLUTION" in line:
                inside = False
            elif inside and line.strip():
                found.append(line.strip())
    return found


_cache = {}     # path -> (mtime, size, stripped code lines): each classmate is read once per nbgrader run


def _lines_of(path, reader):
    try:
        st = os.stat(path)
    except OSError:
        return []
    hit = _cache.get(path)
    if hit is None or hit[:2] != (st.st_mtime_ns, st.st_size):
        hit = _cache[path] = (st.st_mtime_ns, st.st_size, reader(_load(path)))
    return hit[2]


def _load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


class Scrubber:
    """Replace every line that quotes a secret line; ``own`` lines are never secret."""

    def __init__(self, secrets, own=()):
        own = set(own)
        self.secrets = {s for s in secrets if len(s) >= MIN_LINE and s not in own}
        self.index = {}
        for s in self.secrets:
            self.index.setdefault(s[:MIN_LINE], []).append(s)

    def quotes(self, line):
        for i in range(len(line) - MIN_LINE + 1):
            for secret in self.index.get(line[i:i + MIN_LINE], ()):
                if line.startswith(secret, i):
                    return True
        return False

    def __call__(self, text):
        if not self.secrets:
            return text
        return "\n".join(REMOVED if self.quotes(line) else line for line in str(text).split("\n"))


def for_course(coursedir, student, assignment, notebook, own_nb):
    """The Scrubber for one student's messages in an nbgrader course (None outside a course)."""
    if coursedir is None or None in (student, assignment, notebook):
        return None
    secrets = []
    source = os.path.join(coursedir.format_path(coursedir.source_directory, ".", assignment), notebook + ".ipynb")
    secrets += _lines_of(source, solution_lines)
    pattern = os.path.join(coursedir.format_path(coursedir.submitted_directory, "*", assignment), "*.ipynb")
    mine = os.path.abspath(coursedir.format_path(coursedir.submitted_directory, student, assignment))
    for path in glob.glob(pattern):
        if os.path.dirname(os.path.abspath(path)) != mine:
            secrets += _lines_of(path, code_lines)
    return Scrubber(secrets, own=code_lines(own_nb))
