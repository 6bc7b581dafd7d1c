"""What a class folder holds: its students, and the code files of each, read as the grader reads them.

Design
------
* A class folder is student input. It was unpacked, synced or pushed by others, often as root, so
  it is read only through the file-safety layer (sandbox/safefs.py), the same one ``grade`` uses:
  no link is followed anywhere (the class folder's own path included), only regular files are read,
  each at most ``submission.MAX_BYTES``, and a student's folder is walked without recursion and with
  the grader's own caps on depth and entries. Names stay as the file system gives them (a Latin-1
  name from a Windows zip included) and are shown through ``safefs.shown``.
* Layouts. SUBMISSIONS_DIR holds one submission per student, either as nbgrader lays them out
  (``submitted/<student>/<assignment>/...``: every folder is a student, graded as a folder) or as
  one file per student (``alice.py``, ``bob.ipynb``: the student id is the file stem).
  ``--assignment`` picks ``<student>/<assignment>/`` inside each student folder.
* One student never stops the class. ``discover`` returns one entry per student: a path to grade,
  or a problem. A problem with no path is a ``missing`` submission (no folder, no code, two
  submissions); a problem with a path is an ``error`` (a link, a FIFO or a device where code should
  be, a folder that cannot be read), with the reason. Only a class folder that cannot be listed at
  all stops the run, before anything is graded.
* One reader for the key and for Dask. ``read_code`` returns the bytes of the code files the grader
  may read, and what it skipped and why. grade-all's resume key (``submission_digest``) hashes
  exactly that, and the Dask executor ships exactly that (batch_dask.py), so a remote worker grades
  what the local pool would read, never a link's target.
"""

import hashlib
import os
import stat

from ..errors import UsageError
from ..sandbox import safefs, submission

CODE_EXTENSIONS = (".py", ".ipynb")
SKIP_DIRS = ("__pycache__", ".ipynb_checkpoints")     # never a student, at the top of a class folder
# All code files of one submission, read into memory for the resume key and for a Dask task. A
# student's code is kilobytes; the cap keeps one hostile folder (20,000 files of 5 MB) from filling
# the instructor's memory. What lies past it is skipped with a note, as the grader skips large files.
MAX_TOTAL_BYTES = 8 * submission.MAX_BYTES


class BatchError(UsageError):
    """The batch cannot start; the message names the cause and the fix."""


def is_code(name):
    """A file name the grader may read as code."""
    return name.endswith(CODE_EXTENSIONS) and not name.startswith(".")


def code_walk(folder):
    """([(relative path, stat)] of the code files under FOLDER, [(relative path, why skipped)]): the grader's
    own walk (``submission``'s caps and skipped folders); nothing is opened but folders."""
    return safefs.walk(folder, submission.MAX_DEPTH, submission.MAX_ENTRIES, keep=is_code,
                       skip_dirs=submission.SKIP_DIRS)


def read_code(path):
    """({relative path: bytes}, [(relative path, why skipped)]) of the submission at PATH.

    A file gives {"": its bytes}. Raises ``safefs.Refused`` (a link, not a regular file, too large) or
    ``OSError`` when PATH itself cannot be read; anything below it that cannot be read is skipped."""
    st = safefs.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise safefs.Refused(path, safefs.LINK)
    if not stat.S_ISDIR(st.st_mode):
        return {"": safefs.read_regular(path, submission.MAX_BYTES)}, []
    found, skipped = code_walk(path)
    files, total = {}, 0
    for rel, info in found:
        if total + info.st_size > MAX_TOTAL_BYTES:
            skipped.append((rel, "past the %d MB the grader reads of one submission" % (MAX_TOTAL_BYTES >> 20)))
            continue
        try:
            files[rel] = safefs.read_regular(os.path.join(path, rel), submission.MAX_BYTES)
        except OSError as exc:        # too large, or swapped for a link or a FIFO since the walk
            skipped.append((rel, exc.reason if isinstance(exc, safefs.Refused) else exc.strerror or str(exc)))
            continue
        total += len(files[rel])
    return files, skipped


def submission_digest(path):
    """SHA-256 over what the grader may read of PATH: names and contents of its code files, and what was
    skipped (for a single file: its kind and content, not the student's file name)."""
    files, skipped = read_code(path)
    h = hashlib.sha256()
    for rel, data in sorted(files.items()):
        h.update(os.fsencode(rel or os.path.splitext(path)[1]) + b"\0")
        h.update(hashlib.sha256(data).digest())
    for rel, why in skipped:
        h.update(b"skipped\0" + os.fsencode(rel) + b"\0" + why.encode("utf-8", "backslashreplace"))
    return h.hexdigest()


# -- finding the class ---------------------------------------------------------------------------
def _listing(root):
    """The entries of the class folder; BatchError when it cannot be listed."""
    try:
        return safefs.listdir(root)
    except safefs.Refused as exc:
        raise BatchError("%s; pass the class folder itself" % exc) from None
    except (FileNotFoundError, NotADirectoryError):
        raise BatchError("%s is not a folder; pass the folder that holds one submission per student "
                         "(nbgrader's submitted/ folder, or one .py/.ipynb file per student)" % root) from None
    except OSError as exc:
        raise BatchError("%s cannot be listed (%s); check its permissions" % (root, exc.strerror or exc)) from None


def _entry(root, name, st, to_dir, assignment):
    """(student, path, problem, is a folder) of one entry of the class folder, or None when it is no submission."""
    full = os.path.join(root, name)
    if stat.S_ISDIR(st.st_mode):
        return name, os.path.join(full, assignment) if assignment else full, "", True
    student = os.path.splitext(name)[0] if name.endswith(CODE_EXTENSIONS) else name
    if stat.S_ISLNK(st.st_mode) and (to_dir or is_code(name)):
        return student, full, str(safefs.Refused(full, safefs.LINK)), False
    if not is_code(name):
        return None
    if not stat.S_ISREG(st.st_mode):
        return student, full, "%s is not a regular file (a FIFO, a device or a socket); submit the file " \
            "itself" % safefs.shown(name), False
    return student, full, "", False


def _unreadable(root, path, exc):
    return str(exc) if isinstance(exc, safefs.Refused) else "%s cannot be read (%s)" % (
        safefs.shown(os.path.relpath(path, root)), exc.strerror or exc)


def _check_folder(root, student, path, assignment):
    """(student, path, problem) of a student folder: the assignment folder exists and holds code."""
    try:
        st = safefs.lstat(path)
    except FileNotFoundError:
        return student, None, "no folder %s for this student" % safefs.shown(assignment)
    except OSError as exc:
        return student, path, _unreadable(root, path, exc)
    if stat.S_ISLNK(st.st_mode):
        return student, path, str(safefs.Refused(path, safefs.LINK))
    if not stat.S_ISDIR(st.st_mode):
        return student, path, ""           # --assignment named a file: graded as a file
    try:
        files, skipped = code_walk(path)          # a listing only: the contents are read once, for the key
    except OSError as exc:
        return student, path, _unreadable(root, path, exc)
    where = safefs.shown(os.path.relpath(path, root))
    if files:
        return student, path, ""
    if skipped:
        return student, path, "the folder %s holds no .py or .ipynb file the grader may read: %s" % (
            where, "; ".join("%s (%s)" % (safefs.shown(rel), why) if rel else why for rel, why in skipped[:5]))
    return student, None, "the folder %s holds no .py or .ipynb file" % where


def discover(root, assignment=None):
    """[(student, path or None, problem)] for every student under ROOT, sorted by student id.

    No problem: grade PATH. A problem and no path: the submission is missing. A problem and a path: the
    submission cannot be read (an ``error`` row that says why)."""
    found = {}
    for name, st, to_dir in _listing(root):
        if name.startswith(".") or name in SKIP_DIRS:
            continue
        entry = _entry(root, name, st, to_dir, assignment)
        if entry:
            found.setdefault(entry[0], []).append(entry)
    students = []
    for student, entries in sorted(found.items()):
        _, path, problem, folder = entries[0]
        if len(entries) > 1:
            students.append((student, None, "two submissions for one student (%s); keep one"
                             % ", ".join(safefs.shown(os.path.basename(e[1])) for e in entries)))
        elif folder and not problem:
            students.append(_check_folder(root, student, path, assignment))
        else:
            students.append((student, path, problem))
    if not students:
        raise BatchError("%s holds no .py or .ipynb file and no student folder" % root)
    return students
