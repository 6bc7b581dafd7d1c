"""Execution mode's kernel in namespaces of its own: what a notebook writes to the temp folders or to System V
shared memory never reaches the host (issue 25), and the grade is the same with or without them.

A real nbgrader course in execution mode (``EXECUTE_STUDENT_CODE = True``), as root: wanda's notebook has a
cell of her own that writes a file of a name unique to this run into /tmp, /var/tmp and /dev/shm and makes a
SysV shared memory segment with a key unique to this run, then prints what it sees. The cell's own output
proves it ran and saw its files (so the test can fail); the host must hold none of them afterwards. Without
CAP_SYS_ADMIN (dropped with ``setpriv``, as tests/test_namespaces.py does for the grader's own child) no
kernel may run at all, the grade must not change and the log must say why; the same when the grader
believed it held CAP_SYS_ADMIN but the launcher's unshare was refused. The check that the grader verifies
the kernel's namespaces before it skips the walk of the host's temp folders runs ExecutePrivately in this
process, with the check forced to fail.
"""

import os
import shutil
import subprocess
import sys
import threading
import time
import uuid

import pytest

from autograder import rubric
from autograder.platforms.nbgrader import execute
from autograder.sandbox import confine, uids
from conftest import CORPUS, ROOT, need

import nbgrader_support as ns
from test_nbgrader_course import autograded, cli_points, cli_results
from test_nbgrader_steps import _site_packages_readable

RUN = uuid.uuid4().hex[:12]
MARK = "autograder-kerneltest-" + RUN                  # the file name the notebook writes in each temp root
HOST_FILES = [os.path.join(root, MARK) for root in ("/tmp", "/var/tmp", "/dev/shm")]
SHM_KEY = int(RUN[:7], 16) + 1                         # a SysV key of this run only (positive, 32 bits)
WATCH_SECONDS = 2    # the writer cell waits this long after writing, so that the test sees its files if they land
WRITER = """import ctypes, os, time
names = {names!r}
for name in names:
    with open(name, 'w') as f:
        f.write('written by the notebook')
segment = ctypes.CDLL(None, use_errno=True).shmget({key}, 4096, 0o1000 | 0o600)   # IPC_CREAT
print('kernel-writer', [os.path.exists(n) for n in names], 'segment', segment >= 0)
time.sleep({watch})    # while the test watches the host's folders"""
WROTE = "kernel-writer [True, True, True] segment True"
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_root = pytest.mark.skipif(not AS_ROOT, reason="execution mode needs root")
needs_readable = pytest.mark.skipif(not _site_packages_readable(), reason="the kernel's private uid cannot read "
                                    "this Python's site-packages, as execution mode requires")
needs_namespaces = pytest.mark.skipif(not (AS_ROOT and confine.may_make_namespaces()),
                                      reason="namespaces need root with CAP_SYS_ADMIN")


def _host_segment_keys():
    with open("/proc/sysvipc/shm", encoding="ascii") as f:
        return {int(line.split()[0]) for line in f.readlines()[1:] if line.split()}


def _leftovers():
    """What of the notebook's writing the host holds: files, and the segment's key."""
    return [p for p in HOST_FILES if os.path.lexists(p)] + (["shm key"] if SHM_KEY in _host_segment_keys() else [])


def _clean_host():
    """Remove what a kernel without namespaces left (only when the code under test failed)."""
    for path in HOST_FILES:
        if os.path.lexists(path):
            os.unlink(path)
    if SHM_KEY in _host_segment_keys():
        subprocess.run(["ipcrm", "-M", str(SHM_KEY)], check=False)


def _autograde_watching(course):
    """Run nbgrader autograde and look at the host's temp folders while it runs (the release's walk of them
    would remove the files afterwards, hiding where they landed); (its stderr, what of HOST_FILES was seen)."""
    proc = subprocess.Popen([sys.executable, "-m", "nbgrader", "autograde", ns.ASSIGNMENT], cwd=course.root,
                            env=course.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err, seen = [], set()
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)
    reader.start()
    while proc.poll() is None:
        seen.update(p for p in HOST_FILES if os.path.lexists(p))
        time.sleep(0.02)
    reader.join(60)
    assert proc.returncode == 0, "".join(err)[-4000:]
    return "".join(err), seen


def _execution_course(folder):
    return ns.Course(folder).execute_student_code()


@pytest.fixture(scope="module")
def wanda(tmp_path_factory):
    """(a course in execution mode with wanda's notebook submitted, her notebook, the CLI's results for it)."""
    need("nbgrader", "nbgrader")
    need("ipykernel", "nbgrader")
    c = _execution_course(tmp_path_factory.mktemp("course"))
    nb = ns.extra_cells(ns.fill(c.release_notebook(), path=os.path.join(CORPUS, "wrong", "scale_0_1.py")),
                        [WRITER.format(names=HOST_FILES, key=SHM_KEY, watch=WATCH_SECONDS)])
    path = c.submit("wanda", nb)
    cli = cli_results({"wanda": path}, tmp_path_factory.mktemp("cli"))["wanda"]
    yield c, nb, cli
    _clean_host()


def _writer_output(course):
    cell = next(cell for cell in autograded(course, "wanda")["cells"] if MARK in "".join(cell["source"]))
    return "".join("".join(o.get("text", "")) for o in cell["outputs"])


@needs_root
@needs_readable
@needs_namespaces
def test_what_the_kernel_writes_to_temp_folders_and_shared_memory_never_reaches_the_host(wanda):
    c, _, cli = wanda
    assert _leftovers() == []
    err, seen = _autograde_watching(c)
    assert WROTE in _writer_output(c), _writer_output(c)      # the cell ran and saw its files and segment...
    assert seen == set(), err[-3000:]                         # ...which the host's folders never held,
    assert _leftovers() == []                                 # nor its IPC namespace, nor anything after
    assert c.gradebook()["wanda"] == {rubric.grade_id(k): v for k, v in cli_points(cli).items()}
    assert "could not give the notebook's kernel" not in err, err[-3000:]


@needs_root
@needs_readable
def test_without_cap_sys_admin_no_kernel_runs_the_grade_is_the_same_and_the_log_says_why(wanda,
                                                                                        tmp_path_factory):
    if not shutil.which("setpriv"):
        pytest.skip("drops CAP_SYS_ADMIN from a root grader with setpriv")
    _, nb, cli = wanda
    c = _execution_course(tmp_path_factory.mktemp("course-nocap"))
    c.submit("wanda", nb)
    done = subprocess.run(["setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin", sys.executable, "-m",
                           "nbgrader", "autograde", ns.ASSIGNMENT], cwd=c.root, env=c.env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert c.gradebook()["wanda"] == {rubric.grade_id(k): v for k, v in cli_points(cli).items()}
    assert "execution mode started no kernel: without CAP_SYS_ADMIN" in done.stderr, done.stderr[-4000:]
    assert execute.NOT_RUN in _writer_output(c) and WROTE not in _writer_output(c)
    assert _leftovers() == []


@needs_root
@needs_readable
@needs_namespaces
def test_the_walk_of_the_hosts_temp_folders_is_skipped_only_once_the_kernel_is_verified(tmp_path, monkeypatch,
                                                                                       capfd):
    need("nbclient", "nbgrader")
    from nbformat.v4 import new_code_cell, new_notebook
    walked = []
    real = uids._walk
    monkeypatch.setattr(uids, "_walk", lambda root, uid=None: walked.append(root) or real(root, uid))
    monkeypatch.setattr(confine, "_warned", set())

    def run():
        step = execute.ExecutePrivately(timeout=60, experiments="run")
        nb = new_notebook(cells=[new_code_cell("import os\nprint('in', os.getcwd())")])
        out, _ = step.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
        assert "in /tmp/autograder-kernel-" in out.cells[0].outputs[0]["text"], out.cells[0].outputs
        return step

    assert run()._private and walked == []           # verified: neither reservation nor release walked
    assert "could not give the notebook's kernel" not in capfd.readouterr().err
    monkeypatch.setattr(confine, "child_private_temp", lambda pid: False)     # as if a mount had been denied
    assert not run()._private
    assert set(walked) == set(uids.SCRATCH_ROOTS)    # the release walked the host's temp folders
    assert "could not give the notebook's kernel its own IPC namespace and private /tmp" in capfd.readouterr().err


def test_the_launcher_finds_the_connection_file_and_refuses_to_run_without_a_network_namespace(monkeypatch):
    from autograder.platforms.nbgrader import kernel_launcher
    assert kernel_launcher.connection_file(["-f", "/x/kernel.json"]) == "/x/kernel.json"
    assert kernel_launcher.connection_file(["--f=/x/k.json", "--debug"]) == "/x/k.json"
    assert kernel_launcher.connection_file(["--debug"]) is None
    monkeypatch.setattr(kernel_launcher, "private_namespaces", lambda connection: 0)    # unshare refused
    monkeypatch.setattr(kernel_launcher, "become", lambda uid: pytest.fail("became the uid without a namespace"))
    with pytest.raises(SystemExit) as stopped:
        kernel_launcher.main(["12345", "-f", "/nonexistent/kernel.json"])
    assert stopped.value.code == kernel_launcher.NO_NETWORK_EXIT


REFUSED = """import sys
sys.path.insert(0, {root!r})
from autograder.sandbox import confine
confine.may_make_namespaces = lambda: True      # the grader's guess is wrong: unshare will be refused
from autograder.platforms.nbgrader.execute import ExecutePrivately
from nbformat.v4 import new_code_cell, new_notebook
nb = new_notebook(cells=[new_code_cell("print('cell ' + 'ran')")])
out, _ = ExecutePrivately(timeout=60, experiments="run").preprocess(nb, {{"metadata": {{"path": {folder!r}}}}})
print(out.cells[0].outputs[0]["text"])"""


@needs_root
@needs_readable
def test_a_kernel_whose_launcher_cannot_leave_the_network_runs_no_cell(tmp_path):
    """CAP_SYS_ADMIN guessed but unshare refused (as a seccomp profile would): a note, not a failed notebook."""
    need("nbclient", "nbgrader")
    if not shutil.which("setpriv"):
        pytest.skip("drops CAP_SYS_ADMIN from a root grader with setpriv")
    done = subprocess.run(["setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin", sys.executable, "-c",
                           REFUSED.format(root=ROOT, folder=str(tmp_path))],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert execute.NOT_RUN in done.stdout and "cell ran" not in done.stdout, done.stdout
    assert "could not make a network namespace although the grader holds CAP_SYS_ADMIN" in done.stderr, done.stderr
