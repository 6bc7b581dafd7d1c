"""The command line of grade-all: ``python -m autograder grade-all SUBMISSIONS_DIR --csv grades.csv``.

Design
------
It parses the options, runs ``batch.grade_all`` (which writes the CSV, the state file and the PNG),
writes the class report (class_report.py) when ``--html`` is given, and prints what the class lost
most and which rows say ``error`` or ``missing``, with every student's text passed through
``report.safe``. SIGTERM (a job scheduler, ``kill``) ends the run as Ctrl-C does: workers stopped,
lock and scratch removed, what was graded kept in the state file, exit 130.

Exit status: 0 every student graded; 1 the CSV was written but some rows say error or missing; 2 the
command was used wrongly (a missing folder, a CSV another run holds, a path that cannot be written).
"""

import signal
import sys

from ..errors import UsageError
from ..grading import report
from ..sandbox import safefs
from ..sandbox.confine import warn_if_not_root
from . import class_report
from .batch import grade_all
from .batch_pool import TIMEOUT
from .batch_summary import summary_text

SHOWN_ROWS = 20      # rows that say error or missing printed at the end; the CSV has them all


def add_subparsers(sub):
    p = sub.add_parser("grade-all", help="grade a whole class in parallel and write a CSV of grades")
    p.add_argument("submissions", help="nbgrader's submitted/ folder, or a folder of one .py/.ipynb per student")
    p.add_argument("--csv", required=True, metavar="PATH", help="where to write the grades")
    p.add_argument("-j", "--jobs", type=int, default=None, help="worker processes (default: one per core)")
    p.add_argument("--assignment", help="grade <student>/<ASSIGNMENT>/ inside each student folder")
    p.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds one submission may take (default 300)")
    p.add_argument("--results-dir", metavar="DIR", help="also write each student's results.json here")
    p.add_argument("--no-plot", action="store_true", help="do not draw the PNG summary")
    p.add_argument("--fresh", action="store_true", help="ignore the state of earlier runs (grades and "
                   "remembered searches) and grade everyone")
    p.add_argument("--html", metavar="REPORT", help="also write the class report (what the class got wrong) here")
    p.add_argument("--anonymous", action="store_true", help="hide student names in the HTML report")
    p.add_argument("--compare", metavar="OLD_CSV", help="compare with an earlier grade-all CSV in the HTML report")
    p.add_argument("--dask", metavar="SCHEDULER", help="grade on the Dask cluster at this address "
                   "(tcp://HOST:8786) instead of local worker processes; see docs/scale.md")
    p.add_argument("--dask-batch", type=int, default=None, metavar="N",
                   help="students per Dask task (default: up to 8, fewer for a small class)")
    p.set_defaults(handler=command)


def _stopped(signum, frame):
    """SIGTERM (a job scheduler, `kill`) ends the run as Ctrl-C does: workers stopped, lock and scratch
    removed, what was graded kept in the state file."""
    raise KeyboardInterrupt


def command(args):
    if args.dask_batch is not None and args.dask_batch < 1:
        raise UsageError("--dask-batch must be at least 1, not %d" % args.dask_batch)
    warn_if_not_root("grade-all")
    old = class_report.prepare(args)
    signal.signal(signal.SIGTERM, _stopped)
    try:
        done = grade_all(args.submissions, args.csv, jobs=args.jobs, timeout=args.timeout,
                         assignment=args.assignment, results_dir=args.results_dir,
                         plot=not args.no_plot, fresh=args.fresh, dask=args.dask, dask_batch=args.dask_batch)
    except KeyboardInterrupt:
        sys.stderr.write("\ngrade-all: interrupted. Students graded so far are kept in %s.state.jsonl; "
                         "run the same command again to go on from there.\n" % args.csv)
        return 130
    except OSError as exc:
        raise UsageError("cannot write %s: %s" % (exc.filename or args.csv, exc.strerror or exc)) from None
    if args.html:
        class_report.write(done["rows"], args.html, old, args.anonymous)
        sys.stdout.write("Wrote the class report %s\n" % args.html)
    _report(done, args.csv)
    return 1 if any(r["status"] != "graded" for r in done["rows"]) else 0


def _report(done, csv_path):
    """What the instructor reads at the end: the summary, the speed, the rows that need a look."""
    bad = [r for r in done["rows"] if r["status"] != "graded"]
    sys.stdout.write(summary_text(done["summary"]))
    if done["graded"]:
        sys.stdout.write("Graded %d submissions in %.1f s (%.2f per second); %d unchanged were skipped.\n"
                         % (done["graded"], done["seconds"], done["graded"] / max(done["seconds"], 1e-9),
                            done["skipped"]))
    for r in bad[:SHOWN_ROWS]:
        sys.stdout.write("  %s: %s: %s\n" % (report.safe(safefs.shown_bytes(r["student"])), r["status"],
                                             report.safe(safefs.shown_bytes(r.get("detail") or ""))))
    if len(bad) > SHOWN_ROWS:
        sys.stdout.write("  ... and %d more; see the status column of %s\n" % (len(bad) - SHOWN_ROWS, csv_path))
    sys.stdout.write("Wrote %s%s\n" % (csv_path, (" and " + done["png"]) if done["png"] else ""))
