"""Writing the grader's own files (results.json, reports) without following links a student planted.

Design
------
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
