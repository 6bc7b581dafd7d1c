"""Grading inside GitHub Actions: ``python -m autograder ci [SUBMISSION] --results results.json``.

Design
------
The workflow shipped to students (assignment/.github/workflows/grade.yml) runs
this one command after it has installed the grader. It grades the repository
once and hands the same ``engine.Result`` to every consumer, so they agree:

* stdout: the terminal report (the job log);
* ``$GITHUB_STEP_SUMMARY``: a Markdown report, shown on the run's summary page;
* ``--results``: Gradescope-format results.json, which the workflow uploads as an
  artifact;
* ``$GITHUB_OUTPUT``: ``score`` and ``max-score``, for any later step;
* workflow commands: a ``::notice`` with the score, an ``::error`` if the grader failed.

Until 2026-11-29 it also wrote ``result``, the payload of GitHub Classroom's grading
reporter; GitHub Classroom was discontinued on 2026-08-28, so that output and the
workflow's reporter step are gone. Classroom 50, its successor for many courses, runs
the grader through ``platforms/classroom50.py`` instead.

Every file is optional: outside Actions (no such variables) it only prints.
Exit status follows docs/contract.md section 3: 0 full marks, 1 points lost, 2 the
grader could not grade (or the command was used wrongly).
"""

import os
import secrets
import sys

from .. import rubric
from ..errors import UsageError
from ..grading import engine, report
from ..sandbox import safefs
from ..sandbox.confine import warn_if_not_root


def _command_text(text):
    """Text for a workflow command's message: control characters made visible, then the escapes GitHub
    reads in a command (%, CR and LF), so the text cannot end the command or start another."""
    return report.safe(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def run(submission, results_path=None, summary_path=None, output_path=None, stdout=None):
    """Grade SUBMISSION and write everything; returns the exit status."""
    stdout = stdout or sys.stdout
    try:
        result = engine.grade(submission)
    except Exception as exc:   # a bug in the grader: still report, so the student is not left guessing
        result = report.fallback(submission, "%s: %s" % (type(exc).__name__, exc))
    # Student text in the log can never be read as a workflow command (::set-output, ::add-mask, ...).
    token = secrets.token_hex(16)
    stdout.write("::stop-commands::%s\n%s::%s::\n" % (token, report.text(result), token))
    status = 0
    written = []
    try:
        if results_path:      # in the student's repository: a folder committed at that name is replaced
            report.write_json(report.results_json(result), results_path, clear=True)
            written.append(results_path)
        if summary_path:
            safefs.append_bytes(summary_path, report.markdown(result).encode("utf-8"))
            written.append(summary_path)
        if output_path:
            safefs.append_bytes(output_path, ("score=%s\nmax-score=%d\n" % (report.num(result.score),
                                                                          rubric.TOTAL)).encode("utf-8"))
            written.append(output_path)
    except OSError as exc:
        sys.stderr.write("autograder ci: cannot write %s: %s; check the path (and, in Actions, that the "
                         "step runs on a GitHub-hosted or self-hosted runner with a writable workspace)\n"
                         % (exc.filename, exc.strerror))
        status = 2
    if result.error:
        stdout.write("::error title=Autograder::The grader itself failed: %s\n" % _command_text(result.error))
    else:
        stdout.write("::notice title=Autograder::Score %s/%d\n" % (report.num(result.score), rubric.TOTAL))
    return status or report.exit_status(result)


def add_subparsers(sub):
    p = sub.add_parser("ci", help="grade inside GitHub Actions: step summary, score outputs, results.json")
    p.add_argument("submission", nargs="?", default=".",
                   help="the file or folder to grade (default: the repository, '.')")
    p.add_argument("--results", metavar="PATH", help="write a Gradescope-format results.json here")
    p.add_argument("--summary", metavar="PATH", default=None,
                   help="append the Markdown report here (default: $GITHUB_STEP_SUMMARY)")
    p.add_argument("--output", metavar="PATH", default=None,
                   help="append the step outputs here (default: $GITHUB_OUTPUT)")
    p.set_defaults(handler=command)


def command(args):
    warn_if_not_root("ci")
    if not os.path.exists(args.submission):
        raise UsageError("there is no file or folder at %s; run it from the repository's root or pass the "
                         "submission's path" % args.submission)
    return run(args.submission, args.results,
               args.summary if args.summary is not None else os.environ.get("GITHUB_STEP_SUMMARY") or None,
               args.output if args.output is not None else os.environ.get("GITHUB_OUTPUT") or None)
