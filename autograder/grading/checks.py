"""The hidden tests: small properties, each registered under one rubric id, driven by hypothesis.

Each check receives a ``Student`` (``sandbox/student.py``, a handle on the child process) and one
test case drawn by hypothesis (sizes and a seed), calls exactly one student function, and raises
``Failed`` (``registry.py``) with a sentence in the lecture's terms, and the id of a verified likely
cause (``hints.py``), when the property does not hold. Hypothesis then shrinks to the smallest such
case, which the report shows in plain words. Each check reads only what it needs (the dependency
policy in ``registry.py``). The rubric item's title is what the student reads; docstrings here
describe the property for developers.

The grader makes every input: sizes come from hypothesis, arrays from
``reference.problem(seed)``, and numpy's global seed is set in the child before
every call, so the same submission always meets the same cases.

Thresholds of ``init.small_scale`` (one draw of 50,000 weights per matrix, sigma=0.01):
* |w| < 0.075 everywhere: 7.5 sigma, P(exceed) < 1e-13 per entry, < 1e-7 in all.
* |mean| < 6 sigma/sqrt(N) and |std - 0.01| < 6 sigma/sqrt(2N): each fails w.p. ~2e-9.
* Kolmogorov-Smirnov D < sqrt(ln(2/1e-8) / 2N) = 0.0138: by the DKW inequality P < 1e-8.
A correct initialisation therefore fails this item with probability below 1e-6.
"""

import math

import numpy as np

from . import reference
from .feedback import as_numbers, check_array, compare, describe_case, kind
from .registry import Failed, check

BOUND = 0.075
BIG = {"n_x": 200, "n_h": 250, "n_y": 200}        # the large draw: 50,000 weights in each matrix
BIG_SEED = 20261129
KS_LIMIT = math.sqrt(math.log(2 / 1e-8) / (2 * 50000))


# Sizes run from 1 to 10: big enough for every shape mistake (transposes, n_y >= 2, m != n_x) to
# show, small enough that a case costs microseconds; the strategies are in cases.py.
SIZE_RANGE = (1, 10)
INIT_CASES, UNITS_CASES, NET_CASES = "init", "units", "net"   # units: at least two hidden units
# Always tried first: n_y >= 2, m = 1, m > 1, m != n_x, n_h >= 2.
NET_EXAMPLES = ({"n_x": 3, "n_h": 4, "n_y": 2, "m": 5, "seed": 1},
                {"n_x": 2, "n_h": 3, "n_y": 1, "m": 1, "seed": 2},
                {"n_x": 4, "n_h": 2, "n_y": 3, "m": 7, "seed": 3})
INIT_EXAMPLES = tuple({k: v for k, v in e.items() if k != "m"} for e in NET_EXAMPLES)
SHAPES = {"W1": ("n_h", "n_x"), "b1": ("n_h", 1), "W2": ("n_y", "n_h"), "b2": ("n_y", 1)}


def shape_of(name, sizes):
    return tuple(sizes.get(d, d) for d in SHAPES[name])


def case_text(sizes, seed=None):
    text = describe_case(**sizes)
    return text + (" (numpy seed %d)" % seed if seed is not None else "")


def parameters_dict(value, case, fn="initialize_parameters", keys=("W1", "b1", "W2", "b2")):
    if not isinstance(value, dict):
        raise Failed("%s returned %s, expected a dict with keys %s" % (fn, kind(value), ", ".join(keys)),
                     case)
    for key in keys:
        if key not in value:
            has = ", ".join(sorted(value)) or "no keys"
            raise Failed("the dict returned by %s has no key '%s' (it has %s)" % (fn, key, has), case)
    return value


def weights(p, name, case):
    w = as_numbers(p[name])
    if w is None:
        raise Failed("'%s' is %s, so its values cannot be checked (see init.shapes)" % (name, kind(p[name])),
                     case)
    return w


# --- initialize_parameters --------------------------------------------------------------------

def _init(student, n_x, n_h, n_y, seed, keys):
    """Call initialize_parameters; the dict, checked for the ``keys`` this check reads and no others."""
    case = case_text({"n_x": n_x, "n_h": n_h, "n_y": n_y}, seed)
    value = student.call("initialize_parameters", (n_x, n_h, n_y), case, seed=seed).value
    return parameters_dict(value, case, keys=keys), case


@check("init.shapes", INIT_CASES, INIT_EXAMPLES)
def init_shapes(student, n_x, n_h, n_y, seed):
    """initialize_parameters returns W1, b1, W2, b2 with the right shapes, as float64"""
    p, case = _init(student, n_x, n_h, n_y, seed, tuple(SHAPES))
    sizes = {"n_x": n_x, "n_h": n_h, "n_y": n_y}
    for name in SHAPES:
        problem = check_array(name, p[name], shape_of(name, sizes))
        if problem:
            raise problem.failed(case)


@check("init.zero_biases", INIT_CASES, INIT_EXAMPLES)
def init_zero_biases(student, n_x, n_h, n_y, seed):
    """initialize_parameters sets both biases to exactly zero"""
    p, case = _init(student, n_x, n_h, n_y, seed, ("b1", "b2"))
    for name in ("b1", "b2"):
        b = weights(p, name, case)
        if np.any(b != 0):
            where = tuple(int(i) for i in np.argwhere(b != 0)[0])
            raise Failed("'%s' is not all zeros: %s%s = %.4g. Biases have no symmetry to break, because "
                         "the random weights already make the hidden units differ; start them at zero, "
                         "e.g. np.zeros((%s, 1))" % (name, name, list(where), b[where],
                                                      "n_h" if name == "b1" else "n_y"), case)


@check("init.breaks_symmetry", UNITS_CASES, INIT_EXAMPLES)
def init_breaks_symmetry(student, n_x, n_h, n_y, seed):
    """initialize_parameters gives every hidden unit its own random weights"""
    case = case_text({"n_x": n_x, "n_h": n_h, "n_y": n_y}, seed)
    other = (seed + 1) % 2**31
    args = (n_x, n_h, n_y)
    replies = student.calls("initialize_parameters",
                            [(args, seed), (args, None), (args, seed), (args, other)], case)
    first, again, same_seed, new_seed = [weights(parameters_dict(r.value, case, keys=("W1",)), "W1", case)
                                         for r in replies]
    if first.ndim == 2 and first.shape[0] >= 2:
        for i in range(first.shape[0]):
            for j in range(i + 1, first.shape[0]):
                if np.allclose(first[i], first[j], rtol=0, atol=1e-12):
                    raise Failed(
                        "rows %d and %d of 'W1' are equal, so hidden units %d and %d start identical: they "
                        "compute the same value, receive the same gradient, and stay copies of each other "
                        "however long you train. Draw W1 at random, e.g. np.random.randn(n_h, n_x) * 0.01"
                        % (i, j, i, j), case)
    if not _same(first, same_seed):
        raise Failed("the grader set np.random.seed(%d) twice and got two different W1. Draw from numpy's "
                     "global generator (np.random.randn), not np.random.default_rng() or a generator of "
                     "your own, so that np.random.seed makes a run reproducible" % seed, case)
    if _same(first, new_seed):
        raise Failed("W1 is the same for np.random.seed(%d) and np.random.seed(%d): your weights are a "
                     "fixed pattern, not random draws. Do not call np.random.seed inside "
                     "initialize_parameters; draw W1 with np.random.randn" % (seed, other), case)
    if _same(first, again):
        raise Failed("two calls in a row gave the same W1: each call must draw fresh random weights. Do not "
                     "reseed numpy inside initialize_parameters", case)


def _same(a, b):
    return a.shape == b.shape and np.array_equal(a, b)


@check("init.small_scale", INIT_CASES, INIT_EXAMPLES)
def init_small_everywhere(student, n_x, n_h, n_y, seed):
    """initialize_parameters draws weights from N(0, 0.01^2)"""
    p, case = _init(student, n_x, n_h, n_y, seed, ("W1", "W2"))
    for name in ("W1", "W2"):
        _bounded(name, weights(p, name, case), case)


def _bounded(name, w, case):
    if not np.all(np.isfinite(w)) or np.any(np.abs(w) >= BOUND):
        where = tuple(int(i) for i in np.argwhere(~(np.abs(w) < BOUND))[0])
        raise Failed("'%s' has an entry %s = %.4g, far outside what randn * 0.01 gives (|w| < %g). Large "
                     "weights make |Z| large, where tanh and sigmoid are flat: their slope is nearly 0 and "
                     "gradient descent crawls. Multiply np.random.randn(...) by 0.01"
                     % (name, list(where), w[where], BOUND), case)


@check("init.small_scale")
def init_gaussian_spread(student):
    """initialize_parameters draws weights from N(0, 0.01^2)"""
    p, case = _init(student, BIG["n_x"], BIG["n_h"], BIG["n_y"], BIG_SEED, ("W1", "W2"))
    case = "one large draw, " + case
    for name in ("W1", "W2"):
        w = weights(p, name, case).ravel()
        if w.size < 1000:
            raise Failed("'%s' has only %d entries for %s, so its spread cannot be measured (see init.shapes)"
                         % (name, w.size, case), case)
        _bounded(name, w.reshape(-1), case)
        n = w.size
        mean, std = float(w.mean()), float(w.std())
        if std < 1e-12:
            raise Failed("all %d entries of '%s' equal %.4g: a constant is not a random draw. Use "
                         "np.random.randn(...) * 0.01" % (n, name, w[0]), case)
        if abs(mean) > 6 * 0.01 / math.sqrt(n):
            hint = (" They are all >= 0, as np.random.rand gives: rand is uniform on [0, 1), randn is "
                    "Gaussian and centred" if w.min() >= 0 else "")
            raise Failed("the %d entries of '%s' have mean %.4g; draws from N(0, 0.01^2) are centred at "
                         "0.%s" % (n, name, mean, hint), case)
        band = 6 * 0.01 / math.sqrt(2 * n)
        if abs(std - 0.01) > band:
            raise Failed("the %d entries of '%s' have standard deviation %.4g, expected 0.01 (+/- %.1g). "
                         "Scale standard normal draws by exactly 0.01: np.random.randn(...) * 0.01. Much "
                         "larger weights saturate tanh and sigmoid; much smaller ones (or zeros) make the "
                         "signal and the gradients vanish" % (n, name, std, band), case)
        gap = _ks(w / 0.01)
        if gap > KS_LIMIT:
            raise Failed("the entries of '%s' do not follow a Gaussian: their distribution differs from "
                         "N(0, 0.01^2) by %.3g (Kolmogorov-Smirnov; at most %.3g is expected). Use "
                         "np.random.randn, which draws from a normal distribution" % (name, gap, KS_LIMIT),
                         case)


_erf = np.frompyfunc(math.erf, 1, 1)


def _ks(z):
    """Kolmogorov-Smirnov distance between the sample z and N(0, 1)."""
    z = np.sort(z)
    cdf = 0.5 * (1.0 + _erf(z / math.sqrt(2.0)).astype(np.float64))
    n = z.size
    return float(max((np.arange(1, n + 1) / n - cdf).max(), (cdf - np.arange(n) / n).max()))


# --- forward ----------------------------------------------------------------------------------

def _net_case(n_x, n_h, n_y, m, seed):
    return case_text({"n_x": n_x, "n_h": n_h, "n_y": n_y, "m": m}) + " (the grader's parameters)"


FORWARD_HINTS = (   # (cache key, what the student may have computed instead, the hint id)
    ("Z1", lambda X, p, c: p["W1"] @ X, "forward_z1_no_bias"),
    ("A1", lambda X, p, c: c["Z1"], "forward_a1_is_z1"),
    ("A1", lambda X, p, c: reference.sigmoid(c["Z1"]), "forward_a1_sigmoid"),
    ("A1", lambda X, p, c: np.maximum(c["Z1"], 0), "forward_a1_relu"),
    ("Z2", lambda X, p, c: p["W2"] @ c["A1"], "forward_z2_no_bias"),
    ("Z2", lambda X, p, c: p["W2"] @ c["Z1"] + p["b2"], "forward_z2_uses_z1"),
    ("A2", lambda X, p, c: np.tanh(c["Z2"]), "forward_a2_tanh"),
)
# Tolerances: the grader's own float64 values are exact to ~1e-15; forward has no approximation in it,
# so a correct one matches to rounding. Gradients are compared with centred finite differences,
# whose error is O(eps^2) ~ 1e-10 at the grader's sizes: 1e-5 relative leaves room for that.
FORWARD_RTOL, FORWARD_ATOL = 1e-6, 1e-9
GRADIENT_RTOL, GRADIENT_ATOL = 1e-5, 1e-7


def _forward_hint(key, got, X, p, true):
    if got is None or got.shape != true[key].shape:
        return None
    for hint_key, alternative, hint in FORWARD_HINTS:
        if hint_key == key and np.allclose(got, alternative(X, p, true), rtol=FORWARD_RTOL, atol=FORWARD_ATOL):
            return hint
    return None


@check("forward.values", NET_CASES, NET_EXAMPLES)
def forward_values(student, n_x, n_h, n_y, m, seed):
    """forward computes A2 and the cache correctly"""
    case = _net_case(n_x, n_h, n_y, m, seed)
    p, X, _ = reference.problem(seed, n_x, n_h, n_y, m)
    reply = student.call("forward", (X, p), case)
    value = reply.value
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise Failed("forward returned %s, expected the pair (A2, cache)" % kind(value), case)
    A2, cache = value
    true = reference.forward(X, p)
    problem = check_array("A2", A2, (n_y, m), dtype=False)
    if problem:
        raise problem.failed(case)
    cache = parameters_dict(cache, case, "forward (as its cache)", ("Z1", "A1", "Z2", "A2"))
    for key in ("Z1", "A1", "Z2", "A2"):
        problem = compare("cache['%s']" % key, cache[key], true[key], FORWARD_RTOL, FORWARD_ATOL)
        if problem:
            raise problem.failed(case, hint=_forward_hint(key, as_numbers(cache[key]), X, p, true))
    problem = compare("A2", A2, true["A2"], FORWARD_RTOL, FORWARD_ATOL)
    if problem:
        problem.text += " (the cache's A2 is right: return the same array)"
        raise problem.failed(case)
    X_after, p_after = reply.args_after
    if not (isinstance(X_after, np.ndarray) and np.array_equal(X_after, X)):
        raise Failed("forward changed its input X in place; compute new arrays instead", case)
    for name in SHAPES:
        if not (isinstance(p_after, dict) and isinstance(p_after.get(name), np.ndarray)
                and np.array_equal(p_after[name], p[name])):
            raise Failed("forward changed parameters['%s'] in place; the parameters must stay as they were"
                         % name, case)


# --- backward ---------------------------------------------------------------------------------

def _backward(student, n_x, n_h, n_y, m, seed):
    case = _net_case(n_x, n_h, n_y, m, seed)
    p, X, Y = reference.problem(seed, n_x, n_h, n_y, m)
    cache = reference.forward(X, p)
    value = student.call("backward", (p, cache, X, Y), case).value
    grads = parameters_dict(value, case, "backward", ("dW1", "db1", "dW2", "db2"))
    return grads, p, X, Y, cache, case


@check("backward.shapes", NET_CASES, NET_EXAMPLES)
def backward_shapes(student, n_x, n_h, n_y, m, seed):
    """backward returns dW1, db1, dW2, db2 shaped like their parameters"""
    grads, p, *_, case = _backward(student, n_x, n_h, n_y, m, seed)
    for name in SHAPES:
        problem = check_array("d" + name, grads["d" + name], p[name].shape, dtype=False)
        if problem:
            problem.text += "; each gradient has the shape of its parameter"
            raise problem.failed(case)


@check("backward.gradients", NET_CASES, NET_EXAMPLES)
def backward_gradients(student, n_x, n_h, n_y, m, seed):
    """backward returns the true derivatives of the cost"""
    grads, p, X, Y, cache, case = _backward(student, n_x, n_h, n_y, m, seed)
    true = reference.numeric_gradients(p, X, Y)
    for name in ("dW2", "db2", "dW1", "db1"):
        problem = compare(name, grads[name], true[name], GRADIENT_RTOL, GRADIENT_ATOL,
                          "the derivative of J (measured by finite differences)")
        if problem:
            raise problem.failed(case, hint=_gradient_hint(name, as_numbers(grads[name]), true[name], p, X, Y,
                                                           cache))


def _gradient_hint(name, got, true, p, X, Y, cache):
    """The id of a likely cause, when the student's gradient equals what a classic mistake computes."""
    if got is None or got.size != true.size:
        return None
    got = got.reshape(true.shape)
    m, n_x = X.shape[1], X.shape[0]
    for factor, hint in ((-1.0, "backward_sign_flipped"), (m, "backward_missing_1_over_m"),
                         (1.0 / m, "backward_double_1_over_m"), (m / n_x, "backward_m_from_shape0")):
        if factor != 1 and np.allclose(got, factor * true, rtol=GRADIENT_RTOL, atol=GRADIENT_ATOL):
            return hint
    if name in ("dW1", "db1"):
        dZ2 = cache["A2"] - Y
        back = p["W2"].T @ dZ2
        for slope, hint in ((1 - cache["A1"], "backward_tanh_slope_1_minus_a1"),
                            (1 - np.tanh(cache["A1"]) ** 2, "backward_tanh_twice"),
                            (1 - cache["Z1"] ** 2, "backward_tanh_slope_from_z1"),
                            (np.ones_like(back), "backward_tanh_slope_missing")):
            dZ1 = back * slope
            alt = dZ1 @ X.T / m if name == "dW1" else dZ1.sum(axis=1, keepdims=True) / m
            if np.allclose(got, alt, rtol=FORWARD_RTOL, atol=FORWARD_ATOL):
                return hint
    return None
