"""Every likely cause is true where it fires, and fires nowhere else (issue 24).

* The rule matrix: every cause rule of causes.py and draws.py is run against every wrong-corpus
  submission, directly (not through the first rule that happens to match in a check), on the
  further cases of evidence.py; the test lists which rule fires where, and fails when a rule fires on
  a submission whose '# hint:' header names another mistake.
* Near misses: each hint fires on its own submission and on none of at least two neighbouring
  mistakes (NEAR_MISSES), in the graded reports.
* Phrases: each report contains its '# says:' phrases and no other hint's text.
* Proof: a cause holds on further cases that differ from the failing one in every size.
* The HTML page: the submission's file name only, the terminal report's words, and the "changed in
  place" failure printing the input before and after.
"""

import os

import numpy as np
import pytest

from autograder.grading import causes, checks, draws, evidence, grader_rules, hints, html, reference, report, spread
from autograder.grading.registry import Failed
from autograder.sandbox.confine import ScratchFolder
from autograder.sandbox.runner import Sandbox
from autograder.sandbox.student import Student
from autograder.sandbox.submission import prepare
from conftest import CORPUS, corpus, graded
from test_corpus import header

WRONG = corpus("wrong")
NAMES = {os.path.basename(p)[:-3]: p for p, _ in WRONG}

# hint id -> (submissions that must get it, neighbouring mistakes that must not)
NEAR_MISSES = {
    "init_transposed": (["w1_transposed", "w2_transposed"], ["biases_flat_shape", "float32_weights"]),
    "init_flat_bias": (["biases_flat_shape"], ["int_zero_biases", "w1_transposed"]),
    "init_not_float64": (["float32_weights"], ["int_zero_biases", "w1_transposed"]),
    "init_bias_not_float64": (["int_zero_biases"], ["float32_weights", "biases_flat_shape"]),
    "init_nonzero_bias": (["biases_ones", "biases_small_random"], ["random_b1_constant_weights", "int_zero_biases"]),
    "init_key_case": (["init_lowercase_keys"], ["no_b1_key", "wrong_grad_keys"]),
    "init_units_copies": (["zero_weights", "constant_weights"], ["duplicated_w1_row", "random_b1_constant_weights"]),
    "init_equal_rows": (["duplicated_w1_row", "tiled_w1_row"], ["clipped_draws", "random_b1_constant_weights"]),
    "init_clipped": (["clipped_draws"], ["truncated_redrawn", "uniform_centred", "random_b1_constant_weights"]),
    "init_private_generator": (["default_rng_unseeded", "reseed_from_entropy"],
                               ["local_randomstate_fixed_seed", "seeded_inside"]),
    "init_ignores_seed": (["seeded_inside", "seed_from_sizes"], ["default_rng_unseeded", "restores_random_state"]),
    "init_same_next_call": (["restores_random_state"], ["seeded_inside", "reseed_from_entropy"]),
    "init_constant": (["zero_w2", "w2_constant_from_w1", "random_b1_constant_weights"],
                      ["tiled_w2_rows", "clipped_draws", "deterministic_sin_pattern"]),
    "init_not_finite": (["nan_in_w1"], ["unscaled_randn", "scale_0_1"]),
    "init_rand_uniform": (["uniform_rand_0_01"], ["uniform_0_0_05", "uniform_centred", "abs_randn"]),
    "init_uniform": (["uniform_centred", "uniform_0_0_05"], ["uniform_rand_0_01", "truncated_redrawn"]),
    "init_truncated": (["truncated_redrawn"], ["clipped_draws", "uniform_centred", "deterministic_sin_pattern"]),
    "init_exponential": (["exponential_centred", "exponential_positive"], ["chi_square_draws", "abs_randn"]),
    "init_skewed": (["chi_square_draws"], ["exponential_centred", "exponential_positive"]),
    "init_tiled_block": (["resized_block"], ["tiled_w2_rows", "tiled_w1_columns", "tiled_w1_row"]),
    "init_abs_randn": (["abs_randn"], ["exponential_positive", "uniform_rand_0_01"]),
    "init_too_small": (["scale_0_001"], ["uniform_centred", "truncated_redrawn"]),
    "init_too_large": (["scale_0_1", "fixed_factor_0_0707", "unscaled_w2"], ["xavier_scaling", "he_scaling"]),
    "init_xavier": (["xavier_scaling"], ["fixed_factor_0_0707", "he_scaling"]),
    "init_he": (["he_scaling"], ["scale_0_1", "xavier_scaling"]),
    "init_saturates": (["unscaled_randn"], ["scale_0_1", "unscaled_w2"]),
    "forward_z1_no_bias": (["missing_b1"], ["missing_b2", "cache_z1_holds_a1"]),
    "forward_a1_is_z1": (["linear_hidden", "cache_a1_is_z1"], ["leaky_relu_hidden", "relu_hidden"]),
    "forward_a1_sigmoid": (["sigmoid_hidden"], ["tanh_output", "sigmoid_sign_flipped"]),
    "forward_a1_relu": (["relu_hidden"], ["leaky_relu_hidden", "linear_hidden"]),
    "forward_a1_leaky_relu": (["leaky_relu_hidden"], ["relu_hidden", "linear_hidden"]),
    "forward_z1_holds_a1": (["tanh_out_overwrites_z1", "cache_z1_holds_a1"], ["cache_a1_is_z1", "missing_b1"]),
    "forward_z2_no_bias": (["missing_b2"], ["missing_b1", "z2_uses_z1"]),
    "forward_z2_uses_z1": (["z2_uses_z1"], ["missing_b2", "linear_hidden"]),
    "forward_a2_tanh": (["tanh_output"], ["sigmoid_sign_flipped", "linear_output"]),
    "forward_a2_is_z2": (["linear_output"], ["tanh_output", "sigmoid_sign_flipped"]),
    "forward_sigmoid_sign": (["sigmoid_sign_flipped"], ["tanh_output", "linear_output"]),
    "forward_a2_flat": (["a2_flattened"], ["linear_output", "tanh_output"]),
    "backward_sign_flipped": (["sign_flip_dz2"], ["doubled_inv_m", "dw1_missing_inv_m"]),
    "backward_missing_1_over_m": (["db_not_divided_by_m", "dw1_missing_inv_m"],
                                  ["m_from_rows", "doubled_inv_m", "m_from_y_rows"]),
    "backward_double_1_over_m": (["doubled_inv_m"], ["mean_over_outputs", "db_not_divided_by_m"]),
    "backward_m_from_shape0": (["m_from_rows"], ["m_from_y_rows", "m_from_a1_rows"]),
    "backward_m_from_n_h": (["m_from_a1_rows"], ["m_from_rows", "m_from_y_rows"]),
    "backward_m_from_n_y": (["m_from_y_rows"], ["m_from_a1_rows", "mean_over_outputs"]),
    "backward_mean_over_outputs": (["mean_over_outputs"], ["m_from_y_rows", "doubled_inv_m"]),
    "backward_dz2_sigmoid_slope": (["dz2_times_sigmoid_slope"], ["sign_flip_dz2", "tanh_deriv_sigmoid_form"]),
    "backward_tanh_slope_1_minus_a1": (["tanh_deriv_one_minus_a1"], ["tanh_deriv_sigmoid_form", "tanh_deriv_a1_squared"]),
    "backward_tanh_slope_a1_squared": (["tanh_deriv_a1_squared"], ["tanh_deriv_one_minus_a1", "tanh_deriv_uses_z1"]),
    "backward_tanh_twice": (["tanh_deriv_of_a1"], ["tanh_deriv_uses_z1", "tanh_deriv_dropped"]),
    "backward_tanh_slope_from_z1": (["tanh_deriv_uses_z1"], ["tanh_deriv_of_a1", "tanh_deriv_a1_squared"]),
    "backward_tanh_slope_sigmoid_form": (["tanh_deriv_sigmoid_form"],
                                         ["tanh_deriv_one_minus_a1", "dz2_times_sigmoid_slope"]),
    "backward_tanh_slope_missing": (["tanh_deriv_dropped"], ["tanh_deriv_of_a1", "tanh_deriv_uses_z1"]),
    "backward_one_output": (["single_output_outer", "w2t_elementwise_dz2"], ["dot_w2_dz2", "einsum_row_sums"]),
    "backward_dw2_uses_z1": (["dw2_uses_z1"], ["dw2_missing_transpose", "dw1_transposed"]),
    "backward_swapped_names": (["swapped_db_names", "swapped_dw_names"], ["db1_from_dz2", "dw1_transposed"]),
    "backward_db1_uses_dz2": (["db1_from_dz2"], ["swapped_db_names", "db_sum_all"]),
    "backward_sum_all_axes": (["db_sum_all"], ["db_no_keepdims", "db_not_divided_by_m"]),
    "backward_db_keepdims": (["db_no_keepdims"], ["db_sum_all", "db1_from_dz2"]),
    "backward_dw_transposed": (["dw1_transposed"], ["dw2_missing_transpose", "swapped_dw_names"]),
    "backward_key_case": (["wrong_grad_keys"], ["no_db1_key", "init_lowercase_keys"]),
}


def fired(name):
    return {v.hint for v in graded(NAMES[name]).verdicts if not v.passed and v.hint}


def text_of(name):
    return "\n".join(report.item_output(v) for v in graded(NAMES[name]).verdicts if not v.passed)


def test_every_hint_has_its_submissions_and_two_near_misses():
    assert set(NEAR_MISSES) == set(hints.HINTS)
    for hint, (must, must_not) in NEAR_MISSES.items():
        assert must and len(must_not) >= 2, hint
        assert not set(must) & set(must_not), hint
        for name in must + must_not:
            assert name in NAMES, (hint, name)


@pytest.mark.parametrize("hint", sorted(NEAR_MISSES))
def test_cause_fires_on_its_mistake_and_not_on_its_near_misses(hint):
    must, must_not = NEAR_MISSES[hint]
    for name in must:
        assert hint in fired(name), (hint, name, fired(name))
    for name in must_not:
        assert hint not in fired(name), (hint, name, text_of(name))
        assert hints.get(hint).text.rstrip(".") not in text_of(name), (hint, name)


@pytest.mark.parametrize("path,expected", WRONG, ids=[os.path.basename(p) for p, _ in WRONG])
def test_report_has_its_phrase_and_no_other_causes(path, expected):
    text = "\n".join(report.item_output(v) for v in graded(path).verdicts if not v.passed)
    for phrase in header(path, "says"):
        assert phrase in text, (phrase, text)
    own = set(header(path, "hint")[0].split()) - {"none"}
    for hint in hints.HINTS.values():
        if hint.id not in own:
            assert "Likely cause: " + hint.text.rstrip(".") not in text, (hint.id, text)


# --- the rule matrix ------------------------------------------------------------------------------

PROBES = [(sizes, evidence.POOL_SEED + k) for k, sizes in enumerate(evidence.POOL[:3])]
ORDER_FORWARD, ORDER_BACKWARD = ("Z1", "A1", "Z2", "A2"), ("dW2", "db2", "dW1", "db1")


class Child:
    """The submission's functions in their own child, as the engine runs them (tests only)."""

    def __init__(self, path):
        self.folder = ScratchFolder("autograder-test-causes-")
        code = os.path.join(self.folder.path, "submission.py")
        prepared = prepare(path, grader_rules)
        with open(code, "w", encoding="utf-8") as f:
            f.write(prepared.source)
        self.sandbox = Sandbox(code)
        self.sandbox.statements = prepared.statements
        self.functions = self.sandbox.load()["functions"]
        self.student = Student(self.sandbox)

    def close(self):
        self.sandbox.close()
        self.folder.close()


def _forward_fires(student):
    """Forward rules that match the first wrong cache entry on every probe."""
    matched = None
    for sizes, seed in PROBES:
        found = evidence._forward_cache(student, sizes, seed)
        here = set()
        if found is not None:
            cache, X, p, true = found
            for key in ORDER_FORWARD:
                got = checks.as_numbers(cache.get(key))
                if got is None or got.shape != true[key].shape or not np.allclose(got, true[key], 1e-6, 1e-9):
                    here = {hint for hint, k, _ in causes.FORWARD_RULES
                            if k == key and causes.forward_matches(hint, got, X, p, true)}
                    break
        matched = here if matched is None else matched & here
    return matched or set()


def _backward_fires(student):
    """Backward rules that match the first wrong gradient on every probe, and 'one output' where proven."""
    matched, failing = None, None
    for sizes, seed in PROBES:
        e = evidence.backward_evidence(student, sizes, seed)
        here = set()
        if e is not None:
            wrong = [n for n in ORDER_BACKWARD if not causes._close(e.got(n), e.true[n])]
            if wrong:
                failing = failing or (sizes, e)
                here = {hint for hint, rule in causes.BACKWARD_RULES if rule(wrong[0], e)}
        else:
            failing = failing or (sizes, None)
        matched = here if matched is None else matched & here
    fires = matched or set()
    if failing is not None and evidence.one_output(student, *failing):
        fires.add("backward_one_output")
    return fires


def _big(student, sizes):
    try:
        value = student.call("initialize_parameters", (sizes["n_x"], sizes["n_h"], sizes["n_y"]),
                             dict(sizes, numpy_seed=checks.BIG_SEED),
                             seed=checks.BIG_SEED).value
    except Failed:
        return {}
    return value if isinstance(value, dict) else {}


def _init_fires(student):
    """Distribution and scale rules on the large draw, under the preconditions the check applies."""
    fires, first, second = set(), _big(student, checks.BIG), _big(student, draws.SECOND)
    for name, dim in (("W1", "n_x"), ("W2", "n_h")):
        w = checks.as_numbers(first.get(name))
        if w is None or w.size < checks.MIN_MEASURED or not np.all(np.isfinite(w)):
            continue
        w, _ = spread.distinct_draws(name, w)
        if w.size < spread.MIN_DISTINCT or w.std() < 1e-12:
            continue
        std, limit = float(w.std()), spread.ks_limit(w.size)
        if w.min() >= 0 or w.max() <= 0:
            fires.add(causes.one_signed_cause(w, limit) or draws.shape(name, w, limit)[1])
        elif not causes.gaussian_shape(w, limit):
            fires.add(draws.shape(name, w, limit)[1])
        elif std > 0.01 + spread.spread_band(w.size) and (causes.saturation(name, first, checks.BIG_SEED, checks.BIG)
                                                         or (0, ""))[0] >= causes.SATURATION_SHARE:
            fires.add("init_saturates")
        elif abs(std - 0.01) > spread.spread_band(w.size):
            again = checks.as_numbers(second.get(name))
            fires.add(draws.scale_cause(std, checks.BIG[dim], float(again.std()) if again is not None else None,
                                        draws.SECOND[dim]))
    return fires - {None}


def test_every_rule_against_every_wrong_submission():
    """Lists which rule fires where; a rule firing on a submission whose mistake is another fails."""
    where, wrong_places = {}, []
    for path, _ in WRONG:
        child = Child(path)
        try:
            fires = set()
            if child.functions.get("forward") == "ok":
                fires |= _forward_fires(child.student)
            if child.functions.get("backward") == "ok":
                fires |= _backward_fires(child.student)
            if child.functions.get("initialize_parameters") == "ok":
                fires |= _init_fires(child.student)
        finally:
            child.close()
        own = set(header(path, "hint")[0].split())
        for hint in fires:
            where.setdefault(hint, []).append(os.path.basename(path))
            if hint not in own:
                wrong_places.append((hint, os.path.basename(path)))
    print("\n".join("%-34s %s" % (hint, ", ".join(files)) for hint, files in sorted(where.items())))
    assert not wrong_places, wrong_places
    # the matrix is not empty: most rules fire somewhere, each on its own mistake
    assert len(where) >= 40, sorted(where)


# --- proof on further cases -----------------------------------------------------------------------

def test_further_cases_differ_in_every_size_and_include_the_claimed_size():
    for failing in ({"n_x": 1, "n_h": 1, "n_y": 2, "m": 1}, {"n_x": 3, "n_h": 4, "n_y": 2, "m": 5},
                    {"n_x": 10, "n_h": 10, "n_y": 10, "m": 10}, {"n_x": 2, "n_h": 2, "n_y": 3, "m": 2}):
        for fixed in (None, evidence.ONE_OUTPUT):
            chosen = evidence.further_cases(failing, fixed)
            assert len(chosen) == evidence.FURTHER >= 2
            for sizes, _ in chosen:
                assert all(sizes[d] != failing[d] for d in failing), (failing, sizes)
                assert len(set(sizes.values())) == 4 or fixed, sizes     # factor causes cannot coincide
                if fixed:
                    assert sizes["n_y"] == 1 and sizes["n_h"] >= 2


def test_a_swap_needs_both_halves():
    p, X, Y, cache = reference.solved(3, 2, 3, 3, 4)               # n_h = n_y: db1 and db2 share a shape
    true = reference.solved_gradients(3, 2, 3, 3, 4)
    swapped = dict(true, db1=true["db2"], db2=true["db1"])
    half = dict(true, db1=true["db2"])                               # db1 from dZ2, db2 right
    assert "backward_swapped_names" in causes.backward_candidates("db1", causes.Evidence(p, X, Y, cache, true, swapped))
    only = causes.backward_candidates("db1", causes.Evidence(p, X, Y, cache, true, half))
    assert "backward_swapped_names" not in only and "backward_db1_uses_dz2" in only


def test_scale_causes_need_two_fan_ins():
    fan_in, other = checks.BIG["n_x"], draws.SECOND["n_x"]
    fixed = 1 / np.sqrt(fan_in)                                      # 0.0707: Xavier's value at fan-in 200
    assert draws.scale_cause(fixed, fan_in, fixed, other) == "init_too_large"
    assert draws.scale_cause(fixed, fan_in, 1 / np.sqrt(other), other) == "init_xavier"
    assert draws.scale_cause(np.sqrt(2 / fan_in), fan_in, np.sqrt(2 / other), other) == "init_he"
    assert draws.scale_cause(fixed, fan_in, None, other) is None     # no second draw: nothing is named
    assert draws.scale_cause(fixed, fan_in, 0.5, other) is None      # neither fixed nor a fan-in rule


def test_a_gaussian_draw_gets_no_distribution_name():
    w = np.random.default_rng(5).standard_normal(checks.BIG_DRAW) * 0.01
    assert draws.shape("W1", w, spread.KS_LIMIT) == (None, None)


def _equal_rows_by_pairs(W):
    """first_equal_rows' answer found the slow way: the smallest row value that two rows share (nan never
    equals, -0.0 is 0.0), and the first two rows holding it."""
    rows = W + 0.0
    pairs = [(i, j) for i in range(len(rows)) for j in range(i + 1, len(rows)) if np.all(rows[i] == rows[j])]
    return min(pairs, key=lambda ij: (tuple(rows[ij[0]]), ij)) if pairs else None


def test_first_equal_rows_names_the_pair_a_pairwise_search_finds():
    """The byte-sort shortcut (draws._distinct_bytes) never changes the answer: nan, -0.0, inf, ties."""
    rng = np.random.default_rng(3)
    seen = set()
    for _ in range(3000):
        W = rng.integers(-2, 3, size=(rng.integers(1, 7), rng.integers(1, 5))).astype(float)
        if rng.random() < 0.3:
            W[rng.integers(W.shape[0]), rng.integers(W.shape[1])] = np.nan
        if rng.random() < 0.3:
            W[W == 0] = -0.0 if rng.random() < 0.5 else 0.0
            W[rng.integers(W.shape[0]), 0] = -0.0
        if rng.random() < 0.2:
            W[rng.integers(W.shape[0])] = np.inf
        assert draws.first_equal_rows(W) == _equal_rows_by_pairs(W), W
        seen.add(draws.first_equal_rows(W) is None)
    assert seen == {True, False}       # both answers were met
    assert draws.first_equal_rows(np.array([[0.0, np.nan], [0.0, np.nan]])) is None     # same bytes, not equal
    assert draws.first_equal_rows(np.array([[-0.0, 1.0], [0.0, 1.0]])) == (0, 1)     # other bytes, equal


class _CountedDraws(spread.PassedDraws):
    """PassedDraws that notes whether each draw asked about was known (judge measures it when not)."""

    def __init__(self):
        super().__init__()
        self.known = []

    def __contains__(self, w):
        self.known.append(super().__contains__(w))
        return self.known[-1]


def test_a_draw_that_passed_passes_again_unmeasured_and_nothing_else_does():
    """spread.PassedDraws: only passes are kept, and only an equal draw (every entry, same shape) reuses one."""
    passed, sizes = _CountedDraws(), {"n_x": 200, "n_h": 250, "n_y": 200}
    w = np.random.default_rng(4).standard_normal((250, 200)) * 0.01

    def judge(draw):
        spread.judge("W1", draw, None, sizes, 1, {}, lambda: None, passed)
    judge(w)
    judge(w.copy())                                 # equal: known, not measured
    judge(w.T.copy())                               # the same entries in another shape: measured
    for _ in range(2):                              # a failing draw is never kept: measured both times
        with pytest.raises(Failed):
            judge(w / 3)
    nudged = w.copy()
    nudged[3, 4] += 1e-6                            # one entry differs: measured
    judge(nudged)
    assert passed.known == [False, True, False, False, False, False]
    assert len(passed.draws) == 3


def test_ks_normal_on_a_sorted_draw_is_the_same_distance():
    w = np.random.default_rng(8).standard_normal(5000) * 1.1
    assert causes.ks_normal(np.sort(w), ordered=True) == causes.ks_normal(w)


# --- the HTML page ------------------------------------------------------------------------------

def test_html_shows_the_file_name_and_the_terminal_words():
    path = NAMES["centres_x_first"]
    result = graded(path)
    page = html.student_page(result)
    assert os.path.dirname(path) not in page and CORPUS not in page
    assert "<code>centres_x_first.py</code>" in page
    plain = page.replace("&#x27;", "'").replace("&quot;", '"')
    assert report.REPRODUCE in plain
    v = [v for v in result.verdicts if not v.passed][0]
    assert html.text(v.problem.rstrip(".")) in page
    assert 'before = X.copy()' in plain and 'print("X after the call: ", X)' in plain


def test_the_changed_in_place_rebuild_code_runs_and_shows_the_change(capsys):
    v = [v for v in graded(NAMES["centres_x_first"]).verdicts if not v.passed][0]

    def forward(X, parameters):
        X -= X.mean(axis=1, keepdims=True)
        return None, None
    exec(v.inputs, {"forward": forward})
    shown = capsys.readouterr().out
    assert "X before the call:" in shown and "X after the call: " in shown
    before, after = shown.split("X after the call: ")
    assert before.split("X before the call:")[1].strip() != after.strip()


def test_a_crash_points_at_the_code_not_at_a_concept():
    for name in ("init_index_error_more_units", "dot_w2_dz2"):
        for v in graded(NAMES[name]).verdicts:
            if not v.passed:
                assert " raised " in v.problem and "(line " in v.problem, v.problem
                assert v.section == "" and "Read:" not in report.item_output(v), (name, v.id)
    # the smallest size where it happens, for init.small_scale too (whose first case is the large draw)
    cases = {v.id: v.case for v in graded(NAMES["init_index_error_more_units"]).verdicts if not v.passed}
    assert all(c["n_x"] == 1 and c["n_h"] == 2 for c in cases.values()), cases


def test_rows_equal_by_clipping_get_no_advice_to_draw_the_matrix_at_once():
    """Clipped draws repeat their bounds, so two one-input rows can be equal; they were drawn at once."""
    from test_corpus import Fake

    def clipped(n_x, n_h, n_y):
        W1 = np.clip(np.random.randn(n_h, n_x) * 0.01, -0.001, 0.001)     # nearly every entry at a bound
        return {"W1": W1, "b1": np.zeros((n_h, 1)), "W2": np.random.randn(n_y, n_h) * 0.01,
                "b2": np.zeros((n_y, 1))}

    def tiled(n_x, n_h, n_y):
        return dict(clipped(n_x, n_h, n_y), W1=np.tile(np.random.randn(1, n_x) * 0.01, (n_h, 1)))
    for init, hint in ((clipped, None), (tiled, "init_equal_rows")):
        with pytest.raises(Failed) as caught:
            checks.init_breaks_symmetry(Fake(init), n_x=1, n_h=4, n_y=2, seed=7)
        assert "of 'W1' are equal" in caught.value.problem and caught.value.hint == hint
