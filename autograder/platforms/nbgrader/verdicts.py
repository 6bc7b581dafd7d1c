"""``GradeInIsolation``: the isolated grader's verdicts become the grade cells' only outputs.

Design
------
nbgrader scores a code grade cell from its outputs: an error output scores 0, a number in an
execute_result scores that many points, anything else full points. This step (just before
nbgrader's ``SaveAutoGrades``) collects the isolated grader that ``RecordSubmission`` started
(``record.py``; it starts one now if that step did not run) and, in every grade cell whose
grade_id is ``rubric.grade_id(id)`` of a rubric id, writes the verdict as the cell's only
outputs: a box of text (``verdict_box``) that starts with the word PASSED or FAILED; for a
failed item, after it, an error output (one line) that makes nbgrader score 0; for a partly
earned item (should a rubric ever give one), nbgrader's partial-credit number. nbgrader's own
scoring then yields exactly the command line's score.

The box is a ``text/html`` display output (nbgrader scores those as neither error nor number)
with a ``text/plain`` copy. Pass and fail are said in a word as well as in colour, and the text
wraps: nbconvert's sanitiser (``c.HTMLExporter.sanitize_html``) removes ``style`` attributes, so
the box uses only classes of the Bootstrap 3 stylesheet that nbgrader's feedback and formgrader
pages load (``alert-success``/``alert-danger``: #3c763d on #dff0d8 is 4.6:1, #a94442 on #f2dede
4.5:1) and puts the text in ``<pre><code>``, which that stylesheet wraps. Every character of the
text is escaped (it quotes the student's names and values), so the box holds no markup but ours.

It also puts one Markdown cell at the top of the notebook, written by the grader, so that the
feedback says where the score came from, which file was graded (its SHA-256, as recorded in the
ledger), whose the other outputs are, and what ``RepairGradeCells`` had to repair.

A grader failure raises, so nbgrader reports that student as failed instead of recording a
score nobody computed.
"""

import json
import os
import shutil
import time

from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Integer, Unicode

from ... import rubric
from .. import without_private_user
from ...grading.report import num as _num
from . import leaks
from .inert import escape_html, escape_markdown
from .outputs import error
from .reading import coursedir_of
from .record import RecordSubmission, key_of, ledger_paths, record_score, running

NOTES_CELL_ID = "autograder-notes"
MAX_NOTES = 5       # grader notes quoted under a failed item; the rest are in the notes cell
# Bootstrap 3 classes of the verdict box (nbgrader's pages load that stylesheet); the second class
# of each lets a test or a course stylesheet find the boxes.
BOX_CLASSES = {True: "alert alert-success autograder-verdict autograder-passed",
               False: "alert alert-danger autograder-verdict autograder-failed"}
LABELS = {True: "PASSED", False: "FAILED"}


class GradeInIsolation(NbGraderPreprocessor):
    """Set every rubric grade cell's outputs from the isolated grader's verdicts."""

    grade_seconds = Integer(
        600, help="Longest wait for the isolated grader on one notebook.").tag(config=True)
    outputs_are_fresh = Bool(
        False, help="True when the notebook was run during autograde (execution mode); the notes cell "
                    "then does not call the other outputs the student's saved ones.").tag(config=True)
    footer = Unicode(
        "Graded by the autograder in a separate process, on many cases; the quick check in this cell "
        "tries only one.", help="Last line of the feedback of a failed item.").tag(config=True)

    def preprocess(self, nb, resources):
        started = time.monotonic()
        if without_private_user("nbgrader autograde"):
            self.log.warning(without_private_user("nbgrader autograde"))
        key = key_of(resources)
        state = running.get(key) or {}
        if state.get("job") is None:     # RecordSubmission did not run: record and start now
            RecordSubmission(parent=self.parent).preprocess(nb, resources)
            state = dict(running[key], notes=state.get("notes", []) + running[key].get("notes", []))
        running.pop(key, None)
        results = state["job"].wait(self.grade_seconds)
        record = record_score(state["ledger"], state["ledger_key"], state["record"], results)
        scrub = self.scrubber(key, state) or (lambda text: text)
        if state.get("scratch_ledger"):       # outside a course: nobody will audit it
            shutil.rmtree(state["scratch_ledger"], ignore_errors=True)
        tests = {t["tags"][0]: dict(t, output=scrub(t.get("output", ""))) for t in results["tests"] if t.get("tags")}
        folder = ((resources or {}).get("metadata") or {}).get("path")
        notes = _worth_reading(scrub(results.get("output", "")).splitlines(), folder)
        seen = set()
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            item_id = rubric.rubric_id(str(meta.get("grade_id", "")))
            if cell.cell_type != "code" or not meta.get("grade") or item_id not in tests or item_id in seen:
                continue
            test = tests[item_id]
            if float(meta.get("points", 0)) != float(test["max_score"]):
                self.log.warning("grade cell %s is worth %s points in the notebook but %s in the rubric; "
                                 "rebuild it with solutions/build_notebook.py", meta.get("grade_id"),
                                 meta.get("points"), test["max_score"])
            cell.outputs = self.outputs_for(item_id, test, notes)
            seen.add(item_id)
        unplaced = [i.id for i in rubric.ITEMS if i.id not in seen]
        if unplaced:     # nbgrader would keep an earlier autograde's points for them: fail this notebook
            raise RuntimeError("the autograded notebook has no grade cell for %s after RepairGradeCells; its "
                               "grades are not saved (is RepairGradeCells among the sanitize steps of "
                               "nbgrader_config.py?)" % ", ".join(unplaced))
        nb.cells.insert(0, self.notes_cell(nb, results, record, state.get("notes", []) + notes))
        self.log.info("GradeInIsolation: %s/%s points (waited %.1f s)", _num(results.get("score", 0)),
                      rubric.TOTAL, time.monotonic() - started)
        return nb, resources

    def scrubber(self, key, state):
        """leaks.Scrubber for this student's messages: no line may quote a course file they cannot read."""
        try:
            with open(ledger_paths(state["ledger"], *state["ledger_key"])[0], encoding="utf-8") as f:
                own = json.load(f)
        except (OSError, ValueError):
            own = {}
        return leaks.for_course(coursedir_of(self), *key, own)

    def notes_cell(self, nb, results, record, notes):
        if str(record.get("source", "")).startswith("refused"):
            lines = ["**Autograder: %s/%d points.** Your notebook was not graded: %s. Each test cell below says "
                     "so." % (_num(results.get("score", 0)), rubric.TOTAL,
                              escape_markdown(record["source"][len("refused: "):].rstrip(".")))]
        else:
            lines = ["**Autograder: %s/%d points.** The autograder graded the functions in the notebook you "
                     "handed in (SHA-256 `%s`) in a separate process, on many cases. Each test cell below shows "
                     "its verdict." % (_num(results.get("score", 0)), rubric.TOTAL, record["sha256"][:16])]
        if not self.outputs_are_fresh:
            lines.append("Your other cells were not run by the autograder: their outputs are the ones saved in "
                         "your notebook, and each is labelled so.")
        if notes:
            lines += ["", "Notes on your notebook:", ""]
            lines += ["* " + escape_markdown(n.replace("\n", " ")) for n in notes]     # notes quote the student
        cell = {"cell_type": "markdown", "metadata": {}, "source": "\n".join(lines)}
        if (nb.nbformat, nb.nbformat_minor) >= (4, 5):     # an id no cell holds (RepairGradeCells reserved it)
            taken, cell["id"], n = {c.get("id") for c in nb.cells}, NOTES_CELL_ID, 1
            while cell["id"] in taken:
                cell["id"], n = "%s-%d" % (NOTES_CELL_ID, n), n + 1
        return from_dict(cell)

    def outputs_for(self, item_id, test, notes=()):
        """The outputs that make nbgrader score ``test["score"]`` points for this cell."""
        score, top = float(test["score"]), float(test["max_score"])
        head = "%s: %s/%s points" % (item_id, _num(score), _num(top))
        if test.get("status") == "passed" and score >= top:
            return [verdict_box(True, ["%s. Passed: %s." % (head, rubric.BY_ID[item_id].title)])]
        lines = [head] + str(test.get("output", "")).splitlines()
        if notes:
            lines += ["", "Notes on your notebook:"] + ["  - " + n for n in notes[:MAX_NOTES]]
        lines += ["", self.footer]
        if score > 0:    # partial credit: nbgrader reads the number of an execute_result
            return [verdict_box(False, lines),
                    NotebookNode(output_type="execute_result", execution_count=None, metadata={},
                                 data={"text/plain": repr(score)})]
        return [verdict_box(False, lines),      # nbgrader scores an error output 0
                error("TestFailed", "%s failed" % item_id, ["FAILED: %s (why: the box above)" % head])]


def verdict_box(passed, lines):
    """A display output: ``lines`` after the word PASSED or FAILED, as escaped HTML in a coloured box
    whose text wraps, and as plain text for whatever shows no HTML."""
    label = LABELS[bool(passed)]
    text = "\n".join(str(line).replace("\x1b", "") for line in lines)   # no terminal colour codes either
    html = '<div class="%s"><strong>%s</strong>\n<pre><code>%s</code></pre></div>' % (
        BOX_CLASSES[bool(passed)], label, escape_html(text))
    return NotebookNode(output_type="display_data", metadata={},
                        data={"text/html": html, "text/plain": "%s  %s\n" % (label, text)})


def _worth_reading(notes, folder):
    """The grader's notes on a notebook, without "No module named 'lesson_tools'" and the like: the
    grader runs the student's functions on their own, without the modules shipped next to the
    notebook, and a student cannot act on that note."""
    shipped = set()
    if folder and os.path.isdir(folder):
        shipped = {os.path.splitext(n)[0] for n in os.listdir(folder) if n.endswith(".py")}
    return [n for n in notes if n.strip() and not any("No module named '%s'" % m in n for m in shipped)]
