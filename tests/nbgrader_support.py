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
notebooks of issue 12. The notebooks of issue 21 are made here too: ``with_cells`` adds the cells
of a small attack notebook kept in tests/corpus/notebooks/ (markup that tries to run script),
``hidden_grade_cell`` gives a grade cell the notes cell's id, ``deeply_nested_output`` and
``big_outputs`` make files too large or too deep to keep in the repository, and ``write_bytes``
(a BOM, broken JSON) and ``link_to`` (a relative link) change a submitted file in place.
The autograde timing is benchmarks/bench_nbgrader.py.
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
from html.parser import HTMLParser

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

    def execute_student_code(self):
        """Turn the course's execution mode on (EXECUTE_STUDENT_CODE in nbgrader_config.py); returns self."""
        with open(self.path("nbgrader_config.py"), encoding="utf-8") as f:
            text = f.read()
        assert "EXECUTE_STUDENT_CODE = False" in text
        with open(self.path("nbgrader_config.py"), "w", encoding="utf-8") as f:
            f.write(text.replace("EXECUTE_STUDENT_CODE = False", "EXECUTE_STUDENT_CODE = True"))
        return self

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


# --- issue 21 -----------------------------------------------------------------------------------------

MARKER = "PWNED"       # every script of the markup attack would set or write something with this in it


def attack_cells(path):
    """The cells of an attack notebook (tests/corpus/notebooks/markup_attack.ipynb)."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)["cells"]


def with_cells(nb, cells, after="03-data"):
    """``nb`` with copies of ``cells`` inserted after the cell with id ``after``."""
    nb = copy.deepcopy(nb)
    at = [c.get("id") for c in nb["cells"]].index(after) + 1
    nb["cells"][at:at] = copy.deepcopy(cells)
    return nb


def hidden_grade_cell(nb, notes_id="autograder-notes"):
    """The grade cell init-shapes given the id of the autograder's notes cell, and a lesson cell given
    the id of another grade cell (issue 21: the first was deleted with the notes, costing 10 points)."""
    nb = copy.deepcopy(nb)
    cells = {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in nb["cells"]}
    cells["init-shapes"]["id"] = notes_id
    plain = next(c for c in nb["cells"] if c["cell_type"] == "code" and "nbgrader" not in c["metadata"])
    plain["id"] = "init-zero_biases"
    return nb


def deeply_nested_output(nb, depth=700):
    """An output of the first lesson code cell whose metadata nests ``depth`` lists deep."""
    nb = copy.deepcopy(nb)
    lesson = next(c for c in nb["cells"] if c["cell_type"] == "code" and not c["metadata"].get("nbgrader"))
    nested = []
    for _ in range(depth):
        nested = [nested]
    lesson["outputs"] = [{"output_type": "display_data", "data": {"text/plain": "deep"},
                          "metadata": {"deep": nested}}]
    return nb


def big_outputs(nb, image_bytes=6 * 2**20, line_chars=2 * 10**6):
    """A lesson cell with an image output larger than the engine's 5 MiB cap and one very long line."""
    import base64
    nb = copy.deepcopy(nb)
    lesson = next(c for c in nb["cells"] if c["cell_type"] == "code" and not c["metadata"].get("nbgrader"))
    image = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * image_bytes).decode("ascii")
    lesson["outputs"] = [{"output_type": "display_data", "metadata": {}, "data": {"image/png": image}},
                         {"output_type": "stream", "name": "stdout", "text": "x" * line_chars + "\n"}]
    return nb


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)


def link_to(path, target):
    """Replace the file at ``path`` by a relative link to ``target`` (as unzip keeps links)."""
    os.remove(path)
    os.symlink(os.path.relpath(target, os.path.dirname(path)), path)


EVIL_HOST = "evil.example"
_ACTIVE_TAGS = ("iframe", "frame", "object", "embed", "form", "base")


def _active(name, value):
    """True for an attribute that runs script (an event handler, a script URL) or draws the fake box."""
    url = re.sub(r"[\s\x00-\x1f]", "", value).lower()
    return name.lower().startswith("on") or url.startswith(("javascript:", "vbscript:", "data:text/html")) \
        or "3px solid green" in value or (name == "style" and MARKER in value)


class _ActiveMarkup(HTMLParser):
    """Collects what in a page could run a student's script, load their page or restyle ours."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.inside = [], []

    def handle_starttag(self, tag, attrs):
        values = " ".join("%s=%s" % (name, value or "") for name, value in attrs)
        if any(_active(name, value or "") for name, value in attrs) or tag in _ACTIVE_TAGS \
                or (tag == "meta" and "refresh" in values.lower()) or (tag == "link" and EVIL_HOST in values):
            self.found.append("<%s %s>" % (tag, values[:200]))
        self.inside.append(tag)

    def handle_endtag(self, tag):
        if tag in self.inside:
            del self.inside[len(self.inside) - 1 - self.inside[::-1].index(tag):]

    def handle_data(self, data):
        if self.inside and self.inside[-1] in ("script", "style") and (MARKER in data or EVIL_HOST in data):
            self.found.append("<%s>%s" % (self.inside[-1], data.strip()[:200]))


def active_markup(page):
    """[what could run or restyle] in an HTML page: a script or style holding the attack's marker, an
    event handler attribute, a script URL, the fake box's style, a frame, object, embed, form or base
    element, a meta refresh or a stylesheet from the attacker's host. Empty for an inert page (a
    plain link to another site is not active: a student may link anywhere)."""
    parser = _ActiveMarkup()
    parser.feed(page)
    parser.close()
    return parser.found
