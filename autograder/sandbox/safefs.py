"""The one file-safety layer: what the grader reads of a submission, and writes of its own, as root.

Reading (``read_regular``, ``walk``, ``shown``)
-----------------------------------------------
A submission path, a class folder and everything under them are student input, made by whoever
zipped, pushed or unpacked them, often as root. So no link is followed anywhere on a path read here,
the given path itself and every folder above it included (each component is opened with
``O_NOFOLLOW`` from the one before it, so no later swap can redirect the walk); only regular files
are read (never a FIFO, a device or a socket, which are opened with ``O_NONBLOCK`` and refused);
every read has a size cap; folders are walked iteratively, with caps on depth and entries. Names are
kept as the file system gives them (undecodable bytes as surrogates, so nothing is lost) and turned
into printable text only by ``shown``. Every refusal is a ``Refused`` error whose text says what was
found and what to do, so a caller can note it in that student's report and go on.

Writing (``open_folder``, ``write_bytes``)
-------------------------------------------
A results path such as ``/tmp/out/results.json`` passes through folders that student code of an
earlier grading could have written to (as the private uid, in /tmp), so a plain ``open`` could
follow a planted link and let the grader, as root, overwrite any file. Here the path is walked
one component at a time from ``/`` with directory file descriptors (``openat`` with
``O_NOFOLLOW``), which no later swap of a component can redirect:

* a symbolic link is followed only if root or the grader's own user owns it (what the
  kernel's ``protected_symlinks`` does in sticky folders); a link of anyone else is refused;
* a folder owned by a uid of the reserved student range (``uids.uid_range``) is refused;
* missing folders are created (0755); the file is written under a fresh name created with
  ``O_EXCL | O_NOFOLLOW`` in the final folder, made readable (0644, so that a CI step running as
  another user can upload it), then renamed over the target: a reader never sees half a file,
  and a link at the target is replaced, never written through.
"""

import errno
import os
import secrets
import stat

from . import uids

MAX_LINKS = 40     # the kernel's own limit on links in one path
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


LINK = ("is a link, and the grader follows no link (a link could point at another student's files or the "
        "solution); submit the real file or folder")


class Refused(OSError):
    """A path the grader will not read: a link, not a regular file, too large, too deep. ``str`` is the reason."""

    def __init__(self, path, reason):
        super().__init__(errno.EPERM, reason, path)
        self.path, self.reason = path, reason

    def __str__(self):
        return "%s: %s" % (shown(os.path.basename(self.path) or self.path), self.reason)


def shown(name):
    """A file name as printable text: undecodable bytes as \\xNN, control characters escaped."""
    raw = os.fsencode(name)
    text = raw.decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _open_nofollow(path, final_flags):
    """Open ``path`` with no link followed on any component, from ``/``; returns a file descriptor."""
    parts = [c for c in os.path.abspath(path).split(os.sep) if c]
    fd, where = os.open("/", _DIR_FLAGS), "/"
    try:
        for i, name in enumerate(parts):
            where = os.path.join(where, name)
            last = i == len(parts) - 1
            try:
                nxt = os.open(name, final_flags if last else _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(name, fd):
                    raise Refused(where, LINK) from None
                raise
            os.close(fd)
            fd = nxt
        return fd
    except BaseException:
        os.close(fd)
        raise


def _is_link(name, dir_fd):
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def read_regular(path, limit):
    """The bytes of the regular file ``path``, at most ``limit`` of them; raises ``Refused`` (a link on the
    path, not a regular file, too large) or ``OSError`` (missing, unreadable)."""
    fd = _open_nofollow(path, _FILE_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Refused(path, "is not a regular file (a FIFO, a device or a socket); submit the file itself")
        parts, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                return b"".join(parts)
            parts.append(chunk)
            size += len(chunk)
        raise Refused(path, "is larger than %d MB" % (limit >> 20) if limit >= 1 << 20
                      else "is larger than %d bytes" % limit)
    finally:
        os.close(fd)


def lstat(path):
    """``os.lstat`` of ``path`` reached with no link followed above it; raises ``Refused`` for a link above."""
    folder, name = os.path.split(os.path.abspath(path))
    if not name:
        return os.lstat(path)
    fd = _open_nofollow(folder, _DIR_FLAGS)
    try:
        return os.stat(name, dir_fd=fd, follow_symlinks=False)
    finally:
        os.close(fd)


def _points_to_dir(entry):
    try:
        return entry.is_dir(follow_symlinks=True)     # a stat through the link; nothing is opened
    except OSError:
        return False


def walk(folder, max_depth, max_entries, keep=lambda name: True, skip_dirs=()):
    """(files, skipped) under ``folder``, which is reached with no link followed.

    ``files``: [(relative path, os.stat_result)] of the regular files whose name ``keep`` accepts, sorted;
    ``skipped``: [(relative path, reason)] for links, other special files that ``keep`` accepts, folders
    past ``max_depth`` and entries past ``max_entries``. Iterative (no recursion limit), hidden entries and
    ``skip_dirs`` left out. Raises ``Refused``/``OSError`` only for ``folder`` itself."""
    top = _open_nofollow(folder, _DIR_FLAGS)
    os.close(top)
    files, skipped, seen, stack = [], [], 0, [("", 0)]
    while stack:
        rel, depth = stack.pop()
        try:
            fd = _open_nofollow(os.path.join(folder, rel) if rel else folder, _DIR_FLAGS)
        except OSError as exc:
            skipped.append((rel, "cannot be read (%s)" % (exc.strerror or exc)))
            continue
        try:
            with os.scandir(fd) as it:
                entries = sorted(((e.name, e.stat(follow_symlinks=False), e.is_symlink() and _points_to_dir(e))
                                  for e in it), reverse=True)
        except OSError as exc:
            skipped.append((rel, "cannot be listed (%s)" % (exc.strerror or exc)))
            continue
        finally:
            os.close(fd)
        for name, st, link_to_dir in entries:
            seen += 1
            if seen > max_entries:
                skipped.append((rel, "stopped looking after %d files and folders" % max_entries))
                return sorted(files), skipped
            if name.startswith("."):
                continue
            child = os.path.join(rel, name)
            if stat.S_ISDIR(st.st_mode):
                if name in skip_dirs:
                    continue
                if depth + 1 > max_depth:
                    skipped.append((child, "more than %d folders deep" % max_depth))
                else:
                    stack.append((child, depth + 1))
            elif stat.S_ISLNK(st.st_mode):
                if link_to_dir or keep(name):
                    skipped.append((child, "a link: the grader reads no link"))
            elif not keep(name):
                continue
            elif not stat.S_ISREG(st.st_mode):
                skipped.append((child, "not a regular file"))
            else:
                files.append((child, st))
    return sorted(files), skipped


def _refuse(path, why):
    raise OSError(errno.EPERM, "refusing to write through %s: %s" % (path, why), path)


def _trusted_owner(uid):
    return uid in (0, os.geteuid())


def open_folder(folder, create=True):
    """A file descriptor of ``folder``, reached without following untrusted links; creates it if asked."""
    pending = [c for c in os.path.abspath(folder).split(os.sep) if c]
    first, last = uids.uid_range()
    fd, where, links = os.open("/", os.O_RDONLY | os.O_DIRECTORY), "/", 0
    try:
        while pending:
            name = pending.pop(0)
            if name == "..":
                where = os.path.dirname(where)
                nxt = os.open("..", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
                os.close(fd)
                fd = nxt
                continue
            full = os.path.join(where, name)
            try:
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(name, 0o755, dir_fd=fd)
                except FileExistsError:
                    pass
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                if not _trusted_owner(st.st_uid):
                    _refuse(full, "it is a link owned by uid %d, not by root or the grader" % st.st_uid)
                links += 1
                if links > MAX_LINKS:
                    raise OSError(errno.ELOOP, "too many links", full)
                target = os.readlink(name, dir_fd=fd)
                parts = [c for c in target.split(os.sep) if c and c != "."]
                if target.startswith(os.sep):
                    os.close(fd)
                    fd, where = os.open("/", os.O_RDONLY | os.O_DIRECTORY), "/"
                pending = parts + pending
                continue
            if not stat.S_ISDIR(st.st_mode):
                raise OSError(errno.ENOTDIR, "not a folder", full)
            if first <= st.st_uid <= last:
                _refuse(full, "it belongs to uid %d, a uid student code runs as" % st.st_uid)
            nxt = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd, where = nxt, full
        return fd
    except BaseException:
        os.close(fd)
        raise


def write_bytes(path, data, mode=0o644):
    """Write ``data`` to ``path`` atomically and without following untrusted links (see above)."""
    folder, name = os.path.split(os.path.abspath(path))
    if not name or name in (".", ".."):
        raise OSError(errno.EISDIR, "not a file name", path)
    dfd = open_folder(folder)
    tmp = ".%s.%s.tmp" % (name[:64], secrets.token_hex(6))
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=dfd)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                os.fchmod(f.fileno(), mode)
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)   # replaces a link itself, never its target
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=dfd)
            except OSError:
                pass
            raise
    finally:
        os.close(dfd)
