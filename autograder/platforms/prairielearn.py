"""PrairieLearn external grading: grade ``/grade/student``, write ``/grade/results/results.json``.

    python -m autograder prairielearn-bundle FOLDER      (instructor: files for the course repository; deploy.py)
    python -m autograder prairielearn-run [--root /grade] (what the entrypoint run.sh runs)

Design
------
PrairieLearn (docs/externalGrading.md) runs a question's external grader in a container: the
question's ``info.json`` names the image and an ``entrypoint``; the student's files are in
``/grade/student``, the course's shared files in ``/grade/serverFilesCourse``, and the grader
must create ``/grade/results/`` and write ``results.json`` there before the entrypoint ends.

The bundle puts the grader (hidden tests included) and the entrypoint ``run.sh`` into
``serverFilesCourse/random_init_grader/`` of the course repository, which PrairieLearn never
serves to students; the image (``Dockerfile`` in the bundle) holds only Python with numpy and
hypothesis pinned, because grading runs without network and installs nothing. ``info.json`` in
the bundle is the ``externalGradingOptions`` block to put into the question's ``info.json``.

``results.json`` follows the "Grading results" schema: ``gradable``, ``score`` in [0, 1],
``message``, ``output`` (the text report), and one test per rubric item with ``name`` (the
rubric id), ``description`` (its title), ``points``, ``max_points``, ``message`` (what the
student reads, ``report.item_output``) and ``output`` (empty: the message holds everything).
Input that cannot be graded is reported with ``"gradable": false``, PrairieLearn's "this input
cannot be graded, do not charge an attempt": a file that cannot be read or parsed, an empty upload,
a file that defines none of the three functions (the message says which, and how to fix it), and a
grading where the grader itself failed (the message says that the grader, not the submission, failed). The file is written after the
student's code has stopped, atomically, so nothing a submission planted in ``results/`` survives.
The image sets no USER, so the entrypoint runs as root and student code as a private user (SECURITY.md).
"""

import os
import sys

from .. import rubric
from ..errors import UsageError
from ..grading import engine, report
from ..sandbox import safefs
from . import warn_without_private_user

ROOT = "/grade"
RESULTS = os.path.join("results", "results.json")
SERVER_FOLDER = "random_init_grader"      # the folder under serverFilesCourse/ that holds the grader


def results_document(result):
    """The results.json dict of one grading."""
    head = "Score: %s/%d" % (report.num(result.score), rubric.TOTAL)
    notes = [report.safe(n) for n in result.notes]
    if result.error:
        why = ("Not graded: the grader itself failed (%s), not your submission. This attempt costs nothing; "
               "the details are in the grading job's log, which your instructor can read." % report.safe(result.error))
        return {"gradable": False, "message": why, "output": report.text(result), "tests": []}
    unreadable = report.unreadable(result)
    if unreadable:      # PrairieLearn's meaning of gradable: false: this input cannot be graded, charge nothing
        why = ("Not graded: %s. This attempt costs nothing; fix the file and submit it again."
               % report.safe(unreadable).rstrip("."))
        return {"gradable": False, "message": why, "output": report.text(result), "tests": []}
    tests = [{"name": v.id, "description": v.title, "points": v.points, "max_points": v.max_points,
              "message": report.item_output(v), "output": ""} for v in result.verdicts]
    return {"gradable": True, "score": round(result.score / rubric.TOTAL, 4),
            "message": "\n".join([head] + (["Notes (these cost no points):"] + notes if notes else [])),
            "output": report.text(result), "tests": tests}


def run(root=ROOT, stdout=None):
    """Grade ROOT/student and write ROOT/results/results.json; returns 0 once it is written."""
    stdout = stdout or sys.stdout
    student = os.path.join(root, "student")
    warn_without_private_user("prairielearn-run", stdout)
    try:
        result = engine.grade(student)
    except Exception as exc:   # the grader failed: the student still gets results that say so
        detail = "%s: %s" % (type(exc).__name__, exc)
        stdout.write("prairielearn-run: the grader failed on %s (%s)\n" % (student, report.safe(detail)))
        result = report.fallback(student, detail)
    stdout.write(report.text(result))
    try:
        report.write_json(results_document(result), os.path.join(root, RESULTS), clear=True)   # 0644: PL collects it
    except OSError as exc:
        raise UsageError("cannot write %s: %s" % (os.path.join(root, RESULTS), exc.strerror or exc)) from None
    return 0


def add_subparsers(sub):
    r = sub.add_parser("prairielearn-run", help="(run by run.sh inside PrairieLearn) grade /grade/student")
    r.add_argument("--root", default=os.environ.get("PL_GRADE_ROOT", ROOT),
                   help="the folder laid out like /grade (default: $PL_GRADE_ROOT or /grade)")
    r.set_defaults(handler=run_command)


def run_command(args):
    if not os.path.isdir(args.root):
        raise UsageError("no folder %s; pass --root (or set PL_GRADE_ROOT) to the folder that holds student/"
                         % args.root)
    return run(args.root)
