"""The grader's messages never quote the solution, a hidden test or a classmate's code.

Design
------
The isolated grader's feedback quotes what a student's function raised (``forward raised
ValueError: ...``). That function ran in the grader's sandboxed child, as a private uid when
nbgrader runs as root, and a course folder of mode 0700 is then out of its reach. But a course
run as an ordinary user, or a world-readable course folder, lets the child read the source
notebook or a classmate's submission and raise it as an exception message, which would then
appear in the student's feedback.

So, as defence in depth, ``GradeInIsolation`` passes every message through ``Scrubber``. It looks
only at **what the student controls**: the text after "raised " on a line (the engine quotes an
exception as ``<function> raised <its text>``, on one line; a file's top level likewise). If that
text contains a line of a course file the student has no right to read, it is replaced by a
note; the grader's own sentences around it are never touched (issue 21: a student who put the
grader's sentences into their code blanked them in every classmate's feedback). The engine
quotes no printed output in its messages; if it ever does, ``student_spans`` must learn its form.

The secret lines are those of the source notebook's ``### BEGIN/END SOLUTION`` and hidden test
regions, and every code line of the other students' graded notebook (``<notebook>.ipynb`` of the
assignment only: a ``scratch.ipynb`` beside it is not graded and not read), each read without
following links and only if it is a regular file of sane size. Lines shorter than ``MIN_LINE``
(``return x``, ``import numpy as np``) and lines the student's own notebook holds are not
secrets. Checking is by an index of each secret line's first ``MIN_LINE`` characters, so one
message line costs one set lookup per character, not one search per secret.

What it cannot catch (an encoded copy: base64, reversed text) is why the sandbox's uid and a
course folder of mode 0700 are the real protection; docs/instructors.md says so.
"""

import json
import os
import re

from . import cells as grade_cells
from .reading import SubmissionRefused, read_below

MIN_LINE = 16          # shorter lines are too generic to call a quotation (e.g. "A1 = np.tanh(Z1)" is 16)
REMOVED = "[removed: this text quoted a course file you cannot read]"
MAX_CLASSMATE_BYTES = 64 * 2**20      # a classmate's notebook read for its code lines; a bigger one is skipped
_STUDENT_TEXT = re.compile(r" raised (.*)$")     # report.item_output: "<function> raised <exception text>"


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
    """A notebook's JSON, read with no link followed; {} for anything that is not a readable notebook."""
    folder, name = os.path.split(path)
    try:
        return json.loads(read_below(folder, name, MAX_CLASSMATE_BYTES).decode("utf-8-sig"))
    except (OSError, SubmissionRefused, ValueError, RecursionError):
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
        return "\n".join(self.scrub_line(line) for line in str(text).split("\n"))

    def scrub_line(self, line):
        """``line`` with the student's text in it replaced if it quotes a secret; the grader's words stay."""
        found = _STUDENT_TEXT.search(line)
        if found is None or not self.quotes(found.group(1)):
            return line
        return line[:found.start(1)] + REMOVED


def for_course(coursedir, student, assignment, notebook, own_nb):
    """The Scrubber for one student's messages in an nbgrader course (None outside a course)."""
    if coursedir is None or None in (student, assignment, notebook):
        return None
    secrets = []
    source = os.path.join(coursedir.format_path(coursedir.source_directory, ".", assignment), notebook + ".ipynb")
    secrets += _lines_of(source, solution_lines)
    for other in classmates(coursedir, student):
        path = os.path.join(coursedir.format_path(coursedir.submitted_directory, other, assignment),
                            notebook + ".ipynb")
        secrets += _lines_of(path, code_lines)
    return Scrubber(secrets, own=code_lines(own_nb))


def classmates(coursedir, student):
    """The other students' folder names under submitted/ (links and files skipped)."""
    root = coursedir.format_path(coursedir.submitted_directory, ".", ".")
    try:
        with os.scandir(root) as entries:
            return sorted(e.name for e in entries if e.name != student and e.is_dir(follow_symlinks=False))
    except OSError:
        return []
