"""The grader's own mathematics: the network, its cost, and finite-difference gradients.

Verdicts for ``forward.values`` and ``backward.gradients`` compare the student's
numbers with these. Gradients are *not* derived by hand here: they come from
centred finite differences of ``cost``, so the check tests the student's calculus
against the definition of J in docs/contract.md, not against a second implementation
of the same formulas.

Every function accepts leading batch dimensions on the parameters (np.matmul
broadcasts them), which lets ``numeric_gradients`` perturb every entry of a
parameter at once in a single vectorised pass.

A case (sizes and seed) always gives the same problem, network values and gradients, and a
passing submission meets the same recorded cases as every other (cases.py), so ``solved`` and
``solved_gradients`` keep them, per case, for the life of the process. They hand out the kept
arrays themselves, read-only, in dicts of their own: a caller that wrote into one would raise at
once, so nothing a caller does to what it gets can change what the next caller sees.
"""

import functools

import numpy as np

EPS = 1e-6   # step of the centred differences; in float64 their error is about 1e-9 here


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))      # equal to 1/(1+exp(-z)), without overflow


def forward(X, p):
    Z1 = np.matmul(p["W1"], X) + p["b1"]
    A1 = np.tanh(Z1)
    Z2 = np.matmul(p["W2"], A1) + p["b2"]
    return {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": sigmoid(Z2)}


def cost(p, X, Y):
    """J = -(1/m) sum(Y log A2 + (1-Y) log(1-A2)), written with logaddexp so it stays finite."""
    Z2 = forward(X, p)["Z2"]
    m = X.shape[1]
    per_entry = Y * np.logaddexp(0.0, -Z2) + (1.0 - Y) * np.logaddexp(0.0, Z2)
    return per_entry.sum(axis=(-2, -1)) / m


def numeric_gradients(p, X, Y, eps=EPS):
    """{'dW1': ..., ...}: centred differences of ``cost`` in every entry of every parameter."""
    grads = {}
    for name, value in p.items():
        k = value.size
        bumps = np.eye(k).reshape((k,) + value.shape) * eps
        up = cost(dict(p, **{name: value + bumps}), X, Y)
        down = cost(dict(p, **{name: value - bumps}), X, Y)
        grads["d" + name] = ((up - down) / (2 * eps)).reshape(value.shape)
    return grads


def problem(seed, n_x, n_h, n_y, m):
    """Parameters of ordinary size, inputs and labels for one test case, all from ``seed``.

    Weights are N(0, 1) clipped to [-2.5, 2.5]: at 0.01 scale tanh is almost linear and a
    wrong derivative of tanh would hide. Biases are non-zero so that a forgotten bias shows.
    """
    rng = np.random.default_rng(seed)
    p = {"W1": np.clip(rng.standard_normal((n_h, n_x)), -2.5, 2.5),
         "b1": 0.5 * rng.standard_normal((n_h, 1)),
         "W2": np.clip(rng.standard_normal((n_y, n_h)), -2.5, 2.5),
         "b2": 0.5 * rng.standard_normal((n_y, 1))}
    X = rng.standard_normal((n_x, m))
    Y = (rng.random((n_y, m)) < 0.5).astype(np.float64)
    return p, X, Y


# Cases kept: a grade meets about 60 distinct ones, a failing check's hypothesis search a few hundred
# more; entries are a few kilobytes (sizes up to 10), so this bounds the memory to a few megabytes.
CACHED_CASES = 2048


def _frozen(arrays):
    for a in arrays:
        a.setflags(write=False)


@functools.lru_cache(maxsize=CACHED_CASES)
def _solved(seed, n_x, n_h, n_y, m):
    p, X, Y = problem(seed, n_x, n_h, n_y, m)
    values = forward(X, p)
    _frozen(list(p.values()) + [X, Y] + list(values.values()))
    return p, X, Y, values


def solved(seed, n_x, n_h, n_y, m):
    """(p, X, Y, forward(X, p)) of ``problem(seed, ...)``: read-only arrays computed once per case."""
    p, X, Y, values = _solved(seed, n_x, n_h, n_y, m)
    return dict(p), X, Y, dict(values)


@functools.lru_cache(maxsize=CACHED_CASES)
def _gradients(seed, n_x, n_h, n_y, m):
    p, X, Y, _ = _solved(seed, n_x, n_h, n_y, m)
    grads = numeric_gradients(p, X, Y)
    _frozen(grads.values())
    return grads


def warm(seed, n_x, n_h, n_y, m):
    """Compute and keep what ``solved`` and ``solved_gradients`` hand out for this case."""
    _gradients(seed, n_x, n_h, n_y, m)


def solved_gradients(seed, n_x, n_h, n_y, m):
    """numeric_gradients of ``problem(seed, ...)``: read-only arrays computed once per case."""
    return dict(_gradients(seed, n_x, n_h, n_y, m))
