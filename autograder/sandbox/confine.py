"""What surrounds the child as root: scratch folders, a memory bound for all its processes, hidden files.

Design
------
* **Scratch folders** (``scratch_folder``). Every folder the grader makes in the temp directory
  is named ``autograder-*``, is owned by the grader, and holds a ``.lock`` that the grading
  keeps ``flock``-ed while it lives. A grading killed with SIGKILL leaves its folder behind
  unlocked; ``sweep_stale`` (run once when a grading process starts its first sandbox) removes
  every such folder, and legacy folders without a lock that are older than STALE_SECONDS.
  The student's own files live one level down (``<folder>/home``), so it cannot remove the lock.
* **Memory of all processes together** (``MemoryGroup``). As root, the child and everything
  it forks run in a cgroup of their own: cgroup v2 ``memory.max`` (with ``memory.swap.max``
  0) where the v2 hierarchy offers the memory controller, else cgroup v1
  ``memory.limit_in_bytes`` (and ``memory.memsw.limit_in_bytes`` where present). When neither
  can be created (a container without cgroup write access), ``FALLBACK`` says what bounds the
  total instead: RLIMIT_AS per process times RLIMIT_NPROC processes of the private uid.
* **Hidden tests** (``hide_grader``). The grader's package and ``solutions/`` get one extra
  POSIX ACL entry, "group ``uids.student_gid()``: no access". Only student processes are in
  that group, so they cannot enter those folders, while the owner, the group and every other
  user keep exactly the access they had: a root run never locks anyone else out of a shared
  install. On a file system without ACLs the grader says so in its log (``warn``).
* **Namespaces** (made in namespaces.py). ``child_network_isolated``, ``child_private_ipc`` and
  ``child_private_temp`` compare the child's namespaces and temp folders with the grader's, so a
  failed ``unshare`` or ``mount`` (no CAP_SYS_ADMIN) is reported and falls back, not assumed away.
"""

import errno
import fcntl
import os
import stat
import struct
import sys
import tempfile
import time

from . import namespaces, trees, uids

STALE_SECONDS = 6 * 3600      # an unlocked legacy folder older than this belongs to no live grading
KILL_ROUNDS = 200             # passes over a cgroup's processes: a fork bomb is capped by RLIMIT_NPROC (64)
KILL_PAUSE = 0.002            # between passes: a killed process leaves cgroup.procs once it is reaped
_swept = False
_warned = set()


def warn(key, text):
    """One line for the instructor's log (stderr), once per process."""
    if key not in _warned:
        _warned.add(key)
        sys.stderr.write("autograder: warning: %s\n" % text)


NOT_ROOT = ("the grader is not running as root, so student code runs as your own user: it can read the hidden "
            "tests and the solution, and what it leaves behind is not cleaned up. Treat the score as feedback, "
            "not as a grade of record; grade as root (sudo, or a container) for that")


def warn_if_not_root(command):
    """The warning ``ci`` and ``grade-all`` print when student code cannot get a private uid."""
    if os.geteuid() != 0:
        sys.stderr.write("autograder %s: warning: %s.\n" % (command, NOT_ROOT))
        return True
    return False


# -- scratch folders ---------------------------------------------------------------------------------
class ScratchFolder:
    """A locked ``autograder-*`` folder in the temp directory; ``close()`` removes it."""

    def __init__(self, prefix="autograder-", mode=0o700):
        self.path = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.path, mode)
        # The lock file gets its name only once it is locked: a sweep in another process sees either no
        # .lock (a young folder: kept) or a held one (kept), never an unlocked .lock in a live folder.
        pending = os.path.join(self.path, ".lock.pending")
        self._lock = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        os.rename(pending, os.path.join(self.path, ".lock"))

    def close(self):
        _remove(self.path)
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def sweep_stale(roots=None):
    """Remove ``autograder-*`` folders that no live grading holds (left by a killed run). Once per process."""
    global _swept
    if _swept and roots is None:
        return []
    _swept = True
    removed = []
    for root in roots or sorted({tempfile.gettempdir(), "/tmp"}):
        try:
            names = [n for n in os.listdir(root) if n.startswith("autograder-")]
        except OSError:
            continue
        for name in names:
            path = os.path.join(root, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
                continue                   # a link, a file, or someone else's: never followed, never touched
            if _unlocked(path, st):
                _remove(path)
                removed.append(path)
    return removed


_swept_once = set()


def sweep_once(sweep):
    """Run a clean-up of what killed gradings left (``sweep()``) once per process."""
    if sweep not in _swept_once:
        _swept_once.add(sweep)
        sweep()


def _remove(path):
    try:
        trees.remove_tree(path)
    except OSError:
        pass


def _unlocked(path, st):
    try:
        fd = os.open(os.path.join(path, ".lock"), os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return time.time() - st.st_mtime > STALE_SECONDS
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False                       # a live grading holds it
    finally:
        os.close(fd)


# -- memory of all the submission's processes ------------------------------------------------------
FALLBACK = ("no writable memory cgroup: the total memory of student code is bounded by RLIMIT_AS per "
            "process times RLIMIT_NPROC processes of its private uid")


class MemoryGroup:
    """A cgroup bounding the memory of the child and all it forks; ``procs`` is the file to join it."""

    def __init__(self, limit_bytes, name):
        self.path, self.procs, self.kind = None, None, None
        for kind, parent in _candidate_parents():
            path = os.path.join(parent, name)
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                pass
            except OSError:
                continue
            if self._configure(kind, path, limit_bytes):
                self.path, self.procs, self.kind = path, os.path.join(path, "cgroup.procs"), kind
                return
            _rmdir(path)
        warn("cgroup", FALLBACK)

    @staticmethod
    def _configure(kind, path, limit):
        try:
            if kind == "v2":
                if "memory" not in _read(os.path.join(path, "cgroup.controllers")).split():
                    return False
                _write(os.path.join(path, "memory.max"), limit)
                if os.path.exists(os.path.join(path, "memory.swap.max")):
                    _write(os.path.join(path, "memory.swap.max"), 0)
            else:
                _write(os.path.join(path, "memory.limit_in_bytes"), limit)
                if os.path.exists(os.path.join(path, "memory.memsw.limit_in_bytes")):
                    _write(os.path.join(path, "memory.memsw.limit_in_bytes"), limit)
            return True
        except OSError:
            return False

    def set_limit(self, limit_bytes):
        """Change the bound (the warm pool's shared group follows each submission's own memory limit)."""
        if self.path is None:
            return
        if self.kind == "v2":
            _write(os.path.join(self.path, "memory.max"), limit_bytes)
            return
        # v1 wants memsw >= limit at every moment: raise memsw first when growing, last when shrinking
        memsw = os.path.join(self.path, "memory.memsw.limit_in_bytes")
        names = ["memory.limit_in_bytes"] + (["memory.memsw.limit_in_bytes"] if os.path.exists(memsw) else [])
        current = _read(os.path.join(self.path, "memory.limit_in_bytes")).strip()
        if current.isdigit() and int(current) < limit_bytes:
            names.reverse()
        for name in names:
            _write(os.path.join(self.path, name), limit_bytes)

    def join(self, pid):
        """Move process ``pid`` into the group; a refusal leaves it where it was (the caller checks ``pids``
        where membership decides something)."""
        if self.path is not None:
            try:
                _write(self.procs, pid)
            except OSError:
                pass

    def pids(self):
        return [int(p) for p in _read(self.procs).split() if p.isdigit()] if self.path else []

    def kill(self, spare=()):
        """SIGKILL every process in the group but ``spare`` (v2 without spare: cgroup.kill; else one by one)."""
        if self.path is None:
            return
        if not spare and self.kind == "v2" and os.path.exists(os.path.join(self.path, "cgroup.kill")):
            try:
                _write(os.path.join(self.path, "cgroup.kill"), 1)
                return
            except OSError:
                pass
        for _ in range(KILL_ROUNDS):
            pids = [p for p in self.pids() if p not in spare]
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
            time.sleep(KILL_PAUSE)

    def remove(self):
        if self.path is not None:
            self.kill()
            for _ in range(100):                   # a killed process leaves the group when it is reaped
                if _rmdir(self.path):
                    break
                time.sleep(0.02)
            self.path = None


def _candidate_parents():
    """(kind, folder) where a child cgroup may be made: v2 first, then the v1 memory hierarchy."""
    found = []
    mounts = {}
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.split()
                sep = parts.index("-")
                fstype, options = parts[sep + 1], parts[-1]
                if fstype == "cgroup2":
                    mounts.setdefault("v2", parts[4])
                elif fstype == "cgroup" and "memory" in options.split(","):
                    mounts.setdefault("v1", parts[4])
    except (OSError, ValueError):
        return found
    own = {}
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as f:
            for line in f:
                number, controllers, path = line.rstrip("\n").split(":", 2)
                if number == "0":
                    own["v2"] = path
                elif "memory" in controllers.split(","):
                    own["v1"] = path
    except (OSError, ValueError):
        pass
    for kind in ("v2", "v1"):
        if kind in mounts:
            base = mounts[kind]
            for rel in (own.get(kind, "/"), "/"):
                folder = os.path.normpath(os.path.join(base, rel.lstrip("/")))
                if os.path.isdir(folder) and (kind, folder) not in found:
                    found.append((kind, folder))
    return found


def _read(path):
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _write(path, value):
    with open(path, "w", encoding="ascii") as f:
        f.write("%s\n" % value)


def _rmdir(path):
    try:
        os.rmdir(path)
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


def group_name(tag):
    """``autograder-<pid>-<tag>``: the creator's pid tells the sweep whether a grading still owns it."""
    return "autograder-%d-%s" % (os.getpid(), tag)


def _owner_alive(name):
    parts = name.split("-")
    if len(parts) < 3 or not parts[1].isdigit():
        return False                      # a legacy name: owned by no one once it is empty
    try:
        os.kill(int(parts[1]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True                       # alive, someone else's
    except (OverflowError, ValueError):
        return False                      # not a pid at all
    return True


def sweep_cgroups():
    """Remove empty ``autograder-*`` cgroups a killed grading left behind (never one whose creator lives:
    it may have just made it, and its child not yet joined)."""
    for _, parent in _candidate_parents():
        try:
            names = [n for n in os.listdir(parent) if n.startswith("autograder-")]
        except OSError:
            continue
        for name in names:
            path = os.path.join(parent, name)
            if not _owner_alive(name) and not _read(os.path.join(path, "cgroup.procs")).split():
                _rmdir(path)


# -- hiding the grader's files from student code ---------------------------------------------------
_ACL_XATTR = "system.posix_acl_access"
_USER_OBJ, _USER, _GROUP_OBJ, _GROUP, _MASK, _OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
_UNDEFINED = 0xFFFFFFFF


def grader_folders():
    """The folders student code must not read: the grader's package (hidden tests) and solutions/."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return [package, os.path.join(os.path.dirname(package), "solutions")]


def hide_grader():
    """Deny the student group every grader folder by one ACL entry; True if all that exist are hidden."""
    gid, ok = uids.student_gid(), True
    for folder in grader_folders():
        if not os.path.isdir(folder):
            continue
        try:
            _deny_group(folder, gid)
        except OSError as exc:
            ok = False
            warn("acl", "cannot add an ACL entry to %s (%s): student code can read the hidden tests there. "
                 "Put the grader on a file system with POSIX ACLs (ext4, xfs, tmpfs, overlayfs)"
                 % (folder, os.strerror(exc.errno) if exc.errno else exc))
    return ok


def _deny_group(folder, gid):
    try:
        entries = _parse_acl(os.getxattr(folder, _ACL_XATTR, follow_symlinks=False))
    except OSError as exc:
        if exc.errno not in (errno.ENODATA, getattr(errno, "ENOATTR", errno.ENODATA)):
            raise
        mode = os.stat(folder).st_mode
        entries = [(_USER_OBJ, (mode >> 6) & 7, _UNDEFINED), (_GROUP_OBJ, (mode >> 3) & 7, _UNDEFINED),
                   (_OTHER, mode & 7, _UNDEFINED)]
    if (_GROUP, 0, gid) in entries:
        return
    entries = [e for e in entries if not (e[0] == _GROUP and e[2] == gid)] + [(_GROUP, 0, gid)]
    if not any(e[0] == _MASK for e in entries):
        # the mask bounds named entries and the owning group; the owning group's bits keep its access
        group_bits = next(p for t, p, _ in entries if t == _GROUP_OBJ)
        entries.append((_MASK, group_bits, _UNDEFINED))
    entries.sort(key=lambda e: (e[0], e[2]))
    os.setxattr(folder, _ACL_XATTR, struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries),
                follow_symlinks=False)


def _parse_acl(data):
    if len(data) < 4 or struct.unpack("<I", data[:4])[0] != 2 or (len(data) - 4) % 8:
        raise OSError(errno.EINVAL, "unexpected ACL format")
    return [struct.unpack("<HHI", data[i:i + 8]) for i in range(4, len(data), 8)]


def child_network_isolated(pid):
    """True if process ``pid`` has a network namespace other than the grader's."""
    return _own_namespace(pid, "net")


def _own_namespace(pid, kind):
    try:
        return os.readlink("/proc/%d/ns/%s" % (pid, kind)) != os.readlink("/proc/self/ns/%s" % kind)
    except OSError:
        return False


def child_private_ipc(pid):
    """True if process ``pid`` has an IPC namespace other than the grader's (its SysV objects die with it)."""
    return _own_namespace(pid, "ipc")


def child_private_temp(pid):
    """True if each of /tmp, /var/tmp and /dev/shm that the host has is another file system as process ``pid``
    sees it (its private tmpfs, namespaces.py): then nothing it writes there reaches the host's."""
    try:
        return _own_namespace(pid, "mnt") and all(
            os.stat("/proc/%d/root%s" % (pid, root)).st_dev != os.stat(root).st_dev
            for root in namespaces.PRIVATE_ROOTS if os.path.isdir(root))
    except OSError:
        return False


CAP_SYS_ADMIN = 21


def may_make_namespaces():
    """Whether this process holds CAP_SYS_ADMIN, which unshare and mount need: the grader's guess before a
    child exists (it reserves the child's uid first), checked on every child (``child_private_temp``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            caps = next((line.split()[1] for line in f if line.startswith("CapEff:")), "0")
        return bool(int(caps, 16) >> CAP_SYS_ADMIN & 1)
    except (OSError, ValueError):
        return False


NO_NAMESPACES = ("could not give student code a private IPC namespace and private /tmp, /var/tmp and /dev/shm "
                 "(unshare and mount need CAP_SYS_ADMIN): System V shared memory it creates outlives the "
                 "grading, and what it leaves in those folders is found by walking them after every grading, "
                 "which costs more the more else lies there (docs/scale.md)")
