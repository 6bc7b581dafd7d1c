"""grade-all's local workers: one process per core, each fed through its own pipe.

Design
------
* Spawned, warm workers. Each worker is started with ``spawn`` (it inherits no threads or locks),
  imports the grader once and starts the warm pool's launcher (sandbox/pool.py), which it passes
  to every grading: a template child that imported numpy once forks a fresh child per submission,
  so a submission costs its checks, not two Python start-ups.
* Own pipes rather than a ProcessPoolExecutor: a worker that dies or overruns ``--timeout`` is
  stopped and replaced without breaking the pool, and only that student's row says ``error``.
  Nothing about one submission can stop the batch.
* Shared searches. The workers share what hypothesis searched (grading/search_memory.py): each
  row carries the search paths its worker added (``SEARCHES``), and the pool hands them to every
  other worker with its next student, so a mistake is searched once per run, not once per worker.
  A memory saved by an earlier run on the same CSV (batch_files.py) is handed to every worker with
  its first student. Replays are exact, so which worker grades whom never changes a grade.
* ``grade_row`` is the one function that turns a grading into a row (a plain, picklable dict); the
  Dask executor (batch_dask.py) runs the very same function on its workers.
* Scratch in memory. Every grading makes and removes a few folders of its own (the code it sends,
  the child's home on the host's side, a lock file each). On a disk file system each of those waits
  for the journal: about 10 ms a student on the development machine under load, against 1 ms on a
  tmpfs. So as root, when each child gets private temp folders (it holds CAP_SYS_ADMIN,
  sandbox/namespaces.py: no student writes to the host's /dev/shm) and /dev/shm is a tmpfs with
  ``SHM_MIN_FREE`` to spare, the workers' scratch goes there (``scratch_root``); a TMPDIR the
  instructor set is kept. (Dask workers keep their own temp folder: there it showed no gain.)
"""

import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import sys
import tempfile
import time

# checks_net is imported for its side effect (it and checks.py register every check): each worker
# warms them up once, not once per student.
from ..grading import checks_net, engine, report, search_memory  # noqa: F401
from ..sandbox import confine, pool
from . import class_report
from .batch_files import SCRATCH_PREFIX

TIMEOUT = 300.0
SHM = "/dev/shm"
SHM_MIN_FREE = 2**30        # a class's scratch is kilobytes a student; far below this, keep to the disk
SEARCHES = "_searches"      # a row's field carrying its worker's new search paths; the pool takes it off
REPLAYS = "_replays"        # ...and (searches replayed, searches run for real) while grading it


def default_jobs():
    """The cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def scratch_root():
    """The folder for the workers' scratch: ``SHM`` where it pays and is safe (the module's design), else None
    (the system's temp folder)."""
    if os.environ.get("TMPDIR") or os.geteuid() != 0 or not confine.may_make_namespaces():
        return None
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
            kinds = [line.split()[2] for line in f if len(line.split()) > 2 and line.split()[1] == SHM]
        room = os.statvfs(SHM)
    except OSError:
        return None
    if not kinds or kinds[-1] != "tmpfs" or room.f_bavail * room.f_frsize < SHM_MIN_FREE:
        return None
    return SHM


def error_row(detail):
    """The row of a student who could not be graded; ``detail`` says why and what to do."""
    return {"status": "error", "detail": detail}


# -- the work one worker does --------------------------------------------------------------------
def _detail(result):
    """The CSV's ``detail`` of a graded row: why nothing or part of it could be read, then each lost item
    with the kind of its failure ('' at full marks). A file that could not be read at all needs no list."""
    unread = class_report.unread(result)
    if unread.startswith(class_report.NOTHING_READ):
        return unread
    return "; ".join(part for part in (unread, report.lost_detail(result)) if part)


def grade_row(path, launcher=None):
    """Grade one submission (its child started by ``launcher``: the worker's warm pool); a plain dict
    (picklable), never an exception."""
    try:
        result = engine.grade(path, launcher=launcher)
    except Exception as exc:   # a bug in the grader: this student's row says so, the batch goes on
        return error_row("the grader failed: %s: %s" % (type(exc).__name__, exc))
    return {"status": "error" if result.error else "graded", "detail": result.error or _detail(result),
            "points": {v.id: v.points for v in result.verdicts}, "total": result.score,
            "hints": {v.id: v.hint for v in result.verdicts if v.hint}, "limits": class_report.limits(result),
            "results": report.results_json(result)}


def count_replays(total, counts):
    """Add a worker's (replayed, searched) to TOTAL, a list of two; anything else is not counted."""
    if isinstance(counts, (tuple, list)) and len(counts) == 2 and all(type(c) is int for c in counts):
        total[0] += counts[0]
        total[1] += counts[1]


def _worker(conn, grade_fn, scratch):
    # Before numpy is imported: one BLAS thread (the workers already fill the cores), and temp
    # files in the batch's own scratch folder, which is removed when the batch ends.
    for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[key] = "1"
    os.environ["TMPDIR"] = scratch
    tempfile.tempdir = scratch
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))   # lets engine.grade close its sandbox
    signal.signal(signal.SIGINT, signal.SIG_IGN)             # Ctrl-C is the parent's to handle
    launcher = None
    if grade_fn is grade_row:
        launcher = pool.Launcher()              # children fork from a template that imported numpy once
    try:
        _serve(conn, grade_fn, launcher)
    finally:
        if launcher is not None:
            launcher.close()                    # reap the template (and count its CPU time)


def _serve(conn, grade_fn, launcher=None):
    memory = search_memory.MEMORY     # looked up per call: a test hands a worker a memory of its own
    memory.sharing = grade_fn is grade_row
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        path, searches = task             # searches: what the other workers' hypothesis searches found
        hits, misses = memory.hits, memory.misses
        try:
            if memory.sharing:
                memory.apply(searches)
            row = grade_fn(path) if launcher is None else grade_fn(path, launcher=launcher)
        except Exception as exc:      # SystemExit (from SIGTERM) is let through: the worker is being stopped
            row = error_row("the grader failed: %s: %s" % (type(exc).__name__, exc))
        if memory.sharing:
            row[SEARCHES] = memory.drain()
            row[REPLAYS] = (memory.hits - hits, memory.misses - misses)
        conn.send(row)


class Pool:
    """Worker processes, each fed through its own pipe; a stuck or dead worker is replaced."""

    def __init__(self, jobs, timeout=TIMEOUT, grade_fn=grade_row, scratch=None, searches=()):
        self.jobs, self.timeout, self.grade_fn = max(1, jobs), timeout, grade_fn
        # Search paths (search_memory.py): a saved memory's first (batch_files.py), then every worker's new
        # ones in arrival order; each worker is handed those it has not seen with its next student.
        self.searches = list(searches)
        self.replays = [0, 0]       # searches replayed from memory, searches run for real (for the log)
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
                self._feed(pending)
                busy = [w for w in self.workers if w["task"]]
                ready = multiprocessing.connection.wait([w["conn"] for w in busy], timeout=0.25)
                for i, w in enumerate(self.workers):
                    if w["task"]:
                        self._collect(i, w, ready, on_done)
                if tick:
                    tick()
        finally:
            self.close()

    def _feed(self, pending):
        """Hand the next task, and the searches found since, to every idle worker."""
        for w in self.workers:
            if w["task"] is None and pending:
                w["task"], w["since"] = pending.pop(), time.monotonic()
                news, w["seen"] = self.searches[w["seen"]:], len(self.searches)
                try:
                    w["conn"].send((w["task"][1], news))
                except OSError:
                    pass   # the worker is gone: wait() sees the closed pipe and reports it

    def _collect(self, i, w, ready, on_done):
        """The row of busy worker ``i`` if it answered, died or overran; a dead or stuck one is replaced."""
        row = None
        if w["conn"] in ready:
            try:
                row = w["conn"].recv()
            except (EOFError, OSError):
                w["proc"].join(1)
                row = error_row("the grading process died (exit code %s); grade this submission alone "
                                "with python -m autograder grade PATH" % w["proc"].exitcode)
        elif time.monotonic() - w["since"] > self.timeout:
            row = error_row("grading took longer than %g s and was stopped; rerun with a larger --timeout, "
                            "or grade it alone" % self.timeout)
        if row is None:
            return
        if isinstance(row, dict):
            self.searches.extend(row.pop(SEARCHES, None) or ())
            count_replays(self.replays, row.pop(REPLAYS, None))
        key, w["task"] = w["task"][0], None
        if not w["proc"].is_alive() or time.monotonic() - w["since"] > self.timeout:
            self._retire(w)                      # dead or stuck: a fresh worker takes its place
            self.workers[i] = self._spawn()
        on_done(key, row)

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
