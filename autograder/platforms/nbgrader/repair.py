"""``RepairGradeCells``: one well-formed grade cell per graded id, whatever the student's metadata says.

Design
------
nbgrader finds grade and solution cells by the metadata inside the student's file, and fails
or mis-scores a student whose metadata is broken (issue 12): a duplicated grade_id, a grade cell
deleted or turned into Markdown, the nbgrader metadata stripped by an editor, or the work pasted
into a fresh notebook. The score never depended on those cells here (the isolated grader grades
the functions the notebook defines), so this step, the first sanitizing step after the ledger,
rebuilds them from the gradebook's source cells (what ``generate_assignment`` recorded):

* the first cell that claims a grade cell's grade_id becomes that grade cell, exactly as the
  gradebook has it (type, points, locked) and **without its hidden tests**, in code cells: the
  autograded notebook, and so every feedback file made from it, holds nothing secret. (A grade
  cell that is also a solution cell, a manually graded answer, keeps the student's answer.)
* a grade cell no cell claims is added back after the graded cell that precedes it in the
  source notebook (at the end if none does);
* the first cell claiming a solution cell keeps the student's code with the gradebook's metadata;
* any other nbgrader metadata (a second copy of an id, an id the gradebook does not know, a
  student's own "grade cell" with points, metadata that is not even a dict) is removed, so the
  cell counts as the student's own and cannot add points;
* cell ids are the course's (issue 21): every grade and solution cell gets its grade_id as its
  cell id; any other cell whose id is one of those, starts with ``RESERVED_PREFIX`` (the ids the
  autograder's own cells use, such as the notes cell), repeats an earlier id, or is not a valid
  nbformat id, is renamed ``cell-N`` (nbformat requires ids unique). So no student cell can share
  an id with a cell the course puts in or takes out.

Every repair a student could notice becomes a sentence in ``notes(key)``, which
``GradeInIsolation`` prints at the top of the autograded notebook, and so in the feedback.
nbgrader's own DeduplicateIds and CheckCellMetadata then find nothing to complain about.
"""

import copy
import re

from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor

from . import cells as grade_cells
from .record import key_of, running

SCHEMA_VERSION = 3       # nbgrader 0.9's cell metadata format
RESERVED_PREFIX = "autograder-"     # ids of the cells the autograder writes (verdicts.NOTES_CELL_ID)
VALID_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")     # nbformat 4.5's cell id pattern and length


def _claim(cell):
    """The grade_id a cell's metadata claims, or None (also for metadata that is not a dict)."""
    meta = cell.get("metadata", {}).get("nbgrader")
    if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
        return meta["grade_id"]
    return None


def canonical_cell(source_cell, max_score, is_solution, student_cell=None):
    """The grade cell ``source_cell`` (a gradebook SourceCell) as autograde should see it."""
    code = source_cell.cell_type == "code"
    source = source_cell.source
    if is_solution and student_cell is not None and student_cell.get("cell_type") == source_cell.cell_type:
        source = student_cell.get("source", "")         # a manually graded answer: the student's own
    elif code:
        source = grade_cells.split_hidden(source)[0]
    meta = {"grade": True, "grade_id": source_cell.name, "locked": bool(source_cell.locked),
            "points": float(max_score), "solution": bool(is_solution), "task": False,
            "schema_version": SCHEMA_VERSION, "cell_type": source_cell.cell_type,
            "checksum": source_cell.checksum}
    cell = {"cell_type": source_cell.cell_type, "metadata": {"nbgrader": meta}, "source": source,
            "id": source_cell.name}
    if code:
        cell.update(execution_count=None, outputs=[])
    return from_dict(cell)


def _missing_note(missing, had_any):
    """The note on grade cells added back: some were missing, or the notebook had none at all."""
    if not had_any:
        return ("Your notebook has none of the assignment's nbgrader cells (was the work copied into a new "
                "notebook?). The grade cells were added back and the functions your notebook defines were "
                "graded as usual.")
    were = "were" if len(missing) > 1 else "was"
    return ("Grade cell%s %s %s missing from your notebook and %s added back; your functions were graded as "
            "usual." % ("s" if len(missing) > 1 else "", ", ".join(missing), were, were))


class RepairGradeCells(NbGraderPreprocessor):
    """Rebuild grade and solution cells from the gradebook; strip every other nbgrader metadata."""

    use_ids = True

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            try:
                source_nb = gb.find_notebook(info["notebook"], info["assignment"])
            except MissingEntry:
                raise RuntimeError("the gradebook has no notebook %s in %s; run nbgrader generate_assignment"
                                   % (info["notebook"], info["assignment"])) from None
            order = [c.name for c in source_nb.source_cells]
            sources = {c.name: c for c in source_nb.source_cells}
            points = {c.name: c.max_score for c in source_nb.grade_cells}
            solutions = {c.name for c in source_nb.solution_cells}
            self.use_ids = (nb.nbformat, nb.nbformat_minor) >= (4, 5)      # cell ids exist from 4.5
            unreadable = bool((resources.get("autograder") or {}).get("unreadable"))    # reading.py's stand-in
            nb.cells, notes = self.repair(list(nb.cells), order, sources, points, solutions, unreadable)
        state = running.setdefault(key_of(resources), {"notes": []})
        state.setdefault("notes", []).extend(notes)
        for note in notes:
            self.log.warning("RepairGradeCells: %s", note)
        return nb, resources

    def repair(self, cells, order, sources, points, solutions, unreadable=False):
        """(new cells, notes) for ``cells``; see the module docstring. ``unreadable``: the cells stand in
        for a file that could not be read, so no note blames the student's notebook for lacking cells."""
        notes, placed, out = [], {}, []
        had_any = any(_claim(c) for c in cells)
        for cell in cells:
            claim = _claim(cell)
            has_meta = "nbgrader" in cell.get("metadata", {})
            if claim in points and claim not in placed:
                if cell.get("cell_type") != sources[claim].cell_type:
                    notes.append("Grade cell %s had been changed into a %s cell; it was put back as it was "
                                 "released." % (claim, cell.get("cell_type")))
                new = canonical_cell(sources[claim], points[claim], claim in solutions, cell)
                placed[claim] = len(out)
                out.append(new)
                continue
            if claim in solutions and claim not in placed and cell.get("cell_type") == sources[claim].cell_type:
                cell = copy.deepcopy(cell)
                cell.metadata["nbgrader"] = NotebookNode(
                    grade=False, grade_id=claim, locked=False, solution=True, task=False,
                    schema_version=SCHEMA_VERSION, cell_type=sources[claim].cell_type,
                    checksum=sources[claim].checksum)
                placed[claim] = len(out)
                out.append(cell)
                continue
            if has_meta:
                cell = copy.deepcopy(cell)
                del cell.metadata["nbgrader"]
                if claim in placed:
                    notes.append("A second cell named %s was found; only the first one counts as that cell, "
                                 "the other is graded as your own code." % claim)
                elif claim is not None and claim not in sources:
                    notes.append("A cell claimed to be the nbgrader cell %r, which this assignment does not "
                                 "have; it was treated as your own cell." % claim)
            for key in ("deletable", "editable"):
                cell.get("metadata", {}).pop(key, None)
            out.append(cell)
        missing = [name for name in order if name in points and name not in placed]
        for name in missing:
            new = canonical_cell(sources[name], points[name], name in solutions)
            before = [placed[n] for n in order[:order.index(name)] if n in placed]
            at = max(before) + 1 if before else len(out)
            out.insert(at, new)
            placed = {n: (i + 1 if i >= at else i) for n, i in placed.items()}
            placed[name] = at
        if missing and not unreadable:
            notes.append(_missing_note(missing, had_any))
        notes += self.course_ids(out, placed)
        return out, notes

    def course_ids(self, cells, placed):
        """Give placed cells their grade_id as id, rename every other cell that could be taken for one
        of the course's; returns notes on the renamed ones (cells are changed in place)."""
        if not self.use_ids:
            for cell in cells:
                cell.pop("id", None)
            return []
        canonical = {index: name for name, index in placed.items()}
        seen, notes, n = set(canonical.values()), [], 0
        for index, cell in enumerate(cells):
            if index in canonical:
                cell["id"] = canonical[index]
                continue
            old = cell.get("id")
            if isinstance(old, str) and VALID_ID.fullmatch(old) and old not in seen \
                    and not old.startswith(RESERVED_PREFIX):
                seen.add(old)
                continue
            while "cell-%d" % n in seen:
                n += 1
            cell["id"] = "cell-%d" % n
            seen.add(cell["id"])
            if isinstance(old, str) and (old in canonical.values() or old.startswith(RESERVED_PREFIX)):
                notes.append("A cell of yours had the id %r, which belongs to a cell of the course; it was "
                             "renamed %s." % (old[:64], cell["id"]))
        return notes
