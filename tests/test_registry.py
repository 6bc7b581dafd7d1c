"""The glue checks itself: the registry, the rubric, the hints and the layout agree, or fail loudly.

These tests build throwaway registries so that they can break the glue on purpose: a rubric item
with no check, a misspelled id, a dangling hint. The real registry must pass the same checks.
"""

import ast
import os

import pytest

from autograder import rubric
from autograder.grading import checks, engine, hints, registry  # noqa: F401  (checks registers)
from autograder.grading.registry import Failed, RegistryError

from conftest import ROOT


def test_every_rubric_item_has_a_check():
    assert registry.validate() is True
    assert {c.item_id for c in registry.CHECKS} == set(rubric.BY_ID)


def test_an_item_without_a_check_is_refused():
    without = [c for c in registry.CHECKS if c.item_id != "backward.shapes"]
    with pytest.raises(RegistryError, match="backward.shapes"):
        registry.validate(without)


def test_the_engine_refuses_to_grade_while_an_item_has_no_check(monkeypatch, tmp_path):
    monkeypatch.setattr(registry, "CHECKS", [c for c in registry.CHECKS if c.item_id != "init.zero_biases"])
    with pytest.raises(RegistryError, match="init.zero_biases"):
        engine.grade(os.path.join(ROOT, "solutions", "random_init.py"))


def test_a_misspelled_id_cannot_register():
    before = list(registry.CHECKS)
    with pytest.raises(RegistryError, match="init.zero_bias'"):
        @registry.check("init.zero_bias")
        def typo(student):
            pass
    assert registry.CHECKS == before


def test_a_check_without_a_docstring_registers_and_takes_its_title_from_the_rubric():
    def no_doc(student):
        pass
    chk = registry.Check("init.shapes", no_doc, None, ())
    assert chk.item.title == rubric.BY_ID["init.shapes"].title


def test_a_dangling_hint_fails_loudly():
    with pytest.raises(KeyError, match="no_such_hint"):
        Failed("something", hint="no_such_hint")
    assert Failed("x", hint=next(iter(hints.HINTS))).hint in hints.HINTS


def test_every_hint_points_to_a_section_of_the_notebook():
    sections = {getattr(rubric, n) for n in dir(rubric) if n.startswith("SECTION_")}
    for hint in hints.HINTS.values():
        assert hint.section in sections, hint.id
        assert hint.text and not hint.text.endswith("."), hint.id   # renderers add the full stop


def test_every_hint_is_used_by_some_check():
    """A hint that no code can raise is dead text: each id must appear in the grading code."""
    folder = os.path.join(ROOT, "autograder", "grading")
    code = ""
    for name in os.listdir(folder):
        if name.endswith(".py") and name != "hints.py":
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                code += f.read()
    unused = [h for h in hints.HINTS if '"%s"' % h not in code]
    assert not unused, "hints nothing raises: %s" % unused


def _imports(path):
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
    return names


@pytest.mark.parametrize("room", ["grading", "sandbox"])
def test_the_engine_imports_no_platform(room):
    folder = os.path.join(ROOT, "autograder", room)
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            for imported in _imports(os.path.join(folder, name)):
                assert "platforms" not in imported, "%s/%s imports %s" % (room, name, imported)
                assert "nbgrader" not in imported, "%s/%s imports %s" % (room, name, imported)


POINTS_FORMATTERS = ("num", "_num", "points", "whole", "format_points", "fmt_points")


def _formatting(tree):
    """What in a module's syntax tree formats points or builds fallback results by itself: a def named like a
    points formatter, a call of ``.is_integer()`` or of ``int(round(...))``, a dict with ``execution_time: 0``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in POINTS_FORMATTERS:
            found.append("def %s" % node.name)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "is_integer":
            found.append("call .is_integer()")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "int"
              and node.args and isinstance(node.args[0], ast.Call) and isinstance(node.args[0].func, ast.Name)
              and node.args[0].func.id == "round"):
            found.append("call int(round(...))")
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "execution_time" \
                        and isinstance(value, ast.Constant) and value.value == 0:
                    found.append("fallback results (execution_time: 0)")
    return found


def test_the_formatter_check_sees_a_second_formatter():
    """The check below can fail: it finds what classroom50.points was (int(round(x))) and a num of one's own."""
    planted = "def points(x):\n    return int(round(x))\n\ndef f(x):\n    return x.is_integer()\n"
    assert _formatting(ast.parse(planted)) == ["def points", "call int(round(...))", "call .is_integer()"]


def test_one_number_formatter_and_one_fallback():
    """No module but grading/report.py defines a points formatter or writes its own fallback results
    (read from each module's syntax tree, not its text: a comment or a string never counts)."""
    offenders = []
    for folder, _, files in os.walk(os.path.join(ROOT, "autograder")):
        for name in files:
            path = os.path.join(folder, name)
            if not name.endswith(".py") or path.endswith(os.path.join("grading", "report.py")):
                continue
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read(), path)
            offenders += ["%s: %s" % (os.path.relpath(path, ROOT), what) for what in _formatting(tree)]
    assert not offenders, offenders
    with open(os.path.join(ROOT, "autograder", "grading", "report.py"), encoding="utf-8") as f:
        assert {"def num", "def whole"} <= set(_formatting(ast.parse(f.read())))


def test_the_readme_layout_table_names_folders_that_exist():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    paths = [cell.strip("`") for line in layout.splitlines() if line.startswith("| `")
             for cell in [line.split("|")[1].strip()]]
    assert paths, "the README has no layout table"
    for path in paths:
        assert os.path.exists(os.path.join(ROOT, path)), path
    for room in ("autograder/grading/", "autograder/sandbox/", "autograder/platforms/"):
        assert room in paths, room
