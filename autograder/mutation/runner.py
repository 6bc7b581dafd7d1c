"""Run the mutants through the real grader and say what each one's grade means.

Design
------
* Bases. A mutant is only informative if its base is correct, so every run grades its bases too
  and refuses to judge mutants of a base that does not score 100. The two default bases are the
  reference solution (``solutions/random_init.py``) and ``bases/dot_style.py``.
* Grading. Every mutant is written to a scratch file and graded by ``engine.grade`` -- the same
  code path a student's file takes, child process and all -- through the class-grading worker pool
  (``platforms/batch.py``): one warm worker per core, a worker that hangs or dies is replaced and
  only that mutant says ``error``.
* Verdicts. A mutant of function F is *killed* when it loses points under one of F's rubric items
  (``rubric.Item.function``); it *survived* when it keeps them all, and is *equivalent* when it
  survived and is listed, with a reason, in ``equivalents.toml``. Losing points under another
  function's item is a *cross-item cost*: the contract says a check calls one student function
  only, so this is a grader bug whatever else happened. A listed equivalent that gets killed is a
  failure too: either the entry is wrong or the grader now rejects a correct program.
* The CI sample is a fixed share per operator, taken evenly from the id-sorted mutants, so it does
  not change from run to run and only changes when the operators or the bases do.
"""

import os
import shutil
import tempfile
import time
import tomllib

from .. import rubric
from ..errors import UsageError
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
    """{key: row} for {key: source text}; a row is platforms.batch.grade_row's plain dict."""
    from ..platforms import batch
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
        pool = batch.Pool(jobs or batch.default_jobs(), timeout=timeout)
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
