"""The registry of hidden checks, and the glue that checks itself.

A *check* is a small function that tests one property of one student function and raises
``Failed`` when it does not hold. ``@check(rubric_id, cases, examples, calls=FUNCTION)``
registers it under one rubric item. The glue refuses to be wrong quietly, at import and again
before the engine reads a submission, so a broken rubric is a grader fault (exit 2) and never a
student's lost points:

* ``@check`` raises ``RegistryError`` for an id that is not in ``rubric.ITEMS`` (a misspelling
  can never register a check nobody runs), for a check that ``DECLARED`` does not list under its
  id, for a second registration of the same check, and for a check that does not declare the one
  student function it calls (``calls``: the item's function, ``rubric.Item.function``);
* ``validate()`` raises ``RegistryError`` unless every rubric item has exactly the checks
  ``DECLARED`` lists for it, in that order (none missing, none extra, none twice); ``checks.py``
  calls it when it has registered its last check, and the engine before it reads a submission;
* a check's title is its rubric item's title (``rubric.py`` is the one place titles live); the
  check's docstring documents the property for developers and is never shown to students;
* a ``Failed`` whose hint id ``hints.py`` does not define is refused when the engine turns it
  into a verdict (``RegistryError``: a grader fault, exit 2);
* ``@ahead`` registers work the checks need that needs no student code (the reference answers of
  the recorded cases); the engine runs it while the child starts. It may only fill caches, so it
  can change no result, and a failure in it is met again, and reported, by the check that needs it.

Dependency policy: **every check reads only what it needs.** A check calls only the student
function it declares (the engine hands it a ``Student`` that refuses any other, and a test runs
every check against a recording student), and validates only the keys and values it uses, so one
mistake costs the items whose property it breaks and no other: a missing ``'b1'`` costs
``init.shapes`` and ``init.zero_biases``, never ``init.breaks_symmetry`` (which reads W1 and W2),
and a wrong ``forward`` never costs ``backward.*``. No item waits for another; the corpus
(``tests/corpus/wrong``) asserts this.

``Failed`` lives in ``autograder/verdicts.py`` (the bottom floor, shared with the sandbox): its
kind, case (a dict of sizes and seeds), expected and actual values, tolerance, hint and label are
data that every renderer reads.
"""

from .. import rubric
from ..verdicts import Failed  # noqa: F401  (the checks raise it; it lives on the bottom floor)

# The checks that grade each rubric item, by function name, in the order they run. An item is graded by
# exactly these: a check missing, added elsewhere, or registered twice is a RegistryError.
DECLARED = {
    "init.shapes": ("init_shapes",),
    "init.zero_biases": ("init_zero_biases",),
    "init.breaks_symmetry": ("init_breaks_symmetry",),
    "init.small_scale": ("init_gaussian_spread", "init_small_everywhere"),
    "forward.values": ("forward_values",),
    "backward.shapes": ("backward_shapes",),
    "backward.gradients": ("backward_gradients",),
}


class RegistryError(Exception):
    """The checks and the rubric disagree: a bug in the grader, never the student's fault."""


class Check:
    """One registered property: ``fn(student, **case)`` for each case (or ``fn(student)`` once).

    ``calls`` is the student function the check may call, and the only one.
    """

    def __init__(self, item_id, fn, cases, examples, calls=None):
        self.item_id, self.fn, self.cases, self.examples = item_id, fn, cases, tuple(examples)
        self.name = fn.__name__
        self.calls = rubric.BY_ID[item_id].function if calls is None else calls

    @property
    def item(self):
        return rubric.BY_ID[self.item_id]

    def __repr__(self):
        return "Check(%s, %s)" % (self.item_id, self.name)


CHECKS = []
AHEAD = []      # work the checks need that needs no student code (``ahead``)
_ahead_done = False    # True once ``work_ahead`` has run in this process (its caches last)


def ahead(fn):
    """Register ``fn()``, work the checks will need that needs no student code (the reference answers of
    the recorded cases): the engine runs it while it waits for the child to start (``work_ahead``). It
    must only fill caches, so that running it, once, twice or not at all, changes no result."""
    AHEAD.append(fn)
    return fn


def work_ahead():
    """Run the ``ahead`` work. A failure here is left for the check that meets the same work to report:
    nothing is lost but time."""
    global _ahead_done
    for fn in AHEAD:
        try:
            fn()
        except Exception:
            pass
    _ahead_done = True


def ahead_pending():
    """Whether ``work_ahead`` has yet to run in this process: after its first run (a warm worker's first
    student), what it computed is cached, and a check that finds a case evicted computes it itself."""
    return not _ahead_done


def check(item_id, cases=None, examples=(), calls=None):
    """Register a property for ``item_id`` that calls the student function ``calls``; with ``cases`` it
    runs under hypothesis, else once."""
    if item_id not in rubric.BY_ID:
        raise RegistryError("@check(%r): no such rubric item; the ids are %s (autograder/rubric.py)"
                            % (item_id, ", ".join(rubric.BY_ID)))
    wanted = rubric.BY_ID[item_id].function
    if calls != wanted:
        raise RegistryError("@check(%r, calls=%r): a check of %s calls %s and no other student function "
                            "(docs/contract.md section 2); declare calls=%r"
                            % (item_id, calls, item_id, wanted, wanted))

    def register(fn):
        if fn.__name__ not in DECLARED.get(item_id, ()):
            raise RegistryError("@check(%r) on %s: registry.DECLARED does not list %s under %s; add it there "
                                "(autograder/grading/registry.py) or register it under its own id"
                                % (item_id, fn.__name__, fn.__name__, item_id))
        if any(c.item_id == item_id and c.name == fn.__name__ for c in CHECKS):
            raise RegistryError("@check(%r) on %s: registered twice; a check runs once per grading"
                                % (item_id, fn.__name__))
        CHECKS.append(Check(item_id, fn, cases, examples, calls))
        return fn
    return register


def for_item(item_id):
    """The checks of one rubric item, in registration order; exactly its DECLARED ones, or RegistryError.

    Asked again here, whoever grades: an item with no check would otherwise pass without being looked at.
    """
    problems = _problems_of(rubric.BY_ID[item_id], CHECKS)
    if problems:
        raise RegistryError("%s: import autograder.grading.checks_net (engine.rubric_ready) before grading, or "
                            "fix registry.DECLARED" % "; ".join(problems))
    return [c for c in CHECKS if c.item_id == item_id]


def validate(checks=None):
    """Raise RegistryError unless every rubric item has exactly its DECLARED checks, each calling its function."""
    checks = CHECKS if checks is None else checks
    problems = [p for item in rubric.ITEMS for p in _problems_of(item, checks)]
    unknown = sorted({c.item_id for c in checks} - set(rubric.BY_ID))
    if unknown:
        problems.append("checks are registered under %s, which the rubric does not define" % ", ".join(unknown))
    if problems:
        raise RegistryError("the hidden checks and the rubric disagree: %s; fix autograder/grading/checks.py or "
                            "registry.DECLARED" % "; ".join(problems))
    return True


def _problems_of(item, checks):
    """What is wrong with ``item``'s checks among ``checks``: none, or sentences naming the item."""
    names = tuple(c.name for c in checks if c.item_id == item.id)
    declared = DECLARED.get(item.id, ())
    problems = []
    if not names:
        problems.append("%s has no registered check, so it cannot be graded" % item.id)
    elif names != declared:
        problems.append("%s has the checks %s, but registry.DECLARED says %s"
                        % (item.id, ", ".join(names), ", ".join(declared) or "none"))
    problems.extend("%s calls %s, but %s grades %s" % (c.name, c.calls, item.id, item.function)
                    for c in checks if c.item_id == item.id and c.calls != item.function)
    return problems
