"""nbgrader steps that make a course's gradebook agree with ``python -m autograder grade``.

Design
------
nbgrader scores a code grade cell by its outputs after running the whole notebook in the
student's kernel: an error, or anything at all on stderr, scores 0; otherwise full points. That
kernel belongs to the student: an earlier cell can replace ``np.allclose``, builtins, the
``autograder`` module or IPython itself, and a correct solution that merely warns loses points.
So no verdict here comes from that kernel. The steps, one class each:

``BeginIsolatedGrading``  (first autograde step, before the kernel starts)
    Copies ``submitted/<student>/<assignment>/<notebook>.ipynb`` (the file the student handed in,
    and the one ``python -m autograder audit`` regrades) into a private scratch folder before any
    of the student's code has run, and starts ``python -m autograder grade COPY --results JSON``
    on it in a separate process. That is literally the command-line grader, so the two cannot
    disagree, and it works while the kernel runs the notebook: isolation costs almost no time.

``ExecuteSafely``  (replaces nbgrader's ``Execute``)
    Runs the notebook as nbgrader does, for the outputs students read in their feedback, but
    survives what a submission can do to the kernel: a cell that times out is interrupted and
    later cells get a short timeout (``seconds_after_timeout``); a kernel that dies (``os._exit``,
    a crash) or ignores the interrupt ends execution, with a note on that cell and on every cell
    not run, instead of failing the whole submission; the notebook as a whole gets a budget
    (``notebook_seconds``). None of this costs points, because points are set by the next step.

``GradeInIsolation``  (just before nbgrader's ``SaveAutoGrades``)
    Waits for the grading started above (or, if that step is not configured or found no
    submitted file, grades the submitted file or the processed notebook now), and then, in every
    grade cell whose grade_id is ``rubric.grade_id(id)`` of a rubric id, throws away what the
    kernel printed and writes the verdict as the cell's only outputs: a passed item gets a line
    on stdout, a failed item an error output carrying the grader's feedback, a partly earned item
    (should a rubric ever give partial points) nbgrader's partial-credit number. The grader's notes
    on the notebook (a cell skipped for a syntax error, say) follow a failed item's feedback, less
    those no student can act on (the lesson's own modules are not importable in the grader's
    child). nbgrader's own scoring then yields exactly the command line's score. A grader failure
    raises, so nbgrader reports that student as failed instead of recording a score nobody
    computed.

``HideHiddenTests``  (first step of ``generate_feedback``)
    Feedback is made from the autograded notebook, whose grade cells hold the hidden tests again.
    This removes every ``### BEGIN/END HIDDEN TESTS`` region from every cell (an unterminated one
    runs to the end of the cell) and blanks any output line that contains a line of hidden source
    (a student's cell can print ``In``, IPython's input history).

``autograde_steps()`` and ``feedback_steps()`` return nbgrader's default lists with these
additions, for ``nbgrader_config.py``.
"""

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor, SaveAutoGrades
from traitlets import Bool, Integer, Unicode

try:   # nbclient's exceptions: a dead kernel, and a kernel that ignored the interrupt after a timeout
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
except ImportError:    # pragma: no cover - very old nbclient
    from nbconvert.preprocessors.execute import CellTimeoutError, DeadKernelError

from ... import rubric
from ...grading.report import num as _num
from . import cells as notebook

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_running = {}     # (student, assignment, notebook) -> IsolatedGrading started by BeginIsolatedGrading


def _stream(name, text):
    return NotebookNode(output_type="stream", name=name, text=text)


def _error(ename, evalue, lines):
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=list(lines))


# --- grading in a separate process ------------------------------------------------------------------

class IsolatedGrading:
    """``python -m autograder grade`` on a private copy of one notebook, running in the background."""

    def __init__(self, path, name="random_init.ipynb"):
        self.folder = os.path.dirname(os.path.abspath(path))
        self.scratch = tempfile.mkdtemp(prefix="autograder-nbgrader-")
        self.copy = os.path.join(self.scratch, os.path.basename(name))
        self.results = os.path.join(self.scratch, "results.json")
        shutil.copyfile(path, self.copy)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, env.get("PYTHONPATH")]))
        self.log = open(os.path.join(self.scratch, "grader.log"), "w+b")
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder", "grade", self.copy,
                                      "--results", self.results], cwd=self.scratch, env=env,
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)

    def wait(self, seconds):
        """The results.json dict; raises RuntimeError if the grader failed or overran ``seconds``."""
        try:
            code = self.proc.wait(seconds)
        except subprocess.TimeoutExpired:
            self.cancel()
            raise RuntimeError("the autograder did not finish within %d seconds" % seconds) from None
        self.log.seek(0)
        said = self.log.read()[-2000:].decode("utf-8", "replace")
        try:
            with open(self.results, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError) as exc:
            data, said = None, "%s\n%s" % (said, exc)
        finally:
            self.cancel()
        if code not in (0, 1) or not isinstance(data, dict) or not data.get("tests"):
            raise RuntimeError("the autograder failed (exit status %s): %s" % (code, said.strip()))
        return data

    def cancel(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


@atexit.register
def _cancel_all():
    while _running:
        _running.popitem()[1].cancel()


def _key(resources):
    info = (resources or {}).get("nbgrader") or {}
    return tuple(info.get(k) for k in ("student", "assignment", "notebook"))


def submitted_file(step, resources):
    """submitted/<student>/<assignment>/<notebook>.ipynb of the submission being autograded, or None."""
    student, assignment, name = _key(resources)
    node = step
    while node is not None and getattr(node, "coursedir", None) is None:
        node = getattr(node, "parent", None)
    coursedir = getattr(node, "coursedir", None)
    if coursedir is None or None in (student, assignment, name):
        return None
    folder = coursedir.format_path(coursedir.submitted_directory, student, assignment)
    path = os.path.join(folder, name + ".ipynb")
    return path if os.path.isfile(path) else None


class BeginIsolatedGrading(NbGraderPreprocessor):
    """Copy the submitted notebook before the kernel runs, and start grading the copy."""

    def preprocess(self, nb, resources):
        key = _key(resources)
        stale = _running.pop(key, None)
        if stale is not None:
            stale.cancel()
        path = submitted_file(self, resources)
        if path is None:
            self.log.warning("BeginIsolatedGrading: no submitted file for %s; GradeInIsolation will grade "
                             "the processed notebook", "/".join(map(str, key)))
        else:
            _running[key] = IsolatedGrading(path, os.path.basename(path))
        return nb, resources


# --- running the notebook ------------------------------------------------------------------------

class ExecuteSafely(Execute):
    """nbgrader's Execute, with a notebook budget and no failure of the whole submission."""

    notebook_seconds = Integer(
        300, help="Wall-clock seconds for running one notebook; cells after that are not run.").tag(config=True)
    seconds_after_timeout = Integer(
        10, help="Timeout of every cell after one cell of the same notebook has timed out.").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.timeout_func = self._cell_timeout
        self._deadline, self._hung, self._stopped = None, False, None

    def preprocess(self, nb, resources=None, km=None):
        self._deadline = time.monotonic() + self.notebook_seconds
        self._hung, self._stopped = False, None
        return super().preprocess(nb, resources, km)

    def _cell_timeout(self, cell):
        limit = self.timeout if self.timeout and self.timeout > 0 else self.notebook_seconds
        if self._hung:
            limit = min(limit, self.seconds_after_timeout)
        left = self._deadline - time.monotonic() if self._deadline else limit
        return max(1, int(min(limit, left)))

    def on_cell_executed(self, **kwargs):
        super().on_cell_executed(**kwargs)
        content = (kwargs.get("execute_reply") or {}).get("content", {})
        if content.get("status") == "error" and content.get("ename") == self.error_on_timeout.get("ename"):
            self._hung = True

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        if self._stopped is None and time.monotonic() >= self._deadline:
            self._stopped = ("This notebook used up its %d seconds of running time, so this cell and the "
                             "ones after it were not run." % self.notebook_seconds)
            cell.outputs = [_stream("stdout", self._stopped + "\n")]
            return cell, resources
        if self._stopped is not None:
            cell.outputs = [_stream("stdout", "Not run. " + self._stopped + "\n")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._stopped = ("The Python kernel died while running this cell (os._exit, a crash, or too "
                             "much memory), so the cells after it were not run.")
        except CellTimeoutError:
            self._stopped = ("This cell kept the kernel busy and the kernel did not answer an interrupt, "
                             "so the cells after it were not run.")
        self.log.warning("cell %d: %s", index, self._stopped)
        cell.outputs.append(_error("KernelStopped", self._stopped, [self._stopped]))
        return cell, resources


# --- writing the verdicts ------------------------------------------------------------------------

class GradeInIsolation(NbGraderPreprocessor):
    """Set every rubric grade cell's outputs from the isolated grader's verdicts."""

    grade_seconds = Integer(
        600, help="Longest wait for the isolated grader on one notebook.").tag(config=True)
    grade_submitted_file = Bool(
        True, help="Grade submitted/<student>/<assignment>/<notebook>.ipynb (as the audit does); if "
                   "False, or the file cannot be found, grade the notebook being processed.").tag(config=True)
    footer = Unicode(
        "Graded by the autograder in a separate process, on many cases; the quick check in this cell "
        "tries only one.", help="Last line of the feedback of a failed item.").tag(config=True)

    def preprocess(self, nb, resources):
        started = time.monotonic()
        job = _running.pop(_key(resources), None)
        if job is not None and not self.grade_submitted_file:
            job.cancel()
            job = None
        if job is None:
            job = self._start(nb, resources)
        results = job.wait(self.grade_seconds)
        tests = {t["tags"][0]: t for t in results["tests"] if t.get("tags")}
        notes = _worth_reading(str(results.get("output", "")).splitlines(), job.folder)
        seen = set()
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            item_id = rubric.rubric_id(str(meta.get("grade_id", "")))
            if cell.cell_type != "code" or not meta.get("grade") or item_id not in tests:
                continue
            test = tests[item_id]
            if float(meta.get("points", 0)) != float(test["max_score"]):
                self.log.warning("grade cell %s is worth %s points in the notebook but %s in the rubric; "
                                 "rebuild it with solutions/build_notebook.py", meta.get("grade_id"),
                                 meta.get("points"), test["max_score"])
            cell.outputs = self.outputs_for(item_id, test, notes)
            seen.add(item_id)
        unplaced = [i.id for i in rubric.ITEMS if i.id not in seen]
        if unplaced:
            self.log.warning("no grade cell for %s in this notebook; those points are not in the gradebook",
                             ", ".join(unplaced))
        self.log.info("GradeInIsolation: %s/%s points (waited %.1f s)", _num(results.get("score", 0)),
                      rubric.TOTAL, time.monotonic() - started)
        return nb, resources

    def _start(self, nb, resources):
        path = submitted_file(self, resources) if self.grade_submitted_file else None
        if path is not None:
            return IsolatedGrading(path, os.path.basename(path))
        self.log.warning("GradeInIsolation: grading the processed notebook, not a submitted file")
        with tempfile.TemporaryDirectory(prefix="autograder-nb-") as tmp:
            processed = os.path.join(tmp, "random_init.ipynb")
            with open(processed, "w", encoding="utf-8") as f:
                json.dump(nb, f)
            job = IsolatedGrading(processed)
        job.folder = ((resources or {}).get("metadata") or {}).get("path")   # where the notebook runs
        return job

    def outputs_for(self, item_id, test, notes=()):
        """The outputs that make nbgrader score ``test["score"]`` points for this cell."""
        score, top = float(test["score"]), float(test["max_score"])
        head = "%s: %s/%s points" % (item_id, _num(score), _num(top))
        if test.get("status") == "passed" and score >= top:
            return [_stream("stdout", "%s. Passed: %s.\n" % (head, rubric.BY_ID[item_id].title))]
        lines = [head] + str(test.get("output", "")).splitlines()
        if notes:
            lines += ["", "Notes on your notebook:"] + ["  - " + n for n in notes[:5]]
        lines += ["", self.footer]
        if score > 0:    # partial credit: nbgrader reads the number of an execute_result
            return [_stream("stdout", "\n".join(lines) + "\n"),
                    NotebookNode(output_type="execute_result", execution_count=None, metadata={},
                                 data={"text/plain": repr(score)})]
        return [_error("TestFailed", lines[1] if len(lines) > 1 else "failed", lines)]


def _worth_reading(notes, folder):
    """The grader's notes on a notebook, without "No module named 'lesson_tools'" and the like: the
    grader runs the student's functions on their own, without the modules shipped next to the
    notebook, and a student cannot act on that note."""
    shipped = set()
    if folder and os.path.isdir(folder):
        shipped = {os.path.splitext(n)[0] for n in os.listdir(folder) if n.endswith(".py")}
    return [n for n in notes if n.strip() and not any("No module named '%s'" % m in n for m in shipped)]


# --- feedback ------------------------------------------------------------------------------------

class HideHiddenTests(NbGraderPreprocessor):
    """Remove hidden test regions from sources, and any line quoting them from outputs."""

    def preprocess(self, nb, resources):
        hidden = set()
        for cell in nb.cells:
            visible, lines = notebook.split_hidden(cell.get("source", ""))
            if lines or notebook.HIDDEN_MARK in cell.get("source", ""):
                cell.source = visible
            hidden.update(lines)
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                _scrub(output, hidden)
        return nb, resources


def _scrub(node, hidden):
    """notebook.scrub on every string anywhere inside one output."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in list(items):
        if isinstance(value, str):
            node[key] = notebook.scrub(value, hidden)
        elif isinstance(value, (dict, list)):
            _scrub(value, hidden)


# --- the lists for nbgrader_config.py --------------------------------------------------------------

def autograde_steps():
    """nbgrader's autograde steps with BeginIsolatedGrading first, Execute -> ExecuteSafely, and
    GradeInIsolation just before SaveAutoGrades."""
    from nbgrader.converters import Autograde
    steps = [BeginIsolatedGrading]
    for step in Autograde.class_traits()["autograde_preprocessors"].default():
        if step is Execute:
            step = ExecuteSafely
        if step is SaveAutoGrades:
            steps.append(GradeInIsolation)
        steps.append(step)
    if GradeInIsolation not in steps:
        raise RuntimeError("this nbgrader has no SaveAutoGrades step; GradeInIsolation cannot be placed")
    return steps


def feedback_steps():
    """nbgrader's generate_feedback steps, HideHiddenTests first."""
    from nbgrader.converters import GenerateFeedback
    return [HideHiddenTests] + list(GenerateFeedback.class_traits()["preprocessors"].default())


