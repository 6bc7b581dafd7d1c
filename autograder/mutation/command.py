"""``python -m autograder mutate``: mutation-test the hidden checks.

Why a subcommand and not a script in benchmarks/: this is a correctness tool an instructor runs
after changing a check, with an exit status CI can use, not a timing measurement; as a subcommand
it is found with the others (``python -m autograder -h``), uses the same UsageError handling, and
its code is importable by the CI test. It lives in its own package so that grading never imports it.

    python -m autograder mutate                      # the full run, both bases
    python -m autograder mutate --sample             # the CI sample
    python -m autograder mutate --operator draw -j 2 --report /tmp/draw

Exit status: 0 every mutant is killed or a listed equivalent and none costs points under another
function's item; 1 the report lists findings; 2 the command was used wrongly or a base is not correct.
"""

import os
import sys

from ..errors import UsageError
from . import operators, report, runner


def add_subparsers(sub):
    p = sub.add_parser("mutate", help="mutation-test the hidden checks: grade wrong variants of correct "
                                      "solutions and list those that keep full marks")
    p.add_argument("--sample", action="store_true", help="only the fixed CI sample (%d mutants)"
                   % sum(runner.SAMPLE_QUOTA.values()))
    p.add_argument("--operator", action="append", metavar="NAME",
                   help="only this operator (repeatable): %s" % ", ".join(operators.OPERATORS))
    p.add_argument("--base", action="append", metavar="NAME=PATH",
                   help="mutate this correct solution instead of the two default bases (repeatable)")
    p.add_argument("-j", "--jobs", type=int, default=None, help="worker processes (default: one per core)")
    p.add_argument("--report", default="mutation_report", metavar="PREFIX",
                   help="write PREFIX.json and PREFIX.txt (default: ./mutation_report)")
    p.add_argument("--list", action="store_true", help="only list the mutant ids, grade nothing")
    p.set_defaults(handler=command)


def _bases(specs):
    if not specs:
        return runner.BASES
    bases = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise UsageError("--base takes NAME=PATH (a short name for the ids, and a correct solution), "
                             "not %r" % spec)
        if not os.path.isfile(path):
            raise UsageError("--base %s: there is no file at %s" % (name, path))
        bases.append((name, os.path.abspath(path)))
    return tuple(bases)


def command(args):
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1, not %d" % args.jobs)
    bases = _bases(args.base)
    if args.list:
        every = runner.make_mutants(bases, args.operator)
        for m in (runner.sample(every) if args.sample else every):
            print(m.id)
        return 0

    def progress(done, total):
        if sys.stderr.isatty():
            sys.stderr.write("\rgraded %d of %d" % (done, total) + ("\n" if done == total else ""))
    result = runner.run(bases, args.operator, args.sample, args.jobs, progress=progress)
    if result["bad_bases"]:
        sys.stdout.write(report.text(result))
        raise UsageError("the base %s does not score 100, so its mutants say nothing; fix it first"
                         % ", ".join(sorted(result["bad_bases"])))
    sys.stdout.write(report.text(result))
    try:
        paths = report.write(result, args.report)
    except OSError as exc:
        raise UsageError("cannot write the report %s: %s" % (exc.filename or args.report,
                                                             exc.strerror or exc)) from None
    sys.stdout.write("Wrote %s and %s\n" % paths)
    return 1 if runner.failures(result) else 0
