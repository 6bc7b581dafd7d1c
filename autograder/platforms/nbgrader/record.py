"""``RecordSubmission``: the first autograde step. Record the file handed in, and start grading it.

Design
------
nbgrader's ``submitted/<student>/<assignment>/<notebook>.ipynb`` is an ordinary file; anything
that runs as the instructor later (a kernel, a process it left behind) can overwrite it, and
the gradebook with it, so that the two agree again and an audit of the two finds nothing
(issue 12). So before any other step runs, this one

1. reads the submitted file's bytes once and writes them, with their SHA-256, to the **ledger**:
   ``<course>/autograde_ledger/<assignment>/<student>/<notebook>.ipynb`` and ``.json``
   (``ledger_directory`` to move it). Folders are mode 0700, files 0400, owned by the user
   running nbgrader. With the default configuration no student code runs during autograde at
   all; in execution mode (root only) the kernel runs as a private uid that cannot enter the
   course folder. Either way no student code can write the ledger;
2. starts the isolated grader (``isolated.py``) on the ledger's copy, so the score belongs to
   exactly the recorded bytes; ``GradeInIsolation`` collects it and adds the score to the record.

nbgrader autogrades one student after another. So that grading overlaps nbgrader's own work,
this step also starts grading the next ``look_ahead`` submissions nbgrader will process (the
converter's sorted list, less those already autograded) on private copies. When nbgrader reaches
one, its file is read again: if the bytes hash the same, that grading is adopted and the bytes
are recorded; if not, it is thrown away and the file is graded afresh. Nothing is written to the
ledger for a submission before nbgrader reaches it.

Autograding again (``--force``, or after a resubmission) never erases evidence: a record of
other bytes moves to ``history/`` before the new one is written.

``python -m autograder audit`` (``audit.py``) compares the submitted file with the recorded hash,
regrades the recorded copy and compares that with the gradebook and with the recorded score.

A submission without a submitted file (nbgrader was pointed elsewhere) is graded from the
notebook being processed, and the record says so.

The submitted file is read as ``ReadSubmission`` reads it (``reading.py``): below the course's
submitted/ folder with no link followed, a regular file only (issue 21: a submitted notebook that
was a link to the solution scored 100). A file refused that way is not graded: the record keeps
the reason, and every rubric item gets 0 points with that reason as its message (``Refused``).
nbgrader itself copies the student's other files into autograded/ (and generate_feedback into
the feedback) with ``shutil.copy``, which follows links: a link there would put any file the
instructor can read into the student's feedback. ``drop_linked_copies`` removes those copies
before any other step runs, and says so in the notes.
"""

import atexit
import datetime
import hashlib
import json
import os
import tempfile

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer, Unicode

from ... import rubric
from ...grading import report
from ...grading.engine import Result, Verdict
from ...sandbox.submission import MAX_NOTEBOOK_BYTES
from .isolated import IsolatedGrading
from .reading import SubmissionRefused, coursedir_of, location, read_below

LEDGER = "autograde_ledger"
FOLDER_MODE, FILE_MODE = 0o700, 0o400
running = {}     # (student, assignment, notebook) -> {"job": IsolatedGrading, "record": dict, "notes": []}
ahead = {}       # submitted path -> (sha256, IsolatedGrading on a private copy it owns): graded early


@atexit.register
def _cancel_all():
    while running:
        job = running.popitem()[1].get("job")
        if job is not None:
            job.cancel()
    while ahead:
        ahead.popitem()[1][1].cancel()


def key_of(resources):
    info = (resources or {}).get("nbgrader") or {}
    return tuple(info.get(k) for k in ("student", "assignment", "notebook"))


def submitted_file(step, resources):
    """submitted/<student>/<assignment>/<notebook>.ipynb of the submission being autograded (a link
    too: it is refused when read), or None."""
    student, assignment, name = key_of(resources)
    coursedir = coursedir_of(step)
    if coursedir is None or None in (student, assignment, name):
        return None
    folder = coursedir.format_path(coursedir.submitted_directory, student, assignment)
    path = os.path.join(folder, name + ".ipynb")
    return path if os.path.lexists(path) else None


def read_submitted(step, path):
    """The bytes of a submitted file, read with no link followed below submitted/; raises SubmissionRefused."""
    return read_below(*location(coursedir_of(step), path), MAX_NOTEBOOK_BYTES)


class Refused:
    """Stands for the isolated grader when the submitted file was refused: every item 0, with the reason."""

    def __init__(self, reason):
        self.reason = reason

    def wait(self, seconds):
        why = "not graded: %s" % self.reason
        return report.results_json(Result("(refused)", [Verdict(i.id, 0, i.points, i.title, why, section="")
                                                         for i in rubric.ITEMS]))

    def cancel(self):
        pass


def drop_linked_copies(coursedir, student, assignment):
    """Remove from autograded/ the copies nbgrader made of links in the student's folder; [notes]."""
    src = coursedir.format_path(coursedir.submitted_directory, student, assignment)
    dest = coursedir.format_path(coursedir.autograded_directory, student, assignment)
    whole = os.path.islink(os.path.dirname(src)) or os.path.islink(src)     # the folder itself is a link
    linked = []
    for root, _, files in os.walk(src):
        for name in files:
            path = os.path.join(root, name)
            if not name.endswith(".ipynb") and (whole or os.path.islink(path)):
                linked.append(os.path.relpath(path, src))
    for rel in linked:
        copy = os.path.join(dest, rel)
        if os.path.lexists(copy) and not os.path.isdir(copy):
            os.remove(copy)
    if not linked:
        return []
    return ["%s %s a link (or inside a linked folder) and %s not copied: hand in files, not links."
            % (", ".join(sorted(linked)[:5]) + (" and others" if len(linked) > 5 else ""),
               "is" if len(linked) == 1 else "are", "was" if len(linked) == 1 else "were")]


# --- the ledger ------------------------------------------------------------------------------------

def ledger_paths(ledger, student, assignment, notebook):
    """(recorded copy, record JSON) of one submitted notebook."""
    folder = os.path.join(ledger, assignment, student)
    return os.path.join(folder, notebook + ".ipynb"), os.path.join(folder, notebook + ".json")


def _write_private(path, data):
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=FOLDER_MODE, exist_ok=True)
    for part in (folder, os.path.dirname(folder), os.path.dirname(os.path.dirname(folder))):
        os.chmod(part, FOLDER_MODE)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".ledger-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def record_submission(ledger, key, data, source):
    """Write the copy and the record of ``data`` (the submitted bytes); returns (copy path, record).

    A record of different bytes (a resubmission, or a file swapped since the last autograde) is
    never overwritten: it moves to ``history/`` next to it, named by the time it was recorded."""
    copy, meta = ledger_paths(ledger, *key)
    old, _ = read_record(ledger, key)
    if old is not None and old.get("sha256") != sha256(data):
        history = os.path.join(os.path.dirname(meta), "history")
        os.makedirs(history, mode=FOLDER_MODE, exist_ok=True)
        stamp = str(old.get("recorded_at", "unknown")).replace(":", "")
        for path in (copy, meta):
            base, ext = os.path.splitext(os.path.basename(path))
            os.replace(path, os.path.join(history, "%s.%s%s" % (base, stamp, ext)))
    _write_private(copy, data)
    record = {"student": key[0], "assignment": key[1], "notebook": key[2], "sha256": sha256(data),
              "bytes": len(data), "source": source, "copy": os.path.basename(copy),
              "recorded_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    _write_private(meta, json.dumps(record, indent=1, sort_keys=True).encode("utf-8"))
    return copy, record


def record_score(ledger, key, record, results):
    """Add the isolated grader's score and points per rubric id to the record."""
    record = dict(record, score=results.get("score"),
                  points={t["tags"][0]: t["score"] for t in results.get("tests", []) if t.get("tags")})
    _write_private(ledger_paths(ledger, *key)[1], json.dumps(record, indent=1, sort_keys=True).encode("utf-8"))
    return record


def read_record(ledger, key):
    """(record dict, recorded bytes) or (None, None) when this notebook was never recorded."""
    copy, meta = ledger_paths(ledger, *key)
    try:
        with open(meta, encoding="utf-8") as f:
            record = json.load(f)
        with open(copy, "rb") as f:
            return record, f.read()
    except (OSError, ValueError):
        return None, None


# --- the step ----------------------------------------------------------------------------------------

class RecordSubmission(NbGraderPreprocessor):
    """Copy and hash the submitted notebook into the ledger, then start grading the copy."""

    look_ahead = Integer(
        os.cpu_count() or 1, help="Submissions graded ahead of nbgrader, so that grading overlaps its "
                                  "work (0: none).").tag(config=True)
    ledger_directory = Unicode(
        LEDGER, help="Where the submitted files' copies, hashes and scores are recorded; relative to the "
                     "course root. Must not be writable by anyone but the user running nbgrader.").tag(config=True)

    def ledger(self):
        coursedir = coursedir_of(self)
        if coursedir is None:     # outside a course (a test calling the step directly): a scratch ledger
            if not getattr(self, "_scratch", None):
                self._scratch = tempfile.mkdtemp(prefix="autograder-ledger-")
            return self._scratch
        return os.path.join(coursedir.root, self.ledger_directory)

    def preprocess(self, nb, resources):
        key = key_of(resources)
        stale = running.pop(key, None)
        if stale and stale.get("job"):
            stale["job"].cancel()
        path = submitted_file(self, resources)
        refused = None
        if path is not None:
            try:
                data, source = read_submitted(self, path), "submitted"
            except SubmissionRefused as exc:
                refused = str(exc)
                data, source = b"", "refused: %s" % exc
                self.log.warning("RecordSubmission: %s is not graded: %s", path, exc)
        else:
            self.log.warning("RecordSubmission: no submitted file for %s; recording the notebook nbgrader "
                             "is processing", "/".join(map(str, key)))
            data, source = nbformat.writes(nb).encode("utf-8"), "processed"
        if None in key:      # outside a course: name the record anyway
            key = tuple("unknown" if k is None else str(k) for k in key)
        copy, record = record_submission(self.ledger(), key, data, source)
        job = Refused(refused) if refused else self._adopt(path, record["sha256"]) or IsolatedGrading(copy)
        read = (resources or {}).get("autograder") or {}
        notes = list(read.get("notes", []))
        if path is not None:
            notes += drop_linked_copies(coursedir_of(self), *key_of(resources)[:2])
        if read.get("unreadable") and not refused:
            notes.insert(0, "Your notebook could not be read as a notebook: %s." % read["unreadable"].rstrip("."))
        running[key_of(resources)] = {"job": job, "record": record, "notes": notes,
                                      "ledger": self.ledger(), "ledger_key": key,
                                      "scratch_ledger": getattr(self, "_scratch", None)}
        if path is not None:
            self._grade_ahead(path)
        return nb, resources

    def _adopt(self, path, digest):
        """The early grading of ``path`` if it graded these very bytes, else None."""
        early = ahead.pop(path, None) if path is not None else None
        if early is None:
            return None
        if early[0] == digest:
            return early[1]
        early[1].cancel()
        return None

    def _grade_ahead(self, path):
        converter = self.parent
        while converter is not None and not hasattr(converter, "assignments"):
            converter = getattr(converter, "parent", None)
        if converter is None or self.look_ahead <= 0:
            return
        folder, name = os.path.split(path)
        later = [f for f in sorted(converter.assignments) if f > folder]
        for later_folder in later[:self.look_ahead]:
            nxt = os.path.join(later_folder, name)
            if nxt in ahead or self._skipped(converter, later_folder):
                continue
            try:
                data = read_submitted(self, nxt)
            except OSError:       # missing, a link, not a regular file: nbgrader's turn will say so
                continue
            private = tempfile.mkdtemp(prefix="autograder-ahead-")
            copy = os.path.join(private, name)
            with open(copy, "wb") as f:
                f.write(data)
            ahead[nxt] = (sha256(data), IsolatedGrading(copy, owned=private))

    @staticmethod
    def _skipped(converter, folder):
        """True when nbgrader will skip this submission (already autograded, no --force)."""
        if getattr(converter, "force", False):
            return False
        student = os.path.basename(os.path.dirname(folder))
        assignment = os.path.basename(folder)
        try:
            return os.path.exists(converter._format_dest(assignment, student))
        except Exception:      # another nbgrader's converter: grade ahead anyway
            return False
