"""The grader's side of the child process: start it, talk to it, bound it, restart it.

Design: one child per submission, started as early as possible so that its
numpy import overlaps the grader's own start-up. Every request carries its own
wall-clock deadline, and the whole submission one hard budget (SUBMISSION_SECONDS)
that every load, reload and call draws from; a child that misses a deadline, dies,
or answers garbage is killed (with its whole process group, its cgroup and every
process of its uid) and the call becomes a ``StudentError`` that the property turns
into a failure of that function's items only. The next request starts a fresh child
and loads the submission again, inside the same budget.

Requests travel in batches (``batch``): the cases a check is about to meet are sent in
one frame, and the child answers each request in a frame of its own, in order. The
grader reads each reply with that request's own deadline, counted from the reply
before it, so a batch is timed exactly as its requests sent one by one would be; a
hang ends the batch at the request that hung (the child is killed), and the requests
after it are asked again when a check needs them. The child runs a batch ahead of the
checks for at most AHEAD_SECONDS, then leaves the rest to be asked later.

Everything in the child belongs to the student, the child's own protocol code
included. So every request carries a random id that its reply must repeat: a frame
with any other id (stray, duplicated, written by student code, a reply out of order)
is dropped, and at worst costs the request that was waiting, never a later one. Frames are read here;
their contents are decoded by ``wire.py`` into plain data only (no pickles, no
objects), and anything malformed (missing keys, wrong types, deep JSON, huge
lengths) becomes a ``StudentError``, never an exception in the grader.

How a child starts is the caller's choice, passed down as a *launcher*: ``FreshChild`` (the
default: ``python -I -S -B child.py``, one numpy import per child) or the warm pool's
``pool.Launcher`` (a fork of a template that imported numpy once), which grade-all's workers
pass to every grade. Both offer ``private_temp``, ``shared_group``, ``launch``, ``kill_children``,
``end_child`` and ``close``; nothing in this module changes with the launcher in use.

As root, the child runs under a private uid (``uids.reserve``), in a memory cgroup
(``confine.MemoryGroup``), in namespaces of its own (namespaces.py: no network, its own IPC,
private tmpfs mounts on /tmp, /var/tmp and /dev/shm), and cannot read the grader's folders
(``confine.hide_grader``); ``close`` kills the uid's processes and releases it. What the child
wrote in the temp folders ends with its namespace; only where namespaces could not be made
(no CAP_SYS_ADMIN) are the host's /tmp, /var/tmp and /dev/shm walked for its files.
"""

import json
import os
import resource
import secrets
import select
import signal
import struct
import subprocess
import sys
import threading
import time

from . import confine, namespaces, uids
# wire (and with it numpy) is imported where frames are decoded, not here: a one-submission ``grade``
# starts the child before the grader imports numpy, so that the two imports overlap.

CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "child.py")
# The grader's package: bound back whole if it lies under a temp folder, so that its ACL entry (confine.hide_grader)
# still keeps student code out; a bind of the sandbox folder alone would bypass it.
PACKAGE = os.path.dirname(os.path.dirname(CHILD))
CALL_SECONDS = 5.0          # wall time for one request (one to four calls of one student function)
AHEAD_SECONDS = 1.0         # a batch's requests are run ahead of the checks that will read them; once a batch has
#                             run this long the child stops and the rest are asked when needed: a slow function
#                             then spends at most this (and one request) on cases a failure makes unneeded.
#                             A correct submission's batches take milliseconds (under 0.2 s on a loaded machine).
LOAD_SECONDS = 20.0         # wall time to run the submission's top level
MEMORY_BYTES = 3 * 2**30    # address space of the child
FILE_BYTES = 64 * 2**20     # largest file the child may write
MAX_FRAME = 64 * 2**20      # largest reply read from the child
MAX_HEADER = 4 * 2**20      # largest JSON part of a reply (arrays travel outside it)
MAX_STRAY = 64              # frames with a wrong request id dropped while waiting for one reply
SUBMISSION_SECONDS = 60.0   # hard wall-clock budget for all of one submission's code: loads, reloads, calls
#                             (time the grader waits for the child; the grader's own work is not counted)
PROCESSES = 64              # processes of the private uid (RLIMIT_NPROC, as root)
OUT_OF_TIME = ("the grading's time budget of %d seconds for your code ran out: loading your file and running "
               "your functions took that long together (the reference solution needs about 1 second in all)"
               % SUBMISSION_SECONDS)


def limits(memory_bytes=MEMORY_BYTES):
    """The resource limits of a child: address space, size of a file written, no core dumps."""
    return ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_FSIZE, FILE_BYTES), (resource.RLIMIT_CORE, 0))


LIMITS = limits()   # the default list, which pool.py uses when it is given none


class StudentError(Exception):
    """A student function could not be called: it raised, hung, crashed or returned garbage."""


class OutOfTime(StudentError):
    """The submission's whole time budget (SUBMISSION_SECONDS) is used up."""


class Hung(StudentError):
    """One request did not finish within its own time limit (the child was killed)."""


def _limit_child(memory_bytes, home, uid, binds):
    """Runs in the child between fork and exec: its own process group, limits, and as root its own
    namespaces (network, IPC, temp folders, with its home made inside: namespaces.enter). Its cgroup it
    joins from a thread of the grader's while it starts (``FreshChild.launch``)."""
    os.setsid()
    if os.geteuid() == 0:   # the warm pool's template does the same once for all its forks (pool.serve)
        namespaces.enter(home, uid, binds)
    for limit, value in limits(memory_bytes):     # pool.py applies the same list in its forks
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            pass


def child_path():
    """The import path a child started on its own is given: the grader's, without what ``python -I`` never
    gave the child (PYTHONPATH, the current folder, the grader's script or ``-m`` folder: a checkout's root).
    The child skips the site module (``-S``: docs/scale.md, "Speed tricks") and extends its path with these."""
    skip = set(os.environ.get("PYTHONPATH", "").split(os.pathsep)) | {"", ".", os.getcwd()}
    if sys.path and not sys.path[0].rstrip(os.sep).endswith(("site-packages", "dist-packages")):
        skip.add(sys.path[0])
    return [p for p in sys.path if p not in skip and os.path.isdir(p)]


class FreshChild:
    """The default launcher: every child is a new ``python -I -S -B child.py`` (one grade, one numpy import)."""

    def __init__(self):
        self.bind_paths = None     # folders a private /tmp would hide from the interpreter (found on first use)

    def private_temp(self, env):
        """Whether children are expected to get private temp folders (checked on each: ``Sandbox.start``)."""
        return os.geteuid() == 0 and confine.may_make_namespaces()

    def shared_group(self, env, memory_bytes):
        return None                # each child gets a memory cgroup of its own

    def launch(self, env, cwd, memory_bytes, cgroup, uid):
        """(the child, the thread putting it into ``cgroup`` or None)."""
        if self.bind_paths is None:
            self.bind_paths = namespaces.needed_binds([sys.prefix, sys.exec_prefix, sys.base_prefix,
                                                       os.path.dirname(os.path.abspath(sys.executable)),
                                                       PACKAGE] + child_path())
        if os.geteuid() == 0:
            namespaces.libc()      # loaded here, not in the fork of a process that has threads
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", CHILD] + child_path(), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env,
            preexec_fn=lambda: _limit_child(memory_bytes, cwd, uid, self.bind_paths))
        joining = None
        if cgroup is not None:
            # A cgroup v1 join waits for an RCU grace period (docs/scale.md, "Speed tricks"): done from a thread
            # of the grader's while the child imports numpy, and waited for before the child is sent anything
            # (_exchange_within), so the child is in its cgroup before it runs a line of the student's code.
            joining = threading.Thread(target=cgroup.join, args=(proc.pid,), daemon=True)
            joining.start()
        return proc, joining

    def kill_children(self):
        """Nothing: the child's own cgroup is killed by the Sandbox."""

    def end_child(self):
        """Nothing: the child's namespaces ended with its last process."""

    def close(self):
        """Nothing to stop."""


class Sandbox:
    """A restartable child process that holds one submission's code, started by ``launcher`` (FreshChild())."""

    def __init__(self, code_path, statements=False, call_seconds=CALL_SECONDS, budget_seconds=SUBMISSION_SECONDS,
                 memory_bytes=MEMORY_BYTES, launcher=None):
        self.code_path, self.statements, self.call_seconds = code_path, statements, call_seconds
        self.budget, self.spent = budget_seconds, 0.0   # seconds of waiting for the submission's code
        self.memory_bytes = memory_bytes
        self.ahead_seconds = AHEAD_SECONDS
        self.exchanges, self.calls_sent = 0, 0   # frames sent to the child (round trips) and student calls answered
        self.launcher = launcher if launcher is not None else FreshChild()
        self.proc, self.loaded, self.cgroup, self.uid = None, None, None, None
        self.shared_group = None       # the warm pool's cgroup the child is born in (as root), if any
        self.uid_clear = False         # kill() found no process of the uid left
        self.private_temp = False      # every child so far had private temp folders (as root, namespaces.py)
        self._joining = None           # the thread putting a fresh child into its cgroup (start)
        self.code_folder = None        # the ScratchFolder of code_path, when for_code made it
        confine.sweep_stale()
        self.folder = confine.ScratchFolder(mode=0o711)   # the student's uid passes through to home/, no more
        self.workdir = os.path.join(self.folder.path, "home")
        os.mkdir(self.workdir, 0o700)
        try:
            self._confine(memory_bytes)
            self.start()
        except BaseException:
            self.close()
            raise

    def _confine(self, memory_bytes):
        """As root: a uid of its own, checked unused and claimed (uids.py), so that the clean-up in close()
        touches this submission's processes and files and nothing else; its memory cgroup."""
        if os.geteuid() != 0:
            return
        self.private_temp = self.launcher.private_temp(self._env())
        self.uid = uids.reserve(walk_files=not self.private_temp)
        confine.sweep_once(uids.sweep_stale_claims)
        confine.sweep_once(confine.sweep_cgroups)
        confine.hide_grader()
        os.chown(self.workdir, self.uid, self.uid)
        self.shared_group = self.launcher.shared_group(self._env(), memory_bytes)
        if self.shared_group is None:
            self.cgroup = confine.MemoryGroup(memory_bytes, confine.group_name(self.uid))

    # -- process management -------------------------------------------------
    def _env(self):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.workdir,
               "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "MPLBACKEND": "Agg", "MPLCONFIGDIR": self.workdir}
        for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if key in os.environ:
                env[key] = os.environ[key]
        return env

    def start(self):
        self._ensure_home()
        self.proc, self._joining = self.launcher.launch(self._env(), self.workdir, self.memory_bytes, self.cgroup,
                                                        self.uid)
        self.loaded = None
        if self.proc.stderr is not None:      # a pool's child writes its stderr to /dev/null
            threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()
        if self.uid is not None:
            self._check_namespaces(self.proc.pid)

    def _ensure_home(self):
        """Make the host's home folder again if something removed it (the child starts in it): a clash with
        another grader on the machine is the grader's to absorb, never a student's grade. Logged."""
        try:
            os.mkdir(self.workdir, 0o700)
        except FileExistsError:
            return
        confine.warn("home", "the folder %s was removed while its grading lived (another process on this "
                     "machine?); made again" % self.workdir)
        if self.uid is not None:
            os.chown(self.workdir, self.uid, self.uid)

    def _check_namespaces(self, pid):
        """Say in the log what the child lacks; without private temp folders, close() walks the host's."""
        if not confine.child_network_isolated(pid):
            confine.warn("network", "could not give student code an empty network namespace (unshare needs "
                         "CAP_SYS_ADMIN): it can reach the network")
        private = confine.child_private_temp(pid) and confine.child_private_ipc(pid)
        if not private:
            confine.warn("namespaces", confine.NO_NAMESPACES)
        elif self.private_temp:
            uids.mark_private(self.uid)        # a killed grading's claim then needs no walk either
        self.private_temp = self.private_temp and private

    @staticmethod
    def _drain(stream):
        """Read and drop what the child writes to stderr (student prints land there), so it never blocks."""
        for _ in iter(lambda: stream.read(65536), b""):
            pass

    def kill(self):
        """Kill the child, then everything it started. The child is reaped first, so that the passes over
        the cgroup and over the uid's processes find only what it forked (usually nothing) and need no
        pause waiting for a dying process to leave."""
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except OSError:
                    pass
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
        if self.cgroup is not None:
            self.cgroup.kill()         # everything it forked, whatever its process group
        elif self.shared_group is not None:
            self.launcher.kill_children()   # the same, in the pool's cgroup, sparing the template
        if self.uid is not None:
            self.uid_clear = uids.kill_processes(self.uid)   # also what escaped the group (setsid, double fork)
        self.proc = None

    @classmethod
    def for_code(cls, **options):
        """A Sandbox whose code file (``code_path``, written by the engine) lies in a scratch folder of its own,
        locked while it lives and removed by ``close``; 0700: the child reads the code before it drops to
        the student's uid, and no other student's code can open it. ``options``: Sandbox's."""
        folder = confine.ScratchFolder("autograder-code-")
        try:
            sandbox = cls(os.path.join(folder.path, "submission.py"), **options)
        except BaseException:
            folder.close()
            raise
        sandbox.code_folder = folder
        return sandbox

    def close(self):
        """Kill everything the submission started and remove everything it wrote; safe to call twice."""
        self.kill()
        if self.uid is not None:
            self.launcher.end_child()   # the pool's template renews its namespaces: the last child's IPC and files go
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        if self.uid is not None:
            # kill() above left no process of it (or try again); without private temp folders, walk the host's
            uids.release(self.uid, killed=self.uid_clear, walk_files=not self.private_temp)
            self.uid = None
        self.folder.close()
        if self.code_folder is not None:
            self.code_folder.close()
            self.code_folder = None

    def time_left(self):
        """What is left of the budget: only time spent waiting for the child counts, never the grader's own
        work, so that running out of it is always true of the submission's code."""
        return self.budget - self.spent

    # -- framing --------------------------------------------------------------
    def _send(self, header, blobs, deadline):
        """Write one frame to the child by ``deadline`` (TimeoutError if it does not read it by then).

        A batch's frame can be larger than the pipe's buffer: a child that stops reading (its own code
        replaced the child's loop) must cost the request its deadline, never block the grader."""
        header = dict(header, _blobs=[len(b) for b in blobs])
        head = _ENCODE(header).encode("utf-8")
        data = memoryview(b"".join([struct.pack(">QI", 4 + len(head) + sum(header["_blobs"]), len(head)), head,
                                    *blobs]))
        fd = self.proc.stdin.fileno()
        os.set_blocking(fd, False)
        self.exchanges += 1
        while data:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [fd], [], left)[1]:
                raise TimeoutError
            try:
                data = data[os.write(fd, data):]
            except BlockingIOError:
                continue

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

    def _receive(self, deadline, request_id):
        """The reply that carries ``request_id``; frames with another id are dropped (at most MAX_STRAY)."""
        for _ in range(MAX_STRAY + 1):
            (n,) = struct.unpack(">Q", self._read_exact(8, deadline))
            if n > MAX_FRAME:
                raise StudentError("returned arrays far too large (%d MB); the arrays of this assignment are "
                                   "tiny" % (n >> 20))
            data = self._read_exact(n, deadline)
            header, blobs = _parse_frame(data)
            if header.get("id") == request_id:
                return header, blobs
        raise ValueError("too many frames that answer no request")

    def _exchange(self, header, blobs, seconds):
        """One request and its reply (a load); any failure kills the child and raises StudentError."""
        request_id = secrets.token_hex(8)
        return self._await(request_id, seconds, lambda deadline: self._send(dict(header, id=request_id), blobs,
                                                                            deadline))

    def _await(self, request_id, seconds, send=None):
        """The reply that carries ``request_id``, within ``seconds`` of now and the budget; ``send(deadline)``
        first sends the frame that asks for it (None: it was sent with an earlier request of its batch,
        which the child answered just before). Any failure kills the child and raises StudentError."""
        if self.time_left() <= 0:
            self.kill()
            raise OutOfTime(OUT_OF_TIME)
        began = time.monotonic()
        try:
            return self._await_within(request_id, seconds, began, send)
        finally:
            self.spent += time.monotonic() - began

    def _await_within(self, request_id, seconds, began, send):
        if send is not None:
            if self.proc is None or self.proc.poll() is not None:
                self.kill()
                self.start()
            if self._joining is not None:
                self._joining.join()
                self._joining = None
        last_chance = seconds >= self.time_left()
        deadline = began + min(seconds, self.time_left())
        try:
            if send is not None:
                send(deadline)
            return self._receive(deadline, request_id)
        except StudentError:
            self.kill()
            raise
        except TimeoutError:
            self.kill()
            if last_chance:
                raise OutOfTime(OUT_OF_TIME) from None
            raise Hung("did not finish within %g seconds (an endless loop, or far too much work?)"
                               % seconds) from None
        except (EOFError, BrokenPipeError, ConnectionError, OSError):
            code = self.proc.wait() if self.proc else None
            self.kill()
            raise StudentError(_death(code)) from None
        except Exception:          # a malformed frame: missing keys, wrong types, deep JSON, bad UTF-8, ...
            self.kill()
            raise StudentError("sent back something the grader could not read") from None

    # -- the two requests -----------------------------------------------------
    def load(self):
        """Run the submission's top level once per child; returns {'functions', 'problems'}."""
        from .wire import one_line  # lazy: wire imports numpy (see the header)
        if self.loaded is None or self.proc is None or self.proc.poll() is not None:
            self.loaded = None
            with open(self.code_path, encoding="utf-8") as f:   # the grader's own file, written by engine.grade
                source = f.read()
            # The code travels in the request: the child (in a private /tmp) need not see the grader's folder.
            header, _ = self._exchange({"op": "load", "source": source, "uid": self.uid,
                                        "gid": uids.student_gid() if self.uid is not None else None,
                                        "processes": PROCESSES, "statements": self.statements},
                                       [], LOAD_SECONDS)
            functions = header.get("functions")
            problems = header.get("problems", [])
            if (not isinstance(functions, dict) or not isinstance(problems, list)
                    or not all(isinstance(v, str) for v in functions.values())):
                self.kill()
                raise StudentError("sent back something the grader could not read")
            self.loaded = {"functions": {str(k)[:80]: v[:40] for k, v in list(functions.items())[:20]},
                           "problems": [one_line(p)[:400] for p in problems[:20]]}
        return self.loaded

    def calls(self, requests):
        """Run [(fn, args, seed), ...] in order, as one request; returns a list of Reply or raises StudentError."""
        outcomes = self.batch([requests])
        if not outcomes:
            raise OutOfTime(OUT_OF_TIME)
        if isinstance(outcomes[0], StudentError):
            raise outcomes[0]
        return outcomes[0]

    def batch(self, requests):
        """Send several requests (each a list of (fn, args, seed)) in one frame; the child answers each in
        its own frame, in order, and each has its own time limit (``call_seconds``) from the moment the
        answer before it arrived, inside the one budget.

        Returns one outcome per request answered, in order: its list of Reply, or the StudentError that
        ended it (the child is then killed, and the requests after it get no outcome). Also stops, with no
        outcome for the rest, when the budget is spent (OutOfTime is no request's outcome: whoever asks
        again meets it) or where the child stopped running ahead (``ahead_seconds``). A request without an
        outcome is simply asked again later, alone or in another batch.
        """
        from .wire import encode   # lazy: wire imports numpy; see the note at the imports
        try:
            self.load()
        except OutOfTime:
            return []
        except StudentError as exc:
            return [StudentError("your file " + str(exc))]
        blobs, outcomes = [], []
        specs = [[{"fn": fn, "args": [encode(a, blobs) for a in args], "seed": seed} for fn, args, seed in calls]
                 for calls in requests]
        ids = [secrets.token_hex(8) for _ in specs]      # one per request: a reply is never taken for another's
        frame = {"op": "calls", "ahead": self.ahead_seconds,
                 "requests": [{"id": request_id, "calls": calls} for request_id, calls in zip(ids, specs)]}
        for k, (request_id, calls) in enumerate(zip(ids, specs)):
            send = (lambda deadline: self._send(frame, blobs, deadline)) if k == 0 else None
            try:
                replies = self._answer(request_id, calls, blobs, send)
            except OutOfTime:
                break
            except StudentError as exc:
                outcomes.append(exc)
                break
            if replies is None:                          # the child stopped running ahead here
                break
            outcomes.append(replies)
            self.calls_sent += len(calls)
        return outcomes

    def _answer(self, request_id, calls, blobs, send):
        """The Replies of one request, or None where the child says it stopped running ahead of the grader."""
        from .wire import Reply   # lazy: wire imports numpy; see the note at the imports
        try:
            header, out = self._await(request_id, self.call_seconds, send)
        except Hung:
            if len(calls) == 1:
                raise
            # The limit is per request: say so, since each of its calls may have been quick enough alone.
            raise Hung("did not finish within %g seconds, the time allowed for these %d calls together (an endless "
                       "loop, or far too much work?)" % (self.call_seconds, len(calls))) from None
        if send is None and header.get("skipped") is True:
            return None                  # never for a batch's first request: the child always runs that one
        replies = header.get("replies")
        if not isinstance(replies, list) or len(replies) != len(calls):
            self.kill()
            raise StudentError("sent back something the grader could not read")
        try:
            return [Reply(r, out, spec["args"], blobs) for r, spec in zip(replies, calls)]
        except Exception:          # missing keys, wrong types, nesting: that request's function fails
            self.kill()
            raise StudentError("returned something the grader could not read") from None


_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


def _parse_frame(data):
    """(header dict, blobs) of one frame; raises ValueError (or another Exception) when malformed."""
    if len(data) < 4:
        raise ValueError("frame too short")
    (h,) = struct.unpack(">I", data[:4])
    if h > MAX_HEADER or 4 + h > len(data):
        raise ValueError("header length out of range")
    header = json.loads(data[4:4 + h].decode("utf-8"))   # RecursionError on deep JSON: caught by the caller
    lengths = header.get("_blobs", []) if isinstance(header, dict) else None
    if not isinstance(lengths, list) or not all(isinstance(x, int) and x >= 0 for x in lengths):
        raise ValueError("malformed reply")
    if 4 + h + sum(lengths) > len(data):
        raise ValueError("buffers longer than the frame")
    blobs, offset = [], 4 + h
    for length in lengths:
        blobs.append(data[offset:offset + length])
        offset += length
    return header, blobs


def _death(code):
    if code is None:
        return "stopped answering"
    if code < 0:
        name = {signal.SIGKILL: "SIGKILL (often: out of memory)", signal.SIGSEGV: "SIGSEGV (a crash)",
                signal.SIGABRT: "SIGABRT"}.get(-code, "signal %d" % -code)
        return "crashed the Python process running it (%s)" % name
    return "ended the Python process running it (exit status %d, e.g. sys.exit or os._exit)" % code
