"""The one file-safety layer: what the grader reads of a submission, and writes of its own, as root.

Reading (``read_regular``, ``lstat``, ``listdir``, ``walk``, ``shown``)
------------------------------------------------------------------------
A submission path, a class folder and everything under them are student input, made by whoever
zipped, pushed or unpacked them, often as root. So no link is followed anywhere on a path read here,
the given path itself and every folder above it included (each component is opened with
``O_NOFOLLOW`` from the one before it, so no later swap can redirect the walk); only regular files
are read (never a FIFO, a device or a socket, which are opened with ``O_NONBLOCK`` and refused);
every read has a size cap; folders are walked iteratively, with caps on depth and entries. Names are
kept as the file system gives them (undecodable bytes as surrogates, so nothing is lost) and turned
into printable text only by ``shown`` (or ``shown_bytes``, for outputs that must be UTF-8). ``listdir``
lists one folder (a class folder's students), ``walk`` a whole submission. Every refusal is a ``Refused`` error whose text says what was
found and what to do, so a caller can note it in that student's report and go on.

Writing (``open_folder``, ``write_bytes``, ``append_bytes``)
-------------------------------------------------------------
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
* ``clear=True`` is for outputs in a folder the student controls (a Classroom 50 checkout, Coursera's
  ``/shared``): a folder planted at the output name is moved aside and removed (fd-based, following
  no link) instead of failing the write; ``append_bytes`` (GitHub's step summary) replaces a link, a
  FIFO or a folder at its target with a fresh file instead of appending through it.
* A killed writer leaves only ``.<name>.<12 hex>.tmp`` files, which ``is_leftover`` recognises.

Every file the grader writes goes through ``write_bytes`` or ``append_bytes``, but grade-all's lock,
which must be created with ``O_EXCL`` (platforms/batch_files.py), and, until the nbgrader work moves it
here, nbgrader's ledger writer.
"""

import errno
import os
import re
import secrets
import shutil
import stat

from . import uids

MAX_LINKS = 40     # the kernel's own limit on links in one path
TEMP_SUFFIX = ".tmp"
_LEFTOVER = re.compile(r"\.(.*)\.[0-9a-f]{12}\.tmp\Z", re.S)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


# Why ``walk`` skipped an entry (its callers show these; batch_dask remakes the entries they name).
SKIPPED_LINK = "a link: the grader reads no link"
SKIPPED_SPECIAL = "not a regular file"
TOO_DEEP = "more than %d folders deep"
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


def shown_bytes(text):
    """``text`` with the undecodable bytes of a file name (surrogates, as ``os.fsdecode`` leaves them)
    written as \\xNN; other text as it is. For outputs that must encode as UTF-8 (a CSV, JSON shown as text)."""
    text = str(text)
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:          # a surrogate no file name decodes to: left to the caller's escaping
        return text


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


def _mode(name, dir_fd):
    """The mode of ``name`` in the open folder ``dir_fd``, not following a link; 0 when it cannot be read."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
    except OSError:
        return 0


def _is_link(name, dir_fd):
    return stat.S_ISLNK(_mode(name, dir_fd))


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


def _scan(fd):
    """[(name, lstat, is a link to a folder)] of the open folder ``fd``, sorted by name; no link is followed."""
    with os.scandir(fd) as it:
        return sorted((e.name, e.stat(follow_symlinks=False), e.is_symlink() and _points_to_dir(e)) for e in it)


def listdir(folder):
    """[(name, os.stat_result of the entry itself, is a link to a folder)] of ``folder``, sorted by name.

    ``folder`` is reached with no link followed (``Refused`` otherwise); nothing in it is followed or opened.
    One level only: a class folder's students, each of whom ``walk`` then reads with its caps."""
    fd = _open_nofollow(folder, _DIR_FLAGS)
    try:
        return _scan(fd)
    finally:
        os.close(fd)


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
            entries = _scan(fd)
        except OSError as exc:
            skipped.append((rel, "cannot be listed (%s)" % (exc.strerror or exc)))
            continue
        finally:
            os.close(fd)
        for name, st, link_to_dir in reversed(entries):
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
                    skipped.append((child, TOO_DEEP % max_depth))
                else:
                    stack.append((child, depth + 1))
            elif stat.S_ISLNK(st.st_mode):
                if link_to_dir or keep(name):
                    skipped.append((child, SKIPPED_LINK))
            elif not keep(name):
                continue
            elif not stat.S_ISREG(st.st_mode):
                skipped.append((child, SKIPPED_SPECIAL))
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


def _temp_name(name):
    return ".%s.%s%s" % (name[:64], secrets.token_hex(6), TEMP_SUFFIX)


def is_leftover(name, target=None):
    """Is ``name`` a temporary file ``write_bytes`` left (a killed writer), of ``target`` if given?"""
    found = _LEFTOVER.match(name)
    return bool(found) and (target is None or found.group(1) == target[:64])


def _is_folder(name, dir_fd):
    return stat.S_ISDIR(_mode(name, dir_fd))


def _remove_aside(dfd, name):
    """Move whatever is at ``name`` in the open folder ``dfd`` aside and remove it: a folder, a link or a FIFO
    planted where an output goes. Nothing in it is followed; a tree too deep to remove stays aside, hidden."""
    try:
        st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(name, dir_fd=dfd)
        return
    aside = _temp_name(name)
    os.rename(name, aside, src_dir_fd=dfd, dst_dir_fd=dfd)
    try:
        shutil.rmtree(aside, dir_fd=dfd)            # fd-based: it follows no link inside the planted folder
    except (OSError, RecursionError):
        pass


def write_bytes(path, data, mode=0o644, clear=False):
    """Write ``data`` to ``path`` atomically and without following untrusted links (see above).

    ``clear``: ``path`` lies in a folder a student controls (a checkout, a shared folder), so a folder planted
    at ``path`` is removed first (a file or a link there is replaced anyway), instead of failing the write."""
    folder, name = os.path.split(os.path.abspath(path))
    if not name or name in (".", ".."):
        raise OSError(errno.EISDIR, "not a file name", path)
    dfd = open_folder(folder)
    tmp = _temp_name(name)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=dfd)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                os.fchmod(f.fileno(), mode)
            if clear and _is_folder(name, dfd):
                _remove_aside(dfd, name)
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)   # replaces a link itself, never its target
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=dfd)
            except OSError:
                pass
            raise
    finally:
        os.close(dfd)


def append_bytes(path, data, mode=0o644):
    """Append ``data`` to the regular file ``path`` (created if missing), reached as ``write_bytes`` reaches it.

    For files another program collects by name (GitHub's step summary and outputs). A link, a FIFO or a folder
    at ``path`` was planted, never the collector's: it is removed and a fresh file started."""
    folder, name = os.path.split(os.path.abspath(path))
    if not name or name in (".", ".."):
        raise OSError(errno.EISDIR, "not a file name", path)
    dfd = open_folder(folder)
    try:
        try:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                _remove_aside(dfd, name)
        except FileNotFoundError:
            pass
        fd = os.open(name, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
                     | getattr(os, "O_CLOEXEC", 0), mode, dir_fd=dfd)
        with os.fdopen(fd, "ab") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise Refused(path, "is not a regular file; remove it and run again")
            f.write(data)
    finally:
        os.close(dfd)
