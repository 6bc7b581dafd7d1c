"""User ids for student code: one private uid per grading, taken from a reserved range, checked free.

Design
------
As root, every submission's code runs under a uid of its own, so that the clean-up after a
grading (kill every process of that uid, delete every file it wrote) can only ever touch that
submission. Such a uid must belong to no one else:

* **The range.** ``RANGE`` (1,879,048,192 to 1,879,113,727; 65,536 ids) lies in the block that
  systemd's uid table (docs/UIDS-GIDS.md upstream) leaves unused between container ranges
  (524,288 to 1,879,048,191) and its "foreign" range (from 2,147,352,576); the subordinate uids
  ``useradd`` hands out start at 100,000 and stay below 600,100,000 by default, so they never
  reach it either. ``AUTOGRADER_UID_RANGE=FIRST-LAST`` moves it on a machine that uses this block.
* **The check.** A candidate is taken only if no passwd or group entry, no /etc/subuid or
  /etc/subgid range, no running process (seen by a scan of /proc at most SCAN_FRESH_SECONDS old:
  in a warm pool, the one the last clean-up made), and (where student code cannot get private temp
  folders, namespaces.py) no file in /tmp, /var/tmp or /dev/shm has it.
* **The claim.** Concurrent gradings on one machine (grade-all workers, the warm pool, other
  users' graders) claim a uid with the file ``CLAIMS/<uid>``, holding the claimer's pid. It is
  written and ``flock``-ed under a name no sweep reads (``.new-<pid>-*``) and hard-linked into
  place, so it never exists empty or unlocked; its claimer keeps the lock until ``release``.
  A claim is stale (left by a killed grading) only when its lock is free, it is still the file
  at its name, and its pid is dead; its uid is then cleaned and reused while the cleaner holds
  that lock, so no grading can claim the uid in the meantime (``_take_stale``). An empty claim
  is an older grader's still writing its pid until CLAIM_WRITE_SECONDS have passed. A claim whose
  grading gave its child private temp folders says so (``mark_private``): cleaning it then needs
  no walk of the host's temp folders, which the child never saw.

The first id of the range is not handed out as a uid: it is ``student_gid()``, a group every student
process joins (``child.drop_privileges``) and the grader's own folders deny by an ACL entry
(``confine.hide_grader``), so student code cannot read the hidden tests while every other user can.

``sweep_stale_claims()`` (run once per grading process) releases the uids of claims whose
claimer died.

API: ``reserve()`` returns a checked, claimed uid (``None`` when not root: there is nothing to
switch to); ``release(uid)`` kills that uid's processes, removes the files it owns in /tmp,
/var/tmp and /dev/shm (unless ``walk_files=False``: the child had private ones), and drops the
claim. The walk is what costs on a machine whose temp folders hold much else (docs/scale.md).
``kill_processes(uid)`` does only the first step (between restarts of a child, say).
gid == uid: ``child.drop_privileges`` sets both.
"""

import fcntl
import grp
import os
import pwd
import random
import signal
import stat
import time

from . import trees

DEFAULT_RANGE = (1879048192, 1879048192 + 65535)
SCRATCH_ROOTS = ("/tmp", "/var/tmp", "/dev/shm")     # the world-writable places a uid can leave files
CLAIMS = "/run/autograder-uids"                       # root-only folder of claims (falls back below)
FALLBACK_CLAIMS = "/var/tmp/autograder-uids"
SCAN_LIMIT = 200000            # entries looked at per scratch root when checking a candidate
TRIES = 64                     # candidates looked at before giving up
PENDING = ".new-"              # CLAIMS/.new-<pid>-<random>: a claim being written (no sweep reads it as one)
CLAIM_WRITE_SECONDS = 60       # an empty claim younger than this is an older grader's, still writing its pid
_held = {}                     # uid -> the locked descriptor of this process's claim (until release)
# A reservation may trust a scan of /proc this recent instead of making its own. In a warm pool the last
# clean-up scanned /proc for its uid milliseconds before the next reservation, so one scan a grading is
# enough. A process that uses a uid of the reserved range without claiming it (a container runtime's
# unlisted range) lives far longer than this; a new one can start just after any scan, this one's or not.
SCAN_FRESH_SECONDS = 1.0
_last_scan = {"at": None, "uids": set()}    # the last scan of /proc: when (monotonic), every uid it saw


class UidError(RuntimeError):
    """No free uid could be reserved; the message says why and what to do."""


def uid_range():
    """(first, last) of the reserved range; AUTOGRADER_UID_RANGE=FIRST-LAST overrides the default."""
    text = os.environ.get("AUTOGRADER_UID_RANGE", "")
    if not text:
        return DEFAULT_RANGE
    try:
        first, last = (int(x) for x in text.split("-"))
    except ValueError:
        raise UidError("AUTOGRADER_UID_RANGE=%r is not FIRST-LAST (e.g. 1879048192-1879113727)" % text) from None
    if not 1000 <= first < last < 2**31 - 1:
        raise UidError("AUTOGRADER_UID_RANGE=%r must lie between 1000 and 2147483646" % text)
    return first, last


def student_gid():
    """The group id all student processes share; the grader's folders deny it read access."""
    return uid_range()[0]


def reserve(walk_files=True):
    """A uid that no one else uses, claimed for this process until ``release``; None when not root.
    ``walk_files=False``: the child will have private temp folders, so files of the uid in the host's
    do not matter to it (and are not looked for)."""
    if os.geteuid() != 0:
        return None
    first, last = uid_range()
    claims = _claims_folder()
    taken = _subordinate_ranges()
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    for _ in range(TRIES):
        uid = rng.randint(first + 1, last)     # first is student_gid()
        if any(lo <= uid <= hi for lo, hi in taken) or _named(uid):
            continue
        if not _claim(claims, uid):
            continue
        if _in_use(uid) or (walk_files and _owns_files(uid)):
            _unclaim(claims, uid)          # someone else's after all: leave it alone
            continue
        return uid
    raise UidError("found no free uid in %d-%d after %d tries; set AUTOGRADER_UID_RANGE to a range no "
                   "user, container or file uses" % (first, last, TRIES))


def release(uid, killed=False, walk_files=True):
    """Kill every process of ``uid`` (unless the caller just did: ``killed``), delete every file it owns in
    SCRATCH_ROOTS (unless its child had private ones: ``walk_files=False``), drop its claim."""
    if uid is None:
        return
    first, last = uid_range()
    if not first < uid <= last:
        raise UidError("refusing to clean uid %d: it is outside the reserved range %d-%d" % (uid, first, last))
    if not killed:
        kill_processes(uid)
    if walk_files:
        for root in SCRATCH_ROOTS:
            _remove_owned(root, uid)
    _unclaim(_claims_folder(), uid)


PRIVATE_MARK = ".private"    # CLAIMS/<uid>.private: a name older graders on the machine skip (not digits)


def mark_private(uid):
    """Note next to the claim that the uid's child has private temp folders (a killed grading's claim then
    needs no walk). The claim itself stays ``<pid>\n``, which every version of the grader reads."""
    try:
        os.close(os.open(os.path.join(_claims_folder(), str(uid) + PRIVATE_MARK),
                         os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600))
    except OSError:
        pass


def sweep_stale_claims():
    """Release every uid whose claimer is provably gone (a grading killed before its clean-up); returns those
    uids. Each is cleaned while its claim's lock is held, so no grading can claim the uid meanwhile."""
    if os.geteuid() != 0:
        return []
    claims, swept = _claims_folder(), []
    first, last = uid_range()
    for name in os.listdir(claims):
        if name.startswith(PENDING):
            _sweep_pending(claims, name)
        if not name.isdigit():
            continue
        path, uid = os.path.join(claims, name), int(name)
        fd = _take_stale(path)
        if fd is None:
            continue
        try:
            if first < uid <= last:       # outside the current range: not ours to clean, just drop the claim
                _clean(uid, path)
                swept.append(uid)
            _drop(claims, uid, fd)
        finally:
            os.close(fd)
    return swept


def kill_processes(uid, rounds=50):
    """SIGKILL every process of ``uid`` (also those that left the process group), until none is left."""
    for _ in range(rounds):
        if not _processes_of(uid):
            return True
        pid = os.fork()
        if pid == 0:                       # become that user: kill(-1) then reaches exactly its processes
            try:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
            except BaseException:
                pass
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        time.sleep(0.005)
    return not _processes_of(uid)


# -- checks ----------------------------------------------------------------------------------------
def _named(uid):
    for lookup in (pwd.getpwuid, grp.getgrgid):
        try:
            lookup(uid)
            return True
        except KeyError:
            pass
    return False


def _subordinate_ranges():
    ranges = []
    for path in ("/etc/subuid", "/etc/subgid"):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    parts = line.strip().split(":")
                    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                        ranges.append((int(parts[1]), int(parts[1]) + int(parts[2]) - 1))
        except OSError:
            pass
    return ranges


def _in_use(uid):
    """Whether a live process has ``uid``, judged from the last scan of /proc if it is recent enough (the one
    the last clean-up made: see SCAN_FRESH_SECONDS), else from a new one."""
    if _last_scan["at"] is None or time.monotonic() - _last_scan["at"] > SCAN_FRESH_SECONDS:
        _processes_of(uid)
    return uid in _last_scan["uids"]


def _processes_of(uid):
    """Live (not zombie) pids whose real, effective, saved or filesystem uid is ``uid``. The scan reads every
    process's status; every uid it saw is kept in ``_last_scan`` for the next reservation (``_in_use``)."""
    pids, wanted, seen = [], str(uid).encode(), set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fd = os.open("/proc/%s/status" % name, os.O_RDONLY)
        except OSError:
            continue
        try:
            text = os.read(fd, 4096)       # State: and Uid: are in the first dozen lines
        except OSError:
            continue
        finally:
            os.close(fd)
        state, uid_line = _field(text, b"State:"), _field(text, b"Uid:")
        if state[:1] in (b"Z", b"X"):
            continue                       # a zombie holds nothing and waits only for its parent
        ids = uid_line.split()
        seen.update(ids)
        if wanted in ids:
            pids.append(int(name))
    _last_scan.update(at=time.monotonic(), uids={int(x) for x in seen if x.isdigit()})
    return pids


def _field(text, key):
    """The value of line ``key`` in a /proc status text (bytes), or b""."""
    start = text.find(b"\n" + key)
    if start < 0:
        return b""
    start += len(key) + 1
    end = text.find(b"\n", start)
    return text[start:end if end >= 0 else len(text)].strip()


def _walk(root, uid=None):
    """(path, lstat) of everything under ``root``, without following links and without recursion.

    With ``uid``: only what ``uid`` can have made. A uid creates entries only in folders it can
    enter and write, so the walk enters only folders ``uid`` can enter (its own, or with the
    search bit for its group or for others) and looks at the owner of plain entries only in
    folders it can write. A tree it cannot enter (a 0700 folder of root's) is skipped, and so are
    the files of read-only trees (installed software): on a shared /tmp that is most of it.
    """
    stack, seen = [(root, uid is None or _may(os.lstat(root), uid, 0o2))], 0
    while stack and seen < SCAN_LIMIT:
        folder, writable = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                if not is_dir and not writable:
                    continue                    # uid cannot have created it here
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            yield entry.path, st
            if stat.S_ISDIR(st.st_mode) and (uid is None or _may(st, uid, 0o1)):
                stack.append((entry.path, uid is None or _may(st, uid, 0o2)))


def _may(st, uid, bit):
    """Whether ``uid`` (its own group, gid == uid, and the student group) has BIT (0o1 search, 0o2 write)
    on this folder."""
    if st.st_uid == uid:
        return True
    return bool(st.st_mode & bit) or (st.st_gid in (uid, student_gid()) and bool(st.st_mode & (bit << 3)))


def _owns_files(uid):
    return any(st.st_uid == uid for root in SCRATCH_ROOTS for _, st in _walk(root, uid))


def _remove_owned(root, uid):
    """Delete what ``uid`` owns under ``root``; a folder it owns goes with all its contents."""
    doomed = [(p, st) for p, st in _walk(root, uid) if st.st_uid == uid]
    # deepest first, so a folder's own entries are gone before the folder is tried
    for path, st in sorted(doomed, key=lambda item: -item[0].count(os.sep)):
        try:
            if stat.S_ISDIR(st.st_mode):
                trees.remove_tree(path)
            else:
                os.unlink(path)
        except OSError:
            pass


def _claims_folder():
    """A root-owned, root-only folder for claims; refuses one that someone else planted."""
    for folder in (CLAIMS, FALLBACK_CLAIMS):
        parent = os.path.dirname(folder)
        if not os.path.isdir(parent):
            continue
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass
        except OSError:
            continue
        st = os.lstat(folder)
        if stat.S_ISDIR(st.st_mode) and st.st_uid == 0 and not st.st_mode & 0o077:
            return folder
    raise UidError("cannot keep uid claims: neither %s nor %s is a folder only root owns and can open; "
                   "remove whichever exists and run again" % (CLAIMS, FALLBACK_CLAIMS))


def _claim(claims, uid):
    """Take ``CLAIMS/<uid>`` for this process: True if it is ours (locked, holding our pid), False if taken.

    The claim appears at its name already holding "<pid>\n" and already flock-ed (written under a name no
    sweep reads, then hard-linked): no other grader ever reads it empty, which every version of the grader
    took for a dead claimer's (and then removed the live grading's files and claim). A claim left by a
    killed grading is cleaned while its lock is held (``_take_stale``), so no one takes its uid meanwhile."""
    path = os.path.join(claims, str(uid))
    for _ in range(2):
        fd = _new_claim(claims, path)
        if fd is not None:
            _held[uid] = fd
            try:
                os.unlink(path + PRIVATE_MARK)       # a mark some crash left is not this claim's
            except OSError:
                pass
            return True
        stale = _take_stale(path)
        if stale is None:
            return False                            # a live grading's, or being cleaned by another grader
        try:
            _clean(uid, path)                       # left by a killed grading: clean it, then take it
            _drop(claims, uid, stale)
        finally:
            os.close(stale)
    return False


def _new_claim(claims, path):
    """The locked descriptor of a new claim at ``path`` holding this pid, or None if ``path`` exists."""
    temp = os.path.join(claims, "%s%d-%s" % (PENDING, os.getpid(), os.urandom(4).hex()))
    fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, b"%d\n" % os.getpid())
        try:
            os.link(temp, path)                     # atomic, and fails if the name exists: O_EXCL with content
        except FileExistsError:
            os.close(fd)
            return None
        return fd
    except BaseException:
        os.close(fd)
        raise
    finally:
        os.unlink(temp)


def _take_stale(path):
    """A locked descriptor of the claim at ``path`` if its claimer is provably gone, else None.

    Provably gone: no process holds the claim's lock (the kernel drops it when its holder dies), the claim is
    still the one at ``path``, and the pid in it is dead (graders before the lock hold none, so the pid
    decides for theirs). An empty or unreadable claim is a claimer's only until CLAIM_WRITE_SECONDS have
    passed (older graders create it first and write their pid next)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None                                 # gone: its owner or another cleaner released it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        st = os.fstat(fd)
        now = os.lstat(path)
        if (st.st_dev, st.st_ino) != (now.st_dev, now.st_ino) or not _claimer_gone(fd, st):
            raise OSError("not stale")
        return fd
    except OSError:
        os.close(fd)
        return None


def _claimer_gone(fd, st):
    try:
        pid = int(os.pread(fd, 32, 0).decode("ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError):
        pid = 0
    if pid <= 0:
        return time.time() - st.st_mtime > CLAIM_WRITE_SECONDS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _clean(uid, path):
    """What a killed grading left under ``uid`` (its claim at ``path``, locked by the caller): its processes,
    and its files in the host's temp folders unless its child had private ones."""
    kill_processes(uid)
    if not _claimed_private(path):
        for root in SCRATCH_ROOTS:
            _remove_owned(root, uid)


def _claimed_private(path):
    return os.path.isfile(path + PRIVATE_MARK)


def _drop(claims, uid, fd):
    """Remove the claim of ``uid`` if it is still the file ``fd`` holds (locked), and its mark."""
    path = os.path.join(claims, str(uid))
    try:
        held, now = os.fstat(fd), os.lstat(path)
    except OSError:
        return
    if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
        for name in (path + PRIVATE_MARK, path):     # the mark first: a claim is never left marked
            try:
                os.unlink(name)
            except OSError:
                pass


def _sweep_pending(claims, name):
    """Remove a claim's temporary file whose writer died before it linked or removed it."""
    pid = name[len(PENDING):].split("-")[0]
    try:
        os.kill(int(pid), 0)
        return
    except ProcessLookupError:
        pass
    except (PermissionError, ValueError, OverflowError):
        return
    try:
        os.unlink(os.path.join(claims, name))
    except OSError:
        pass


def _unclaim(claims, uid):
    """Drop this process's claim of ``uid`` (only the file it holds, if it holds one) and close its lock."""
    fd = _held.pop(uid, None)
    if fd is None:
        for name in (str(uid) + PRIVATE_MARK, str(uid)):    # the mark first: a claim is never left marked
            try:
                os.unlink(os.path.join(claims, name))
            except OSError:
                pass
        return
    try:
        _drop(claims, uid, fd)
    finally:
        os.close(fd)
