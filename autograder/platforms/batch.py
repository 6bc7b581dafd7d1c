"""Grade a whole class: ``python -m autograder grade-all SUBMISSIONS_DIR --csv grades.csv``.

Design
------
* Finding submissions. SUBMISSIONS_DIR holds one submission per student, either
  as nbgrader lays them out (``submitted/<student>/<assignment>/...``: every
  folder is a student, graded as a folder) or as one file per student
  (``alice.py``, ``bob.ipynb``: the student id is the file stem). ``--assignment``
  picks ``<student>/<assignment>/`` inside each student folder.
* Parallel, and robust. One worker process per core, started with ``spawn`` so it
  inherits no threads or locks. Each worker is fed through its own pipe, one
  student at a time, and calls ``engine.grade``, which already runs the student's
  code in a child of its own. Own pipes rather than a ProcessPoolExecutor: a
  worker that dies or overruns ``--timeout`` is stopped and replaced without
  breaking the pool, and only that student's row says ``error``. Nothing about
  one submission can stop the batch.
* Resumable. After each student a JSON line is appended to ``<csv>.state.jsonl``.
  Its key is the SHA-256 of the submission's code files plus a fingerprint of the
  grader (its grading modules, numpy's and hypothesis' versions). A rerun skips a
  student whose key is unchanged and who was graded without error; a changed
  submission or a changed grader is graded again. Identical submissions (the
  untouched template, say) are graded once: the grader is deterministic.
* Output. The CSV has ``student``, one column per rubric id, ``total``, ``status``
  (``graded``, ``error`` or ``missing``) and ``detail``. The summary says which
  rubric items the class lost most, with the notebook section that teaches each,
  printed and drawn as a PNG next to the CSV (``<csv stem>_failures.png``). With
  ``--html`` the rows (which keep each student's hint ids) also become the class report of
  class_report.py: what the class got wrong, most common misconception first.

Exit status of grade-all: 0 every student graded; 1 the CSV was written but some
rows say error or missing; 2 the command was used wrongly.
"""

import csv
import hashlib
import json
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import sys
import tempfile
import time
from importlib import metadata

from .. import rubric
from ..errors import UsageError
from ..grading import report
from . import class_report

CODE_EXTENSIONS = (".py", ".ipynb")
SKIP_DIRS = ("__pycache__", ".ipynb_checkpoints")
TIMEOUT = 300.0


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
        else:
            students.append((student, paths[0], ""))
    if not students:
        raise BatchError("%s holds no .py or .ipynb file and no student folder" % root)
    return students


def submission_digest(path):
    """SHA-256 over the code files the grader may read (for a folder: names and contents)."""
    h = hashlib.sha256()
    if os.path.isfile(path):
        files = [(os.path.splitext(path)[1], path)]   # the content and kind, not the student's file name
    else:
        files = []
        for folder, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
            files.extend((os.path.relpath(os.path.join(folder, n), path), os.path.join(folder, n))
                         for n in sorted(names) if n.endswith(CODE_EXTENSIONS))
    for rel, full in files:
        h.update(rel.encode("utf-8") + b"\0")
        with open(full, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def grader_fingerprint():
    """Changes whenever something that decides a grade changes, so a rerun grades again.

    What decides a grade is the engine: the rubric and the grading/ and sandbox/ folders. Platform
    code (this module included) only renders, so it is left out by folder, not by a list of names.
    """
    h = hashlib.sha256()
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for entry in ("rubric.py", "grading", "sandbox"):
        path = os.path.join(package, entry)
        files = [entry] if os.path.isfile(path) else [
            os.path.join(entry, n) for n in sorted(os.listdir(path)) if n.endswith((".py", ".json"))]
        for name in files:
            with open(os.path.join(package, name), "rb") as f:
                h.update(name.encode() + b"\0" + f.read())
    for package in ("numpy", "hypothesis"):
        try:
            h.update(("%s=%s;" % (package, metadata.version(package))).encode())
        except metadata.PackageNotFoundError:
            h.update(package.encode() + b"=none;")
    return h.hexdigest()[:16]


def default_jobs():
    """The cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# -- the work one worker does --------------------------------------------------------------------
def grade_row(path):
    """Grade one submission; a plain dict (picklable), never an exception."""
    from ..grading import engine
    try:
        result = engine.grade(path)
    except Exception as exc:   # a bug in the grader: this student's row says so, the batch goes on
        return {"status": "error", "detail": "the grader failed: %s: %s" % (type(exc).__name__, exc)}
    return {"status": "error" if result.error else "graded", "detail": result.error,
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
    if grade_fn is grade_row:
        from ..grading import checks, engine   # noqa: F401  (warm up once, not per student)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            row = grade_fn(task)
        except Exception as exc:      # SystemExit (from SIGTERM) is let through: the worker is being stopped
            row = {"status": "error", "detail": "the grader failed: %s: %s" % (type(exc).__name__, exc)}
        conn.send(row)


class Pool:
    """Worker processes, each fed through its own pipe; a stuck or dead worker is replaced."""

    def __init__(self, jobs, timeout=TIMEOUT, grade_fn=grade_row):
        self.jobs, self.timeout, self.grade_fn = max(1, jobs), timeout, grade_fn
        self.ctx = multiprocessing.get_context("spawn")
        self.scratch = tempfile.mkdtemp(prefix="autograder-batch-")
        self.workers = []

    def _spawn(self):
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker, args=(child, self.grade_fn, self.scratch), daemon=True)
        proc.start()
        child.close()
        return {"proc": proc, "conn": parent, "task": None, "since": 0.0}

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
                        try:
                            w["conn"].send(w["task"][1])
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


def load_state(path):
    """{student: row} from the state file; broken lines (a run that was killed mid-write) are ignored."""
    state = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if isinstance(row, dict) and isinstance(row.get("student"), str):
                    state[row["student"]] = row
    except FileNotFoundError:
        pass
    return state


def write_csv(rows, path):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".grades-")
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(report.CSV_HEADER)
        for row in sorted(rows, key=lambda r: r["student"]):
            out.writerow(report.csv_row(row["student"], row.get("points") or {}, row.get("total"),
                                        row["status"], row.get("detail")))
    os.replace(tmp, path)


# -- what the class got wrong ----------------------------------------------------------------------
def failure_summary(rows):
    """[(item, students who lost it, students graded)], the most lost first."""
    graded = [r for r in rows if r["status"] == "graded" and r.get("points")]
    counts = []
    for item in rubric.ITEMS:
        lost = sum(1 for r in graded if r["points"].get(item.id, 0) < item.points)
        counts.append((item, lost, len(graded)))
    return sorted(counts, key=lambda c: (-c[1], [i.id for i in rubric.ITEMS].index(c[0].id)))


def summary_text(summary):
    if not summary or summary[0][2] == 0:
        return "No submission was graded, so there is no summary of what the class got wrong.\n"
    lines = ["What the class lost most (%d students graded):" % summary[0][2]]
    for item, lost, n in summary:
        lines.append("  %-20s %3d%% lost it (%d/%d)  %s" % (item.id, round(100 * lost / n), lost, n, item.section))
    return "\n".join(lines) + "\n"


def plot_summary(summary, png_path):
    """A bar per rubric item: the share of the class that lost it, labelled with its notebook section."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    n = summary[0][2] if summary else 0
    ordered = list(reversed(summary))   # barh draws bottom-up: the most lost ends on top
    fig = Figure(figsize=(9, 0.65 * len(ordered) + 1.6))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    shares = [100.0 * lost / n if n else 0.0 for _, lost, _ in ordered]
    bars = ax.barh(range(len(ordered)), shares, color=["#c0392b" if s >= 25 else "#7f8c8d" for s in shares])
    ax.set_yticks(range(len(ordered)))
    ax.set_yticklabels(["%s\n%s" % (item.id, item.section) for item, _, _ in ordered], fontsize=8)
    for bar, (_, lost, _) in zip(bars, ordered):
        ax.text(bar.get_width() + 1, bar.get_y() + bar.get_height() / 2, "%d/%d" % (lost, n),
                va="center", fontsize=8)
    ax.set_xlim(0, 110)
    ax.set_xlabel("%% of the %d graded students who lost the item" % n)
    ax.set_title("Which ideas of the lesson did not land")
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)
    return png_path


# -- the command ---------------------------------------------------------------------------------
def grade_all(root, csv_path, jobs=None, timeout=TIMEOUT, assignment=None, results_dir=None,
              plot=True, fresh=False, stream=None, grade_fn=grade_row):
    """Grade every student under ROOT, write the CSV (and plot); returns a dict of what happened."""
    stream = stream or sys.stderr
    students = discover(root, assignment)
    state_path = csv_path + ".state.jsonl"
    state = {} if fresh else load_state(state_path)
    fingerprint = grader_fingerprint()
    rows, groups, skipped = {}, {}, 0
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
            rows[student], skipped = old, skipped + 1
            continue
        groups.setdefault(key, []).append((student, path))
    if results_dir:
        os.makedirs(results_dir, exist_ok=True)
    todo = sum(len(g) for g in groups.values())
    jobs = jobs or default_jobs()
    stream.write("grade-all: %d students: %d to grade on %d worker processes, %d unchanged since the last run\n"
                 % (len(students), todo, min(jobs, len(groups)), skipped))
    progress = Progress(todo, stream)
    counts = {"done": 0, "errors": 0}
    start = time.monotonic()
    with open(state_path, "w" if fresh else "a", encoding="utf-8") as state_file:
        def on_done(key, result):
            for student, _ in groups[key]:
                row = {"student": student, "key": key, "status": result.get("status", "error"),
                       "detail": result.get("detail") or "", "points": result.get("points"),
                       "total": result.get("total"), "hints": result.get("hints"), "limits": result.get("limits")}
                rows[student] = row
                state_file.write(json.dumps(row) + "\n")
                if results_dir and result.get("results"):
                    report.write_json(result["results"], os.path.join(results_dir, student + ".json"))
                counts["done"] += 1
                counts["errors"] += row["status"] != "graded"
            state_file.flush()
            progress.update(counts["done"], counts["errors"])

        if groups:
            Pool(jobs, timeout, grade_fn).run([(key, g[0][1]) for key, g in groups.items()], on_done,
                                              tick=progress.update)
            progress.update(final=True)
    seconds = time.monotonic() - start
    final = [rows[s] for s, _, _ in students]
    write_csv(final, csv_path)
    with open(state_path + ".tmp", "w", encoding="utf-8") as f:   # compact: one line per student
        for row in final:
            if row.get("key"):
                f.write(json.dumps(row) + "\n")
    os.replace(state_path + ".tmp", state_path)
    summary = failure_summary(final)
    png = None
    if plot and summary and summary[0][2]:
        try:
            png = plot_summary(summary, os.path.splitext(csv_path)[0] + "_failures.png")
        except ImportError:
            stream.write("grade-all: matplotlib is not installed, so no plot was drawn "
                         "(pip install matplotlib); the CSV is complete\n")
        except (OSError, ValueError, RuntimeError) as exc:
            stream.write("grade-all: the plot could not be drawn (%s); the CSV is complete\n" % exc)
    return {"rows": final, "graded": todo, "skipped": skipped, "seconds": seconds, "summary": summary,
            "png": png, "csv": csv_path}


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
    p.set_defaults(handler=command)


def command(args):
    from ..sandbox.confine import warn_if_not_root
    warn_if_not_root("grade-all")
    old = class_report.prepare(args)
    try:
        done = grade_all(args.submissions, args.csv, jobs=args.jobs, timeout=args.timeout,
                         assignment=args.assignment, results_dir=args.results_dir,
                         plot=not args.no_plot, fresh=args.fresh)
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
