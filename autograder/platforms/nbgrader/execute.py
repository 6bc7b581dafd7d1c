"""Execution mode (off by default): run the notebook for fresh outputs, where it can touch nothing.

Design
------
``ExecuteSafely`` is nbgrader's Execute made robust: a cell that times out is interrupted and
later cells get a short timeout (``seconds_after_timeout``); a kernel that dies or ignores the
interrupt ends execution with a note on that cell and every cell not run; the notebook as a
whole gets a budget (``notebook_seconds``). None of this costs points: points come from
``GradeInIsolation``, never from this kernel.

``ExecutePrivately`` (what ``EXECUTE_STUDENT_CODE = True`` in nbgrader_config.py installs) runs
that kernel

* in a **scratch copy** of the autograded folder outside the course (``tempfile``), so its
  working directory holds nothing but the student's notebook folder;
* as root only: in **namespaces of its own** and as a **private uid** that owns no file, started
  by ``kernel_launcher.py``, which leaves the grader's network, IPC and mount namespaces (no
  network: the kernel talks to nbgrader over Unix sockets; System V objects die with it; fresh
  tmpfs on /tmp, /var/tmp and /dev/shm, the scratch folder bound back), imports what the notebook
  needs and then drops privileges before the kernel runs any cell. The course folder, the
  gradebook, the ledger, other submissions and the grader are then out of its reach as long as
  they are not world-writable and the course folder is not world-readable (mode 0700; see
  docs/instructors.md). The uid comes from ``sandbox/uids.py`` (a reserved range, checked free,
  claimed); when the notebook is done it is released: every process of that uid is killed, so
  nothing it started outlives autograde.
* **Checked, not assumed** (``_check_kernel``): once the kernel answers, and before any cell runs,
  the grader reads its namespaces in /proc (``confine.child_*``, as for its own child). Only when
  its IPC and temp folders are verified private are its uid reserved and released without walking
  the host's temp folders (``walk_files=False``: reserved so on the grader's guess,
  ``confine.may_make_namespaces``, released so only once verified). Otherwise the log says why and
  the release walks them, as before.
* Without CAP_SYS_ADMIN (a container that drops it) no network namespace can be made, and
  execution mode never runs a kernel that can reach the network: no kernel starts, every code
  cell gets a note saying why (``NOT_RUN``), the log says so once (``NO_KERNEL``), and the grade,
  which never came from this kernel, is the same. The same happens when the guess was wrong and
  the launcher itself could not leave the network (a seccomp profile that refuses unshare: it
  exits ``kernel_launcher.NO_NETWORK_EXIT``, ``KernelNotIsolated``; ``UNSHARE_REFUSED``).
* Not as root, it refuses to run unless ``allow_unsafe = True``: the kernel would then run as
  the instructor, able to read solutions and classmates and to write the gradebook. The docs
  say so.

Cells tagged ``experiment`` (``experiment_tags``), and, with ``experiments_by_position``, every
plain code cell after the first solution cell, are skipped when ``experiments = "skip"`` (the
default) and run in full with ``"run"``.
"""

import os
import shutil
import sys
import tempfile
import time

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbgrader.preprocessors import Execute
from traitlets import Bool, Enum, Integer, List, Unicode

from ...sandbox import confine, uids
from .kernel_launcher import NO_NETWORK_EXIT
from .outputs import error, stream


NO_KERNEL = ("execution mode started no kernel: without CAP_SYS_ADMIN the kernel cannot get a network "
             "namespace of its own (nor its own IPC and /tmp, /var/tmp, /dev/shm), and execution mode never runs "
             "student code that can reach the network. Grades are unaffected (they come from the isolated "
             "grader); code cells get a note instead of fresh outputs. Give the grader CAP_SYS_ADMIN "
             "(docker run --cap-add SYS_ADMIN) or set EXECUTE_STUDENT_CODE = False")
UNSHARE_REFUSED = ("execution mode started no kernel: the kernel launcher could not make a network namespace "
                   "although the grader holds CAP_SYS_ADMIN (a seccomp or AppArmor profile that refuses unshare?), "
                   "and execution mode never runs student code that can reach the network. Grades are unaffected; "
                   "code cells get a note instead of fresh outputs. Allow unshare, or set EXECUTE_STUDENT_CODE = False")
NOT_RUN = ("[Not run during autograde: the grading machine could not cut the notebook's kernel off from the "
           "network, so no cell was run. Your grade does not depend on it: it comes from the separate grader.]")
NO_PRIVATE_TEMP = ("execution mode: could not give the notebook's kernel its own IPC namespace and private /tmp, "
                   "/var/tmp and /dev/shm (unshare and mount need CAP_SYS_ADMIN, and a mount may be denied by "
                   "AppArmor or seccomp): System V shared memory it creates outlives autograde, and what it leaves "
                   "in those folders is found by walking them after every notebook, which costs more the more "
                   "else lies there (docs/scale.md)")


class KernelNotIsolated(RuntimeError):
    """The launcher exited before the kernel started, because it could not leave the network."""


class ExecuteSafely(Execute):
    """nbgrader's Execute, with a notebook budget and no failure of the whole submission."""

    notebook_seconds = Integer(
        300, help="Wall-clock seconds for running one notebook; cells after that are not run.").tag(config=True)
    seconds_after_timeout = Integer(
        10, help="Timeout of every cell after one cell of the same notebook has timed out.").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.timeout_func = self._cell_timeout
        self._deadline, self._hung, self._stopped = None, False, None

    def preprocess(self, nb, resources=None, km=None):
        self._deadline = time.monotonic() + self.notebook_seconds
        self._hung, self._stopped = False, None
        return super().preprocess(nb, resources, km)

    def _cell_timeout(self, cell):
        limit = self.timeout if self.timeout and self.timeout > 0 else self.notebook_seconds
        if self._hung:
            limit = min(limit, self.seconds_after_timeout)
        left = self._deadline - time.monotonic() if self._deadline else limit
        return max(1, int(min(limit, left)))

    def on_cell_executed(self, **kwargs):
        super().on_cell_executed(**kwargs)
        content = (kwargs.get("execute_reply") or {}).get("content", {})
        if content.get("status") == "error" and content.get("ename") == self.error_on_timeout.get("ename"):
            self._hung = True

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        if self._stopped is None and time.monotonic() >= self._deadline:
            self._stopped = ("This notebook used up its %d seconds of running time, so this cell and the "
                             "ones after it were not run." % self.notebook_seconds)
            cell.outputs = [stream("stdout", self._stopped + "\n")]
            return cell, resources
        if self._stopped is not None:
            cell.outputs = [stream("stdout", "Not run. " + self._stopped + "\n")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._stopped = ("The Python kernel died while running this cell (os._exit, a crash, or too "
                             "much memory), so the cells after it were not run.")
        except CellTimeoutError:
            self._stopped = ("This cell kept the kernel busy and the kernel did not answer an interrupt, "
                             "so the cells after it were not run.")
        self.log.warning("cell %d: %s", index, self._stopped)
        cell.outputs.append(error("KernelStopped", self._stopped, [self._stopped]))
        return cell, resources



class ExecutePrivately(ExecuteSafely):
    """ExecuteSafely in a scratch copy, as a private uid with no network (root), experiments skipped."""

    allow_unsafe = Bool(
        False, help="Run the kernel even when not root, as the user running nbgrader: the student's code can "
                    "then read and write everything that user can. Unsafe; see docs/instructors.md.").tag(config=True)
    experiments = Enum(
        ["run", "skip"], "skip", help="What to do with experiment cells during autograde.").tag(config=True)
    experiment_tags = List(
        Unicode(), ["experiment"], help="Cell tags that mark an experiment cell.").tag(config=True)
    experiments_by_position = Bool(
        True, help="Also treat every code cell without nbgrader metadata after the first solution cell as an "
                   "experiment (the lesson's training runs and plots).").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        root = os.geteuid() == 0
        if not root and not self.allow_unsafe:
            raise RuntimeError("execution mode runs student code; as a user other than root it would run with "
                               "your rights (see docs/instructors.md). Run nbgrader as root, or turn "
                               "EXECUTE_STUDENT_CODE off, or set c.ExecutePrivately.allow_unsafe = True")
        if root and not confine.may_make_namespaces():
            return self._not_run(nb, resources, NO_KERNEL)
        folder = ((resources or {}).get("metadata") or {}).get("path") or os.getcwd()
        work = self._scratch_copy(folder)
        self._private = root                  # the guess; the kernel itself is checked once it answers
        self._uid = uids.reserve(walk_files=not self._private) if root else None   # a checked, claimed uid
        if self._uid is not None:
            confine.hide_grader()     # the student group may not read the grader, the solution or the course
            for base, dirs, files in os.walk(self._scratch):
                for name in [base] + [os.path.join(base, n) for n in dirs + files]:
                    os.chown(name, self._uid, self._uid)
            os.chmod(self._scratch, 0o700)
        resources = dict(resources or {}, metadata=dict((resources or {}).get("metadata") or {}, path=work))
        self._skip = self._experiment_indexes(nb) if self.experiments == "skip" else set()
        try:
            nb, out = super().preprocess(nb, resources, km)
        except KernelNotIsolated:
            nb, out = self._not_run(nb, resources, UNSHARE_REFUSED)
        finally:
            if self._uid is not None:         # every process it started; the host's temp unless verified private
                uids.release(self._uid, walk_files=not self._private)
            shutil.rmtree(self._scratch, ignore_errors=True)
        out["metadata"]["path"] = folder
        return nb, out

    def _scratch_copy(self, folder):
        """A root-only scratch folder holding a copy of ``folder`` (``work``); the kernel's files go there too."""
        self._scratch = tempfile.mkdtemp(prefix="autograder-kernel-")
        work = os.path.join(self._scratch, "work")
        shutil.copytree(folder, work, ignore=shutil.ignore_patterns(".*", "__pycache__"))
        return work

    def _not_run(self, nb, resources, why):
        """No kernel (no network namespace could be made): every code cell says so, the log once (``why``)."""
        confine.warn("kernel-not-run", why)
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.source.strip():
                cell.outputs = [stream("stdout", NOT_RUN + "\n")]
        return nb, resources or {}

    async def async_start_new_kernel_client(self):
        process = self._kernel_process()
        try:
            kc = await super().async_start_new_kernel_client()
        except Exception:
            if process is not None and getattr(self, "_uid", None) is not None and process.poll() == NO_NETWORK_EXIT:
                raise KernelNotIsolated("the kernel launcher could not leave the network") from None
            raise
        if getattr(self, "_uid", None) is not None:
            self._check_kernel()
        return kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)     # nbclient binds the sync name to its own

    def _kernel_process(self):
        """The kernel's Popen (jupyter_client 7+: the provisioner's; older: ``km.kernel``), or None."""
        return getattr(getattr(self.km, "provisioner", None), "process", None) or getattr(self.km, "kernel", None)

    def _check_kernel(self):
        """Before any cell runs: the kernel's network must be its own; its IPC and temp folders decide whether
        the release walks the host's temp folders (and the log says why it does)."""
        pid = getattr(self._kernel_process(), "pid", None)
        if pid is None or not confine.child_network_isolated(pid):
            raise RuntimeError("execution mode: the kernel (pid %s) is not in a network namespace of its own; "
                               "its cells are not run" % pid)
        verified = confine.child_private_ipc(pid) and confine.child_private_temp(pid)
        if not verified:
            confine.warn("kernel-namespaces", NO_PRIVATE_TEMP)
        elif self._private:
            uids.mark_private(self._uid)      # a killed autograde's claim then needs no walk either
        self._private = self._private and verified

    def _experiment_indexes(self, nb):
        found, seen_solution = set(), False
        for i, cell in enumerate(nb.cells):
            meta = cell.get("metadata", {})
            seen_solution = seen_solution or bool((meta.get("nbgrader") or {}).get("solution"))
            if cell.cell_type != "code":
                continue
            if set(meta.get("tags", [])) & set(self.experiment_tags) or (
                    self.experiments_by_position and seen_solution and not meta.get("nbgrader")):
                found.add(i)
        return found

    def preprocess_cell(self, cell, resources, index):
        if index in getattr(self, "_skip", ()):
            cell.outputs = [stream("stdout", "[Experiment cell: not run during autograde.]\n")]
            return cell, resources
        return super().preprocess_cell(cell, resources, index)

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        km.transport, km.ip = "ipc", os.path.join(self._scratch, "kernel")     # Unix sockets: no network needed
        km.connection_file = os.path.join(self._scratch, "kernel.json")
        return km

    async def async_start_new_kernel(self, **kwargs):
        env = {"PATH": os.environ.get("PATH", ""), "HOME": self._scratch, "LANG": "C.UTF-8",
               "MPLBACKEND": "agg", "MPLCONFIGDIR": self._scratch, "NBGRADER_EXECUTION": "autograde",
               "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
                   os.path.abspath(__file__)))))}
        kwargs.setdefault("env", env)
        if self._uid is not None:     # the launcher leaves the namespaces and hands the connection file over
            self.km.kernel_spec.argv = [sys.executable, "-m", "autograder.platforms.nbgrader.kernel_launcher",
                                        str(self._uid), "-f", "{connection_file}"]
        return await super().async_start_new_kernel(**kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)     # nbclient binds the sync name to its own

