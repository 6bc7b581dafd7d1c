"""A real nbgrader course, end to end: its scores must be the command line's, whatever students do.

One temporary course (tests/nbgrader_support.py) is built from the committed source notebook
and run with real nbgrader, from the interpreter running the tests: generate_assignment;
submissions from eight students; autograde; generate_feedback; export; the audit.

    alice  the reference solution, in the full release notebook (experiments and plots too)
    bob    wrong: weights ten times too large (tests/corpus/wrong/scale_0_1.py)
    carol  wrong: dW1 transposed (tests/corpus/wrong/dw1_transposed.py)
    dave   a syntax error in forward's cell
    erin   forward loops forever and swallows the kernel's interrupts
    frank  tampers: earlier cells replace np.allclose, np.testing, AssertionError and
           autograder.notebook itself, so every check in his kernel passes; his functions are
           wrong; a last cell prints the kernel's input history (which holds the hidden tests)
    grace  correct, but every function warns and writes to stderr
    heidi  forward calls os._exit, killing the kernel

Only alice keeps the lesson's experiment cells (15 s of training runs per notebook); the others
deleted them, as students may. The tests that need no nbgrader (the rubric's grade_id mapping,
the source notebook's freshness) run without it; the rest skip when nbgrader is not installed.
"""

import csv
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from autograder import rubric
from autograder.notebook import split_hidden
from conftest import CORPUS, ROOT, SOLUTION

import nbgrader_support as ns

ASSIGNMENT = ns.ASSIGNMENT
COMMITTED_RELEASE = os.path.join(ROOT, "assignment", ASSIGNMENT + ".ipynb")
SOURCE = os.path.join(ROOT, "solutions", "source", ASSIGNMENT, ASSIGNMENT + ".ipynb")

NOISY = """import sys
import warnings

"""
TAMPERING = [
    # Replace the comparisons the visible checks rely on, np.testing and AssertionError...
    "import builtins\nimport numpy as np\n"
    "np.allclose = lambda *a, **k: True\nnp.array_equal = lambda *a, **k: False\n"
    "np.testing.assert_allclose = lambda *a, **k: None\nnp.all = lambda *a, **k: True\n"
    "builtins.AssertionError = type('AssertionError', (Exception,), {})",
    # ...and the hidden part's module: a fake autograder.notebook whose check() passes everything.
    "import sys, types\n_fake = types.ModuleType('autograder.notebook')\n"
    "_fake.check = lambda *a, **k: print('passed')\n"
    "sys.modules['autograder'] = types.ModuleType('autograder')\nsys.modules['autograder.notebook'] = _fake",
]
LEAK = "print(In)\nprint(repr(In))"
STUBBORN_FORWARD = '''def forward(X, parameters):
    while True:
        try:
            while True:
                pass
        except KeyboardInterrupt:
            pass
'''


def noisy_solution():
    """The reference solution, but every function warns and prints to stderr first."""
    with open(SOLUTION, encoding="utf-8") as f:
        code = f.read()
    code = code.replace("### BEGIN SOLUTION", "### BEGIN SOLUTION\n    warnings.warn('this is only a warning')\n"
                                              "    print('a note on stderr', file=sys.stderr)")
    return NOISY + code


def tampered_functions():
    """Wrong functions that the tampering would make look right: zero weights, a linear hidden layer."""
    with open(os.path.join(CORPUS, "hostile", "monkeypatch_numpy_and_builtins.py"), encoding="utf-8") as f:
        functions, _ = ns.split_code(f.read())
    return "import numpy as np\n\n" + "\n\n".join(functions[name] for name in ns.FUNCTIONS)


def students(release):
    """{student: notebook} as described in this module's docstring."""
    def wrong(name):
        return ns.without_experiments(ns.fill(release, path=os.path.join(CORPUS, "wrong", name)))
    short = ns.without_experiments
    return {
        "alice": ns.fill(release, path=SOLUTION),
        "bob": wrong("scale_0_1.py"),
        "carol": wrong("dw1_transposed.py"),
        "dave": short(ns.fill(release, path=SOLUTION, replace={"forward": "def forward(X, parameters):\n"
                                                                          "    return X +* parameters\n"})),
        "erin": short(ns.fill(release, path=SOLUTION, replace={"forward": STUBBORN_FORWARD})),
        "frank": ns.extra_cells(ns.extra_cells(short(ns.fill(release, tampered_functions())), TAMPERING),
                                [LEAK], after=None),
        "grace": short(ns.fill(release, noisy_solution())),
        "heidi": short(ns.fill(release, path=os.path.join(CORPUS, "hostile", "os_exit_in_forward.py"))),
    }


def cli_results(paths, folder):
    """{key: results.json of python -m autograder grade PATH}, the command-line runs side by side."""
    procs = {}
    for key, path in paths.items():
        out = os.path.join(str(folder), "%s.json" % key)
        procs[key] = (out, subprocess.Popen([sys.executable, "-m", "autograder", "grade", path, "--results", out],
                                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    results = {}
    for key, (out, proc) in procs.items():
        _, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 1), "the CLI failed on %s: %s" % (key, err.decode()[-2000:])
        with open(out, encoding="utf-8") as f:
            results[key] = json.load(f)
    return results


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    pytest.importorskip("nbgrader")
    pytest.importorskip("ipykernel")
    c = ns.Course(tmp_path_factory.mktemp("course"))
    c.students = students(c.release_notebook())
    c.submitted = {name: c.submit(name, nb) for name, nb in c.students.items()}
    c.autograde = c.nbgrader("autograde", ASSIGNMENT)          # every student, one nbgrader run
    c.nbgrader("generate_feedback", ASSIGNMENT)
    c.nbgrader("export")
    frank_untampered = c.path("frank-untampered.ipynb")
    with open(frank_untampered, "w", encoding="utf-8") as f:
        json.dump(ns.without_experiments(ns.fill(c.release_notebook(), tampered_functions())), f)
    c.cli = cli_results(dict(c.submitted, frank_untampered=frank_untampered), tmp_path_factory.mktemp("cli"))
    return c


def cli_points(results):
    return {t["tags"][0]: t["score"] for t in results["tests"]}


# --- without nbgrader ------------------------------------------------------------------------------

def test_grade_ids_map_one_to_one_to_rubric_ids():
    ids = [item.id for item in rubric.ITEMS]
    grade_ids = [rubric.grade_id(i) for i in ids]
    assert all(re.fullmatch(r"[a-zA-Z0-9_\-]+", g) for g in grade_ids)      # nbgrader 0.9's pattern
    assert len(set(grade_ids)) == len(ids) and [rubric.rubric_id(g) for g in grade_ids] == ids
    assert rubric.grade_id("init.breaks_symmetry") == "init-breaks_symmetry"


def test_committed_source_notebook_is_what_the_build_makes():
    done = subprocess.run([sys.executable, os.path.join(ROOT, "solutions", "build_notebook.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, "solutions/source drifted; run python solutions/build_notebook.py " \
                                 "--release and commit:\n" + done.stdout + done.stderr


def test_source_has_one_grade_cell_per_rubric_id_with_a_hidden_part():
    with open(SOURCE, encoding="utf-8") as f:
        nb = json.load(f)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    grades = {}
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade"):
            grades[meta["grade_id"]] = (meta["points"], "".join(cell["source"]))
    assert {rubric.rubric_id(g): p for g, (p, _) in grades.items()} == {i.id: i.points for i in rubric.ITEMS}
    for grade_id, (_, source) in grades.items():
        visible, hidden = split_hidden(source)
        assert visible.strip() and 'check("%s")' % rubric.rubric_id(grade_id) in hidden


def test_hide_hidden_tests_strips_regions_and_quoted_lines():
    pytest.importorskip("nbgrader")
    import nbformat
    from autograder.platforms.nbgrader.steps import HideHiddenTests
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1\n### BEGIN HIDDEN TESTS\nsecret_check(1)\n### END HIDDEN TESTS\ny = 2"),
        nbformat.v4.new_code_cell("z = 3\n### BEGIN HIDDEN TESTS\nunterminated_secret()"),
        nbformat.v4.new_code_cell("print(In)", outputs=[nbformat.v4.new_output(
            "stream", name="stdout", text="['x = 1\\nsecret_check(1)', 'z']\nfine\n")])])
    nb, _ = HideHiddenTests().preprocess(nb, {})
    assert [c.source for c in nb.cells[:2]] == ["x = 1\ny = 2", "z = 3"]
    assert nb.cells[2].outputs[0]["text"] == "[hidden]\nfine\n"


def test_grade_in_isolation_sets_nbgrader_scores_without_a_course(tmp_path):
    """Outside a course (no submitted file) it grades the processed notebook; nbgrader's own
    determine_grade then reads the command line's points from the outputs it wrote."""
    pytest.importorskip("nbgrader")
    import nbformat
    from nbgrader.utils import determine_grade
    from autograder.platforms.nbgrader.steps import GradeInIsolation
    with open(COMMITTED_RELEASE, encoding="utf-8") as f:
        release = json.load(f)
    filled = ns.fill(release, path=os.path.join(CORPUS, "wrong", "zero_weights.py"))
    nb = nbformat.reads(json.dumps(filled), as_version=4)
    nb, _ = GradeInIsolation().preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    scores = {rubric.rubric_id(c.metadata.nbgrader.grade_id): determine_grade(c)[0]
              for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert scores == {i.id: (0 if i.id in ("init.breaks_symmetry", "init.small_scale") else i.points)
                      for i in rubric.ITEMS}


# --- the course --------------------------------------------------------------------------------------

def test_release_is_committed_without_drift_and_without_hidden_tests(course):
    import build_notebook
    fresh = os.path.join(course.release, ASSIGNMENT + ".ipynb")
    assert build_notebook.release_drift(COMMITTED_RELEASE, fresh) == [], \
        "assignment/random_init.ipynb drifted: run python solutions/build_notebook.py --release"
    with open(os.path.join(course.release, "lesson_tools.py"), "rb") as a, \
            open(os.path.join(ROOT, "assignment", "lesson_tools.py"), "rb") as b:
        assert a.read() == b.read(), "the release's lesson_tools.py is not assignment/lesson_tools.py"
    with open(SOURCE, encoding="utf-8") as f:
        hidden = ns.hidden_lines(json.load(f))
    assert hidden
    for path in (COMMITTED_RELEASE, fresh):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        assert "HIDDEN TESTS" not in text and "autograder.notebook" not in text
        assert not [h for h in hidden if h in text]


def test_the_drift_check_notices_a_changed_release(course, tmp_path):
    import build_notebook
    with open(COMMITTED_RELEASE, encoding="utf-8") as f:
        nb = json.load(f)
    grade = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade"))
    grade["metadata"]["nbgrader"]["points"] += 1
    changed = tmp_path / "changed.ipynb"
    changed.write_text(json.dumps(nb), encoding="utf-8")
    assert build_notebook.release_drift(str(changed), COMMITTED_RELEASE)


def test_every_gradebook_score_equals_the_command_line_score(course):
    book = course.gradebook()
    assert set(book) == set(course.students), course.autograde.stdout + course.autograde.stderr
    for student in course.students:
        expected = cli_points(course.cli[student])
        got = {rubric.rubric_id(g): s for g, s in book[student].items()}
        assert got == expected, student
        assert sum(got.values()) == course.cli[student]["score"], student


def test_scores_are_what_each_submission_deserves(course):
    lost = {s: {i for i, p in cli_points(course.cli[s]).items() if p < rubric.BY_ID[i].points}
            for s in course.students}
    assert lost["alice"] == set() and lost["grace"] == set()      # warnings and stderr cost nothing
    assert lost["bob"] == {"init.small_scale"}
    assert lost["carol"] == {"backward.shapes", "backward.gradients"}
    assert lost["dave"] == {"forward.values"}                     # the syntax error costs forward only
    assert lost["erin"] == {"forward.values"}                     # the endless loop costs forward only
    assert lost["heidi"] == {"forward.values"}                    # so does os._exit


def test_the_tamperer_gains_nothing(course):
    book = course.gradebook()
    assert sum(book["frank"].values()) == course.cli["frank_untampered"]["score"] < rubric.TOTAL
    assert cli_points(course.cli["frank"]) == cli_points(course.cli["frank_untampered"])


def test_hanging_and_dying_kernels_do_not_stop_the_class(course):
    log = course.autograde.stdout + course.autograde.stderr
    assert "There was an error processing" not in log
    for student in course.students:
        path = course.path("autograded", student, ASSIGNMENT, ASSIGNMENT + ".ipynb")
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
        assert nb["metadata"]["kernelspec"]["name"] == "python3"
        outputs = {c["metadata"]["nbgrader"]["grade_id"]: c["outputs"] for c in nb["cells"]
                   if c["metadata"].get("nbgrader", {}).get("grade")}
        assert len(outputs) == len(rubric.ITEMS), student
        for grade_id, out in outputs.items():     # the verdict is the cell's only output
            assert len(out) in (1, 2) and rubric.rubric_id(grade_id) in json.dumps(out), (student, grade_id)
    stopped = {s: open(course.path("autograded", s, ASSIGNMENT, ASSIGNMENT + ".ipynb"), encoding="utf-8").read()
               for s in ("erin", "heidi")}
    assert "The Python kernel died" in stopped["heidi"]          # said in the cells that were not run
    assert "CellTimeoutError" in stopped["erin"] or "did not answer an interrupt" in stopped["erin"]


def test_feedback_shows_the_verdicts_but_never_the_hidden_tests(course):
    with open(SOURCE, encoding="utf-8") as f:
        hidden = ns.hidden_lines(json.load(f))
    for student in course.students:
        path = course.path("feedback", student, ASSIGNMENT, ASSIGNMENT + ".html")
        text = ns.html_text(path)
        assert "HIDDEN TESTS" not in text and not [h for h in hidden if h in text], student
        assert "Score: " in text, student
        for notes in re.findall(r"Notes on your notebook:(.*?)Graded by the autograder", text, re.S):
            assert "lesson_tools" not in notes, student   # a note no student can act on
    frank = ns.html_text(course.path("feedback", "frank", ASSIGNMENT, ASSIGNMENT + ".html"))
    assert "[hidden]" in frank                    # his print(In) was blanked, not just missing
    bob = ns.html_text(course.path("feedback", "bob", ASSIGNMENT, ASSIGNMENT + ".html"))
    assert "init.small_scale: 0/15 points" in bob and "Section" in bob
    dave = ns.html_text(course.path("feedback", "dave", ASSIGNMENT, ASSIGNMENT + ".html"))
    assert "syntax error" in dave                 # the grader's note says which cell was skipped


def test_export_has_the_command_line_totals(course):
    with open(course.path("grades.csv"), encoding="utf-8") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f) if r["assignment"] == ASSIGNMENT}
    assert set(rows) == set(course.students)
    for student, row in rows.items():
        assert float(row["score"]) == course.cli[student]["score"], student
        assert float(row["max_score"]) == rubric.TOTAL


def test_audit_names_exactly_the_student_whose_gradebook_was_edited(course):
    from nbgrader.api import Gradebook
    db = "sqlite:///" + course.path("gradebook.db")
    with Gradebook(db) as gb:     # what a kernel running as the instructor could have done
        grade = gb.find_grade(rubric.grade_id("init.small_scale"), ASSIGNMENT, ASSIGNMENT, "bob")
        before, grade.auto_score = grade.auto_score, 15.0
        gb.db.commit()
    try:
        done = subprocess.run([sys.executable, "-m", "autograder", "audit", course.root, ASSIGNMENT, "-j", "2"],
                              cwd=ROOT, capture_output=True, text=True, timeout=600)
    finally:
        with Gradebook(db) as gb:
            gb.find_grade(rubric.grade_id("init.small_scale"), ASSIGNMENT, ASSIGNMENT, "bob").auto_score = before
            gb.db.commit()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Audited %d submitted notebooks" % len(course.students) in done.stdout
    listed = [line.split()[0] for line in done.stdout.splitlines()
              if line and not line.startswith((" ", "Audited"))]
    assert listed == ["bob"], done.stdout       # everyone else agrees with the isolated grader
    assert re.search(r"init\.small_scale\s+gradebook\s+15\s+isolated\s+0", done.stdout), done.stdout


def test_audit_report_when_all_agree_and_when_not_autograded():
    from autograder.platforms.nbgrader import audit
    full = {i.id: float(i.points) for i in rubric.ITEMS}
    book = {("ann", ASSIGNMENT): {i: (p, False) for i, p in full.items()}}
    submitted = {("ann", ASSIGNMENT): "a.ipynb", ("ben", ASSIGNMENT): "b.ipynb"}
    assert audit.compare(book, {("ann", ASSIGNMENT): full}, {("ann", ASSIGNMENT): "a.ipynb"}) == []
    assert "every gradebook score equals" in audit.report(1, [])
    listed = audit.compare(book, {k: full for k in submitted}, submitted)
    assert [(r["student"], r["why"]) for r in listed] == [("ben", "submitted but not autograded")]
    manual = {("ann", ASSIGNMENT): dict(book[("ann", ASSIGNMENT)], **{"init.shapes": (0.0, True)})}
    listed = audit.compare(manual, {("ann", ASSIGNMENT): full}, {("ann", ASSIGNMENT): "a.ipynb"})
    assert listed[0]["why"] == "includes a manual grade" and listed[0]["items"] == [("init.shapes", 0.0, 10.0)]


def test_audit_without_nbgrader_says_how_to_install_it(tmp_path):
    fake = tmp_path / "nbgrader"          # a package that fails to import hides the real one
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('nbgrader is not installed')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), ROOT]))
    done = subprocess.run([sys.executable, "-m", "autograder", "audit", str(tmp_path), ASSIGNMENT],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "pip install" in done.stderr and "Traceback" not in done.stderr, done.stderr
    shutil.rmtree(fake)
