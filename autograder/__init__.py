"""Auto-grader for the "random initialization" assignment. Run it as ``python -m autograder``.

Data flows one way, and the folders show it:

    sandbox/submission.py  find the student's code, read it as text only
    sandbox/runner.py      start the child process, frame requests, bound every call
    sandbox/child.py       the only place student code runs (imports nothing from the grader)
    sandbox/wire.py        the plain-data wire format (encode, decode, Foreign, Reply)
    sandbox/student.py     the Student adapter: every mishap in the child becomes ``Failed``
    grading/checks.py      the hidden properties, registered per rubric id (grading/registry.py)
    grading/cases.py       hypothesis' cases, recorded and replayed; searched and shrunk on failure
    grading/engine.py      verdicts: one per rubric item, from values the grader received
    grading/report.py      the one output layer: text, results.json, Markdown, CSV rows
    platforms/             thin adapters over the engine (nbgrader, gradescope, github, batch, ...)

``rubric.py`` holds ids, points, titles and sections. The engine imports no platform.
"""

__version__ = "0.2.0"
