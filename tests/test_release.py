"""What students get is built from one source, and nbgrader releases all of it.

The student's files are maintained once: ``solutions/student/`` (README, public checks, lesson
helpers, the GitHub workflow), ``autograder/grading/grader_rules.py`` and the reference solution
(whose stub the build makes). ``solutions/build_notebook.py`` writes nbgrader's source folder
from them, and ``--release`` makes ``assignment/`` exactly nbgrader's release folder. These tests
fail when a committed copy is stale (quick, no nbgrader), and when ``nbgrader
generate_assignment`` would hand students a different tree than ``assignment/`` (one real
nbgrader run).
"""

import os
import shutil
import sys

import pytest

from conftest import ROOT, need

sys.path.insert(0, os.path.join(ROOT, "solutions"))
import build_notebook  # noqa: E402

sys.path.remove(os.path.join(ROOT, "solutions"))

# Every file a student is told to open or run (assignment/README.md names them).
STUDENT_FILES = {"random_init.ipynb", "random_init.py", "README.md", "public_checks.py", "test_public.py",
                 "pytest.ini", "grader_rules.py", "lesson_tools.py", "lesson_studies.py",
                 os.path.join(".github", "workflows", "grade.yml")}


def test_source_folder_and_assignment_are_what_the_build_makes():
    assert build_notebook.check() == [], "run: python solutions/build_notebook.py --release"


def test_the_release_holds_every_file_students_get():
    built = set(build_notebook.source_files())
    assert built == STUDENT_FILES
    assert set(build_notebook.tree(build_notebook.RELEASE_DIR)) == STUDENT_FILES
    with open(os.path.join(build_notebook.RELEASE_DIR, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    for name in ("random_init.ipynb", "random_init.py", "public_checks.py", "test_public.py", "lesson_tools.py"):
        assert "`%s`" % name in readme, "the README no longer mentions %s" % name


def test_a_stale_copy_is_named(tmp_path):
    source = tmp_path / "source" / build_notebook.ASSIGNMENT
    release = tmp_path / "assignment"
    shutil.copytree(build_notebook.SOURCE_DIR, source)
    shutil.copytree(build_notebook.RELEASE_DIR, release)
    assert build_notebook.check(source_dir=str(source), release_dir=str(release)) == []
    (release / "lesson_tools.py").write_text("# edited by hand\n")
    (source / "extra.txt").write_text("left over\n")
    os.remove(source / "README.md")
    stale = build_notebook.check(source_dir=str(source), release_dir=str(release))
    assert stale == ["solutions/source/random_init/README.md is missing",
                     "solutions/source/random_init/extra.txt should not be there",
                     "assignment/lesson_tools.py is out of date"]


def test_the_stub_is_the_solution_without_its_answers():
    stub = build_notebook.source_files()[build_notebook.STUB].decode("utf-8")
    assert stub.count("raise NotImplementedError()") == 3 and "### BEGIN SOLUTION" not in stub
    with open(os.path.join(ROOT, "solutions", "random_init.py"), encoding="utf-8") as f:
        solution = f.read()
    assert stub.split("def initialize_parameters")[0] == solution.split("def initialize_parameters")[0]


@pytest.fixture(scope="module")
def nbgrader_release(tmp_path_factory):
    """nbgrader's own generate_assignment, run once in a scratch course: its release folder."""
    need("nbgrader", "nbgrader")
    return build_notebook.generate_release(str(tmp_path_factory.mktemp("course")))


def test_generate_assignment_produces_exactly_assignment(nbgrader_release):
    assert set(build_notebook.tree(nbgrader_release)) == STUDENT_FILES
    assert build_notebook.release_tree_drift(nbgrader_release) == [], \
        "run: python solutions/build_notebook.py --release"


def test_the_release_comparison_can_fail(nbgrader_release, tmp_path):
    release = tmp_path / "assignment"
    shutil.copytree(build_notebook.RELEASE_DIR, release)
    os.remove(release / "pytest.ini")
    (release / "random_init.py").write_text("# not the stub\n")
    nb = (release / "random_init.ipynb").read_text().replace("## 1. Why zero weights fail", "## 1. Why zeros fail")
    (release / "random_init.ipynb").write_text(nb)
    stale = build_notebook.release_tree_drift(nbgrader_release, str(release))
    assert stale[:2] == ["assignment/pytest.ini is missing", "assignment/random_init.py is out of date"]
    assert len(stale) == 3 and stale[2].startswith("assignment/random_init.ipynb: cell ")
