"""Mutation testing of the hidden checks: ``python -m autograder mutate``.

The hidden checks are only as good as the wrong programs they reject. This package makes small
wrong programs (mutants) from correct bases, grades each one with the real engine, and reports which
ones got full marks anyway (survivors) and which cost points under another function's rubric item.

* ``operators.py`` -- our own AST operators and the stable mutant ids;
* ``runner.py``    -- bases, grading in parallel, classification, the CI sample, the report, the ``mutate`` command;
* ``equivalents.toml`` -- the reviewed list of mutants the grader is right to accept, with reasons;
* ``bases/``       -- the second correct base, written in the other common style.

It is a tool for instructors and CI, not part of grading: nothing in ``grading/`` or ``sandbox/``
imports it.
"""
