"""Coursera custom graders: grade ``/shared/submission/``, write ``/shared/feedback.json`` and HTML feedback.

    python -m autograder coursera-bundle OUT.zip        (instructor: the zip to upload to Coursera; deploy.py)
    python -m autograder coursera-run [--shared /shared] (what the image's entry script runs)

Design
------
A Coursera custom grader (coursera/programming-assignments-demo, custom-graders/v2, and the
``coursera_autograder`` tool) is a Docker image. For each submission Coursera starts it without
network, as a non-root user, with the learner's file in ``/shared/submission/`` (renamed to the
part's suggested file name) and the part in the environment variable ``partId``. The grader
writes ``/shared/feedback.json``: ``fractionalScore`` (a number in [0, 1]) and ``feedback`` (plain
text), and here also ``"feedbackType": "HTML"`` with the page in ``/shared/htmlFeedback.html``;
Coursera then shows the learner only that page. Standard output and error are for instructors.

``coursera-run`` grades the folder ``/shared/submission`` (a ``.py`` file or a notebook, whatever
its name), and writes both files atomically after the student's code has stopped, so a file the
submission planted there is replaced. The HTML page is ``grading.html.student_page(result)``;
``feedback`` is the same report as text (``report.text``), escaped as HTML to match ``feedbackType``,
so markup in a student's exception text is shown, never run.
Nothing goes to standard output; the text report and the part id go to standard error, which
only instructors see. It exits 0 whenever feedback.json was written, also when the grader itself
failed (the feedback then says the submission was not graded; the traceback is in standard error).

This assignment has one part, so every ``partId`` is graded alike; an unset ``partId`` is noted in
standard error and grading goes on. ``--shared`` (or ``$COURSERA_SHARED``) replaces ``/shared`` so
the entry script can be tried, and tested, on a folder laid out like it.
"""

import html
import os
import re
import signal
import sys
import traceback

from .. import rubric
from ..errors import UsageError
from ..grading import engine, report
from ..grading.html import student_page
from ..sandbox import safefs
from . import warn_without_private_user

SHARED = "/shared"
FEEDBACK = "feedback.json"
HTML_FEEDBACK = "htmlFeedback.html"
FEEDBACK_LIMIT = 64 * 1024    # Coursera trims the feedback text to 64 KB before a learner sees it
READABLE = 0o644              # whoever collects the files, as whatever user, can read them
_PARTIAL_ENTITY = re.compile(r"&[#0-9a-zA-Z]*\Z")     # an entity the 64 KB cut split in two


def feedback_document(result):
    """The feedback.json dict of one grading: ``feedback`` is the text report as escaped HTML, because
    ``feedbackType`` says HTML (markup in an exception text is shown, never run)."""
    text = html.escape(report.text(result), quote=False)
    if len(text.encode("utf-8")) > FEEDBACK_LIMIT:
        cut = text.encode("utf-8")[:FEEDBACK_LIMIT - 100].decode("utf-8", "ignore")
        text = _PARTIAL_ENTITY.sub("", cut) + "\n[report cut at 64 KB]\n"
    return {"fractionalScore": round(result.score / rubric.TOTAL, 4), "feedback": text, "feedbackType": "HTML"}


def stop_leftovers():
    """In Coursera's container (first process, not root): kill every other process of this user.

    There student code runs as the grader's own user, so a process it left behind (setsid, double
    fork) could rewrite feedback.json after the grader wrote it. Inside the container every other
    process of this user is such a leftover. Outside one (pid != 1) the same user owns unrelated
    processes, so nothing is done; as root the sandbox already ran student code as a user of its own.
    """
    if os.getpid() == 1 and os.geteuid() != 0:
        try:
            os.kill(-1, signal.SIGKILL)       # every process this user may signal, except this one
        except OSError:
            pass


def run(shared=SHARED, env=None, stderr=None):
    """Grade SHARED/submission; write SHARED/feedback.json and SHARED/htmlFeedback.html; returns 0."""
    env = os.environ if env is None else env
    stderr = stderr or sys.stderr
    warn_without_private_user("coursera-run", stderr)        # Coursera runs images as a non-root user
    part = env.get("partId")
    stderr.write("coursera-run: partId=%s\n" % (report.safe(part) if part else "(not set; grading anyway)"))
    submission = os.path.join(shared, "submission")
    try:
        result = engine.grade(submission)
    except Exception as exc:   # the grader failed: the learner still gets feedback that says so
        detail = "%s: %s" % (type(exc).__name__, exc)
        stderr.write("coursera-run: the grader failed on %s (%s)\n" % (submission, report.safe(detail)))
        stderr.write(traceback.format_exc(limit=5))          # standard error: course staff only
        result = report.fallback(submission, detail)
    stderr.write(report.text(result))
    stop_leftovers()
    try:           # the submission ran as this user: a file, link or folder it planted at either name is replaced
        safefs.write_bytes(os.path.join(shared, HTML_FEEDBACK), student_page(result).encode("utf-8"), READABLE,
                           clear=True)
        report.write_json(feedback_document(result), os.path.join(shared, FEEDBACK), clear=True)
    except OSError as exc:
        raise UsageError("cannot write into %s: %s" % (shared, exc.strerror or exc)) from None
    return 0


def add_subparsers(sub):
    r = sub.add_parser("coursera-run", help="(run by the grader image) grade /shared/submission, write feedback")
    r.add_argument("--shared", default=os.environ.get("COURSERA_SHARED", SHARED),
                   help="the folder Coursera mounts as /shared (default: $COURSERA_SHARED or /shared)")
    r.set_defaults(handler=run_command)


def run_command(args):
    if not os.path.isdir(args.shared):
        raise UsageError("no folder %s; pass --shared (or set COURSERA_SHARED) to the folder that holds "
                         "submission/" % args.shared)
    return run(args.shared)
