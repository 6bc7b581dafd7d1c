"""Run the mutants through the real grader, say what each grade means; the ``mutate`` command.

    python -m autograder mutate                      # the full run, both bases
    python -m autograder mutate --sample             # the CI sample
    python -m autograder mutate --operator draw -j 2 --report /tmp/draw

Exit status: 0 every mutant is killed or a listed equivalent and none costs points under another
function's item; 1 the report lists findings; 2 the command was used wrongly or a base is not correct.

Design
------
* Bases. A mutant is only informative if its base is correct, so every run grades its bases too
  and refuses to judge mutants of a base that does not score 100. The two default bases are the
  reference solution (``solutions/random_init.py``) and ``bases/dot_style.py``.
* Grading. Every mutant is written to a scratch file and graded by ``engine.grade`` -- the same
  code path a student's file takes, child process and all -- through the class-grading worker pool
  (``platforms/batch_pool.py``): one worker per core, whose gradings fork their child from the warm
  template of ``sandbox/pool.py``; a worker that hangs or dies is replaced and only that mutant
  says ``error``.
* Verdicts. A mutant of function F is *killed* when it loses points under one of F's rubric items
  (``rubric.Item.function``); it *survived* when it keeps them all, and is *equivalent* when it
  survived and is listed, with a reason, in ``equivalents.toml``. Losing points under another
  function's item is a *cross-item cost*: the contract says a check calls one student function
  only, so this is a grader bug whatever else happened. A listed equivalent that gets killed is a
  failure too: either the entry is wrong or the grader now rejects a correct program.
* Why a subcommand and not a script in benchmarks/: this is a correctness tool an instructor runs
  after changing a check, with an exit status CI can use, not a timing measurement. As a
  subcommand it is listed with the others, shares their UsageError handling, and the CI test
  imports the same code. It lives in its own package: grading never imports it.
* The report, as text for a person and JSON for tools, is made from the plain dict ``run``
  returns, so the two cannot disagree. The text puts what needs action first -- survivors (with
  their diffs and a ready-to-review entry for the equivalents file), cross-item costs, killed
  "equivalents", grader errors -- then the counts per operator and per function. The JSON holds
  every mutant with its status, the items it lost and what the student would have read.
* The CI sample is a fixed share per operator, taken evenly from the id-sorted mutants, so it does
  not change from run to run and only changes when the operators or the bases do.
"""

import json
import os
import shutil
import sys
import tempfile
import time
import tomllib

from .. import rubric
from ..errors import UsageError
from ..platforms.batch_pool import Pool, default_jobs
from . import operators

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BASES = (("reference", os.path.join(ROOT, "solutions", "random_init.py")),
         ("dot_style", os.path.join(HERE, "bases", "dot_style.py")))
EQUIVALENTS = os.path.join(HERE, "equivalents.toml")
# The CI sample: mutants per operator. The random draw gets the largest share because its mistakes
# are the subtle ones (statistics and seeding); 72 mutants grade in well under a minute on 2 cores.
SAMPLE_QUOTA = {"arith": 8, "constant": 8, "axis": 6, "transpose": 6, "activation": 6, "draw": 16,
                "swap": 10, "drop_m": 6, "delete": 6}
TIMEOUT = 120.0      # seconds one mutant may take; the correct bases take about 0.5 s


def load_equivalents(path=EQUIVALENTS):
    """{mutant id: reason} from the reviewed file; a malformed file is a UsageError naming the entry."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise UsageError("cannot read the equivalents file %s: %s" % (path, exc.strerror or exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError("%s is not valid TOML (%s); fix the entry it names" % (path, exc)) from None
    found = {}
    for n, entry in enumerate(data.get("equivalent", []), 1):
        mid, reason = entry.get("id"), str(entry.get("reason", "")).strip()
        if not isinstance(mid, str) or not mid:
            raise UsageError("%s: entry %d has no id; copy the mutant's id from the report" % (path, n))
        if len(reason) < 15 or reason.upper().startswith("TODO"):
            raise UsageError("%s: entry %d (%s) needs a reason: say why the grader is right to give this "
                             "mutant full marks" % (path, n, mid))
        if mid in found:
            raise UsageError("%s: entry %d repeats the id %s; keep one" % (path, n, mid))
        found[mid] = reason
    return found


def read_base(name, path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise UsageError("cannot read the base %s at %s: %s" % (name, path, exc.strerror or exc)) from None


def make_mutants(bases=BASES, operator_names=None):
    unknown = set(operator_names or ()) - set(operators.OPERATORS)
    if unknown:
        raise UsageError("no operator named %s; the operators are %s"
                         % (", ".join(sorted(unknown)), ", ".join(operators.OPERATORS)))
    found = []
    for name, path in bases:
        try:
            found += operators.generate(read_base(name, path), name, operator_names)
        except SyntaxError as exc:
            raise UsageError("the base %s (%s) is not valid Python: %s" % (name, path, exc)) from None
    return found


def sample(mutants, quota=None):
    """A fixed, deterministic selection: quota[operator] mutants of each, evenly over sorted ids."""
    quota = SAMPLE_QUOTA if quota is None else quota
    chosen = []
    for op, k in quota.items():
        ids = sorted((m for m in mutants if m.operator == op), key=lambda m: m.id)
        if len(ids) <= k:
            chosen += ids
        else:
            chosen += [ids[round(i * (len(ids) - 1) / (k - 1))] for i in range(k)] if k > 1 else ids[:1]
    return chosen


def grade_sources(sources, jobs=None, timeout=TIMEOUT, progress=None):
    """{key: row} for {key: source text}; a row is platforms.batch_pool.grade_row's plain dict."""
    scratch = tempfile.mkdtemp(prefix="autograder-mutants-")
    rows = {}
    try:
        tasks = []
        for i, (key, text) in enumerate(sources.items()):
            path = os.path.join(scratch, "m%04d" % i, "submission.py")
            os.makedirs(os.path.dirname(path))
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            tasks.append((key, path))

        def done(key, row):
            rows[key] = row
            if progress:
                progress(len(rows), len(tasks))
        pool = Pool(jobs, timeout=timeout)
        pool.run(tasks, done)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return rows


def _problems(row):
    """{rubric id: what the student would read} for the items a graded row failed."""
    out = {}
    for test in (row.get("results") or {}).get("tests", []):
        if test.get("status") == "failed" and test.get("tags"):
            out[test["tags"][0]] = str(test.get("output", "")).strip().splitlines()[0][:300] \
                if test.get("output") else ""
    return out


def classify(mutant, row, equivalents):
    """The outcome of one mutant: a plain dict for the report."""
    out = {"id": mutant.id, "base": mutant.base, "operator": mutant.operator, "function": mutant.function,
           "before": mutant.before, "after": mutant.after, "diff": mutant.diff, "lost": [], "cross": [],
           "equivalent_reason": equivalents.get(mutant.id)}
    if row.get("status") != "graded":
        out.update(status="error", detail=row.get("detail", ""))
        return out
    lost = [i for i, pts in sorted(row["points"].items())
            if i in rubric.BY_ID and pts < rubric.BY_ID[i].points]
    own = [i for i in lost if rubric.BY_ID[i].function == mutant.function]
    out["lost"], out["cross"] = lost, [i for i in lost if i not in own]
    problems = _problems(row)
    out["problems"] = {i: problems.get(i, "") for i in lost}
    if own:
        out["status"] = "killed"
    else:
        out["status"] = "equivalent" if mutant.id in equivalents else "survived"
    return out


def run(bases=BASES, operator_names=None, use_sample=False, jobs=None, equivalents_path=EQUIVALENTS,
        timeout=TIMEOUT, progress=None):
    """Generate, grade and classify; the whole run as a plain dict (see report.py for its use)."""
    equivalents = load_equivalents(equivalents_path)
    every = make_mutants(bases, operator_names)
    mutants = sample(every) if use_sample else every
    sources = {"base:" + name: read_base(name, path) for name, path in bases}
    sources.update((m.id, m.source) for m in mutants)
    jobs = min(jobs or default_jobs(), len(sources))
    start = time.monotonic()
    rows = grade_sources(sources, jobs, timeout, progress)
    seconds = time.monotonic() - start
    base_scores = {name: rows["base:" + name].get("total") for name, _ in bases}
    bad = {name: s for name, s in base_scores.items() if s != rubric.TOTAL}
    outcomes = [classify(m, rows[m.id], equivalents) for m in mutants if m.base not in bad]
    generated = {m.id for m in every}
    complete = not use_sample and not operator_names and {n for n, _ in bases} == {n for n, _ in BASES}
    return {
        "bases": {name: {"path": os.path.relpath(path, ROOT), "score": base_scores[name]} for name, path in bases},
        "bad_bases": bad,
        "sample": use_sample,
        "operators": list(operator_names or operators.OPERATORS),
        "jobs": jobs,
        "seconds": round(seconds, 2),
        "graded": len(sources),
        "outcomes": outcomes,
        "equivalents_file": os.path.relpath(equivalents_path, ROOT),
        # Entries whose mutant the operators no longer make: only a complete run can tell.
        "stale_equivalents": sorted(set(equivalents) - generated) if complete else [],
    }


def figures(result):
    """The counts of a run, and its mutation score (killed / non-equivalent mutants)."""
    outs = result["outcomes"]
    count = {s: sum(o["status"] == s for o in outs) for s in ("killed", "survived", "equivalent", "error")}
    count["mutants"] = len(outs)
    count["cross_item"] = sum(bool(o["cross"]) for o in outs)
    count["equivalents_killed"] = sum(o["status"] == "killed" and bool(o["equivalent_reason"]) for o in outs)
    judged = count["mutants"] - count["equivalent"]
    count["score"] = round(count["killed"] / judged, 4) if judged else 1.0
    return count


def failures(result):
    """Everything that makes a run fail, as (kind, outcome or name) pairs; empty when it passes."""
    out = [("bad_base", name) for name in result["bad_bases"]]
    for o in result["outcomes"]:
        if o["status"] in ("survived", "error"):
            out.append((o["status"], o))
        if o["cross"]:
            out.append(("cross_item", o))
        if o["status"] == "killed" and o["equivalent_reason"]:
            out.append(("equivalent_killed", o))
    return out


# --- the report ----------------------------------------------------------------------------------

RULE = "-" * 78


def as_json(result):
    data = dict(result)
    data["figures"] = figures(result)
    data["by_operator"] = _table(result, "operator")
    data["by_function"] = _table(result, "function")
    data["failures"] = [{"kind": kind, "id": o["id"] if isinstance(o, dict) else o}
                        for kind, o in failures(result)]
    return data


def write(result, prefix):
    """Write PREFIX.json and PREFIX.txt; return the two paths."""
    paths = (prefix + ".json", prefix + ".txt")
    with open(paths[0], "w", encoding="utf-8") as f:
        json.dump(as_json(result), f, indent=1, sort_keys=True)
        f.write("\n")
    with open(paths[1], "w", encoding="utf-8") as f:
        f.write(text(result))
    return paths


def _table(result, key):
    table = {}
    for o in result["outcomes"]:
        row = table.setdefault(o[key], {"mutants": 0, "killed": 0, "equivalent": 0, "survived": 0,
                                        "error": 0, "cross_item": 0})
        row["mutants"] += 1
        row[o["status"]] += 1
        row["cross_item"] += bool(o["cross"])
    return table


def _indent(block, pad="    "):
    return "\n".join(pad + line for line in block.splitlines())


def _entry(o):
    return '[[equivalent]]\nid = %s\nreason = "TODO: why is this mutant a correct program?"' \
        % json.dumps(o["id"])


def text(result):
    """The mutation report a person reads: the figures, then each finding that needs action, then the tables."""
    lines = _summary_lines(result)
    for name, score in result["bad_bases"].items():
        lines += ["BASE NOT CORRECT: %s (%s) scores %s, not 100, so its mutants were not judged. Fix the "
                  "base, or the check that fails it." % (name, result["bases"][name]["path"], score), ""]
    lines += _finding_lines(result) + _table_lines(result)
    verdict = failures(result)
    lines.append("RESULT: %s" % ("PASS: every mutant is killed or a reviewed equivalent, and none costs "
                                 "points under another function's item" if not verdict else
                                 "FAIL: %d finding(s) above need action" % len(verdict)))
    return "\n".join(lines) + "\n"


def _summary_lines(result):
    f = figures(result)
    kind = "CI sample" if result["sample"] else (
        "full run" if result["operators"] == list(operators.OPERATORS) else "operators " + ", ".join(result["operators"]))
    return ["Mutation report (%s): %d mutants of %s" % (kind, f["mutants"], " and ".join(result["bases"])),
            "Time: %.1f s for %d gradings (the mutants and their bases) with %d workers, %.2f s of wall "
            "time per grading" % (result["seconds"], result["graded"], result["jobs"],
                                  result["seconds"] / max(1, result["graded"])),
            "Mutation score: %.1f%% (%d killed of %d that are not known equivalents)"
            % (100 * f["score"], f["killed"], f["mutants"] - f["equivalent"]),
            "killed %d, equivalent %d, survived %d, errors %d, cross-item costs %d, listed equivalents "
            "killed %d" % (f["killed"], f["equivalent"], f["survived"], f["error"], f["cross_item"],
                           f["equivalents_killed"]), ""]


def _finding_lines(result):
    """Survivors, cross-item costs, wrongly listed equivalents, grader errors and stale entries, each a section."""
    outs, lines = result["outcomes"], []
    survivors = [o for o in outs if o["status"] == "survived"]
    if survivors:
        lines += [RULE, "SURVIVORS (%d): full marks for a changed program. Either a check should catch it "
                  "(name the rubric item and close the escape), or it is a correct program: then add "
                  "the entry shown, with its reason, to %s." % (len(survivors), result["equivalents_file"])]
        for o in survivors:
            lines += ["", "  %s" % o["id"], _indent(o["diff"]), _indent(_entry(o))]
        lines.append("")
    cross = [o for o in outs if o["cross"]]
    if cross:
        lines += [RULE, "CROSS-ITEM COSTS (%d): a mutant of one function lost points under another "
                  "function's item, which the contract forbids." % len(cross)]
        for o in cross:
            lines += ["", "  %s (a mutant of %s)" % (o["id"], o["function"]), _indent(o["diff"])]
            lines += ["    lost %s: %s" % (i, o["problems"].get(i, "")) for i in o["cross"]]
        lines.append("")
    wrong = [o for o in outs if o["status"] == "killed" and o["equivalent_reason"]]
    if wrong:
        lines += [RULE, "LISTED AS EQUIVALENT BUT KILLED (%d): the entry is wrong, or the grader now "
                  "rejects a correct program." % len(wrong)]
        for o in wrong:
            lines += ["", "  %s" % o["id"], "    listed because: %s" % o["equivalent_reason"],
                      "    lost " + "; ".join("%s: %s" % (i, o["problems"].get(i, "")) for i in o["lost"])]
        lines.append("")
    errors = [o for o in outs if o["status"] == "error"]
    if errors:
        lines += [RULE, "GRADER ERRORS (%d): the grader could not grade these mutants." % len(errors)]
        lines += ["  %s: %s" % (o["id"], o.get("detail", "")) for o in errors] + [""]
    if result["stale_equivalents"]:
        lines += [RULE, "STALE ENTRIES in %s (no operator makes these mutants any more; remove them):"
                  % result["equivalents_file"]] + ["  " + i for i in result["stale_equivalents"]] + [""]
    return lines


def _table_lines(result):
    lines = [RULE, "%-12s %8s %7s %10s %9s %6s %6s" % ("", "mutants", "killed", "equivalent", "survived",
                                                       "errors", "cross")]
    for key in ("operator", "function"):
        for name, row in sorted(_table(result, key).items()):
            lines.append("%-12s %8d %7d %10d %9d %6d %6d" % (name[:12], row["mutants"], row["killed"],
                                                             row["equivalent"], row["survived"], row["error"],
                                                             row["cross_item"]))
        lines.append("")
    return lines


# --- the command ---------------------------------------------------------------------------------
def add_subparsers(sub):
    p = sub.add_parser("mutate", help="mutation-test the hidden checks: grade wrong variants of correct "
                                      "solutions and list those that keep full marks")
    p.add_argument("--sample", action="store_true", help="only the fixed CI sample (%d mutants)"
                   % sum(SAMPLE_QUOTA.values()))
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
        return BASES
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
        every = make_mutants(bases, args.operator)
        for m in (sample(every) if args.sample else every):
            print(m.id)
        return 0

    def progress(done, total):
        if sys.stderr.isatty():
            sys.stderr.write("\rgraded %d of %d" % (done, total) + ("\n" if done == total else ""))
    result = run(bases, args.operator, args.sample, args.jobs, progress=progress)
    if result["bad_bases"]:
        sys.stdout.write(text(result))
        raise UsageError("the base %s does not score 100, so its mutants say nothing; fix it first"
                         % ", ".join(sorted(result["bad_bases"])))
    sys.stdout.write(text(result))
    try:
        paths = write(result, args.report)
    except OSError as exc:
        raise UsageError("cannot write the report %s: %s" % (exc.filename or args.report,
                                                             exc.strerror or exc)) from None
    sys.stdout.write("Wrote %s and %s\n" % paths)
    return 1 if failures(result) else 0
