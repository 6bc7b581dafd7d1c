"""The command line (CONTRACT section 3).

    python -m autograder grade SUBMISSION [--results PATH]
    python -m autograder audit COURSE_DIR ASSIGNMENT     (nbgrader courses; see autograder/audit.py)

Exit status: 0 full marks; 1 points were lost (the report was written); 2 the
command was used wrongly or the grader itself could not grade. Whatever goes
wrong inside the grader, a results.json that says so is still written.
"""

import argparse
import sys
import traceback


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder",
                                     description="Grade the random-initialization assignment.")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade one submission (.py, .ipynb or a folder)")
    g.add_argument("submission")
    g.add_argument("--results", metavar="PATH", help="also write a Gradescope-format results.json here")
    from . import batch, ci, gradescope   # grade-all; ci; gradescope-bundle and gradescope-run
    for module in (batch, ci, gradescope):
        module.add_subparsers(sub)
    from . import audit   # audit: an nbgrader course's gradebook against isolated regrading
    audit.add_subparsers(sub)
    args = parser.parse_args(argv)
    if args.command == "grade":
        return grade_command(args.submission, args.results)
    if getattr(args, "handler", None):
        return args.handler(args)
    return 2


def grade_command(submission, results_path):
    import os
    from . import report, rubric
    if not os.path.exists(submission):
        sys.stderr.write("autograder: there is no file or folder at %s; give the path of a .py file, an "
                         ".ipynb notebook or a folder that holds one\n" % submission)
        return 2
    try:
        from .engine import grade
        result = grade(submission)
    except Exception as exc:   # a bug in the grader: say so, write a fallback report, exit 2
        detail = "%s: %s" % (type(exc).__name__, exc)
        sys.stderr.write("autograder: internal error while grading %s (%s). Please report it with the "
                         "submission attached.\n" % (submission, detail))
        traceback.print_exc(limit=3, file=sys.stderr)
        if results_path:
            report.write_json({"score": 0, "execution_time": 0, "tests": [],
                               "output": "The grader failed on this submission (%s); it was not graded. "
                                         "Your instructor has been told." % detail}, results_path)
        return 2
    sys.stdout.write(report.text(result, color=sys.stdout.isatty()))
    if results_path:
        try:
            report.write_json(report.results_json(result), results_path)
        except OSError as exc:
            sys.stderr.write("autograder: cannot write %s: %s\n" % (results_path, exc))
            return 2
    if result.error:
        return 2
    return 0 if result.score == rubric.TOTAL else 1


if __name__ == "__main__":
    sys.exit(main())
