"""nbgrader configuration of the random-initialization course (nbgrader 0.9.x).

The course root is the folder nbgrader runs in (normally this repository's root):

    solutions/source/random_init/   nbgrader's source (built by solutions/build_notebook.py)
    release/random_init/            what generate_assignment makes (copied to assignment/)
    submitted/<student>/random_init/, autograded/, feedback/, gradebook.db   one class's data

Scores never come from a student's kernel: by default autograde runs no student code in a kernel
at all. autograder.platforms.nbgrader records each submitted notebook (copy and SHA-256) in
autograde_ledger/, grades that copy in a separate process (the engine of ``python -m autograder
grade``) and writes the verdicts into the grade cells before nbgrader saves the grades. Each grade
cell's grade_id is the rubric id with "." replaced by "-" (init.breaks_symmetry ->
init-breaks_symmetry). See docs/instructors.md.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.isdir(os.path.join(HERE, "autograder")):
    # The autograder package sits next to this file: make it importable by nbgrader, by the
    # grading process it starts. Student code itself runs with python -I, which ignores this.
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    _paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if HERE not in _paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([HERE] + [p for p in _paths if p])

from autograder.platforms.nbgrader import steps  # noqa: E402

# False (the default): no student code runs during autograde. The isolated grader's verdicts go
# into the grade cells; every other cell keeps the outputs the student saved, labelled as theirs.
# True: also run each notebook for fresh outputs, as a private uid with no network in a scratch
# copy (root only; see docs/instructors.md for what this risks).
EXECUTE_STUDENT_CODE = False

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

# Where things are, relative to the course root.
c.CourseDirectory.source_directory = os.path.join("solutions", "source")
c.CourseDirectory.release_directory = "release"
# Never release or copy caches: running the source notebook (nbgrader validate) leaves .hypothesis/.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            ".hypothesis", ".pytest_cache"]

# Autograde: record and grade the submitted file in isolation, repair the grade cells, write the
# verdicts into them (autograder/platforms/nbgrader/steps.py lists the steps).
c.Autograde.exporter_class = steps.ReadSubmission   # no links; BOM and deep nesting as the engine reads them
c.Autograde.sanitize_preprocessors = steps.sanitize_steps(EXECUTE_STUDENT_CODE)
c.Autograde.autograde_preprocessors = steps.autograde_steps(EXECUTE_STUDENT_CODE)
c.RecordSubmission.ledger_directory = "autograde_ledger"   # copies, hashes, scores; read by the audit
c.GradeInIsolation.grade_seconds = 600          # the isolated grader, per notebook
c.GradeInIsolation.outputs_are_fresh = EXECUTE_STUDENT_CODE

# Execution mode only (EXECUTE_STUDENT_CODE = True).
c.Execute.kernel_name = "python3"
c.Execute.timeout = 60                          # seconds for one cell
c.Execute.interrupt_on_timeout = True
c.ExecuteSafely.seconds_after_timeout = 10      # once a cell has hung, later cells get this much
c.ExecuteSafely.notebook_seconds = 300          # the whole notebook
c.ExecutePrivately.experiments = "skip"         # the lesson's training runs: "skip" or "run"

# Feedback: built from the autograded notebook, which holds no hidden test; HideHiddenTests
# removes any that a notebook autograded otherwise still has.
c.GenerateFeedback.preprocessors = steps.feedback_steps()
# The page: nbgrader's feedback template with the course's accessibility fixes on top (lang, link
# colours, focusable code boxes: autograder/platforms/nbgrader/templates/feedback/accessible.html.j2).
# Set for GenerateFeedback's exporter only, so the formgrader's own pages keep nbgrader's templates,
# and feedback made from the formgrader's button gets the course's page as well.
c.GenerateFeedback.HTMLExporter.extra_template_basedirs = steps.feedback_template_dirs()
c.GenerateFeedback.HTMLExporter.template_file = steps.FEEDBACK_TEMPLATE
# A second layer under SanitizeMarkup (autograder/platforms/nbgrader/inert.py), which already made every
# student cell inert: nbconvert's own sanitiser on outputs, in the feedback and in the formgrader's pages.
c.HTMLExporter.sanitize_html = True
