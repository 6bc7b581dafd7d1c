"""A real nbgrader course, end to end: its scores are the command line's, whatever students do.

One temporary course (tests/nbgrader_support.py) is built from the committed source notebook
and run with real nbgrader, from the interpreter running the tests: generate_assignment;
submissions from thirteen students; autograde; generate_feedback; export; then an attack from a
detached process, and the audit. With the default configuration no student code runs in a
kernel, so the attacks written into notebooks must have no effect at all.

    alice   the reference solution, full release notebook, with outputs she saved (and a forged
            "Passed" saved in a grade cell)
    bob     wrong: weights ten times too large (tests/corpus/wrong/scale_0_1.py)
    carol   wrong: dW1 transposed (tests/corpus/wrong/dw1_transposed.py)
    dave    a syntax error in forward's cell
    erin    forward loops forever and swallows interrupts
    frank   kernel forgery: cells that replace numpy, builtins and autograder.notebook, rewrite any
            results.json, the ledger and the gradebook, print the input history; a fake grade cell
            worth 50 points; forged saved outputs in every grade cell; wrong functions
    grace   correct, but every function warns and writes to stderr
    heidi   forward calls os._exit
    ivan    reads the solution and a classmate: top-level cells print them (a kernel attack), and
            his functions raise their contents as exception messages (an attack on the grader)
    judy    the solution with broken metadata: a duplicated grade_id, a deleted grade cell, a grade
            cell retyped as Markdown, a second cell claiming a solution cell's id
    ken     the solution with every cell's nbgrader metadata removed
    leo     the solution copied into a fresh notebook (nbformat 4.4, one cell)
    mallory zero weights, and a cell that would start a detached process to raise her score and
            swap her file. The test then does exactly that from a detached process of its own,
            after autograde (what a kernel of an unsafe course could leave behind).

Issue 21 (what the instructor opens runs nothing; every handed-in notebook gets its grade):

    oscar   zero weights (65), with markdown, raw cells, attachments and outputs that try to run
            script, draw a fake "100/100" box and restyle the page (tests/corpus/notebooks/markup_attack.ipynb)
    peggy   first hands in the solution (100), then zero weights (65) with the grade cell init-shapes
            given the notes cell's id and a lesson cell given the id init-zero_biases; re-autograded
            with --force
    quentin the solution, with the grader's own sentences in a string of his code and in a
            scratch.ipynb next to his notebook (they used to blank those lines in classmates' feedback)
    rupert  the solution, saved with a UTF-8 byte-order mark
    sybil   the solution, with one output nested 700 lists deep
    trent   the solution, with a 6 MB image output and a 2-million-character output line
    ursula  a relative link to the course's source notebook (an unzipped LMS download keeps links),
            and a notes.txt beside it that links there too
    victor  a file that is not JSON

The command line's scores are computed on copies of the files as handed in.
"""

import csv
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time

import pytest

from autograder import rubric
from autograder.grading import hints
from autograder.grading.report import num
from autograder.notebook import split_hidden
from conftest import CORPUS, ROOT, SOLUTION, need

need("nbformat", "nbgrader")     # leaks.py reads notebooks: without the extra, a skip with its reason
from autograder.platforms.nbgrader import leaks  # noqa: E402

import nbgrader_support as ns

ASSIGNMENT = ns.ASSIGNMENT
COMMITTED_RELEASE = os.path.join(ROOT, "assignment", ASSIGNMENT + ".ipynb")
SOURCE = os.path.join(ROOT, "solutions", "source", ASSIGNMENT, ASSIGNMENT + ".ipynb")
KERNEL_MARK = "KERNEL_RAN_"        # a file <course>/KERNEL_RAN_<student> proves a notebook cell ran
MARKUP_ATTACK = os.path.join(CORPUS, "notebooks", "markup_attack.ipynb")
# Sentences of the grader that bob's feedback holds (he loses init.small_scale) and quentin's code quotes.
GRADER_SENTENCES = ["Read: Section 2, 'Small random weights' of the notebook.",
                    "Graded by the autograder in a separate process, on many cases; the quick check in this cell "
                    "tries only one."]
QUOTER = '_quoted = """\n' + "\n".join(GRADER_SENTENCES) + '\n"""'
UNREADABLE = {"ursula", "victor"}   # a link, and a file that is no JSON: every item 0, with the reason

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
FORGE = """import glob, json, os, sqlite3
open({course!r} + '/KERNEL_RAN_frank', 'w').write('ran')
for path in glob.glob('/tmp/**/results.json', recursive=True):
    json.dump({{'score': 100, 'tests': []}}, open(path, 'w'))
for path in glob.glob({course!r} + '/autograde_ledger/**/*.json', recursive=True):
    open(path, 'w').write('{{"score": 100}}')
db = sqlite3.connect({course!r} + '/gradebook.db')
db.execute('UPDATE grade SET auto_score = 100, extra_credit = 50')
db.commit()"""
LEAK = "print(In)\nprint(repr(In))"
STUBBORN_FORWARD = '''def forward(X, parameters):
    while True:
        try:
            while True:
                pass
        except KeyboardInterrupt:
            pass
'''
READER = """import glob
open({course!r} + '/KERNEL_RAN_ivan', 'w').write('ran')
for path in [{solution!r}, {source!r}] + glob.glob({course!r} + '/submitted/*/random_init/*.ipynb'):
    print(open(path).read())"""
READING_FUNCTIONS = '''import numpy as np


def initialize_parameters(n_x, n_h, n_y):
    raise ValueError(open({solution!r}).read())


def forward(X, parameters):
    raise RuntimeError(open({source!r}).read() + open({classmate!r}).read())


def backward(parameters, cache, X, Y):
    raise RuntimeError(open({classmate!r}).read())
'''
# Run by mallory's notebook if a kernel ever ran it, and by the test itself after autograde: a
# process that detaches (new session, double fork), then raises her scores, gives her extra
# credit, sets a classmate's manual score, and swaps her submitted file for alice's.
DETACHED = """import os, sqlite3, shutil, sys, time
course, mark = {course!r}, {mark!r}
if os.fork():
    sys.exit(0)
os.setsid()
if os.fork():
    os._exit(0)
time.sleep(0.5)
db = sqlite3.connect(course + '/gradebook.db')
rows = db.execute('SELECT grade.id, base_cell.name, submitted_assignment.student_id, grade_cells.max_score '
                  'FROM grade JOIN base_cell ON grade.cell_id = base_cell.id '
                  'JOIN grade_cells ON grade_cells.id = base_cell.id '
                  'JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id '
                  'JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id').fetchall()
for grade_id, cell, student, top in rows:
    if student == 'mallory':
        db.execute('UPDATE grade SET auto_score = ? WHERE id = ?', (top, grade_id))
        if cell == 'init-shapes':
            db.execute('UPDATE grade SET extra_credit = 5 WHERE id = ?', (grade_id,))
    if student == 'bob' and cell == 'init-small_scale':
        db.execute('UPDATE grade SET manual_score = 15 WHERE id = ?', (grade_id,))
db.commit()
shutil.copyfile(course + '/submitted/alice/random_init/random_init.ipynb',
                course + '/submitted/mallory/random_init/random_init.ipynb')
open(mark, 'w').write('done')
os._exit(0)"""


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


def with_saved_outputs(nb):
    """alice saved outputs: a plot's text in a lesson cell, and a forged "Passed" in a grade cell."""
    lesson = next(c for c in nb["cells"] if c["cell_type"] == "code" and not c["metadata"].get("nbgrader"))
    lesson["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "alice saved this: 4242\n"},
                         {"output_type": "display_data", "metadata": {},
                          "data": {"text/plain": "<Figure>", "text/html": "<script>alert(1)</script>"}}]
    ns.grade_cells(nb)[0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "Passed (forged)\n"}]
    return nb


def forged(nb, course):
    """frank's notebook: tampering and forging cells, a fake grade cell, forged grade cell outputs."""
    nb = ns.extra_cells(nb, TAMPERING + [FORGE.format(course=course)])
    nb = ns.extra_cells(nb, [LEAK], after=None)
    for cell in ns.grade_cells(nb):
        cell["outputs"] = [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                            "data": {"text/plain": "99"}}]
    nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "bonus", "outputs": [],
                        "source": "print('bonus')", "metadata": {"nbgrader": {
                            "grade": True, "grade_id": "bonus", "points": 50, "locked": False, "solution": False,
                            "task": False, "schema_version": 3}}})
    return nb


def students(release, course):
    """{student: notebook} as described in this module's docstring."""
    def wrong(name):
        return ns.fill(release, path=os.path.join(CORPUS, "wrong", name))
    paths = dict(course=course, solution=SOLUTION, source=os.path.join(course, "solutions", "source", ASSIGNMENT,
                                                                        ASSIGNMENT + ".ipynb"),
                 classmate=os.path.join(course, "submitted", "alice", ASSIGNMENT, ASSIGNMENT + ".ipynb"))
    with open(SOLUTION, encoding="utf-8") as f:
        solution_code = f.read()
    return {
        "alice": with_saved_outputs(ns.fill(release, path=SOLUTION)),
        "bob": wrong("scale_0_1.py"),
        "carol": wrong("dw1_transposed.py"),
        "dave": ns.fill(release, path=SOLUTION, replace={"forward": "def forward(X, parameters):\n"
                                                                    "    return X +* parameters\n"}),
        "erin": ns.fill(release, path=SOLUTION, replace={"forward": STUBBORN_FORWARD}),
        "frank": forged(ns.fill(release, tampered_functions()), course),
        "grace": ns.fill(release, noisy_solution()),
        "heidi": ns.fill(release, path=os.path.join(CORPUS, "hostile", "os_exit_in_forward.py")),
        "ivan": ns.extra_cells(ns.fill(release, READING_FUNCTIONS.format(**paths)), [READER.format(**paths)]),
        "judy": ns.broken_metadata(ns.fill(release, path=SOLUTION)),
        "ken": ns.without_nbgrader_metadata(ns.fill(release, path=SOLUTION)),
        "leo": ns.fresh_notebook(solution_code),
        "mallory": ns.extra_cells(wrong("zero_weights.py"), [DETACHED.format(
            course=course, mark=os.path.join(course, KERNEL_MARK + "mallory"))]),
        "oscar": ns.with_cells(wrong("zero_weights.py"), ns.attack_cells(MARKUP_ATTACK)),
        "peggy": ns.hidden_grade_cell(wrong("zero_weights.py")),
        "quentin": ns.extra_cells(ns.fill(release, path=SOLUTION), [QUOTER]),
        "rupert": ns.fill(release, path=SOLUTION),
        "sybil": ns.deeply_nested_output(ns.fill(release, path=SOLUTION)),
        "trent": ns.big_outputs(ns.fill(release, path=SOLUTION)),
        "ursula": {"cells": []},
        "victor": {"cells": []},
    }


def hand_in_odd_files(c):
    """The files of issue 21 that are not plain notebooks: a BOM, a link, broken JSON, a scratch notebook."""
    data = json.dumps(c.students["rupert"], indent=1).encode("utf-8")
    ns.write_bytes(c.submitted["rupert"], b"\xef\xbb\xbf" + data)
    ns.link_to(c.submitted["ursula"], c.path("solutions", "source", ASSIGNMENT, ASSIGNMENT + ".ipynb"))
    notes = os.path.join(os.path.dirname(c.submitted["ursula"]), "notes.txt")     # nbgrader would copy it
    os.symlink(os.path.relpath(c.path("solutions", "source", ASSIGNMENT, ASSIGNMENT + ".ipynb"),
                               os.path.dirname(notes)), notes)
    ns.write_bytes(c.submitted["victor"], b'{"cells": [{"cell_type": "code", "source": "import numpy')
    scratch = ns.extra_cells(c.release_notebook(), GRADER_SENTENCES, after=None)
    with open(os.path.join(os.path.dirname(c.submitted["quentin"]), "scratch.ipynb"), "w", encoding="utf-8") as f:
        json.dump(scratch, f)


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
    need("nbgrader", "nbgrader")
    need("ipykernel", "nbgrader")
    c = ns.Course(tmp_path_factory.mktemp("course"))
    c.students = students(c.release_notebook(), c.root)
    first = dict(c.students, peggy=ns.fill(c.release_notebook(), path=SOLUTION))   # her first hand-in: 100
    c.submitted = {name: c.submit(name, nb) for name, nb in first.items()}
    hand_in_odd_files(c)
    c.autograde = c.nbgrader("autograde", ASSIGNMENT)          # every student, one nbgrader run
    c.first_book = c.gradebook()
    c.submit("peggy", c.students["peggy"])                     # then she hands in again; autograde --force
    c.reautograde = c.nbgrader("autograde", ASSIGNMENT, "--force", "--student", "peggy")
    handed_in = tmp_path_factory.mktemp("handed_in")         # the files as handed in, for the CLI
    c.handed_in = {}
    for name, path in c.submitted.items():
        os.makedirs(str(handed_in / name))
        c.handed_in[name] = str(handed_in / name / os.path.basename(path))
        if os.path.islink(path):          # a link handed in stays a link to the same file
            os.symlink(os.path.realpath(path), c.handed_in[name])
        else:
            shutil.copy(path, c.handed_in[name])
    c.book = c.gradebook()                                     # before anything else touches it
    c.nbgrader("generate_feedback", ASSIGNMENT)
    c.nbgrader("export")
    frank_untampered = c.path("frank-untampered.ipynb")
    with open(frank_untampered, "w", encoding="utf-8") as f:
        json.dump(ns.fill(c.release_notebook(), tampered_functions()), f)
    c.cli = cli_results(dict(c.handed_in, frank_untampered=frank_untampered), tmp_path_factory.mktemp("cli"))
    return c


def cli_points(results):
    return {t["tags"][0]: t["score"] for t in results["tests"]}


def feedback(course, student):
    return ns.html_text(course.path("feedback", student, ASSIGNMENT, ASSIGNMENT + ".html"))


def autograded(course, student):
    with open(course.path("autograded", student, ASSIGNMENT, ASSIGNMENT + ".ipynb"), encoding="utf-8") as f:
        return json.load(f)


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
    assert set(course.book) == set(course.students), course.autograde.stdout + course.autograde.stderr
    for student in course.students:
        expected = cli_points(course.cli[student])
        got = {rubric.rubric_id(g): s for g, s in course.book[student].items()}
        assert got == expected, student
        assert sum(got.values()) == course.cli[student]["score"], student


def test_scores_are_what_each_submission_deserves(course):
    lost = {s: {i for i, p in cli_points(course.cli[s]).items() if p < rubric.BY_ID[i].points}
            for s in course.students}
    for student in ("alice", "grace", "judy", "ken", "leo"):     # warnings, stderr, broken metadata: free
        assert lost[student] == set(), student
    assert lost["bob"] == {"init.small_scale"}
    assert lost["carol"] == {"backward.shapes", "backward.gradients"}
    assert lost["dave"] == {"forward.values"}                     # the syntax error costs forward only
    assert lost["erin"] == {"forward.values"}                     # the endless loop costs forward only
    assert lost["heidi"] == {"forward.values"}                    # so does os._exit
    assert lost["ivan"] == {i.id for i in rubric.ITEMS}           # reading files earns nothing
    assert lost["mallory"] == {"init.breaks_symmetry", "init.small_scale"}
    for student in ("oscar", "peggy"):                            # markup and cell ids change nothing
        assert lost[student] == {"init.breaks_symmetry", "init.small_scale"}, student
    for student in ("quentin", "rupert", "sybil", "trent"):       # a BOM, deep or big outputs: graded
        assert lost[student] == set(), student
    for student in UNREADABLE:                                    # a link, broken JSON: nothing graded
        assert lost[student] == {i.id for i in rubric.ITEMS}, student


def test_no_notebook_cell_ran_and_forgeries_count_for_nothing(course):
    assert not [n for n in os.listdir(course.root) if n.startswith(KERNEL_MARK)]
    assert course.book["frank"] == {rubric.grade_id(k): v for k, v in cli_points(course.cli["frank"]).items()}
    assert sum(course.book["frank"].values()) == course.cli["frank_untampered"]["score"] < rubric.TOTAL
    from nbgrader.api import Gradebook
    with Gradebook("sqlite:///" + course.path("gradebook.db")) as gb:
        grades = [g for s in gb.assignment_submissions(ASSIGNMENT) for n in s.notebooks for g in n.grades]
        assert grades and all(g.extra_credit is None and g.manual_score is None for g in grades)
        assert {g.name for g in grades} == {rubric.grade_id(i.id) for i in rubric.ITEMS}   # no "bonus" cell


def test_the_ledger_holds_each_file_as_handed_in_where_only_the_grader_can_write(course):
    ledger = course.path("autograde_ledger")
    for student, path in course.handed_in.items():
        folder = os.path.join(ledger, ASSIGNMENT, student)
        with open(os.path.join(folder, ASSIGNMENT + ".json"), encoding="utf-8") as f:
            record = json.load(f)
        if os.path.islink(path):          # a link is refused: the record says so and holds no file
            assert record["source"].startswith("refused: ") and "is a link" in record["source"], record
            assert record["bytes"] == 0 and record["score"] == 0, record
            continue
        with open(path, "rb") as f:
            assert record["sha256"] == hashlib.sha256(f.read()).hexdigest(), student
        assert record["score"] == course.cli[student]["score"], student
        for part in (ledger, os.path.join(ledger, ASSIGNMENT), folder):
            assert stat.S_IMODE(os.stat(part).st_mode) == 0o700 and os.stat(part).st_uid == os.geteuid()
        assert stat.S_IMODE(os.stat(os.path.join(folder, ASSIGNMENT + ".ipynb")).st_mode) == 0o400


def test_grade_cells_hold_only_the_verdict_and_nothing_hidden(course):
    for run in (course.autograde, course.reautograde):
        log = run.stdout + run.stderr
        assert "There was an error processing" not in log, log[-3000:]
    with open(SOURCE, encoding="utf-8") as f:
        hidden = ns.hidden_lines(json.load(f))
    for student in course.students:
        nb = autograded(course, student)
        text = json.dumps(nb)
        assert "HIDDEN TESTS" not in text and not [h for h in hidden if h in text], student
        outputs = {c["metadata"]["nbgrader"]["grade_id"]: c["outputs"] for c in nb["cells"]
                   if c["metadata"].get("nbgrader", {}).get("grade")}
        assert sorted(outputs) == sorted(rubric.grade_id(i.id) for i in rubric.ITEMS), student
        for grade_id, out in outputs.items():     # the verdict is the cell's only output
            assert len(out) in (1, 2) and rubric.rubric_id(grade_id) in json.dumps(out), (student, grade_id)
            assert "forged" not in json.dumps(out) and "99" not in [o.get("data", {}).get("text/plain")
                                                                    for o in out], (student, grade_id)


def test_saved_outputs_stay_labelled_and_plain(course):
    nb = autograded(course, "alice")
    kept = [c for c in nb["cells"] if c["cell_type"] == "code" and c["outputs"]
            and not c["metadata"].get("nbgrader")]
    assert len(kept) == 1
    texts = json.dumps(kept[0]["outputs"])
    assert "did not run this cell" in texts and "alice saved this: 4242" in texts and "<Figure>" in texts
    assert "<script>" not in texts                       # only plain text and images are kept
    page = feedback(course, "alice")
    assert "alice saved this: 4242" in page and "The autograder did not run this cell" in page


def test_broken_metadata_is_repaired_and_said_in_the_feedback(course):
    judy, ken, leo = (feedback(course, s) for s in ("judy", "ken", "leo"))
    assert "second cell named init-shapes" in judy and "forward-values was missing" in judy
    assert "backward-shapes had been changed into a markdown cell" in judy
    assert "none of the assignment's nbgrader cells" in ken
    assert "none of the assignment's nbgrader cells" in leo
    for student in ("judy", "ken", "leo"):
        assert "Autograder: 100/100 points" in feedback(course, student), student


def _secret_lines(course, student):
    """Lines this student may not see: the solution, hidden tests, classmates' own work."""
    with open(SOURCE, encoding="utf-8") as f:
        source = json.load(f)
    release = "\n".join("".join(c["source"]) for c in course.release_notebook()["cells"])   # anyone's to read
    own = set(leaks.code_lines(course.students[student]))
    secrets = set(ns.hidden_lines(source)) | set(leaks.solution_lines(source))
    for other, nb in course.students.items():
        if other != student:
            secrets |= set(leaks.code_lines(nb))
    secrets -= set(GRADER_SENTENCES)      # quentin copied them from the grader: they are the grader's, not his
    said_by_grader = " ".join(h.text for h in hints.HINTS.values())   # a hint may show a line as the fix
    secrets = {s for s in secrets if s not in said_by_grader}
    return {s for s in secrets - own if len(s) >= leaks.MIN_LINE and s not in release}


def test_feedback_shows_verdicts_and_never_a_secret(course):
    for student in course.students:
        text = feedback(course, student)
        assert "Autograder: %s/100 points" % num(course.cli[student]["score"]) in text, student
        leaked = [s for s in _secret_lines(course, student) if s in text]
        assert not leaked, (student, leaked[:3])
    bob = feedback(course, "bob")
    assert "init.small_scale: 0/15 points" in bob and "Section" in bob
    assert "syntax error" in feedback(course, "dave")       # the grader's note says which cell was skipped
    ivan = feedback(course, "ivan")             # his exceptions are reported, without what they read:
    assert "initialize_parameters raised" in ivan and "forward raised" in ivan   # denied, or scrubbed


def test_export_has_the_command_line_totals(course):
    with open(course.path("grades.csv"), encoding="utf-8") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f) if r["assignment"] == ASSIGNMENT}
    assert set(rows) == set(course.students)
    for student, row in rows.items():
        assert float(row["score"]) == course.cli[student]["score"], student
        assert float(row["max_score"]) == rubric.TOTAL


# --- issue 21: inert pages, the course's cell ids, scrubbing, readable notebooks, size, links ----------

def feedback_page(course, student):
    with open(course.path("feedback", student, ASSIGNMENT, ASSIGNMENT + ".html"), encoding="utf-8") as f:
        return f.read()


def test_student_markup_is_inert_and_framed_in_the_feedback(course):
    """oscar's markdown, raw cells, attachments and outputs try to run script and draw "100/100"."""
    from autograder.platforms.nbgrader import inert
    page = feedback_page(course, "oscar")
    assert ns.active_markup(page) == [], ns.active_markup(page)[:5]
    text = feedback(course, "oscar")
    assert "Autograder: 65/100 points" in text
    assert "<script>window.PWNED_markdown" in text      # the student's text is kept, shown as text
    assert text.count(inert.FRAME_LABEL) == 3           # one markdown cell and two raw cells, each framed
    assert inert.FRAME_LABEL not in feedback(course, "alice")     # the course's own cells are not framed
    assert "bad.png" in text and "evil.svg" in text and "dropped" in text      # the notes cell says so


def test_the_autograded_notebook_keeps_no_active_markup(course):
    from autograder.platforms.nbgrader import inert
    nb = autograded(course, "oscar")
    framed = [c for c in nb["cells"] if inert.FRAME_CLASS in "".join(c["source"])]
    assert sorted(c["cell_type"] for c in framed) == ["markdown", "raw", "raw"]
    markdown = next(c for c in framed if c["cell_type"] == "markdown")
    assert set(markdown.get("attachments", {})) == {"dot.png"} and markdown["metadata"] == {}
    body = "".join(markdown["source"]).split("</em>", 1)[1]
    assert "<" not in body.replace("</blockquote>", "") and "javascript:" not in body.lower()
    for raw in (c for c in framed if c["cell_type"] == "raw"):
        assert raw["metadata"] == {"raw_mimetype": "text/html"} and "&lt;script&gt;" in "".join(raw["source"])
    assert set(nb["metadata"]) == {"kernelspec", "language_info"}      # no title from the student
    outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    assert ns.MARKER not in json.dumps(outputs)
    # The only HTML is the grader's verdict boxes: our tags around escaped text (issue 27, item 3).
    boxes = ["".join(o["data"]["text/html"]) for o in outputs if "text/html" in o.get("data", {})]
    assert len(boxes) == len(rubric.ITEMS), boxes
    ours = r'<div class="alert alert-(success|danger) autograder-verdict autograder-(passed|failed)">|</?strong>|' \
           r'<pre><code>|</code></pre></div>'
    assert [b for b in boxes if "<" in re.sub(ours, "", b)] == []


def test_a_cell_id_cannot_hide_a_grade_cell_even_after_a_force(course):
    """peggy's grade cell init-shapes carries the notes cell's id; she had 100 from a first hand-in."""
    assert sum(course.first_book["peggy"].values()) == rubric.TOTAL
    expected = {rubric.grade_id(k): v for k, v in cli_points(course.cli["peggy"]).items()}
    assert course.book["peggy"] == expected and sum(expected.values()) == 65
    nb = autograded(course, "peggy")
    ids = [c["id"] for c in nb["cells"]]
    assert len(ids) == len(set(ids)) and ids[0] == "autograder-notes" and "Autograder:" in "".join(
        nb["cells"][0]["source"])
    grades = ns.grade_cells(nb)
    assert [c["id"] for c in grades] == [c["metadata"]["nbgrader"]["grade_id"] for c in grades]
    assert len(ns.grade_cells(nb)) == len(rubric.ITEMS)
    assert "had the id 'init-zero_biases', which belongs to a cell of the course" in feedback(course, "peggy")


def test_grader_sentences_survive_a_classmate_who_quotes_them(course):
    """quentin's code and scratch.ipynb hold the grader's sentences; bob's feedback keeps them."""
    bob = feedback(course, "bob")
    for sentence in GRADER_SENTENCES:
        assert sentence in bob
    for student in course.students:
        if student != "ivan":          # his exceptions quote files he cannot read: those are removed
            assert "[removed:" not in feedback(course, student), student


def test_a_bom_deep_outputs_and_big_outputs_get_their_grade_and_feedback(course):
    from autograder.sandbox import submission
    assert os.path.getsize(course.handed_in["trent"]) > submission.MAX_BYTES      # over the code cap
    for student in ("rupert", "sybil", "trent"):
        assert course.cli[student]["score"] == rubric.TOTAL == sum(course.book[student].values()), student
        assert "Autograder: 100/100 points" in feedback(course, student), student
    assert "byte-order mark" in feedback(course, "rupert")
    assert "nested more than 64 levels deep" in feedback(course, "sybil")
    trent = feedback(course, "trent")
    assert "more characters not shown" in trent and "too large or not a valid image" in trent
    assert os.path.getsize(course.path("feedback", "trent", ASSIGNMENT, ASSIGNMENT + ".html")) < 2 * 10**6


def test_a_file_neither_can_read_gets_the_same_clear_message_in_both(course):
    said = course.cli["victor"]["tests"][0]["output"].splitlines()[0]
    assert "is not a readable notebook (its JSON is broken or cut off)" in said
    victor = feedback(course, "victor")
    assert said in victor and "Autograder: 0/100 points" in victor and "could not be read as a notebook" in victor


def test_a_linked_submission_is_refused_not_graded_as_its_target(course):
    ursula = feedback(course, "ursula")
    assert "Autograder: 0/100 points" in ursula and "is a link, and the grader follows no link" in ursula
    assert "is a link, and the grader follows no link" in course.cli["ursula"]["tests"][0]["output"]
    with open(SOURCE, encoding="utf-8") as f:
        solution = [line for line in leaks.solution_lines(json.load(f)) if len(line) >= leaks.MIN_LINE]
    text = json.dumps(autograded(course, "ursula"))
    assert solution and not [line for line in solution if line in text or line in ursula]
    for folder in ("autograded", "feedback"):          # nbgrader's copy of the linked notes.txt is removed
        assert not os.path.lexists(course.path(folder, "ursula", ASSIGNMENT, "notes.txt")), folder
    assert "notes.txt is a link (or inside a linked folder) and was not copied" in ursula


def run_audit(course):
    return subprocess.run([sys.executable, "-m", "autograder", "audit", course.root, ASSIGNMENT, "-j", "2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


def listed(done):
    return {line.split()[0]: line for line in done.stdout.splitlines()
            if line and not line.startswith((" ", "Audited"))}


@pytest.fixture(scope="module")
def attacked(course):
    """The audit before, and after a detached process edited the gradebook and swapped a file."""
    before = run_audit(course)
    mark = course.path("detached-done")
    subprocess.run([sys.executable, "-c", DETACHED.format(course=course.root, mark=mark)], timeout=60,
                   check=True, start_new_session=True)
    deadline = time.monotonic() + 30
    while not os.path.exists(mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert os.path.exists(mark), "the detached process did not finish"
    return before, run_audit(course)


def test_audit_agrees_with_an_untouched_course_and_lists_the_link(attacked):
    """Every gradebook score agrees; the linked submission is listed all the same (issue 21)."""
    before, _ = attacked
    assert before.returncode == 1, before.stdout + before.stderr
    rows = listed(before)
    assert set(rows) == {"ursula"}, before.stdout
    assert "the submitted file is refused (" in rows["ursula"] and "and was not graded" in rows["ursula"]
    assert "is a link, and the grader follows no link" in rows["ursula"], rows["ursula"]
    assert "solutions/source/random_init/random_init.ipynb" in rows["ursula"], rows["ursula"]   # its target
    assert "gradebook      0  isolated      0" in rows["ursula"], rows["ursula"]
    assert "links in the submitted folder" in rows["ursula"] and "random_init/notes.txt -> " in rows["ursula"]


def test_audit_flags_a_detached_process_that_edited_grades_and_swapped_a_file(course, attacked):
    _, after = attacked
    assert after.returncode == 1, after.stdout + after.stderr
    rows = listed(after)
    assert set(rows) == {"mallory", "bob", "ursula"}, after.stdout        # everyone else agrees
    mallory = rows["mallory"]
    assert "submitted file changed after autograde" in mallory and "extra credit 5" in mallory, mallory
    assert "gradebook differs from the isolated grader" in mallory, mallory
    assert re.search(r"isolated\s+%s\b" % num(course.cli["mallory"]["score"]), mallory), mallory
    assert re.search(r"init\.breaks_symmetry\s+gradebook\s+20\s+isolated\s+0", after.stdout), after.stdout
    bob = rows["bob"]
    assert "manual score 15 on the autograded cell init.small_scale (isolated grader: 0), which changes the " \
           "total" in bob, bob
    assert "Audited %d submitted notebooks" % len(course.students) in after.stdout
