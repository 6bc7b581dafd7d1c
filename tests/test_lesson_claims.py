"""The lesson's text cannot drift from its numbers.

Every quantitative or checkable sentence of the markdown in solutions/lesson/ is asserted here
against a fresh, headless run of the experiments at the notebook's own sizes (20 seeds, 2000
steps). Each test first finds the sentence in its cell (``said``), so rewording a claim breaks the
test until the check is rewritten with it, then checks the numbers. Sentences that quote numbers
are printed by the code (``lesson_studies.sentences``) and are tested for following the data.
Also here: the notebook's section headings against every SECTION_* constant of the rubric, the
quick-check cell of init.small_scale, and the symmetry condition in the docstrings.
"""

import importlib.util
import json
import re
import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from conftest import ROOT  # noqa: E402

LESSON = ROOT + "/solutions/lesson"
sys.path.insert(0, ROOT + "/assignment")
import lesson_studies as st  # noqa: E402
import lesson_tools as lt  # noqa: E402

sys.path.remove(ROOT + "/assignment")


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ref = _load("reference_for_claims", ROOT + "/solutions/random_init.py")
rubric = _load("rubric_for_claims", ROOT + "/autograder/rubric.py")
FUNCS = (ref.initialize_parameters, ref.forward, ref.backward)


def said(cell, phrase):
    """Assert that the lesson cell ``cell`` says ``phrase`` (whitespace-insensitive)."""
    with open("%s/%s" % (LESSON, cell), encoding="utf-8") as f:
        text = " ".join(f.read().split())
    assert " ".join(phrase.split()) in text, "%s no longer says: %s" % (cell, phrase)


@pytest.fixture(scope="module")
def flower():
    return lt.make_flower()


@pytest.fixture(scope="module")
def symmetry(flower):
    return st.symmetry_study(*flower)


@pytest.fixture(scope="module")
def saturation(flower):
    return st.saturation_study(*flower)


@pytest.fixture(scope="module")
def flower_sweep(flower):
    return st.sweep(*flower, "the flower")


@pytest.fixture(scope="module")
def wide_sweep():
    return st.sweep(*st.flower_with_noise(), "the flower with 18 noise inputs")


@pytest.fixture(scope="module")
def seed1(flower):
    return lt.compare_inits(*FUNCS, *flower, inits=("zeros", "random", "large"), verbose=False)


def median(values):
    return float(np.median(values))


# ------------------------------------------------------------------ the studies are the lesson's network

def test_train_many_reproduces_the_students_training(flower):
    """The vectorized network equals lesson_tools.train with the reference functions, seed by seed."""
    X, Y = flower
    for scale, init in ((0.01, "random"), (10.0, "large")):
        runs = st.train_many(X, Y, st.starts((3, 4), 2, 1, scale), steps=200)
        for i, seed in enumerate((3, 4)):
            one = lt.train(*FUNCS, X, Y, init=init, iterations=200, seed=seed)
            np.testing.assert_allclose(runs.costs[:, i], one.costs, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(runs.end["W1"][i], one.parameters["W1"], rtol=1e-8, atol=1e-10)


def test_studies_use_at_least_20_seeds():
    said("00-title.md", "repeats the experiments over 20 seeds")
    assert len(st.SEEDS) >= 20 and len(set(st.SEEDS)) == len(st.SEEDS)


# ------------------------------------------------------------------ symmetry

def test_zeros_and_copies_stay_identical_row_copies_separate(symmetry):
    said("38-symmetry-notes.md", "their gap is exactly 0 at every step of every seed")
    said("38-symmetry-notes.md", "The `row copies` units part at the very first step, in every seed")
    for start in ("zeros", "copies"):
        assert np.all(symmetry.gaps[start] == 0), start
    assert np.all(symmetry.gaps["row copies"][0] == 0)
    assert np.all(symmetry.gaps["row copies"][1] > 0)
    # the copies do move: identical is not the same as frozen
    assert np.all(symmetry.moved["copies"] > 0.01)
    assert np.all(symmetry.moved["zeros"] == 0)


def test_row_copies_end_nearer_10_than_001(symmetry):
    said("36-symmetry-seeds.md", "nearer 0.01 (the size of the starting weights) or nearer 10?")
    end = symmetry.gaps["row copies"][-1]
    assert np.all(np.abs(np.log10(end) - 1) < np.abs(np.log10(end) + 2))


def test_balanced_classes_keep_b2_at_zero(symmetry, flower):
    said("10-zero-weights.md", "on a data set with as many 1s as 0s, like the flower below, that average is exactly 0")
    said("10-zero-weights.md", "the network sits at cost $\\log 2$ for ever")
    assert flower[1].mean() == 0.5
    assert np.all(symmetry.b2_end == 0)
    zeros = st.train_many(*flower, dict(st.starts((1,), 2), W1=np.zeros((1, 4, 2)), W2=np.zeros((1, 1, 4))), 50)
    assert np.all(zeros.costs == np.log(2)) or np.allclose(zeros.costs, np.log(2), rtol=0, atol=1e-15)


def test_symmetry_sentences_follow_the_data(symmetry):
    lines = st.sentences(symmetry)
    assert "in 20 of 20 seeds" in lines[0] and "b2 is still exactly 0 in 20 of 20 seeds" in lines[0]
    assert "different after the first step in 20 of 20 seeds" in lines[2]
    broken = st.Symmetry({k: v.copy() for k, v in symmetry.gaps.items()}, symmetry.moved,
                         symmetry.b2_end, symmetry.steps)
    broken.gaps["copies"][5, :3] = 1e-3
    assert "identical at every step in 17 of 20 seeds" in st.sentences(broken)[1]


# ------------------------------------------------------------------ saturation

def test_small_weights_have_weak_gradients_because_of_W2(saturation):
    said("41c-saturation-notes.md", "$dW^{[1]}$ is about a hundred times smaller than at std 1")
    said("41c-saturation-notes.md", "relative to its own size $W^{[1]}$ changes enormously in the first 100 steps")
    assert np.all(saturation.slope[0.01] > 0.99)
    ratio = median(saturation.dW1[1.0]) / median(saturation.dW1[0.01])
    assert 50 < ratio < 200, ratio
    assert np.all(saturation.relative_move[0.01] > 10)


def test_large_weights_saturate_and_barely_turn(saturation):
    said("41c-saturation-notes.md", "so $dW^{[1]}$ is larger than at std 0.01")
    said("41c-saturation-notes.md", "in 100 steps it changes by only a fraction of its own size")
    said("41c-saturation-notes.md", "Almost every slope is essentially 0")
    assert np.all(saturation.slope[10.0] < 1e-3)
    assert saturation.dW1[10.0].min() > saturation.dW1[0.01].max()
    assert np.all(saturation.relative_move[10.0] < 1)


def test_sums_are_tens_in_size_at_std_10(flower):
    said("40-saturation.md", "the sums $Z^{[1]}$ are typically tens in size")
    X, Y = flower
    p = st.starts(st.SEEDS, 2, 1, 10.0)
    assert 10 < median(np.abs(p["W1"] @ X)) < 100


def test_output_error_is_not_shrunk_by_saturation(saturation):
    said("40-saturation.md", "its error is $A^{[2]} - Y$, never multiplied by the sigmoid's slope")
    # a saturated sigmoid still sends back an error at least as big as the unsaturated one
    assert median(saturation.error[10.0]) >= median(saturation.error[0.01]) - 0.01
    assert median(saturation.dW2[10.0]) > 10 * median(saturation.dW2[0.01])


def test_seed_1_run_as_described(seed1):
    said("44-costs-notes.md", "In this run (seed 1) it levels off above the random start")
    said("44-costs-notes.md", "**zeros** never leaves $\\log 2$")
    said("44-costs-notes.md", "**large** begins far above the rest")
    assert seed1["large"].final_cost > seed1["random"].final_cost
    assert seed1["large"].costs[0] > 2 * max(seed1["random"].costs[0], seed1["zeros"].costs[0])
    assert np.allclose(seed1["zeros"].costs, np.log(2))


# ------------------------------------------------------------------ the scale sweep

def test_flower_sweep_large_often_loses_sometimes_wins(flower_sweep):
    said("49b-seeds-notes.md", "Std 10 has the worst median among the random starts and the widest spread")
    said("49b-seeds-notes.md", "in some seeds it ends *below* std 0.01")
    s = flower_sweep
    random_starts = [x for x in s.scales if x != 0]
    assert max(random_starts, key=lambda x: median(s.final(x))) == 10.0
    assert max(random_starts, key=lambda x: np.ptp(s.final(x))) == 10.0
    assert 1 <= s.wins(10.0) < len(st.SEEDS) / 2


def test_flower_sweep_std_1_and_1e4(flower_sweep):
    said("49b-seeds-notes.md", "Std 1 does about as well as 0.01 and gets there faster")
    said("49b-seeds-notes.md", "Std $10^{-4}$ gets to the same place, but more slowly than 0.01, and all-zero never moves")
    s = flower_sweep
    steps = lambda x: median(s.steps(x)[s.steps(x) >= 0])  # noqa: E731
    assert abs(median(s.final(1.0)) - median(s.final(0.01))) < 0.02
    assert steps(1.0) < steps(0.01)
    assert abs(median(s.final(1e-4)) - median(s.final(0.01))) < 0.02
    assert steps(1e-4) > steps(0.01)
    assert np.allclose(s.final(0.0), np.log(2))


def test_wide_sweep_large_always_loses(wide_sweep, flower_sweep):
    said("49d-noise-notes.md", "std 1 and std 10 both end above std 0.01 in all 20, std 10 never reaches the target")
    said("49d-noise-notes.md", "The small starts end lower than on the plain flower")
    said("49d-noise-notes.md", "Std $10^{-4}$ again arrives at about the same cost as 0.01, just later")
    s = wide_sweep
    assert s.n_x == 20
    assert s.wins(1.0) == 0 and s.wins(10.0) == 0
    assert np.all(s.steps(10.0) == -1)
    assert median(s.final(0.01)) < median(flower_sweep.final(0.01))
    assert abs(median(s.final(1e-4)) - median(s.final(0.01))) < 0.02
    assert median(s.steps(1e-4)) > median(s.steps(0.01))
    order = sorted(s.scales, key=lambda x: median(s.final(x)))
    assert order.index(0.01) < order.index(1.0) < order.index(10.0) < order.index(0.0)


def test_std_1_harmless_with_2_inputs_harmful_with_20(wide_sweep, flower_sweep):
    said("49d-noise-notes.md", "it was fine with two inputs and harmful with twenty")
    assert flower_sweep.wins(1.0) >= len(st.SEEDS) / 2
    assert median(wide_sweep.final(1.0)) > median(wide_sweep.final(0.01)) + 0.1


def test_sweep_sentences_and_table_follow_the_data(flower_sweep):
    lines = st.sentences(flower_sweep)
    assert "std 10 ended below std 0.01 in %d of 20 seeds." % flower_sweep.wins(10.0) in lines
    table = st.sweep_table(flower_sweep)
    assert len(table) == 2 + len(flower_sweep.scales)
    row = [ln for ln in table if ln.strip().startswith("std 10 ")][0]
    assert "%.3f" % median(flower_sweep.final(10.0)) in row
    assert "%d of 20" % np.sum(flower_sweep.steps(10.0) >= 0) in row


# ------------------------------------------------------------------ variance and depth

def test_variance_grows_with_the_number_of_inputs():
    said("50-variance.md", "$$\\operatorname{Var}(z) = n \\, \\sigma^2 \\, \\operatorname{Var}(x).$$")
    for n, measured, predicted in st.variance_check():
        assert abs(measured / predicted - 1) < 0.05, n


def test_depth_spreads_as_described():
    said("54-depth-notes.md", "At std 0.01 each layer shrinks the spread about tenfold")
    said("54-depth-notes.md", "At std 1 the spread stays near 1 in every layer")
    said("54-depth-notes.md", "Xavier keeps the spread in a useful range all the way down")
    spreads = st.depth_study()
    small = spreads["std 0.01"]
    assert np.all((small[1:] / small[:-1] > 0.05) & (small[1:] / small[:-1] < 0.2))
    assert np.all(spreads["std 1"] > 0.9)
    xavier = spreads["Xavier, std 1/sqrt(n)"]
    assert np.all((xavier > 0.1) & (xavier < 0.9))


# ------------------------------------------------------------------ figures

def test_study_figures_render(symmetry, saturation, flower_sweep, tmp_path):
    figs = [st.plot_symmetry(symmetry), st.plot_saturation_study(saturation), st.plot_sweep(flower_sweep),
            st.plot_depth(st.depth_study())]
    assert [len(f.axes) for f in figs] == [1, 3, 2, 1]
    for i, fig in enumerate(figs):
        fig.savefig(tmp_path / ("%d.png" % i), dpi=40)
        assert (tmp_path / ("%d.png" % i)).stat().st_size > 2000


# ------------------------------------------------------------------ predict, then run

def test_every_experiment_is_preceded_by_a_predict_line():
    """Each code cell that runs an experiment has a 'Predict' question in the markdown before it,
    after the previous experiment."""
    with open(LESSON + "/outline.txt", encoding="utf-8") as f:
        entries = [ln.split() for ln in f if ln.strip()]
    plots_of_earlier_runs = {"34-weights.py", "45-weights-large.py", "49a-seeds-plot.py"}
    experiments = {"11b-seeding.py", "14-look-at-init.py", "22-first-look.py", "32-train.py",
                   "37-symmetry-seeds.py", "41-saturation.py", "41b-saturation-seeds.py", "43-costs.py",
                   "47-boundaries.py", "49-seeds.py", "49c-noise.py", "51-variance.py", "53-depth.py"}
    code = {a for k, a in entries if k == "code"}
    assert experiments | plots_of_earlier_runs | {"01-setup.py", "03-data.py", "93-public-checks.py"} == code
    asked = False
    for kind, arg in entries:
        if kind == "md":
            with open("%s/%s" % (LESSON, arg), encoding="utf-8") as f:
                asked = asked or "**Predict:**" in f.read()
        elif kind == "code" and arg in experiments:
            assert asked, "no Predict question before %s" % arg
            asked = False


# ------------------------------------------------------------------ headings the grader points to

def _headings():
    with open(ROOT + "/solutions/source/random_init/random_init.ipynb", encoding="utf-8") as f:
        nb = json.load(f)
    found = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            found += re.findall(r"^#{1,6} +(.+?) *$", "".join(cell["source"]), flags=re.M)
    return found


def test_every_rubric_section_names_a_heading_of_the_built_notebook():
    sections = {getattr(rubric, n) for n in dir(rubric) if n.startswith("SECTION_")}
    sections.add("Section 2.1, 'Seeds make random draws reproducible'")   # the lead's SECTION_SEEDING
    headings = _headings()
    assert len(sections) >= 7
    for section in sections:
        number, title = re.fullmatch(r"Section ([\d.]+), '(.+)'", section).groups()
        expected = ("%s. %s" if "." not in number else "%s %s") % (number, title)
        assert headings.count(expected) == 1, "%s: no heading '%s' in the built notebook" % (section, expected)


def test_heading_check_can_fail():
    assert "7. Nothing here" not in _headings() and "2.2 Nothing here" not in _headings()


# ------------------------------------------------------------------ the notebook's quick check of the scale

def _quick_check(initialize_parameters):
    sys.path.insert(0, ROOT + "/solutions")
    try:
        import build_notebook
    finally:
        sys.path.remove(ROOT + "/solutions")
    source = "\n".join(build_notebook._public_checks()["init.small_scale"])
    sys.path.insert(0, ROOT + "/assignment")        # the check imports grader_rules, as in the student's folder
    try:
        exec(source, {"np": np, "initialize_parameters": initialize_parameters})
    except AssertionError as failure:
        return str(failure)
    finally:
        sys.path.remove(ROOT + "/assignment")
    return None


def _init(spread, shift=0.0):
    def initialize_parameters(n_x, n_h, n_y):
        return {"W1": np.random.randn(n_h, n_x) * spread + shift, "b1": np.zeros((n_h, 1)),
                "W2": np.random.randn(n_y, n_h) * spread + shift, "b2": np.zeros((n_y, 1))}
    return initialize_parameters


def test_quick_check_names_the_spread_before_the_mean():
    np.random.seed(0)
    assert _quick_check(ref.initialize_parameters) is None
    message = _quick_check(_init(1.0))
    assert message.startswith("the weights' spread (std) is 1,") and "expected 0.01" in message
    assert "centred" not in message
    assert "centred" in _quick_check(_init(0.01, shift=0.002))
    assert "spread" in _quick_check(_init(0.1))


# ------------------------------------------------------------------ the full symmetry condition, everywhere

def test_docstrings_state_the_full_symmetry_condition():
    init_doc = " ".join(ref.initialize_parameters.__doc__.split())
    assert "equal biases (entries of b1) AND equal outgoing weights (columns of W2)" in init_doc
    assert "Equal W1 rows with different W2 columns compute the same value at first and separate only through W2" in init_doc
    assert "stay copies of each other however long you train" not in init_doc
    assert "sigmoid output with the cross-entropy cost keeps learning" in init_doc
    tools_doc = " ".join(lt.__doc__.split())
    assert "Units stay copies for ever only when all three are equal" in tools_doc
    said("10-zero-weights.md", "The induction needs all three equalities at the start: incoming weights, biases **and** outgoing weights")
    said("90-summary.md", "Hidden units stay identical for ever only when they start with equal incoming weights, equal biases and equal outgoing weights")


# ------------------------------------------------------------------ smaller claims of the text

def test_smaller_claims(flower, flower_sweep, seed1, saturation):
    X, Y = flower
    said("40-saturation.md", "is only about 0.01 at $|z| = 3$")
    assert abs((1 - np.tanh(3.0) ** 2) - 0.01) < 0.001
    said("40-saturation.md", "The flower's inputs reach about ±4")
    assert 3.5 < np.abs(X).max() < 4.5
    said("49b-seeds-notes.md", "it often ends far behind")
    assert median(flower_sweep.final(10.0)) > median(flower_sweep.final(0.01)) + 0.1
    assert np.sum(flower_sweep.final(10.0) > flower_sweep.final(0.01) + 0.1) >= len(st.SEEDS) / 4
    said("11-small-random.md", "so with outgoing weights of 0.01 the hidden layer starts out learning slowly, "
                               "and the cost lingers near $\\log 2$ for a while. Smaller still is slower still.")
    assert median(saturation.dW1[0.01]) < 0.01
    early = flower_sweep.runs[0.01].costs[50]
    assert np.all(early > 0.6)
    assert median(flower_sweep.steps(1e-4)) > median(flower_sweep.steps(0.01))
    said("22a-first-look-notes.md", "$A^{[2]}$ is close to 0.5 everywhere")
    np.random.seed(1)
    A2, _ = ref.forward(X, ref.initialize_parameters(2, 4, 1))
    assert np.all(np.abs(A2 - 0.5) < 0.01) and abs(lt.cost(A2, Y) - np.log(2)) < 0.01
    said("44-costs-notes.md", "The random start's `W1` grows many times over")
    said("44-costs-notes.md", "The large start's `W1` ends up about as big as it began")
    size = lambda r: np.linalg.norm(r.W1_history[[0, -1]].reshape(2, -1), axis=1)  # noqa: E731
    assert size(seed1["random"])[1] > 50 * size(seed1["random"])[0]
    assert abs(size(seed1["large"])[1] / size(seed1["large"])[0] - 1) < 0.2
