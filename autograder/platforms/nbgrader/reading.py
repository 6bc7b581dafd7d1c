"""One notion of a readable notebook: what nbgrader reads is what the engine grades (issue 21).

Design
------
nbgrader parses ``submitted/<student>/<assignment>/<notebook>.ipynb`` with nbformat before any
autograde step runs, and nbformat is stricter than the engine: a UTF-8 byte-order mark (which
Windows Notepad writes) or an output nested 700 levels deep made nbgrader fail on a notebook that
``python -m autograder grade`` scored 100, so the student got no grade and no feedback. And every
open followed links: a submitted notebook that was a link to the solution was graded as the
student's.

``ReadSubmission`` is the course's nbgrader exporter (``c.Autograde.exporter_class``). It reads
each notebook with ``read_below``: from the course's submitted/ folder down, with no link followed
on the way (a student's or an assignment's folder that is a link is refused too) or at the file
itself, only a regular file, at most the engine's ``MAX_NOTEBOOK_BYTES``, through the engine's
own read side (``sandbox/safefs.read_regular``). Then
``normalise`` removes a byte-order mark and drops any part of a cell nested deeper than
``MAX_DEPTH`` (outputs become one line saying so; metadata is emptied), with a note, and nbformat
parses the result. ``RecordSubmission`` records the same bytes (``record.py``), so the ledger and
the score belong to the file as handed in.

A file that cannot be read (a link, a FIFO, broken JSON, not UTF-8) becomes a stand-in notebook
with no cells and ``resources["autograder"]["unreadable"]`` set to the reason. The course then
still gives that student a grade and feedback: ``RepairGradeCells`` adds the grade cells back
without claiming the student's notebook lacked them, the engine's own message (for a regular
file) or the refusal (for a link or a device) is the verdict of every item, 0 points, and the
notes cell says why. The command line says the same for a file it cannot read.
"""

import json
import os

import nbformat
from nbconvert.exporters import NotebookExporter

from ...sandbox import safefs
from ...sandbox.submission import MAX_NOTEBOOK_BYTES   # the engine's cap: every file it reads, nbgrader reads

MAX_DEPTH = 64                     # nesting of one cell's parts: nbformat's own notebooks need under 10


SubmissionRefused = safefs.Refused     # a link, not a regular file, too large; ``str`` says why


def read_below(root, relative, limit):
    """The bytes of the regular file ``root/relative``, reached with no link followed below ``root``.

    ``root`` is the course's own folder, trusted: its real path is taken (a course reached through a
    link of the instructor's works). Below it, the engine's read side (``sandbox.safefs.read_regular``)
    refuses any link, on the way down or at the file, anything but a regular file, and more than
    ``limit`` bytes. Raises ``SubmissionRefused`` (with the reason) or ``OSError`` (missing, unreadable)."""
    parts = [p for p in relative.split(os.sep) if p not in ("", ".")]
    if ".." in parts or not parts:
        raise SubmissionRefused(relative, "is not a path inside %s" % root)
    return safefs.read_regular(os.path.join(os.path.realpath(root), *parts), limit)


class Unreadable(ValueError):
    """Bytes that are no notebook; ``str`` says why, in the engine's words where it has them."""


def depth(value, limit=MAX_DEPTH):
    """How deeply ``value`` nests lists and dicts, counted without recursion, up to ``limit`` + 1."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def _flatten_cell(cell, number, notes):
    """Replace the parts of one cell nested deeper than MAX_DEPTH; adds a note per cell changed."""
    changed = []
    for key in list(cell):
        if depth(cell[key]) <= MAX_DEPTH:
            continue
        if key == "outputs":
            cell[key] = [{"output_type": "stream", "name": "stdout",
                          "text": "[outputs removed: nested more than %d levels deep]\n" % MAX_DEPTH}]
        elif key == "metadata":
            cell[key] = {}
        elif key == "source":
            cell[key] = ""
        else:
            del cell[key]
        changed.append(key)
    if changed:
        notes.append("Cell %d: its %s %s nested more than %d levels deep and %s removed (nothing "
                     "graded is lost)." % (number, " and ".join(changed), "was" if len(changed) == 1 else "were",
                                           MAX_DEPTH, "was" if len(changed) == 1 else "were"))


def normalise(data, name):
    """(notebook JSON with a BOM and pathological nesting removed, [notes]); raises Unreadable."""
    try:
        nb = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise Unreadable("%s is not UTF-8 text (byte %d cannot be read); open it in Jupyter, save it again and "
                         "resubmit" % (name, exc.start)) from None
    except RecursionError:
        raise Unreadable("%s is not a readable notebook (its JSON is nested too deeply); open it in Jupyter, "
                         "save it again and resubmit" % name) from None
    except ValueError:
        raise Unreadable("%s is not a readable notebook (its JSON is broken or cut off); open it in Jupyter, "
                         "save it again and resubmit" % name) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells", nb.get("worksheets")), list):
        raise Unreadable("%s has no list of cells; is it really a Jupyter notebook?" % name)
    notes = []
    if data.startswith(b"\xef\xbb\xbf"):
        notes.append("Your notebook began with a byte-order mark, which was ignored.")
    cells = nb.get("cells")
    if cells is None:       # nbformat 3
        cells = [c for w in nb["worksheets"] if isinstance(w, dict) for c in w.get("cells", [])]
    for number, cell in enumerate(cells, 1):
        if isinstance(cell, dict):
            _flatten_cell(cell, number, notes)
    if depth(nb.get("metadata", {})) > MAX_DEPTH:
        nb["metadata"] = {}
        notes.append("The notebook's metadata was nested more than %d levels deep and was removed." % MAX_DEPTH)
    return nb, notes


def parse(nb, name):
    """A NotebookNode (nbformat 4) of normalised JSON; raises Unreadable if nbformat cannot make one."""
    try:
        return nbformat.reads(json.dumps(nb), as_version=4)
    except Exception as exc:      # nbformat raises many kinds on odd JSON; every one means "unreadable"
        raise Unreadable("%s: nbformat cannot read it (%s); open it in Jupyter, save it again and resubmit"
                         % (name, str(exc)[:200] or type(exc).__name__)) from None


def coursedir_of(step):
    """The nbgrader CourseDirectory of the converter running ``step`` (an exporter or a preprocessor), or None."""
    node = step
    while node is not None and getattr(node, "coursedir", None) is None:
        node = getattr(node, "parent", None)
    return getattr(node, "coursedir", None)


def location(coursedir, path):
    """(root, path below it) to read ``path`` from: below the course's submitted/ folder when it is
    there (so a student's folder that is a link is refused too), else its own folder."""
    path = os.path.abspath(path)
    if coursedir is not None:
        root = os.path.abspath(coursedir.format_path(coursedir.submitted_directory, ".", "."))
        if path.startswith(root + os.sep):
            return root, os.path.relpath(path, root)
    return os.path.split(path)


def read_notebook(root, relative):
    """(NotebookNode, notes, unreadable reason or None) of ``root/relative``; never raises for its contents."""
    name = os.path.basename(relative)
    try:
        nb, notes = normalise(read_below(root, relative, MAX_NOTEBOOK_BYTES), name)
        return parse(nb, name), notes, None
    except (SubmissionRefused, Unreadable) as exc:
        return nbformat.v4.new_notebook(), [], str(exc)


class ReadSubmission(NotebookExporter):
    """nbgrader's notebook exporter, reading with ``read_notebook``: no link, BOM or deep nesting
    keeps a notebook the engine grades out of the course."""

    def from_filename(self, filename, resources=None, **kw):
        resources = dict(resources or {})
        nb, notes, unreadable = read_notebook(*location(coursedir_of(self), filename))
        resources["autograder"] = {"notes": notes, "unreadable": unreadable}
        if unreadable:
            self.log.warning("ReadSubmission: %s", unreadable)
        resources.setdefault("metadata", {})
        resources["metadata"].setdefault("name", os.path.splitext(os.path.basename(filename))[0])
        resources["metadata"].setdefault("path", os.path.dirname(filename))
        return self.from_notebook_node(nb, resources, **kw)
