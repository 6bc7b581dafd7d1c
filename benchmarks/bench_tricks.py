"""Benchmark: what each speed trick saves now, as a ratio of a grade and of a grade-all submission.

    python benchmarks/bench_tricks.py [--trick NAME ...] [--repeat 9] [-n 80] [--batch-repeat 3] [--list]

Design
------
* Two copies of the grader. For each trick, the current ``autograder/`` is copied twice into a
  scratch folder under the checkout (not /tmp, where the grader's folder would be handled as a temp
  folder's): once as it is ("with") and once with the trick replaced by the plain code ("without"),
  a few source substitutions listed in ``TRICKS``. Each substitution must match exactly once, so a
  trick that was edited or removed stops this script with a message instead of timing something else.
  Both copies are byte-compiled, as ``pip install`` does.
* A grade. ``python -m autograder grade solutions/random_init.py`` from each copy, alternately (with,
  without; then without, with: the order swaps every round), ``--repeat`` rounds after one untimed
  round, with ``python -c "import numpy"`` (the floor) timed in every round too. Printed: the median
  of the per-round ratios without / with, wall and CPU (CPU: what other load inflates least).
* A grade-all submission (tricks on grade-all's path only). A class of ``-n`` distinct notebooks from
  tests/corpus/{valid,wrong} (bench_batch's class, same shuffle), graded with ``grade-all --fresh
  --no-plot -j 1`` from each copy alternately, ``--batch-repeat`` rounds; the ratio is of whole runs,
  so the start of grade-all is in both sides. One worker, so that the other core takes the machine's
  other load.
* A trick saves ``ratio - 1`` of what it is measured on (the grade costs that much more without it),
  wall or CPU: "kept" when either is at least 3 %.
  docs/scale.md's table ("Speed tricks") holds the figures; a trick under 3 % on both is removed.
  The tricks removed (a record class instead of dataclasses, os.urandom instead of secrets, json's
  circular check off, strategies cached per process) were measured by
  this script at commit af09ee2, where TRICKS still lists them.
"""

import argparse
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_batch import StandIn, make_answers  # noqa: E402  (this script's folder is on sys.path)

SUBMISSION = os.path.join(ROOT, "solutions", "random_init.py")
THRESHOLD = 0.03        # issue 22: a trick that saves less than 3 % of a grade and of a grade-all submission goes
GRADE, BATCH = "grade", "grade-all"

# name -> (where, measured on, [(file under autograder/, the trick's text, the plain code's text)])
TRICKS = {
    "ks_two_pass": ("grading/causes.py", (GRADE, BATCH), [
        ("grading/causes.py", "    if z.size and np.isfinite(z[0]) and np.isfinite(z[-1]):", "    if False:"),
        ("grading/causes.py", "    if approx_cdf is not None and z.size and", "    if False and z.size and")]),
    "search_memory": ("grading/search_memory.py, cases.search", (BATCH,), [
        ("grading/cases.py", "known, found = search_memory.MEMORY.replay(key, call)", "known, found = False, None")]),
    "cases_json": ("grading/cases.py, cases.json", (GRADE, BATCH), [
        ("grading/cases.py", "        data = _load()\n", "        data = None\n")]),
    "no_local_constants": ("grading/cases.py _without_local_constants", (BATCH,), [
        ("grading/cases.py", "    _without_local_constants()\n", "")]),
    "dist_info": ("grading/cases.py installed_version", (GRADE,), [
        ("grading/cases.py", "    try:\n        spec = importlib.util.find_spec(package)",
         "    from importlib import metadata as m\n    try:\n        return m.version(package)\n"
         "    except m.PackageNotFoundError:\n        return None\n"
         "    try:\n        spec = importlib.util.find_spec(package)")]),
    "os_exit": ("autograder/__main__.py _exit_now", (GRADE,), [
        ("__main__.py", "        _exit_now(status)\n", "        pass\n")]),
    "child_no_site": ("sandbox/runner.py FreshChild, child.py", (GRADE,), [
        ("sandbox/runner.py", '[sys.executable, "-I", "-S", "-B", CHILD] + child_path()',
         '[sys.executable, "-I", "-B", CHILD]')]),
    "preload_named": ("sandbox/child.py preload(source)", (GRADE,), [
        ("sandbox/child.py", "        preload(source)  ", "        preload()  ")]),
    "child_first": ("autograder/__main__.py _start_child, grading/engine.py grade, sandbox/runner.py (wire)",
                    (GRADE,), [
        ("__main__.py", "    sandbox = _start_child() if exists else None\n", "    sandbox = None\n"),
        ("grading/engine.py", "    start = time.monotonic()\n",
         "    start = time.monotonic()\n    rubric_ready()\n    from ..sandbox import wire  # noqa: F401\n")]),
    "one_blas_thread": ("autograder/__main__.py grade_command", (GRADE,), [
        ("__main__.py", '    for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):\n'
                        '        os.environ.setdefault(key, "1")\n', "")]),
    "cgroup_join_thread": ("sandbox/runner.py FreshChild.launch", (GRADE,), [
        ("sandbox/runner.py", "joining = threading.Thread(target=cgroup.join, args=(proc.pid,), daemon=True)\n"
                              "            joining.start()", "cgroup.join(proc.pid)")]),
    "equal_rows_bytes": ("grading/draws.py first_equal_rows (_distinct_bytes)", (GRADE, BATCH), [
        ("grading/draws.py", "rows.shape[1] and _distinct_bytes(rows):", "rows.shape[1] and False:")]),
    "passed_draws": ("grading/spread.py PassedDraws", (BATCH,), [
        ("grading/spread.py", "    if w in passed:\n        return\n", "")]),
    "work_ahead": ("grading/engine.py _run, registry.ahead", (GRADE,), [
        ("grading/engine.py", "    if registry.ahead_pending():\n", "    if False:\n")]),
    "pool_shared_cgroup": ("sandbox/pool.py Launcher.shared_group", (BATCH,), [
        ("sandbox/pool.py", "        if self.group is None:\n            return None\n        if memory_bytes",
         "        return None\n        if memory_bytes")]),
}


def copy_grader(into, substitutions=()):
    """autograder/ copied into INTO with SUBSTITUTIONS applied (each must match once), byte-compiled."""
    target = os.path.join(into, "autograder")
    shutil.copytree(os.path.join(ROOT, "autograder"), target, ignore=shutil.ignore_patterns("__pycache__"))
    for name, old, new in substitutions:
        path = os.path.join(target, name)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if text.count(old) != 1:
            raise SystemExit("bench_tricks: %r occurs %d times in autograder/%s, not once: the trick was changed "
                             "or removed; update TRICKS" % (old, text.count(old), name))
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new))
    compileall.compile_dir(target, quiet=1)
    return into


def _cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd, cwd):
    """(wall seconds, CPU seconds) of CMD run in CWD; stops the benchmark if it failed."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                           "MKL_NUM_THREADS", "PYTHONPATH")}
    start, cpu = time.perf_counter(), _cpu()
    done = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall, cpu = time.perf_counter() - start, _cpu() - cpu
    if done.returncode not in (0, 1):
        raise SystemExit("bench_tricks: %s in %s failed (exit %d):\n%s" % (" ".join(cmd), cwd, done.returncode,
                                                                           done.stderr.decode()[-2000:]))
    return wall, cpu


def alternate(commands, repeat):
    """{label: [(wall, cpu)] * repeat} for {label: (cmd, cwd)}, run in turn each round, the order reversed every
    other round, after one untimed round."""
    labels = list(commands)
    for label in labels:
        timed(*commands[label])
    out = {label: [] for label in labels}
    for i in range(repeat):
        for label in (labels if i % 2 == 0 else labels[::-1]):
            out[label].append(timed(*commands[label]))
    return out


def ratios(runs):
    """Without / with: (median of the rounds' wall ratios, the same for CPU, fastest run's wall over fastest run's,
    the same for CPU). On a loaded machine the fastest runs are the ones least slowed by others."""
    wall = [b[0] / a[0] for a, b in zip(runs["with"], runs["without"])]
    cpu = [b[1] / a[1] for a, b in zip(runs["with"], runs["without"])]
    fastest = [min(x[i] for x in runs[side]) for side in ("with", "without") for i in (0, 1)]
    return (statistics.median(wall), statistics.median(cpu), fastest[2] / fastest[0], fastest[3] / fastest[1])


def make_class(folder, n):
    writer = StandIn()
    for student, answer in make_answers(n):
        writer.write(os.path.join(folder, student, writer.assignment), answer)
    return writer.assignment


def measure(name, scratch, klass, assignment, args):
    where, on, substitutions = TRICKS[name]
    base = os.path.join(scratch, name)
    with_dir = copy_grader(os.path.join(base, "with"))
    without_dir = copy_grader(os.path.join(base, "without"), substitutions)
    row = {"trick": name, "where": where}
    if GRADE in on:
        grade = [sys.executable, "-m", "autograder", "grade", SUBMISSION]
        runs = alternate({"floor": ([sys.executable, "-c", "import numpy"], ROOT), "with": (grade, with_dir),
                          "without": (grade, without_dir)}, args.repeat)
        floor = statistics.median(w for w, _ in runs["floor"])
        row[GRADE] = ratios(runs) + (statistics.median(w for w, _ in runs["with"]) / floor,)
    if BATCH in on:
        def batch(folder):
            return ([sys.executable, "-m", "autograder", "grade-all", klass, "--csv",
                     os.path.join(folder, "grades.csv"), "--assignment", assignment, "--no-plot", "--fresh",
                     "-j", "1"], folder)
        row[BATCH] = ratios(alternate({"with": batch(with_dir), "without": batch(without_dir)}, args.batch_repeat))
    shutil.rmtree(base, ignore_errors=True)
    return row


def _cell(row, on):
    if on not in row:
        return "-"
    wall, cpu, fast_wall, fast_cpu = row[on][:4]
    return "%.3f wall, %.3f CPU (fastest runs: %.3f, %.3f)" % (wall, cpu, fast_wall, fast_cpu)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trick", action="append", choices=sorted(TRICKS), help="only these (repeatable)")
    ap.add_argument("--repeat", type=int, default=9, help="rounds of grades per trick (default 9)")
    ap.add_argument("-n", type=int, default=80, help="students in the grade-all class (default 80)")
    ap.add_argument("--batch-repeat", type=int, default=3, help="rounds of grade-all runs per trick (default 3)")
    ap.add_argument("--list", action="store_true", help="list the tricks and where they are, then stop")
    args = ap.parse_args(argv)
    if args.list:
        for name, (where, on, _) in TRICKS.items():
            print("%-24s %-50s %s" % (name, where, ", ".join(on)))
        return 0
    scratch = tempfile.mkdtemp(prefix=".bench-tricks-", dir=ROOT)
    try:
        klass = os.path.join(scratch, "class")
        assignment = make_class(klass, args.n)
        load = os.getloadavg()
        print("| trick | where | grade: without / with, medians of rounds | grade-all submission: without / with | "
              "pays (>= %d %%, a median) |" % (THRESHOLD * 100))
        print("|---|---|---|---|---|")
        for name in args.trick or TRICKS:
            row = measure(name, scratch, klass, assignment, args)
            pays = any(on in row and max(row[on][0], row[on][1]) - 1 >= THRESHOLD for on in (GRADE, BATCH))
            print("| %s | %s | %s | %s | %s |" % (name, row["where"], _cell(row, GRADE), _cell(row, BATCH),
                                                 "yes" if pays else "no"), flush=True)
        print("\nload average before: %.2f %.2f %.2f; after: %.2f %.2f %.2f; %d rounds of grades, %d of grade-all "
              "(-n %d, -j 1)" % (load + os.getloadavg() + (args.repeat, args.batch_repeat, args.n)))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
