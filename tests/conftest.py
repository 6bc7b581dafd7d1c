"""Shared helpers for the test suite: paths, the corpora, and a cached grader."""

import functools
import glob
import importlib
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

SOLUTION = os.path.join(ROOT, "solutions", "random_init.py")
CORPUS = os.path.join(ROOT, "tests", "corpus")


def need(module, extra):
    """Import ``module`` for a test module that needs the optional ``extra``; without it, skip with the
    reason, unless $AUTOGRADER_REQUIRE_EXTRAS is set (as .ci/run sets it), where a missing extra fails."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        why = "needs %s: pip install -e \".[%s]\" (%s)" % (module, extra, exc)
        if os.environ.get("AUTOGRADER_REQUIRE_EXTRAS"):
            pytest.fail(why, pytrace=False)
        pytest.skip(why, allow_module_level=True)


def corpus(kind):
    """[(path, expected lost ids)] for tests/corpus/<kind>/*.py; 'full' means nothing lost."""
    cases = []
    for path in sorted(glob.glob(os.path.join(CORPUS, kind, "*.py"))):
        with open(path, encoding="utf-8") as f:
            first = f.readline()
        assert first.startswith("# expect:"), "%s must start with a '# expect:' line" % path
        words = first.split(":", 1)[1].split()
        cases.append((path, frozenset() if words == ["full"] else frozenset(words)))
    return cases


@functools.lru_cache(maxsize=None)
def graded(path):
    """engine.grade(path), cached: several tests look at the same submission."""
    from autograder.grading.engine import grade
    return grade(path)
