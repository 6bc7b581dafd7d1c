"""The course's nbgrader steps, one module each, and the lists ``nbgrader_config.py`` installs.

Design
------
nbgrader scores a grade cell from the outputs the student's kernel left in it, and that kernel
runs with the rights of whoever runs nbgrader. So by default **no student code runs in a kernel
during autograde at all** (issue 12). A submission is graded by the isolated grader (the engine
of ``python -m autograder grade``, whose own child process is sandboxed), and nbgrader is told
the result by the outputs of its grade cells. The steps, in the order they run:

reading (the course's exporter, ``c.Autograde.exporter_class``)
    ``ReadSubmission`` (reading.py)    no link followed, BOM and pathological nesting removed, or a
                                       stand-in notebook saying why the file cannot be read

sanitize (nbgrader's first pass over the submitted notebook)
    ``RecordSubmission`` (record.py)   copy + hash the submitted file into the ledger, start grading it
    ``RepairGradeCells`` (repair.py)   one well-formed grade cell per id, rebuilt without hidden tests
    ``KeepStudentOutputs`` (outputs.py) instead of ClearOutput: the student's saved outputs stay, labelled
                                       (execution mode clears them, as nbgrader does)
    ``SanitizeMarkup`` (inert.py)      markdown and raw cells inert and framed as the student's
    then nbgrader's DeduplicateIds, OverwriteKernelspec and CheckCellMetadata. nbgrader's
    OverwriteCells is left out: it would put the hidden tests back into the notebook.

autograde (nbgrader's second pass)
    [execution mode only: ``ExecutePrivately`` (execute.py) instead of nbgrader's Execute, then
     ``KeepPlainOutputs`` (outputs.py): the run's outputs kept as text and images only]
    nbgrader's IgnorePattern, ClearMetadataPreprocessor, LimitOutput
    ``GradeInIsolation`` (verdicts.py) the verdicts become the grade cells' only outputs
    nbgrader's SaveAutoGrades, AssignLatePenalties, CheckCellMetadata

generate_feedback
    ``HideHiddenTests`` (hide.py), then nbgrader's own steps; the page is rendered with
    ``templates/feedback/accessible.html.j2`` (``FEEDBACK_TEMPLATE``), nbgrader's feedback template
    with what an accessibility audit finds in it fixed (``feedback_template_dirs`` puts it first).

``python -m autograder audit`` (audit.py) checks a course afterwards; ``cells.py`` is what a
grade cell's hidden part calls when an instructor runs the source notebook.
"""

import os

import nbgrader
from nbgrader.converters import Autograde, GenerateFeedback
from nbgrader.preprocessors import ClearOutput, Execute, OverwriteCells, SaveAutoGrades

from .execute import ExecutePrivately, ExecuteSafely  # noqa: F401
from .hide import HideHiddenTests  # noqa: F401
from .inert import SanitizeMarkup
from .outputs import KeepPlainOutputs, KeepStudentOutputs
from .reading import ReadSubmission  # noqa: F401
from .record import RecordSubmission
from .repair import RepairGradeCells
from .verdicts import GradeInIsolation

# The feedback page's template: it extends nbgrader's own (templates/feedback/ has no index.html.j2,
# so that name finds nbgrader's) and changes only what keeps the page from passing an audit.
FEEDBACK_TEMPLATE = "accessible.html.j2"
COURSE_TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
NBGRADER_TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(nbgrader.__file__)),
                                  "server_extensions", "formgrader", "templates")


def _defaults(trait):
    return list(Autograde.class_traits()[trait].default())


def sanitize_steps(execute=False):
    """nbgrader's sanitizing steps: RecordSubmission first, RepairGradeCells where ClearOutput was,
    then ClearOutput, or KeepStudentOutputs (unless ``execute``), then SanitizeMarkup; OverwriteCells
    left out."""
    steps = [RecordSubmission]
    for step in _defaults("sanitize_preprocessors"):
        if step is ClearOutput:
            steps += [RepairGradeCells, ClearOutput if execute else KeepStudentOutputs, SanitizeMarkup]
        elif step is not OverwriteCells:
            steps.append(step)
    if RepairGradeCells not in steps:
        raise RuntimeError("this nbgrader has no ClearOutput sanitizing step; the course steps cannot be placed")
    return steps


def autograde_steps(execute=False):
    """nbgrader's autograde steps: Execute dropped (or, with ``execute``, replaced by
    ExecutePrivately and KeepPlainOutputs), GradeInIsolation just before SaveAutoGrades."""
    steps = []
    for step in _defaults("autograde_preprocessors"):
        if step is Execute:
            if execute:      # the run's outputs are the student's too: plain text and images only
                steps += [ExecutePrivately, KeepPlainOutputs]
            continue
        if step is SaveAutoGrades:
            steps.append(GradeInIsolation)
        steps.append(step)
    if GradeInIsolation not in steps:
        raise RuntimeError("this nbgrader has no SaveAutoGrades step; GradeInIsolation cannot be placed")
    return steps


def feedback_steps():
    """nbgrader's generate_feedback steps, HideHiddenTests first."""
    return [HideHiddenTests] + list(GenerateFeedback.class_traits()["preprocessors"].default())


def feedback_template_dirs():
    """nbconvert's extra_template_basedirs for generate_feedback: the course's templates, then
    nbgrader's, whose ``feedback/index.html.j2`` the course's template extends."""
    extended = os.path.join(NBGRADER_TEMPLATES, "feedback", "index.html.j2")
    if not os.path.isfile(extended):
        raise RuntimeError("nbgrader's feedback template is not at %s, where nbgrader 0.9 keeps it; the course's "
                           "feedback template extends it. Install nbgrader 0.9.x (pip install -e '.[nbgrader]')"
                           % extended)
    return [COURSE_TEMPLATES, NBGRADER_TEMPLATES]
