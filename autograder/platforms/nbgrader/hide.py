"""``HideHiddenTests``: the first step of ``generate_feedback``; no hidden test reaches a student.

Design
------
``RepairGradeCells`` already rebuilds every grade cell without its hidden part, so a notebook
autograded with this course's configuration holds no hidden test. Feedback can still be made
from notebooks autograded otherwise (an older configuration, nbgrader's defaults), so this step
removes every ``### BEGIN/END HIDDEN TESTS`` region from every cell (an unterminated one runs
to the end of the cell, as in nbgrader's ClearHiddenTests) and blanks any output line that
contains a line of hidden source (a kernel that ran could print ``In``, its input history).
"""

from nbgrader.preprocessors import NbGraderPreprocessor

from . import cells as notebook


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
                scrub_node(output, hidden)
        return nb, resources


def scrub_node(node, hidden):
    """notebook.scrub on every string anywhere inside one output."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in list(items):
        if isinstance(value, str):
            node[key] = notebook.scrub(value, hidden)
        elif isinstance(value, (dict, list)):
            scrub_node(value, hidden)
