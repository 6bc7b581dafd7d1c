"""Audit an nbgrader course: ``python -m autograder audit COURSE_DIR ASSIGNMENT``.

Design
------
The gradebook and the submitted files are files the instructor's user can write, and so could
anything that ever ran as that user (a kernel, or a process it left behind). The audit trusts
nothing written after submission:

* **The ledger** (``record.py``). At the start of autograde, ``RecordSubmission`` copied each
  submitted notebook into ``COURSE_DIR/autograde_ledger/`` with its SHA-256, before any other
  step ran, and ``GradeInIsolation`` added the score it got. The audit hashes the submitted
  file again (a file swapped after autograde is listed), checks the recorded copy against its
  recorded hash, and **regrades the recorded copy**, so a swapped file cannot launder a score.
  A notebook with grades but no record (autograded by another configuration) is regraded from
  the submitted file and listed, because nothing proves that file is the one handed in.
* **The gradebook.** Each grade cell whose grade_id is ``rubric.grade_id(id)``: its score (a
  manual grade if one is set, else the auto score) against the regrade's points for that id,
  and the recorded score against the regrade (they differ only if the grader's version did).
  Other grade cells (manually graded answers) and late penalties are not the grader's business.
* **Manual grades and extra credit on autograded cells** are listed whatever their value:
  nbgrader keeps no author or time for them, so a grade entered in formgrader cannot be told
  apart from one written by a process. The line says so, gives both numbers, and says whether
  the manual score changes the total; the instructor confirms their own.
* **Links.** Every submitted file is read as autograde reads it (``reading.read_below``): no link
  followed, from the course's submitted/ folder down, a regular file only. A submitted notebook
  (or a student's or assignment's folder) that is a link, a FIFO or a device is listed with the
  reason and the link's target, whatever the gradebook says (issue 21: a link to the solution
  scored 100 and the audit, which followed it, found nothing); so is any other link in a
  student's folder, with its target (autograde copies none of them).
* **Who is listed.** Every student for whom any of the above holds, a student with a submitted
  notebook the gradebook has no grades for (not autograded yet), and one with grades but no file.
* Speed. Regrading runs in ``batch_pool.Pool`` worker processes, one per core (``-j``).
* nbgrader is an optional extra: it is imported inside the command only, and its absence gives a
  clear message and exit status 2, never a traceback at ``python -m autograder`` start-up.

Exit status: 0 every student agrees; 1 some students are listed; 2 the audit could not run.
"""

import hashlib
import json
import os
import sys
import tempfile

from ... import rubric
from ...errors import UsageError
from ...sandbox import safefs
from ...sandbox.submission import MAX_NOTEBOOK_BYTES
from ...grading.report import num
from ..batch_pool import Pool, default_jobs

INSTALL_HINT = ("install it with: pip install 'random-init-autograder[nbgrader]' "
                "(or pip install nbgrader==0.9.6) in this Python")
LEDGER = "autograde_ledger"      # record.LEDGER; not imported, so that nbgrader stays optional here
TOLERANCE = 1e-9                 # scores are sums of rubric points; any real difference is >= 0.5


class AuditError(UsageError):
    """The audit cannot run; the message names the cause and the fix."""


def _nbgrader_api():
    try:
        from nbgrader.api import Gradebook, MissingEntry  # lazy: optional extra [nbgrader], said when missing
    except ImportError as exc:
        raise AuditError("the audit reads nbgrader's gradebook, but nbgrader cannot be imported (%s); %s"
                         % (exc, INSTALL_HINT)) from None
    return Gradebook, MissingEntry


def read_gradebook(db_url, assignment):
    """(notebook names, {(student, notebook): {rubric id: (score, manual_score, extra_credit)}})."""
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
                        cells[item_id] = (float(grade.score or 0.0), grade.manual_score, grade.extra_credit)
                if any(g.auto_score is not None or g.manual_score is not None for g in notebook.grades):
                    scores[(submission.student_id, notebook.name)] = cells
    return notebooks, scores


def submitted_notebooks(course, assignment, notebooks):
    """{(student, notebook): path} of every submitted notebook of the assignment (links included: they
    are listed, never followed)."""
    root = os.path.join(course, "submitted")
    found = {}
    if not os.path.isdir(root):
        return found
    for student in sorted(os.listdir(root)):
        for notebook in notebooks:
            path = os.path.join(root, student, assignment, notebook + ".ipynb")
            if os.path.lexists(path) or os.path.islink(os.path.join(root, student)) \
                    or os.path.islink(os.path.join(root, student, assignment)):
                found[(student, notebook)] = path
    return found


def read_submitted(course, path):
    """(bytes, None) of a submitted file read as autograde reads it, or (None, why it is refused)."""
    # lazy: optional extra [nbgrader]: reading.py imports nbformat, and ``--help`` imports this module without it
    from .reading import SubmissionRefused, read_below
    root = os.path.join(course, "submitted")
    try:
        return read_below(root, os.path.relpath(path, root), MAX_NOTEBOOK_BYTES), None
    except SubmissionRefused as exc:
        return None, "%s%s" % (exc, _link_target(root, path))
    except OSError as exc:
        return None, "cannot be read (%s)" % (exc.strerror or exc)


def folder_links(course, assignment, student):
    """["rel -> target"] of every link in a student's submitted folder (the folder itself included)."""
    root = os.path.join(course, "submitted")
    folder = os.path.join(root, student, assignment)
    found = [os.path.relpath(p, root) for p in (os.path.join(root, student), folder) if os.path.islink(p)]
    if not found:
        for here, dirs, files in os.walk(folder):
            found += [os.path.relpath(os.path.join(here, n), root) for n in dirs + files
                      if os.path.islink(os.path.join(here, n))]
    return ["%s -> %s" % (rel, os.readlink(os.path.join(root, rel))[:200]) for rel in sorted(found)]


def _link_target(root, path):
    """' (a link to X)' for the first link on ``path`` below ``root``, else ''."""
    here = root
    for part in os.path.relpath(path, root).split(os.sep):
        here = os.path.join(here, part)
        if os.path.islink(here):
            return " (%s is a link to %r)" % (os.path.relpath(here, root), os.readlink(here)[:200])
    return ""


def _sha256(path):
    """The SHA-256 of a file read with no link followed (paths come from the course's real path), or None."""
    try:
        return hashlib.sha256(safefs.read_regular(path, MAX_NOTEBOOK_BYTES)).hexdigest()
    except OSError:
        return None


def read_ledger(ledger, assignment, keys):
    """{key: (record, recorded copy's path, its hash now)} for every key the ledger recorded."""
    found = {}
    for student, notebook in keys:
        folder = os.path.join(ledger, assignment, student)
        try:
            with open(os.path.join(folder, notebook + ".json"), encoding="utf-8") as f:
                record = json.load(f)
        except (OSError, ValueError):
            continue
        copy = os.path.join(folder, notebook + ".ipynb")
        found[(student, notebook)] = (record, copy, _sha256(copy))
    return found


def regrade(paths, jobs=None):
    """({key: {rubric id: points}}, {key: why the grader failed}) for {key: path}, in worker processes."""
    rows = {}
    if paths:
        pool = Pool(jobs or default_jobs())
        pool.run(sorted(paths.items()), lambda key, row: rows.__setitem__(key, row))
    points, failed = {}, {}
    for key in paths:
        row = rows.get(key) or {"status": "error", "detail": "no result"}
        if row.get("status") == "graded":
            points[key] = row["points"]
        else:
            failed[key] = str(row.get("detail") or "the grader failed")
    return points, failed


def _cells(entry):
    """A gradebook entry as {id: (score, manual, extra)}; (score, manual?) pairs are accepted too."""
    out = {}
    for item_id, value in entry.items():
        score, manual, extra = (tuple(value) + (None, None))[:3]
        out[item_id] = (score, score if manual is True else (None if manual is False else manual), extra)
    return out


def ledger_reasons(key, submitted, ledger, refused=None):
    """Sentences on the ledger's evidence for one notebook (empty when it all checks out)."""
    if key in (refused or {}):
        record = ledger.get(key, (None,))[0]
        if record is not None and not str(record.get("source", "")).startswith("refused"):
            return ["the submitted file is refused now (%s); it was a regular file at autograde, and the "
                    "recorded copy was regraded" % refused[key]]
        return ["the submitted file is refused (%s) and was not graded" % refused[key]]
    if key not in ledger:
        return ["no autograde record in the ledger: nothing proves the submitted file is the one handed in "
                "(autograded without this course's nbgrader_config.py?)"]
    record, _, copy_hash = ledger[key]
    reasons = []
    if copy_hash != record.get("sha256"):
        reasons.append("the ledger's copy no longer matches its recorded SHA-256 %s" % record.get("sha256", "?")[:16])
    now = _sha256(submitted[key]) if key in submitted else None
    if now is None:
        reasons.append("the submitted file is gone")
    elif now != record.get("sha256"):
        reasons.append("the submitted file changed after autograde (recorded SHA-256 %s, now %s); the recorded "
                       "copy was regraded" % (record["sha256"][:16], now[:16]))
    return reasons


def _links(student, links):
    found = (links or {}).get(student)
    return ["links in the submitted folder (autograde copies none of them): %s" % ", ".join(found)] if found else []


def _refusal(key, refused):
    return ["the submitted file is refused (%s)" % refused[key]] if key in (refused or {}) else []


def compare(book, regraded, submitted, failed=None, ledger=None, refused=None, links=None):
    """[{student, notebook, gradebook, isolated, items, why}] for every notebook to look at, sorted.
    ``refused``: {key: why} of submitted files that are links or not regular files; ``links``:
    {student: ["rel -> target"]} of links found in their folders."""
    listed = []
    for key in sorted(set(book) | set(submitted)):
        student, notebook = key
        cells = _cells(book[key]) if key in book else None
        total = None if cells is None else sum(c[0] for c in cells.values())
        if key in (failed or {}):
            listed.append(dict(student=student, notebook=notebook, isolated=None, items=[], gradebook=total,
                               why="could not be regraded: %s" % failed[key]))
            continue
        fresh = regraded.get(key)
        isolated = sum(fresh.values()) if fresh is not None else 0.0
        if cells is None:
            listed.append(dict(student=student, notebook=notebook, gradebook=None, isolated=isolated, items=[],
                               why="; ".join(["submitted but not autograded"] + _refusal(key, refused)
                                             + _links(student, links))))
            continue
        reasons = _refusal(key, refused) if ledger is None or key not in submitted and key not in ledger else \
            ledger_reasons(key, submitted, ledger, refused)
        reasons += _links(student, links)
        if fresh is None:
            fresh = {item.id: 0.0 for item in rubric.ITEMS}
        items, manual_changes = [], False
        for item in rubric.ITEMS:
            had, manual, extra = cells.get(item.id, (None, None, None))
            now = float(fresh.get(item.id, 0.0))
            if had is None or abs(had - now) > TOLERANCE:
                items.append((item.id, had, now))
                manual_changes = manual_changes or manual is not None
            if manual is not None:
                reasons.append("manual score %s on the autograded cell %s (isolated grader: %s)%s; nbgrader does "
                               "not record who set it: confirm it is yours"
                               % (num(manual), item.id, num(now), "" if abs(float(manual) - now) <= TOLERANCE
                                  else ", which changes the total"))
            if extra:
                reasons.append("extra credit %s on the autograded cell %s; nbgrader does not record who set it: "
                               "confirm it is yours" % (num(extra), item.id))
        if ledger is not None and key in ledger and ledger[key][0].get("score") is not None \
                and abs(float(ledger[key][0]["score"]) - isolated) > TOLERANCE:
            reasons.append("the score recorded at autograde (%s) differs from the regrade" % num(ledger[key][0]["score"]))
        if items:
            reasons.insert(0, "no submitted file" if key not in submitted and not (ledger and key in ledger) else
                           "includes a manual grade" if manual_changes else "gradebook differs from the isolated grader")
        if reasons:
            listed.append(dict(student=student, notebook=notebook, isolated=isolated, items=items,
                               why="; ".join(reasons), gradebook=total))
    return listed


def audit(course, assignment, db_url=None, jobs=None, ledger_dir=LEDGER):
    """(number of notebooks audited, [notebooks to look at]); raises AuditError."""
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
    course = os.path.realpath(course)     # the instructor's own path may hold links; nothing below it may
    notebooks, book = read_gradebook(db_url, assignment)
    submitted = submitted_notebooks(course, assignment, notebooks)
    refused = {key: why for key, why in ((k, read_submitted(course, p)[1]) for k, p in submitted.items()) if why}
    ledger = read_ledger(os.path.join(course, ledger_dir), assignment, set(book) | set(submitted))
    with tempfile.TemporaryDirectory(prefix="autograder-audit-") as tmp:
        paths = {key: path for key, path in submitted.items() if key not in refused}
        for n, (key, (record, copy, copy_hash)) in enumerate(sorted(ledger.items())):
            if str(record.get("source", "")).startswith("refused"):    # no file was recorded: nothing to regrade
                continue
            if copy_hash == record.get("sha256"):       # regrade what was handed in, not what is there now
                os.mkdir(os.path.join(tmp, str(n)))
                paths[key] = os.path.join(tmp, str(n), key[1] + ".ipynb")
                with open(copy, "rb") as src, open(paths[key], "wb") as dst:
                    dst.write(src.read())
        regraded, failed = regrade(paths, jobs)
    links = {s: folder_links(course, assignment, s) for s in {k[0] for k in set(book) | set(submitted)}}
    return len(set(book) | set(submitted)), compare(book, regraded, submitted, failed, ledger, refused, links)


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
    p.add_argument("--ledger", default=LEDGER, metavar="DIR",
                   help="the autograde ledger, relative to COURSE_DIR (default: %s)" % LEDGER)
    p.set_defaults(handler=command)


def command(args):
    count, listed = audit(args.course, args.assignment, args.db, args.jobs, args.ledger)
    sys.stdout.write(report(count, listed))
    return 1 if listed else 0
