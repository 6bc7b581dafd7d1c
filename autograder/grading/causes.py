"""Likely causes, verified: which classic mistake a wrong value is, and only when the numbers show it.

The checks in ``checks.py`` decide pass or fail; this module only names the cause, so that every
"Likely cause" a student reads is true of the submission. A forward or backward rule here is a
candidate when the student's value equals what that mistake computes on the failing case's inputs;
``evidence.py`` makes it the cause only when the same holds on further cases of other sizes, and
each rule checks its whole claim (a swap: both halves). Init causes are read off the measured draw
(one sign: uniform against folded Gaussian; other shapes and scales: ``draws.py``). Saturation is
claimed only when the student's own weights, on the grader's own inputs, put most pre-activations
where tanh or sigmoid is flat. Everything here reads plain arrays; nothing calls student code.
"""

import functools
import math

import numpy as np

from .grader_rules import FORWARD_ATOL, FORWARD_RTOL, GRADIENT_ATOL, GRADIENT_RTOL, SCALE
from . import reference
from .feedback import as_numbers

# --- initialize_parameters -----------------------------------------------------------------------

# Saturation: |z| > 3 is where tanh's slope 1 - tanh(z)^2 is below 0.01 (1% of its peak) and
# sigmoid's below 0.05 (a fifth of its peak, 0.25). It is claimed only when at least half of the
# pre-activations on the grader's inputs are there: then most units learn slowly from the start.
SATURATED_Z = 3.0
SATURATION_SHARE = 0.5
SATURATION_EXAMPLES = 100   # examples of the grader's inputs X for the measurement
# A scale is "Gaussian" when the draw, divided by its own spread, passes the same KS bound the
# spread check uses; only then is a wrong spread blamed on a wrong factor (and Xavier's named).
_erf = np.frompyfunc(math.erf, 1, 1)

# Exact KS distances in two passes (what it saves: docs/scale.md, "Speed tricks"; math.erf is a Python
# call per entry): a vectorised approximation of erf (Abramowitz & Stegun 7.1.26,
# error below 1.5e-7) locates the few entries that can hold the largest gap, and math.erf, evaluated
# only there with the very same float operations, gives the gap itself. An entry whose approximate
# gap is more than twice the error bound below the approximate maximum cannot hold the exact maximum,
# so the result is bit for bit the one math.erf on every entry gives (tests/test_reference.py).
ERF_APPROX_ERROR = 1e-6     # bound used for the approximation's error: over six times its documented 1.5e-7
_AS_P = 0.3275911
_AS_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def erf_approx(x):
    """erf(x) within ERF_APPROX_ERROR, vectorised (Abramowitz & Stegun 7.1.26), in place to save copies."""
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    t = a * _AS_P
    t += 1.0
    np.reciprocal(t, out=t)                           # t = 1 / (1 + p |x|)
    poly = t * _AS_A[4]
    for c in _AS_A[3::-1]:                            # Horner: t (a1 + t (a2 + t (a3 + t (a4 + t a5))))
        poly += c
        poly *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)                                  # exp(-x^2)
    poly *= a
    np.subtract(1.0, poly, out=poly)
    return np.copysign(poly, x, out=poly)


def _normal_cdf(z):
    return 0.5 * (1.0 + _erf(z / math.sqrt(2.0)).astype(np.float64))


def _folded_cdf(z):
    return _erf(z / math.sqrt(2.0)).astype(np.float64)


def _normal_cdf_approx(z):
    cdf = erf_approx(z / math.sqrt(2.0))
    cdf += 1.0
    cdf *= 0.5
    return cdf


def _folded_cdf_approx(z):
    return erf_approx(z / math.sqrt(2.0))


@functools.lru_cache(maxsize=4)
def _steps(n):
    """0, 1/n, ..., n/n: the empirical CDF's levels (read-only; the large draw always has n = 50,000)."""
    steps = np.arange(n + 1) / n
    steps.setflags(write=False)
    return steps


def _ks_exact_at_candidates(z, cdf_fn, approx_cdf, cdf_error):
    """KS distance of the sorted finite sample z against ``cdf_fn``, evaluating it only where it can peak."""
    n = z.size
    approx = approx_cdf(z)
    steps = _steps(n)
    above = steps[1:] - approx                        # the empirical CDF above the model's, at each entry
    below = approx - steps[:-1]                       # and below it, just before each entry
    slack = 2 * cdf_error + 1e-12                     # the error of each gap, twice, plus rounding
    best = []
    for gaps, offset in ((above, 1), (below, 0)):
        where = np.flatnonzero(gaps >= gaps.max() - slack)
        cdf, at = cdf_fn(z[where]), (where + offset) / n       # exactly as on every entry
        best.append((at - cdf).max() if offset else (cdf - at).max())
    return float(max(best[0], best[1]))


def ks_normal(z, ordered=False):
    """Kolmogorov-Smirnov distance between the sample z and N(0, 1); ``ordered``: z is already a sorted 1-D
    float64 array (not sorted again)."""
    z = z if ordered else np.sort(np.asarray(z, dtype=np.float64).ravel())
    if z.size and np.isfinite(z[0]) and np.isfinite(z[-1]):     # sorted: nan, if any, is last
        return _ks_exact_at_candidates(z, _normal_cdf, _normal_cdf_approx, 0.5 * ERF_APPROX_ERROR)
    cdf = _normal_cdf(z)
    n = z.size
    return float(max((np.arange(1, n + 1) / n - cdf).max(), (cdf - np.arange(n) / n).max()))


def _ks_against(z, cdf_fn, approx_cdf=None, cdf_error=0.0):
    z = np.sort(z.ravel())
    if approx_cdf is not None and z.size and np.isfinite(z[0]) and np.isfinite(z[-1]):
        return _ks_exact_at_candidates(z, cdf_fn, approx_cdf, cdf_error)
    cdf = cdf_fn(z)
    n = z.size
    return float(max((np.arange(1, n + 1) / n - cdf).max(), (cdf - np.arange(n) / n).max()))


def one_signed_cause(w, ks_limit):
    """For a draw whose entries all share one sign: 'init_rand_uniform', 'init_abs_randn' or None."""
    a = np.abs(w.ravel())
    if ks_limit >= _ks_against(a / SCALE, lambda z: np.clip(z, 0.0, 1.0)):
        return "init_rand_uniform"                     # uniform on [0, 0.01): np.random.rand * 0.01
    if ks_limit >= _ks_against(a / SCALE, _folded_cdf, _folded_cdf_approx, ERF_APPROX_ERROR):   # |N(0, 1)|
        return "init_abs_randn"                        # |N(0, 0.01^2)|: np.abs(randn) * 0.01
    return None


def gaussian_shape(w, ks_limit):
    """True when w, centred and divided by its own spread, looks like N(0, 1)."""
    std = float(w.std())
    return std > 0 and ks_normal((w - w.mean()) / std) <= ks_limit


def saturation(name, p, seed, sizes):
    """(share of |Z| > SATURATED_Z, 'Z1' or 'Z2') for the student's weights on the grader's inputs.

    Z1 = W1 X and Z2 = W2 tanh(W1 X) with zero biases (the item's biases), X the grader's standard
    normal inputs. None when the shapes do not fit (then nothing is claimed).
    """
    n_x, n_h, n_y = sizes["n_x"], sizes["n_h"], sizes["n_y"]
    W1, W2 = p.get("W1"), p.get("W2")
    if not (isinstance(W1, np.ndarray) and W1.shape == (n_h, n_x)):
        return None
    X = reference.problem(seed, n_x, n_h, n_y, SATURATION_EXAMPLES)[1]
    with np.errstate(all="ignore"):
        Z = W1 @ X
        if name == "W2":
            if not (isinstance(W2, np.ndarray) and W2.shape == (n_y, n_h)):
                return None
            Z = W2 @ np.tanh(Z)
    if not np.all(np.isfinite(Z)):
        return None
    return float(np.mean(np.abs(Z) > SATURATED_Z)), ("Z1" if name == "W1" else "Z2")


def saturation_text(share, z, only=""):
    act, slope = ("tanh", "0.01") if z == "Z1" else ("sigmoid", "0.05")
    formula = "Z1 = W1 X" if z == "Z1" else "Z2 = W2 tanh(W1 X)"
    return ("on the grader's inputs (standard normal X), %s%.3g%% of the entries of %s have |%s| > %g, where "
            "%s is flat (its slope is below %s)" % (only, 100 * share, formula, z, SATURATED_Z, act, slope))


# --- forward -------------------------------------------------------------------------------------

def _leaky(X, p, c, got):
    """A leaky ReLU of Z1 with the slope the student's negative entries show (in (0, 1)), or None."""
    Z1 = c["Z1"]
    negative = Z1 < 0
    if got.shape != Z1.shape or not negative.any():
        return None
    slope = float(np.median(got[negative] / Z1[negative]))
    return np.where(Z1 > 0, Z1, slope * Z1) if 0 < slope < 1 else None


# (hint id, cache key, what the mistake computes there from X, the parameters, the true cache and the
# student's own value). A rule is a candidate when it matches the failing case, and a cause only when
# evidence.py has seen it match two further cases too.
FORWARD_RULES = (
    ("forward_z1_no_bias", "Z1", lambda X, p, c, got: p["W1"] @ X),
    ("forward_z1_holds_a1", "Z1", lambda X, p, c, got: c["A1"]),
    ("forward_a1_is_z1", "A1", lambda X, p, c, got: c["Z1"]),
    ("forward_a1_sigmoid", "A1", lambda X, p, c, got: reference.sigmoid(c["Z1"])),
    ("forward_a1_relu", "A1", lambda X, p, c, got: np.maximum(c["Z1"], 0)),
    ("forward_a1_leaky_relu", "A1", _leaky),
    ("forward_z2_no_bias", "Z2", lambda X, p, c, got: p["W2"] @ c["A1"]),
    ("forward_z2_uses_z1", "Z2", lambda X, p, c, got: p["W2"] @ c["Z1"] + p["b2"]),
    ("forward_a2_tanh", "A2", lambda X, p, c, got: np.tanh(c["Z2"])),
    ("forward_a2_is_z2", "A2", lambda X, p, c, got: c["Z2"]),
    ("forward_sigmoid_sign", "A2", lambda X, p, c, got: reference.sigmoid(-c["Z2"])),
)
FORWARD_RULE = {hint: (key, fn) for hint, key, fn in FORWARD_RULES}


def forward_matches(hint, got, X, p, true):
    """True when ``got`` (the student's cache value) is what mistake ``hint`` computes on these inputs."""
    key, fn = FORWARD_RULE[hint]
    if got is None or got.shape != true[key].shape:
        return False
    with np.errstate(all="ignore"):
        alternative = fn(X, p, true, got)
    return alternative is not None and bool(np.allclose(got, alternative, rtol=FORWARD_RTOL, atol=FORWARD_ATOL))


def forward_candidates(key, got, X, p, true):
    """Every forward hint whose mistake gives ``got`` for cache[key] here, in FORWARD_RULES order."""
    return [hint for hint, k, _ in FORWARD_RULES if k == key and forward_matches(hint, got, X, p, true)]


# --- backward ------------------------------------------------------------------------------------

PARTNER = {"dW1": "dW2", "dW2": "dW1", "db1": "db2", "db2": "db1"}


def _close(a, b):
    return a is not None and a.shape == b.shape and bool(np.allclose(a, b, rtol=GRADIENT_RTOL, atol=GRADIENT_ATOL))


class Evidence:
    """One backward case as the rules read it: the grader's inputs, true gradients, the student's grads."""

    def __init__(self, p, X, Y, cache, true, grads):
        self.p, self.X, self.Y, self.cache, self.true, self.grads = p, X, Y, cache, true, grads
        self.m, self.n_x, self.n_h, self.n_y = X.shape[1], X.shape[0], p["W1"].shape[0], Y.shape[0]

    def got(self, name):
        """The student's gradient ``name`` as a float array (feedback.as_numbers), or None."""
        return as_numbers(self.grads.get(name)) if isinstance(self.grads, dict) else None

    def analytic(self, dZ2=None, slope=None):
        """The four gradients written out, with the given dZ2 and slope of tanh (the true ones by default)."""
        A1, m = self.cache["A1"], self.m
        dZ2 = self.cache["A2"] - self.Y if dZ2 is None else dZ2
        dZ1 = (self.p["W2"].T @ dZ2) * (1 - A1 ** 2 if slope is None else slope)
        return {"dW2": dZ2 @ A1.T / m, "db2": dZ2.sum(axis=1, keepdims=True) / m,
                "dW1": dZ1 @ self.X.T / m, "db1": dZ1.sum(axis=1, keepdims=True) / m}


def _equal_to(name, e, want):
    got = e.got(name)
    return got is not None and got.size == want.size and _close(got.reshape(want.shape), want)


def _sum_all_axes(name, e):
    got, want = e.got(name), e.true[name]
    return (name.startswith("db") and got is not None and got.size == 1 and (want.size > 1 or got.ndim == 0)
            and bool(np.allclose(got.ravel()[0], want.sum(), rtol=GRADIENT_RTOL, atol=GRADIENT_ATOL)))


def _swapped(name, e):
    """Both halves: the student's ``name`` is the true partner and the student's partner is the true ``name``."""
    partner = PARTNER[name]
    return (e.true[name].shape != e.true[partner].shape or not _close(e.true[name], e.true[partner])) and \
        _close(e.got(name), e.true[partner]) and _close(e.got(partner), e.true[name])


def _db1_uses_dz2(name, e):
    return name == "db1" and _equal_to("db1", e, e.true["db2"]) and _close(e.got("db2"), e.true["db2"])


def _transposed(name, e):
    got, want = e.got(name), e.true[name]
    return (name.startswith("dW") and got is not None and got.shape == want.shape[::-1] and _close(got.T, want)
            and not _close(got, want))


def _factor(which):
    def rule(name, e):
        factor = which(e)
        return factor != 1 and _equal_to(name, e, factor * e.true[name])
    return rule


def _slope(which):
    def rule(name, e):
        if name not in ("dW1", "db1"):
            return False
        with np.errstate(all="ignore"):
            alternative = e.analytic(slope=which(e.cache))[name]
        return _equal_to(name, e, alternative)
    return rule


def _dz2_sigmoid_slope(name, e):
    A2 = e.cache["A2"]
    return _equal_to(name, e, e.analytic(dZ2=(A2 - e.Y) * A2 * (1 - A2))[name])


def _dw2_uses_z1(name, e):
    return name == "dW2" and _equal_to(name, e, (e.cache["A2"] - e.Y) @ e.cache["Z1"].T / e.m)


# (hint id, rule(gradient name, Evidence) -> bool), in the order they are tried. Each rule states the whole
# claim its hint makes (a swap checks both halves), so that it is true wherever it matches.
BACKWARD_RULES = (
    ("backward_sum_all_axes", _sum_all_axes),
    ("backward_swapped_names", _swapped),
    ("backward_db1_uses_dz2", _db1_uses_dz2),
    ("backward_dw_transposed", _transposed),
    ("backward_sign_flipped", _factor(lambda e: -1.0)),
    ("backward_missing_1_over_m", _factor(lambda e: e.m)),
    ("backward_double_1_over_m", _factor(lambda e: 1.0 / e.m)),
    ("backward_m_from_shape0", _factor(lambda e: e.m / e.n_x)),
    ("backward_m_from_n_h", _factor(lambda e: e.m / e.n_h)),
    ("backward_m_from_n_y", _factor(lambda e: e.m / e.n_y)),
    ("backward_mean_over_outputs", _factor(lambda e: 1.0 / e.n_y)),
    ("backward_dz2_sigmoid_slope", _dz2_sigmoid_slope),
    ("backward_dw2_uses_z1", _dw2_uses_z1),
    ("backward_tanh_slope_1_minus_a1", _slope(lambda c: 1 - c["A1"])),
    ("backward_tanh_slope_a1_squared", _slope(lambda c: c["A1"] ** 2)),
    ("backward_tanh_twice", _slope(lambda c: 1 - np.tanh(c["A1"]) ** 2)),
    ("backward_tanh_slope_from_z1", _slope(lambda c: 1 - c["Z1"] ** 2)),
    ("backward_tanh_slope_sigmoid_form", _slope(lambda c: c["A1"] * (1 - c["A1"]))),
    ("backward_tanh_slope_missing", _slope(lambda c: np.ones_like(c["A1"]))),
)
BACKWARD_RULE = dict(BACKWARD_RULES)


def backward_candidates(name, e):
    """Every backward hint whose mistake gives the student's gradient ``name`` here, in order."""
    if e.got(name) is None:
        return []
    return [hint for hint, rule in BACKWARD_RULES if rule(name, e)]


def backward_right(e):
    """True when all four of the student's gradients equal the true ones (shapes included)."""
    return all(_close(e.got(name), e.true[name]) for name in PARTNER)
