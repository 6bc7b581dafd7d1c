"""The Student adapter: the grader's handle on the submission's functions in the child.

Checks call ``student.call(fn, args, case)`` (``case``: the dict of sizes and seeds it is about);
every mishap in the child (a raise, a hang, a crash, garbage on the pipe) becomes ``Failed`` for
the check that asked, so it costs that check's rubric item and no other. Identical requests get identical answers (numpy is seeded before every call),
so they are asked once and memoised: checks of the same function share the child's work. Before a
check runs its cases, the engine has ``prefetch`` ask the child for the first request of each of them in one
round trip (``Sandbox.batch``); the check then finds its answers in the memo, and only the calls a failure
makes (evidence, other seeds, hypothesis' search) go to the child one by one.
"""

import numpy as np

from ..verdicts import CRASH, FIXED, HANG, RAISED, CallRefused, Failed, TimeUp
from .runner import Hung, OutOfTime, StudentError


class Student:
    """Calls the submission's functions in the child and turns every mishap into ``Failed``.

    A hang or a crash is remembered per function, so that hypothesis' shrinking and
    the other checks of that function do not wait for it again; it is reported with the case at
    which it happened, whichever case asks later (a hang at one size is never shown at another).
    """

    def __init__(self, sandbox):
        self.sandbox, self.fatal, self.memo = sandbox, {}, {}
        self.early = {}      # request key -> the StudentError a batch met there, before any check asked for it

    def prefetch(self, wanted):
        """Ask the child, in one round trip, for the requests ``[(fn, requests), ...]`` that checks are about
        to make, in the order they will make them; what comes back waits in the memo for them.

        Replies are answers (a function's answer does not depend on when it is asked: numpy is seeded
        before each call). A hang, crash or garbage is kept in ``early`` for the request it happened at
        and becomes that function's fatal mishap only when a check asks that request, at the case of the
        check that asks, as if asked then; the requests after it are asked again when needed. A single
        request is left to be asked when needed: sent now, it would save nothing.
        """
        keys, requests = [], []
        for fn, calls in wanted:
            key = _key(fn, calls)
            if fn not in self.fatal and key not in self.memo and key not in self.early and key not in keys:
                keys.append(key)
                requests.append([(fn, args, seed) for args, seed in calls])
        if len(requests) < 2:
            return
        for key, outcome in zip(keys, self.sandbox.batch(requests)):
            if isinstance(outcome, StudentError):
                self.early[key] = outcome
            else:
                self.memo[key] = outcome

    def _ask(self, fn, key, requests):
        early = self.early.pop(key, None)
        if early is not None:
            raise early
        return self.sandbox.calls([(fn, args, seed) for args, seed in requests])

    def calls(self, fn, requests, case):
        replies = None
        if fn not in self.fatal:
            key = _key(fn, requests)
            replies = self.memo.get(key)
            if replies is None:
                try:
                    replies = self._ask(fn, key, requests)
                except OutOfTime as exc:
                    raise TimeUp(str(exc)) from None
                except StudentError as exc:
                    self.fatal[fn] = {"problem": "%s %s" % (fn, exc), "case": case,
                                      "kind": HANG if isinstance(exc, Hung) else CRASH}
                else:
                    self.memo[key] = replies
        if fn in self.fatal:
            # One raise site, outside any except block, whether the mishap is new or remembered: hypothesis
            # tells failures apart by where they were raised, and a search replayed from memory
            # (grading/search_memory.py) must see the same outcome as one that met the mishap first.
            # Reported at the case it happened at, whichever case asks: asked at another case, that case is a
            # "Failing case", not the smallest one a search shrank to.
            fatal = self.fatal[fn]
            raise Failed(label=None if fatal["case"] == case else FIXED, **fatal)
        for reply in replies:
            if not reply.ok and reply.error.startswith("NotImplementedError"):
                raise Failed("%s is not written yet: it still raises NotImplementedError. Replace that "
                             "line with your code" % fn, case, kind=RAISED)
            if not reply.ok:
                raise Failed("%s raised %s" % (fn, reply.error), case, kind=RAISED)
        return replies

    def out_of_time(self):
        """True once the submission's time budget is spent (a search that ended then is not finished)."""
        return self.sandbox.time_left() <= 0

    def call(self, fn, args, case, seed=0):
        return self.calls(fn, [(args, seed)], case)[0]

    def first_request(self, fn, check):
        """The first request ``check(stand_in)`` makes of ``fn``, as (fn, [(args, seed), ...]), or None.

        The check runs against a stand-in that records its first request and stops it there: the grader's
        own work before that call (reference values, all cached) is done once for both runs.
        """
        stand_in = _Recorder(fn)
        try:
            check(stand_in)
        except _Recorded:
            return stand_in.request
        except Exception:      # stopped before any call: the real run meets the same and says so
            return None
        return None

    def only(self, fn):
        """This student as a check of ``fn`` sees it: calls to any other function raise CallRefused."""
        return Only(self, fn)


class Only:
    """A Student that answers calls to one function only (the dependency policy, made mechanical).

    The engine hands each check ``student.only(check.calls)``: an ``init.*`` check that asked for
    ``forward`` would make the grading fail loudly instead of making one item depend on another.
    """

    def __init__(self, student, fn):
        self.student, self.fn = student, fn

    def calls(self, fn, requests, case):
        if fn != self.fn:
            raise CallRefused("a check that declares calls=%r called %r; a check calls only the student "
                              "function it declares (autograder/grading/registry.py)" % (self.fn, fn))
        return self.student.calls(fn, requests, case)

    def call(self, fn, args, case, seed=0):
        return self.calls(fn, [(args, seed)], case)[0]

    def out_of_time(self):
        return self.student.out_of_time()

    def prefetch(self, wanted):
        self.student.prefetch([(fn, calls) for fn, calls in wanted if fn == self.fn])

    def first_request(self, check):
        return self.student.first_request(self.fn, check)


class _Recorded(BaseException):
    """Stops a check at its first call to the stand-in (no check catches a BaseException)."""


class _Recorder:
    """A stand-in Student that records the first request of ``fn`` made of it, then stops the check."""

    def __init__(self, fn):
        self.fn, self.request = fn, None

    def calls(self, fn, requests, case):
        if fn == self.fn:
            self.request = (fn, list(requests))
        raise _Recorded

    def call(self, fn, args, case, seed=0):
        return self.calls(fn, [(args, seed)], case)[0]

    def out_of_time(self):
        return False


def _key(fn, requests):
    """Identical requests get identical answers (numpy is seeded before each call), so checks of
    the same function share them: init.shapes, init.zero_biases and init.small_scale meet the same
    cases, and so do backward.shapes and backward.gradients."""
    parts = [fn]
    for args, seed in requests:
        parts.append(seed)
        for a in args:
            if isinstance(a, dict):
                parts.extend((k, v.tobytes(), v.shape) for k, v in a.items())
            elif isinstance(a, np.ndarray):
                parts.append((a.tobytes(), a.shape))
            else:
                parts.append(a)
    return tuple(parts)
