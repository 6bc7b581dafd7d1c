"""Audit an nbgrader course: ``python -m autograder audit COURSE_DIR ASSIGNMENT``.

Design
------
``nbgrader autograde`` with this course's configuration writes into the gradebook the verdicts
of the isolated grader (``nbgrader_plugin.GradeInIsolation``). But the gradebook is a file the
instructor's user can write, and so could a student's kernel that ran as that user during
autograde; a course may also have been autograded with a configuration that lacked the plugin.
The audit trusts none of that: it regrades every submitted notebook from scratch, in the grader's
own child processes (the same ``engine.grade`` as ``python -m autograder grade``), and compares
the result with the gradebook, grade cell by grade cell.

* Where things are. The gradebook is ``COURSE_DIR/gradebook.db`` (or ``--db URL``); submissions
  are ``COURSE_DIR/submitted/<student>/<ASSIGNMENT>/<notebook>.ipynb``, as ``nbgrader collect``
  or ``zip_collect`` leave them, for every notebook of the assignment in the gradebook.
* What is compared. Each grade cell whose grade_id is ``rubric.grade_id(id)`` of a rubric id:
  its score in the gradebook (a manual grade, if an instructor gave one, else the auto score)
  against the points the regrading gives that rubric item. Grade cells of other ids (manually
  graded answers, say) and late penalties are not the grader's business and are left out.
* Who is listed. Every student for whom some cell differs, a student with a submitted notebook
  the gradebook has no grades for (not autograded yet), and a student with gradebook grades but
  no submitted file. A difference caused by a manual grade is marked as such: it may be
  intended, but the instructor should know.
* Speed. Regrading runs in ``batch.Pool`` worker processes, one per core (``-j``).
* nbgrader is an optional extra: it is imported inside the command only, and its absence gives a
  clear message and exit status 2, never a traceback at ``python -m autograder`` start-up.

Exit status: 0 every student agrees; 1 some students are listed; 2 the audit could not run.
"""

import os
import sys

from ... import rubric
from ...errors import UsageError
from ...grading.report import num

INSTALL_HINT = ("install it with: pip install 'random-init-autograder[nbgrader]' "
                "(or pip install nbgrader==0.9.6) in this Python")


class AuditError(UsageError):
    """The audit cannot run; the message names the cause and the fix."""


def _nbgrader_api():
    try:
        from nbgrader.api import Gradebook, MissingEntry
    except ImportError as exc:
        raise AuditError("the audit reads nbgrader's gradebook, but nbgrader cannot be imported (%s); %s"
                         % (exc, INSTALL_HINT)) from None
    return Gradebook, MissingEntry


def read_gradebook(db_url, assignment):
    """(notebook names, {(student, notebook): {rubric id: (score, manual?)}}) from the gradebook."""
    Gradebook, MissingEntry = _nbgrader_api()
    scores = {}
    with Gradebook(db_url) as gb:
        try:
            notebooks = sorted(nb.name for nb in gb.find_assignment(assignment).notebooks)
        except MissingEntry:
            raise AuditError("the gradebook has no assignment %r; run nbgrader generate_assignment %s "
                             "first, or check the name" % (assignment, assignment)) from None
        for submission in gb.assignment_submissions(assignment):
            for notebook in submission.notebooks:
                cells = {}
                for grade in notebook.grades:
                    item_id = rubric.rubric_id(grade.name)
                    if item_id in rubric.BY_ID:
                        cells[item_id] = (float(grade.score or 0.0), grade.manual_score is not None)
                if any(g.auto_score is not None or g.manual_score is not None for g in notebook.grades):
                    scores[(submission.student_id, notebook.name)] = cells
    return notebooks, scores


def submitted_notebooks(course, assignment, notebooks):
    """{(student, notebook): path} of every submitted notebook of the assignment."""
    root = os.path.join(course, "submitted")
    found = {}
    if not os.path.isdir(root):
        return found
    for student in sorted(os.listdir(root)):
        for notebook in notebooks:
            path = os.path.join(root, student, assignment, notebook + ".ipynb")
            if os.path.isfile(path):
                found[(student, notebook)] = path
    return found


def regrade(paths, jobs=None):
    """({key: {rubric id: points}}, {key: why the grader failed}) for {key: path}, in worker processes."""
    from .. import batch
    rows = {}
    if paths:
        pool = batch.Pool(jobs or batch.default_jobs())
        pool.run(sorted(paths.items()), lambda key, row: rows.__setitem__(key, row))
    points, failed = {}, {}
    for key in paths:
        row = rows.get(key) or {"status": "error", "detail": "no result"}
        if row.get("status") == "graded":
            points[key] = row["points"]
        else:
            failed[key] = str(row.get("detail") or "the grader failed")
    return points, failed


def compare(book, regraded, submitted, failed=None):
    """[{student, notebook, gradebook, isolated, items, why}] for every disagreement, sorted."""
    listed = []
    for key in sorted(set(book) | set(submitted)):
        student, notebook = key
        cells = book.get(key)
        if key in (failed or {}):
            listed.append(dict(student=student, notebook=notebook, isolated=None, items=[],
                               gradebook=None if cells is None else sum(s for s, _ in cells.values()),
                               why="could not be regraded: %s" % failed[key]))
            continue
        fresh = regraded.get(key)
        isolated = sum(fresh.values()) if fresh is not None else 0.0
        if cells is None:
            listed.append(dict(student=student, notebook=notebook, gradebook=None, isolated=isolated, items=[],
                               why="submitted but not autograded"))
            continue
        if fresh is None:
            fresh = {item.id: 0.0 for item in rubric.ITEMS}
        items, manual = [], False
        for item in rubric.ITEMS:
            had, was_manual = cells.get(item.id, (None, False))
            now = float(fresh.get(item.id, 0.0))
            if had is None or abs(had - now) > 1e-9:
                items.append((item.id, had, now))
                manual = manual or was_manual
        if items:
            why = "no submitted file" if key not in submitted else (
                "includes a manual grade" if manual else "gradebook differs from the isolated grader")
            listed.append(dict(student=student, notebook=notebook, isolated=isolated, items=items, why=why,
                               gradebook=sum(score for score, _ in cells.values())))
    return listed


def audit(course, assignment, db_url=None, jobs=None):
    """(number of notebooks audited, [disagreements]); raises AuditError."""
    _nbgrader_api()        # first: without nbgrader, say so before anything else
    if not os.path.isdir(course):
        raise AuditError("%s is not a folder; give the course folder (where nbgrader_config.py and "
                         "gradebook.db are)" % course)
    if db_url is None:
        db = os.path.join(os.path.abspath(course), "gradebook.db")
        if not os.path.isfile(db):
            raise AuditError("there is no gradebook at %s; run the audit on the folder where you run nbgrader, "
                             "or pass --db URL" % db)
        db_url = "sqlite:///" + db
    notebooks, book = read_gradebook(db_url, assignment)
    submitted = submitted_notebooks(course, assignment, notebooks)
    regraded, failed = regrade(submitted, jobs)
    return len(set(book) | set(submitted)), compare(book, regraded, submitted, failed)


def _or_dash(x):
    return "-" if x is None else num(x)


def report(count, listed):
    """The text the command prints."""
    lines = []
    for row in listed:
        lines.append("%-20s %-14s gradebook %6s  isolated %6s  %s" % (
            row["student"], row["notebook"], _or_dash(row["gradebook"]), _or_dash(row["isolated"]), row["why"]))
        for item_id, had, now in row["items"]:
            lines.append("    %-22s gradebook %6s  isolated %6s" % (item_id, _or_dash(had), _or_dash(now)))
    students = len({row["student"] for row in listed})
    lines.append("Audited %d submitted notebook%s: %s." % (
        count, "" if count == 1 else "s",
        "every gradebook score equals the isolated grader's" if not listed else
        "%d student%s listed above" % (students, "" if students == 1 else "s")))
    return "\n".join(lines) + "\n"


def add_subparsers(sub):
    p = sub.add_parser("audit", help="regrade an nbgrader course's submissions in isolation and list every "
                                     "student whose gradebook score differs")
    p.add_argument("course", metavar="COURSE_DIR",
                   help="the nbgrader course folder (holds gradebook.db, submitted/)")
    p.add_argument("assignment", metavar="ASSIGNMENT", help="the assignment name, e.g. random_init")
    p.add_argument("--db", metavar="URL",
                   help="the gradebook's database URL (default: sqlite:///COURSE_DIR/gradebook.db)")
    p.add_argument("-j", "--jobs", type=int, default=None, help="worker processes (default: one per core)")
    p.set_defaults(handler=command)


def command(args):
    count, listed = audit(args.course, args.assignment, args.db, args.jobs)
    sys.stdout.write(report(count, listed))
    return 1 if listed else 0
