"""Gradings running at once on one machine (as root): one grading's sweep never takes another's uid or files.

Every grading process sweeps what killed gradings left: uid claims whose claimer is gone
(sandbox/uids.py) and unlocked scratch folders (sandbox/confine.py). A claim used to appear empty
(O_EXCL) and get its pid a moment later; a sweep that read it in that moment took it for a dead
claimer's, killed the uid's processes, deleted every file of the uid in /tmp (the live grading's
home folder: "FileNotFoundError: /tmp/autograder-*/home", an internal error) and dropped the claim.
These tests hold gradings' claims while other processes sweep, and check that the leftovers of a
killed grading are still cleaned.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest

from autograder.sandbox import runner, uids
from conftest import CORPUS, ROOT

AS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not AS_ROOT, reason="uid claims exist only as root")
WORKERS = 4           # processes claiming, holding and sweeping at once
ROUNDS = 150          # claims each of them takes (a bound on count, not on time)

# One worker: claim a uid, give it a folder in /tmp (as a grading gives its child a home), sweep as a
# grading process starting up does, then check that its folder and its claim are still there.
WORKER = r"""
import os, sys, tempfile
from autograder.sandbox import runner, uids
lost = 0
for _ in range(int(sys.argv[1])):
    uid = uids.reserve(walk_files=False)
    home = tempfile.mkdtemp(prefix="autograder-concurrency-", dir="/tmp")
    os.chown(home, uid, uid)
    uids.sweep_stale_claims()
    path = os.path.join(uids._claims_folder(), str(uid))
    try:
        mine = open(path).read().strip() == str(os.getpid())
    except OSError:
        mine = False
    if not os.path.isdir(home) or not mine:
        lost += 1
        print("lost uid %d: home %s, claim %s" % (uid, os.path.isdir(home), mine), flush=True)
    os.rmdir(home) if os.path.isdir(home) else None
    uids.release(uid, walk_files=False)
print("lost", lost)
"""


@needs_root
def test_concurrent_sweeps_never_take_a_live_gradings_uid_or_home():
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(ROUNDS)], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for _ in range(WORKERS)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    for proc, out in zip(procs, outs):
        assert proc.returncode == 0, out
        assert out.strip().endswith("lost 0"), out


@needs_root
def test_an_empty_claim_is_a_claimer_still_writing_its_pid_not_a_dead_one():
    """What an older grader's claim looks like between its O_EXCL create and its write."""
    claims = uids._claims_folder()
    uid = uids.uid_range()[1] - 5
    path = os.path.join(claims, str(uid))
    home = tempfile.mkdtemp(prefix="autograder-concurrency-", dir="/tmp")
    os.chown(home, uid, uid)
    open(path, "x").close()
    try:
        assert uid not in uids.sweep_stale_claims()
        assert os.path.isdir(home) and os.path.exists(path)
        os.utime(path, (1, 1))                        # an empty claim a killed grader left long ago...
        assert uid in uids.sweep_stale_claims()       # ...is swept, with the uid's files
        assert not os.path.exists(home) and not os.path.exists(path)
    finally:
        shutil.rmtree(home, ignore_errors=True)
        if os.path.exists(path):
            os.unlink(path)


@needs_root
def test_a_killed_gradings_claim_and_files_are_still_cleaned():
    holder = subprocess.Popen(
        [sys.executable, "-c", "import os, sys, time; from autograder.sandbox import uids; u = uids.reserve(); "
         "f = open('/tmp/autograder-concurrency-left-%d' % u, 'w'); os.chown(f.name, u, u); print(u, flush=True); "
         "time.sleep(600)"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    uid = int(holder.stdout.readline())
    left = "/tmp/autograder-concurrency-left-%d" % uid
    claim = os.path.join(uids._claims_folder(), str(uid))
    try:
        assert uid not in uids.sweep_stale_claims()   # alive: its lock is held and its pid runs
        assert os.path.exists(claim) and os.path.exists(left)
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        assert uid in uids.sweep_stale_claims()
        assert not os.path.exists(claim) and not os.path.exists(left)
    finally:
        holder.kill()
        holder.wait()
        if os.path.exists(left):
            os.unlink(left)


@needs_root
def test_concurrent_grades_report_no_internal_error():
    """Real gradings at once, each sweeping as it starts: every one is graded, none fails in the grader."""
    files = sorted(os.path.join(CORPUS, "valid", n) for n in os.listdir(os.path.join(CORPUS, "valid")))[:6]
    procs = [subprocess.Popen([sys.executable, "-m", "autograder", "grade", f], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for f in files]
    for proc, f in zip(procs, files):
        out = proc.communicate(timeout=600)[0]
        assert proc.returncode == 0 and "internal error" not in out, (f, out)


def test_a_home_folder_removed_under_a_live_grading_is_made_again(capsys):
    """Should anything still remove it, the child restarts in a new one: the student is graded, the log says."""
    box = runner.Sandbox(os.path.join(CORPUS, "valid", "np_dot.py"))
    try:
        box.kill()
        os.rmdir(box.workdir)
        assert box.load()["problems"] == []          # the restart made the folder again
        assert os.path.isdir(box.workdir)
        if box.uid is not None:
            assert os.stat(box.workdir).st_uid == box.uid
    finally:
        box.close()
    assert "was removed while its grading lived" in capsys.readouterr().err
