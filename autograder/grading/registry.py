"""The registry of hidden checks, and the glue that checks itself.

A *check* is a small function that tests one property of one student function and raises
``Failed`` when it does not hold. ``@check(rubric_id, cases, examples)`` registers it under one
rubric item. The glue refuses to be wrong quietly:

* ``@check`` raises ``RegistryError`` for an id that is not in ``rubric.ITEMS`` (a misspelling
  can never register a check nobody runs);
* ``validate()`` raises ``RegistryError`` while any rubric item has no check, so the engine never
  grades an item by default; the engine calls it before every grading;
* a check's title is its rubric item's title (``rubric.py`` is the one place titles live); the
  check's docstring documents the property for developers and is never shown to students;
* ``Failed(hint=...)`` raises ``KeyError`` for a hint id that ``hints.py`` does not define.

Dependency policy: **every check reads only what it needs.** A check validates only the keys and
values it uses, so one mistake costs the items whose property it breaks and no other: a missing
``'b1'`` costs ``init.shapes`` and ``init.zero_biases``, never ``init.breaks_symmetry`` (which reads
W1 and W2). No item waits for another; the corpus (``tests/corpus/wrong``) asserts this.

A ``Failed`` is structured, so that every renderer (terminal, results.json, Markdown, HTML, the
class report) can show the same parts and tests can ask which hint fired:
``problem`` (what was seen), ``case`` (where, in words), ``expected`` and ``actual`` (short texts,
optional), ``hint`` (the id of a likely cause, optional), ``inputs`` (code that rebuilds the
failing case, optional), ``label`` ("Smallest failing case" once hypothesis shrank it) and ``crash``
(the student's code raised, hung or died: the report then names no notebook section unless a
verified hint gives one, since the line and the exception are what the student needs).
"""

from .. import rubric
from . import hints as _hints


class RegistryError(Exception):
    """The checks and the rubric disagree: a bug in the grader, never the student's fault."""


class Failed(Exception):
    """A property does not hold for the student's function."""

    def __init__(self, problem, case="", expected=None, actual=None, hint=None, inputs=None, crash=False):
        super().__init__(problem)
        if hint is not None and hint not in _hints.HINTS:
            raise KeyError("Failed(hint=%r): no such hint in autograder/grading/hints.py; add it there "
                           "or fix the id" % (hint,))
        self.problem, self.case = problem, case
        self.expected, self.actual, self.hint, self.inputs = expected, actual, hint, inputs
        self.crash = crash      # the student's code raised, hung or died: the report points at the code

    def __repr__(self):
        return "Failed(%r, hint=%r)" % (self.problem, self.hint)


class Check:
    """One registered property: ``fn(student, **case)`` for each case (or ``fn(student)`` once)."""

    def __init__(self, item_id, fn, cases, examples):
        self.item_id, self.fn, self.cases, self.examples = item_id, fn, cases, tuple(examples)
        self.name = fn.__name__

    @property
    def item(self):
        return rubric.BY_ID[self.item_id]

    def __repr__(self):
        return "Check(%s, %s)" % (self.item_id, self.name)


CHECKS = []


def check(item_id, cases=None, examples=()):
    """Register a property for ``item_id``; with ``cases`` it runs under hypothesis, else once."""
    if item_id not in rubric.BY_ID:
        raise RegistryError("@check(%r): no such rubric item; the ids are %s (autograder/rubric.py)"
                            % (item_id, ", ".join(rubric.BY_ID)))

    def register(fn):
        CHECKS.append(Check(item_id, fn, cases, examples))
        return fn
    return register


def for_item(item_id):
    """The checks of one rubric item, in registration order."""
    return [c for c in CHECKS if c.item_id == item_id]


def validate(checks=None):
    """Raise RegistryError unless every rubric item has at least one check."""
    checks = CHECKS if checks is None else checks
    covered = {c.item_id for c in checks}
    missing = [item.id for item in rubric.ITEMS if item.id not in covered]
    if missing:
        raise RegistryError("rubric item(s) %s have no registered check, so they cannot be graded; "
                            "add a @check for each in autograder/grading/checks.py" % ", ".join(missing))
    return True
