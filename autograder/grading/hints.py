"""Likely causes: the classic mistakes the checks recognise, each with a stable id.

A check that recognises a mistake raises ``Failed(..., hint=ID)``; the renderers print the hint's
``text`` as "Likely cause: ..." and point "Read:" at the hint's ``section`` (the section that
explains the *cause*), falling back to the rubric item's section. The class report counts
students per hint id, so an id names one misconception and never changes meaning.

A hint is only raised where the check has *verified* it: the student's value equals what the
mistake computes (forward, backward), or the measured numbers show it (init). The corpus
(``tests/corpus/wrong``) holds a submission for each hint and asserts that it fires.
"""

from dataclasses import dataclass

from .. import rubric


@dataclass(frozen=True)
class Hint:
    id: str
    text: str          # one sentence: the cause, in the lecture's terms, and the fix
    section: str       # the notebook section that explains this cause


_HINTS = (
    # initialize_parameters
    Hint("init_transposed", "the shape is transposed: W1 is (n_h, n_x) and W2 is (n_y, n_h)",
         rubric.SECTION_SCALE),
    Hint("init_flat_bias", "a bias is 1-D; keep it a column: np.zeros((n, 1))", rubric.SECTION_BIASES),
    Hint("init_not_float64", "the weights are not float64; do not cast them to another type",
         rubric.SECTION_SCALE),
    Hint("init_nonzero_bias", "biases have no symmetry to break, because the random weights already make "
         "the hidden units differ; start them at zero with np.zeros", rubric.SECTION_BIASES),
    Hint("init_private_generator", "the weights come from a generator of your own (np.random.default_rng() "
         "or RandomState), which ignores np.random.seed; draw from numpy's global state with "
         "np.random.randn", rubric.SECTION_SEEDING),
    Hint("init_reseeds", "initialize_parameters sets a seed itself, so every call gives the same draw; "
         "leave seeding to the caller", rubric.SECTION_SEEDING),
    Hint("init_rand_uniform", "the entries are uniform on [0, 1) as np.random.rand gives; np.random.randn "
         "draws from a Gaussian centred at 0", rubric.SECTION_SCALE),
    # forward
    Hint("forward_z1_no_bias", "Z1 leaves out the bias: Z1 = W1 X + b1", rubric.SECTION_FORWARD),
    Hint("forward_a1_is_z1", "A1 is Z1 itself; the hidden layer applies tanh: A1 = np.tanh(Z1)",
         rubric.SECTION_FORWARD),
    Hint("forward_a1_sigmoid", "A1 uses sigmoid; the hidden units use tanh", rubric.SECTION_FORWARD),
    Hint("forward_a1_relu", "A1 uses ReLU; the hidden units use tanh", rubric.SECTION_FORWARD),
    Hint("forward_z2_no_bias", "Z2 leaves out the bias: Z2 = W2 A1 + b2", rubric.SECTION_FORWARD),
    Hint("forward_z2_uses_z1", "Z2 uses Z1 where it needs A1 = tanh(Z1)", rubric.SECTION_FORWARD),
    Hint("forward_a2_tanh", "A2 uses tanh; the output unit uses sigmoid", rubric.SECTION_FORWARD),
    # backward
    Hint("backward_sign_flipped", "the sign is flipped: dZ2 = A2 - Y, and descent subtracts the gradient",
         rubric.SECTION_BACKWARD),
    Hint("backward_missing_1_over_m", "the 1/m is missing: average over the m examples "
         "(m = X.shape[1], not X.shape[0])", rubric.SECTION_BACKWARD),
    Hint("backward_double_1_over_m", "it is divided by m twice", rubric.SECTION_BACKWARD),
    Hint("backward_m_from_shape0", "it divides by X.shape[0] = n_x; the number of examples is "
         "m = X.shape[1]", rubric.SECTION_BACKWARD),
    Hint("backward_tanh_slope_1_minus_a1", "the slope of tanh is 1 - A1**2, not 1 - A1",
         rubric.SECTION_BACKWARD),
    Hint("backward_tanh_twice", "the slope of tanh is 1 - A1**2 with A1 = tanh(Z1); tanh is applied twice "
         "here", rubric.SECTION_BACKWARD),
    Hint("backward_tanh_slope_from_z1", "the slope of tanh is 1 - A1**2, written with A1, not Z1",
         rubric.SECTION_BACKWARD),
    Hint("backward_tanh_slope_missing", "the slope of tanh, 1 - A1**2, is missing from dZ1",
         rubric.SECTION_BACKWARD),
)

HINTS = {h.id: h for h in _HINTS}
assert len(HINTS) == len(_HINTS), "two hints share an id"


def get(hint_id):
    """The Hint for an id; KeyError (loudly) for an id nobody defined."""
    return HINTS[hint_id]
