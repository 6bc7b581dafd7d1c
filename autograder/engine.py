"""Grade one submission: prepare it, start the child, run every check, collect verdicts.

Data flows one way: submission -> child process -> plain arrays -> verdicts -> report.
The child's start-up (numpy) overlaps the grader's own.

Hypothesis runs derandomized, without a database or deadline, so the same code
always meets the same cases in the same order and gets the same score; a passing
check replays hypothesis' recorded cases, a failing one is searched and shrunk
by hypothesis itself (cases.py).
"""

import os
import tempfile
import time
from dataclasses import dataclass, field

from . import cases, rubric
from .sandbox import Sandbox, StudentError
from .submission import SubmissionError, prepare



@dataclass
class Verdict:
    id: str
    points: float
    max_points: int
    title: str
    problem: str = ""      # empty when passed
    case: str = ""
    section: str = ""
    case_label: str = "Smallest failing case"   # hypothesis shrank it; a fixed check has just its case

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
    with tempfile.TemporaryDirectory(prefix="autograder-code-") as tmp:
        code_path = os.path.join(tmp, "submission.py")
        with open(code_path, "w", encoding="utf-8") as f:
            f.write(prepared.source)
        kwargs = {} if call_seconds is None else {"call_seconds": call_seconds}
        sandbox = Sandbox(code_path, statements=prepared.statements, **kwargs)
        try:
            return _run(prepared.origin, sandbox, prepared, start)
        finally:
            sandbox.close()


def _all_failed(path, why, start):
    verdicts = [Verdict(i.id, 0, i.points, i.title, why, "", i.section) for i in rubric.ITEMS]
    return Result(path, verdicts, seconds=time.monotonic() - start)


def _run(path, sandbox, prepared, start):
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
    from . import properties
    student = properties.Student(sandbox)
    verdicts = []
    for item in rubric.ITEMS:
        status = loaded["functions"].get(item.function, "missing")
        if status != "ok":
            why = ("%s is not defined in your submission" if status == "missing"
                   else "%s is defined but is not a function") % item.function
            if notes:
                why += " (%s)" % notes[0]
            verdicts.append(Verdict(item.id, 0, item.points, item.title, why, "", item.section))
            continue
        verdicts.append(_verdict(item, student, properties))
    return Result(path, verdicts, notes, time.monotonic() - start)


def _verdict(item, student, properties):
    for chk in (c for c in properties.CHECKS if c.item_id == item.id):
        failure = run_check(chk, student, properties)
        if failure is not None:
            label = "Smallest failing case" if chk.cases is not None else "Failing case"
            return Verdict(item.id, 0, item.points, item.title, failure.problem, failure.case, item.section,
                           label)
    return Verdict(item.id, item.points, item.points, item.title, section=item.section)


def run_check(chk, student, properties):
    """Run one check; the smallest Failed, or None.

    The cases hypothesis would generate are replayed from a record (cases.py); only when one
    fails does hypothesis itself search again, to shrink the failure to its smallest case.
    """
    try:
        if chk.cases is None:
            chk.fn(student)
            return None
        for case in cases.generated(chk.cases) + list(chk.examples):
            chk.fn(student, **case)
    except properties.Failed as failed:
        if chk.cases is None:
            return failed
        return cases.search(chk, student, properties) or failed
    return None
