"""``KeepStudentOutputs``: replaces nbgrader's ClearOutput when no student code runs.

Design
------
By default autograde runs no student code in a kernel, so the only outputs a cell can have are
the ones the student saved. They stay (the student's plots and prints are part of their work),
but each code cell that has any gets a first output saying whose they are, so neither the
student nor the instructor reads them as something the grader produced. Grade cells are left
empty here: ``GradeInIsolation`` writes the verdict as their only output.

What is kept is plain: stream text, errors, and of rich outputs only text/plain and PNG/JPEG
images. HTML, JavaScript, SVG, widgets and the like are dropped (an instructor opens the
feedback in a browser, and a saved output must not be able to run code or restyle the page to
look like a verdict). Execution counts are cleared.
"""

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

KEPT_MIMETYPES = ("text/plain", "image/png", "image/jpeg")


def label_output(text):
    return NotebookNode(output_type="display_data", metadata={}, data={"text/plain": text})


def stream(name, text):
    """A stream output (stdout or stderr) as nbformat stores it."""
    return NotebookNode(output_type="stream", name=name, text=text)


def error(ename, evalue, lines):
    """An error output as nbformat stores it."""
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=list(lines))


class KeepStudentOutputs(NbGraderPreprocessor):
    """Keep the student's saved outputs, plain only, labelled as theirs."""

    label = Unicode(
        "[Output saved in your notebook. The autograder did not run this cell.]",
        help="First output of every code cell that kept outputs the student saved.").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        cell.execution_count = None
        if utils.is_grade(cell):
            cell.outputs = []
            return cell, resources
        kept = []
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream" and isinstance(output.get("text"), str):
                kept.append(NotebookNode(output_type="stream", name="stderr" if output.get("name") == "stderr"
                                         else "stdout", text=output["text"]))
            elif kind == "error":
                kept.append(NotebookNode(output_type="error", ename=str(output.get("ename", "")),
                                         evalue=str(output.get("evalue", "")),
                                         traceback=[str(t) for t in output.get("traceback", [])]))
            elif kind in ("display_data", "execute_result"):
                data = {m: v for m, v in (output.get("data") or {}).items() if m in KEPT_MIMETYPES}
                if data:
                    kept.append(NotebookNode(output_type="display_data", metadata={}, data=data))
        cell.outputs = [label_output(self.label)] + kept if kept else []
        return cell, resources
