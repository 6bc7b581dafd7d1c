"""Private namespaces for student code: no network, its own IPC, its own /tmp, /var/tmp and /dev/shm.

Design
------
As root, the process that becomes a submission's child (``runner._limit_child`` for a child
started on its own, the warm pool's template for its forks) leaves three of the grader's
namespaces with one ``unshare``:

* **Network** (CLONE_NEWNET): an empty namespace, no interface but a down loopback.
* **IPC** (CLONE_NEWIPC): System V shared memory, semaphores and message queues, and POSIX
  message queues, exist per IPC namespace. What student code creates there dies with the
  namespace, that is with the last process in it, and never appears in the host's
  /proc/sysvipc.
* **Mounts** (CLONE_NEWNS): every mount is made private (nothing propagates back to the host),
  then a fresh tmpfs, size-capped (``TMPFS_BYTES``, ``TMPFS_INODES``), is mounted on each of
  ``PRIVATE_ROOTS``. What student code writes there lands in memory charged to its memory
  cgroup and is gone when the namespace ends (or, in the warm pool, when the template renews
  them: ``renew``). The host's own temp folders are out of reach, so the private uid's
  reservation and clean-up need not walk them (uids.py).

The child must still reach what it needs: its home folder is made inside the private /tmp at
the path the grader gave it, owned by the private uid (``make_home``); folders it must read that
lie under a private root (the interpreter and the grader's import path, when a virtualenv or a
checkout sits in /tmp) are bind-mounted back at the same path (``needed_binds``). The
submission's code travels in the load request, so the grader's code folder need not be visible.

Every step can fail without CAP_SYS_ADMIN (a container that drops it, a grader that is not root).
Nothing here raises: each function says whether it worked, and the grader checks the child
itself (``confine.child_namespaces``) and falls back to today's walk of the temp folders.

This module imports only the standard library: the warm pool's template, which imports nothing of
the grader's, loads it by its path.
"""

import ctypes
import os

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWNET = 0x40000000
ALL = CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWNS
PRIVATE_ROOTS = ("/tmp", "/var/tmp", "/dev/shm")   # the world-writable places every Linux program may use
# A cap per mount: four times the largest file a child may write (runner.FILE_BYTES, 64 MiB). tmpfs pages
# are charged to the writer's memory cgroup, so for the grader's children the three together also stay
# under its memory bound; nbgrader's execution-mode kernel has no cgroup of its own, so there these caps
# are the only bound (3 x TMPFS_BYTES, charged to nbgrader's cgroup).
TMPFS_BYTES = 256 * 2**20
TMPFS_INODES = 65536          # far more than any honest submission makes (none); a hostile one made 2,004
TMPFS_OPTIONS = "size=%d,nr_inodes=%d,mode=1777" % (TMPFS_BYTES, TMPFS_INODES)
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x1000, 0x4000, 0x40000
MNT_DETACH = 0x2
PASS_MODE = 0o711             # folders made on the way to a home or a bind: root's, passable, not listable

_LIBC = []


def libc():
    """The C library, loaded once (the grader loads it before it forks: no dlopen between fork and exec)."""
    if not _LIBC:
        _LIBC.append(ctypes.CDLL(None, use_errno=True))
    return _LIBC[0]


def _ok(result):
    return result == 0


def unshare(flags=ALL):
    """Leave the namespaces in ``flags``; the flags that worked (all at once, else one by one)."""
    try:
        c = libc()
    except OSError:
        return 0
    if _ok(c.unshare(flags)):
        return flags
    done = 0
    for flag in (CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWNS):
        if flags & flag and _ok(c.unshare(flag)):
            done |= flag
    return done


def _mount(source, target, fstype, flags, options):
    enc = (lambda s: None if s is None else os.fsencode(s))
    return _ok(libc().mount(enc(source), enc(target), enc(fstype), flags, enc(options)))


def under_private_root(path):
    """The real path of ``path`` if it lies under one of PRIVATE_ROOTS (or is one), else None."""
    real = os.path.realpath(path)
    for root in PRIVATE_ROOTS:
        if real == root or real.startswith(root.rstrip("/") + "/"):
            return real
    return None


def needed_binds(paths):
    """The folders among ``paths`` that a private temp would hide, outermost only, as real paths."""
    found = sorted({p for p in (under_private_root(x) for x in paths if x) if p and os.path.isdir(p)})
    kept = []
    for path in found:
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


def open_binds(paths):
    """O_PATH descriptors of ``paths`` (opened before the temp folders are covered); [(path, fd)]."""
    out = []
    for path in paths:
        try:
            out.append((path, os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)))
        except OSError:
            pass
    return out


def _makedirs(path):
    """Make the folders leading to ``path`` (root's, PASS_MODE) inside a private temp."""
    parent = os.path.dirname(path)
    if parent and not os.path.isdir(parent):
        _makedirs(parent)
    if not os.path.isdir(path):
        os.mkdir(path, PASS_MODE)


def mount_temp(binds=()):
    """In a process that has its own mount namespace: make every mount private, cover PRIVATE_ROOTS with
    fresh tmpfs mounts and bind ``binds`` ([(path, fd)] from ``open_binds``) back at their paths.
    True if all of it worked; otherwise whatever was mounted is taken off again, and the process sees
    the host's temp folders (the grader then walks them, as without namespaces)."""
    try:
        if not _mount(None, "/", None, MS_REC | MS_PRIVATE, None):
            return False
        covered = []
        for root in PRIVATE_ROOTS:
            if not os.path.isdir(root):
                continue                          # nothing of the host's there to protect
            if not _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, TMPFS_OPTIONS):
                return _uncover(covered)
            covered.append(root)
        for path, fd in binds:
            _makedirs(path)
            if not _mount("/proc/self/fd/%d" % fd, path, None, MS_BIND | MS_REC, None):
                return _uncover(covered)
        return True
    except (OSError, AttributeError):
        return False


def _uncover(roots):
    for root in reversed(roots):
        libc().umount2(os.fsencode(root), MNT_DETACH)
    return False


def renew_temp(binds=()):
    """Take the current private temp mounts off (lazily: nothing can be using them, the last child is dead)
    and mount fresh ones: the warm pool's template, between two children. True if it worked."""
    try:
        for root in PRIVATE_ROOTS:
            if os.path.isdir(root) and not _ok(libc().umount2(os.fsencode(root), MNT_DETACH)):
                return False
        return mount_temp(binds)
    except (OSError, AttributeError):
        return False


def make_home(path, uid):
    """The child's home folder at ``path``, inside the private /tmp when it lies there, owned by ``uid``."""
    if under_private_root(os.path.dirname(path)) is None:
        return                                     # the host's folder the grader made is the home
    _makedirs(os.path.dirname(path))
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    if uid is not None:
        os.chown(path, uid, uid)


def enter(home=None, uid=None, bind_paths=()):
    """All of it for a child started on its own (between fork and exec, as root): the flags that worked;
    the home is made and entered only when the temp folders are private (else the grader's is used)."""
    flags = unshare(ALL)
    binds = open_binds(bind_paths) if flags & CLONE_NEWNS else []
    private = bool(flags & CLONE_NEWNS) and mount_temp(binds)
    for _, fd in binds:
        os.close(fd)
    if private and home is not None:
        make_home(home, uid)
        os.chdir(home)
    return flags if private else flags & ~CLONE_NEWNS
