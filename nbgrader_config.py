"""nbgrader configuration of the random-initialization course (nbgrader 0.9.x).

The course root is the folder nbgrader runs in (normally this repository's root):

    solutions/source/random_init/   nbgrader's source (built by solutions/build_notebook.py)
    release/random_init/            what generate_assignment makes (copied to assignment/)
    submitted/<student>/random_init/, autograded/, feedback/, gradebook.db   one class's data

Scores never come from the student's kernel: autograder.platforms.nbgrader grades each submitted
notebook in a separate process (``python -m autograder grade``, the same engine as the command
line) and writes the verdicts into the grade cells before nbgrader saves the grades. Each grade
cell's grade_id is the rubric id with "." replaced by "-" (init.breaks_symmetry ->
init-breaks_symmetry). See docs/instructors.md.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.isdir(os.path.join(HERE, "autograder")):
    # The autograder package sits next to this file: make it importable by nbgrader, by the
    # grading process it starts, and by the kernels it starts (the hidden part of a grade cell
    # imports autograder.notebook). Student code itself runs with python -I, which ignores this.
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    _paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if HERE not in _paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([HERE] + [p for p in _paths if p])

from autograder.platforms.nbgrader import steps as nbgrader_plugin  # noqa: E402

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

# Where things are, relative to the course root.
c.CourseDirectory.source_directory = os.path.join("solutions", "source")
c.CourseDirectory.release_directory = "release"
# Never release or copy caches: running the source notebook (nbgrader validate) leaves .hypothesis/.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            ".hypothesis", ".pytest_cache"]

# Autograde: start the isolated grader on the submitted file, run the notebook for the
# feedback (robustly), then write the isolated grader's verdicts into the grade cells.
c.Autograde.autograde_preprocessors = nbgrader_plugin.autograde_steps()
c.Execute.kernel_name = "python3"
c.Execute.timeout = 60                          # seconds for one cell
c.Execute.interrupt_on_timeout = True
c.ExecuteSafely.seconds_after_timeout = 10      # once a cell has hung, later cells get this much
c.ExecuteSafely.notebook_seconds = 300          # the whole notebook
c.GradeInIsolation.grade_seconds = 600          # the isolated grader, per notebook
c.OverwriteCells.add_missing_cells = True       # a deleted grade cell comes back and is graded

# Feedback: the hidden part of every grade cell is removed before the HTML is written.
c.GenerateFeedback.preprocessors = nbgrader_plugin.feedback_steps()
