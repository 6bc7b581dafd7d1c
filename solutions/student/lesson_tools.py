"""Helpers for the random-initialization notebook: data, training, plots.

Design
------
* The network code is the student's. ``train`` takes the student's
  ``initialize_parameters``, ``forward`` and ``backward`` as arguments and only
  adds what a lesson needs around them: the data, the starting weights of each
  experiment, the gradient-descent update, the cost, and a record of W1.
* Three ways to start (plus one extra used to illustrate symmetry):
  ``"random"`` keeps the student's weights as drawn; ``"zeros"`` sets every
  weight to 0; ``"large"`` multiplies the student's weights by 1000 (randn * 10);
  ``"copies"`` makes every hidden unit a copy of the first one (same incoming
  weights, same bias, same outgoing weight), so the units are identical but
  not zero. Units stay copies for ever only when all three are equal: equal W1
  rows with different W2 columns compute the same value at first and then
  separate through W2 (``lesson_studies.symmetry_study`` runs that case).
  ``train`` calls ``np.random.seed(seed)`` just before the student's
  ``initialize_parameters``, so runs repeat exactly. Plain gradient descent,
  ``ITERATIONS`` (2000) steps at ``LEARNING_RATE`` (1.2) unless told otherwise;
  one run on the flower takes well under a second.
* The cost is computed here from A2 (clipped away from 0 and 1), not by the
  student, so a curve never shows ``inf``.
* Every function a notebook cell calls is wrapped by ``friendly``: when a
  student function is still a stub, raises, or returns something unusable, the
  cell prints one short note and returns ``None`` instead of a traceback. The
  plot functions accept that ``None`` and print a note too.
  The undecorated version of a wrapped function is ``fn.__wrapped__``.
* Figures are ``matplotlib.figure.Figure`` objects built without pyplot: no
  global figure state, nothing shown twice in Jupyter, ``fig.savefig`` works
  anywhere. Outside a notebook and without a display, the Agg backend is chosen.
* The many-seed studies of the lesson live in ``lesson_studies``.
* Only numpy and matplotlib are needed. ``make_flower`` uses its own
  ``RandomState`` and never touches numpy's global generator.
"""

import contextlib
import functools
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import matplotlib


def _in_notebook():
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        return ipython.get_ipython() is not None
    except Exception:
        return False


def _pick_backend():
    """Use Agg when there is no screen, unless a notebook or the user chose already."""
    if "matplotlib.pyplot" in sys.modules or os.environ.get("MPLBACKEND") or _in_notebook():
        return
    if sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        matplotlib.use("Agg")


_pick_backend()

from matplotlib.figure import Figure  # noqa: E402  (after the backend choice)

INITS = ("random", "zeros", "large", "copies")
ITERATIONS = 2000      # default length of a training run (about 0.2-0.4 s on the flower)
LEARNING_RATE = 1.2
LARGE_FACTOR = 1000.0
EPS = 1e-10
PETALS = 8             # make_flower: the rose curve r = 4 sin(4 t) has 8 petals, 4 per class
FLAT_SLOPE = 0.05      # plot_saturation counts the (unit, example) pairs whose tanh slope is below this
BELL_LAYER = 100       # plot_initial_weights draws a BELL_LAYER x BELL_LAYER W1 for its histogram
COLORS = {"random": "tab:blue", "zeros": "tab:red", "large": "tab:orange", "copies": "tab:purple"}
_UNIT_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple",
                "tab:brown", "tab:pink", "tab:gray", "tab:olive", "tab:cyan")


# --------------------------------------------------------------- notes, not tracebacks

class LessonNote(Exception):
    """An expected problem; ``friendly`` prints its message instead of a traceback."""


class StudentFunctionError(LessonNote):
    """A student function is a stub, raised, or returned something unusable."""

    def __init__(self, name, error=None, problem=None):
        self.name, self.error, self.problem = name, error, problem
        if isinstance(error, NotImplementedError):
            text = f"Fill in `{name}` first, then re-run this cell."
        elif error is not None:
            detail = _short(str(error))
            text = (f"`{name}` raised {type(error).__name__}"
                    + (f": {detail}" if detail else "") + "; fix it and re-run this cell.")
        else:
            text = f"`{name}` {problem}; fix it and re-run this cell."
        super().__init__(text)


def _short(text, limit=200):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def friendly(func):
    """Decorator: print a short note and return None instead of raising."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except LessonNote as note:
            print(note)
        except Exception as error:  # a wrong argument, say: still no traceback
            detail = _short(str(error))
            print(f"`{func.__name__}` stopped with {type(error).__name__}"
                  + (f": {detail}" if detail else "") + ". Check this cell and re-run it.")
        return None
    return wrapper


class _Counter:
    """A stdout stand-in that only counts what is written to it."""
    def __init__(self):
        self.chars = 0

    def write(self, text):
        self.chars += len(text)
        return len(text)

    def flush(self):
        pass


def _call(fn, name, *args):
    """Call a student function; turn whatever goes wrong into a StudentFunctionError."""
    if not callable(fn):
        raise StudentFunctionError(name, problem=f"is a {type(fn).__name__}, not a function")
    try:
        return fn(*args)
    except Exception as error:
        raise StudentFunctionError(name, error) from error


# --------------------------------------------------------------- checks of what students return

def _as_array(value, name, key, shape):
    if not isinstance(value, np.ndarray) and not np.isscalar(value):
        raise StudentFunctionError(name, problem=f"gave {key} as a {type(value).__name__}, not an array")
    arr = np.asarray(value, dtype=float)
    if arr.shape != shape:
        raise StudentFunctionError(name, problem=f"gave {key} the shape {arr.shape}; it should be {shape}")
    return arr


def _check_dict(out, name, shapes, what):
    if not isinstance(out, dict):
        raise StudentFunctionError(name, problem=f"returned {type(out).__name__}; it should return {what}")
    missing = [k for k in shapes if k not in out]
    if missing:
        raise StudentFunctionError(name, problem=f"returned a dict without {', '.join(missing)}")
    return {k: _as_array(out[k], name, k, shape) for k, shape in shapes.items()}


def _param_shapes(n_x, n_h, n_y):
    return {"W1": (n_h, n_x), "b1": (n_h, 1), "W2": (n_y, n_h), "b2": (n_y, 1)}


def _check_forward(out, n_h, n_y, m):
    if not isinstance(out, tuple) or len(out) != 2:
        raise StudentFunctionError("forward", problem=f"returned {type(out).__name__}; it should return (A2, cache)")
    A2 = _as_array(out[0], "forward", "A2", (n_y, m))
    _check_dict(out[1], "forward", {"Z1": (n_h, m), "A1": (n_h, m)}, "a cache dict")
    return A2


def _check_data(X, Y):
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise LessonNote(f"X should be (n_x, m) and Y (1, m); got {X.shape} and {Y.shape}.")
    return X, Y


def _need(results, what="results"):
    if results is None:
        raise LessonNote(f"No {what} yet: run the training cell above first "
                         "(it needs all three of your functions).")


def _select(results, inits):
    """Accept a TrainResult, a list of them, or a dict init -> TrainResult."""
    _need(results)
    if isinstance(results, TrainResult):
        results = [results]
    if isinstance(results, dict):
        results = list(results.values())
    chosen = [r for r in results if inits is None or r.init in inits]
    if inits is not None:
        chosen.sort(key=lambda r: list(inits).index(r.init))
    if not chosen:
        raise LessonNote(f"None of the runs used the inits {tuple(inits)}.")
    return chosen


# --------------------------------------------------------------- data

def make_flower(m=400, seed=1):
    """A planar two-class "flower": X (2, m) float64, Y (1, m) of 0.0 / 1.0.

    Points lie near the eight-petal rose curve r = 4 sin(4 t), with noise on
    both the angle and the radius. Class 0 takes the angles of one half turn,
    class 1 the other; negative radii mirror points through the origin, so each
    class gets four petals spread around the circle and no straight line
    separates the classes. Balanced: the first m - m // 2 points are class 0.
    """
    rng = np.random.RandomState(seed)
    X = np.empty((2, m))
    Y = np.empty((1, m))
    start = 0
    for label, count in enumerate((m - m // 2, m // 2)):
        angle = np.linspace(label * np.pi, (label + 1) * np.pi, count) + 0.2 * rng.randn(count)
        radius = 4.0 * np.sin(PETALS / 2 * angle) + 0.2 * rng.randn(count)
        stop = start + count
        X[0, start:stop] = radius * np.sin(angle)
        X[1, start:stop] = radius * np.cos(angle)
        Y[0, start:stop] = label
        start = stop
    return X, Y


def cost(A2, Y):
    """Cross-entropy cost for labels 0/1, with A2 clipped into [EPS, 1 - EPS] so it stays finite."""
    chance_of_truth = np.where(Y > 0.5, A2, 1.0 - A2)  # the probability given to the right label
    return float(-np.mean(np.log(np.clip(chance_of_truth, EPS, None))))


# --------------------------------------------------------------- training

@dataclass
class TrainResult:
    init: str
    costs: np.ndarray            # (iterations + 1,): cost before each update, then the final one
    W1_history: np.ndarray       # (iterations + 1, n_h, n_x): W1 at each of those moments
    parameters: dict             # the final parameters
    slopes_at_start: np.ndarray  # tanh'(Z1) = 1 - tanh(Z1)**2 on every unit and example, step 0
    accuracy: float              # share of training examples classified right at the end
    seconds: float
    forward: Callable = field(repr=False, default=None)

    @property
    def final_cost(self):
        return float(self.costs[-1])

    def distinct_units(self, step=-1, tol=1e-12):
        """How many different rows W1 has at ``step`` (1 means all units are copies)."""
        rows = self.W1_history[step]
        groups = []
        for row in rows:
            if not any(np.max(np.abs(row - g)) <= tol for g in groups):
                groups.append(row)
        return len(groups)

    def predict(self, X):
        A2, _ = self.forward(np.asarray(X, dtype=float), self.parameters)
        return (np.asarray(A2) > 0.5).astype(float)


def _starting_weights(params, init):
    p = {k: v.copy() for k, v in params.items()}
    if init == "zeros":
        p["W1"][:] = 0.0
        p["W2"][:] = 0.0
    elif init == "large":
        p["W1"] *= LARGE_FACTOR
        p["W2"] *= LARGE_FACTOR
    elif init == "copies":
        p["W1"][:] = p["W1"][0]
        p["W2"][:] = p["W2"][:, :1]
    return p


@friendly
def train(initialize_parameters, forward, backward, X, Y, n_h=4, init="random",
          iterations=None, learning_rate=None, seed=1):
    """Gradient descent with the student's three functions. Returns a TrainResult.

    ``np.random.seed(seed)`` runs just before ``initialize_parameters``; then
    ``init`` decides the starting weights (see the module docstring).
    """
    if init not in INITS:
        raise LessonNote(f"init should be one of {INITS}, not {init!r}.")
    iterations = ITERATIONS if iterations is None else int(iterations)
    learning_rate = LEARNING_RATE if learning_rate is None else float(learning_rate)
    began = time.perf_counter()
    X, Y = _check_data(X, Y)
    X, Y = X.copy(), Y.copy()  # a function that writes into X must not spoil the notebook's data
    (n_x, m), n_y = X.shape, Y.shape[0]
    np.random.seed(seed)
    drawn = _call(initialize_parameters, "initialize_parameters", n_x, n_h, n_y)
    shapes = _param_shapes(n_x, n_h, n_y)
    params = _starting_weights(_check_dict(drawn, "initialize_parameters", shapes,
                                           "a dict with W1, b1, W2, b2"), init)
    costs = np.empty(iterations + 1)
    history = np.empty((iterations + 1, n_h, n_x))
    quiet = _Counter()
    with np.errstate(all="ignore"), contextlib.ExitStack() as stack:
        for step in range(iterations + 1):
            if step == 1:  # show what the student's functions print on the first step only
                stack.enter_context(contextlib.redirect_stdout(quiet))
            out = _call(forward, "forward", X, params)
            if step == 0:
                A2 = _check_forward(out, n_h, n_y, m)
                slopes = 1.0 - np.tanh(np.asarray(out[1]["Z1"], dtype=float)) ** 2
            else:
                A2 = out[0]
            costs[step] = cost(A2, Y)
            history[step] = params["W1"]
            if not np.isfinite(costs[step]):
                raise LessonNote(f"Training broke down at step {step}: the cost became {costs[step]}. "
                                 "Check `forward` and `backward` (their test cells help), then re-run this cell.")
            if step == iterations:
                break
            grads = _call(backward, "backward", params, out[1], X, Y)
            if step == 0:
                grads = _check_dict(grads, "backward", {"d" + k: s for k, s in shapes.items()},
                                    "a dict with dW1, db1, dW2, db2")
            params = {k: params[k] - learning_rate * grads["d" + k] for k in shapes}
    if quiet.chars:
        print(f"({init} run: your functions printed during training; only the first step's output is shown.)")
    accuracy = float(np.mean((np.asarray(A2) > 0.5) == (Y > 0.5)))
    return TrainResult(init, costs, history, params, slopes.ravel(), accuracy,
                       time.perf_counter() - began, forward)


@friendly
def compare_inits(initialize_parameters, forward, backward, X, Y,
                  inits=("random", "zeros", "large"), verbose=True, **train_kwargs):
    """Train once per init; return a dict init -> TrainResult and print a summary."""
    runs = {}
    for init in inits:
        runs[init] = train.__wrapped__(initialize_parameters, forward, backward, X, Y,
                                       init=init, **train_kwargs)
    if verbose:
        print(f"{'init':>7} | {'cost at start':>13} | {'after 100':>9} | {'at the end':>10} | accuracy")
        for r in runs.values():
            early = r.costs[min(100, len(r.costs) - 1)]
            print(f"{r.init:>7} | {r.costs[0]:13.4f} | {early:9.4f} | {r.final_cost:10.4f} | {r.accuracy:7.1%}")
    return runs


@friendly
def compare_seeds(initialize_parameters, forward, backward, X, Y, seeds=(1, 2, 3, 4, 5, 6),
                  inits=("random", "large"), **train_kwargs):
    """Final cost of each init for several seeds; returns {init: [final costs]} and prints a table."""
    finals = {init: [] for init in inits}
    for seed in seeds:
        for init in inits:
            run = train.__wrapped__(initialize_parameters, forward, backward, X, Y,
                                    init=init, seed=seed, **train_kwargs)
            finals[init].append(run.final_cost)
    print("final cost  " + "".join(f"{'seed ' + str(s):>9}" for s in seeds))
    for init, values in finals.items():
        print(f"{init:>10}  " + "".join(f"{v:9.3f}" for v in values))
    return finals


# --------------------------------------------------------------- small looks at one function

@friendly
def first_look(initialize_parameters, forward, X, Y, n_h=4, seed=1):
    """One forward pass from small random weights: the network starts undecided. Prints, returns None."""
    np.random.seed(seed)
    params = _check_dict(_call(initialize_parameters, "initialize_parameters", X.shape[0], n_h, Y.shape[0]),
                         "initialize_parameters", _param_shapes(X.shape[0], n_h, Y.shape[0]), "a dict")
    A2 = _check_forward(_call(forward, "forward", X, params), n_h, Y.shape[0], X.shape[1])
    print(f"A2 lies between {A2.min():.4f} and {A2.max():.4f}; "
          f"cost {cost(A2, Y):.4f} (log 2 = {np.log(2):.4f}).")


@friendly
def plot_initial_weights(initialize_parameters, n_h=4, seed=1):
    """Left: each hidden unit's incoming weights (a row of W1) as an arrow.
    Right: a histogram of many of the student's draws against N(0, 0.01^2)."""
    np.random.seed(seed)
    small = _check_dict(_call(initialize_parameters, "initialize_parameters", 2, n_h, 1),
                        "initialize_parameters", _param_shapes(2, n_h, 1), "a dict")
    many = _check_dict(_call(initialize_parameters, "initialize_parameters", BELL_LAYER, BELL_LAYER, 1),
                       "initialize_parameters", _param_shapes(BELL_LAYER, BELL_LAYER, 1), "a dict")["W1"].ravel()
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    W1 = small["W1"]
    reach = max(np.abs(W1).max(), 1e-3) * 1.3
    for j, (a, b) in enumerate(W1):
        ax.annotate("", xy=(a, b), xytext=(0, 0),
                    arrowprops=dict(arrowstyle="->", color=_UNIT_COLORS[j % 10], lw=2))
        ax.plot([a], [b], "o", color=_UNIT_COLORS[j % 10], label=f"unit {j + 1}")
    ax.set(xlim=(-reach, reach), ylim=(-reach, reach), aspect="equal",
           xlabel="weight from x1", ylabel="weight from x2",
           title=f"Rows of W1: {n_h} hidden units, {len({tuple(r) for r in W1})} different")
    ax.axhline(0, color="0.8", lw=0.8)
    ax.axvline(0, color="0.8", lw=0.8)
    ax.legend(fontsize=8, loc="upper left")
    ax2.hist(many, bins=50, density=True, color="tab:blue", alpha=0.6, label=f"your W1 ({many.size:,} draws)")
    grid = np.linspace(-0.045, 0.045, 200)
    ax2.plot(grid, np.exp(-grid ** 2 / (2 * 1e-4)) / np.sqrt(2 * np.pi * 1e-4), "k", label="N(0, 0.01²)")
    ax2.set(xlabel="weight value", ylabel="density",
            title=f"mean {many.mean():+.4f}, std {many.std():.4f}")
    ax2.legend(fontsize=8)
    return fig


# --------------------------------------------------------------- the four figures of training

@friendly
def plot_hidden_weights(results, inits=None):
    """One panel per run: every entry of W1 (a hidden unit's incoming weight) over training.

    Colour = hidden unit, solid / dashed = weight from x1 / x2 (and so on).
    Under zero or copied starting weights the units' lines lie on top of each other.
    """
    runs = _select(results, inits)
    fig = Figure(figsize=(4.2 * len(runs), 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(runs), squeeze=False)[0])
    styles = ("-", "--", ":", "-.")
    for ax, r in zip(axes, runs):
        steps = np.arange(len(r.costs))
        n_h, n_x = r.W1_history.shape[1:]
        for j in range(n_h):
            for i in range(n_x):
                ax.plot(steps, r.W1_history[:, j, i], styles[i % 4], color=_UNIT_COLORS[j % 10],
                        lw=1.5, label=f"unit {j + 1}, from x{i + 1}" if n_h * n_x <= 8 else None)
        distinct = r.distinct_units()
        sizes = np.linalg.norm(r.W1_history[[0, -1]].reshape(2, -1), axis=1)
        ax.set(title=f"{r.init}: " + (f"{n_h} identical units (lines overlap)" if distinct == 1
                                      else f"{distinct} different units of {n_h}")
               + f"\nsize of W1: {sizes[0]:.2g} → {sizes[1]:.2g}",
               xlabel="iteration", ylabel="weight in W1")
    if runs[-1].W1_history.shape[1] * runs[-1].W1_history.shape[2] <= 8:
        fig.legend(*axes[-1].get_legend_handles_labels(), loc="outside right upper", fontsize=7)
    return fig


@friendly
def plot_costs(results, inits=None):
    """All cost curves on one axes (log scale, so the large start stays in view)."""
    runs = _select(results, inits)
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    for r in runs:
        ax.plot(np.arange(len(r.costs)), r.costs, color=COLORS.get(r.init), lw=2,
                label=f"{r.init} (final {r.final_cost:.3f})")
    ax.axhline(np.log(2), color="0.5", ls=":", lw=1)
    ax.text(len(runs[0].costs) - 1, np.log(2) * 0.98, "log 2: a coin toss", ha="right", va="top",
            fontsize=8, color="0.4")
    ax.set(yscale="log", xlabel="iteration", ylabel="cost (log scale)", title="Cost during training")
    ticks = [t for t in (0.1, 0.2, 0.3, 0.5, 0.7, 1, 2, 5, 10, 20)
             if min(r.costs.min() for r in runs) / 1.5 <= t <= max(r.costs.max() for r in runs) * 1.5]
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax.set_yticks([], minor=True)
    ax.legend()
    return fig


@friendly
def plot_boundaries(results, X, Y, inits=None, resolution=200):
    """One panel per run: the regions the trained network calls 1 and 0, data on top."""
    runs = _select(results, inits)
    X, Y = _check_data(X, Y)
    pad = 0.5
    xs = np.linspace(X[0].min() - pad, X[0].max() + pad, resolution)
    ys = np.linspace(X[1].min() - pad, X[1].max() + pad, resolution)
    gx, gy = np.meshgrid(xs, ys)
    fig = Figure(figsize=(4.2 * len(runs), 4), layout="constrained")
    axes = fig.subplots(1, len(runs), squeeze=False)[0]
    for ax, r in zip(axes, runs):
        with np.errstate(over="ignore", under="ignore"):
            region = r.predict(np.vstack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
        ax.contourf(gx, gy, region, levels=[-0.5, 0.5, 1.5], colors=["#f4b6b6", "#b6cdf4"])
        ax.scatter(X[0], X[1], c=np.where(Y[0] > 0.5, "tab:blue", "tab:red"), s=10, edgecolors="k",
                   linewidths=0.3)
        ax.set(title=f"{r.init}: {r.accuracy:.0%} right", xlabel="x1", ylabel="x2", aspect="equal")
    return fig


@friendly
def plot_saturation(results, inits=("random", "large"), bins=40):
    """Histograms of tanh'(Z1) = 1 - tanh(Z1)^2 at the first step, one per run.

    A slope near 0 means a saturated unit: almost no gradient flows through it.
    """
    runs = _select(results, inits)
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    edges = np.linspace(0.0, 1.0, bins + 1)
    for r in runs:
        weights = np.full(r.slopes_at_start.shape, 1.0 / r.slopes_at_start.size)
        ax.hist(r.slopes_at_start, bins=edges, weights=weights, alpha=0.6, color=COLORS.get(r.init),
                label=f"{r.init}: median {np.median(r.slopes_at_start):.3f}, "
                      f"{np.mean(r.slopes_at_start < FLAT_SLOPE):.0%} below {FLAT_SLOPE:g}")
    ax.set(xlim=(0, 1), xlabel="tanh'(Z1) = 1 - tanh(Z1)²  at the start",
           ylabel="share of (unit, example) pairs",
           title="Slope of tanh where the hidden units start")
    ax.legend(loc="upper center")
    return fig


@friendly
def plot_flower(X, Y):
    """The data set: class 1 blue, class 0 red."""
    X, Y = _check_data(X, Y)
    fig = Figure(figsize=(4.5, 4.2), layout="constrained")
    ax = fig.subplots()
    for label, color in ((0, "tab:red"), (1, "tab:blue")):
        keep = (Y[0] > 0.5) == bool(label)
        ax.scatter(X[0, keep], X[1, keep], s=10, color=color, label=f"y = {label}")
    ax.set(xlabel="x1", ylabel="x2", aspect="equal", title=f"The flower: {X.shape[1]} points")
    ax.legend(fontsize=8)
    return fig
