"""Auto-grader for the "random initialization" assignment. Run it as ``python -m autograder``.

The modules, in the order data flows through them:
submission.py (find the code) -> sandbox.py + child.py (run it in a child process)
-> properties.py (hidden property tests, hypothesis) -> engine.py (verdicts)
-> report.py (terminal report, results.json). rubric.py holds ids and points.
"""

__version__ = "0.1.0"
