"""What grade-all keeps on disk: the state file, the CSV, the lock, and the sweep of a killed run.

Design
------
* State and CSV. A student's key is the SHA-256 of the submission's code files plus a
  fingerprint of the grader (``submission_digest``, ``grader_fingerprint``).
  ``<csv>.state.jsonl`` gets one JSON line per graded student as soon as it is
  graded (a killed run loses at most the line being written; a half line is ignored), and is
  compacted to one line per student at the end. The CSV is rendered by grading/report.py.
* The lock. ``<csv>.lock`` is created with O_EXCL and holds the run's pid, its process start
  time (so a recycled pid is not mistaken for the run), the host and the run's scratch folder.
  A second run on the same CSV stops with a message that names the first and how to go on.
  A lock from another host (a CSV on a shared folder) is taken to be alive: only that host
  can tell, and the message says so.
* The sweep. A lock whose process is gone was left by a killed run (SIGKILL, a machine that went
  down). The next run on that CSV removes its scratch folder (only a folder named like a batch
  scratch folder), the half-written temporary files next to the CSV, the state file and in the
  feedback folder, says what it removed, and takes the lock over. Children of the killed run end
  by themselves: a sandbox child reads end-of-file on its closed pipe, a pool template on its
  closed socket, and a private uid left claimed is cleaned by sandbox/uids.py when it is next
  reserved.
* Atomic writes. The CSV, the state file and each feedback file are written by the one writer,
  ``safefs.write_bytes``: to a temporary file next to them and moved into place, never through a
  link, so a reader never sees half a file and a killed run leaves only such temporaries, which
  the sweep knows by name (``safefs.is_leftover``; ``.<name>.tmp-*`` of older versions too).
* Inert cells and safe names. Every CSV cell passes through ``inert`` (OWASP's CSV-injection rule,
  control characters and undecodable bytes escaped), and a feedback file name longer than a file
  name may be is cut with a stable hash of the whole name (``feedback_name``).
"""

import csv
import hashlib
import io
import json
import os
import shutil
import socket
import time
from importlib import metadata

from ..errors import UsageError
from ..grading import report
from ..sandbox import safefs

SCRATCH_PREFIX = "autograder-batch-"     # + pid: the run's scratch folder, under the system's temp folder
STALE_LOCK_SECONDS = 10.0                # an unreadable lock older than this was left half-written
NAME_MAX = 255                           # bytes in one file name on Linux file systems (ext4, xfs, tmpfs)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")   # OWASP: a spreadsheet reads a cell starting so as a formula


class LockError(UsageError):
    """Another run holds the CSV; the message names it and says how to go on."""


def _temp_prefix(path):
    """Half-written files next to PATH start with this (so a killed run's are found and swept)."""
    return "." + os.path.basename(path) + ".tmp-"


def _process_start(pid):
    """The start time of process PID (clock ticks since boot), or None if there is no such process."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "unknown"


def _lock_alive(lock):
    """Is the run that wrote LOCK (a dict) still running? A lock from another host counts as running."""
    if lock.get("host") != socket.gethostname():
        return True
    started = _process_start(int(lock.get("pid", 0)))
    return started is not None and started in ("unknown", lock.get("start"))


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


def inert(cell):
    """A CSV cell a spreadsheet shows as text: control characters, escapes and undecodable bytes made
    visible (``report.safe``), and OWASP's CSV-injection rule: a cell that begins with =, +, -, @, a tab
    or a carriage return gets a leading single quote, so it is never run as a formula."""
    text = report.safe(safefs.shown_bytes(cell)).replace("\t", "\\x09").replace("\n", " ")
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(rows):
    """The class CSV as text: report.CSV_HEADER, then one row per student (``report.csv_row``), sorted,
    every cell ``inert``."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(report.CSV_HEADER)
    for row in sorted(rows, key=lambda r: r["student"]):
        writer.writerow([inert(c) for c in report.csv_row(row["student"], row.get("points") or {}, row.get("total"),
                                                          row["status"], row.get("detail"))])
    return out.getvalue()


def write_csv(rows, path):
    safefs.write_bytes(path, csv_text(rows).encode("utf-8"))


def write_state(rows, path):
    """The state file compacted: one line per student with a key."""
    safefs.write_bytes(path, "".join(json.dumps(r) + "\n" for r in rows if r.get("key")).encode("utf-8"))


def feedback_name(student):
    """The feedback file name of STUDENT: ``<student>.json``, or, when that is longer than a file name may be
    (255 bytes), the name cut at a character boundary plus a hash of the whole name, stable across runs."""
    name = student + ".json"
    if len(os.fsencode(name)) <= NAME_MAX:
        return name
    tail = "-%s.json" % hashlib.sha256(os.fsencode(student)).hexdigest()[:16]
    head = os.fsdecode(os.fsencode(student)[:NAME_MAX - len(tail)])
    while head and "\udc80" <= head[-1] <= "\udcff":      # a character the cut split (or undecodable bytes)
        head = head[:-1]
    return head + tail


def write_feedback(results_dir, student, results):
    """Write one student's results.json into RESULTS_DIR, never through a planted link (``safefs``)."""
    report.write_json(results, os.path.join(results_dir, feedback_name(student)))


class RunLock:
    """``<csv>.lock``: taken with O_EXCL; a stale one (its process is gone) is swept and taken over."""

    def __init__(self, csv_path, scratch, stream):
        self.path, self.csv, self.scratch, self.stream = csv_path + ".lock", csv_path, scratch, stream
        self.held = False

    def read(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                lock = json.load(f)
            return lock if isinstance(lock, dict) else {}
        except (OSError, ValueError):
            return {}

    def acquire(self, results_dir=None):
        mine = {"pid": os.getpid(), "start": _process_start(os.getpid()), "host": socket.gethostname(),
                "started": time.strftime("%Y-%m-%d %H:%M:%S"), "scratch": self.scratch}
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                old = self.read()
                if not old:
                    try:
                        age = time.time() - os.stat(self.path).st_mtime
                    except FileNotFoundError:
                        continue
                    if age < STALE_LOCK_SECONDS:
                        raise LockError("%s is being created by another grade-all right now; wait for that "
                                         "run to finish" % self.path) from None
                elif _lock_alive(old):
                    raise LockError(
                        "another grade-all (pid %s on %s, started %s) is writing %s; wait for it to finish. "
                        "If no such run exists any more, delete %s and run again"
                        % (old.get("pid"), old.get("host"), old.get("started"), self.csv, self.path)) from None
                self.sweep(old, results_dir)
                try:
                    os.unlink(self.path)
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(mine, f)
            self.held = True
            return
        raise LockError("could not take %s; another grade-all seems to start at the same time" % self.path)

    def sweep(self, old, results_dir=None):
        """Remove what a killed run left: its scratch folder and its half-written files."""
        gone = []
        scratch = old.get("scratch")
        if isinstance(scratch, str) and os.path.basename(scratch).startswith(SCRATCH_PREFIX) \
                and os.path.isdir(scratch):
            shutil.rmtree(scratch, ignore_errors=True)
            gone.append(scratch)
        targets = [self.csv, self.csv + ".state.jsonl"]
        for target in targets:
            folder = os.path.dirname(os.path.abspath(target))
            for name in os.listdir(folder):
                if name.startswith(_temp_prefix(target)) or safefs.is_leftover(name, os.path.basename(target)):
                    os.unlink(os.path.join(folder, name))
                    gone.append(os.path.join(folder, name))
        if results_dir and os.path.isdir(results_dir):
            for name in os.listdir(results_dir):
                if name.startswith(".") and ".json.tmp-" in name or safefs.is_leftover(name):
                    os.unlink(os.path.join(results_dir, name))
                    gone.append(os.path.join(results_dir, name))
        self.stream.write("grade-all: an earlier run on %s (pid %s, started %s) did not finish; removed what it "
                          "left: %s\n" % (self.csv, old.get("pid", "?"), old.get("started", "?"),
                                          ", ".join(gone) if gone else "nothing but its lock"))

    def release(self):
        if self.held:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            self.held = False
