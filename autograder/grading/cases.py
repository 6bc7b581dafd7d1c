"""Which cases each check meets: hypothesis' own, replayed from a record when they all pass.

A check meets the cases that hypothesis generates for it (derandomized, so always the
same ones), then the fixed examples that guarantee coverage. While every case passes,
hypothesis' generation does not depend on the outcomes, so the list of generated cases
can be recorded once and replayed: a passing submission meets exactly the cases it
would meet under hypothesis, without paying for hypothesis. The record,
``autograder/grading/cases.json``, is made with the pinned hypothesis version
(``python -m autograder.grading.cases``) and a test checks that it still equals a fresh
recording; with any other hypothesis version the grader records again in memory.

As soon as one case fails, the check is searched again by hypothesis itself
(``search``), from the start, which finds the same failure and shrinks it to the
smallest failing case. So a verdict never depends on whether the record was used.
"""

import importlib.util
import json
import os
import sys

from ..verdicts import Failed, TimeUp
from . import search_memory

CASES_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases.json")
MAX_EXAMPLES = 15      # cases per check: every size from 1 to 10 shows up across the checks
# Sizes run from 1 to 10: big enough for every shape mistake (transposes, n_y >= 2, m != n_x) to
# show, small enough that a case costs microseconds. A check names its kind of case (``strategies``).
SIZE_RANGE = (1, 10)
INIT_CASES, UNITS_CASES, NET_CASES = "init", "units", "net"   # units: at least two hidden units
# Derandomized hypothesis seeds itself from a digest of the source of ``test`` in ``_build`` (its
# decorators and body): editing those lines changes which cases every student meets. The test
# that compares cases.json with a fresh recording fails when that happens; re-record and say so.
_recorded = {}


def search(chk, student):
    """The smallest Failed of one check, or None: hypothesis' search, or its replay (search_memory.py)."""
    key = (chk.item_id, chk.fn.__qualname__, chk.cases, repr(chk.examples))

    def call(case):
        """(outcome, exception or None) of the check on ``case``; TimeUp goes through."""
        try:
            chk.fn(student, **case)
        except TimeUp:
            raise
        except Exception as exc:
            return search_memory.outcome(exc), exc       # taken now: hypothesis may re-raise it, changing its __context__
        return None, None
    try:
        known, found = search_memory.MEMORY.replay(key, call)   # looked up per search: tests set their own
    except TimeUp:
        known = False           # searched for real below, where the time budget rules as it always does
    if known:
        return found
    steps, complete = [], [True]

    def recording(_, **case):
        try:
            edge, exc = call(case)
        except TimeUp:
            complete[0] = False
            raise
        steps.append((dict(case), edge, exc))
        if exc is not None:
            raise exc                      # the same object: its raise site, which hypothesis reads, is unchanged
    found = _search(chk.cases, recording, student, chk.examples)
    if complete[0]:
        search_memory.MEMORY.record(key, steps, found)
    return found


def _search(kind, fn, student, examples):
    """Run one check under hypothesis; the smallest Failed, or None."""
    # lazy: hypothesis runs only to search a failure or re-record; a passing grade replays cases.json
    from hypothesis import Phase
    # Generated cases first, so that a failure is shrunk to the smallest case; then the fixed
    # cases that guarantee coverage (n_y >= 2, m = 1, m != n_x) for what generation missed.
    for test in (_build(kind, fn, student, (Phase.generate, Phase.shrink)),
                 _build(kind, fn, student, (Phase.explicit,), examples)):
        try:
            test()
        except Failed as failed:
            return failed
        except BaseException as exc:                     # hypothesis' Flaky wraps our Failed
            found = _first_failed(exc, Failed)
            if found is None:
                raise
            return found
    return None


def _without_local_constants():
    """Make hypothesis' choices depend on the strategies and its version only.

    Since 6.131 hypothesis mixes into generation the integer and string constants it finds in every
    "local" module loaded in the process (code outside site-packages and the standard library). The
    cases a student meets would then depend on what else the grading process happened to import
    (a test suite, a platform adapter) and on whether the grader is installed in site-packages or run
    from a checkout: the same submission could get another shrunk case, and so another message, on
    another machine. The grader turns that source off. This reaches into hypothesis' internals, which
    is why hypothesis is pinned; tests/test_reference.py checks that it still works.
    """
    # lazy: hypothesis runs only to search a failure or re-record (``_build``)
    from hypothesis.internal.conjecture import providers
    if getattr(providers, "_autograder_no_local_constants", False):
        return
    empty = providers.Constants()
    providers._get_local_constants = lambda: empty
    providers.CONSTANTS_CACHE.cache.clear()
    providers._autograder_no_local_constants = True


def _build(kind, fn, student, phases, examples=()):
    # lazy: hypothesis runs only to search a failure or re-record; a passing grade replays cases.json
    from hypothesis import HealthCheck, example, given, settings
    _without_local_constants()

    @settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False, print_blob=False,
              phases=phases)
    @given(case=strategies()[kind])
    def test(case):
        fn(student, **case)
    for case in examples:
        test = example(case=case)(test)
    return test


def _first_failed(exc, kind):
    if isinstance(exc, kind):
        return exc
    for inner in list(getattr(exc, "exceptions", ())) + [exc.__cause__, exc.__context__]:
        if inner is not None and inner is not exc:
            found = _first_failed(inner, kind)
            if found is not None:
                return found
    return None


def strategies():
    """The hypothesis strategy of each kind of case: sizes and a numpy seed."""
    # lazy: hypothesis runs only to search a failure or re-record; a passing grade replays cases.json
    from hypothesis import strategies as st
    size = st.integers(*SIZE_RANGE)
    seed = st.integers(0, 2**31 - 1)
    return {INIT_CASES: st.fixed_dictionaries({"n_x": size, "n_h": size, "n_y": size, "seed": seed}),
            UNITS_CASES: st.fixed_dictionaries({"n_x": size, "n_h": st.integers(2, SIZE_RANGE[1]),
                                                "n_y": size, "seed": seed}),
            NET_CASES: st.fixed_dictionaries({"n_x": size, "n_h": size, "n_y": size, "m": size,
                                              "seed": seed})}


def generated(kind):
    """The cases hypothesis generates for a passing check of this kind, in order."""
    if kind not in _recorded:
        data = _load()
        _recorded[kind] = data["cases"][kind] if data else record(kind)
    return _recorded[kind]


def _load():
    try:
        with open(CASES_FILE, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    version = installed_version("hypothesis")
    if version is None:
        return None
    if data.get("hypothesis") != version or data.get("max_examples") != MAX_EXAMPLES:
        return None
    return data


def installed_version(package):
    """PACKAGE's installed version, from the name of its .dist-info folder; None if not installed.

    Read without importlib.metadata, whose import (email, zipfile, ...) a grade would otherwise pay
    (docs/scale.md, "Speed tricks"); when the folder is not where pip puts it, metadata decides.
    """
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        site = os.path.dirname(list(spec.submodule_search_locations)[0])
        try:
            found = [n for n in os.listdir(site) if n.startswith(package + "-") and n.endswith(".dist-info")]
        except OSError:
            found = []
        if len(found) == 1:
            return found[0][len(package) + 1:-len(".dist-info")]
    from importlib import metadata  # lazy: only when no .dist-info folder decides (docs/scale.md, "Speed tricks")
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def record(kind):
    """Let hypothesis generate the cases of a check that always passes, and keep them."""
    from hypothesis import Phase  # lazy: as in ``_search``
    seen = []
    _build(kind, lambda student, **case: seen.append(dict(case)), None, (Phase.generate,))()
    return seen


def main():
    from importlib import metadata  # lazy: re-recording only; a grade avoids its import (``installed_version``)
    kinds = sorted(strategies())        # every kind of case the checks draw (INIT_CASES, ...)
    data = {"hypothesis": metadata.version("hypothesis"), "max_examples": MAX_EXAMPLES,
            "cases": {kind: record(kind) for kind in kinds}}
    with open(CASES_FILE, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %s (%s)" % (CASES_FILE, ", ".join("%s: %d" % (k, len(v)) for k, v in data["cases"].items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
