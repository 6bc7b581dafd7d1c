"""The command line (docs/contract.md section 3).

    python -m autograder grade SUBMISSION [--results PATH] [--html PATH]
    python -m autograder grade-all | ci | gradescope-bundle | gradescope-run | audit ...
    python -m autograder classroom50-bundle | classroom50-run | coursera-bundle | coursera-run |
                         prairielearn-bundle | prairielearn-run ...
    python -m autograder mutate [--sample] [--operator NAME] ...

Exit status: 0 full marks; 1 points were lost (the report was written); 2 the command was used
wrongly (a ``UsageError``, printed here as "autograder <command>: ...") or the grader itself could
not grade. Whatever goes wrong inside the grader, a results.json that says so is still written.
A subcommand's module is imported only when that subcommand runs, so ``grade`` pays for nothing else.
"""

import argparse
import importlib
import os
import sys

from .errors import UsageError
from .sandbox.runner import Sandbox

# command -> (module that adds its parser and handles it, one-line help); imported on demand.
SUBCOMMANDS = {
    "grade-all": "autograder.platforms.batch_cli",
    "ci": "autograder.platforms.github",
    "gradescope-bundle": "autograder.platforms.deploy",
    "gradescope-run": "autograder.platforms.gradescope",
    "audit": "autograder.platforms.nbgrader.audit",
    "classroom50-bundle": "autograder.platforms.deploy",
    "classroom50-run": "autograder.platforms.classroom50",
    "coursera-bundle": "autograder.platforms.deploy",
    "coursera-run": "autograder.platforms.coursera",
    "prairielearn-bundle": "autograder.platforms.deploy",
    "prairielearn-run": "autograder.platforms.prairielearn",
    "mutate": "autograder.mutation.runner",
}


def build_parser(modules):
    """The command line's parser, with the subcommands of ``grade`` and of the adapter ``modules``."""
    parser = argparse.ArgumentParser(prog="python -m autograder",
                                     description="Grade the random-initialization assignment.")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade one submission (.py, .ipynb or a folder)")
    g.add_argument("submission", help="a .py file, an .ipynb notebook, or a folder that holds one")
    g.add_argument("--results", metavar="PATH", help="also write a Gradescope-format results.json here")
    g.add_argument("--html", metavar="PATH", help="also write the student's feedback as one HTML page here")
    for name in modules:
        importlib.import_module(name).add_subparsers(sub)
    for action in sub._choices_actions:     # each subcommand's --help opens with its one-line help
        if sub.choices[action.dest].description is None:
            sub.choices[action.dest].description = action.help
    return parser


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    wanted = next((a for a in argv if not a.startswith("-")), None)
    modules = [SUBCOMMANDS[wanted]] if wanted in SUBCOMMANDS else (
        [] if wanted == "grade" else sorted(set(SUBCOMMANDS.values())))
    args = build_parser(modules).parse_args(argv)
    try:
        if args.command == "grade":
            return grade_command(args.submission, args.results, args.html)
        return args.handler(args)
    except UsageError as exc:
        sys.stderr.write("autograder %s: %s\n" % (args.command, exc))
        return 2


def grade_command(submission, results_path, html_path=None):
    # One BLAS thread, set before numpy is imported: the grader's arrays are tiny, and OpenBLAS would
    # start a thread per core (what it saves: docs/scale.md, "Speed tricks").
    for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(key, "1")
    exists = os.path.exists(submission)
    sandbox = _start_child() if exists else None
    # lazy: the grader's own modules (and numpy, through the checks) load while the child starts (docs/scale.md)
    import traceback
    from .grading import engine, html, report  # lazy: the same
    if not exists:
        why = ("there is no file or folder at %s; give the path of a .py file, an .ipynb notebook "
               "or a folder that holds one" % submission)
        if results_path:   # the README promises a results.json whenever --results is given
            try:
                report.write_json(report.results_json(report.fallback(submission, why)), results_path)
            except OSError:
                pass
        raise UsageError(report.safe(why))
    try:
        result = engine.grade(submission, sandbox=sandbox)
    except Exception as exc:   # a bug in the grader: say so, write a fallback report, exit 2
        detail = "%s: %s" % (type(exc).__name__, exc)
        sys.stderr.write("autograder grade: internal error while grading %s (%s). Please report it with the "
                         "submission attached.\n" % (report.safe(submission), report.safe(detail)))
        traceback.print_exc(limit=3, file=sys.stderr)
        result = report.fallback(submission, detail)
    sys.stdout.write(report.text(result, color=sys.stdout.isatty()))
    if results_path:
        try:
            report.write_json(report.results_json(result), results_path)
        except OSError as exc:
            raise UsageError("cannot write %s: %s" % (results_path, exc.strerror or exc)) from None
    if html_path:
        try:
            html.write(result, html_path)
        except OSError as exc:
            raise UsageError("cannot write %s: %s" % (html_path, exc.strerror or exc)) from None
    return report.exit_status(result)


def _start_child():
    """The child of a one-file grade, started before the grader imports anything else; None if it cannot be
    started now (``engine.grade`` then starts it itself, and reports what goes wrong the usual way)."""
    try:
        return Sandbox.for_code()
    except Exception:
        return None


def _exit_now(code):
    """End a one-file ``grade`` without the interpreter's teardown of numpy and the grader (docs/scale.md, "Speed
    tricks"): the sandbox is closed and every file written by then, so only the output streams need flushing."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code if isinstance(code, int) else 1)


if __name__ == "__main__":
    status = main()
    if next((a for a in sys.argv[1:] if not a.startswith("-")), None) == "grade":
        _exit_now(status)
    sys.exit(status)
