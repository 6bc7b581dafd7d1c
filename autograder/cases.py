"""Which cases each check meets: hypothesis' own, replayed from a record when they all pass.

A check meets the cases that hypothesis generates for it (derandomized, so always the
same ones), then the fixed examples that guarantee coverage. While every case passes,
hypothesis' generation does not depend on the outcomes, so the list of generated cases
can be recorded once and replayed: a passing submission meets exactly the cases it
would meet under hypothesis, without paying for hypothesis. The record,
``autograder/cases.json``, is made with the pinned hypothesis version
(``python -m autograder.cases``) and a test checks that it still equals a fresh
recording; with any other hypothesis version the grader records again in memory.

As soon as one case fails, the check is searched again by hypothesis itself
(``search``), from the start, which finds the same failure and shrinks it to the
smallest failing case. So a verdict never depends on whether the record was used.
"""

import json
import os
import sys

CASES_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases.json")
MAX_EXAMPLES = 15
_recorded = {}


def search(chk, student, properties):
    """Run one check under hypothesis; the smallest Failed, or None."""
    from hypothesis import Phase
    # Generated cases first, so that a failure is shrunk to the smallest case; then the fixed
    # cases that guarantee coverage (n_y >= 2, m = 1, m != n_x) for what generation missed.
    for test in (_build(chk.cases, chk.fn, student, (Phase.generate, Phase.shrink), properties),
                 _build(chk.cases, chk.fn, student, (Phase.explicit,), properties, chk.examples)):
        try:
            test()
        except properties.Failed as failed:
            return failed
        except BaseException as exc:                     # hypothesis' Flaky wraps our Failed
            found = _first_failed(exc, properties.Failed)
            if found is None:
                raise
            return found
    return None


def _build(kind, fn, student, phases, properties, examples=()):
    from hypothesis import HealthCheck, example, given, settings

    @settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False, print_blob=False,
              phases=phases)
    @given(case=properties._strategies()[kind])
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
    from importlib import metadata
    try:
        version = metadata.version("hypothesis")
    except metadata.PackageNotFoundError:
        return None
    if data.get("hypothesis") != version or data.get("max_examples") != MAX_EXAMPLES:
        return None
    return data


def record(kind):
    """Let hypothesis generate the cases of a check that always passes, and keep them."""
    from hypothesis import Phase
    from . import properties
    seen = []
    _build(kind, lambda student, **case: seen.append(dict(case)), None, (Phase.generate,), properties)()
    return seen


def main():
    from importlib import metadata
    from . import properties
    kinds = sorted({c.cases for c in properties.CHECKS if c.cases is not None})
    data = {"hypothesis": metadata.version("hypothesis"), "max_examples": MAX_EXAMPLES,
            "cases": {kind: record(kind) for kind in kinds}}
    with open(CASES_FILE, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %s (%s)" % (CASES_FILE, ", ".join("%s: %d" % (k, len(v)) for k, v in data["cases"].items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
