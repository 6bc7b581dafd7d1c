"""What grade-all keeps on disk: the state file, the CSV, the lock, the sweep of a killed run, the searches.

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
* The search memory (``<csv>.searches.json``). A run learns hypothesis' searches
  (grading/search_memory.py) and its workers share them; at the end of a run (an interrupted one
  too) the run's memory is written next to the CSV, and the next run on that CSV hands it to every
  worker with its first student, on the local pool and on Dask alike, so a rerun after late
  submissions starts warm (``--fresh`` starts cold). Replays are exact, so the file changes how fast
  a grade comes, never which grade: the tests grade with and without it and compare the bytes.
  The file lies in a folder others may be able to write, and a planted memory could steer a replay
  to other cases than hypothesis would try (the points stay, the case a message shows would not).
  So it is plain JSON (never pickle: nothing in it is run) and is used only when all of these hold,
  else it is ignored with a note on the run's log and the run starts cold (``load_memory``):
  - a regular file reached without a link (``O_NOFOLLOW`` in a folder opened by
    ``safefs.open_folder``), owned by root or by the user running grade-all and writable by nobody
    else: only those could have written it, as ``safefs.write_bytes`` does;
  - at most MEMORY_MAX_BYTES, JSON, and a search memory of this format;
  - made by this very grader: the same ``grader_fingerprint`` and the same Python, since outcomes
    name files and line numbers;
  - every path in it passes ``search_memory.decode``'s checks of each field.
  A file that cannot be read or written is a note, never an error that stops the run.
* Inert cells and safe names. Every CSV cell passes through ``inert`` (OWASP's CSV-injection rule,
  control characters and undecodable bytes escaped), and a feedback file name longer than a file
  name may be is cut with a stable hash of the whole name (``feedback_name``).
"""

import csv
import errno
import hashlib
import io
import json
import os
import platform
import shutil
import socket
import stat
import time
from importlib import metadata

from ..errors import UsageError
from ..grading import report, search_memory
from ..sandbox import safefs

SCRATCH_PREFIX = "autograder-batch-"     # + pid: the run's scratch folder, under the system's temp folder
STALE_LOCK_SECONDS = 10.0                # an unreadable lock older than this was left half-written
NAME_MAX = 255                           # bytes in one file name on Linux file systems (ext4, xfs, tmpfs)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")   # OWASP: a spreadsheet reads a cell starting so as a formula
MEMORY_SUFFIX = ".searches.json"         # <csv> + this: the search memory, next to the CSV and the state file
MEMORY_FORMAT, MEMORY_VERSION = "autograder search memory", 1
STATE_MAX_BYTES = 1 << 30               # a line per student with its results.json: far more than any class
MEMORY_MAX_BYTES = 64 << 20              # 50,000 nodes (search_memory's cap) saved as paths stay far below this
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


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

    What decides a grade is the engine: the rubric, the verdicts and the grading/ and sandbox/
    folders. Platform code (this module included) only renders, so it is left out by folder, not by a
    list of names.
    """
    h = hashlib.sha256()
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for entry in ("rubric.py", "verdicts.py", "grading", "sandbox"):
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


def load_state(path, stream=None):
    """{student: row} from the state file; broken lines (a run that was killed mid-write) are ignored.

    The file says which students need no grading again, so it is read only where it can be trusted, as
    the search memory is (``_read_own``): a file planted or made writable by someone else is ignored with
    a note on ``stream``, and every student is graded again."""
    try:
        data = _read_own(path, STATE_MAX_BYTES)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        if stream is not None:
            stream.write("grade-all: ignored the state file %s: %s; every student is graded again\n"
                         % (safefs.shown(path), exc.strerror or exc if isinstance(exc, OSError) else exc))
        return {}
    state = {}
    for line in data.decode("utf-8", "replace").splitlines():
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(row, dict) and isinstance(row.get("student"), str):
            state[row["student"]] = row
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
        targets = [self.csv, self.csv + ".state.jsonl", self.csv + ".searches.json"]
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


# -- the search memory -------------------------------------------------------------------------------
class Untrusted(ValueError):
    """The search memory file is not one this grader may trust; the text says why."""


def memory_path(csv_path):
    return csv_path + MEMORY_SUFFIX


def python_version():
    """The Python whose line numbers the outcomes name: implementation and version."""
    return "%s %s" % (platform.python_implementation(), platform.python_version())


def load_memory(path, fingerprint, stream):
    """The saved paths of ``path`` (``search_memory.decode``d), or [] with a note on ``stream`` saying why not."""
    try:
        data = json.loads(_read_own(path, MEMORY_MAX_BYTES).decode("utf-8"))
        return _memory_paths(data, fingerprint)
    except FileNotFoundError:
        return []
    except (OSError, ValueError, RecursionError) as exc:
        why = exc.strerror or exc if isinstance(exc, OSError) else exc
        stream.write("grade-all: ignored the search memory %s: %s; searches start cold (grades are not "
                     "affected)\n" % (safefs.shown(path), why))
        return []


def save_memory(path, fingerprint, entries, stream):
    """Write ``entries`` (deduplicated through a memory of its own) to ``path``; a note if that fails."""
    memory = search_memory.SearchMemory()
    memory.apply(entries)
    data = {"format": MEMORY_FORMAT, "version": MEMORY_VERSION, "grader": fingerprint, "python": python_version(),
            "paths": search_memory.encode(memory.entries())}
    try:
        safefs.write_bytes(path, json.dumps(data, separators=(",", ":")).encode("utf-8"), mode=0o644)
    except OSError as exc:
        stream.write("grade-all: could not save the search memory %s (%s); the next run searches again\n"
                     % (safefs.shown(path), exc.strerror or exc))


def _read_own(path, limit):
    """The bytes of ``path`` if root or this user owns it and nobody else may write it (see the design above)."""
    folder, name = os.path.split(os.path.abspath(path))
    dfd = safefs.open_folder(folder, create=False)
    try:
        try:
            fd = os.open(name, _READ_FLAGS, dir_fd=dfd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise Untrusted("it is a link, and the grader follows no link there") from None
            raise
    finally:
        os.close(dfd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Untrusted("it is not a regular file")
        if st.st_uid not in (0, os.geteuid()):
            raise Untrusted("it belongs to uid %d, not to root or to the user running grade-all, who alone "
                            "write it" % st.st_uid)
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise Untrusted("others may write it (mode %o); grade-all writes it 644" % stat.S_IMODE(st.st_mode))
        if st.st_size > limit:
            raise Untrusted("it is larger than %d MB" % (limit >> 20))
        with os.fdopen(fd, "rb") as f:
            fd = None
            return f.read(limit + 1)
    finally:
        if fd is not None:
            os.close(fd)


def _memory_paths(data, fingerprint):
    """The decoded paths of a parsed file, once its header says it is this grader's own memory."""
    if not (isinstance(data, dict) and data.get("format") == MEMORY_FORMAT):
        raise Untrusted("it is not a search memory of grade-all")
    if data.get("version") != MEMORY_VERSION:
        raise Untrusted("it is of format version %r, this grader reads %d" % (data.get("version"), MEMORY_VERSION))
    if data.get("grader") != fingerprint or data.get("python") != python_version():
        raise Untrusted("it was made by another grader (fingerprint %s, %s; this one is %s, %s)"
                        % (str(data.get("grader"))[:40], str(data.get("python"))[:40], fingerprint,
                           python_version()))
    return search_memory.decode(data.get("paths"))
