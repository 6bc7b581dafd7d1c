"""The course's nbgrader steps on their own, and execution mode in a real course (root only).

The end-to-end course with every attack is tests/test_nbgrader_course.py; these are the pieces
it relies on, each with a case it must refuse: hidden tests stripped for feedback, verdicts
scored by nbgrader's own ``determine_grade`` outside a course, the audit's comparison and its
ledger evidence, the ledger's history, the scrubbing of grader messages; and a course in
execution mode whose kernel must run as a private uid, in a scratch copy, without network,
and leave no process behind.
"""

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import time

import pytest

from autograder import rubric
from conftest import CORPUS, ROOT, SOLUTION, need

import nbgrader_support as ns
from test_nbgrader_course import KERNEL_MARK, autograded, cli_points, cli_results

ASSIGNMENT = ns.ASSIGNMENT
COMMITTED_RELEASE = os.path.join(ROOT, "assignment", ASSIGNMENT + ".ipynb")


def test_hide_hidden_tests_strips_regions_and_quoted_lines():
    need("nbgrader", "nbgrader")
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
    need("nbgrader", "nbgrader")
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


def test_audit_report_when_all_agree_and_when_not_autograded():
    from autograder.platforms.nbgrader import audit
    full = {i.id: float(i.points) for i in rubric.ITEMS}
    key = ("ann", ASSIGNMENT)
    book = {key: {i: (p, None, None) for i, p in full.items()}}
    submitted = {key: "a.ipynb", ("ben", ASSIGNMENT): "b.ipynb"}
    assert audit.compare(book, {key: full}, {key: "a.ipynb"}) == []
    assert "every gradebook score equals" in audit.report(1, [])
    rows = audit.compare(book, {k: full for k in submitted}, submitted)
    assert [(r["student"], r["why"]) for r in rows] == [("ben", "submitted but not autograded")]
    manual = {key: dict(book[key], **{"init.shapes": (0.0, 0.0, None)})}
    rows = audit.compare(manual, {key: full}, {key: "a.ipynb"})
    assert rows[0]["why"].startswith("includes a manual grade") and rows[0]["items"] == [("init.shapes", 0.0, 10.0)]
    assert "manual score 0 on the autograded cell init.shapes (isolated grader: 10), which changes" in rows[0]["why"]
    same = {key: dict(book[key], **{"init.shapes": (10.0, 10.0, 2.0)})}     # a manual grade that agrees
    rows = audit.compare(same, {key: full}, {key: "a.ipynb"})
    assert rows[0]["items"] == [] and "which changes" not in rows[0]["why"]
    assert "manual score 10 on the autograded cell init.shapes" in rows[0]["why"] and "extra credit 2" in rows[0]["why"]


def test_audit_without_a_ledger_record_lists_the_notebook(tmp_path):
    from autograder.platforms.nbgrader import audit
    full = {i.id: float(i.points) for i in rubric.ITEMS}
    key = ("ann", ASSIGNMENT)
    path = tmp_path / "a.ipynb"
    path.write_bytes(b"handed in")
    book = {key: {i: (p, None, None) for i, p in full.items()}}
    rows = audit.compare(book, {key: full}, {key: str(path)}, ledger={})
    assert "no autograde record in the ledger" in rows[0]["why"]
    record = {"sha256": hashlib.sha256(b"handed in").hexdigest(), "score": 100}
    ledger = {key: (record, "copy", record["sha256"])}
    assert audit.compare(book, {key: full}, {key: str(path)}, ledger=ledger) == []
    path.write_bytes(b"swapped")
    rows = audit.compare(book, {key: full}, {key: str(path)}, ledger=ledger)
    assert "submitted file changed after autograde" in rows[0]["why"]
    rows = audit.compare(book, {key: full}, {key: str(path)}, ledger={key: (record, "copy", "0" * 64)})
    assert "no longer matches its recorded SHA-256" in rows[0]["why"]


def test_the_ledger_never_overwrites_a_record_of_other_bytes(tmp_path):
    need("nbgrader", "nbgrader")
    from autograder.platforms.nbgrader import record
    key, ledger = ("ann", ASSIGNMENT, ASSIGNMENT), str(tmp_path / "ledger")
    copy, first = record.record_submission(ledger, key, b"first", "submitted")
    assert record.read_record(ledger, key) == (first, b"first")
    assert stat.S_IMODE(os.stat(copy).st_mode) == 0o400 and stat.S_IMODE(os.stat(ledger).st_mode) == 0o700
    record.record_submission(ledger, key, b"first", "submitted")           # the same bytes again
    history = os.path.join(os.path.dirname(copy), "history")
    assert not os.path.exists(history)
    record.record_submission(ledger, key, b"second", "submitted")
    assert record.read_record(ledger, key)[1] == b"second"
    kept = sorted(os.listdir(history))
    assert len(kept) == 2 and open(os.path.join(history, kept[0]), "rb").read() == b"first"


def test_scrubber_removes_quoted_secrets_from_the_students_text_only():
    """An exception text quoting a secret is removed; the grader's own sentences never are, even when a
    classmate's code holds them (issue 21: a classmate could blank everyone's "Likely cause" lines)."""
    from autograder.platforms.nbgrader.leaks import REMOVED, Scrubber
    secret = "W1 = np.random.randn(n_h, n_x) * 0.01"
    grader_line = "Read: Section 2, 'Small random weights' of the notebook."
    scrub = Scrubber([secret, "short line", "dW1 = np.dot(dZ1, X.T) / m", grader_line],
                     own=["dW1 = np.dot(dZ1, X.T) / m"])
    text = ("forward raised ValueError: '    %s\\n'\nfine\nbackward raised RuntimeError: dW1 = np.dot(dZ1, X.T) / m"
            "\nshort line\n%s\n%s" % (secret, grader_line, secret))
    assert scrub(text).split("\n") == ["forward raised " + REMOVED, "fine",
                                       "backward raised RuntimeError: dW1 = np.dot(dZ1, X.T) / m", "short line",
                                       grader_line, secret]
    assert Scrubber([])(text) == text


def test_audit_without_nbgrader_says_how_to_install_it(tmp_path):
    fake = tmp_path / "nbgrader"          # a package that fails to import hides the real one
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('nbgrader is not installed')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), ROOT]))
    done = subprocess.run([sys.executable, "-m", "autograder", "audit", str(tmp_path), ASSIGNMENT],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "pip install" in done.stderr and "Traceback" not in done.stderr, done.stderr
    shutil.rmtree(fake)


# --- execution mode -----------------------------------------------------------------------------------

PROBE = """import os, socket
print("uid", os.getuid(), "cwd", os.getcwd())
for path in [{course!r} + '/gradebook.db', {course!r} + '/solutions/source/random_init/random_init.ipynb']:
    try:
        open(path).read(10)
        print("READ", path)
    except OSError as exc:
        print("denied", type(exc).__name__)
try:
    open({course!r} + '/KERNEL_RAN_oscar', 'w').write('ran')
    print("WROTE course")
except OSError as exc:
    print("denied write", type(exc).__name__)
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    print("NETWORK")
except OSError as exc:
    print("no network", type(exc).__name__)
if os.fork() == 0:                  # a detached child that tries to outlive the notebook: it writes every 0.1 s
    os.setsid()
    if os.fork() == 0:              # holding none of nbgrader's pipes, so that autograde need not wait for it
        import time
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, 4096)
        for _ in range(600):
            open({late!r}, 'w').write('alive')
            time.sleep(0.1)
    os._exit(0)
print("probe done")"""


def _others_can_read(path):
    """Whether a user with no special rights can reach ``path``: every folder above it searchable by others."""
    import stat
    path = os.path.abspath(path)
    while True:
        parent = os.path.dirname(path)
        if parent == path:
            return True
        if not os.stat(parent).st_mode & stat.S_IXOTH:
            return False
        path = parent


def _site_packages_readable():
    import IPython
    return _others_can_read(os.path.dirname(IPython.__file__))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="execution mode needs root")
@pytest.mark.skipif(not _site_packages_readable(), reason="the kernel's private uid cannot read this Python's "
                    "site-packages (it lies under a folder closed to other users), as execution mode requires")
def test_execution_mode_runs_the_kernel_as_a_private_uid_with_no_network(tmp_path_factory, request):
    need("nbgrader", "nbgrader")
    need("ipykernel", "nbgrader")
    # Outside /tmp, /var/tmp and /dev/shm, which the kernel sees as private tmpfs: the course (so the probe
    # finds it and is refused by its mode, not by not seeing it) and a folder the kernel's uid may write.
    import tempfile
    outside = tempfile.mkdtemp(prefix=".autograder-exec-test-", dir=ROOT)
    request.addfinalizer(lambda: shutil.rmtree(outside, ignore_errors=True))
    os.chmod(outside, 0o711)
    drop = os.path.join(outside, "drop")
    os.mkdir(drop)
    os.chmod(drop, 0o777)
    assert _others_can_read(drop), "the kernel's uid cannot reach %s; the check below would prove nothing" % drop
    os.mkdir(os.path.join(outside, "course"), 0o700)
    c = ns.Course(os.path.join(outside, "course")).execute_student_code()
    late = os.path.join(drop, "late")
    release = c.release_notebook()
    oscar = ns.extra_cells(ns.fill(release, path=os.path.join(CORPUS, "wrong", "scale_0_1.py")),
                           [PROBE.format(course=c.root, late=late)])
    paths = {"alice": c.submit("alice", ns.fill(release, path=SOLUTION)), "oscar": c.submit("oscar", oscar)}
    cli = cli_results(paths, tmp_path_factory.mktemp("cli"))
    c.nbgrader("autograde", ASSIGNMENT)
    book = c.gradebook()
    for student in paths:
        assert {rubric.rubric_id(g): s for g, s in book[student].items()} == cli_points(cli[student]), student
    nb = autograded(c, "oscar")
    probe = next(cell for cell in nb["cells"] if "probe done" in "".join(cell["source"]))
    said = "".join("".join(o.get("text", "")) for o in probe["outputs"])
    assert "probe done" in said, said
    assert "READ" not in said and "WROTE" not in said and "NETWORK" not in said, said
    assert said.count("denied PermissionError") == 2 and "denied write PermissionError" in said, said   # by mode
    assert "uid 0 " not in said and "cwd %s" % c.root not in said, said
    assert os.path.exists(late)                     # the detached process ran while the notebook did...
    os.unlink(late)
    time.sleep(2)                                   # ...and would have written again by now, had it outlived it
    assert not os.path.exists(late) and not os.path.exists(c.path(KERNEL_MARK + "oscar"))
    alice = json.dumps(autograded(c, "alice"))
    assert "Experiment cell: not run during autograde" in alice


# --- issue 21: the pieces of the course's answer, each with the case it must refuse ----------------------

def test_grade_in_isolation_fails_loudly_when_a_grade_cell_is_missing(tmp_path):
    """nbgrader would keep an earlier autograde's points for a missing cell: the notebook must fail."""
    need("nbgrader", "nbgrader")
    import nbformat
    from autograder.platforms.nbgrader.steps import GradeInIsolation
    with open(COMMITTED_RELEASE, encoding="utf-8") as f:
        release = json.load(f)
    filled = ns.fill(release, path=SOLUTION)
    filled["cells"] = [c for c in filled["cells"]
                       if c["metadata"].get("nbgrader", {}).get("grade_id") != "init-shapes"]
    nb = nbformat.reads(json.dumps(filled), as_version=4)
    with pytest.raises(RuntimeError, match="no grade cell for init.shapes"):
        GradeInIsolation().preprocess(nb, {"metadata": {"path": str(tmp_path)}})


def test_repair_gives_course_ids_and_renames_every_cell_that_could_pass_for_one():
    need("nbgrader", "nbgrader")
    from autograder.platforms.nbgrader.repair import RepairGradeCells
    cells = [{"cell_type": "code", "id": "init-shapes", "metadata": {}, "source": "x = 1"},          # a lesson cell
             {"cell_type": "code", "id": "autograder-notes", "metadata": {"nbgrader": {"grade": True, "grade_id":
              "init-shapes", "points": 10}}, "source": "", "outputs": []},                          # the grade cell
             {"cell_type": "markdown", "id": "autograder-anything", "metadata": {}, "source": "hi"},
             {"cell_type": "markdown", "id": 'x" onclick="1', "metadata": {}, "source": "bad id"},
             {"cell_type": "markdown", "id": "mine", "metadata": {}, "source": "kept"},
             {"cell_type": "markdown", "id": "mine", "metadata": {}, "source": "twin"}]
    repair = RepairGradeCells()
    placed = {"init-shapes": 1}
    notes = repair.course_ids(cells, placed)
    ids = [c["id"] for c in cells]
    assert ids[1] == "init-shapes" and ids[4] == "mine" and len(set(ids)) == len(ids)
    assert all(i.startswith("cell-") for i in (ids[0], ids[2], ids[3], ids[5]))
    assert len(notes) == 2 and "'init-shapes'" in notes[0] and "'autograder-anything'" in notes[1]


def test_leak_filter_reads_each_classmates_graded_notebook_only(tmp_path):
    """scratch.ipynb is not graded and not read; a classmate's notebook that is a link or a FIFO is skipped."""
    need("nbgrader", "nbgrader")
    from nbgrader.coursedir import CourseDirectory
    from autograder.platforms.nbgrader import leaks
    secret = "W1 = np.random.randn(n_h, n_x) * 0.01  # mine"

    def notebook(line):
        return json.dumps({"cells": [{"cell_type": "code", "source": line, "metadata": {}, "outputs": []}]})
    for student, name, line in (("ann", ASSIGNMENT, secret), ("ann", "scratch", "only in a scratch notebook"),
                                ("bo", ASSIGNMENT, "own line of bo, long enough")):
        folder = tmp_path / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        (folder / (name + ".ipynb")).write_text(notebook(line))
    linked = tmp_path / "submitted" / "cy" / ASSIGNMENT
    linked.mkdir(parents=True)
    (tmp_path / "elsewhere.ipynb").write_text(notebook("a line only the link target has"))
    os.symlink(str(tmp_path / "elsewhere.ipynb"), str(linked / (ASSIGNMENT + ".ipynb")))
    fifo = tmp_path / "submitted" / "di" / ASSIGNMENT
    fifo.mkdir(parents=True)
    os.mkfifo(str(fifo / (ASSIGNMENT + ".ipynb")))          # a plain open() would block here for ever
    coursedir = CourseDirectory(root=str(tmp_path))
    scrub = leaks.for_course(coursedir, "bo", ASSIGNMENT, ASSIGNMENT, {"cells": []})
    assert scrub.secrets == {secret}
    said = "forward raised ValueError: %s / only in a scratch notebook / a line only the link target has" % secret
    assert scrub(said) == "forward raised " + leaks.REMOVED


def test_reading_strips_a_bom_flattens_deep_outputs_and_refuses_links(tmp_path):
    need("nbgrader", "nbgrader")
    from autograder.platforms.nbgrader import reading
    with open(COMMITTED_RELEASE, encoding="utf-8") as f:
        release = json.load(f)
    nb = ns.deeply_nested_output(ns.fill(release, path=SOLUTION), depth=700)
    path = tmp_path / "sub" / "random_init.ipynb"
    path.parent.mkdir()
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(nb).encode("utf-8"))
    node, notes, unreadable = reading.read_notebook(str(tmp_path), "sub/random_init.ipynb")
    assert unreadable is None and len(node.cells) == len(nb["cells"])
    assert "byte-order mark" in notes[0] and "nested more than %d levels deep" % reading.MAX_DEPTH in notes[1]
    os.symlink("sub", str(tmp_path / "via-link"))
    os.symlink("random_init.ipynb", str(tmp_path / "sub" / "link.ipynb"))
    for relative in ("via-link/random_init.ipynb", "sub/link.ipynb"):
        node, notes, unreadable = reading.read_notebook(str(tmp_path), relative)
        assert "is a link" in unreadable and node.cells == [], relative
    (tmp_path / "sub" / "broken.ipynb").write_bytes(b'{"cells": [')
    assert "its JSON is broken" in reading.read_notebook(str(tmp_path), "sub/broken.ipynb")[2]


def test_markdown_keeps_its_words_but_no_html_and_no_script_link():
    need("nbgrader", "nbgrader")
    from autograder.platforms.nbgrader import inert
    text = ('<script>x()</script> a & b [y](JavaScript:alert(1)) [z](jav&#x61;script:1) [w](javascript\\:1) '
            '$\\href{javascript:1}{q}$ ![i](attachment:gone.png)')
    out = inert.without_missing_attachments(inert.escape_markdown(text), {})
    assert "<" not in out and "&#x61;" not in out and "\uff06#x61;" in out
    assert "javascript:" not in out.lower().replace("\\", "")
    assert "&lt;script>x()&lt;/script> a &amp; b" in out and "\\href" not in out
    assert "removed-attachment:gone.png" in out
    assert inert.plain_image("image/png", "iVBORw0KGgo=") and not inert.plain_image("image/png", 'x" onerror="1')
    assert not inert.plain_image("image/svg+xml", "PHN2Zy8+")


def test_saved_outputs_are_capped_by_characters():
    need("nbgrader", "nbgrader")
    from autograder.platforms.nbgrader.outputs import MAX_TEXT_CHARS, capped
    line = "x" * (2 * 10**6)
    out = capped(line)
    assert len(out) < MAX_TEXT_CHARS + 100 and out.endswith("[... %d more characters not shown]\n"
                                                          % (len(line) - MAX_TEXT_CHARS))
    assert capped("short") == "short"


def test_the_engines_size_cap_applies_to_code_not_to_outputs(tmp_path):
    """A correct notebook with a 6 MB plot is graded; 6 MB of code still is refused, with the reason."""
    import base64
    from autograder.grading import grader_rules
    from autograder.sandbox import submission
    with open(COMMITTED_RELEASE, encoding="utf-8") as f:
        nb = ns.fill(json.load(f), path=SOLUTION)
    image = base64.b64encode(b"\0" * (6 * 2**20)).decode("ascii")         # a plot bigger than the cap
    nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "![plot](attachment:p.png)",
                        "attachments": {"p.png": {"image/png": image}}})
    nb["cells"].append({"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "print(1)",
                        "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"image/png": image}}]})
    path = tmp_path / "random_init.ipynb"
    path.write_text(json.dumps(nb))
    assert path.stat().st_size > submission.MAX_BYTES
    assert "def forward" in submission.prepare(str(path), grader_rules).source
    nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                        "source": "x = '%s'" % ("y" * (submission.MAX_BYTES + 1))})
    path.write_text(json.dumps(nb))
    with pytest.raises(submission.SubmissionError, match="code cells of random_init.ipynb hold more than 5 MB"):
        submission.prepare(str(path), grader_rules)
