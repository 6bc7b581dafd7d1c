"""The glue checks itself: the registry, the rubric, the hints and the layout agree, or fail loudly.

These tests build throwaway registries so that they can break the glue on purpose: a rubric item
with no check, a misspelled id, a dangling hint. The real registry must pass the same checks.
"""

import ast
import copy
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from autograder import rubric
from autograder.grading import cases, checks, checks_net, engine, hints, reference, registry  # noqa: F401  (checks_net registers)
from autograder.grading.registry import Failed, RegistryError

from autograder.sandbox.student import Student
from autograder.verdicts import CallRefused
from conftest import ROOT, SOLUTION


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


def test_grading_items_with_a_check_missing_refuses_instead_of_passing(monkeypatch):
    """grade_items on its own (no engine.grade, no validate before it) must not pass an item it has no check for."""
    monkeypatch.setattr(registry, "CHECKS", [c for c in registry.CHECKS if c.item_id != "forward.values"])
    with pytest.raises(RegistryError, match="forward.values has no registered check"):
        engine.grade_items(rubric.ITEMS, student=None)


def test_a_misspelled_id_cannot_register():
    before = list(registry.CHECKS)
    with pytest.raises(RegistryError, match="init.zero_bias'"):
        @registry.check("init.zero_bias")
        def typo(student):
            pass
    assert registry.CHECKS == before


def test_a_duplicate_an_undeclared_or_an_undeclaring_check_cannot_register():
    before = list(registry.CHECKS)
    with pytest.raises(RegistryError, match="registered twice"):
        registry.check("init.shapes", calls="initialize_parameters")(checks.init_shapes)
    with pytest.raises(RegistryError, match="does not list extra_check"):
        @registry.check("init.shapes", calls="initialize_parameters")
        def extra_check(student):
            pass
    with pytest.raises(RegistryError, match="declare calls='forward'"):
        registry.check("forward.values")(checks_net.forward_values)
    with pytest.raises(RegistryError, match="declare calls='initialize_parameters'"):
        registry.check("init.shapes", calls="forward")(checks.init_shapes)
    assert registry.CHECKS == before


def test_validate_wants_exactly_the_declared_checks_in_order():
    doubled = registry.CHECKS + [c for c in registry.CHECKS if c.item_id == "forward.values"]
    with pytest.raises(RegistryError, match="forward.values has the checks forward_values, forward_values"):
        registry.validate(doubled)
    swapped = [c for c in registry.CHECKS if c.name != "init_gaussian_spread"] + \
        [c for c in registry.CHECKS if c.name == "init_gaussian_spread"]
    with pytest.raises(RegistryError, match="init_small_everywhere, init_gaussian_spread"):
        registry.validate(swapped)
    wrong_call = [copy.copy(c) for c in registry.CHECKS]
    wrong_call[0].calls = "forward"
    with pytest.raises(RegistryError, match="init_shapes calls forward"):
        registry.validate(wrong_call)


def test_a_check_without_a_docstring_registers_and_takes_its_title_from_the_rubric():
    def no_doc(student):
        pass
    chk = registry.Check("init.shapes", no_doc, None, ())
    assert chk.item.title == rubric.BY_ID["init.shapes"].title


def test_a_dangling_hint_fails_loudly():
    item = rubric.ITEMS[0]
    with pytest.raises(RegistryError, match="no_such_hint"):
        engine.failed_verdict(item, Failed("something", hint="no_such_hint"))
    known = next(iter(hints.HINTS))
    assert engine.failed_verdict(item, Failed("x", hint=known)).hint == known


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


def test_the_sandbox_imports_nothing_of_the_engine():
    """No package cycle: the sandbox raises verdicts.Failed and is handed the notebook rules (grader_rules)."""
    folder = os.path.join(ROOT, "autograder", "sandbox")
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            for imported in _imports(os.path.join(folder, name)):
                assert "grading" not in imported, "sandbox/%s imports %s" % (name, imported)


def test_the_verdicts_module_is_the_bottom_floor():
    """autograder/verdicts.py imports only the standard library, so anything may import it."""
    for imported in _imports(os.path.join(ROOT, "autograder", "verdicts.py")):
        assert not imported.startswith(".") and imported.split(".")[0] != "autograder", imported



class _Reply:
    ok, error = True, ""

    def __init__(self, value, args_after):
        self.value, self.args_after = value, args_after


class RecordingStudent:
    """Stands in for the child: answers every call with the reference solution (run in-process: trusted
    code, tests only) and records which student functions a check asked for."""

    def __init__(self):
        spec = importlib.util.spec_from_file_location("reference_solution", SOLUTION)
        self.solution = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.solution)
        self.called = []

    def calls(self, fn, requests, case):
        self.called.append(fn)
        replies = []
        for args, seed in requests:
            if seed is not None:
                np.random.seed(seed)
            args = copy.deepcopy(args)
            replies.append(_Reply(getattr(self.solution, fn)(*args), args))
        return replies

    def call(self, fn, args, case, seed=0):
        return self.calls(fn, [(args, seed)], case)[0]

    def out_of_time(self):
        return False


@pytest.mark.parametrize("chk", registry.CHECKS, ids=[c.name for c in registry.CHECKS])
def test_every_check_calls_only_the_function_it_declares(chk):
    """The dependency policy, mechanically: a recording student sees every call a check makes."""
    student = RecordingStudent()
    if chk.cases is None:
        chk.fn(student)
    for case in chk.examples:
        chk.fn(student, **case)
    assert student.called, "%s called no student function" % chk.name
    assert set(student.called) == {chk.calls} == {chk.item.function}, (chk.name, sorted(set(student.called)))


def test_a_check_sees_a_student_that_refuses_other_functions():
    only = Student(sandbox=None).only("initialize_parameters")
    with pytest.raises(CallRefused, match="called 'forward'"):
        only.call("forward", (), {"m": 1})
    assert not issubclass(CallRefused, Failed)     # it can never be turned into a student's lost points


BROKEN = {
    "an item without a check": "registry.CHECKS[:] = [c for c in registry.CHECKS if c.item_id != 'init.zero_biases']",
    "a duplicate check": "registry.CHECKS.append(registry.CHECKS[0])",
    "an init check that calls forward": (
        "registry.CHECKS[0].fn = lambda student, **case: student.call('forward', (), case)"),
}


def _grade_with(broken, submission, tmp_path):
    script = ("import sys\nfrom autograder.grading import checks_net, registry\n%s\n"
              "from autograder.__main__ import main\nsys.exit(main(sys.argv[1:]))\n" % broken)
    results = tmp_path / "results.json"
    done = subprocess.run([sys.executable, "-c", script, "grade", str(submission), "--results", str(results)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    return done, results


@pytest.mark.parametrize("what", sorted(BROKEN))
def test_a_broken_rubric_exits_2_and_never_blames_the_student(what, tmp_path):
    empty = tmp_path / "no_code_here"
    empty.mkdir()
    (empty / "notes.txt").write_text("no submission file in this folder")
    submissions = [SOLUTION, empty] if what != "an init check that calls forward" else [SOLUTION]
    for submission in submissions:
        done, results = _grade_with(BROKEN[what], submission, tmp_path)
        assert done.returncode == 2, (what, submission, done.stdout, done.stderr)
        assert "The grader itself failed" in done.stdout and "internal error" in done.stderr
        assert "not your grade" in results.read_text()


def test_work_ahead_computes_the_reference_answers_of_every_recorded_case():
    """registry.ahead: what the engine computes while the child starts is every recorded network case's
    reference answers, so the checks find them cached."""
    recorded = cases.generated("net") + list(checks.NET_EXAMPLES)
    reference._gradients.cache_clear()
    registry.work_ahead()
    assert reference._gradients.cache_info().currsize == len({tuple(sorted(c.items())) for c in recorded})
    hits = reference._gradients.cache_info().hits
    for c in recorded:
        reference.solved_gradients(c["seed"], c["n_x"], c["n_h"], c["n_y"], c["m"])
    assert reference._gradients.cache_info().hits == hits + len(recorded)
    assert not registry.ahead_pending()        # once per process: the engine starts no thread for it again


def test_a_failing_step_of_work_ahead_costs_only_time(monkeypatch):
    def broken():
        raise ValueError("a bug in work done ahead")
    monkeypatch.setattr(registry, "AHEAD", registry.AHEAD + [broken])
    registry.work_ahead()          # nothing raised: the check that needs the same work meets the bug and reports it


def test_the_grade_command_starts_the_child_before_it_imports_the_grader():
    """``python -m autograder grade`` imports the engine, the reports and numpy only after the child is started
    (__main__._start_child): importing the command's module loads none of them."""
    code = ("import sys, autograder.__main__ as m; "
            "print(sorted(n for n in ('numpy', 'autograder.grading.engine', 'autograder.grading.report', "
            "'autograder.grading.html') if n in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
