"""Likely causes: the classic mistakes the checks recognise, each with a stable id.

A check that recognises a mistake raises ``Failed(..., hint=ID)``; the renderers print the hint's
``text`` as "Likely cause: ..." and point "Read:" at the hint's ``section`` (the section that
explains the *cause*), falling back to the rubric item's section. The class report counts
students per hint id, so an id names one misconception and never changes meaning.

A hint is only raised where ``causes.py`` has *verified* it: the student's value equals what the
mistake computes on the same inputs (forward, backward), or the measured numbers show it (init).
Each text is true whenever it is raised, names code only where that code is the cause, and its
section explains the cause (a seeding mistake points to the seeding section, a scale that is too
small to the small-random section, saturation to the saturation section only when measured).
Every id has a submission in ``tests/corpus/wrong`` whose '# hint:' header asserts that it fires.
"""

from collections import namedtuple

from .. import rubric

# id; text: one sentence, the cause in the lecture's terms and the fix; section: the notebook section that
# explains this cause.
Hint = namedtuple("Hint", "id text section")


_HINTS = (
    # initialize_parameters: shapes and types
    Hint("init_transposed", "the shape is transposed: W1 is (n_h, n_x) and W2 is (n_y, n_h)",
         rubric.SECTION_SCALE),
    Hint("init_flat_bias", "a bias is 1-D; keep it a column: np.zeros((n, 1))", rubric.SECTION_BIASES),
    Hint("init_not_float64", "the weights are not float64; np.random.randn already gives float64, so do not "
         "cast them to another type", rubric.SECTION_SCALE),
    Hint("init_bias_not_float64", "a bias is not float64: np.zeros((n, 1)) gives float64 zeros, while "
         "dtype=int or integer literals give integers", rubric.SECTION_BIASES),
    Hint("init_nonzero_bias", "biases have no symmetry to break: no two rows of your W1 are equal, and that "
         "alone makes the hidden units differ; start the biases at zero with np.zeros", rubric.SECTION_BIASES),
    Hint("init_key_case", "dictionary keys are case-sensitive: name the parameters exactly 'W1', 'b1', 'W2', "
         "'b2'", rubric.SECTION_SCALE),
    # initialize_parameters: symmetry and randomness
    Hint("init_units_copies", "hidden units with equal incoming weights, equal biases and equal outgoing "
         "weights compute the same value and get the same gradient at every step, so they stay copies for "
         "ever; draw W1 and W2 at random, e.g. np.random.randn(n_h, n_x) * 0.01", rubric.SECTION_SYMMETRY),
    Hint("init_equal_rows", "some rows of W1 are copies of others (tiled, repeated or assigned), not "
         "independent random draws; draw the whole matrix at once: np.random.randn(n_h, n_x) * 0.01",
         rubric.SECTION_SYMMETRY),
    Hint("init_clipped", "the draws are clipped (np.clip or a bound of your own): every draw beyond the bound "
         "becomes the bound itself, so that value repeats; use np.random.randn(...) * 0.01 as drawn",
         rubric.SECTION_SCALE),
    Hint("init_private_generator", "a draw that np.random.seed does not control: a generator of your own "
         "(np.random.default_rng(), RandomState) or a reseed from the clock (np.random.seed() with no "
         "argument); draw from numpy's global state with np.random.randn", rubric.SECTION_SEEDING),
    Hint("init_ignores_seed", "the weights do not depend on the caller's seed: either initialize_parameters "
         "sets a seed itself or the weights are a fixed pattern; draw them with np.random.randn and leave "
         "seeding to the caller", rubric.SECTION_SEEDING),
    Hint("init_same_next_call", "each call must move numpy's global random state on, so that the next call "
         "draws new numbers; code inside initialize_parameters that sets a seed, restores a saved state "
         "(np.random.set_state) or reuses an earlier result repeats the same weights", rubric.SECTION_SEEDING),
    Hint("init_constant", "a constant is not a random draw: it has no spread at all; draw Gaussian noise "
         "with np.random.randn(...) * 0.01", rubric.SECTION_SCALE),
    # initialize_parameters: scale and distribution
    Hint("init_not_finite", "a weight is nan or inf; every weight must be a finite number, as "
         "np.random.randn(...) * 0.01 gives", rubric.SECTION_SCALE),
    Hint("init_rand_uniform", "the entries are uniform on [0, 0.01) as np.random.rand(...) * 0.01 gives; "
         "np.random.randn draws from a Gaussian centred at 0", rubric.SECTION_SCALE),
    Hint("init_abs_randn", "the entries look like |randn| * 0.01: taking the absolute value folds the "
         "Gaussian onto one side; keep the signs of np.random.randn(...) * 0.01", rubric.SECTION_SCALE),
    Hint("init_uniform", "the entries are spread evenly between two bounds, as np.random.rand or "
         "np.random.uniform draws; np.random.randn draws from a Gaussian, which is dense near 0 and thin in the "
         "tails", rubric.SECTION_SCALE),
    Hint("init_truncated", "the draws are truncated: nothing lies beyond a bound, and no value piles up at it "
         "(tails cut off or redrawn); use np.random.randn(...) * 0.01 as drawn", rubric.SECTION_SCALE),
    Hint("init_exponential", "the entries follow an exponential distribution (np.random.exponential), which "
         "is skewed to one side; np.random.randn draws a symmetric Gaussian", rubric.SECTION_SCALE),
    Hint("init_skewed", "the draws are skewed to one side, which a Gaussian never is; draw "
         "np.random.randn(...) * 0.01", rubric.SECTION_SCALE),
    Hint("init_tiled_block", "the weights repeat one block of draws (np.tile, np.repeat, np.resize, "
         "or a list multiplied), so most entries are copies; every weight must be its own draw, as "
         "np.random.randn(rows, columns) * 0.01 gives", rubric.SECTION_SCALE),
    Hint("init_too_small", "the draws are Gaussian, scaled by a fixed factor below 0.01 (the same at every "
         "layer size); multiply np.random.randn(...) by exactly 0.01", rubric.SECTION_SCALE),
    Hint("init_too_large", "the draws are Gaussian, scaled by a fixed factor above 0.01 (the same at every "
         "layer size); multiply np.random.randn(...) by exactly 0.01", rubric.SECTION_SCALE),
    Hint("init_xavier", "the draws are scaled by 1/sqrt(fan-in) (Xavier scaling); that suits deep networks, "
         "but this assignment asks for np.random.randn(...) * 0.01", rubric.SECTION_SCALE),
    Hint("init_he", "the draws are scaled by sqrt(2/fan-in) (He scaling, made for ReLU layers); this "
         "assignment asks for np.random.randn(...) * 0.01", rubric.SECTION_SCALE),
    Hint("init_saturates", "weights this large put most pre-activations where tanh or sigmoid is flat, so "
         "the gradients are nearly 0 and learning crawls; multiply np.random.randn(...) by 0.01",
         rubric.SECTION_SATURATION),
    # forward
    Hint("forward_z1_no_bias", "Z1 leaves out the bias: Z1 = W1 X + b1", rubric.SECTION_FORWARD),
    Hint("forward_a1_is_z1", "A1 is Z1 itself; the hidden layer applies tanh: A1 = np.tanh(Z1)",
         rubric.SECTION_FORWARD),
    Hint("forward_a1_sigmoid", "A1 uses sigmoid; the hidden units use tanh", rubric.SECTION_FORWARD),
    Hint("forward_a1_relu", "A1 uses ReLU; the hidden units use tanh", rubric.SECTION_FORWARD),
    Hint("forward_a1_leaky_relu", "A1 is a leaky ReLU of Z1 (Z1 where it is positive, a small multiple of Z1 "
         "elsewhere); the hidden units use tanh: A1 = np.tanh(Z1)", rubric.SECTION_FORWARD),
    Hint("forward_z1_holds_a1", "the cached Z1 holds tanh(Z1), the values of A1; the values cannot tell which "
         "of two things happened: tanh was written over Z1 in place (np.tanh(Z1, out=Z1), Z1[:] = ...), or A1 "
         "was stored under the key 'Z1'. The cache needs Z1 = W1 X + b1 itself, and A1 = np.tanh(Z1) as a new "
         "array", rubric.SECTION_FORWARD),
    Hint("forward_z2_no_bias", "Z2 leaves out the bias: Z2 = W2 A1 + b2", rubric.SECTION_FORWARD),
    Hint("forward_z2_uses_z1", "Z2 uses Z1 where it needs A1 = tanh(Z1)", rubric.SECTION_FORWARD),
    Hint("forward_a2_tanh", "A2 uses tanh; the output unit uses sigmoid", rubric.SECTION_FORWARD),
    Hint("forward_a2_is_z2", "the output sigmoid is missing: A2 is Z2 itself; A2 = sigmoid(Z2) = "
         "1 / (1 + np.exp(-Z2))", rubric.SECTION_FORWARD),
    Hint("forward_sigmoid_sign", "the sign inside the sigmoid is flipped: A2 = 1 / (1 + np.exp(Z2)) is "
         "1 - sigmoid(Z2); the output is 1 / (1 + np.exp(-Z2))", rubric.SECTION_FORWARD),
    Hint("forward_a2_flat", "A2 was flattened to 1-D; keep its shape (n_y, m)", rubric.SECTION_FORWARD),
    # backward
    Hint("backward_sign_flipped", "the sign is flipped: dZ2 = A2 - Y, and descent subtracts the gradient",
         rubric.SECTION_BACKWARD),
    Hint("backward_missing_1_over_m", "the 1/m is missing: the cost averages over the m = X.shape[1] "
         "examples, so every gradient is divided by m", rubric.SECTION_BACKWARD),
    Hint("backward_double_1_over_m", "it is divided by m twice", rubric.SECTION_BACKWARD),
    Hint("backward_m_from_shape0", "it divides by X.shape[0] = n_x; the number of examples is "
         "m = X.shape[1]", rubric.SECTION_BACKWARD),
    Hint("backward_m_from_n_h", "it divides by the number of hidden units n_h (A1.shape[0] or W1.shape[0]); "
         "the number of examples is m = X.shape[1]", rubric.SECTION_BACKWARD),
    Hint("backward_m_from_n_y", "it divides by the number of outputs n_y (Y.shape[0]); the number of examples "
         "is m = Y.shape[1]", rubric.SECTION_BACKWARD),
    Hint("backward_mean_over_outputs", "every gradient is divided by n_y * m, as a mean over all entries of Y "
         "(np.mean, or m = Y.size) gives; J averages over the m examples and adds up the outputs, so divide by m "
         "alone", rubric.SECTION_BACKWARD),
    Hint("backward_dz2_sigmoid_slope", "dZ2 is multiplied by the sigmoid's slope A2 * (1 - A2); with the "
         "cross-entropy cost that slope cancels, so dZ2 = A2 - Y", rubric.SECTION_BACKWARD),
    Hint("backward_tanh_slope_1_minus_a1", "the slope of tanh is 1 - A1**2, not 1 - A1",
         rubric.SECTION_BACKWARD),
    Hint("backward_tanh_slope_a1_squared", "the slope of tanh is 1 - A1**2, not A1**2",
         rubric.SECTION_BACKWARD),
    Hint("backward_tanh_twice", "the slope of tanh is 1 - A1**2 with A1 = tanh(Z1); tanh is applied twice "
         "here", rubric.SECTION_BACKWARD),
    Hint("backward_tanh_slope_from_z1", "the slope of tanh is 1 - A1**2, written with A1, not Z1",
         rubric.SECTION_BACKWARD),
    Hint("backward_tanh_slope_sigmoid_form", "the slope of tanh is 1 - A1**2; A1 * (1 - A1) is the slope of "
         "the sigmoid", rubric.SECTION_BACKWARD),
    Hint("backward_tanh_slope_missing", "the slope of tanh, 1 - A1**2, is missing from dZ1",
         rubric.SECTION_BACKWARD),
    Hint("backward_one_output", "backward is right with one output unit (n_y = 1) and wrong with several: "
         "the error sent back to the hidden layer is the matrix product W2.T @ dZ2, which sums over every "
         "output (W2.T * dZ2, or code that uses only the first output, works for n_y = 1 alone)",
         rubric.SECTION_BACKWARD),
    Hint("backward_dw2_uses_z1", "dW2 uses Z1 where it needs A1: dW2 = (1/m) dZ2 A1^T",
         rubric.SECTION_BACKWARD),
    Hint("backward_db1_uses_dz2", "db1 is summed from dZ2, the output layer's error; db1 = (1/m) * "
         "np.sum(dZ1, axis=1, keepdims=True), with dZ1 = (W2.T @ dZ2) * (1 - A1**2)", rubric.SECTION_BACKWARD),
    Hint("backward_swapped_names", "the gradients are stored under each other's names: dW1 belongs to W1 "
         "(shape (n_h, n_x)), dW2 to W2 (n_y, n_h), db1 to b1 (n_h, 1), db2 to b2 (n_y, 1)",
         rubric.SECTION_BACKWARD),
    Hint("backward_sum_all_axes", "np.sum without axis adds every entry into one number; a bias gradient "
         "sums over the examples only: np.sum(dZ, axis=1, keepdims=True) / m", rubric.SECTION_BACKWARD),
    Hint("backward_db_keepdims", "np.sum(dZ, axis=1) drops the summed axis; keepdims=True keeps the bias "
         "gradient a column", rubric.SECTION_BACKWARD),
    Hint("backward_dw_transposed", "the weight gradient is transposed: dW1 = (1/m) dZ1 X^T has the shape of "
         "W1, and dW2 = (1/m) dZ2 A1^T the shape of W2", rubric.SECTION_BACKWARD),
    Hint("backward_key_case", "dictionary keys are case-sensitive: name the gradients exactly 'dW1', 'db1', "
         "'dW2', 'db2'", rubric.SECTION_BACKWARD),
)

HINTS = {h.id: h for h in _HINTS}
assert len(HINTS) == len(_HINTS), "two hints share an id"


def get(hint_id):
    """The Hint for an id; KeyError (loudly) for an id nobody defined."""
    return HINTS[hint_id]
