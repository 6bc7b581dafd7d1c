"""Benchmark: a whole class with ``grade-all``, as floors per submission; optionally against nbgrader.

    python benchmarks/bench_batch.py [-n 1000] [-j 2] [--dask-workers 1,2,4] [--dask-batch 1,0] [--warm 2]
                                     [--floor-repeat 5] [--cluttered] [--layout notebook|py]
                                     [--with-nbgrader [--course standin|project] [--nbgrader-python PATH]
                                      [--nbgrader-count N]] [--json OUT] [--keep]

Design
------
* The floor. ``python -c "import numpy"``, started as a fresh process, is timed
  ``--floor-repeat`` times before the class and as many times after it; the median is
  the floor. Every figure is printed as a ratio to that floor, measured in the same run
  on the same machine, so that other load on a shared machine inflates both sides and a
  ratio can be compared across machines. The goal (issue 25, tightened from issue 14's 0.36):
  grade-all at most ``GOAL_FLOORS`` floors per submission with one worker per core, for notebooks
  and ``.py`` files alike, on a clean or a cluttered /tmp.
* The class. N students (1000 by default, the goal's class) cycling through
  tests/corpus/{valid,wrong}/*.py (19 valid files, 66 wrong ones: more than three in four answers
  lose points, so hypothesis searches often) in a shuffled order with a fixed seed.
  Each answer starts with a line naming the student, so no two files are byte-identical
  and grade-all's grade-once-per-distinct-file shortcut cannot flatter it; a mistake met
  before is still replayed from the search memory (grading/search_memory.py), as in a
  real class where the same classic mistake comes back. Each becomes
  ``<student>/<assignment>/random_init.ipynb`` (nbgrader's layout), or with ``--layout py``
  ``<student>/<assignment>/random_init.py``: the same answers, without the notebook to read.
* Local pool. ``python -m autograder grade-all --fresh --no-plot -j J`` for each J of
  ``-j`` (a comma list: ``-j 1,2,4``), timed from start to exit: Python's start, the
  workers, their warm pools, everything.
* Dask. With ``--dask-workers 1,2,4`` a ``distributed.LocalCluster`` of that many worker
  processes (one thread each) is started first (not timed, as a standing cluster would
  be), then the same command with ``--dask ADDRESS`` is timed, right after the local pool
  with as many workers, so that the two are measured under the same load; a second table
  gives Dask's figure over the local pool's at each worker count (goal, issue 25: at most
  ``DASK_GOAL``). ``--dask-batch 1,0`` times Dask once per value of ``grade-all
  --dask-batch`` (students per task; 0: grade-all's own choice), which shows what a task
  costs by itself.
* Cold and warm. Every run above is ``--fresh``: it starts with an empty search memory, and
  its workers share what they search during the run. ``--warm W`` adds, after the cold run
  of each executor with W workers, a rerun that regrades everyone (the state file removed)
  starting from the memory the cold run saved next to the CSV (platforms/batch_files.py),
  as a rerun after late submissions does. The table's ``searches`` column says how many
  hypothesis searches each run replayed from memory and how many it ran.
* A cluttered /tmp (``--cluttered``): every run above is timed twice, on the machine as it is
  and with bench_grade's ``Clutter`` (100,000 empty files in 400 world-readable folders made
  directly under /tmp for the run, removed afterwards); the table's ``/tmp`` column says which.
  A grader whose cost grows with unrelated files in /tmp shows it here (issue 25, docs/scale.md).
* nbgrader (``--with-nbgrader``): ``nbgrader autograde`` on the same notebooks, one after
  another as nbgrader runs them, with one of two courses (``--course``):
  - ``project``: the course's own nbgrader setup (nbgrader_config.py at the repository
    root, solutions/source/random_init/), copied into a temporary course. A student's
    notebook is the released notebook with the whole answer in its first answer cell.
  - ``standin``: CLEARLY A STAND-IN, for when the project's course is not there: a
    minimal temporary course built here (one answer cell, one locked setup cell, one
    grade cell per rubric id with plain asserts that approximate the rubric).
  nbgrader lives in its own venv, e.g. ``python3 -m venv /tmp/nbvenv-batch &&
  /tmp/nbvenv-batch/bin/pip install nbgrader==0.9.6 ipykernel numpy hypothesis matplotlib``.

Prints the machine's load before and after, a table (executor, workers, seconds, submissions
per second, seconds per submission, floors per submission, CPU seconds per submission, CPU
floors per submission per core, time for 1000) and whether the goal is met. The CPU column
counts every process of a local run (grade-all, workers, templates, children); for Dask it
is left out (``-``): the cluster's workers are still running when the run ends. Divided by the cores the
workers can use and by the floor's own CPU time, it is what a wall-clock ratio would be on an
idle machine, and other load on a shared machine cannot inflate it.
"""

import argparse
import contextlib
import csv
import glob
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from autograder import rubric  # noqa: E402
from bench_grade import Clutter, compiled  # noqa: E402  (this script's folder is on sys.path)

CORPUS = os.path.join(ROOT, "tests", "corpus")
SOLUTION = os.path.join(ROOT, "solutions", "random_init.py")

SETUP_CELL = '''import numpy as np

def ref_forward(X, p):
    Z1 = p["W1"] @ X + p["b1"]; A1 = np.tanh(Z1)
    Z2 = p["W2"] @ A1 + p["b2"]; A2 = 1 / (1 + np.exp(-Z2))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}

def ref_backward(p, c, X, Y):
    m = X.shape[1]; dZ2 = c["A2"] - Y
    dZ1 = (p["W2"].T @ dZ2) * (1 - c["A1"] ** 2)
    return {"dW1": dZ1 @ X.T / m, "db1": dZ1.sum(1, keepdims=True) / m,
            "dW2": dZ2 @ c["A1"].T / m, "db2": dZ2.sum(1, keepdims=True) / m}

def ref_case(n_x=3, n_h=4, n_y=2, m=5, scale=0.5, seed=7):
    r = np.random.RandomState(seed)
    p = {"W1": r.randn(n_h, n_x) * scale, "b1": r.randn(n_h, 1) * scale,
         "W2": r.randn(n_y, n_h) * scale, "b2": r.randn(n_y, 1) * scale}
    X = r.randn(n_x, m); Y = (r.rand(n_y, m) > 0.5).astype(float)
    return p, X, Y
'''

GRADE_CELLS = {
    "init.shapes": '''np.random.seed(0)
p = initialize_parameters(3, 4, 2)
for k, s in {"W1": (4, 3), "b1": (4, 1), "W2": (2, 4), "b2": (2, 1)}.items():
    assert p[k].shape == s and p[k].dtype == np.float64, k''',
    "init.zero_biases": '''p = initialize_parameters(5, 7, 3)
assert not p["b1"].any() and not p["b2"].any()''',
    "init.breaks_symmetry": '''W1 = initialize_parameters(10, 50, 1)["W1"]
assert len(np.unique(W1.round(12), axis=0)) == 50
np.random.seed(1); a = initialize_parameters(4, 6, 2)["W1"]
np.random.seed(2); b = initialize_parameters(4, 6, 2)["W1"]
assert not np.allclose(a, b)''',
    "init.small_scale": '''W = initialize_parameters(200, 300, 1)["W1"]
assert abs(W.std() - 0.01) < 0.001 and abs(W.mean()) < 0.0005''',
    "forward.values": '''p, X, Y = ref_case()
A2, cache = forward(X, {k: v.copy() for k, v in p.items()})
want, wc = ref_forward(X, p)
assert np.allclose(A2, want) and all(np.allclose(cache[k], wc[k]) for k in wc)''',
    "backward.shapes": '''p, X, Y = ref_case()
_, c = ref_forward(X, p)
g = backward(p, c, X, Y)
assert all(g["d" + k].shape == p[k].shape for k in p)''',
    "backward.gradients": '''p, X, Y = ref_case(scale=1.0)
_, c = ref_forward(X, p)
g, want = backward(p, c, X, Y), ref_backward(p, c, X, Y)
assert all(np.allclose(g[k], want[k]) for k in want)''',
}


def _cell(kind, source, nbgrader=None):
    cell = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    if nbgrader:
        cell["metadata"]["nbgrader"] = dict(nbgrader, schema_version=3, task=False)
    return cell


def notebook(answer):
    cells = [_cell("markdown", "# Random initialization (benchmark copy)"),
             _cell("code", answer, {"grade": False, "solution": True, "locked": False, "grade_id": "answer"}),
             _cell("code", SETUP_CELL, {"grade": False, "solution": False, "locked": True, "grade_id": "setup"})]
    for item in rubric.ITEMS:
        cells.append(_cell("code", GRADE_CELLS[item.id], {"grade": True, "solution": False, "locked": True,
                                                           "points": item.points,
                                                           "grade_id": item.id.replace(".", "_")}))
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python"}}}


def write_json(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)


def write_text(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def make_answers(n):
    """N students' answers, cycling through the corpus in a shuffled order (fixed seed): [(student, code)].

    Shuffled as a class is: the same mistake turns up at random students, not in a fixed rotation that
    would hand each worker its own disjoint half of the corpus."""
    import random
    sources = sorted(glob.glob(os.path.join(CORPUS, "valid", "*.py")) + glob.glob(os.path.join(CORPUS, "wrong", "*.py")))
    picks = [sources[i % len(sources)] for i in range(max(n, len(sources)))]
    random.Random(20261129).shuffle(picks)
    picks = picks[:n]           # a class smaller than the corpus still gets valid and wrong answers
    answers = []
    for i, path in enumerate(picks):
        with open(path, encoding="utf-8") as f:
            answers.append(("s%04d" % i, "# student s%04d\n%s" % (i, f.read())))
    return answers


def _nbgrader(python, course, *args):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",   # nbgrader calls `alembic` by name
               PATH=os.path.dirname(python) + os.pathsep + os.environ.get("PATH", ""))
    env.pop("PYTHONPATH", None)
    return subprocess.run([python, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True, text=True)


class StandIn:
    """The minimal temporary course this script builds itself (see the module docstring)."""

    label = "minimal stand-in course built by bench_batch.py"
    assignment = "ps1"

    def build(self, python, course):
        with open(SOLUTION, encoding="utf-8") as f:
            solution = f.read()
        if "BEGIN SOLUTION" not in solution:
            solution = "### BEGIN SOLUTION\n%s\n### END SOLUTION\n" % solution
        write_json(os.path.join(course, "source", "ps1", "random_init.ipynb"), notebook(solution))
        with open(os.path.join(course, "nbgrader_config.py"), "w", encoding="utf-8") as f:
            f.write("c = get_config()\nc.CourseDirectory.course_id = 'bench'\n"
                    "c.CourseDirectory.root = %r\nc.ExecutePreprocessor.timeout = 60\n" % course)

    def write(self, folder, answer):
        write_json(os.path.join(folder, "random_init.ipynb"), notebook(answer))


class ProjectCourse:
    """The course's own nbgrader setup (nbgrader_config.py, solutions/source/random_init/)."""

    label = "the project's own nbgrader course (nbgrader_config.py)"
    assignment = "random_init"

    @staticmethod
    def available():
        return os.path.exists(os.path.join(ROOT, "nbgrader_config.py")) and \
            os.path.exists(os.path.join(ROOT, "solutions", "source", "random_init", "random_init.ipynb"))

    def build(self, python, course):
        shutil.copy(os.path.join(ROOT, "nbgrader_config.py"), course)
        os.symlink(os.path.join(ROOT, "autograder"), os.path.join(course, "autograder"))
        shutil.copytree(os.path.join(ROOT, "solutions", "source"), os.path.join(course, "solutions", "source"))
        self.course = course

    def write(self, folder, answer):
        """The released notebook, the whole answer in its first answer cell, the other answer cells blank."""
        release = os.path.join(self.course, "release", "random_init")
        with open(os.path.join(release, "random_init.ipynb"), encoding="utf-8") as f:
            nb = json.load(f)
        answers = [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
        for i, cell in enumerate(answers):
            cell["source"] = answer if i == 0 else "# (defined in the first answer cell)\n"
        write_json(os.path.join(folder, "random_init.ipynb"), nb)
        for name in os.listdir(release):
            if name.endswith(".py"):
                shutil.copy(os.path.join(release, name), folder)


def _cpu():
    """CPU seconds used so far by waited-for descendants (workers, kernels, sandboxes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


GOAL_FLOORS = 0.30      # issue 25: grade-all's seconds per submission, in floors, one worker per core
DASK_GOAL = 1.3         # issue 25: Dask LocalCluster at most this many times the local pool, same workers


def time_floor(repeat):
    """``python -c "import numpy"`` as fresh processes: a list of REPEAT (wall seconds, CPU seconds)."""
    out = []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), _cpu()
        subprocess.run([sys.executable, "-c", "import numpy"], check=True)
        out.append((time.perf_counter() - start, _cpu() - cpu))
    return out


def time_grade_all(folder, assignment, jobs=None, dask=None, dask_batch=0, warm=False):
    """(seconds, CPU seconds of this process's children, {status: count}, searches) of one grade-all run:
    cold (--fresh) or WARM (everyone graded again, from the search memory the last run saved)."""
    csv_path = os.path.join(os.path.dirname(folder), "grades.csv")
    cmd = [sys.executable, "-m", "autograder", "grade-all", folder, "--csv", csv_path, "--assignment", assignment,
           "--no-plot"] + (["--dask", dask] if dask else ["-j", str(jobs)])
    cmd += ["--dask-batch", str(dask_batch)] if dask and dask_batch else []
    if warm:
        os.unlink(csv_path + ".state.jsonl")
    else:
        cmd.append("--fresh")
    start, cpu = time.monotonic(), _cpu()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    seconds, cpu = time.monotonic() - start, _cpu() - cpu
    if done.returncode not in (0, 1):
        raise SystemExit("bench_batch: grade-all failed (exit %d):\n%s" % (done.returncode, done.stderr[-2000:]))
    with open(csv_path, newline="", encoding="utf-8") as f:
        statuses = [row["status"] for row in csv.DictReader(f)]
    searches = re.search(r"hypothesis searches: (\d+) replayed from memory, (\d+) run", done.stderr)
    return (seconds, cpu, {s: statuses.count(s) for s in sorted(set(statuses))},
            "%s replayed, %s run" % searches.groups() if searches else "-")


def time_nbgrader(python, course, assignment):
    start, cpu = time.monotonic(), _cpu()
    done = _nbgrader(python, course, "autograde", assignment, "--force")
    seconds, cpu = time.monotonic() - start, _cpu() - cpu
    if done.returncode:
        raise SystemExit("bench_batch: nbgrader autograde failed:\n" + done.stderr[-3000:])
    graded = len(glob.glob(os.path.join(course, "autograded", "*", assignment, "random_init.ipynb")))
    return seconds, cpu, graded


def plan_runs(jobs, dask_workers, dask_batches, warm):
    """[(executor, workers, dask batch or None, warm)]: local and Dask with the same workers next to each other."""
    runs = []
    for w in sorted(set(jobs) | set(dask_workers)):
        runs += [("local pool", w, None, False)] * (w in jobs)
        runs += [("local pool", w, None, True)] * (w in jobs and w == warm)
        for b in dask_batches if w in dask_workers else ():
            runs += [("dask", w, b, False)] + [("dask", w, b, True)] * (w == warm and b == dask_batches[-1])
    return runs


def time_runs(runs, klass, assignment, cluttered):
    """[(executor, workers, seconds, cpu, statuses, searches)] for plan_runs' RUNS, /tmp cluttered or not."""
    measured = []
    with (Clutter() if cluttered else contextlib.nullcontext()):
        for executor, workers, batch, warm in runs:
            label = executor + (" (batch %s)" % (batch or "auto") if batch is not None else "") + \
                (", warm rerun" if warm else "")
            if batch is not None:
                from distributed import LocalCluster
                with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as cluster:
                    timed = time_grade_all(klass, assignment, dask=cluster.scheduler_address, dask_batch=batch,
                                           warm=warm)
            else:
                timed = time_grade_all(klass, assignment, jobs=workers, warm=warm)
            measured.append((label, workers) + timed)
    return measured


def dask_ratios(runs):
    """Lines of the second table: each cold Dask run's floors per submission over the local pool's, same /tmp
    and workers, measured in the same run of this script."""
    local = {(r["tmp"], r["workers"]): r for r in runs if r["executor"] == "local pool"}
    lines = []
    for r in runs:
        mate = local.get((r["tmp"], r["workers"]))
        if r["executor"].startswith("dask") and "warm" not in r["executor"] and mate:
            ratio = r["floors_per_submission"] / mate["floors_per_submission"]
            r["over_local_pool"] = round(ratio, 3)
            lines.append("| %s | %s | %d | %.2f | %.2f | %.2f | %s |" % (
                r["tmp"], r["executor"], r["workers"], mate["floors_per_submission"], r["floors_per_submission"],
                ratio, "met" if ratio <= DASK_GOAL else "NOT met"))
    return lines


def _ints(text):
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=1000, help="students in the class (default 1000, as in the goal)")
    ap.add_argument("-j", "--jobs", type=_ints, default=[len(os.sched_getaffinity(0))],
                    help="local grade-all workers, one run per value: 2 or 1,2,4 (default: the cores)")
    ap.add_argument("--dask-workers", type=_ints, default=[],
                    help="also grade on a LocalCluster of this many worker processes: 1,2,4")
    ap.add_argument("--dask-batch", type=_ints, default=[0],
                    help="students per Dask task, one Dask run per value: 1,0 (0: grade-all's choice)")
    ap.add_argument("--warm", type=int, default=None, metavar="W",
                    help="after the cold runs with W workers, time a rerun from the saved search memory")
    ap.add_argument("--floor-repeat", type=int, default=5, help="floor timings before and after (default 5)")
    ap.add_argument("--with-nbgrader", action="store_true", help="also time nbgrader autograde")
    ap.add_argument("--course", choices=("standin", "project"), default=None,
                    help="which nbgrader course (default: the project's if present, else the stand-in)")
    ap.add_argument("--nbgrader-python", default=os.environ.get("NBGRADER_PYTHON", "/tmp/nbvenv/bin/python"),
                    help="a Python with nbgrader 0.9.x and ipykernel (and, for the project course, "
                         "hypothesis and matplotlib)")
    ap.add_argument("--nbgrader-count", type=int, default=None,
                    help="time nbgrader on the first N students only (default: all)")
    ap.add_argument("--cluttered", action="store_true",
                    help="time every run again with 100,000 empty files in 400 folders under /tmp")
    ap.add_argument("--layout", choices=("notebook", "py"), default="notebook",
                    help="each student's answer as random_init.ipynb (default) or as random_init.py")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary class and course, print where")
    args = ap.parse_args(argv)
    compiled()                     # byte-compile the grader first, as pip install does
    if args.with_nbgrader:
        kind = args.course or ("project" if ProjectCourse.available() else "standin")
        course_kind = ProjectCourse() if kind == "project" else StandIn()
        if not os.path.exists(args.nbgrader_python):
            raise SystemExit("bench_batch: no Python at %s; make a venv with nbgrader==0.9.6 and ipykernel "
                             "(see this file's docstring) or leave out --with-nbgrader" % args.nbgrader_python)
    else:
        course_kind = StandIn()      # only its notebook writer: no nbgrader needed

    tmp = tempfile.mkdtemp(prefix="bench-batch-")
    course, klass = os.path.join(tmp, "course"), os.path.join(tmp, "class")
    answers = make_answers(args.n)
    subset = answers[:args.nbgrader_count] if args.nbgrader_count else answers
    figures = {"students": args.n, "cores": len(os.sched_getaffinity(0)), "runs": []}
    try:
        if args.with_nbgrader:
            os.makedirs(course)
            course_kind.build(args.nbgrader_python, course)
            made = _nbgrader(args.nbgrader_python, course, "generate_assignment", course_kind.assignment, "--force")
            if made.returncode:
                raise SystemExit("bench_batch: nbgrader generate_assignment failed:\n" + made.stderr[-2000:])
        for student, answer in answers:       # the same files for every executor (and nbgrader)
            folder = os.path.join(klass, student, course_kind.assignment)
            if args.layout == "py":
                write_text(os.path.join(folder, "random_init.py"), answer)
            else:
                course_kind.write(folder, answer)
            if args.with_nbgrader and (student, answer) in subset:
                shutil.copytree(folder, os.path.join(course, "submitted", student, course_kind.assignment))

        load = os.getloadavg()
        floors = time_floor(args.floor_repeat)
        runs = plan_runs(args.jobs, args.dask_workers, args.dask_batch, args.warm)
        measured = [(tmp,) + run for tmp in (["clean", "cluttered"] if args.cluttered else ["clean"])
                    for run in time_runs(runs, klass, course_kind.assignment, tmp == "cluttered")]
        floors += time_floor(args.floor_repeat)
        floor = statistics.median(w for w, _ in floors)
        floor_cpu = statistics.median(c for _, c in floors)
        figures.update(load_before=[round(x, 2) for x in load], load_after=[round(x, 2) for x in os.getloadavg()],
                       floor_seconds=round(floor, 4), floor_cpu_seconds=round(floor_cpu, 4),
                       floor_timings=[round(w, 4) for w, _ in floors])
        figures["layout"] = args.layout
        print("class: %d %s (nbgrader layout), every one distinct; %d cores"
              % (args.n, "notebooks" if args.layout == "notebook" else ".py files", figures["cores"]))
        print("load average before: %.2f %.2f %.2f; after: %.2f %.2f %.2f"
              % tuple(figures["load_before"] + figures["load_after"]))
        print('floor: python -c "import numpy" = %.3f s wall, %.3f s CPU (medians of %d, half before and half '
              'after the runs)' % (floor, floor_cpu, len(floors)))
        print()
        print("| /tmp | executor | workers | seconds | submissions/s | s/submission | floors/submission | "
              "CPU s/submission | CPU floors/submission/core | 1000 would take | statuses | searches |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
        for tmp, executor, workers, seconds, cpu, statuses, searches in measured:
            per = seconds / args.n
            figures["runs"].append({"tmp": tmp, "executor": executor, "workers": workers,
                                    "seconds": round(seconds, 2),
                                    "per_submission": round(per, 4), "floors_per_submission": round(per / floor, 3),
                                    "cpu_per_submission": round(cpu / args.n, 4), "statuses": statuses,
                                    "searches": searches})
            if executor.startswith("dask"):
                cpu_text = ("-", "-")
            else:
                cpu_floors = cpu / args.n / min(workers, figures["cores"]) / floor_cpu
                figures["runs"][-1]["cpu_floors_per_submission_per_core"] = round(cpu_floors, 3)
                cpu_text = ("%.3f" % (cpu / args.n), "%.2f" % cpu_floors)
            print("| %s | %s | %d | %.1f | %.1f | %.3f | %.2f | %s | %s | %.0f s | %s | %s |"
                  % ((tmp, executor, workers, seconds, args.n / seconds, per, per / floor) + cpu_text
                     + (1000 * per, ", ".join("%s %d" % kv for kv in statuses.items()), searches)))
        ratios = dask_ratios(figures["runs"])
        if ratios:
            print("\nDask over the local pool, same workers, same run (goal: at most %.1f):\n" % DASK_GOAL)
            print("| /tmp | Dask run | workers | local pool floors/submission | Dask floors/submission | "
                  "Dask / local | goal |")
            print("|---|---|---:|---:|---:|---:|---|")
            print("\n".join(ratios))
        cores = figures["cores"]
        goal = [r for r in figures["runs"] if r["executor"] == "local pool" and r["workers"] == cores
                and r["tmp"] == "clean"]
        if goal:
            ratio = goal[0]["floors_per_submission"]
            figures["goal_met"] = ratio <= GOAL_FLOORS
            print("\ngoal: grade-all with %d workers at most %.2f floors per submission: %.2f, %s"
                  % (cores, GOAL_FLOORS, ratio, "MET" if ratio <= GOAL_FLOORS else "NOT MET"))
        if args.with_nbgrader:
            nb_seconds, nb_cpu, graded = time_nbgrader(args.nbgrader_python, course, course_kind.assignment)
            figures.update(nbgrader_students=len(subset), nbgrader_seconds=round(nb_seconds, 2),
                           nbgrader_autograded=graded,
                           nbgrader_floors_per_submission=round(nb_seconds / len(subset) / floor, 3))
            print("nbgrader autograde (%s; one notebook after another, as nbgrader runs): %d notebooks in "
                  "%.1f s: %.2f floors per submission, CPU %.2f s per submission (%d autograded)"
                  % (course_kind.label, len(subset), nb_seconds, nb_seconds / len(subset) / floor,
                     nb_cpu / len(subset), graded))
    finally:
        if args.keep:
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        write_json(os.path.abspath(args.json), figures)
    return figures


if __name__ == "__main__":
    main()
