"""Grade a whole class: ``python -m autograder grade-all SUBMISSIONS_DIR --csv grades.csv``.

Design
------
grade-all is built in rooms, each a module of its own, and this one runs them in order:

* batch_discover.py finds the students and reads their code files through the file-safety layer
  (sandbox/safefs.py): no link followed, regular files only, caps on size and depth. A student
  whose folder cannot be read gets an ``error`` row with the reason; the run goes on.
* batch_pool.py grades on local worker processes (one per core, warm, each fed through its own
  pipe, sharing hypothesis' searches); batch_dask.py grades on a Dask cluster instead
  (``--dask SCHEDULER``). Both have ``run(tasks, on_done, tick)`` and produce the same rows.
* batch_summary.py draws the progress bar and says what the class lost most; batch_figure.py
  draws it as ``<csv stem>_failures.png`` next to the CSV (with a histogram of total scores).
* batch_files.py keeps the CSV, the state file, the feedback files and the lock; it also
  keeps hypothesis' searches between runs (``<csv>.searches.json``), so a rerun starts warm.
* batch_cli.py is the command line.

Resumable. After each student a JSON line is appended to ``<csv>.state.jsonl``. Its key is the
SHA-256 of what the grader may read of the submission plus a fingerprint of the grader (its grading
modules, numpy's and hypothesis' versions). A rerun skips a student whose key is unchanged and who
was graded without error, and writes the feedback file (``--results-dir``) of such a student if it
is missing, from the state; a changed submission or a changed grader is graded again. A feedback
file that cannot be written makes the row ``error``, so the rerun grades it again. Identical
submissions (the untouched template, say) are graded once: the grader is deterministic. One run per
CSV; a killed run is swept by the next (``<csv>.lock``, batch_files.py).

Output. The CSV has ``student``, one column per rubric id, ``total``, ``status`` (``graded``,
``error``: the submission could not be read or graded, or ``missing``: no submission, or a folder
without any .py/.ipynb file) and ``detail``; every cell is inert in a spreadsheet (batch_files.inert).
The CSV and the state file are written for every student, whatever one of them submitted.

Exit status of grade-all: 0 every student graded; 1 the CSV was written but some rows say error or
missing; 2 the command was used wrongly.
"""

import json
import os
import shutil
import sys
import tempfile
import time

from ..sandbox import safefs
from .batch_dask import DaskPool
from .batch_discover import BatchError, discover, submission_digest  # noqa: F401  (BatchError: what grade_all raises)
from .batch_figure import plot_summary
from .batch_files import (SCRATCH_PREFIX, RunLock, feedback_name, grader_fingerprint, load_memory, load_state,
                          memory_path, save_memory, write_csv, write_feedback, write_state)
from .batch_pool import TIMEOUT, Pool, default_jobs, error_row, grade_row, scratch_root
from .batch_summary import Progress, failure_summary, totals


def grade_all(root, csv_path, jobs=None, timeout=TIMEOUT, assignment=None, results_dir=None,
              plot=True, fresh=False, stream=None, grade_fn=grade_row, dask=None, dask_batch=None):
    """Grade every student under ROOT, write the CSV (and plot); returns a dict of what happened.

    ``dask``: a scheduler address, a distributed Cluster or Client, to grade on instead of local workers;
    ``dask_batch``: students per Dask task (default: batch_dask.batch_size).
    """
    stream = stream or sys.stderr
    students = discover(root, assignment)
    os.makedirs(os.path.dirname(os.path.abspath(csv_path)), exist_ok=True)     # with its lock and state file
    if results_dir:
        os.makedirs(results_dir, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix=SCRATCH_PREFIX + "%d-" % os.getpid(), dir=scratch_root())
    lock = RunLock(csv_path, scratch, stream)
    try:
        lock.acquire(results_dir)
        return _grade_all(students, csv_path, jobs, timeout, results_dir, plot, fresh, stream, grade_fn,
                          (dask, dask_batch), scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        lock.release()


class _Plan:
    """Who is graded now, and the rows of everyone else (missing, unreadable, unchanged since the last run)."""

    def __init__(self):
        self.rows, self.groups, self.skipped, self.rewritten = {}, {}, 0, 0

    def add(self, student, path, problem, key, old, results_dir):
        if problem:               # no path: nothing submitted; a path: it cannot be read
            self.rows[student] = {"student": student, "status": "error" if path else "missing", "detail": problem}
        elif old and old.get("key") == key and old.get("status") == "graded" and self._reuse(student, old, results_dir):
            self.rows[student], self.skipped = old, self.skipped + 1
        else:
            self.groups.setdefault(key, []).append((student, path))

    def _reuse(self, student, old, results_dir):
        """Can an unchanged student's earlier row stand? Writes a missing feedback file from the state."""
        if not results_dir or os.path.exists(os.path.join(results_dir, feedback_name(student))):
            return True
        if not old.get("results"):
            return False
        try:
            write_feedback(results_dir, student, old["results"])
        except OSError:
            return False                       # grade it again: the row will say why
        self.rewritten += 1
        return True


def _plan(students, state, results_dir, fingerprint):
    """The _Plan of this run: every student's key, compared with the state of earlier runs."""
    plan = _Plan()
    for student, path, problem in students:
        key = None
        if not problem:
            try:
                key = submission_digest(path) + ":" + fingerprint
            except OSError as exc:
                problem = "cannot read: %s" % exc
        plan.add(student, path, problem, key, state.get(student), results_dir)
    return plan


def _executor(dask, jobs, timeout, grade_fn, scratch, groups, searches, fingerprint):
    """(the executor, where it grades) for this run: a Dask cluster, or local worker processes; both start
    from ``searches``, the paths of a saved memory."""
    dask, dask_batch = dask
    if dask is not None:
        return (DaskPool(dask, searches, fingerprint, dask_batch),
                "the Dask cluster at %s" % (dask if isinstance(dask, str) else type(dask).__name__))
    jobs = jobs or default_jobs()
    return (Pool(jobs, timeout, grade_fn, scratch=os.path.join(scratch, "workers"), searches=searches),
            "%d worker processes" % min(jobs, len(groups)))


def _graded_row(result, student, key, results_dir):
    """The row of one student from its grading; a feedback file that cannot be written makes it an error."""
    row = dict(result, student=student, key=key, status=result.get("status", "error"),
               detail=result.get("detail") or "")
    if results_dir and result.get("results"):
        try:
            write_feedback(results_dir, student, result["results"])
        except OSError as exc:      # not recorded as graded: the next run grades it again
            row.update(status="error", detail="graded, but its feedback file could not be written "
                       "(%s); fix %s and run again" % (exc.strerror or exc, results_dir))
    return row


def _run(executor, plan, state_path, results_dir, progress):
    """Grade every group of the plan; each student's row goes to plan.rows and the state file as it comes."""
    counts = {"done": 0, "errors": 0}

    def on_done(key, result):
        if not isinstance(result, dict):
            result = error_row("the grader returned %s, not a row" % type(result).__name__)
        lines = []
        for student, _ in plan.groups[key]:
            row = _graded_row(result, student, key, results_dir)
            plan.rows[student] = row
            lines.append(json.dumps(row) + "\n")
            counts["done"] += 1
            counts["errors"] += row["status"] != "graded"
        safefs.append_bytes(state_path, "".join(lines).encode("utf-8"))     # at once: a killed run loses this row only
        progress.update(counts["done"], counts["errors"])

    if plan.groups:
        executor.run([(key, g[0][1]) for key, g in plan.groups.items()], on_done, tick=progress.update)
        progress.update(final=True)


def _plot(final, csv_path, stream):
    """The PNG summary next to the CSV, or None (nobody graded, no matplotlib, a drawing error)."""
    summary = failure_summary(final)
    if not (summary and summary[0][2]):
        return summary, None
    try:
        return summary, plot_summary(summary, os.path.splitext(csv_path)[0] + "_failures.png", totals(final))
    except ImportError:
        stream.write("grade-all: matplotlib is not installed, so no plot was drawn "
                     "(pip install matplotlib); the CSV is complete\n")
    except (OSError, ValueError, RuntimeError) as exc:
        stream.write("grade-all: the plot could not be drawn (%s); the CSV is complete\n" % exc)
    return summary, None


def _grade_all(students, csv_path, jobs, timeout, results_dir, plot, fresh, stream, grade_fn, dask, scratch):
    state_path, memory_file = csv_path + ".state.jsonl", memory_path(csv_path)
    fingerprint = grader_fingerprint()
    plan = _plan(students, {} if fresh else load_state(state_path, stream), results_dir, fingerprint)
    todo = sum(len(g) for g in plan.groups.values())
    searches = [] if fresh or not plan.groups else load_memory(memory_file, fingerprint, stream)
    executor, where = _executor(dask, jobs, timeout, grade_fn, scratch, plan.groups, searches, fingerprint)
    stream.write("grade-all: %d students: %d to grade on %s, %d unchanged since the last run%s%s\n"
                 % (len(students), todo, where, plan.skipped,
                    " (%d feedback files written again)" % plan.rewritten if plan.rewritten else "",
                    "; %d searches remembered from earlier runs" % len(searches) if searches else ""))
    start = time.monotonic()
    if fresh:
        safefs.write_bytes(state_path, b"")
    try:
        _run(executor, plan, state_path, results_dir, Progress(todo, stream))
    finally:          # an interrupted run keeps what it searched, as it keeps what it graded
        if len(executor.searches) > len(searches):
            save_memory(memory_file, fingerprint, executor.searches, stream)
    seconds = time.monotonic() - start
    replays = dict(zip(("replayed", "searched"), executor.replays))
    if sum(executor.replays):
        stream.write("grade-all: hypothesis searches: %(replayed)d replayed from memory, %(searched)d run\n"
                     % replays)
    final = [plan.rows[s] for s, _, _ in students]
    write_csv(final, csv_path)
    write_state(final, state_path)
    summary, png = _plot(final, csv_path, stream) if plot else (failure_summary(final), None)
    return {"rows": final, "graded": todo, "skipped": plan.skipped, "seconds": seconds, "summary": summary,
            "png": png, "csv": csv_path, "rewritten": plan.rewritten, "searches": replays,
            "remembered": len(searches)}
