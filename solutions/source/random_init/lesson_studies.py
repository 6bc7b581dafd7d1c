"""Seed studies for the random-initialization notebook: many seeds at once, medians and ranges.

Design
------
* One run on one seed proves little: the lesson's claims are measured over ``SEEDS`` (20 seeds)
  and shown as distributions (median and range), never as one lucky run.
* To train hundreds of small networks in a few seconds, every study uses ``train_many``: the
  network of the lesson (tanh hidden layer, sigmoid output, cross-entropy, plain gradient descent
  with ``lesson_tools.LEARNING_RATE``) written once more in numpy, vectorized over a leading
  "network" axis. Its formulas are the reference ones the student writes; a test checks that it
  reproduces ``lesson_tools.train`` with the reference functions step for step.
* Starting weights of seed ``s``: ``np.random.seed(s)``, then ``W1 = randn(n_h, n_x)`` and
  ``W2 = randn(n_y, n_h)`` in that order (the order of the reference ``initialize_parameters``),
  times the scale; biases zero. At scale 0.01 a network therefore starts exactly where a correct
  ``initialize_parameters`` starts after ``np.random.seed(s)``.
* Each study returns a small result object holding the raw numbers, and ``sentences(result)``
  writes the lesson's quantitative sentences from those numbers. Notebook cells print them; the
  markdown around them states only what tests/test_lesson_claims.py checks against a fresh run.
* Figures are ``matplotlib.figure.Figure`` objects built without pyplot, as in ``lesson_tools``.
  Only numpy and matplotlib are needed; no study touches the student's functions, so every cell
  here runs even before the three functions are written.
"""

from dataclasses import dataclass

import numpy as np

import lesson_tools as lt
from matplotlib.figure import Figure

SEEDS = tuple(range(1, 21))      # at least 20 seeds: enough to see the spread, fast to train
SCALES = (0.0, 1e-4, 0.01, 1.0, 10.0)
N_HIDDEN = 4
STEPS = lt.ITERATIONS            # 2000, the length of the lesson's other runs
TARGET = 0.35                    # a cost the flower reaches only once the hidden layer has learned
EARLY = 100                      # "the first K steps" of the saturation study
NOISE_INPUTS = 18                # the flower plus 18 noise inputs: n_x = 20
SCALE_COLORS = {0.0: "tab:red", 1e-4: "tab:green", 0.01: "tab:blue", 1.0: "tab:purple", 10.0: "tab:orange"}


def label(scale):
    return "zeros" if scale == 0 else f"std {scale:g}"


# --------------------------------------------------------------- data and starts

def flower_with_noise(extra=NOISE_INPUTS, seed=7):
    # seed 7 is only the noise's own RandomState; numpy's global state is left alone
    """The flower's two inputs plus ``extra`` inputs of pure N(0, 1) noise: X (2 + extra, m), Y."""
    X, Y = lt.make_flower()
    noise = np.random.RandomState(seed).randn(extra, X.shape[1])
    return np.vstack([X, noise]), Y


def starts(seeds, n_x, n_y=1, scale=0.01, n_h=N_HIDDEN):
    """Starting parameters for each seed, stacked on a leading axis: W1 (S, n_h, n_x), ... ."""
    W1, W2 = [], []
    for s in seeds:
        np.random.seed(s)
        W1.append(np.random.randn(n_h, n_x))
        W2.append(np.random.randn(n_y, n_h))
    S = len(W1)
    return {"W1": np.array(W1) * scale, "b1": np.zeros((S, n_h, 1)),
            "W2": np.array(W2) * scale, "b2": np.zeros((S, n_y, 1))}


# --------------------------------------------------------------- the vectorized network

def forward_many(X, p):
    A1 = np.tanh(p["W1"] @ X + p["b1"])
    A2 = 1.0 / (1.0 + np.exp(-(p["W2"] @ A1 + p["b2"])))
    return A1, A2


def gradients_many(X, Y, p, A1, A2):
    m = X.shape[1]
    dZ2 = A2 - Y
    dZ1 = (np.swapaxes(p["W2"], 1, 2) @ dZ2) * (1.0 - A1 ** 2)
    return {"W1": dZ1 @ X.T / m, "b1": dZ1.sum(axis=2, keepdims=True) / m,
            "W2": dZ2 @ np.swapaxes(A1, 1, 2) / m, "b2": dZ2.sum(axis=2, keepdims=True) / m}


def cost_many(A2, Y):
    right = np.where(Y > 0.5, A2, 1.0 - A2)
    return -np.mean(np.log(np.clip(right, lt.EPS, None)), axis=(1, 2))


@dataclass
class Runs:
    costs: np.ndarray        # (steps + 1, S): the cost before each update, then the final one
    W1: np.ndarray           # (steps + 1, S, n_h, n_x) when recorded, else (2, S, n_h, n_x): start, end
    first: dict              # gradients at step 0, each with the leading S axis
    start: dict
    end: dict

    def steps_to(self, target):
        """First step at which the cost is at most ``target``, per network; -1 if never."""
        hit = self.costs <= target
        return np.where(hit.any(axis=0), hit.argmax(axis=0), -1)


def train_many(X, Y, params, steps=STEPS, learning_rate=None, record_W1=False):
    """Plain gradient descent on every network of ``params`` at once."""
    lr = lt.LEARNING_RATE if learning_rate is None else learning_rate
    p = {k: v.copy() for k, v in params.items()}
    costs = np.empty((steps + 1, p["W1"].shape[0]))
    history = [p["W1"].copy()]
    first = None
    with np.errstate(over="ignore", under="ignore"):
        for step in range(steps + 1):
            A1, A2 = forward_many(X, p)
            costs[step] = cost_many(A2, Y)
            if step == steps:
                break
            g = gradients_many(X, Y, p, A1, A2)
            first = g if first is None else first
            p = {k: p[k] - lr * g[k] for k in p}
            if record_W1:
                history.append(p["W1"].copy())
    if not record_W1 and steps:
        history.append(p["W1"].copy())
    return Runs(costs, np.array(history), first, params, p)


# --------------------------------------------------------------- symmetry

SYMMETRY_STARTS = ("zeros", "copies", "row copies")


@dataclass
class Symmetry:
    gaps: dict     # start -> (steps + 1, S): largest difference between two hidden units' W1 rows
    moved: dict    # start -> (S,): how far W1 moved in training (largest entry change)
    b2_end: np.ndarray  # (S,) the output bias at the end of the zeros runs
    steps: int


def symmetry_study(X, Y, seeds=SEEDS, steps=STEPS):
    """Three starts that begin with identical hidden units, trained for ``steps`` on each seed.

    zeros: every weight 0.  copies: every unit gets unit 1's W1 row, b1 entry (0) and W2 column.
    row copies: every unit gets unit 1's W1 row, but W2 keeps its own random columns.
    """
    base = starts(seeds, X.shape[0], Y.shape[0])
    made = {"zeros": dict(base, W1=0 * base["W1"], W2=0 * base["W2"]),
            "copies": dict(base, W1=np.repeat(base["W1"][:, :1], N_HIDDEN, axis=1),
                           W2=np.repeat(base["W2"][:, :, :1], N_HIDDEN, axis=2)),
            "row copies": dict(base, W1=np.repeat(base["W1"][:, :1], N_HIDDEN, axis=1))}
    gaps, moved, b2_end = {}, {}, None
    for name, params in made.items():
        runs = train_many(X, Y, params, steps, record_W1=True)
        gaps[name] = np.abs(runs.W1 - runs.W1[:, :, :1]).max(axis=(2, 3))
        moved[name] = np.abs(runs.W1[-1] - runs.W1[0]).max(axis=(1, 2))
        if name == "zeros":
            b2_end = runs.end["b2"].ravel()
    return Symmetry(gaps, moved, b2_end, steps)


# --------------------------------------------------------------- saturation

@dataclass
class Saturation:
    scales: tuple
    slope: dict      # scale -> (S,) median of tanh'(Z1) over (unit, example) at the start
    dW1: dict        # scale -> (S,) size of dW1 at step 0
    dW2: dict        # scale -> (S,) size of dW2 at step 0
    error: dict      # scale -> (S,) mean |A2 - Y| at the start
    relative_move: dict  # scale -> (S,) |W1 after EARLY steps - W1 at start| / |W1 at start|
    early: int


def _size(a):
    return np.linalg.norm(a.reshape(a.shape[0], -1), axis=1)


def saturation_study(X, Y, seeds=SEEDS, scales=(0.01, 1.0, 10.0), early=EARLY):
    out = {k: {} for k in ("slope", "dW1", "dW2", "error", "relative_move")}
    for scale in scales:
        params = starts(seeds, X.shape[0], Y.shape[0], scale)
        A1, A2 = forward_many(X, params)
        runs = train_many(X, Y, params, early)
        out["slope"][scale] = np.median((1.0 - A1 ** 2).reshape(len(seeds), -1), axis=1)
        out["dW1"][scale] = _size(runs.first["W1"])
        out["dW2"][scale] = _size(runs.first["W2"])
        out["error"][scale] = np.abs(A2 - Y).mean(axis=(1, 2))
        out["relative_move"][scale] = _size(runs.W1[-1] - runs.W1[0]) / _size(runs.W1[0])
    return Saturation(tuple(scales), early=early, **out)


# --------------------------------------------------------------- the scale sweep

@dataclass
class Sweep:
    setting: str
    n_x: int
    scales: tuple
    runs: dict        # scale -> Runs
    target: float

    def final(self, scale):
        return self.runs[scale].costs[-1]

    def steps(self, scale):
        return self.runs[scale].steps_to(self.target)

    def wins(self, scale, against=0.01):
        """In how many seeds ``scale`` ended with a lower cost than ``against``."""
        return int(np.sum(self.final(scale) < self.final(against)))


def sweep(X, Y, setting, seeds=SEEDS, scales=SCALES, steps=STEPS, target=TARGET):
    runs = {s: train_many(X, Y, starts(seeds, X.shape[0], Y.shape[0], s), steps) for s in scales}
    return Sweep(setting, X.shape[0], tuple(scales), runs, target)


def sweep_table(result):
    """The sweep as text lines: median and range of the final cost, steps to the target."""
    n = len(result.final(result.scales[0]))
    lines = [f"{result.setting}, n_x = {result.n_x}, {n} seeds, {len(result.runs[result.scales[0]].costs) - 1} steps",
             f"{'start':>10} | {'final cost: median [min, max]':>29} | reached {result.target:g} | steps to it: median [min, max]"]
    for s in result.scales:
        f, k = result.final(s), result.steps(s)
        hit = k[k >= 0]
        reach = f"{np.median(hit):6.0f} [{hit.min()}, {hit.max()}]" if hit.size else "     never"
        lines.append(f"{label(s):>10} | {np.median(f):9.3f} [{f.min():.3f}, {f.max():.3f}]   "
                     f"| {hit.size:3d} of {n:<3d}  | {reach}")
    return lines


# --------------------------------------------------------------- deep tanh stacks

def depth_study(layers=10, width=100, m=500, seed=0):
    """Spread (std) of the activations after each of ``layers`` tanh layers, for three scales."""
    rng = np.random.RandomState(seed)
    x = rng.randn(width, m)
    spreads = {}
    for name, scale in (("std 0.01", 0.01), ("Xavier, std 1/sqrt(n)", 1 / np.sqrt(width)), ("std 1", 1.0)):
        a, row = x, []
        for _ in range(layers):
            a = np.tanh(rng.randn(width, width) * scale @ a)
            row.append(float(a.std()))
        spreads[name] = np.array(row)
    return spreads


def variance_check(fan_ins=(2, 20, 200), sigma=0.01, m=2000, seed=0):
    """(n, measured std of z, predicted sqrt(n) * sigma * std(x)) for x ~ N(0, 1) inputs."""
    rng = np.random.RandomState(seed)
    rows = []
    for n in fan_ins:
        z = (rng.randn(500, n) * sigma) @ rng.randn(n, m)
        rows.append((n, float(z.std()), float(np.sqrt(n) * sigma)))
    return rows


# --------------------------------------------------------------- sentences, made from the numbers

def _range(values, fmt):
    return f"median {fmt % np.median(values)} (range {fmt % np.min(values)} to {fmt % np.max(values)})"


def sentences(result):
    """The lesson's quantitative sentences about ``result``, computed from it."""
    if isinstance(result, Symmetry):
        n = len(result.b2_end)
        same = {k: int(np.sum(g.max(axis=0) == 0)) for k, g in result.gaps.items()}
        split = int(np.sum(result.gaps["row copies"][1] > 0))
        return [f"zeros: the {N_HIDDEN} hidden units are identical at every one of {result.steps} steps in "
                f"{same['zeros']} of {n} seeds; W1 never moves, and b2 is still exactly 0 in "
                f"{int(np.sum(result.b2_end == 0))} of {n} seeds.",
                f"copies: identical at every step in {same['copies']} of {n} seeds, although W1 moved by "
                + _range(result.moved["copies"], "%.2g") + ".",
                f"row copies (equal W1 rows, different W2 columns): different after the first step in {split} "
                f"of {n} seeds; after {result.steps} steps the rows differ by "
                + _range(result.gaps["row copies"][-1], "%.3g") + "."]
    if isinstance(result, Saturation):
        out = []
        for s in result.scales:
            out.append(f"{label(s)}: median tanh' at the start {np.median(result.slope[s]):.2g}; |dW1| at step 0 "
                       + _range(result.dW1[s], "%.2g") + f", |dW2| median {np.median(result.dW2[s]):.2g}"
                       + f"; in {result.early} steps W1 changes by "
                       + f"{np.median(result.relative_move[s]):.2g} times its own size (median); "
                       + f"mean |A2 - Y| at the start {np.median(result.error[s]):.2f}.")
        return out
    if isinstance(result, Sweep):
        n = len(result.final(0.01))
        out = [f"{label(s)} ended below std 0.01 in {result.wins(s)} of {n} seeds."
               for s in result.scales if s not in (0.0, 0.01)]
        order = sorted(result.scales, key=lambda s: np.median(result.final(s)))
        out.append("Median final cost, lowest first: " + ", ".join(label(s) for s in order) + ".")
        return out
    raise TypeError(f"no sentences for {type(result).__name__}")


def show(result):
    """Print a study's table (for a sweep) and its sentences."""
    lines = sweep_table(result) + [""] if isinstance(result, Sweep) else []
    print("\n".join(lines + sentences(result)))


# --------------------------------------------------------------- figures

def plot_symmetry(result):
    """Largest gap between two hidden units' incoming weights over training: median and range."""
    fig = Figure(figsize=(7.5, 3.8), layout="constrained")
    ax = fig.subplots()
    steps = np.arange(result.steps + 1)
    floor = 1e-17
    for name, color, style, width in zip(SYMMETRY_STARTS, ("tab:red", "tab:purple", "tab:green"),
                                         ("-", "--", "-"), (5, 2, 2)):
        g = np.maximum(result.gaps[name], floor)
        ax.plot(steps, np.median(g, axis=1), style, color=color, lw=width, label=f"{name} (median)")
        ax.fill_between(steps, g.min(axis=1), g.max(axis=1), color=color, alpha=0.2)
    ax.set(yscale="log", ylim=(floor / 3, None), xlabel="step",
           ylabel="largest gap between two units' W1 rows",
           title=f"Do identical hidden units stay identical? ({result.gaps['zeros'].shape[1]} seeds, band = range)")
    ax.text(result.steps, floor, "exactly 0 (drawn at 1e-17)", ha="right", va="bottom", fontsize=8, color="0.3")
    ax.legend(loc="center right")
    return fig


def plot_saturation_study(result):
    fig = Figure(figsize=(11, 3.6), layout="constrained")
    axes = fig.subplots(1, 3)
    panels = (("slope", "median tanh'(Z1) at the start", True),
              ("dW1", "|dW1| at step 0", True),
              ("relative_move", f"change of W1 in {result.early} steps / |W1|", True))
    rng = np.random.RandomState(0)
    for ax, (key, title, log) in zip(axes, panels):
        for i, s in enumerate(result.scales):
            v = np.maximum(getattr(result, key)[s], 1e-20)   # an exact 0 is drawn at 1e-20
            ax.plot(i + 0.08 * rng.randn(v.size), v, "o", ms=4, alpha=0.6, color=SCALE_COLORS.get(s))
            ax.plot([i - 0.3, i + 0.3], [np.median(v)] * 2, "k-", lw=2)
        ax.set_xticks(range(len(result.scales)), [label(s) for s in result.scales])
        ax.set(title=title, yscale="log" if log else "linear")
    fig.suptitle("Where large weights hurt: one dot per seed, black bar = median (an exact 0 is drawn at 1e-20)")
    return fig


def plot_sweep(result, scales=None):
    """Left: cost over training, median and range per scale. Right: final cost, one dot per seed."""
    scales = result.scales if scales is None else scales
    fig = Figure(figsize=(11, 4), layout="constrained")
    ax, ax2 = fig.subplots(1, 2, width_ratios=(3, 2))
    rng = np.random.RandomState(0)
    for i, s in enumerate(scales):
        c = result.runs[s].costs
        steps = np.arange(c.shape[0])
        ax.plot(steps, np.median(c, axis=1), color=SCALE_COLORS.get(s), lw=2, label=label(s))
        ax.fill_between(steps, c.min(axis=1), c.max(axis=1), color=SCALE_COLORS.get(s), alpha=0.15)
        f = result.final(s)
        ax2.plot(i + 0.08 * rng.randn(f.size), f, "o", ms=4, alpha=0.7, color=SCALE_COLORS.get(s))
        ax2.plot([i - 0.3, i + 0.3], [np.median(f)] * 2, "k-", lw=2)
    ax.axhline(result.target, color="0.5", ls=":", lw=1)
    ax.text(0, result.target, f" target {result.target:g}", va="bottom", fontsize=8, color="0.4")
    ax.set(xlabel="step", ylabel="cost", ylim=(0, 1.2),
           title=f"{result.setting}: median, band = range over seeds")
    ax.legend(fontsize=8)
    ax2.set_xticks(range(len(scales)), [label(s) for s in scales], fontsize=8)
    ax2.set(ylabel="final cost", title="final cost: one dot per seed, bar = median")
    return fig


def plot_depth(spreads):
    fig = Figure(figsize=(6.5, 3.8), layout="constrained")
    ax = fig.subplots()
    for name, row in spreads.items():
        ax.plot(np.arange(1, row.size + 1), row, "o-", label=name)
    ax.set(yscale="log", xlabel="layer", ylabel="std of the layer's activations",
           title=f"{len(next(iter(spreads.values())))} tanh layers of 100 units")
    ax.legend()
    return fig


def text_values():
    """{name: value} for the ``{{name}}`` placeholders of the lesson's markdown."""
    return {}
