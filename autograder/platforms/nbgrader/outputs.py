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
look like a verdict). An image is kept only if its data is base64 of at most ``MAX_IMAGE_CHARS``.

Outputs are capped by characters as well as by lines (nbgrader's LimitOutput counts lines only,
and one 2 MB line passed it, issue 21): each text is cut after ``MAX_TEXT_CHARS`` characters, with
a line saying how many were not shown. Execution counts are cleared.
"""

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from .inert import plain_image

IMAGE_MIMETYPES = ("image/png", "image/jpeg")
MAX_TEXT_CHARS = 20000          # characters of one saved text output shown: a long printout, not a flood
MAX_IMAGE_CHARS = 4 * 2**20     # base64 characters of one saved image (3 MB): a large figure, not a bomb


def capped(text, limit=MAX_TEXT_CHARS):
    """``text`` cut after ``limit`` characters, saying how many were left out."""
    text = str(text)
    if len(text) <= limit:
        return text
    return text[:limit] + "\n[... %d more characters not shown]\n" % (len(text) - limit)


def _kept_data(data):
    """The plain parts of an output's data: text (capped) and valid images of a sane size."""
    kept = {}
    for mimetype, value in (data.items() if isinstance(data, dict) else []):
        value = "".join(map(str, value)) if isinstance(value, list) else value
        if mimetype == "text/plain":
            kept[mimetype] = capped(value)
        elif mimetype in IMAGE_MIMETYPES and plain_image(mimetype, value, MAX_IMAGE_CHARS):
            kept[mimetype] = value
        elif mimetype in IMAGE_MIMETYPES:
            kept.setdefault("text/plain", "[an image that was too large or not a valid image was not kept]")
    return kept


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
            if kind == "stream" and isinstance(output.get("text"), (str, list)):
                text = output["text"]
                kept.append(NotebookNode(output_type="stream", name="stderr" if output.get("name") == "stderr"
                                         else "stdout", text=capped("".join(map(str, text))
                                                                    if isinstance(text, list) else text)))
            elif kind == "error":
                trace = output.get("traceback", [])
                trace = capped("\n".join(str(t) for t in trace) if isinstance(trace, list) else str(trace))
                kept.append(NotebookNode(output_type="error", ename=capped(output.get("ename", ""), 200),
                                         evalue=capped(output.get("evalue", ""), 2000),
                                         traceback=trace.split("\n")))
            elif kind in ("display_data", "execute_result"):
                data = _kept_data(output.get("data"))
                if data:
                    kept.append(NotebookNode(output_type="display_data", metadata={}, data=data))
        cell.outputs = [label_output(self.label)] + kept if kept else []
        return cell, resources


class KeepPlainOutputs(KeepStudentOutputs):
    """Execution mode: the outputs of the autograder's run, plain only, labelled as that run's. The
    kernel ran the student's code, so its HTML or JavaScript is the student's as much as saved ones."""

    label = Unicode(
        "[Output of your code when the autograder ran this notebook.]",
        help="First output of every code cell that has outputs after the run.").tag(config=True)
