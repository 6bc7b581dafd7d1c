"""Mutation testing of the hidden checks (autograder/mutation, issue 15).

The main test grades the fixed CI sample (72 mutants over every operator and both bases, about
40 s on two busy cores) and fails when a mutant outside autograder/mutation/equivalents.toml keeps
full marks, when a mutant costs points under another function's rubric item, or when a listed
equivalent gets killed. The other tests check the machinery itself, without grading.
"""

import ast
import json
import os

import pytest

from autograder import rubric
from autograder.__main__ import main
from autograder.errors import UsageError
from autograder.mutation import operators, runner
from conftest import CORPUS, SOLUTION, graded


@pytest.fixture(scope="module")
def every():
    return runner.make_mutants()


def _reference_source():
    with open(SOLUTION, encoding="utf-8") as f:
        return f.read()


def test_second_base_is_correct_and_in_the_other_style():
    assert graded(runner.BASES[1][1]).score == rubric.TOTAL
    tree = ast.parse(runner.read_base(*runner.BASES[1]))
    calls = {operators.dotted(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert {"np.dot", "sigmoid"} <= calls
    assert not any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult) for n in ast.walk(tree))


def test_every_required_kind_of_mutant_is_made(every):
    ids = {m.id for m in every}
    wanted = [
        "reference:arith:backward:dZ2:A2 - Y->A2 + Y",
        "reference:constant:backward:m:1->0",                                   # m from the rows
        "reference:axis:backward:db2:np.sum(dZ2, axis=1, keepdims=True)->np.sum(dZ2, axis=0, keepdims=True)",
        "reference:axis:backward:db1:np.sum(dZ1, axis=1, keepdims=True)->np.sum(dZ1, axis=1)",
        "reference:transpose:backward:dW2:A1.T->A1",
        "reference:activation:forward:A1:np.tanh(Z1)->1.0 / (1.0 + np.exp(-Z1))",
        "dot_style:activation:forward:A2:sigmoid(Z2)->np.tanh(Z2)",
        "reference:activation:backward:dZ1:1.0 - A1 ** 2->A1 * (1 - A1)",
        "reference:draw:initialize_parameters:W1:np.random.randn(n_h, n_x)->np.random.rand(n_h, n_x)",
        "reference:draw:initialize_parameters:W2:np.random.randn(n_y, n_h)->np.zeros((n_y, n_h))",
        "reference:draw:initialize_parameters:W2:np.random.randn(n_y, n_h)->np.ones((n_y, n_h))",
        "reference:draw:initialize_parameters:W2:np.random.randn(n_y, n_h) * 0.01->np.random.randn(n_y, n_h) * 0.1",
        "reference:draw:initialize_parameters:W2:np.random.randn(n_y, n_h)->np.random.default_rng().standard_normal((n_y, n_h))",
        "reference:draw:initialize_parameters:W2:np.random.randn(n_y, n_h)->np.random.RandomState(0).randn(n_y, n_h)",
        "reference:draw:initialize_parameters:W1:W1 = np.random.randn(n_h, n_x) * 0.01->np.random.seed(0); "
        "W1 = np.random.randn(n_h, n_x) * 0.01",
        "reference:swap:forward:Z2:W2->W1",
        "reference:swap:initialize_parameters:W1:n_x->n_y",
        "reference:drop_m:backward:dW1:dZ1 @ X.T / m->dZ1 @ X.T",
        "dot_style:drop_m:backward:db2:1 / m * np.sum(dZ2, axis=1, keepdims=True)->np.sum(dZ2, axis=1, keepdims=True)",
        "reference:delete:forward:Z1:Z1 = W1 @ X + b1->pass",
    ]
    assert [w for w in wanted if w not in ids] == []
    assert {m.operator for m in every} == set(operators.OPERATORS)
    assert len(ids) == len(every), "mutant ids must be unique"
    assert len({m.source for m in every}) == len(every), "mutants must be distinct programs"


def test_a_mutant_is_the_base_with_exactly_its_change(every):
    m = next(x for x in every if x.id == "reference:transpose:backward:dW2:A1.T->A1")
    assert "dW2 = dZ2 @ A1 / m" in m.source and "dW2 = dZ2 @ A1.T / m" not in m.source
    assert m.diff.count("\n-") == 1 and m.diff.count("\n+") == 1
    assert "BEGIN SOLUTION" not in m.source   # nbgrader's markers are comments, which ast drops


def test_ids_do_not_depend_on_line_numbers_or_docstrings():
    source = _reference_source()
    shifted = ("# a comment\n\n\n" + source).replace("Return small random weights", "Return weights")
    before = [m.id for m in operators.generate(source, "reference")]
    assert before and [m.id for m in operators.generate(shifted, "reference")] == before


def test_equivalents_file_is_reviewed_and_current(every):
    listed = runner.load_equivalents()
    assert listed, "the equivalents file lists the known equivalents"
    assert sorted(set(listed) - {m.id for m in every}) == [], "stale entries: no operator makes them"


@pytest.mark.parametrize("body,complaint", [
    ('[[equivalent]]\nid = "x"\n', "needs a reason"),
    ('[[equivalent]]\nid = "x"\nreason = "TODO: why is this mutant correct"\n', "needs a reason"),
    ('[[equivalent]]\nreason = "a reason that is long enough"\n', "has no id"),
    ('[[equivalent]]\nid = "x"\nreason = "a reason that is long enough"\n' * 2, "repeats"),
    ("[[equivalent]\n", "not valid TOML"),
])
def test_a_bad_equivalents_file_is_refused_with_the_entry_named(tmp_path, body, complaint):
    path = tmp_path / "eq.toml"
    path.write_text(body)
    with pytest.raises(UsageError, match=complaint):
        runner.load_equivalents(str(path))


def test_sample_is_fixed_and_spread_over_operators_and_bases(every):
    chosen = runner.sample(every)
    assert len(chosen) >= 60 and chosen == runner.sample(runner.make_mutants())
    assert {m.operator for m in chosen} == set(operators.OPERATORS)
    assert {m.base for m in chosen} == {name for name, _ in runner.BASES}
    assert {m.function for m in chosen} == set(rubric.FUNCTIONS)


def _row(lost):
    points = {i.id: (0 if i.id in lost else i.points) for i in rubric.ITEMS}
    return {"status": "graded", "points": points, "total": sum(points.values()), "results": {"tests": []}}


def test_classification_finds_survivors_cross_item_costs_and_killed_equivalents(every):
    fwd = next(m for m in every if m.function == "forward")
    eq = {fwd.id: "listed for this test"}
    assert runner.classify(fwd, _row({"forward.values"}), {})["status"] == "killed"
    assert runner.classify(fwd, _row(set()), {})["status"] == "survived"
    assert runner.classify(fwd, _row(set()), eq)["status"] == "equivalent"
    cross = runner.classify(fwd, _row({"forward.values", "backward.gradients"}), {})
    assert cross["status"] == "killed" and cross["cross"] == ["backward.gradients"]
    result = {"bad_bases": {}, "outcomes": [cross, runner.classify(fwd, _row({"forward.values"}), eq),
                                            runner.classify(fwd, {"status": "error", "detail": "hung"}, {})]}
    assert [k for k, _ in runner.failures(result)] == ["cross_item", "equivalent_killed", "error"]
    assert runner.figures(result)["cross_item"] == 1


def test_mutate_command_lists_the_sample_and_refuses_bad_options(capsys):
    assert main(["mutate", "--list", "--sample"]) == 0
    listed = capsys.readouterr().out.split("\n")
    assert len([line for line in listed if line]) == sum(runner.SAMPLE_QUOTA.values())
    assert main(["mutate", "--list", "--operator", "nonsense"]) == 2
    assert "no operator named nonsense" in capsys.readouterr().err
    assert main(["mutate", "--list", "--base", "no-equals-sign"]) == 2


def test_ci_sample_every_mutant_is_killed_or_a_reviewed_equivalent(tmp_path):
    result = runner.run(use_sample=True)
    text = runner.text(result)
    prefix = str(tmp_path / "mutation")
    runner.write(result, prefix)
    with open(prefix + ".json", encoding="utf-8") as f:
        data = json.load(f)
    assert data["figures"]["mutants"] == len(result["outcomes"]) >= 60
    assert result["bad_bases"] == {}, text
    found = [(kind, o["id"] if isinstance(o, dict) else o) for kind, o in runner.failures(result)]
    assert found == [], text
    assert "RESULT: PASS" in text


def test_a_base_that_does_not_score_100_is_refused(tmp_path, capsys):
    wrong = os.path.join(CORPUS, "wrong", "w1_transposed.py")
    assert main(["mutate", "--base", "wrong=" + wrong, "--operator", "transpose", "-j", "1",
                 "--report", str(tmp_path / "r")]) == 2
    out = capsys.readouterr()
    assert "BASE NOT CORRECT: wrong" in out.out and "does not score 100" in out.err
    assert not (tmp_path / "r.json").exists()
