"""Student code's own namespaces (sandbox/namespaces.py): its IPC and its temp folders die with its grading.

Each test looks at a real child, started either on its own (``runner.FreshChild``, one ``grade``) or
forked by the warm pool's template (``pool.Launcher``, grade-all's workers), while it runs and after it
ended: what it created must exist in its own view (so the test can fail) and never in the host's.
Namespaces need root with CAP_SYS_ADMIN; elsewhere these tests skip, and the grader falls back to
walking the host's temp folders (tests/test_hostile.py covers that clean-up).
"""

import os
import shutil
import subprocess
import sys

import pytest

from autograder.grading import engine
from autograder.sandbox import confine, namespaces, pool, runner, uids
from conftest import CORPUS, ROOT

HOSTILE = os.path.join(CORPUS, "hostile")
SYSV = os.path.join(HOSTILE, "sysv_shared_memory.py")
TEMP = os.path.join(HOSTILE, "writes_temp_folders.py")
SYSV_KEY = "5a17e5"                 # the key sysv_shared_memory.py uses, as /proc/sysvipc prints it (decimal)
MARK = "hostile-private-temp"       # the name writes_temp_folders.py writes under
AS_ROOT = os.geteuid() == 0
NAMESPACES = AS_ROOT and confine.may_make_namespaces()
needs_namespaces = pytest.mark.skipif(not NAMESPACES, reason="namespaces need root with CAP_SYS_ADMIN")


@pytest.fixture(params=["fresh", "pool"])
def launcher(request):
    made = runner.FreshChild() if request.param == "fresh" else pool.Launcher()
    yield made
    made.close()


def _sysv_keys(pid=None):
    """The keys of every SysV object (shm, sem, msg) in the IPC namespace of ``pid`` (None: the host's)."""
    enter = [] if pid is None else ["nsenter", "--ipc=/proc/%d/ns/ipc" % pid]
    keys = set()
    for kind in ("shm", "sem", "msg"):
        out = subprocess.run(enter + ["cat", "/proc/sysvipc/" + kind], capture_output=True, text=True,
                             check=True, timeout=30).stdout
        keys.update(line.split()[0] for line in out.splitlines()[1:] if line.split())
    return keys


def _host_queues():
    """The names of the POSIX message queues in the host's IPC namespace (its mqueue file system, mounted
    for the look in a mount namespace of the test's own)."""
    folder = "/tmp/autograder-mqueue-look-%d" % os.getpid()
    look = "mkdir -p {0} && mount -t mqueue none {0} && ls -A {0}".format(folder)
    done = subprocess.run(["unshare", "-m", "sh", "-c", look], capture_output=True, text=True, timeout=30)
    os.rmdir(folder)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def _host_marks(workdir):
    return [p for p in ("/tmp/" + MARK, "/var/tmp/" + MARK, "/dev/shm/" + MARK, "/tmp/%s-dir" % MARK,
                        os.path.join(workdir, MARK)) if os.path.lexists(p)]


@needs_namespaces
def test_sysv_objects_live_in_the_childs_namespace_and_die_with_the_grading(launcher):
    key = str(int(SYSV_KEY, 16))
    assert key not in _sysv_keys()
    box = runner.Sandbox(SYSV, launcher=launcher)
    try:
        assert box.load()["problems"] == []
        pid = box.proc.pid
        assert confine.child_private_ipc(pid)
        assert key in _sysv_keys(pid)                 # the submission did make them: in its own namespace...
        assert key not in _sysv_keys()                # ...which the host's /proc/sysvipc never shows
        holder = launcher.proc.pid if isinstance(launcher, pool.Launcher) else None
    finally:
        box.close()
    assert key not in _sysv_keys() and "hostile-queue" not in _host_queues()
    if holder is not None:                            # the template lives on, in a renewed IPC namespace
        launcher.settle()                             # (renewed after close returned: see Launcher.end_child)
        assert _sysv_keys(holder) == set()


@needs_namespaces
def test_nothing_the_child_writes_reaches_the_hosts_temp_folders(launcher):
    box = runner.Sandbox(TEMP, launcher=launcher)
    try:
        box.load()
        pid = box.proc.pid
        assert box.private_temp and confine.child_private_temp(pid)
        view = "/proc/%d/root" % pid
        for folder in ("/tmp", "/var/tmp", "/dev/shm", box.workdir):    # written, in the child's own view...
            assert os.path.isfile(view + os.path.join(folder, MARK)), folder
        assert len(os.listdir(view + "/tmp/%s-dir" % MARK)) == 300
        assert _host_marks(box.workdir) == []                          # ...and nowhere on the host
        workdir = box.workdir
    finally:
        box.close()
    assert _host_marks(workdir) == []
    after = runner.Sandbox(os.path.join(CORPUS, "valid", "np_dot.py"), launcher=launcher)
    try:                                    # the next child (the same template, for the pool) starts empty
        assert not os.path.lexists("/proc/%d/root/tmp/%s" % (after.proc.pid, MARK))
    finally:
        after.close()


@needs_namespaces
def test_private_temp_folders_spare_the_walk_of_the_hosts(launcher, monkeypatch):
    walked = []
    real = uids._walk
    monkeypatch.setattr(uids, "_walk", lambda root, uid=None: walked.append(root) or real(root, uid))
    box = runner.Sandbox(TEMP, launcher=launcher)
    try:
        box.load()
        assert box.private_temp
        assert os.path.isfile(os.path.join(uids._claims_folder(), str(box.uid) + uids.PRIVATE_MARK))
    finally:
        box.close()
    assert walked == []                       # neither the reservation nor the clean-up walked /tmp
    monkeypatch.setattr(confine, "child_private_temp", lambda pid: False)   # as if mount had failed
    box = runner.Sandbox(TEMP, launcher=launcher)
    box.close()
    assert set(walked) == set(uids.SCRATCH_ROOTS)     # then the clean-up walks, as it always did


@needs_namespaces
def test_a_graded_submission_is_graded_as_its_own_code_with_private_namespaces(launcher):
    for path in (SYSV, TEMP):
        result = engine.grade(path, launcher=launcher)
        assert result.score == 100 and result.notes == [], path
    assert _host_marks("/nonexistent") == [] and str(int(SYSV_KEY, 16)) not in _sysv_keys()


@needs_namespaces
def test_folders_under_a_temp_root_the_child_needs_are_bound_back(tmp_path):
    """A virtualenv or checkout in /tmp: the child still reaches it through a bind mount, and nothing else."""
    needed = os.path.join("/tmp", "autograder-bindtest-%d" % os.getpid())
    other = needed + "-other"
    for folder in (needed, other):
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "f"), "w") as f:
            f.write("x")
    try:
        assert namespaces.needed_binds([needed, os.path.join(needed, "sub"), "/usr/lib", None]) == [needed]
        code = ("import os, sys; sys.path.insert(0, %r); from autograder.sandbox import namespaces as n;"
                "flags = n.enter(bind_paths=[%r]);"
                "print(flags & n.CLONE_NEWNS != 0, os.path.exists(%r), os.path.exists(%r))"
                % (ROOT, needed, os.path.join(needed, "f"), os.path.join(other, "f")))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert out.stdout.split() == ["True", "True", "False"], out.stdout + out.stderr
        assert os.path.isfile(os.path.join(other, "f"))             # the host's folder was never touched
    finally:
        shutil.rmtree(needed, ignore_errors=True)
        shutil.rmtree(other, ignore_errors=True)


def test_without_namespaces_the_grade_is_the_same_and_the_log_says_why(tmp_path):
    """Root without CAP_SYS_ADMIN (or not root): no namespace can be made; the grade does not change."""
    if not AS_ROOT or not shutil.which("setpriv"):
        pytest.skip("drops CAP_SYS_ADMIN from a root grader")
    done = subprocess.run(["setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin", sys.executable, "-m",
                           "autograder", "grade", TEMP], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "Score: 100/100" in done.stdout, done.stdout + done.stderr
    assert "could not give student code a private IPC namespace" in done.stderr
    assert _host_marks("/nonexistent") == []          # the walk after the grading removed what it wrote


@needs_namespaces
def test_the_pool_renews_after_close_and_a_failed_renewal_restarts_the_template():
    """end_child does not wait for the renewal (Launcher.settle reads its answer later); an answer that says
    the template failed restarts it before the next child is forked, and that child is graded as usual."""
    launcher = pool.Launcher()
    try:
        good = os.path.join(CORPUS, "valid", "np_dot.py")
        assert engine.grade(good, launcher=launcher).score == 100
        assert launcher.unanswered == 1                  # the renewal's answer is still owed
        first = launcher.proc.pid
        launcher.settle()
        assert launcher.unanswered == 0 and launcher.proc.pid == first
        launcher.sock.sendall(b'{"op": "no such op"}')    # stands for a renewal that failed
        launcher.unanswered += 1
        assert engine.grade(good, launcher=launcher).score == 100
        assert launcher.proc.pid != first                 # a fresh template forked that child
    finally:
        launcher.close()
