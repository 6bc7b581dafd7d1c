"""Grade one submission: prepare it, start the child, run every check, collect verdicts.

Data flows one way: submission -> child process -> plain arrays -> verdicts -> report.
The child's start-up (numpy) overlaps the grader's own.

Hypothesis runs derandomized, without a database or deadline, so the same code
always meets the same cases in the same order and gets the same score; a passing
check replays hypothesis' recorded cases, a failing one is searched and shrunk
by hypothesis itself (cases.py).

Budget order (``grade_items``): the submission's time budget is spent first on every item's first
case, then on every item's other cases, and only then on searches. So a slow, wrong function cannot
spend on shrinking the time another item needed, an item is lost as "not checked" only when its own
first case could not run, and a search cut short keeps the failing case it had ("Failing case").
A search that ends in a hang or crash at another case keeps the failure found before it, and says
where the function hung (the Student reports a hang at the case it happened at).

The registry is checked (``rubric_ready``) before the submission is read, so a broken rubric is a
grader fault (exit 2) on every path, never a student's 0.
"""

import threading
import time
from dataclasses import dataclass

from .. import rubric
from ..sandbox.runner import Sandbox, StudentError
from ..sandbox.submission import SubmissionError, prepare
from ..verdicts import (CRASH, FIXED, HANG, MISSING, NOT_CHECKED, RAISED, SMALLEST, TYPE, UNREADABLE, Failed,
                        TimeUp, case_text)
from . import cases, grader_rules, hints, registry

POINTS_AT_CODE = (RAISED, HANG, CRASH)   # kinds whose report names no notebook section unless a hint does


@dataclass
class Verdict:
    """One rubric item's outcome. A failed one carries the structured parts of its ``Failed``."""
    id: str
    points: float
    max_points: float
    title: str
    problem: str = ""               # empty when passed
    case: dict | None = None        # a dict of sizes and seeds (verdicts.case_text words it), or None
    section: str = ""               # where to read: the hint's section if a hint fired, else the item's
    case_label: str = SMALLEST
    expected: object = None
    actual: object = None
    hint: str | None = None         # the id of the likely cause (grading/hints.py), if one was verified
    inputs: str | None = None       # code that rebuilds the failing case, if the check gave it
    kind: str | None = None         # verdicts.KINDS
    rel: float | None = None        # a value's relative error
    tolerance: dict | None = None   # and its tolerance

    @property
    def passed(self):
        return not self.problem

    @property
    def case_text(self):
        """The failing case in words ('' when there is none)."""
        return case_text(self.case)


@dataclass
class Result:
    submission: str
    verdicts: list
    notes: list | None = None       # things the student should know that cost no points ([] when None)
    seconds: float = 0.0
    error: str = ""                 # set when the grader itself failed (exit status 2)

    def __post_init__(self):
        if self.notes is None:
            self.notes = []

    @property
    def score(self):
        return sum(v.points for v in self.verdicts)


def grade(path, call_seconds=None, launcher=None, sandbox=None):
    """Grade the submission at ``path`` (file or folder) and return a Result; never raises for bad input.
    ``launcher`` starts the child (sandbox/runner.py): a fresh one by default, or the warm pool's.
    ``sandbox``: a child started already (``Sandbox.for_code``: the ``grade`` command starts it before it
    imports the grader); ``grade`` closes it."""
    start = time.monotonic()
    if sandbox is None:
        # The child starts first: its import of numpy, the longest step of a one-file grade, overlaps
        # the reading of the submission and the grader's own imports. It reads the code only when loaded.
        sandbox = Sandbox.for_code(launcher=launcher, **({} if call_seconds is None else
                                                         {"call_seconds": call_seconds}))
    try:
        rubric_ready()          # before anything is read: a broken rubric never blames the student
        try:
            prepared = prepare(path, grader_rules)
        except SubmissionError as exc:
            return _all_failed(path, str(exc), start)
        with open(sandbox.code_path, "w", encoding="utf-8") as f:
            f.write(prepared.source)
        sandbox.statements = prepared.statements
        return _run(prepared.origin, sandbox, prepared, start)
    finally:
        sandbox.close()


def rubric_ready():
    """Register the checks and check the registry (RegistryError: a grader fault, exit 2).

    Imported here, not at the top: the checks import numpy, which the grader then loads while the
    child (started just before) loads its own.
    """
    # lazy: the checks import numpy, which the grader loads only once the child is starting (``grade``)
    from . import checks_net  # noqa: F401  (registers every check, with checks.py, and validates them)
    registry.validate()   # again: the registry may have been changed since the checks were imported


def failed_verdict(item, failure, label=SMALLEST):
    """The Verdict of an item whose check raised ``failure`` (a Failed); RegistryError for an unknown hint id."""
    if failure.hint is not None and failure.hint not in hints.HINTS:
        raise registry.RegistryError("Failed(hint=%r) under %s: no such hint in autograder/grading/hints.py; add "
                                     "it there or fix the id" % (failure.hint, item.id))
    # A raise, hang or crash points at the code (its line and exception), not at a concept, unless a
    # verified hint names one.
    section = hints.get(failure.hint).section if failure.hint else ("" if failure.kind in POINTS_AT_CODE
                                                                    else item.section)
    return Verdict(item.id, 0, item.points, item.title, failure.problem, failure.case, section,
                   failure.label or label, failure.expected, failure.actual, failure.hint, failure.inputs,
                   failure.kind, failure.rel, failure.tolerance)


def _all_failed(path, why, start):
    verdicts = [failed_verdict(i, Failed(why, kind=UNREADABLE)) for i in rubric.ITEMS]
    return Result(path, verdicts, seconds=time.monotonic() - start)


def _run(path, sandbox, prepared, start):
    from ..sandbox.student import Student  # lazy: it imports numpy, as the checks do (``rubric_ready``)
    # While the child starts (numpy) and runs the submission's top level, the grader computes what the
    # checks will need that needs no student code (registry.ahead); it is done before any check runs.
    ahead = None
    if registry.ahead_pending():
        ahead = threading.Thread(target=registry.work_ahead, name="work-ahead", daemon=True)
        ahead.start()
    try:
        loaded = sandbox.load()
    except StudentError as exc:
        return _all_failed(path, "your file %s, so nothing could be graded" % exc, start)
    finally:
        if ahead is not None:
            ahead.join()
    problems = loaded["problems"]
    if prepared.statements:
        # A notebook's helper modules (lesson_tools, matplotlib) need not exist where it is graded, and
        # each statement runs on its own: a failed import stops nothing, so it is not worth a note.
        problems = [p for p in problems if not p.startswith("ModuleNotFoundError")]
    notes = list(prepared.notes) + ["while loading, your code raised " + p for p in problems]
    missing = {}
    for item in rubric.ITEMS:
        status = loaded["functions"].get(item.function, "missing")
        if status != "ok":
            why = ("%s is not defined in your submission" if status == "missing"
                   else "%s is defined but is not a function") % item.function
            if notes:
                why += " (%s)" % notes[0]
            missing[item.id] = failed_verdict(item, Failed(why, kind=MISSING if status == "missing" else TYPE))
    graded, cut = grade_items([i for i in rubric.ITEMS if i.id not in missing], Student(sandbox))
    verdicts = [missing.get(item.id) or graded[item.id] for item in rubric.ITEMS]
    return Result(path, verdicts, notes + cut, time.monotonic() - start)


def grade_items(items, student):
    """{item id: Verdict} for ``items``, and notes on items whose cases the time budget cut short.

    Budget order: every item gets its first cases before any item gets the rest, and every item gets
    all its cases before any failure is searched and shrunk; so no search spends time an unchecked
    item needs, and an item is lost as "not checked" only when its own first case could not run. An
    item whose later cases the budget stopped keeps what the cases it ran showed (a note says so).
    """
    checks = {item.id: registry.for_item(item.id) for item in items}    # RegistryError before any call
    runs = {item.id: [CheckRun(chk, student) for chk in checks[item.id]] for item in items}
    for upto in (1, None):                      # first cases everywhere, then the rest
        if upto == 1:                           # every first case in one round trip (each check's rest: advance)
            student.prefetch([request for item in items for run in runs[item.id] for request in run.requests(1)])
        for item in items:
            _advance(runs[item.id], upto)
    verdicts, cut = {}, []
    for item in items:                          # then the searches, in rubric order
        verdicts[item.id] = _item_verdict(item, runs[item.id])
        done, total = sum(r.done for r in runs[item.id]), sum(len(r.cases) for r in runs[item.id])
        if verdicts[item.id].passed and done < total:
            cut.append("the time budget ran out before every case of %s could run: it passed the %d of its %d "
                       "cases that ran" % (item.id, done, total))
    return verdicts, cut


def _item_verdict(item, runs):
    """The Verdict of one item from its checks' runs: its first failing check's failure, searched."""
    for k, run in enumerate(runs):
        if run.failure is None:
            continue
        failure, label = run.searched(), SMALLEST if run.chk.cases is not None else FIXED
        if failure.kind == RAISED and run.chk.cases is None:
            # A raise at a fixed case (the large draw) says nothing of the smallest size where it happens:
            # a later check's search of the same function finds that, if it raises too.
            smaller = _first_raise(runs[k + 1:])
            if smaller is not None:
                failure, label = smaller, SMALLEST
        return failed_verdict(item, failure, label)
    return Verdict(item.id, item.points, item.points, item.title, section=item.section)


def _first_raise(runs):
    """The first searched failure of a raise among ``runs`` of checks that draw cases, or None."""
    for run in runs:
        if run.chk.cases is not None:
            run.advance(len(run.cases))
            failure = run.searched() if run.failure is not None else None
            if failure is not None and failure.kind == RAISED:
                return failure
    return None


def _advance(runs, upto):
    """Run the checks of one item in order, each up to case ``upto`` (None: all); an item's first failing
    check decides its verdict, so the checks after it never run."""
    for run in runs:
        if run.failure is None:
            run.advance(len(run.cases) if upto is None else upto)
        if run.failure is not None:
            return


class CheckRun:
    """One check on its way through the budget order: its first case, its other cases, then its search.

    The cases hypothesis would generate are replayed from a record (cases.py); only when one
    fails does hypothesis itself search again, to shrink the failure to its smallest case.
    When the submission's time budget is spent (``TimeUp``), nothing more is run or searched.
    """

    def __init__(self, chk, student):
        self.chk, self.student = chk, student.only(chk.calls)
        self.cases = [None] if chk.cases is None else cases.generated(chk.cases) + list(chk.examples)
        self.done = 0            # cases that ran to the end
        self.failure = None      # the Failed of the first failing case

    def requests(self, upto):
        """The first request each of the cases from the next one up to ``upto`` will make, in order."""
        found = []
        for case in self.cases[self.done:upto]:
            run = (lambda s: self.chk.fn(s)) if case is None else (lambda s, case=case: self.chk.fn(s, **case))
            request = self.student.first_request(run)
            if request is not None:
                found.append(request)
        return found

    def advance(self, upto):
        if upto - self.done > 1:
            self.student.prefetch(self.requests(upto))      # this check's cases in one round trip
        try:
            while self.done < upto:
                case = self.cases[self.done]
                if case is None:
                    self.chk.fn(self.student)
                else:
                    self.chk.fn(self.student, **case)
                self.done += 1
        except TimeUp as out:
            if self.done == 0:
                self.failure = out.failed()     # its own first case could not run: not checked
        except Failed as failed:
            self.failure = failed

    def searched(self):
        """The failure to report: the smallest failing case hypothesis finds, as far as the budget allows."""
        failed = self.failure
        if self.chk.cases is None or failed.kind == NOT_CHECKED:
            return failed
        try:
            found = cases.search(self.chk, self.student) or failed
        except Exception as exc:       # hypothesis may wrap it (Flaky, an exception group)
            if cases._first_failed(exc, TimeUp) is None:
                raise
            return failed.but(label=FIXED)   # the time budget ran out while shrinking: the real failure, unshrunk
        if found.kind in (HANG, CRASH) and failed.kind not in (HANG, CRASH):
            return _hung_while_searching(failed, found)
        if self.student.out_of_time():
            found = found.but(label=FIXED)    # shrinking was cut short: the case shown need not be the smallest
        return found


def _hung_while_searching(failed, found):
    """The failure found before the search, kept when the search ended in a hang or crash at another case."""
    return failed.but(problem="%s. While the grader looked for a smaller failing case, %s, at %s"
                      % (failed.problem.rstrip("."), found.problem.rstrip("."), case_text(found.case)),
                      label=FIXED)
