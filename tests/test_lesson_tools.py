"""Tests of solutions/student/lesson_tools.py and of the lesson cells in solutions/lesson/.

The reference solution (solutions/random_init.py) plays the student. Figures are
drawn with the Agg backend and never shown.
"""

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import need

matplotlib = need("matplotlib", "dev")
matplotlib.use("Agg")
Figure = need("matplotlib.figure", "dev").Figure

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "solutions" / "lesson"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lt = _load("lesson_tools", ROOT / "solutions" / "student" / "lesson_tools.py")
sys.modules.setdefault("lesson_tools", lt)   # lesson_studies imports it by name
studies = _load("lesson_studies", ROOT / "solutions" / "student" / "lesson_studies.py")
public_checks = _load("public_checks", ROOT / "assignment" / "public_checks.py")   # needs grader_rules.py next to it
ref = _load("reference_solution", ROOT / "solutions" / "random_init.py")
rubric = _load("rubric_for_lesson_tests", ROOT / "autograder" / "rubric.py")

FUNCS = (ref.initialize_parameters, ref.forward, ref.backward)


def stub(*args, **kwargs):
    raise NotImplementedError()


@pytest.fixture(scope="module")
def data():
    return lt.make_flower()


@pytest.fixture(scope="module")
def runs(data):
    X, Y = data
    out = lt.compare_inits(*FUNCS, X, Y, inits=("zeros", "copies", "random", "large"), verbose=False)
    assert out is not None
    return out


# ------------------------------------------------------------------ the data

def test_flower_shapes_and_labels():
    X, Y = lt.make_flower()
    assert X.shape == (2, 400) and Y.shape == (1, 400)
    assert X.dtype == np.float64 and Y.dtype == np.float64
    assert set(np.unique(Y)) == {0.0, 1.0}
    assert Y.sum() == 200
    assert np.all(np.abs(X) < 6)
    X7, Y7 = lt.make_flower(m=7, seed=3)
    assert X7.shape == (2, 7) and Y7.shape == (1, 7)


def test_flower_is_deterministic_and_seeded():
    X1, Y1 = lt.make_flower(seed=1)
    X2, Y2 = lt.make_flower(seed=1)
    X3, _ = lt.make_flower(seed=2)
    assert np.array_equal(X1, X2) and np.array_equal(Y1, Y2)
    assert not np.allclose(X1, X3)


def test_flower_leaves_global_random_state_alone():
    np.random.seed(123)
    expected = np.random.randn(5)
    np.random.seed(123)
    before = np.random.get_state()
    lt.make_flower()
    after = np.random.get_state()
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2:] == after[2:]
    assert np.array_equal(np.random.randn(5), expected)


def test_flower_is_not_linearly_separable(data):
    # the best of many straight cuts (all directions, many offsets) still gets a lot wrong
    X, Y = data
    angles = np.linspace(0, np.pi, 180, endpoint=False)
    normals = np.stack([np.cos(angles), np.sin(angles)])           # (2, 180)
    offsets = np.linspace(-3, 3, 61)
    sides = (normals.T @ X)[:, None, :] > offsets[None, :, None]    # (180, 61, m)
    acc = np.mean(sides == (Y[0] > 0.5), axis=2)
    assert np.maximum(acc, 1 - acc).max() < 0.75


# ------------------------------------------------------------------ training with the reference

def test_cost_is_clipped_and_correct():
    A2 = np.array([[0.9, 0.2, 1.0, 0.0]])
    Y = np.array([[1.0, 0.0, 0.0, 1.0]])
    c = lt.cost(A2, Y)
    assert np.isfinite(c) and c > 10
    A = np.array([[0.7, 0.4]])
    Yb = np.array([[1.0, 0.0]])
    assert lt.cost(A, Yb) == pytest.approx(-(np.log(0.7) + np.log(0.6)) / 2)


def test_train_records_history(runs):
    r = runs["random"]
    assert r.costs.shape == (2001,)
    assert r.W1_history.shape == (2001, 4, 2)
    assert r.slopes_at_start.shape == (4 * 400,)
    assert np.array_equal(r.W1_history[-1], r.parameters["W1"])


def test_train_starts_from_the_students_draw(data):
    X, Y = data
    np.random.seed(7)
    drawn = ref.initialize_parameters(2, 4, 1)
    for init, factor in (("random", 1.0), ("large", 1000.0)):
        r = lt.train(*FUNCS, X, Y, init=init, iterations=3, seed=7)
        assert np.allclose(r.W1_history[0], factor * drawn["W1"])
    r = lt.train(*FUNCS, X, Y, init="zeros", iterations=3, seed=7)
    assert np.all(r.W1_history[0] == 0)


def test_train_is_reproducible(data):
    X, Y = data
    a = lt.train(*FUNCS, X, Y, iterations=50, seed=4)
    b = lt.train(*FUNCS, X, Y, iterations=50, seed=4)
    c = lt.train(*FUNCS, X, Y, iterations=50, seed=5)
    assert np.array_equal(a.costs, b.costs)
    assert not np.array_equal(a.costs, c.costs)


def test_zero_init_keeps_hidden_units_identical(runs):
    H = runs["zeros"].W1_history
    assert np.all(H == H[:, :1, :])
    assert runs["zeros"].distinct_units() == 1
    assert runs["zeros"].final_cost == pytest.approx(np.log(2), abs=1e-3)


def test_copies_move_but_stay_identical(runs):
    H = runs["copies"].W1_history
    assert np.allclose(H, H[:, :1, :], rtol=0, atol=1e-12)
    assert np.abs(H[-1] - H[0]).max() > 0.1


def test_random_init_beats_zero_init(runs):
    assert runs["random"].distinct_units() == 4
    assert runs["random"].final_cost < runs["zeros"].final_cost - 0.3
    assert runs["random"].accuracy > 0.8


def test_large_init_saturates_and_starts_badly(runs):
    random_slope = np.median(runs["random"].slopes_at_start)
    large_slope = np.median(runs["large"].slopes_at_start)
    assert random_slope > 0.99
    assert large_slope < 0.01
    assert runs["large"].costs[0] > 2.0 > runs["random"].costs[0]
    # the saturated hidden layer hardly changes size; the small one grows a lot
    size = lambda r: np.linalg.norm(r.W1_history[[0, -1]].reshape(2, -1), axis=1)  # noqa: E731
    start, end = size(runs["large"])
    assert abs(end / start - 1) < 0.2
    start, end = size(runs["random"])
    assert end / start > 50


def test_training_is_fast(runs):
    assert all(r.seconds < 5 for r in runs.values())


# ------------------------------------------------------------------ figures

def test_plot_hidden_weights(runs):
    fig = lt.plot_hidden_weights(runs, inits=("zeros", "copies", "random"))
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3
    assert [len(ax.lines) for ax in fig.axes] == [8, 8, 8]
    assert "identical" in fig.axes[0].get_title() and "different" in fig.axes[2].get_title()
    single = lt.plot_hidden_weights(runs["random"])
    assert len(single.axes) == 1


def test_plot_costs(runs):
    fig = lt.plot_costs(runs, inits=("random", "zeros", "large"))
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    curves = [ln for ln in fig.axes[0].lines if not ln.get_label().startswith("_")]
    assert len(curves) == 3
    assert len(curves[0].get_ydata()) == 2001


def test_plot_boundaries(runs, data):
    X, Y = data
    fig = lt.plot_boundaries(runs, X, Y, inits=("random", "zeros", "large"), resolution=50)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    for ax in fig.axes:
        offsets = [c.get_offsets() for c in ax.collections if len(c.get_offsets()) == X.shape[1]]
        assert len(offsets) == 1  # the data points are drawn on top


def test_plot_saturation(runs):
    fig = lt.plot_saturation(runs, bins=20)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert len(ax.patches) == 2 * 20
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("random") and labels[1].startswith("large")


def test_plot_initial_weights_and_flower(data):
    fig = lt.plot_initial_weights(ref.initialize_parameters)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert "4 different" in fig.axes[0].get_title()
    fig = lt.plot_flower(*data)
    assert isinstance(fig, Figure) and len(fig.axes) == 1


def test_figures_render(runs, data, tmp_path):
    fig = lt.plot_boundaries(runs, *data, resolution=40)
    fig.savefig(tmp_path / "b.png", dpi=30)
    assert (tmp_path / "b.png").stat().st_size > 1000


# ------------------------------------------------------------------ graceful degradation

@pytest.mark.parametrize("which", ["initialize_parameters", "forward", "backward"])
def test_stub_gives_a_note_not_a_traceback(which, data, capsys):
    X, Y = data
    funcs = {f.__name__: f for f in FUNCS}
    funcs[which] = stub
    out = lt.compare_inits(funcs["initialize_parameters"], funcs["forward"], funcs["backward"], X, Y)
    assert out is None
    printed = capsys.readouterr().out
    assert f"Fill in `{which}` first, then re-run this cell." in printed
    assert "Traceback" not in printed


def test_all_stubs_name_the_first_function(data, capsys):
    X, Y = data
    assert lt.compare_inits(stub, stub, stub, X, Y) is None
    assert lt.plot_initial_weights(stub) is None
    assert lt.first_look(ref.initialize_parameters, stub, X, Y) is None
    assert lt.compare_seeds(stub, stub, stub, X, Y) is None
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["Fill in `initialize_parameters` first, then re-run this cell."] * 2 + [
        "Fill in `forward` first, then re-run this cell.",
        "Fill in `initialize_parameters` first, then re-run this cell."]


def test_errors_and_unusable_returns_are_reported(data, capsys):
    X, Y = data

    def bad_backward(parameters, cache, X, Y):
        raise ValueError("operands could not be broadcast together")

    def forward_without_return(X, parameters):
        ref.forward(X, parameters)

    def init_wrong_shape(n_x, n_h, n_y):
        p = ref.initialize_parameters(n_x, n_h, n_y)
        p["b1"] = np.zeros(n_h)
        return p

    def backward_missing_key(parameters, cache, X, Y):
        g = ref.backward(parameters, cache, X, Y)
        del g["db2"]
        return g

    assert lt.train(ref.initialize_parameters, ref.forward, bad_backward, X, Y) is None
    out = capsys.readouterr().out
    assert "`backward` raised ValueError: operands could not be broadcast together; fix it" in out

    assert lt.train(ref.initialize_parameters, forward_without_return, ref.backward, X, Y) is None
    assert "`forward` returned NoneType" in capsys.readouterr().out

    assert lt.train(init_wrong_shape, ref.forward, ref.backward, X, Y) is None
    assert "`initialize_parameters` gave b1 the shape (4,); it should be (4, 1)" in capsys.readouterr().out

    assert lt.train(ref.initialize_parameters, ref.forward, backward_missing_key, X, Y) is None
    assert "`backward` returned a dict without db2" in capsys.readouterr().out

    assert lt.train(*FUNCS, X, Y, init="huge") is None
    assert "init should be one of" in capsys.readouterr().out


def test_plots_accept_missing_results(data, capsys):
    X, Y = data
    for call in (lambda: lt.plot_hidden_weights(None), lambda: lt.plot_costs(None),
                 lambda: lt.plot_boundaries(None, X, Y), lambda: lt.plot_saturation(None)):
        assert call() is None
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and all("run the training cell above first" in ln for ln in lines)


def test_prints_inside_student_functions_are_shown_once(data, capsys):
    X, Y = data

    def chatty_forward(X, parameters):
        print("forward called")
        return ref.forward(X, parameters)

    r = lt.train(ref.initialize_parameters, chatty_forward, ref.backward, X, Y, iterations=30)
    assert r is not None
    out = capsys.readouterr().out
    assert out.count("forward called") == 1
    assert "only the first step's output is shown" in out


def test_student_writing_into_X_does_not_spoil_the_data(data):
    X, Y = data
    X0 = X.copy()

    def vandal_forward(X, parameters):
        X *= 2
        return ref.forward(X, parameters)

    lt.train(ref.initialize_parameters, vandal_forward, ref.backward, X, Y, iterations=3)
    assert np.array_equal(X, X0)


# Valid and wrong submissions only: the hostile ones are for the sandboxed grader, never this process.
CORPUS = sorted(p for kind in ("valid", "wrong") for p in (ROOT / "tests" / "corpus" / kind).glob("*.py"))


@pytest.mark.skipif(not CORPUS, reason="no submission corpus")
def test_corpus_never_raises(data, capsys):
    """Every sample submission, right or wrong, runs through the experiments without a traceback."""
    X, Y = data
    for path in CORPUS:
        sub = _load("corpus_" + path.stem, path)
        funcs = [getattr(sub, n, stub) for n in ("initialize_parameters", "forward", "backward")]
        runs = lt.compare_inits(*funcs, X, Y, inits=("zeros", "large"), iterations=10, verbose=False)
        if path.parent.name == "valid":
            assert runs is not None, path.name
            assert np.all(runs["zeros"].W1_history == runs["zeros"].W1_history[:, :1]), path.name
    printed = capsys.readouterr().out
    assert "Traceback" not in printed and "stopped with" not in printed


# ------------------------------------------------------------------ the lesson cells

def _outline():
    return [line.split(maxsplit=1) for line in (LESSON / "outline.txt").read_text().splitlines() if line.strip()]


def test_outline_is_well_formed():
    entries = _outline()
    kinds = [k for k, _ in entries]
    assert set(kinds) <= {"md", "code", "solution", "tests"}
    for kind, arg in entries:
        if kind in ("md", "code"):
            assert (LESSON / arg).is_file(), arg
            assert arg.endswith(".md" if kind == "md" else ".py")
    listed = {arg for kind, arg in entries if kind in ("md", "code")}
    on_disk = {p.name for p in LESSON.iterdir() if p.suffix in (".md", ".py")}
    assert listed == on_disk
    assert [a for k, a in entries if k == "solution"] == list(rubric.FUNCTIONS)
    assert [a for k, a in entries if k == "tests"] == ["init", "forward", "backward"]
    order = [f"{k} {a}" for k, a in entries]
    # each function's tests follow its solution cell; training needs all three
    for fn, prefix in zip(rubric.FUNCTIONS, ("init", "forward", "backward")):
        assert order.index(f"tests {prefix}") == order.index(f"solution {fn}") + 1
    first_experiment = order.index("code 32-train.py")
    assert first_experiment > order.index("tests backward")


def test_section_headings_match_the_rubric():
    wanted = [re.match(r"Section (\d), '(.*)'", s).groups() for s in
              (rubric.SECTION_SYMMETRY, rubric.SECTION_SCALE, rubric.SECTION_BIASES,
               rubric.SECTION_FORWARD, rubric.SECTION_BACKWARD, rubric.SECTION_SATURATION)]
    headings = []
    for kind, arg in _outline():
        if kind == "md":
            headings += re.findall(r"^## (\d)\. (.+)$", (LESSON / arg).read_text(), flags=re.M)
    assert headings == wanted
    order = [f"{k} {a}" for k, a in _outline()]

    def section_of(entry):
        number = None
        for e in order[:order.index(entry) + 1]:
            kind, arg = e.split(maxsplit=1)
            if kind == "md":
                found = re.findall(r"^## (\d)\.", (LESSON / arg).read_text(), flags=re.M)
                number = found[-1] if found else number
        return number
    assert section_of("solution initialize_parameters") == "3"
    assert section_of("solution forward") == "4"
    assert section_of("solution backward") == "5"


def _run_lesson(namespace, capsys):
    namespace.update(__name__="lesson")
    for kind, arg in _outline():
        if kind != "code":
            continue
        source = "\n".join(ln for ln in (LESSON / arg).read_text().splitlines() if not ln.startswith("%"))
        exec(compile(source, arg, "exec"), namespace)
    return capsys.readouterr().out


def test_lesson_cells_run_with_the_reference(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "lesson_tools", lt)
    monkeypatch.setitem(sys.modules, "lesson_studies", studies)
    monkeypatch.setitem(sys.modules, "public_checks", public_checks)
    # the cells, not the training, are under test here (tests/test_lesson_claims.py runs the studies)
    monkeypatch.setattr(lt, "ITERATIONS", 300)
    monkeypatch.setattr(studies, "SEEDS", (1, 2, 3))
    monkeypatch.setattr(studies, "STEPS", 100)
    ns = {f.__name__: f for f in FUNCS}
    out = _run_lesson(ns, capsys)
    assert "Fill in" not in out and "stopped" not in out
    assert set(ns["runs"]) == {"zeros", "copies", "random", "large"}
    for name in ("symmetry", "saturation", "flower_sweep", "wide_layer", "noise_sweep", "mixed_sweep", "depth"):
        assert ns[name] is not None, name
    assert "ended below std 0.01 in" in out and "-> same: True" in out and "-> same: False" in out


def test_lesson_cells_degrade_with_stubs(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "lesson_tools", lt)
    monkeypatch.setitem(sys.modules, "lesson_studies", studies)
    monkeypatch.setitem(sys.modules, "public_checks", public_checks)
    monkeypatch.setattr(studies, "SEEDS", (1, 2, 3))
    monkeypatch.setattr(studies, "STEPS", 100)
    ns = {"initialize_parameters": stub, "forward": stub, "backward": stub}
    out = _run_lesson(ns, capsys)
    assert ns["runs"] is None
    assert "Fill in `initialize_parameters` first" in out
    assert "run the training cell above first" in out
