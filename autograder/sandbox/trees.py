"""Remove a folder a student's code may have filled, safely: without recursion and without following links.

Student code controls what it leaves in its home and temp folders: a tree thousands of levels deep
(past both Python's recursion limit and PATH_MAX, where ``shutil.rmtree`` fails), links to the
grader's or another student's files, FIFOs. ``remove_tree`` walks it through directory
descriptors, one open at a time, unlinks every entry that is not a folder (a link is removed, never
followed) and removes each folder on the way back up. It runs only once every process that could
move folders around (the student's) is dead, which is what makes going up through ".." safe.
"""

import os
import stat


def remove_tree(path, max_steps=10**6):
    """``shutil.rmtree`` without recursion (a student's folder may be thousands of levels deep, past both
    Python's recursion limit and PATH_MAX), through directory descriptors, never following a link.

    One descriptor is open at a time; going up uses "..", which is safe because every process that could
    move folders around (the student's) is dead by now. What cannot be removed is left, not retried."""
    fd, name = _open_tree(path)
    if fd is None:
        return
    names, stuck = [name], set()
    for _ in range(max_steps):
        sub = _remove_files(fd, stuck)
        if sub is not None:
            try:
                nxt = os.open(sub, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError:
                st = os.stat(sub, dir_fd=fd, follow_symlinks=False)
                stuck.add((st.st_dev, st.st_ino))
                continue
            os.close(fd)
            fd = nxt
            names.append(sub)
            continue
        here = os.fstat(fd)
        up = os.open("..", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = up
        try:
            os.rmdir(names.pop(), dir_fd=fd)
        except OSError:
            stuck.add((here.st_dev, here.st_ino))
        if not names:
            break
    os.close(fd)


def _open_tree(path):
    """(a descriptor of the folder at ``path``, its name); (None, None) when nothing is there, or when what
    is there is not a folder (it is then removed), never following a link."""
    parent = os.open(os.path.dirname(os.path.abspath(path)) or "/", os.O_RDONLY | os.O_DIRECTORY)
    name = os.path.basename(os.path.abspath(path))
    try:
        if not stat.S_ISDIR(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode):
            os.unlink(name, dir_fd=parent)
            return None, None
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent), name
    except FileNotFoundError:
        return None, None
    finally:
        os.close(parent)


def _remove_files(fd, stuck):
    """Unlink every entry of the folder ``fd`` that is not a folder, up to its first sub-folder that is not
    ``stuck``; that sub-folder's name (to go down into), or None when there is none."""
    with os.scandir(fd) as entries:
        for entry in entries:
            try:
                est = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(est.st_mode):
                if (est.st_dev, est.st_ino) not in stuck:
                    return entry.name
            else:
                try:
                    os.unlink(entry.name, dir_fd=fd)
                except OSError:
                    pass
    return None


# -- claims ----------------------------------------------------------------------------------------
