"""Grade a whole class: ``python -m autograder grade-all SUBMISSIONS_DIR --csv grades.csv``.

Design
------
* Finding submissions. SUBMISSIONS_DIR holds one submission per student, either
  as nbgrader lays them out (``submitted/<student>/<assignment>/...``: every
  folder is a student, graded as a folder) or as one file per student
  (``alice.py``, ``bob.ipynb``: the student id is the file stem). ``--assignment``
  picks ``<student>/<assignment>/`` inside each student folder.
* Parallel, warm, and robust. One worker process per core, started with ``spawn`` so
  it inherits no threads or locks. Each worker imports the grader once and installs
  the warm pool (sandbox/pool.py): a template child that imported numpy once forks a
  fresh child per submission, so a submission costs its checks, not two Python
  start-ups. Each worker is fed through its own pipe, one student at a time. Own
  pipes rather than a ProcessPoolExecutor: a worker that dies or overruns
  ``--timeout`` is stopped and replaced without breaking the pool, and only that
  student's row says ``error``. Nothing about one submission can stop the batch.
  The workers share what hypothesis searched (grading/search_memory.py): each row
  carries the search paths its worker added, and the pool hands them to every other
  worker with its next student, so a mistake is searched once per run, not once per
  worker. Replays are exact, so which worker grades whom never changes a grade.
  ``--dask SCHEDULER`` grades on a Dask cluster instead (batch_dask.py); everything
  else below stays the same.
* Resumable. After each student a JSON line is appended to ``<csv>.state.jsonl``.
  Its key is the SHA-256 of the submission's code files plus a fingerprint of the
  grader (its grading modules, numpy's and hypothesis' versions). A rerun skips a
  student whose key is unchanged and who was graded without error, and writes the
  feedback file (``--results-dir``) of such a student if it is missing, from the
  state; a changed submission or a changed grader is graded again. A feedback file
  that cannot be written makes the row ``error``, so the rerun grades it again.
  Identical submissions (the untouched template, say) are graded once: the grader
  is deterministic.
* One run per CSV; a killed run is swept by the next (``<csv>.lock``, batch_files.py).
* Output. The CSV has ``student``, one column per rubric id, ``total``, ``status``
  (``graded``, ``error``, or ``missing``: no submission, or a folder without any
  .py/.ipynb file) and ``detail``. The summary says which rubric items the class lost
  most, with the notebook section that teaches each, printed and drawn as a PNG next
  to the CSV (``<csv stem>_failures.png``) with a histogram of total scores. With
  ``--html`` the rows (which keep each student's hint ids) also become the class report of
  class_report.py: what the class got wrong, most common misconception first.

Exit status of grade-all: 0 every student graded; 1 the CSV was written but some
rows say error or missing; 2 the command was used wrongly.
"""

import json
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time

from .. import rubric
from ..errors import UsageError
from ..grading import report
from . import class_report, warn_without_private_user
from .batch_files import (CODE_EXTENSIONS, SCRATCH_PREFIX, SKIP_DIRS, RunLock, code_files,  # noqa: F401
                          grader_fingerprint, load_state, submission_digest, write_atomically, write_csv)

TIMEOUT = 300.0
SEARCHES = "_searches"      # a row's field carrying its worker's new search paths; the pool takes it off


class BatchError(UsageError):
    """The batch cannot start; the message names the cause and the fix."""


# -- finding the class ---------------------------------------------------------------------------
def discover(root, assignment=None):
    """[(student, path or None, problem)] for every student under ROOT, sorted by student id."""
    if not os.path.isdir(root):
        raise BatchError("%s is not a folder; pass the folder that holds one submission per "
                         "student (nbgrader's submitted/ folder, or one .py/.ipynb file per student)" % root)
    found = {}
    for name in sorted(os.listdir(root)):
        full = os.path.join(root, name)
        if name.startswith(".") or name in SKIP_DIRS:
            continue
        if os.path.isdir(full):
            path = os.path.join(full, assignment) if assignment else full
            found.setdefault(name, []).append(path)
        elif name.endswith(CODE_EXTENSIONS):
            found.setdefault(os.path.splitext(name)[0], []).append(full)
    students = []
    for student, paths in sorted(found.items()):
        if len(paths) > 1:
            students.append((student, None, "two submissions for one student (%s); keep one"
                             % ", ".join(os.path.basename(p) for p in paths)))
        elif not os.path.exists(paths[0]):
            students.append((student, None, "no folder %s for this student" % assignment))
        elif os.path.isdir(paths[0]) and not any(True for _ in code_files(paths[0])):
            students.append((student, None, "the folder %s holds no .py or .ipynb file"
                             % os.path.relpath(paths[0], root)))
        else:
            students.append((student, paths[0], ""))
    if not students:
        raise BatchError("%s holds no .py or .ipynb file and no student folder" % root)
    return students


def default_jobs():
    """The cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# -- the work one worker does --------------------------------------------------------------------
def grade_row(path, launcher=None):
    """Grade one submission (its child started by ``launcher``: the worker's warm pool); a plain dict
    (picklable), never an exception."""
    from ..grading import engine
    try:
        result = engine.grade(path, launcher=launcher)
    except Exception as exc:   # a bug in the grader: this student's row says so, the batch goes on
        return {"status": "error", "detail": "the grader failed: %s: %s" % (type(exc).__name__, exc)}
    return {"status": "error" if result.error else "graded", "detail": result.error or class_report.unread(result),
            "points": {v.id: v.points for v in result.verdicts}, "total": result.score,
            "hints": {v.id: v.hint for v in result.verdicts if v.hint}, "limits": class_report.limits(result),
            "results": report.results_json(result)}


def _worker(conn, grade_fn, scratch):
    # Before numpy is imported: one BLAS thread (the workers already fill the cores), and temp
    # files in the batch's own scratch folder, which is removed when the batch ends.
    for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[key] = "1"
    os.environ["TMPDIR"] = scratch
    tempfile.tempdir = scratch
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))   # lets engine.grade close its sandbox
    signal.signal(signal.SIGINT, signal.SIG_IGN)             # Ctrl-C is the parent's to handle
    from ..sandbox import pool
    launcher = None
    if grade_fn is grade_row:
        from ..grading import checks, engine   # noqa: F401  (warm up once, not per student)
        launcher = pool.Launcher()              # children fork from a template that imported numpy once
    try:
        _serve(conn, grade_fn, launcher)
    finally:
        if launcher is not None:
            launcher.close()                    # reap the template (and count its CPU time)


def _serve(conn, grade_fn, launcher=None):
    from ..grading.search_memory import MEMORY
    MEMORY.sharing = grade_fn is grade_row
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        path, searches = task             # searches: what the other workers' hypothesis searches found
        try:
            if MEMORY.sharing:
                MEMORY.apply(searches)
            row = grade_fn(path) if launcher is None else grade_fn(path, launcher=launcher)
        except Exception as exc:      # SystemExit (from SIGTERM) is let through: the worker is being stopped
            row = {"status": "error", "detail": "the grader failed: %s: %s" % (type(exc).__name__, exc)}
        if MEMORY.sharing:
            row[SEARCHES] = MEMORY.drain()
        conn.send(row)


class Pool:
    """Worker processes, each fed through its own pipe; a stuck or dead worker is replaced."""

    def __init__(self, jobs, timeout=TIMEOUT, grade_fn=grade_row, scratch=None):
        self.jobs, self.timeout, self.grade_fn = max(1, jobs), timeout, grade_fn
        self.searches = []          # every worker's new search paths, in arrival order (search_memory.py)
        self.ctx = multiprocessing.get_context("spawn")
        self.scratch = scratch or tempfile.mkdtemp(prefix=SCRATCH_PREFIX + "%d-" % os.getpid())
        os.makedirs(self.scratch, exist_ok=True)
        self.workers = []

    def _spawn(self):
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker, args=(child, self.grade_fn, self.scratch), daemon=True)
        proc.start()
        child.close()
        return {"proc": proc, "conn": parent, "task": None, "since": 0.0, "seen": 0}

    def _retire(self, w, gently=True):
        if gently and w["proc"].is_alive():
            w["proc"].terminate()
            w["proc"].join(3)
        if w["proc"].is_alive():
            w["proc"].kill()
        w["proc"].join(3)
        w["conn"].close()

    def run(self, tasks, on_done, tick=None):
        """Grade [(key, path)]; call on_done(key, row) as each finishes, tick() now and then."""
        pending = list(reversed(tasks))
        self.workers = [self._spawn() for _ in range(min(self.jobs, len(tasks)))]
        try:
            while pending or any(w["task"] for w in self.workers):
                for w in self.workers:
                    if w["task"] is None and pending:
                        w["task"], w["since"] = pending.pop(), time.monotonic()
                        news, w["seen"] = self.searches[w["seen"]:], len(self.searches)
                        try:
                            w["conn"].send((w["task"][1], news))
                        except OSError:
                            pass   # the worker is gone: wait() sees the closed pipe and reports it
                busy = [w for w in self.workers if w["task"]]
                ready = multiprocessing.connection.wait([w["conn"] for w in busy], timeout=0.25)
                for i, w in enumerate(self.workers):
                    if not w["task"]:
                        continue
                    row = None
                    if w["conn"] in ready:
                        try:
                            row = w["conn"].recv()
                        except (EOFError, OSError):
                            w["proc"].join(1)
                            row = {"status": "error", "detail": "the grading process died (exit code %s); "
                                   "grade this submission alone with python -m autograder grade PATH"
                                   % w["proc"].exitcode}
                    elif time.monotonic() - w["since"] > self.timeout:
                        row = {"status": "error", "detail": "grading took longer than %g s and was stopped; "
                               "rerun with a larger --timeout, or grade it alone" % self.timeout}
                    if row is None:
                        continue
                    if isinstance(row, dict):
                        self.searches.extend(row.pop(SEARCHES, None) or ())
                    key, w["task"] = w["task"][0], None
                    if not w["proc"].is_alive() or time.monotonic() - w["since"] > self.timeout:
                        self._retire(w)                      # dead or stuck: a fresh worker takes its place
                        self.workers[i] = self._spawn()
                    on_done(key, row)
                if tick:
                    tick()
        finally:
            self.close()

    def close(self):
        for w in self.workers:
            try:
                w["conn"].send(None)
            except (OSError, ValueError):
                pass
        for w in self.workers:
            w["proc"].join(5)
            self._retire(w, gently=True)
        self.workers = []
        shutil.rmtree(self.scratch, ignore_errors=True)


# -- progress, state, CSV ------------------------------------------------------------------------
class Progress:
    """A plain-text progress bar on stderr: redrawn in place on a terminal, a line now and then in a log."""

    def __init__(self, total, stream=None, width=28):
        self.total, self.stream, self.width = total, stream or sys.stderr, width
        self.done = self.errors = 0
        self.start = self.last = time.monotonic()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last_decile, self.shown = -1, None

    def line(self):
        elapsed = max(time.monotonic() - self.start, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        filled = int(self.width * self.done / max(self.total, 1))
        eta = "--" if left != left else "%dm%02ds" % divmod(int(left), 60)
        return "grading [%s%s] %d/%d %3d%%  %.2f/s  eta %s  errors %d" % (
            "#" * filled, "-" * (self.width - filled), self.done, self.total,
            100 * self.done // max(self.total, 1), rate, eta, self.errors)

    def update(self, done=None, errors=None, final=False):
        if done is not None:
            self.done = done
        if errors is not None:
            self.errors = errors
        now = time.monotonic()
        if self.tty:
            if final or now - self.last >= 0.2:
                self.stream.write("\r" + self.line() + ("\n" if final else ""))
                self.stream.flush()
                self.last = now
        else:
            decile = 10 * self.done // max(self.total, 1)
            if (final and self.shown != self.done) or decile > self.last_decile or now - self.last >= 30:
                self.stream.write(self.line() + "\n")
                self.stream.flush()
                self.last, self.last_decile, self.shown = now, decile, self.done


# -- what the class got wrong ----------------------------------------------------------------------
# Functions of the rows the CSV is written from (``graded`` rows only), so every bar and count can be
# checked against the CSV. matplotlib is imported in ``figure`` only: grading never pays for it.
WIDELY_LOST = 25       # percent of the class: an item this many lost is a lesson that did not land
BIN_POINTS = 10        # width of a histogram bin, in points (the rubric's items are worth 10-20)
RED, GREY, BLUE = "#c0392b", "#7f8c8d", "#2e86c1"


def _graded(rows):
    return [r for r in rows if r.get("status") == "graded" and r.get("points")]


def failure_summary(rows):
    """[(item, students who lost it, students graded)], the most lost first."""
    done = _graded(rows)
    counts = []
    for item in rubric.ITEMS:
        lost = sum(1 for r in done if r["points"].get(item.id, 0) < item.points)
        counts.append((item, lost, len(done)))
    order = [i.id for i in rubric.ITEMS]
    return sorted(counts, key=lambda c: (-c[1], order.index(c[0].id)))


def summary_text(summary):
    if not summary or summary[0][2] == 0:
        return "No submission was graded, so there is no summary of what the class got wrong.\n"
    lines = ["What the class lost most (%d students graded):" % summary[0][2]]
    for item, lost, n in summary:
        lines.append("  %-20s %3d%% lost it (%d/%d)  %s" % (item.id, round(100 * lost / n), lost, n, item.section))
    return "\n".join(lines) + "\n"


def totals(rows):
    """The total score of every graded student."""
    return [float(r["total"]) for r in _graded(rows) if r.get("total") is not None]


def histogram_bins():
    """Bin edges 0, 10, ..., 100 (the last bin holds full marks too)."""
    return list(range(0, rubric.TOTAL + 1, BIN_POINTS))


def figure(summary, scores):
    """The matplotlib Figure: lost items (top) and the histogram of total scores (bottom)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    n = summary[0][2] if summary else 0
    ordered = list(reversed(summary))   # barh draws bottom-up: the most lost ends on top
    fig = Figure(figsize=(9, 0.65 * len(ordered) + 5.2))
    bars_ax, hist_ax = fig.subplots(2, 1, gridspec_kw={"height_ratios": [0.65 * len(ordered) + 1.2, 3.2]})
    shares = [100.0 * lost / n if n else 0.0 for _, lost, _ in ordered]
    bars = bars_ax.barh(range(len(ordered)), shares, color=[RED if s >= WIDELY_LOST else GREY for s in shares])
    bars_ax.set_yticks(range(len(ordered)))
    bars_ax.set_yticklabels(["%s\n%s" % (item.id, item.section) for item, _, _ in ordered], fontsize=8)
    for bar, (_, lost, _) in zip(bars, ordered):
        bars_ax.text(bar.get_width() + 1, bar.get_y() + bar.get_height() / 2, "%d/%d" % (lost, n),
                     va="center", fontsize=8)
    bars_ax.set_xlim(0, 110)
    bars_ax.set_xlabel("%% of the %d graded students who lost the item" % n)
    bars_ax.set_title("Which ideas of the lesson did not land")
    bars_ax.legend(handles=[Patch(color=RED, label="lost by %d%% or more of the class" % WIDELY_LOST),
                            Patch(color=GREY, label="lost by fewer than %d%%" % WIDELY_LOST)],
                   loc="lower right", fontsize=8)
    hist_ax.hist(scores, bins=histogram_bins(), color=BLUE, edgecolor="white",
                 label="students (%d graded)" % len(scores))
    if scores:
        mean, median = statistics.fmean(scores), statistics.median(scores)
        hist_ax.axvline(mean, color="black", linestyle="--", label="mean %.1f" % mean)
        hist_ax.axvline(median, color=RED, linestyle=":", label="median %.1f" % median)
    hist_ax.set_xlim(0, rubric.TOTAL)
    hist_ax.set_xticks(histogram_bins())
    hist_ax.set_xlabel("total score (of %d points), in bins of %d" % (rubric.TOTAL, BIN_POINTS))
    hist_ax.set_ylabel("students")
    hist_ax.set_title("Distribution of total scores")
    hist_ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def plot_summary(summary, png_path, scores=()):
    """Draw ``figure`` to PNG_PATH; returns the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    fig = figure(summary, list(scores))
    FigureCanvasAgg(fig)
    fig.savefig(png_path, dpi=110)
    return png_path


# -- the command ---------------------------------------------------------------------------------
def _write_feedback(results_dir, student, results):
    report.write_json(results, os.path.join(results_dir, student + ".json"))   # never through a planted link


def grade_all(root, csv_path, jobs=None, timeout=TIMEOUT, assignment=None, results_dir=None,
              plot=True, fresh=False, stream=None, grade_fn=grade_row, dask=None):
    """Grade every student under ROOT, write the CSV (and plot); returns a dict of what happened.

    ``dask``: a scheduler address, a distributed Cluster or Client, to grade on instead of local workers.
    """
    stream = stream or sys.stderr
    students = discover(root, assignment)
    warn_without_private_user("grade-all", stream)
    os.makedirs(os.path.dirname(os.path.abspath(csv_path)), exist_ok=True)     # with its lock and state file
    if results_dir:
        os.makedirs(results_dir, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix=SCRATCH_PREFIX + "%d-" % os.getpid())
    lock = RunLock(csv_path, scratch, stream)
    try:
        lock.acquire(results_dir)
        return _grade_all(students, csv_path, jobs, timeout, results_dir, plot, fresh, stream, grade_fn,
                          dask, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        lock.release()


def _grade_all(students, csv_path, jobs, timeout, results_dir, plot, fresh, stream, grade_fn, dask, scratch):
    state_path = csv_path + ".state.jsonl"
    state = {} if fresh else load_state(state_path)
    fingerprint = grader_fingerprint()
    rows, groups, skipped, rewritten = {}, {}, 0, 0
    for student, path, problem in students:
        if problem:
            rows[student] = {"student": student, "status": "missing", "detail": problem}
            continue
        try:
            key = submission_digest(path) + ":" + fingerprint
        except OSError as exc:
            rows[student] = {"student": student, "status": "error", "detail": "cannot read: %s" % exc}
            continue
        old = state.get(student)
        if old and old.get("key") == key and old.get("status") == "graded":
            feedback = results_dir and os.path.join(results_dir, student + ".json")
            if not feedback or os.path.exists(feedback):
                rows[student], skipped = old, skipped + 1
                continue
            if old.get("results"):                 # graded before, but its feedback file is missing
                try:
                    _write_feedback(results_dir, student, old["results"])
                    rows[student], skipped, rewritten = old, skipped + 1, rewritten + 1
                    continue
                except OSError:
                    pass                             # grade it again below: the row will say why
        groups.setdefault(key, []).append((student, path))
    todo = sum(len(g) for g in groups.values())
    if dask is not None:
        from .batch_dask import DaskPool
        executor = DaskPool(dask)
        where = "the Dask cluster at %s" % (dask if isinstance(dask, str) else type(dask).__name__)
    else:
        jobs = jobs or default_jobs()
        executor = Pool(jobs, timeout, grade_fn, scratch=os.path.join(scratch, "workers"))
        where = "%d worker processes" % min(jobs, len(groups))
    stream.write("grade-all: %d students: %d to grade on %s, %d unchanged since the last run%s\n"
                 % (len(students), todo, where, skipped,
                    " (%d feedback files written again)" % rewritten if rewritten else ""))
    progress = Progress(todo, stream)
    counts = {"done": 0, "errors": 0}
    start = time.monotonic()
    with open(state_path, "w" if fresh else "a", encoding="utf-8") as state_file:
        def on_done(key, result):
            for student, _ in groups[key]:
                row = dict(result, student=student, key=key, status=result.get("status", "error"),
                           detail=result.get("detail") or "")
                if results_dir and result.get("results"):
                    try:
                        _write_feedback(results_dir, student, result["results"])
                    except OSError as exc:      # not recorded as graded: the next run grades it again
                        row.update(status="error", detail="graded, but its feedback file could not be written "
                                   "(%s); fix %s and run again" % (exc.strerror or exc, results_dir))
                rows[student] = row
                state_file.write(json.dumps(row) + "\n")
                counts["done"] += 1
                counts["errors"] += row["status"] != "graded"
            state_file.flush()
            progress.update(counts["done"], counts["errors"])

        if groups:
            executor.run([(key, g[0][1]) for key, g in groups.items()], on_done, tick=progress.update)
            progress.update(final=True)
    seconds = time.monotonic() - start
    final = [rows[s] for s, _, _ in students]
    write_csv(final, csv_path)

    def compact(f):                                 # one line per student
        for row in final:
            if row.get("key"):
                f.write(json.dumps(row) + "\n")
    write_atomically(state_path, compact)
    summary = failure_summary(final)
    png = None
    if plot and summary and summary[0][2]:
        try:
            png = plot_summary(summary, os.path.splitext(csv_path)[0] + "_failures.png", totals(final))
        except ImportError:
            stream.write("grade-all: matplotlib is not installed, so no plot was drawn "
                         "(pip install matplotlib); the CSV is complete\n")
        except (OSError, ValueError, RuntimeError) as exc:
            stream.write("grade-all: the plot could not be drawn (%s); the CSV is complete\n" % exc)
    return {"rows": final, "graded": todo, "skipped": skipped, "seconds": seconds, "summary": summary,
            "png": png, "csv": csv_path, "rewritten": rewritten}


def add_subparsers(sub):
    p = sub.add_parser("grade-all", help="grade a whole class in parallel and write a CSV of grades")
    p.add_argument("submissions", help="nbgrader's submitted/ folder, or a folder of one .py/.ipynb per student")
    p.add_argument("--csv", required=True, metavar="PATH", help="where to write the grades")
    p.add_argument("-j", "--jobs", type=int, default=None, help="worker processes (default: one per core)")
    p.add_argument("--assignment", help="grade <student>/<ASSIGNMENT>/ inside each student folder")
    p.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds one submission may take (default 300)")
    p.add_argument("--results-dir", metavar="DIR", help="also write each student's results.json here")
    p.add_argument("--no-plot", action="store_true", help="do not draw the PNG summary")
    p.add_argument("--fresh", action="store_true", help="ignore the state of earlier runs and grade everyone")
    p.add_argument("--html", metavar="REPORT", help="also write the class report (what the class got wrong) here")
    p.add_argument("--anonymous", action="store_true", help="hide student names in the HTML report")
    p.add_argument("--compare", metavar="OLD_CSV", help="compare with an earlier grade-all CSV in the HTML report")
    p.add_argument("--dask", metavar="SCHEDULER", help="grade on the Dask cluster at this address "
                   "(tcp://HOST:8786) instead of local worker processes; see docs/scale.md")
    p.set_defaults(handler=command)


def _stopped(signum, frame):
    """SIGTERM (a job scheduler, `kill`) ends the run as Ctrl-C does: workers stopped, lock and scratch
    removed, what was graded kept in the state file."""
    raise KeyboardInterrupt


def command(args):
    from ..sandbox.confine import warn_if_not_root
    warn_if_not_root("grade-all")
    old = class_report.prepare(args)
    signal.signal(signal.SIGTERM, _stopped)
    try:
        done = grade_all(args.submissions, args.csv, jobs=args.jobs, timeout=args.timeout,
                         assignment=args.assignment, results_dir=args.results_dir,
                         plot=not args.no_plot, fresh=args.fresh, dask=args.dask)
    except KeyboardInterrupt:
        sys.stderr.write("\ngrade-all: interrupted. Students graded so far are kept in %s.state.jsonl; "
                         "run the same command again to go on from there.\n" % args.csv)
        return 130
    except OSError as exc:
        raise UsageError("cannot write %s: %s" % (exc.filename or args.csv, exc.strerror or exc)) from None
    rows = done["rows"]
    if args.html:
        class_report.write(rows, args.html, old, args.anonymous)
        sys.stdout.write("Wrote the class report %s\n" % args.html)
    bad = [r for r in rows if r["status"] != "graded"]
    sys.stdout.write(summary_text(done["summary"]))
    if done["graded"]:
        sys.stdout.write("Graded %d submissions in %.1f s (%.2f per second); %d unchanged were skipped.\n"
                         % (done["graded"], done["seconds"], done["graded"] / max(done["seconds"], 1e-9),
                            done["skipped"]))
    for r in bad[:20]:
        sys.stdout.write("  %s: %s: %s\n" % (report.safe(r["student"]), r["status"], report.safe(r.get("detail") or "")))
    if len(bad) > 20:
        sys.stdout.write("  ... and %d more; see the status column of %s\n" % (len(bad) - 20, args.csv))
    sys.stdout.write("Wrote %s%s\n" % (args.csv, (" and " + done["png"]) if done["png"] else ""))
    return 1 if bad else 0
