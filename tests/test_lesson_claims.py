"""The lesson's claims hold on any block of seeds, and its text quotes only computed numbers.

Seed blocks
-----------
Every qualitative sentence of the markdown in solutions/lesson/ is checked twice: on the
notebook's own seeds (``lesson_studies.SEEDS``) and on a second, disjoint block of the same size
that this test chooses (``FRESH``: seeds 1001 on, or the first seed given in the environment
variable ``LESSON_CLAIMS_SEEDS``, e.g. ``LESSON_CLAIMS_SEEDS=5001``). A claim that is true only
of the notebook's block fails on the other. Each test first finds its sentence in its cell
(``said``), so rewording a claim breaks the test until the check is rewritten with it.

Numbers
-------
The markdown cells are templates: every number they quote is a ``{{name}}`` placeholder filled
from ``lesson_studies.text_values()`` by the build, and measured numbers are printed by the cells
(``lesson_studies.sentences``). ``test_no_number_is_typed_into_the_text`` fails on any digit
written into the prose, so an edited number is caught; the built notebook is compared with the
templates by tests/test_release.py, so an edit there is caught too.

Time: both blocks train about 2,200 small networks for 2,000 steps (a minute or two on two
quiet cores). The results are cached in .pytest_cache/lesson_claims/ (git-ignored), keyed by the
source of the two lesson modules and the seeds, so a rerun with unchanged studies takes seconds;
a fresh checkout, as in CI, computes them once.
"""

import hashlib
import importlib.util
import json
import os
import pickle
import re
import sys

import numpy as np
import pytest

from conftest import ROOT, need

matplotlib = need("matplotlib", "dev")
matplotlib.use("Agg")


LESSON = ROOT + "/solutions/lesson"
STUDENT = ROOT + "/solutions/student"
sys.path.insert(0, STUDENT)
import lesson_studies as st  # noqa: E402
import lesson_tools as lt  # noqa: E402

sys.path.remove(STUDENT)
sys.path.insert(0, ROOT + "/solutions")
import build_notebook  # noqa: E402

sys.path.remove(ROOT + "/solutions")

FRESH = tuple(range(int(os.environ.get("LESSON_CLAIMS_SEEDS", "1001")),
                    int(os.environ.get("LESSON_CLAIMS_SEEDS", "1001")) + len(st.SEEDS)))
BLOCKS = {"notebook seeds": st.SEEDS, "fresh seeds": FRESH}
SMALL, LARGE = "std 0.01", "std 10"


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


def median(values):
    return float(np.median(values))


def share(values):
    return float(np.mean(values))


# ------------------------------------------------------------------ the studies, once per block

def _run(seeds):
    X, Y = lt.make_flower()
    return {"symmetry": st.symmetry_study(X, Y, seeds), "saturation": st.saturation_study(X, Y, seeds),
            "flower": st.flower_sweep(seeds), "wide": st.wide_layer_sweep(seeds),
            "noise": st.noise_sweep(seeds), "mixed": st.mixed_sweep(seeds)}


def _key(seeds):
    digest = hashlib.sha256(repr(seeds).encode())
    for name in ("lesson_studies.py", "lesson_tools.py"):
        with open(os.path.join(STUDENT, name), "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()[:24]


CACHE = os.path.join(ROOT, ".pytest_cache", "lesson_claims")   # .pytest_cache/ is git-ignored


@pytest.fixture(scope="module", params=sorted(BLOCKS))
def block(request):
    """(name, {study: result}) for one seed block; cached by the studies' source and the seeds."""
    seeds = BLOCKS[request.param]
    path = os.path.join(CACHE, _key(seeds) + ".pickle")
    if os.path.exists(path):
        with open(path, "rb") as f:
            return request.param, pickle.load(f)
    results = _run(seeds)
    os.makedirs(CACHE, exist_ok=True)
    with open(path + ".part", "wb") as f:
        pickle.dump(results, f)
    os.replace(path + ".part", path)
    return request.param, results


def test_the_blocks_are_disjoint_and_large_enough():
    said("00-title.md", "repeats the experiments over {{seeds}} seeds")
    assert len(st.SEEDS) >= 40 and len(set(st.SEEDS)) == len(st.SEEDS)
    assert not set(FRESH) & set(st.SEEDS) and len(FRESH) == len(st.SEEDS)


# ------------------------------------------------------------------ the studies are the lesson's network

def test_train_many_reproduces_the_students_training():
    """The vectorized network equals lesson_tools.train with the reference functions, seed by seed."""
    X, Y = lt.make_flower()
    for std, init in ((0.01, "random"), (10.0, "large")):
        runs = st.train_many(X, Y, st.starts((3, 4), 2, 1, std), steps=200)
        for i, seed in enumerate((3, 4)):
            one = lt.train(*FUNCS, X, Y, init=init, iterations=200, seed=seed)
            np.testing.assert_allclose(runs.costs[:, i], one.costs, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(runs.end["W1"][i], one.parameters["W1"], rtol=1e-8, atol=1e-10)


def test_named_starts_are_the_published_rules():
    lecun, glorot = st.lecun(2, 4), st.glorot(2, 4)
    assert (lecun.w1, lecun.w2) == (1 / np.sqrt(2), 1 / np.sqrt(4))
    assert np.isclose(glorot.w1, 5 / 3 * np.sqrt(2 / 6)) and np.isclose(glorot.w2, 5 / 3 * np.sqrt(2 / 5))
    said("48-seeds.md", "**Xavier** (Glorot and Bengio): $\\operatorname{Var}(w) = 2/(n_{\\text{in}} + n_{\\text{out}})$")
    said("48-seeds.md", "**LeCun**: $\\operatorname{Var}(w) = 1/n_{\\text{in}}$")
    said("50-variance.md", "**He**: $\\sigma^2 = 2/n_{\\text{in}}$, for ReLU units, which set about half of their pre-activations to zero")
    X, _ = lt.make_flower()
    # matched Var(z): 20 standardised inputs at this std add up to std 1's Var(z) on the raw flower
    assert np.isclose(20 * st.matched_std() ** 2, X.var(axis=1).sum())
    noisy, _ = st.flower_with_noise()
    assert np.allclose(noisy.mean(axis=1), 0, atol=0.2) and np.allclose(noisy[:2].var(axis=1), 1)


def test_win_rate_interval():
    assert st.wilson(20, 40)[0] < 0.5 < st.wilson(20, 40)[1]
    low, high = st.wilson(21, 40)
    assert 0.36 < low < 0.38 and 0.66 < high < 0.68       # Wilson's interval for 21 of 40
    assert st.wilson(40, 40)[1] == 1.0 and st.wilson(0, 40)[0] == 0.0


# ------------------------------------------------------------------ symmetry

def test_zeros_and_copies_stay_identical_row_copies_separate(block):
    said("38-symmetry-notes.md", "their gap is exactly 0 at every step of every seed")
    said("38-symmetry-notes.md", "The `row copies` units part at the very first step, in every seed")
    sym = block[1]["symmetry"]
    for start in ("zeros", "copies"):
        assert np.all(sym.gaps[start] == 0), start
    assert np.all(sym.gaps["row copies"][0] == 0) and np.all(sym.gaps["row copies"][1] > 0)
    assert np.all(sym.moved["copies"] > 0.01) and np.all(sym.moved["zeros"] == 0)


def test_row_copies_end_nearer_10_than_001(block):
    said("36-symmetry-seeds.md", "will the gap between them be nearer {{small}} (the size of the starting weights) "
                                 "or nearer {{large:g}}?")
    end = block[1]["symmetry"].gaps["row copies"][-1]
    assert np.all(np.abs(np.log10(end) - np.log10(st.LARGE)) < np.abs(np.log10(end) - np.log10(st.SMALL)))


def test_the_tied_state_is_unstable_in_floating_point(block):
    said("38-symmetry-notes.md", "the tiny gap grows by many orders of magnitude, in every seed, and in most seeds "
                                 "until the units are about as far apart as the `row copies` ones")
    said("10-zero-weights.md", "\"For ever\" holds in exact arithmetic. In floating point the tied state is unstable")
    sym = block[1]["symmetry"]
    nudged = sym.gaps["nudged copies"]
    assert np.all(nudged[0] == st.NUDGE) or np.allclose(nudged[0], st.NUDGE, rtol=1e-3)
    assert np.all(nudged[-1] > 1e6 * st.NUDGE)
    said("38-symmetry-notes.md", "the nudged units need many steps to part where the `row copies` part at once")
    parted = lambda gaps: np.argmax(gaps > 1e-3, axis=0)  # noqa: E731  (first step with a visible gap)
    assert median(parted(nudged)) > 50 and np.all(parted(sym.gaps["row copies"]) < 10)
    apart = median(sym.gaps["row copies"][-1])
    assert share(nudged[-1] > apart / 10) >= 0.75 and median(nudged[-1]) > apart / 5


def test_balanced_classes_keep_b2_at_zero(block):
    said("10-zero-weights.md", "on a data set with as many 1s as 0s, like the flower below, that average is exactly 0")
    said("35-weights-notes.md", "the cost stays at $\\log 2$")
    assert lt.make_flower()[1].mean() == 0.5
    assert np.all(block[1]["symmetry"].b2_end == 0)


def test_symmetry_sentences_follow_the_data(block):
    sym = block[1]["symmetry"]
    n = len(sym.b2_end)
    lines = st.sentences(sym)
    assert "in %d of %d seeds" % (n, n) in lines[0] and "b2 is still exactly 0 in %d of %d seeds" % (n, n) in lines[0]
    assert "different after the first step in %d of %d seeds" % (n, n) in lines[2]
    broken = st.Symmetry({k: v.copy() for k, v in sym.gaps.items()}, sym.moved, sym.b2_end, sym.steps)
    broken.gaps["copies"][5, :3] = 1e-3
    assert "identical at every step in %d of %d seeds" % (n - 3, n) in st.sentences(broken)[1]


# ------------------------------------------------------------------ saturation

def test_small_weights_have_weak_gradients_because_of_W2(block):
    said("41c-saturation-notes.md", "$dW^{[1]}$ is many times smaller than at std 1 (the last printed line gives the ratio)")
    said("41c-saturation-notes.md", "relative to its own size $W^{[1]}$ changes enormously in the first {{early}} steps")
    sat = block[1]["saturation"]
    assert np.all(sat.slope[0.01] > 0.99)
    assert median(sat.dW1[1.0]) / median(sat.dW1[0.01]) > 10
    assert np.all(sat.relative_move[0.01] > 10)
    ratio = round(median(sat.dW1[1.0]) / median(sat.dW1[0.01]))
    assert st.sentences(sat)[-1].startswith("|dW1| at step 0 is %d times larger at std 1" % ratio)


def test_large_weights_saturate_and_move_little(block):
    said("41c-saturation-notes.md", "so $dW^{[1]}$ is larger than at std {{small}}")
    said("41c-saturation-notes.md", "in {{early}} steps it changes by only a fraction of its own size")
    said("41c-saturation-notes.md", "Almost every slope is essentially 0")
    sat = block[1]["saturation"]
    assert np.all(sat.slope[10.0] < 1e-3)
    assert sat.dW1[10.0].min() > sat.dW1[0.01].max()
    assert np.all(sat.relative_move[10.0] < 1)


def test_output_error_is_not_shrunk_by_saturation(block):
    said("40-saturation.md", "its error is $A^{[2]} - Y$, never multiplied by the sigmoid's slope")
    sat = block[1]["saturation"]
    assert median(sat.error[10.0]) >= median(sat.error[0.01]) - 0.01
    assert median(sat.dW2[10.0]) > 10 * median(sat.dW2[0.01])


def test_sums_are_tens_in_size_at_std_10():
    said("40-saturation.md", "the sums $Z^{[1]}$ are typically tens in size")
    X, _ = lt.make_flower()
    for seeds in BLOCKS.values():
        assert 10 < median(np.abs(st.starts(seeds, 2, 1, 10.0)["W1"] @ X)) < 100


# ------------------------------------------------------------------ the flower sweep

def test_a_wide_working_range(block):
    said("49b-seeds-notes.md", "Every start from std {{tiny:g}} to the Xavier start with its gain ends at about the "
                               "same cost and the same held-out accuracy")
    said("90-summary.md", "on this network every scale from {{tiny:g}} to the LeCun and Xavier values works as well")
    s = block[1]["flower"]
    for name in ("std 0.0001", "LeCun", "Xavier (gain 5/3)"):
        assert abs(median(s.final(name)) - median(s.final(SMALL))) < 0.02, name
        assert abs(median(s.held_out[name]) - median(s.held_out[SMALL])) < 0.02, name


def test_tiny_starts_are_a_little_later(block):
    said("49b-seeds-notes.md", "Std {{tiny:g}} gets there a little later")
    said("11-small-random.md", "so with outgoing weights of {{small}} the hidden layer starts out learning slowly, "
                               "and the cost lingers near $\\log 2$ for a while. Smaller still is slower still.")
    s = block[1]["flower"]
    extra = median(s.steps("std 0.0001")) / median(s.steps(SMALL)) - 1
    assert 0 < extra < 0.5, extra
    assert np.all(s.runs[SMALL].costs[50] > 0.6)
    line = [ln for ln in st.sentences(s) if ln.startswith("std 0.0001 needs")][0]
    assert "%.0f%% more steps" % (100 * extra) in line


def test_large_starts_win_about_half_the_time_on_the_flower(block):
    said("49b-seeds-notes.md", "it wins against std {{small}} in about half of the seeds")
    said("49b-seeds-notes.md", "On another block of {{seeds}} seeds (the tests use one) the order of the two medians can flip")
    s = block[1]["flower"]
    n = len(s.final(SMALL))
    assert 0.25 <= s.wins(LARGE) / n <= 0.75
    # the medians are close compared with std 10's spread, which is why their order can flip
    gap = abs(median(s.final(LARGE)) - median(s.final(SMALL)))
    spread = np.subtract(*np.percentile(s.final(LARGE), [75, 25]))
    assert gap < spread / 3, (gap, spread)
    assert "%s ended below std 0.01 in %s;" % (LARGE, st.rate(s.wins(LARGE), n)) in " ".join(st.sentences(s))


def _clusters(values):
    """(lower, upper) split at the widest gap between sorted values."""
    v = np.sort(values)
    cut = int(np.argmax(np.diff(v))) + 1
    return v[:cut], v[cut:], float(v[cut] - v[cut - 1])


def test_large_starts_form_two_clusters(block):
    said("49b-seeds-notes.md", "its dots form two clusters (and so do its held-out accuracies on the right), one at or "
                               "below std {{small}}'s cost and one far above it, with a gap in between")
    s = block[1]["flower"]
    lower, upper, gap = _clusters(s.final(LARGE))
    n = len(s.final(LARGE))
    assert min(len(lower), len(upper)) >= n / 4, (len(lower), len(upper))
    assert gap > 0.05
    assert median(lower) <= median(s.final(SMALL)) + 0.01
    assert median(upper) > median(s.final(SMALL)) + 0.1
    accuracy_lower, accuracy_upper, accuracy_gap = _clusters(s.held_out[LARGE])
    assert accuracy_gap > 0.05 and min(len(accuracy_lower), len(accuracy_upper)) >= n / 5


def test_large_starts_cuts_turn_less(block):
    said("49g-cuts-notes.md", "at std {{small}} a typical unit turns by tens of degrees; at std {{large:g}} the median "
                              "turn is several times smaller")
    said("40-saturation.md", "it turns much less in training than a unit that started small")
    s = block[1]["flower"]
    small, large = s.turned(SMALL), s.turned(LARGE)
    assert median(small) > 20 and median(large) < median(small) / 3
    assert share(large > st.TURN) > 0.1       # "some of them a lot": they are not frozen
    assert "%.0f degrees at std 0.01" % median(small) in st.sentences(s)[-1]


def test_more_cuts_make_large_starts_win(block):
    said("49g-cuts-notes.md", "it ends below std {{small}} in most seeds, at about the same held-out accuracy")
    said("90-summary.md", "large starts win in about half of the seeds with {{n_h}} hidden units and in most seeds with {{wide_n_h}}")
    said("49g-cuts-notes.md", "the output layer finds a good combination in most seeds")
    w = block[1]["wide"]
    assert w.n_h == st.WIDE_HIDDEN and w.wins(LARGE) / len(w.final(SMALL)) >= 0.75
    assert abs(median(w.held_out[LARGE]) - median(w.held_out[SMALL])) < 0.03


# ------------------------------------------------------------------ noise and the two controls

def test_noise_training_cost_favours_the_small_start(block):
    said("49d-noise-notes.md", "Std {{small}} ends with the lowest training cost, and the large and matched starts "
                               "end above it in almost every seed")
    s = block[1]["noise"]
    n = len(s.final(SMALL))
    assert min(s.names, key=lambda x: median(s.final(x))) == SMALL
    for name in ("matched Var(z)", LARGE):
        assert s.wins(name) <= 0.1 * n, name
    said("49d-noise-notes.md", "(LeCun's and Xavier's starts, which assume every input matters, lose most seeds too.)")
    for name in ("LeCun", "Xavier (gain 5/3)"):
        assert s.wins(name) < 0.4 * n, name


def test_matched_start_is_the_xavier_start_of_the_flower():
    said("49h-noise.md", "the same variance as std 1 gives on the plain two-input flower (about what the Xavier start "
                         "had there, and it did fine)")
    X, _ = lt.make_flower()
    flower_var = X.var(axis=1).sum()
    assert np.isclose((2 + st.NOISE_INPUTS) * st.matched_std() ** 2, flower_var)
    assert abs(st.glorot(2, st.N_HIDDEN).w1 ** 2 - 1) < 0.1      # Xavier's W1 on the flower: Var(z) within 10 %


def test_noise_held_out_accuracy_shows_what_the_cost_hides(block):
    said("49d-noise-notes.md", "even the small start's training accuracy is far above its held-out accuracy (a printed "
                               "line gives both)")
    assert "on the training set" in " ".join(st.sentences(block[1]["noise"]))
    said("49d-noise-notes.md", "on the held-out set the small start is the only one clearly better than guessing; "
                               "the larger starts end close to one half")
    s = block[1]["noise"]
    assert median(s.trained[SMALL]) - median(s.held_out[SMALL]) > 0.1
    assert median(s.held_out[SMALL]) > 0.6
    for name in s.names:
        if name != SMALL:
            assert abs(median(s.held_out[name]) - 0.5) < 0.06, name
            assert median(s.held_out[name]) < median(s.held_out[SMALL]) - 0.08, name


def test_informative_inputs_control(block):
    said("49k-mixed-notes.md", "With informative inputs the large and matched starts behave as on the plain flower, "
                               "not as with noise")
    noise, mixed = block[1]["noise"], block[1]["mixed"]
    n = len(mixed.final(SMALL))
    for name in ("matched Var(z)", LARGE):
        assert mixed.wins(name) >= 0.25 * n, name
        assert mixed.wins(name) > noise.wins(name) + 0.15 * n, name


# ------------------------------------------------------------------ variance and depth

def test_variance_grows_with_the_number_of_inputs():
    said("50-variance.md", "$$\\operatorname{Var}(z) = n \\, \\sigma^2 \\, \\operatorname{Var}(x) = n \\, \\sigma^2.$$")
    for n, measured, predicted in st.variance_check():
        assert abs(measured / predicted - 1) < 0.05, n


@pytest.mark.parametrize("seed", [0, 1])
def test_depth_as_described(seed):
    said("54-depth-notes.md", "At std {{small}} each layer shrinks the spread many times over")
    said("54-depth-notes.md", "and every layer's gradient is tiny")
    said("54-depth-notes.md", "At std 1 the spread stays near 1 in every layer")
    said("54-depth-notes.md", "going back towards the input they grow by orders of magnitude")
    said("90-summary.md", "the units saturate and the gradients explode when it is too large")
    said("54-depth-notes.md", "Xavier keeps both the spread and the gradients within a moderate range all the way down")
    d = st.depth_study(seed=seed)
    small, xavier = d.spreads["std 0.01"], d.spreads["Xavier, std sqrt(2/(n_in+n_out))"]
    assert np.all(small[1:] / small[:-1] < 0.2)
    assert d.grads["std 0.01"].max() < 1e-6
    assert np.all(d.spreads["std 1"] > 0.9)
    assert d.grads["std 1"][0] / d.grads["std 1"][-1] > 100
    assert np.all((xavier > 0.1) & (xavier < 0.9))
    g = d.grads["Xavier, std sqrt(2/(n_in+n_out))"]
    assert g.max() / g.min() < 10 and 0.01 < g.min()


# ------------------------------------------------------------------ figures

def test_study_figures_render(block, tmp_path):
    r = block[1]
    figs = [st.plot_symmetry(r["symmetry"]), st.plot_saturation_study(r["saturation"]), st.plot_sweep(r["flower"]),
            st.plot_cuts(r["flower"], r["wide"]), st.plot_depth(st.depth_study())]
    assert [len(f.axes) for f in figs] == [1, 3, 3, 2, 2]
    for i, fig in enumerate(figs):
        fig.savefig(tmp_path / ("%d.png" % i), dpi=40)
        assert (tmp_path / ("%d.png" % i)).stat().st_size > 2000


# ------------------------------------------------------------------ every number comes from the code

PROSE_DIGITS_ALLOWED = {"0", "1"}     # "exactly 0", "class 1", "slope 1": values of the mathematics
MATH_ALLOWED = {"0.5"}                # sigma(0) = 1/2, also the "A2 > 0.5 means 1" rule
# Numbers written as words count too ("a thousand times"), except where they name the assignment's
# own structure (its three functions, the four arrays a start returns, the three named rules) or
# say an order of size that the code guarantees (the studies train hundreds of networks).
NUMBER_WORDS = (r"\b(three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
                r"hundreds?|thousands?|millions?|tenfold|hundredfold|dozens?)\b")
WORDS_ALLOWED = ("three pieces", "three functions", "three equalities", "four float64 arrays", "Three common rules",
                 "hundreds of small networks", "thousands of your random weights")


def prose_numbers(text):
    """The numbers typed into a markdown template's prose: outside placeholders, math, code,
    heading numbers, list numbering and references to sections and points."""
    for pattern, flags in ((r"\{\{[^}]*\}\}", 0), (r"```.*?```", re.S), (r"\$\$.*?\$\$", re.S), (r"\$[^$]*\$", 0),
                           (r"`[^`]*`", 0), (r"^#+ [\d.]+ ", re.M), (r"^\d+\. ", re.M),
                           (r"\b([Ss]ections?|[Pp]oints?) \d+(\.\d+)?( and \d+)?", 0)):
        text = re.sub(pattern, " ", text, flags=flags)
    for phrase in WORDS_ALLOWED:
        text = text.replace(phrase, " ")
    found = re.findall(r"(?<![\w.])[-+±]?\d[\d,]*(?:\.\d+)?(?:e-?\d+)?", text)
    words = re.findall(NUMBER_WORDS, text, flags=re.I)
    return [n.rstrip(",") for n in found if n.rstrip(",").lstrip("±+-") not in PROSE_DIGITS_ALLOWED] + words


def math_numbers(text):
    """Numbers of more than one digit inside a template's math (a measured value typed as math)."""
    maths = re.findall(r"\$\$.*?\$\$|\$[^$]*\$", text, flags=re.S)
    return [n for m in maths for n in re.findall(r"\d*\.\d+|\d{2,}", m) if n not in MATH_ALLOWED]


def _templates():
    with open(LESSON + "/outline.txt", encoding="utf-8") as f:
        return [ln.split()[1] for ln in f if ln.startswith("md ")]


def test_no_number_is_typed_into_the_text():
    typed = {}
    for name in _templates():
        with open("%s/%s" % (LESSON, name), encoding="utf-8") as f:
            text = f.read()
        found = prose_numbers(text) + math_numbers(text)
        if found:
            typed[name] = found
    assert typed == {}, "write these as {{placeholders}} from lesson_studies.text_values(): %s" % typed


def test_the_number_check_can_fail():
    values = st.text_values()
    with open(LESSON + "/41c-saturation-notes.md", encoding="utf-8") as f:
        template = f.read()
    typed = build_notebook.render(template, values)      # the placeholders written out as numbers
    assert prose_numbers(template) == [] and "100" in prose_numbers(typed)
    assert prose_numbers("about a thousand times, 2,000 steps, 0.35 and $0.693$") == ["2,000", "0.35", "thousand"]
    assert prose_numbers("the three functions, and four units") == ["four"]
    assert math_numbers("$\\log 2 \\approx 0.693$ and $W^{[1]}$") == ["0.693"]
    assert prose_numbers("Section 2.1 and point 3 of\n1. a list, with class 1 and 0") == []


def test_every_placeholder_is_a_value_of_the_code():
    values = st.text_values()
    used = set()
    for name in _templates():
        with open("%s/%s" % (LESSON, name), encoding="utf-8") as f:
            used |= set(re.findall(r"\{\{(\w+)", f.read()))
    assert used <= set(values), used - set(values)
    X, _ = lt.make_flower()
    assert values["seeds"] == len(st.SEEDS) and values["steps"] == st.STEPS == lt.ITERATIONS
    assert values["large_factor"] == lt.LARGE_FACTOR and values["large"] == st.LARGE
    assert values["max_input"] == np.abs(X).max() and values["var_x"] == X.var(axis=1).mean()
    assert values["bell_weights"] == lt.BELL_LAYER ** 2 and values["flat_slope"] == lt.FLAT_SLOPE
    with pytest.raises(build_notebook.BuildError, match="nothing_like_this"):
        build_notebook.render("{{nothing_like_this}}", values)


def test_the_notebook_quotes_the_rendered_numbers():
    """The built source notebook's markdown is each template with its values filled in."""
    with open(ROOT + "/solutions/source/random_init/random_init.ipynb", encoding="utf-8") as f:
        cells = {c["id"]: "".join(c["source"]) for c in json.load(f)["cells"]}
    values = st.text_values()
    for name in _templates():
        with open("%s/%s" % (LESSON, name), encoding="utf-8") as f:
            wanted = build_notebook.render(f.read().rstrip("\n"), values)
        assert cells[build_notebook._cell_id(name[:-3])] == wanted, name
    assert "{{" not in "".join(cells.values())


# ------------------------------------------------------------------ predict, then run

def test_every_experiment_is_preceded_by_a_predict_line():
    """Each code cell that runs an experiment has a 'Predict' question in the markdown before it,
    after the previous experiment."""
    with open(LESSON + "/outline.txt", encoding="utf-8") as f:
        entries = [ln.split() for ln in f if ln.strip()]
    plots_of_earlier_runs = {"34-weights.py", "45-weights-large.py", "49a-seeds-plot.py"}
    experiments = {"11b-seeding.py", "14-look-at-init.py", "22-first-look.py", "32-train.py",
                   "37-symmetry-seeds.py", "41-saturation.py", "41b-saturation-seeds.py", "43-costs.py",
                   "47-boundaries.py", "49-seeds.py", "49f-cuts.py", "49c-noise.py", "49j-mixed.py",
                   "51-variance.py", "53-depth.py"}
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
    said("90-summary.md", "Hidden units stay identical only when they start with equal incoming weights, equal biases and equal outgoing weights")


# ------------------------------------------------------------------ smaller claims of the text

def test_smaller_claims():
    X, Y = lt.make_flower()
    said("40-saturation.md", "is only about {{slope_at_3:.2f}} at $|z| =$ {{z_sat:g}}")
    said("40-saturation.md", "The flower's inputs reach about ±{{max_input:.1f}}")
    said("22a-first-look-notes.md", "$A^{[2]}$ is close to $\\sigma(0) = 0.5$ everywhere")
    np.random.seed(1)
    A2, _ = ref.forward(X, ref.initialize_parameters(2, 4, 1))
    assert np.all(np.abs(A2 - 0.5) < 0.01) and abs(lt.cost(A2, Y) - np.log(2)) < 0.01
    said("46a-boundaries-notes.md", "Its output is exactly $\\sigma(0) = 0.5$ at every point of the plane, a tie")
    runs = lt.compare_inits(*FUNCS, X, Y, inits=("zeros", "random", "large"), verbose=False)
    grid = np.random.RandomState(0).uniform(-5, 5, (2, 1000))
    zeros_out, _ = ref.forward(grid, runs["zeros"].parameters)
    assert np.all(zeros_out == 0.5) and np.all(runs["zeros"].predict(grid) == 0)
    said("46a-boundaries-notes.md", "in this run (seed {{run_seed}}) some of those lines cut right through petals, "
                                    "and the network gets fewer points right")
    assert st.RUN_SEED == 1 and runs["large"].accuracy < runs["random"].accuracy - 0.05
    said("46a-boundaries-notes.md", "**random** and **large** both draw straight borders that run through (or close to) "
                                    "the origin")
    angle = np.linspace(0, 2 * np.pi, 360, endpoint=False)
    ray = lambda r: r * np.vstack([np.cos(angle), np.sin(angle)])  # noqa: E731
    for name in ("random", "large"):      # borders through the origin: the label depends on the angle only
        near, far = runs[name].predict(ray(1.5)), runs[name].predict(ray(4.0))
        assert np.mean(near == far) > 0.9, name
    said("44-costs-notes.md", "**large** begins far above the rest")
    said("44-costs-notes.md", "**zeros** never leaves $\\log 2$")
    assert runs["large"].costs[0] > 2 * max(runs["random"].costs[0], runs["zeros"].costs[0])
    assert np.allclose(runs["zeros"].costs, np.log(2))
    said("44-costs-notes.md", "The random start's `W1` grows many times over")
    said("44-costs-notes.md", "The large start's `W1` ends up about as big as it began")
    size = lambda r: np.linalg.norm(r.W1_history[[0, -1]].reshape(2, -1), axis=1)  # noqa: E731
    assert size(runs["random"])[1] > 50 * size(runs["random"])[0]
    assert abs(size(runs["large"])[1] / size(runs["large"])[0] - 1) < 0.2
