"""Build nbgrader's source notebook for the course, and (with --release) the student release.

    python solutions/build_notebook.py                    # writes solutions/source/random_init/
    python solutions/build_notebook.py --release          # ... and assignment/random_init.ipynb
    python solutions/build_notebook.py --check [--release]   # exit 1 if a committed file is stale

Design
------
Nothing in ``solutions/source/`` is edited by hand. It is made from four inputs:

* ``solutions/random_init.py``: the reference solution. Each of the three functions, exactly as
  written there (docstring and ``### BEGIN/END SOLUTION`` markers included), becomes one
  *solution cell* (nbgrader metadata ``solution=true, grade=false, locked=false``, grade_id
  ``<function>-impl``). nbgrader's ClearSolutions later replaces the marked region with a stub.
* ``solutions/lesson/outline.txt`` and its cell files: the order of the notebook. Each line is
  ``md FILE``, ``code FILE``, ``solution FUNCTION`` or ``tests PREFIX``.
* ``autograder/rubric.py``: one *grade cell* per rubric id (``tests init`` places every id that
  starts with ``init.``). Its grade_id is ``rubric.grade_id(id)``, the rubric id with "." replaced
  by "-" (nbgrader allows only letters, digits, "_" and "-" in a grade_id, and rubric ids hold no
  "-": init.breaks_symmetry becomes init-breaks_symmetry, and ``rubric.rubric_id`` maps back).
  Its points are the rubric's, so nbgrader's gradebook and the command line count the same
  things. A grade cell has a visible part, one small case the student can read and rerun, and a
  hidden part (``### BEGIN/END HIDDEN TESTS``) that calls ``autograder.notebook.check(id)``, the
  same engine as the command line. Under ``nbgrader autograde`` neither part runs: each grade cell
  is rebuilt without its hidden part and its only output is the isolated grader's verdict
  (``autograder/platforms/nbgrader/``, repair.py and verdicts.py); both parts help the student
  and the instructor running the source.
* The student's other files, all copied unchanged next to the source notebook so that nbgrader's
  generate_assignment releases every one of them (and autograde puts the instructor's copy next
  to every submission): ``solutions/student/`` (README.md, public_checks.py, test_public.py,
  pytest.ini, lesson_tools.py, lesson_studies.py, .github/workflows/grade.yml), the grader's own
  ``autograder/grading/grader_rules.py`` (the thresholds the public checks share with the grader),
  and the stub ``random_init.py``, made from the reference solution by ``build_stub.stub_text``.
* The lesson's markdown cells are templates: ``{{name}}`` or ``{{name:format}}`` is replaced by
  ``lesson_studies.text_values()[name]``, so every number the text quotes is a constant of the
  studies or a value computed from the data, never typed (tests/test_lesson_claims.py checks
  that no other number is written into the prose).

The expected numbers of the visible checks are computed here from the reference solution and
written into the cells as literals: a student sees the right answer for one small case, not how
it is computed.

Output is deterministic (cell ids from the outline, JSON with sorted keys), so ``--check`` can
compare bytes. ``--release`` runs ``nbgrader generate_assignment`` in a scratch course (the
repository's ``nbgrader_config.py`` and a copy of ``solutions/source``) and copies nbgrader's
the whole ``release/random_init/`` folder to ``assignment/``, which it replaces: ``assignment/``
is nothing but nbgrader's release, so what students get from either is the same. ``--check``
compares the source folder byte for byte with a fresh build, and the files of ``assignment/``
with the source folder's; ``--check --release`` regenerates the release and compares the two
trees (the notebook by each cell's source and nbgrader metadata). tests/test_release.py runs both.
"""

import argparse
import ast
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
for _folder in (REPO, HERE):
    if _folder not in sys.path:
        sys.path.insert(0, _folder)

from autograder import rubric  # noqa: E402
from autograder.grading.grader_rules import GRADIENT_ATOL, GRADIENT_RTOL  # noqa: E402
from autograder.platforms.nbgrader import cells as notebook  # noqa: E402
import build_stub  # noqa: E402  (solutions/build_stub.py)

ASSIGNMENT = "random_init"
SOURCE_DIR = os.path.join(HERE, "source", ASSIGNMENT)
SOURCE_NOTEBOOK = os.path.join(SOURCE_DIR, ASSIGNMENT + ".ipynb")
LESSON_DIR = os.path.join(HERE, "lesson")
REFERENCE = os.path.join(HERE, "random_init.py")
RELEASE_NOTEBOOK = os.path.join(REPO, "assignment", ASSIGNMENT + ".ipynb")   # tests read it
# Files the notebook imports; each is copied next to the source notebook, so that nbgrader puts it
# into the release and into every autograded folder. assignment/ holds the one maintained copy.
STUDENT_DIR = os.path.join(HERE, "student")
RELEASE_DIR = os.path.join(REPO, "assignment")
GRADER_RULES = os.path.join(REPO, "autograder", "grading", "grader_rules.py")
STUB = "random_init.py"
IGNORED = ("__pycache__", "*.pyc", ".ipynb_checkpoints", ".pytest_cache")
PLACEHOLDER = re.compile(r"\{\{(\w+)(?::([^}]*))?\}\}")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
SCHEMA_VERSION = 3   # nbgrader's cell metadata format in 0.9.x



class BuildError(Exception):
    """The inputs do not make a valid notebook; the message says which input is wrong."""


# --- reading the inputs -------------------------------------------------------------------------

def read_outline(lesson_dir=LESSON_DIR):
    """[(kind, argument)] from outline.txt."""
    path = os.path.join(lesson_dir, "outline.txt")
    if not os.path.exists(path):
        raise BuildError("there is no %s; it gives the order of the notebook's cells" % path)
    entries = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            kind, _, arg = line.partition(" ")
            if kind not in ("md", "code", "solution", "tests") or not arg.strip():
                raise BuildError("outline.txt line %d: expected 'md FILE', 'code FILE', "
                                 "'solution FUNCTION' or 'tests PREFIX', got %r" % (number, line))
            entries.append((kind, arg.strip()))
    return entries


def function_sources(path=REFERENCE):
    """{name: source} of the top-level functions in a Python file, exactly as written."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.splitlines()
    found = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            found[node.name] = "\n".join(lines[start - 1:node.end_lineno])
    return found


def _reference_module():
    namespace = {"__name__": "reference_solution"}
    with open(REFERENCE, encoding="utf-8") as f:
        exec(compile(f.read(), REFERENCE, "exec"), namespace)
    return namespace


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read().rstrip("\n")


# --- the public checks --------------------------------------------------------------------------

def _float(x):
    text = "%.10g" % x
    return text if any(ch in text for ch in ".en") else text + ".0"


def _literal(array):
    rows = ", ".join("[%s]" % ", ".join(_float(x) for x in row) for row in array)
    return "np.array([%s])" % rows


def _fixture(ref):
    """Source that defines _X, _Y, _params and _cache for one small network, plus the true values."""
    import numpy as np
    X = np.array([[1.0, -2.0, 0.5], [0.5, 3.0, -1.0]])
    Y = np.array([[1.0, 0.0, 1.0]])
    params = {"W1": np.array([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]),
              "b1": np.array([[0.1], [0.0], [-0.1]]),
              "W2": np.array([[0.7, -0.8, 0.9]]), "b2": np.array([[0.05]])}
    _, cache = ref["forward"](X, params)
    grads = ref["backward"](params, cache, X, Y)
    lines = ["_X = %s" % _literal(X), "_Y = %s" % _literal(Y),
             "_params = {%s}" % ", ".join('"%s": %s' % (k, _literal(v)) for k, v in params.items())]
    return lines, cache, grads


def _public_checks():
    """{rubric id: lines of the public part}."""
    ref = _reference_module()
    fixture, cache, grads = _fixture(ref)
    cache_lines = ["_cache = {%s}" % ", ".join('"%s": %s' % (k, _literal(cache[k]))
                                               for k in ("Z1", "A1", "Z2", "A2"))]
    return {
        "init.shapes": [
            "_p = initialize_parameters(2, 3, 1)",
            'assert isinstance(_p, dict) and set(_p) >= {"W1", "b1", "W2", "b2"}, '
            '"return a dict with the keys W1, b1, W2, b2"',
            'for _name, _shape in {"W1": (3, 2), "b1": (3, 1), "W2": (1, 3), "b2": (1, 1)}.items():',
            '    assert np.shape(_p[_name]) == _shape, "%s has shape %s, expected %s" % '
            '(_name, np.shape(_p[_name]), _shape)',
            '    assert np.asarray(_p[_name]).dtype == np.float64, "%s should hold float64 numbers" % _name'],
        "init.zero_biases": [
            "_p = initialize_parameters(2, 3, 1)",
            'assert np.all(_p["b1"] == 0) and np.all(_p["b2"] == 0), "both biases should start at exactly 0"'],
        "init.breaks_symmetry": [
            '_W1 = initialize_parameters(2, 5, 1)["W1"]',
            "assert len({tuple(row) for row in np.asarray(_W1).tolist()}) == 5, "
            '"two hidden units start with the same weights"',
            'assert not np.array_equal(_W1, initialize_parameters(2, 5, 1)["W1"]), '
            '"two calls gave the same weights: draw them at random, and do not seed inside"'],
        # The spread is checked first, then the mean: unscaled randn hears "spread 1", never "not
        # centred". Both bands are the grader's own (grader_rules.py, shipped next to the notebook).
        "init.small_scale": [
            "import grader_rules as _rules",
            '_W1 = np.asarray(initialize_parameters(200, 250, 1)["W1"])',
            "assert abs(_W1.std() - _rules.SCALE) <= _rules.spread_band(_W1.size), "
            "\"the weights' spread (std) is %.2g, expected 0.01 as np.random.randn(...) * 0.01 gives\" % _W1.std()",
            "assert abs(_W1.mean()) <= _rules.mean_band(_W1.size), "
            "\"the weights should be centred on 0, their mean is %g\" % _W1.mean()"],
        "forward.values": fixture + [
            "_A2, _cache = forward(_X, _params)",
            "_expected_A2 = %s" % _literal(cache["A2"]),
            '_expected_Z1 = %s' % _literal(cache["Z1"]),
            'assert np.shape(_A2) == (1, 3), "A2 has shape %s, expected (1, 3)" % (np.shape(_A2),)',
            'assert np.allclose(_A2, _expected_A2, rtol=1e-6, atol=1e-9), "A2 is %s, expected %s" % '
            '(_A2, _expected_A2)',
            'assert np.allclose(_cache["Z1"], _expected_Z1, rtol=1e-6, atol=1e-9), "cache[\'Z1\'] is wrong"'],
        "backward.shapes": fixture + cache_lines + [
            "_grads = backward(_params, _cache, _X, _Y)",
            'for _name in ("W1", "b1", "W2", "b2"):',
            '    assert np.shape(_grads["d" + _name]) == _params[_name].shape, "d%s has shape %s, expected %s" % '
            '(_name, np.shape(_grads["d" + _name]), _params[_name].shape)'],
        "backward.gradients": fixture + cache_lines + [
            "_grads = backward(_params, _cache, _X, _Y)",
            "_expected = {%s}" % ", ".join('"%s": %s' % (k, _literal(grads[k]))
                                           for k in ("dW1", "db1", "dW2", "db2")),
            "for _name, _value in _expected.items():",
            '    assert np.allclose(_grads[_name], _value, rtol=%g, atol=%g), "%%s is %%s, expected %%s" %% '
            % (GRADIENT_RTOL, GRADIENT_ATOL) +
            '(_name, _grads[_name], _value)'],
    }


def grade_cell_source(item, public):
    """The source of the grade cell for one rubric item."""
    head = ["# Tests for %s (%d points): %s." % (item.id, item.points, item.title),
            "# The quick check below tries one small case. When you submit, the autograder checks",
            "# the same property on many cases, in a separate process."]
    body = public or ["pass  # no quick check for this item"]
    hidden = notebook.hidden_part(item.id)
    return "\n".join(head + body + ['print("Quick check passed.")'] + hidden)


# --- the notebook ---------------------------------------------------------------------------------

def _cell(kind, cell_id, source, nbgrader=None):
    cell = {"cell_type": "markdown" if kind == "md" else "code", "id": cell_id, "metadata": {},
            "source": source}
    if cell["cell_type"] == "code":
        cell.update(execution_count=None, outputs=[])
    if nbgrader is not None:
        cell["metadata"]["nbgrader"] = dict(nbgrader, schema_version=SCHEMA_VERSION)
    return cell


def _cell_id(text):
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)
    return safe[:64]


def build(lesson_dir=LESSON_DIR):
    """The source notebook as a JSON-ready dict."""
    functions = function_sources()
    public = _public_checks()
    values = text_values()
    placed, cells = set(), []
    for kind, arg in read_outline(lesson_dir):
        if kind in ("md", "code"):
            text = _read(os.path.join(lesson_dir, arg))
            if kind == "md":
                text = render(text, values, arg)
            cells.append(_cell(kind, _cell_id(os.path.splitext(arg)[0]), text))
        elif kind == "solution":
            if arg not in functions:
                raise BuildError("outline asks for the solution of %s, which %s does not define"
                                 % (arg, os.path.relpath(REFERENCE, REPO)))
            if "### BEGIN SOLUTION" not in functions[arg]:
                raise BuildError("%s in %s has no ### BEGIN SOLUTION marker" % (arg, REFERENCE))
            cells.append(_cell("code", arg + "-impl", functions[arg],
                               {"grade": False, "grade_id": arg + "-impl", "locked": False,
                                "solution": True, "task": False}))
        else:
            items = [i for i in rubric.ITEMS if i.id.split(".")[0] == arg]
            if not items:
                raise BuildError("outline asks for tests of %r, but no rubric id starts with %r." % (arg, arg))
            for item in items:
                placed.add(item.id)
                gid = rubric.grade_id(item.id)
                cells.append(_cell("code", gid, grade_cell_source(item, public.get(item.id)),
                                   {"grade": True, "grade_id": gid, "locked": True,
                                    "points": item.points, "solution": False, "task": False}))
    missing = [i.id for i in rubric.ITEMS if i.id not in placed]
    if missing:
        raise BuildError("no 'tests PREFIX' line of the outline places %s" % ", ".join(missing))
    return {"cells": cells, "metadata": {"kernelspec": dict(KERNELSPEC),
                                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def dumps(nb):
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def text_values():
    """The values the lesson's markdown quotes: ``lesson_studies.text_values()`` of the shipped copy."""
    sys.path.insert(0, STUDENT_DIR)
    try:
        import lesson_studies
    finally:
        sys.path.remove(STUDENT_DIR)
    return lesson_studies.text_values()


def render(text, values, name="a cell"):
    """Replace each ``{{name}}`` / ``{{name:format}}`` of a markdown template by its value."""
    def fill(match):
        key, spec = match.group(1), match.group(2)
        if key not in values:
            raise BuildError("%s quotes {{%s}}, which lesson_studies.text_values() does not define"
                             % (name, key))
        value = values[key]
        return format(value, spec) if spec else str(value)
    return PLACEHOLDER.sub(fill, text)


def _ignored(name):
    return any(fnmatch.fnmatch(name, pattern) for pattern in IGNORED)


def student_files():
    """{path relative to the release: bytes} of every file students get besides the notebook."""
    files = {}
    for folder, dirs, names in os.walk(STUDENT_DIR):
        dirs[:] = sorted(d for d in dirs if not _ignored(d))
        for name in sorted(n for n in names if not _ignored(n)):
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, STUDENT_DIR)] = f.read()
    for name, path in (("grader_rules.py", GRADER_RULES), (STUB, build_stub.SOLUTION)):
        if not os.path.isfile(path):
            raise BuildError("the release needs %s, but %s does not exist" % (name, path))
    with open(GRADER_RULES, "rb") as f:
        files["grader_rules.py"] = f.read()
    with open(build_stub.SOLUTION, encoding="utf-8") as f:
        files[STUB] = build_stub.stub_text(f.read()).encode("utf-8")
    return files


def source_files(lesson_dir=LESSON_DIR):
    """{relative path: bytes} of everything the source folder must hold, the notebook included."""
    files = student_files()
    files[ASSIGNMENT + ".ipynb"] = dumps(build(lesson_dir)).encode("utf-8")
    return files


def tree(folder):
    """{relative path: bytes} of the files under ``folder`` (caches and checkpoints ignored)."""
    found = {}
    for parent, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not _ignored(d)]
        for name in names:
            if not _ignored(name):
                path = os.path.join(parent, name)
                with open(path, "rb") as f:
                    found[os.path.relpath(path, folder)] = f.read()
    return found


def write_tree(folder, files):
    """Make ``folder`` hold exactly ``files``: write each, remove every other file."""
    for name in set(tree(folder)) - set(files) if os.path.isdir(folder) else ():
        os.remove(os.path.join(folder, name))
    for name, data in sorted(files.items()):
        path = os.path.join(folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    return [os.path.join(folder, name) for name in sorted(files)]


def write_source(folder=SOURCE_DIR, lesson_dir=LESSON_DIR):
    """Write the notebook and every student file into ``folder``; returns the paths written."""
    return write_tree(folder, source_files(lesson_dir))


def tree_drift(expected, found, where):
    """Sentences naming each file that is missing, extra or different in ``found``."""
    drift = ["%s/%s is missing" % (where, n) for n in sorted(set(expected) - set(found))]
    drift += ["%s/%s should not be there" % (where, n) for n in sorted(set(found) - set(expected))]
    drift += ["%s/%s is out of date" % (where, n) for n in sorted(set(expected) & set(found))
              if expected[n] != found[n]]
    return drift


# --- the release ----------------------------------------------------------------------------------

def generate_release(course, source_dir=os.path.join(HERE, "source"), python=sys.executable):
    """Run nbgrader generate_assignment in the scratch course ``course``; returns the release folder.

    The course gets the repository's nbgrader_config.py and a copy of ``source_dir``, so the
    result is what an instructor's ``nbgrader generate_assignment random_init`` makes.
    """
    shutil.copyfile(os.path.join(REPO, "nbgrader_config.py"), os.path.join(course, "nbgrader_config.py"))
    shutil.copytree(source_dir, os.path.join(course, "solutions", "source"), dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(*IGNORED))
    env = course_env(python)
    proc = subprocess.run([python, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force"],
                          cwd=course, env=env, capture_output=True, text=True, timeout=300)
    release = os.path.join(course, "release", ASSIGNMENT)
    if proc.returncode != 0 or not os.path.exists(os.path.join(release, ASSIGNMENT + ".ipynb")):
        raise BuildError("nbgrader generate_assignment failed (exit %d):\n%s"
                         % (proc.returncode, (proc.stdout + proc.stderr)[-3000:]))
    return release


def course_env(python=sys.executable):
    """Environment for nbgrader commands: the repository importable, and the interpreter's own
    scripts folder first on PATH (nbgrader runs the ``alembic`` script it installed)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, env.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join(filter(None, [os.path.dirname(os.path.abspath(python)), env.get("PATH")]))
    return env


def write_release(python=sys.executable):
    """generate_assignment in a scratch course; assignment/ becomes exactly its release folder."""
    with tempfile.TemporaryDirectory(prefix="course-") as course:
        release = generate_release(course, python=python)
        return write_tree(RELEASE_DIR, tree(release))


def release_cells(path):
    """What must not drift in a release notebook: each cell's type, id, source and nbgrader
    metadata, and the kernel it asks for (outputs and nbformat's formatting are ignored)."""
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    cells = [(c["cell_type"], c.get("id"), "".join(c["source"]), c.get("metadata", {}).get("nbgrader"))
             for c in nb["cells"]]
    return [("kernelspec", nb.get("metadata", {}).get("kernelspec"))] + cells


def release_drift(committed, fresh):
    """Sentences naming each difference between two release notebooks; empty when they agree."""
    a, b = release_cells(committed), release_cells(fresh)
    found = ["cell %d (%s) differs" % (i, (x or y)[1]) for i, (x, y) in enumerate(zip(a, b)) if x != y]
    if len(a) != len(b):
        found.append("%d cells committed, %d generated" % (len(a) - 1, len(b) - 1))
    return found


def check(release=False, python=sys.executable, source_dir=SOURCE_DIR, release_dir=RELEASE_DIR):
    """Sentences naming what is out of date in solutions/source and assignment/.

    Without ``release`` no nbgrader runs: the source folder is compared byte for byte with a
    fresh build, and every file of assignment/ but the notebook with the source folder's. With
    ``release``, nbgrader's release is generated and compared with assignment/ file by file.
    """
    expected = source_files()
    stale = tree_drift(expected, tree(source_dir), "solutions/source/" + ASSIGNMENT)
    notebook_name = ASSIGNMENT + ".ipynb"
    committed = tree(release_dir)
    if not release:
        others = {n: d for n, d in expected.items() if n != notebook_name}
        stale += tree_drift(others, {n: d for n, d in committed.items() if n != notebook_name}, "assignment")
        if notebook_name not in committed:
            stale.append("assignment/%s is missing" % notebook_name)
        return stale
    if stale:
        return stale
    with tempfile.TemporaryDirectory(prefix="course-") as course:
        fresh_dir = generate_release(course, source_dir=os.path.dirname(source_dir), python=python)
        return release_tree_drift(fresh_dir, release_dir)


def release_tree_drift(fresh_dir, release_dir=RELEASE_DIR):
    """Sentences naming each difference between nbgrader's release ``fresh_dir`` and assignment/:
    every file byte for byte, the notebook by each cell's source and nbgrader metadata."""
    notebook_name = ASSIGNMENT + ".ipynb"
    fresh, committed = tree(fresh_dir), tree(release_dir)
    stale = tree_drift({n: d for n, d in fresh.items() if n != notebook_name},
                       {n: d for n, d in committed.items() if n != notebook_name}, "assignment")
    if notebook_name not in committed:
        return stale + ["assignment/%s is missing" % notebook_name]
    return stale + ["assignment/%s: %s" % (notebook_name, d)
                    for d in release_drift(os.path.join(release_dir, notebook_name),
                                           os.path.join(fresh_dir, notebook_name))]


def _text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--release", action="store_true",
                        help="also run nbgrader generate_assignment; assignment/ becomes its release folder")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if solutions/source or assignment/ is not what a "
                             "build makes (with --release: regenerate nbgrader's release to compare)")
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = check(release=args.release)
            for line in stale:
                print("OUT OF DATE: " + line)
            print("run: python solutions/build_notebook.py --release" if stale else "up to date")
            return 1 if stale else 0
        for path in write_source():
            print("wrote", os.path.relpath(path, REPO))
        if args.release:
            for path in write_release():
                print("wrote", os.path.relpath(path, REPO))
    except (BuildError, OSError) as exc:
        sys.stderr.write("build_notebook: %s\n" % exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
