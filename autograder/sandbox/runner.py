"""The grader's side of the child process: start it, talk to it, bound it, restart it.

Design: one child per submission, started as early as possible so that its
numpy import overlaps the grader's own start-up. Every request carries its own
wall-clock deadline; a child that misses it, dies, or answers garbage is killed
(with its whole process group) and the call becomes a ``StudentError`` that the
property turns into a failure of that rubric item only. The next request starts
a fresh child and loads the submission again.

Frames are read here; their contents are decoded by ``wire.py`` into plain data only
(no pickles, no objects), so nothing the child sends can execute in this process.
"""

import json
import os
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

# wire (and with it numpy) is imported in ``calls``, not here: the child is started before the
# grader imports numpy, so that the two imports overlap on a one-submission ``grade``.

CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "child.py")
CALL_SECONDS = 5.0          # wall time for one request (one to four calls of one student function)
LOAD_SECONDS = 20.0         # wall time to run the submission's top level
MEMORY_BYTES = 3 * 2**30    # address space of the child
FILE_BYTES = 64 * 2**20     # largest file the child may write
MAX_FRAME = 64 * 2**20      # largest reply read from the child
LIMITS = ((resource.RLIMIT_AS, MEMORY_BYTES), (resource.RLIMIT_FSIZE, FILE_BYTES), (resource.RLIMIT_CORE, 0))
# The warm pool (pool.install): when set, children are forked from a template that has imported
# numpy once, with the same limits; when None, each child is a fresh `python -I -B child.py`.
LAUNCHER = None


class StudentError(Exception):
    """A student function could not be called: it raised, hung, crashed or returned garbage."""


def _limit_child():
    """Runs in the child between fork and exec: its own process group, resource limits, no network."""
    os.setsid()
    if os.geteuid() == 0:
        try:
            import ctypes
            ctypes.CDLL(None, use_errno=True).unshare(0x40000000)   # CLONE_NEWNET: no network
        except (OSError, AttributeError):
            pass
    for limit, value in LIMITS:     # pool.py applies the same list in its forks
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            pass


class Sandbox:
    """A restartable child process that holds one submission's code."""

    def __init__(self, code_path, statements=False, call_seconds=CALL_SECONDS):
        self.code_path, self.statements, self.call_seconds = code_path, statements, call_seconds
        self.proc, self.loaded = None, None
        self.workdir = tempfile.mkdtemp(prefix="autograder-")
        # As root, student code runs as a uid of its own, reserved for this sandbox alone (uids.py),
        # so that the clean-up in close() cannot touch another grading (a grade-all worker grades
        # many submissions: each gets its own). It owns nothing but the scratch folder.
        # The child starts first (it runs only child.py until it loads the submission, and switches
        # to the uid then), so that its numpy import overlaps the reservation's checks.
        from . import uids
        self.uid = None
        self.start()
        try:
            self.uid = uids.reserve()
            if self.uid is not None:
                protect_grader()
                os.chown(self.workdir, self.uid, self.uid)
        except BaseException:
            self.close()
            raise

    # -- process management -------------------------------------------------
    def start(self):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.workdir,
               "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "MPLBACKEND": "Agg", "MPLCONFIGDIR": self.workdir}
        for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if key in os.environ:
                env[key] = os.environ[key]
        if LAUNCHER is not None:
            self.proc = LAUNCHER.spawn(env, self.workdir)
        else:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-B", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, cwd=self.workdir, env=env, preexec_fn=_limit_child)
        self.loaded = None
        if self.proc.stderr is not None:      # a pool's child writes its stderr to /dev/null
            threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()

    @staticmethod
    def _drain(stream):
        """Read and drop what the child writes to stderr (student prints land there), so it never blocks."""
        for _ in iter(lambda: stream.read(65536), b""):
            pass

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        if self.uid is not None:
            _kill_user(self.uid)      # also what escaped the process group (setsid, double fork)
        if self.proc is not None:
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
        self.proc = None

    def close(self):
        self.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)
        if self.uid is not None:
            from . import uids
            uids.release(self.uid)        # its processes killed, its files in /tmp etc. removed, claim dropped
            self.uid = None

    # -- framing --------------------------------------------------------------
    def _send(self, header, blobs):
        header = dict(header, _blobs=[len(b) for b in blobs])
        head = json.dumps(header).encode("utf-8")
        body = struct.pack(">I", len(head)) + head + b"".join(blobs)
        self.proc.stdin.write(struct.pack(">Q", len(body)) + body)
        self.proc.stdin.flush()

    def _read_exact(self, n, deadline):
        fd, parts, got = self.proc.stdout.fileno(), [], 0
        while got < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(fd, min(n - got, 1 << 20))
            if not chunk:
                raise EOFError
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    def _receive(self, deadline):
        (n,) = struct.unpack(">Q", self._read_exact(8, deadline))
        if n > MAX_FRAME:
            raise StudentError("returned arrays far too large (%d MB); the arrays of this assignment are "
                               "tiny" % (n >> 20))
        data = self._read_exact(n, deadline)
        (h,) = struct.unpack(">I", data[:4])
        header = json.loads(data[4:4 + h].decode("utf-8"))
        lengths = header.get("_blobs", []) if isinstance(header, dict) else None
        if not isinstance(lengths, list) or not all(isinstance(x, int) and x >= 0 for x in lengths):
            raise ValueError("malformed reply")
        blobs, offset = [], 4 + h
        for length in lengths:
            blobs.append(data[offset:offset + length])
            offset += length
        return header, blobs

    def _exchange(self, header, blobs, seconds):
        """One request and its reply; any failure kills the child and raises StudentError."""
        if self.proc is None or self.proc.poll() is not None:
            self.kill()
            self.start()
        try:
            self._send(header, blobs)
            return self._receive(time.monotonic() + seconds)
        except StudentError:
            self.kill()
            raise
        except TimeoutError:
            self.kill()
            raise StudentError("did not finish within %g seconds (an endless loop, or far too much work?)"
                               % seconds) from None
        except (EOFError, BrokenPipeError, ConnectionError, OSError):
            code = self.proc.wait() if self.proc else None
            self.kill()
            raise StudentError(_death(code)) from None
        except (ValueError, KeyError, UnicodeDecodeError, struct.error):
            self.kill()
            raise StudentError("sent back something the grader could not read") from None

    # -- the two requests -----------------------------------------------------
    def load(self):
        """Run the submission's top level once per child; returns {'functions', 'problems'}."""
        if self.loaded is None or self.proc is None or self.proc.poll() is not None:
            self.loaded = None
            header, _ = self._exchange({"op": "load", "path": self.code_path, "uid": self.uid,
                                        "statements": self.statements}, [], LOAD_SECONDS)
            functions = header.get("functions")
            problems = header.get("problems", [])
            if not isinstance(functions, dict) or not isinstance(problems, list):
                self.kill()
                raise StudentError("sent back something the grader could not read")
            self.loaded = {"functions": {str(k): str(v) for k, v in functions.items()},
                           "problems": [str(p)[:400] for p in problems[:20]]}
        return self.loaded

    def calls(self, requests):
        """Run [(fn, args, seed), ...] in order; returns a list of Reply or raises StudentError."""
        from .wire import Reply, encode
        try:
            self.load()
        except StudentError as exc:
            raise StudentError("your file " + str(exc)) from None
        blobs = []
        specs = [{"fn": fn, "args": [encode(a, blobs) for a in args], "seed": seed}
                 for fn, args, seed in requests]
        header, out = self._exchange({"op": "calls", "calls": specs}, blobs, self.call_seconds)
        replies = header.get("replies")
        if not isinstance(replies, list) or len(replies) != len(requests):
            self.kill()
            raise StudentError("sent back something the grader could not read")
        try:
            return [Reply(r, out) for r in replies]
        except (ValueError, TypeError, AttributeError):
            self.kill()
            raise StudentError("returned something the grader could not read") from None


def _death(code):
    if code is None:
        return "stopped answering"
    if code < 0:
        name = {signal.SIGKILL: "SIGKILL (often: out of memory)", signal.SIGSEGV: "SIGSEGV (a crash)",
                signal.SIGABRT: "SIGABRT"}.get(-code, "signal %d" % -code)
        return "crashed the Python process running it (%s)" % name
    return "ended the Python process running it (exit status %d, e.g. sys.exit or os._exit)" % code


def _kill_user(uid):
    """Kill every process of ``uid``: fork, become that user, and signal all it may signal."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def protect_grader():
    """As root: make the grader's own folders (hidden tests, reference solution) closed to other users.

    Student code runs as another user, so a folder without the 'others' bits cannot be entered,
    and the grader's modules cannot be imported or read to borrow the reference answers.
    """
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # autograder/, hidden tests too
    for folder in (package, os.path.join(os.path.dirname(package), "solutions")):
        try:
            mode = os.stat(folder).st_mode
            if mode & 0o007:
                os.chmod(folder, mode & ~0o007)
        except OSError:
            pass
