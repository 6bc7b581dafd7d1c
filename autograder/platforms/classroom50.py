"""Classroom 50: grade a student's checkout and write ``./result.json`` (schema ``classroom50/result/v1``).

    python -m autograder classroom50-bundle FOLDER      (teacher: fill CLASSROOM/autograders/ASSIGNMENT/; deploy.py)
    python -m autograder classroom50-run [CHECKOUT]     (what FOLDER/autograder.py runs, per submission)

Design
------
Classroom 50 (foundation50/classroom50, wiki "Advanced Autograding") runs the teacher's
``CLASSROOM/autograders/ASSIGNMENT/autograder.py`` once per submission, with the student's
checkout as working directory and the identity of the submission in the environment. The
bundle command puts into that folder ``autograder.py`` (deploy/classroom50/), the grader's own
source and ``requirements.txt``, so the grader and the hidden tests come from the teacher's
repository, never from the student's checkout: ``autograder.py`` puts its own folder first on
``PYTHONPATH`` and runs ``classroom50-run`` from there.

``classroom50-run`` grades the checkout once and writes, into it:

* ``result.json``: ``schema``, the identity fields from the environment (``classroom``,
  ``assignment``, ``submission``, ``commit``, ``release``, ``review``; ``owner`` and
  ``assignment_type`` when set), ``datetime``, integer ``score`` and ``max-score``, and one test
  per rubric item with ``test-name``, ``passed``, ``score``, ``max-score``. The runner keeps
  extra fields of a test, so each also carries ``rubric-id`` and ``message`` (what the student
  reads, ``report.item_output``); notes that cost nothing go in a top-level ``notes`` list.
  The runner overwrites ``owner``, ``assignment_type`` and ``datetime`` with its own values.
* ``release-body.md``: the Markdown report (``report.markdown``), which the runner publishes as
  the body of the submission's Release and mirrors on the run's summary page. Student text in it
  (exception texts, notes, file names) sits in code spans and fences it cannot close, so it is shown,
  never rendered (no remote image, no link).

Both are written through ``sandbox/safefs.py`` after the student's code has stopped: atomically, never
through a link, and a file, link or folder the student committed at either name is replaced, so
student input never makes the adapter exit 2.

Exit status follows the runner's contract: 0 whenever it ran (points lost or not: the score is in
result.json); 2 when the grader itself failed (the runner then records an infrastructure error,
not a zero) or when the identity variables are missing (run outside Classroom 50 without them).
"""

import datetime
import os
import sys

from ..errors import UsageError
from ..grading import engine, report
from ..sandbox import safefs
from . import warn_without_private_user

SCHEMA = "classroom50/result/v1"
RESULT_FILE = "result.json"
BODY_FILE = "release-body.md"
# result.json field <- environment variable, all required by the runner's validation.
IDENTITY = (("classroom", "CLASSROOM"), ("assignment", "ASSIGNMENT"), ("submission", "SUBMISSION_TAG"),
            ("commit", "COMMIT_URL"), ("release", "RELEASE_URL"))
# Set by the runner too, and overwritten by it; written when present so the file is whole by itself.
OPTIONAL = (("owner", ("OWNER", "USERNAME")), ("assignment_type", ("ASSIGNMENT_TYPE",)))


def identity(env):
    """The identity fields of result.json from ``env``; UsageError naming every missing variable."""
    missing = [var for _, var in IDENTITY if not env.get(var)]
    if missing:
        raise UsageError("the environment lacks %s, which Classroom 50's runner sets for every submission; to try "
                         "the grader by hand, set them (see docs/classroom50.md, 'Try it locally')"
                         % ", ".join(missing))
    fields = {key: env[var] for key, var in IDENTITY}
    fields["review"] = env.get("REVIEW_URL") or env["COMMIT_URL"]
    for key, names in OPTIONAL:
        value = next((env[n] for n in names if env.get(n)), None)
        if value:
            fields[key] = value
    return fields


def result_document(result, env, now=None):
    """The result.json dict of one grading."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    tests = [{"test-name": "%s: %s" % (v.id, v.title), "passed": v.passed, "score": report.whole(v.points),
              "max-score": report.whole(v.max_points), "rubric-id": v.id, "message": report.item_output(v)}
             for v in result.verdicts]
    doc = {"schema": SCHEMA}
    doc.update(identity(env))
    doc.update({"datetime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "score": sum(t["score"] for t in tests), "max-score": sum(t["max-score"] for t in tests),
                "tests": tests})
    notes = [report.safe(n) for n in result.notes]
    if result.error:
        notes.insert(0, "The grader itself failed: " + report.safe(result.error))
    if notes:
        doc["notes"] = notes
    return doc


def run(checkout=".", env=None, stdout=None):
    """Grade CHECKOUT, write result.json and release-body.md into it; returns the exit status."""
    env = os.environ if env is None else env
    stdout = stdout or sys.stdout
    identity(env)                       # refuse before grading, not after
    warn_without_private_user("classroom50-run", stdout)
    try:
        result = engine.grade(checkout)
    except Exception as exc:   # a bug in the grader: still write a report, and exit 2 (infrastructure error)
        detail = "%s: %s" % (type(exc).__name__, exc)
        stdout.write("classroom50-run: the grader failed on %s (%s)\n" % (checkout, report.safe(detail)))
        result = report.fallback(checkout, detail)
    stdout.write(report.text(result))
    try:           # the checkout is the student's: a file, link or folder planted at either name is replaced
        report.write_json(result_document(result, env), os.path.join(checkout, RESULT_FILE), clear=True)
        safefs.write_bytes(os.path.join(checkout, BODY_FILE), report.markdown(result).encode("utf-8"), clear=True)
    except OSError as exc:
        raise UsageError("cannot write into %s: %s" % (checkout, exc.strerror or exc)) from None
    return report.EXIT_ERROR if result.error else 0


def add_subparsers(sub):
    r = sub.add_parser("classroom50-run", help="(run by autograder.py inside Classroom 50) grade the checkout, "
                                               "write result.json and release-body.md")
    r.add_argument("checkout", nargs="?", default=".", help="the student's checkout (default: '.')")
    r.set_defaults(handler=run_command)


def run_command(args):
    if not os.path.isdir(args.checkout):
        raise UsageError("%s is not a folder; run it in the student's checkout or pass its path" % args.checkout)
    return run(args.checkout)

