"""The warm pool: a template child that has imported numpy once forks a fresh child per submission.

Design
------
Starting ``python -I -B child.py`` costs about one ``import numpy`` per submission, which is most
of what a class-sized batch pays. Here a *template* process is started once per grading process
(``python -I -B pool.py FD``). It imports numpy, compiles ``child.py`` and runs its preloads, and
then does nothing but fork on request. Each fork becomes one submission's child exactly as if it
had been started by ``Sandbox`` itself:

* **Fresh.** The template never runs student code and never receives a submission's path: a
  forked child has never seen other students' code, and the template's memory holds nothing but
  the interpreter, numpy and the child's own code. ``child.py`` runs unchanged in the fork, as
  ``__main__``, on the descriptors the grader created for that child alone.
* **Limited.** Between fork and ``child.py`` the fork does what ``runner._limit_child`` does
  between fork and exec: its own session and process group, the cgroup it is given, and the
  resource limits the runner sends with every request (``runner.LIMITS`` by default, so there is
  one list). What it inherits instead is made once by the template as root: its namespaces
  (namespaces.py: an empty network, its own IPC, private tmpfs mounts on /tmp, /var/tmp and
  /dev/shm) and the memory cgroup (``Launcher.shared_group``); the children use them one at a
  time. Before the next child is forked, and when the grader says a grading ended
  (``Launcher.end_child``), the template *renews* what a child could fill: a new IPC namespace (the
  old one, with every SysV object and message queue in it, dies with its last process) and fresh
  tmpfs mounts (the old ones are detached and freed). So no child sees what another left, and a
  grading's shared memory and files are gone when it ends. The template tells the grader the pid
  only once the child's limits are in place. The private uid is switched to by ``child.py`` itself
  when it loads the submission, as before.
* **Owned by the grader.** The grader creates the pipes, passes the child's ends over a Unix
  socket (SCM_RIGHTS) and keeps its own; it signals the child's process group itself. The
  template only reaps: ``ForkedChild`` asks it for an exit status, and otherwise watches a pidfd,
  so ``poll()`` costs no round trip. ``ForkedChild`` has the part of ``subprocess.Popen``
  that ``runner.Sandbox`` uses (pid, stdin, stdout, stderr, poll, wait).
* **Robust.** A template that died (or a broken socket) is restarted on the next spawn; if it
  cannot start, the error is an ``OSError``, as a failed ``Popen`` would be.

A ``Launcher`` is passed down to every ``Sandbox`` that should use it (grade-all's workers make
one each and pass it to every grade); without one, a ``Sandbox`` starts ``child.py`` directly
(``runner.FreshChild``).

This file is also the template's program: its top level imports only the standard library, and
``serve`` imports nothing from the grader.
"""

import builtins
import gc
import importlib.util
import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import types

if __package__:                      # the grader's side
    # lazy: run as the template's program (a script, see the design), this file has no package to import from
    from . import confine, namespaces, runner
else:                                # the template's program: only the standard library and namespaces.py
    _SPEC = importlib.util.spec_from_file_location(
        "autograder_namespaces", os.path.join(os.path.dirname(os.path.abspath(__file__)), "namespaces.py"))
    namespaces = importlib.util.module_from_spec(_SPEC)
    _SPEC.loader.exec_module(namespaces)

CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "child.py")
MAX_MESSAGE = 1 << 16
SCRATCH_PREFIX = "autograder-template-"   # the template's HOME and cwd; it removes it when it ends
TEMPLATE_START_SECONDS = 60.0   # the template imports numpy once; generous on a loaded machine
# As root the template and its children share one memory cgroup (``Launcher.shared_group``). Its bound is
# the child's own memory bound plus this allowance for the template (numpy and the child's code: ~40 MB),
# so student code gets the same memory as in a cgroup of its own.
TEMPLATE_ALLOWANCE = 128 * 2**20
# Never the OOM killer's choice (where the kernel lets root set it: it needs CAP_SYS_RESOURCE); each fork
# sets its own back to 0. Where it cannot be set, a child still outweighs the template (it shares the
# template's pages and adds its own), and a template that was killed anyway is restarted on the next spawn.
TEMPLATE_OOM_SCORE_ADJ = -1000


# -- the template's side ---------------------------------------------------------------------------
class Private:
    """The template's namespaces (as root): made once, renewed between children (see the module's design)."""

    def __init__(self):
        self.flags, self.temp, self.binds, self.dirty = 0, False, [], False
        # the folder holding the template's scratch, reachable once /tmp is covered (serve removes it at the end)
        self.scratch_parent = os.open(os.path.dirname(os.getcwd()), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)

    def make(self):
        """Leave the grader's namespaces; the interpreter's folders under a temp root are bound back."""
        self.flags = namespaces.unshare(namespaces.ALL)
        if self.flags & namespaces.CLONE_NEWNS:
            self.binds = namespaces.open_binds(namespaces.needed_binds(
                [sys.prefix, sys.exec_prefix, sys.base_prefix, os.path.dirname(os.path.abspath(sys.executable)),
                 os.path.dirname(os.path.dirname(CHILD))] + sys.path))   # the package: see runner.PACKAGE
            self.temp = namespaces.mount_temp(self.binds)

    def renew(self):
        """A new IPC namespace and fresh temp mounts, if a child was forked since the last renewal."""
        if not self.dirty:
            return
        if self.flags & namespaces.CLONE_NEWIPC and namespaces.unshare(namespaces.CLONE_NEWIPC) == 0:
            raise OSError("could not renew the IPC namespace")
        if self.temp and not namespaces.renew_temp(self.binds):
            raise OSError("could not renew the private temp folders")
        self.dirty = False

    def report(self):
        return {"net": bool(self.flags & namespaces.CLONE_NEWNET), "ipc": bool(self.flags & namespaces.CLONE_NEWIPC),
                "temp": self.temp}

    def descriptors(self):
        """What a fork must close before it runs anything of the student's."""
        return [self.scratch_parent] + [fd for _, fd in self.binds]


def serve(fd, private=False):
    """The template: warm up, then fork one child per request until the socket closes.

    With ``private`` (as root) the template first leaves the grader's network, IPC and mount namespaces
    (``Private``), which every fork is born in: no child pays for making them. The children share them
    one at a time; every process of one is dead before the next is forked, and what it could leave there
    is renewed before the next one starts.
    """
    ns = Private()
    if private and os.geteuid() == 0:
        ns.make()
    sock = socket.socket(fileno=fd)
    with open(CHILD, encoding="utf-8") as f:
        code = compile(f.read(), CHILD, "exec")
    warm = types.ModuleType("autograder_child_template")   # not __main__: child.main() is not run
    warm.__dict__.update(__file__=CHILD, __builtins__=builtins)
    exec(code, warm.__dict__)                              # imports numpy, defines the child's code
    warm.preload()
    del warm
    gc.collect()
    gc.freeze()                                            # fewer pages copied in each fork
    sock.sendall(json.dumps({"ready": True, "private": ns.report()}).encode("utf-8"))
    try:
        _serve(sock, code, ns)
    finally:                                    # the grader may be gone (killed): its scratch is ours to remove
        name = os.path.basename(os.getcwd())
        if name.startswith(SCRATCH_PREFIX):     # by the folder's descriptor: /tmp may be covered here
            shutil.rmtree(name, dir_fd=ns.scratch_parent, ignore_errors=True)


def _serve(sock, code, ns):
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 3)
        except (ConnectionError, OSError):
            return
        if not data:
            return
        try:
            request = json.loads(data.decode("utf-8"))
            reply = _handle(request, fds, sock, code, ns)
        except Exception as exc:      # a bad request must not end the template
            reply = {"error": "%s: %s" % (type(exc).__name__, exc)}
        finally:
            for x in fds:
                os.close(x)
        try:
            sock.sendall(json.dumps(reply).encode("utf-8"))
        except OSError:
            return


def _handle(request, fds, sock, code, ns):
    op = request.get("op")
    if op == "fork":
        if len(fds) != 3:
            raise ValueError("fork needs three descriptors (stdin, stdout, stderr)")
        ns.renew()                       # the last child is dead: what it left in IPC and /tmp goes
        ready_r, ready_w = os.pipe()
        try:
            pid = os.fork()
            if pid == 0:
                os.close(ready_r)
                _become_child(request, fds, sock, code, ready_w, ns)   # never returns
            ns.dirty = True
            os.close(ready_w)
            ready_w = None
            os.read(ready_r, 1)          # its limits are in place (or it died trying) before the pid is told
        finally:
            os.close(ready_r)
            if ready_w is not None:
                os.close(ready_w)
        return {"pid": pid}
    if op == "status":
        pid, flags = int(request["pid"]), 0 if request.get("block") else os.WNOHANG
        try:
            done, status = os.waitpid(pid, flags)
        except ChildProcessError:
            return {"error": "no child %d" % pid}
        return {"code": os.waitstatus_to_exitcode(status) if done else None}
    if op == "renew":
        ns.renew()
        return {"renewed": True}
    raise ValueError("unknown op %r" % op)


def write_quietly(path, value):
    """Write ``value`` and a newline to a kernel file (cgroup.procs, oom_score_adj); a refusal is not an error
    here: the grader checks what matters (the template's cgroup membership, the child's network)."""
    try:
        with open(path, "w") as f:
            f.write("%s\n" % value)
    except OSError:
        pass


def _become_child(request, fds, sock, code, ready, ns):
    """In the fork: limits, descriptors, home, environment, then ``child.py`` as ``__main__``."""
    status = 1
    try:
        sock.close()
        for fd in ns.descriptors():      # they lead to the host's /tmp and the interpreter's folders
            os.close(fd)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        os.setsid()
        if request.get("oom_score_adj") is not None:     # the template is spared by the OOM killer; its child not
            write_quietly("/proc/self/oom_score_adj", request["oom_score_adj"])
        if request.get("cgroup_procs"):
            write_quietly(request["cgroup_procs"], 0)
        for limit, value in request.get("limits", []):
            try:
                resource.setrlimit(limit, (value, value))
            except (ValueError, OSError):
                pass
        if ns.temp:
            namespaces.make_home(request["cwd"], request.get("uid"))   # in the private /tmp, the uid's
        os.write(ready, b"1")
        os.close(ready)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        main = types.ModuleType("__main__")
        main.__dict__.update(__file__=CHILD, __builtins__=__builtins__)
        sys.modules["__main__"] = main
        sys.argv = [CHILD]
        exec(code, main.__dict__)           # child.py: sets up its descriptors, then serves requests
        status = 0
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 0
    except BaseException:
        status = 1
    finally:
        os._exit(status)


# -- the grader's side -----------------------------------------------------------------------------
class ForkedChild:
    """What ``Sandbox`` needs of a ``Popen``, for a child forked by the template."""

    def __init__(self, launcher, pid, stdin, stdout):
        self.launcher, self.pid, self.stdin, self.stdout, self.stderr = launcher, pid, stdin, stdout, None
        self.returncode, self._exited = None, False
        try:
            self.pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self.pidfd = None

    def _has_exited(self, timeout):
        if self.pidfd is None:
            return True                     # ask the template (WNOHANG when timeout is 0)
        return bool(select.select([self.pidfd], [], [], timeout)[0])

    def poll(self):
        if not self._exited and self._has_exited(0):
            code = self.launcher.status(self.pid, block=self.pidfd is not None)
            if code is not None or self.pidfd is not None:
                self._finish(code)
        return self.returncode if not self._exited else (self.returncode if self.returncode is not None else -1)

    def wait(self, timeout=None):
        if not self._exited:
            if self.pidfd is not None:
                self._has_exited(None)
            self._finish(self.launcher.status(self.pid, block=True))
        return self.returncode

    def _finish(self, code):
        self.returncode, self._exited = code, True
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


class Launcher:
    """Starts the template on first use and forks children from it; one per grading process."""

    def __init__(self, limits=None, private=None):
        self.limits, self.private = limits, private     # private: namespaces for the template (default: as root)
        self.proc = self.sock = None
        self.scratch = None
        self.group, self.child_bytes, self.started = None, None, 0
        self.namespaces = {}     # what the running template made: {"net", "ipc", "temp"} (its ready message)
        self.unanswered = 0      # requests sent whose answer is read before the next one (end_child's)

    def _start(self, env):
        self.close()
        self.scratch = tempfile.mkdtemp(prefix=SCRATCH_PREFIX)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(env, HOME=self.scratch, MPLCONFIGDIR=self.scratch)
        if os.geteuid() == 0:
            # One memory cgroup for the template and, one at a time, its children: a fork is born in its
            # parent's cgroup, so no child pays for joining one (a cgroup v1 join waits for an RCU grace
            # period: docs/scale.md, "Speed tricks").
            self.started += 1
            self.group = confine.MemoryGroup(self._child_bytes() + TEMPLATE_ALLOWANCE,
                                             confine.group_name("pool%d" % self.started))
            if self.group.path is None:
                self.group = None
        spare = None if self.group is None else (
            lambda: write_quietly("/proc/self/oom_score_adj", TEMPLATE_OOM_SCORE_ADJ))   # the OOM killer's last pick
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-B", os.path.abspath(__file__), str(theirs.fileno())]
                + (["--private"] if self._private() else []),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, cwd=self.scratch, env=env,
                pass_fds=[theirs.fileno()], start_new_session=True, preexec_fn=spare)
        finally:
            theirs.close()
        if self.group is not None:
            self.group.join(self.proc.pid)      # before it is ready, so before any child is forked
        if self.group is not None and self.proc.pid not in self.group.pids():
            self.group.remove()                 # it could not join: each child gets a cgroup of its own instead
            self.group = None
        self.sock = ours
        self.sock.settimeout(TEMPLATE_START_SECONDS)
        try:
            ready = self.sock.recv(MAX_MESSAGE)
        except OSError:
            ready = b""
        self.sock.settimeout(None)
        try:
            message = json.loads(ready.decode("utf-8"))
        except ValueError:
            message = {}
        if not isinstance(message, dict) or not message.get("ready"):
            self.close()
            raise OSError("the warm pool's template process did not start (run python -I -B %s to see "
                          "why)" % CHILD)
        self.namespaces = message.get("private") or {}

    def _request(self, message, fds=()):
        self.settle()
        payload = json.dumps(message).encode("utf-8")
        if fds:
            socket.send_fds(self.sock, [payload], list(fds))
        else:
            self.sock.sendall(payload)
        return self._answer()

    def settle(self):
        """Read the answers still owed (end_child's renewal); OSError if one says the template failed."""
        while self.unanswered:
            self.unanswered -= 1
            self._answer()

    def _answer(self):
        data = self.sock.recv(MAX_MESSAGE)
        if not data:
            raise ConnectionError("the template closed its socket")
        reply = json.loads(data.decode("utf-8"))
        if "error" in reply:
            raise OSError("the warm pool's template refused: %s" % reply["error"])
        return reply

    def _child_bytes(self):
        """The memory bound of the children the shared cgroup is sized for: the last one asked, else the default."""
        return self.child_bytes or runner.MEMORY_BYTES

    def _private(self):
        return self.private if self.private is not None else os.geteuid() == 0

    def _running(self):
        return self.sock is not None and self.proc is not None and self.proc.poll() is None

    def private_temp(self, env):
        """Whether the children get private temp folders and IPC (the template is started if need be)."""
        if not self._running():
            self._start(env)
        return bool(self.namespaces.get("temp") and self.namespaces.get("ipc"))

    def shared_group(self, env, memory_bytes):
        """As root: the template's memory cgroup, bounded for a child of ``memory_bytes``, which every child
        forked from now on is born in (the template is started if need be); None when there is none, and
        the caller makes a cgroup of its own per child."""
        if not self._running():
            self._start(env)
        if self.group is None:
            return None
        if memory_bytes != self._child_bytes():
            try:
                self.group.set_limit(memory_bytes + TEMPLATE_ALLOWANCE)
            except OSError:
                return None
        self.child_bytes = memory_bytes
        return self.group

    def launch(self, env, cwd, memory_bytes, cgroup, uid):
        """``runner.FreshChild.launch`` for a fork: (the child, None: it joins ``cgroup`` itself)."""
        return self.spawn(env, cwd, runner.limits(memory_bytes), cgroup.procs if cgroup is not None else None,
                          uid), None

    def end_child(self):
        """A grading ended (its processes are dead): the template renews its IPC and temp folders now, so
        that what the child left is freed at once, not when the next child is forked.

        The grader does not wait for it: unmounting waits for the kernel (an RCU grace period, 2.5 ms on
        the development machine, almost none of it CPU), while the grader goes on with its row and the
        next student. The template answers in order, so the answer is read before the next request
        (``settle``), and a failed renewal then restarts the template before any child is forked."""
        if not self._running():
            return
        try:
            self.settle()
            self.sock.sendall(json.dumps({"op": "renew"}).encode("utf-8"))
            self.unanswered += 1
        except (ConnectionError, OSError, ValueError):
            self.close()                  # started afresh, with fresh namespaces, on the next spawn

    def spawn(self, env, cwd, limits=None, cgroup_procs=None, uid=None):
        """A fresh child running child.py, limited like ``runner._limit_child`` does; a ForkedChild.

        ``limits``: [(resource, value)] (default ``runner.LIMITS``); ``cgroup_procs``: the cgroup.procs
        file the child joins first (None: it stays in the template's, ``shared_group``); ``uid``: the
        owner of its home (``cwd``), made in the template's private /tmp. ``spawn`` returns once the child
        has applied all three.
        """
        if limits is None:
            limits = self.limits if self.limits is not None else runner.LIMITS
        limits = [[int(k), int(v)] for k, v in limits]
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        null = os.open(os.devnull, os.O_WRONLY)   # stderr: student prints are dropped, as the drain did
        try:
            for attempt in range(2):
                if self.sock is None or self.proc.poll() is not None:
                    self._start(env)
                try:
                    reply = self._request({"op": "fork", "cwd": cwd, "env": env, "limits": limits,
                                           "cgroup_procs": cgroup_procs, "uid": uid,
                                           "oom_score_adj": 0 if self.group is not None else None},
                                          (in_r, out_w, null))
                    break
                except (ConnectionError, OSError, ValueError):
                    self.close()
                    if attempt:
                        raise
        except BaseException:
            for fd in (in_w, out_r):
                os.close(fd)
            raise
        finally:
            for fd in (in_r, out_w, null):
                os.close(fd)
        return ForkedChild(self, int(reply["pid"]), os.fdopen(in_w, "wb"), os.fdopen(out_r, "rb", buffering=0))

    def status(self, pid, block):
        """The child's exit code (Popen's convention), None if it still runs or the template is gone."""
        if self.sock is None:
            return None
        try:
            return self._request({"op": "status", "pid": pid, "block": block}).get("code")
        except (ConnectionError, OSError, ValueError):
            return None

    def close(self):
        self.unanswered = 0
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc is not None:
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self.group is not None:
            self.group.remove()
            self.group = None
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    def kill_children(self):
        """SIGKILL every process in the shared cgroup but the template: what the last child forked."""
        if self.group is not None:
            self.group.kill(spare=(self.proc.pid,) if self.proc is not None else ())


if __name__ == "__main__":
    serve(int(sys.argv[1]), private="--private" in sys.argv[2:])
