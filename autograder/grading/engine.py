"""Grade one submission: prepare it, start the child, run every check, collect verdicts.

Data flows one way: submission -> child process -> plain arrays -> verdicts -> report.
The child's start-up (numpy) overlaps the grader's own.

Hypothesis runs derandomized, without a database or deadline, so the same code
always meets the same cases in the same order and gets the same score; a passing
check replays hypothesis' recorded cases, a failing one is searched and shrunk
by hypothesis itself (cases.py).
"""

import os
import time
from dataclasses import dataclass, field

from .. import rubric
from ..sandbox.confine import ScratchFolder
from ..sandbox.runner import Sandbox, StudentError
from ..sandbox.submission import SubmissionError, prepare
from . import cases, registry
from .registry import Failed

SMALLEST = "Smallest failing case"   # hypothesis shrank it
FIXED = "Failing case"               # a check with one fixed case has just that case


@dataclass
class Verdict:
    """One rubric item's outcome. A failed one carries the structured parts of its ``Failed``."""
    id: str
    points: float
    max_points: int
    title: str
    problem: str = ""      # empty when passed
    case: str = ""
    section: str = ""      # where to read: the hint's section if a hint fired, else the item's
    case_label: str = SMALLEST
    expected: str = None
    actual: str = None
    hint: str = None       # the id of the likely cause (grading/hints.py), if one was verified
    inputs: str = None     # code that rebuilds the failing case, if the check gave it

    @property
    def passed(self):
        return not self.problem


@dataclass
class Result:
    submission: str
    verdicts: list
    notes: list = field(default_factory=list)   # things the student should know that cost no points
    seconds: float = 0.0
    error: str = ""                              # set when the grader itself failed (exit status 2)

    @property
    def score(self):
        return sum(v.points for v in self.verdicts)


def grade(path, call_seconds=None):
    """Grade the submission at ``path`` (file or folder) and return a Result; never raises for bad input."""
    start = time.monotonic()
    try:
        prepared = prepare(path)
    except SubmissionError as exc:
        return _all_failed(path, str(exc), start)
    # Locked while it lives, swept if a killed run left it; 0700: the child reads the code before it drops
    # to the student's uid, and no other student's code can open it.
    folder = ScratchFolder("autograder-code-")
    try:
        code_path = os.path.join(folder.path, "submission.py")
        with open(code_path, "w", encoding="utf-8") as f:
            f.write(prepared.source)
        kwargs = {} if call_seconds is None else {"call_seconds": call_seconds}
        sandbox = Sandbox(code_path, statements=prepared.statements, **kwargs)
        try:
            return _run(prepared.origin, sandbox, prepared, start)
        finally:
            sandbox.close()
    finally:
        folder.close()


def failed_verdict(item, failure, label=SMALLEST):
    """The Verdict of an item whose check raised ``failure`` (a Failed)."""
    from . import hints
    section = hints.get(failure.hint).section if failure.hint else item.section
    return Verdict(item.id, 0, item.points, item.title, failure.problem, failure.case, section, label,
                   failure.expected, failure.actual, failure.hint, failure.inputs)


def _all_failed(path, why, start):
    verdicts = [failed_verdict(i, Failed(why)) for i in rubric.ITEMS]
    return Result(path, verdicts, seconds=time.monotonic() - start)


def _run(path, sandbox, prepared, start):
    from ..sandbox.student import Student
    from . import checks  # noqa: F401  (registers the checks, while the child starts)
    registry.validate()
    try:
        loaded = sandbox.load()
    except StudentError as exc:
        return _all_failed(path, "your file %s, so nothing could be graded" % exc, start)
    problems = loaded["problems"]
    if prepared.statements:
        # A notebook's helper modules (lesson_tools, matplotlib) need not exist where it is graded, and
        # each statement runs on its own: a failed import stops nothing, so it is not worth a note.
        problems = [p for p in problems if not p.startswith("ModuleNotFoundError")]
    notes = list(prepared.notes) + ["while loading, your code raised " + p for p in problems]
    student = Student(sandbox)
    verdicts = []
    for item in rubric.ITEMS:
        status = loaded["functions"].get(item.function, "missing")
        if status != "ok":
            why = ("%s is not defined in your submission" if status == "missing"
                   else "%s is defined but is not a function") % item.function
            if notes:
                why += " (%s)" % notes[0]
            verdicts.append(failed_verdict(item, Failed(why)))
            continue
        verdicts.append(_verdict(item, student))
    return Result(path, verdicts, notes, time.monotonic() - start)


def _verdict(item, student):
    for chk in registry.for_item(item.id):
        failure = run_check(chk, student)
        if failure is not None:
            label = getattr(failure, "label", None) or (SMALLEST if chk.cases is not None else FIXED)
            return failed_verdict(item, failure, label)
    return Verdict(item.id, item.points, item.points, item.title, section=item.section)


def run_check(chk, student):
    """Run one check; the smallest Failed, or None.

    The cases hypothesis would generate are replayed from a record (cases.py); only when one
    fails does hypothesis itself search again, to shrink the failure to its smallest case.
    When the submission's time budget is spent, nothing is searched (``TimeUp``).
    """
    from ..sandbox.student import TimeUp
    try:
        if chk.cases is None:
            chk.fn(student)
            return None
        for case in cases.generated(chk.cases) + list(chk.examples):
            chk.fn(student, **case)
    except TimeUp as out:
        return out.failed()
    except Failed as failed:
        if chk.cases is None:
            return failed
        try:
            found = cases.search(chk, student) or failed
            if student.out_of_time():
                found.label = FIXED    # shrinking was cut short: the case shown need not be the smallest
            return found
        except Exception as exc:       # hypothesis may wrap it (Flaky, an exception group)
            if cases._first_failed(exc, TimeUp) is None:
                raise
            failed.label = FIXED       # the time budget ran out while shrinking: keep the real failure, unshrunk
            return failed
    return None
