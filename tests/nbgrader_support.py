"""A throw-away nbgrader course for the tests and the benchmark, and the submissions they use.

Design
------
``Course`` is a real nbgrader course in a temporary folder, made the way an instructor makes
one: the repository's ``nbgrader_config.py`` and a copy of the committed
``solutions/source/random_init/`` (``build_notebook.generate_release`` does both and runs
``nbgrader generate_assignment``). Every nbgrader command is ``sys.executable -m nbgrader ...``,
the interpreter that runs the tests, with that interpreter's scripts folder first on PATH
(nbgrader calls its ``alembic`` script by name), so CI's venv works as a developer's does.

A student's submission is the release notebook with their code put into the three solution
cells (``fill``): each of ``initialize_parameters``, ``forward`` and ``backward`` into its own
cell, and whatever else the code has at top level (imports, helpers, tampering) at the top of
the first one. ``extra_cells`` adds cells of the student's own after the setup cells, where a
tamperer would put them. ``without_experiments`` drops the lesson's experiment cells (training
runs and plots); a student may delete them, as they are not graded.

``broken_metadata``, ``without_nbgrader_metadata`` and ``fresh_notebook`` make the broken
notebooks of issue 12. The autograde timing is benchmarks/bench_nbgrader.py.
"""

import ast
import copy
import html
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _path in (ROOT, os.path.join(ROOT, "solutions")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import build_notebook  # noqa: E402  (solutions/build_notebook.py)

ASSIGNMENT = build_notebook.ASSIGNMENT
FUNCTIONS = ("initialize_parameters", "forward", "backward")
FAST_SETTINGS = """
# --- test settings: shorter limits, so that a hanging student costs seconds, not minutes ---
c.Execute.timeout = 8
c.ExecuteSafely.seconds_after_timeout = 2
c.ExecuteSafely.notebook_seconds = 120
"""


class Course:
    """A temporary nbgrader course built from the committed source notebook."""

    def __init__(self, folder, settings=FAST_SETTINGS):
        self.root = str(folder)
        self.release = build_notebook.generate_release(self.root)     # runs generate_assignment
        with open(os.path.join(self.root, "nbgrader_config.py"), "a", encoding="utf-8") as f:
            f.write(settings)
        self.env = build_notebook.course_env(sys.executable)

    def nbgrader(self, *args, timeout=600, check=True):
        done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=self.root, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError("nbgrader %s failed (exit %d):\n%s"
                                 % (" ".join(args), done.returncode, (done.stdout + done.stderr)[-4000:]))
        return done

    def release_notebook(self):
        with open(os.path.join(self.release, ASSIGNMENT + ".ipynb"), encoding="utf-8") as f:
            return json.load(f)

    def submit(self, student, nb):
        """Write submitted/<student>/<assignment>/ as nbgrader collect leaves it; returns the notebook path."""
        folder = os.path.join(self.root, "submitted", student, ASSIGNMENT)
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(self.release):
            if not name.endswith(".ipynb") and os.path.isfile(os.path.join(self.release, name)):
                shutil.copyfile(os.path.join(self.release, name), os.path.join(folder, name))
        with open(os.path.join(folder, "timestamp.txt"), "w", encoding="utf-8") as f:
            f.write("2024-01-15 12:00:00.000000 UTC")
        path = os.path.join(folder, ASSIGNMENT + ".ipynb")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(nb, f, indent=1)
        return path

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def gradebook(self):
        """{student: {grade_id: score}} from the course's gradebook.db (needs nbgrader importable)."""
        from nbgrader.api import Gradebook
        scores = {}
        with Gradebook("sqlite:///" + self.path("gradebook.db")) as gb:
            for student in gb.students:
                try:
                    sub = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student.id)
                except Exception:   # nbgrader.api.MissingEntry: not autograded
                    continue
                scores[student.id] = {g.name: g.score for g in sub.grades}
        return scores


# --- submissions ---------------------------------------------------------------------------------

def split_code(code):
    """({function name: source}, [other top-level statements]) of a Python module's text."""
    lines = code.splitlines()
    functions, rest = {}, []
    for node in ast.parse(code).body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        text = "\n".join(lines[start - 1:node.end_lineno])
        if isinstance(node, ast.FunctionDef) and node.name in FUNCTIONS:
            functions[node.name] = text
        else:
            rest.append(text)
    return functions, rest


def solution_cells(nb):
    """{function name: cell} of a release notebook's solution cells."""
    found = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and not meta.get("grade"):
            found[meta["grade_id"].rsplit("-", 1)[0]] = cell
    assert set(found) == set(FUNCTIONS), "the release should have one solution cell per function: %s" % found
    return found


def fill(release, code=None, path=None, replace=None):
    """The release notebook with ``code`` (or the file at ``path``) in its solution cells.

    ``replace`` maps a function name to source to use instead (a syntax error, say)."""
    if path is not None:
        with open(path, encoding="utf-8") as f:
            code = f.read()
    nb = copy.deepcopy(release)
    functions, rest = split_code(code)
    functions.update(replace or {})
    cells = solution_cells(nb)
    for name in FUNCTIONS:
        text = functions.get(name, "")
        if name == FUNCTIONS[0] and rest:
            text = "\n\n".join(rest + [text])
        cells[name]["source"] = text
    return nb


def without_experiments(nb):
    """Drop the lesson's code cells that follow the first solution cell and are not nbgrader cells."""
    nb = copy.deepcopy(nb)
    kept, seen_solution = [], False
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader")
        seen_solution = seen_solution or bool(meta and meta.get("solution"))
        if cell["cell_type"] == "code" and seen_solution and not meta:
            continue
        kept.append(cell)
    nb["cells"] = kept
    return nb


def extra_cells(nb, sources, after="03-data"):
    """Insert code cells of the student's own after the cell with id ``after`` (None: at the end)."""
    nb = copy.deepcopy(nb)
    ids = [c.get("id") for c in nb["cells"]]
    at = len(ids) if after is None else ids.index(after) + 1
    for i, src in enumerate(sources):
        nb["cells"].insert(at + i, {"cell_type": "code", "execution_count": None, "id": "mine-%d-%d" % (at, i),
                                    "metadata": {}, "outputs": [], "source": src})
    return nb


def hidden_lines(source_nb):
    """The stripped lines inside the hidden test regions of a source notebook."""
    from autograder.notebook import split_hidden
    found = set()
    for cell in source_nb["cells"]:
        found.update(split_hidden("".join(cell["source"]))[1])
    return found


def html_text(path):
    """The readable text of an HTML file: tags removed, entities decoded (syntax colouring splits code)."""
    with open(path, encoding="utf-8") as f:
        page = f.read()
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


# --- broken metadata -------------------------------------------------------------------------------

def grade_cells(nb):
    """[cell] of a notebook's grade cells, in order."""
    return [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade")]


def broken_metadata(nb):
    """Duplicated grade_id (init-shapes twice), a deleted grade cell (forward-values), a grade cell
    retyped as Markdown (backward-shapes), a second solution cell claiming forward-impl, and a
    lesson cell whose nbgrader metadata is not even a dict."""
    nb = copy.deepcopy(nb)
    cells = {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"] if "nbgrader" in c["metadata"]}
    twin = copy.deepcopy(cells["init-shapes"])
    twin["id"] = "twin-of-init-shapes"
    nb["cells"].append(twin)
    nb["cells"].remove(cells["forward-values"])
    retyped = cells["backward-shapes"]
    retyped["cell_type"] = "markdown"
    retyped.pop("outputs", None)
    retyped.pop("execution_count", None)
    other = copy.deepcopy(cells["forward-impl"])
    other["id"] = "second-forward-impl"
    other["source"] = "# my scratch copy\nx_scratch = 1"
    nb["cells"].append(other)
    plain = next(c for c in nb["cells"] if c["cell_type"] == "code" and "nbgrader" not in c["metadata"])
    plain["metadata"]["nbgrader"] = "garbage"
    return nb


def without_nbgrader_metadata(nb):
    """Every cell's nbgrader metadata (and the editable/deletable flags) removed, as some editors do."""
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        for key in ("nbgrader", "editable", "deletable"):
            cell["metadata"].pop(key, None)
    return nb


def fresh_notebook(code, minor=4):
    """A new notebook holding ``code`` in one cell: the work copied out of the assignment."""
    cell = {"cell_type": "code", "execution_count": 3, "metadata": {}, "source": code,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "copied by hand\n"}]}
    if minor >= 5:
        cell["id"] = "only-cell"
    return {"cells": [cell], "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                          "name": "python3"}},
            "nbformat": 4, "nbformat_minor": minor}
