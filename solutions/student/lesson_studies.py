"""Seed studies for the random-initialization notebook: many seeds at once, win rates and intervals.

Design
------
* One run on one seed proves little, and so does one block of 20 seeds: on the flower, whether a
  large start beats a small one flips between blocks. Every study therefore runs ``SEEDS`` (40
  seeds) and reports, for each comparison, in how many seeds one start beat the other with a 95 %
  interval for that rate (Wilson's), next to medians and ranges. tests/test_lesson_claims.py checks
  every sentence of the lesson on these seeds and on a second, disjoint block it chooses itself.
* To train hundreds of small networks in seconds, every study uses ``train_many``: the lesson's
  network (tanh hidden layer, sigmoid output, cross-entropy, plain gradient descent at
  ``lesson_tools.LEARNING_RATE``) written once more in numpy, vectorized over a leading "network"
  axis. A test checks that it reproduces ``lesson_tools.train`` with the reference functions.
* A start is a ``Start``: a name and the standard deviations of W1 and W2. Starting weights of seed
  ``s``: ``np.random.seed(s)``, then ``W1 = randn(n_h, n_x)`` and ``W2 = randn(n_y, n_h)`` in that
  order (the order of the reference ``initialize_parameters``), times the two stds; biases zero.
  At std 0.01 a network starts exactly where a correct ``initialize_parameters`` starts.
* Wherever starts are compared, held-out accuracy (a second flower drawn with another seed, and
  fresh noise) is reported next to the training cost: a low training cost can be memorising.
* Each study returns a small result object holding the raw numbers; ``sentences(result)`` writes
  the lesson's quantitative sentences from them, and ``text_values()`` gives the constants and
  data facts that the markdown quotes (the build fills them in). No number is typed twice.
* Figures are ``matplotlib.figure.Figure`` objects built without pyplot, as in ``lesson_tools``.
  No study touches the student's functions, so every cell runs before they are written.
"""

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

import lesson_tools as lt
from matplotlib.figure import Figure

SEEDS = tuple(range(1, 41))      # 40 seeds: a win rate to within about +-15 %, a few seconds a study
N_HIDDEN = 4
WIDE_HIDDEN = 20                 # "enough random cuts": the same sweep with 20 hidden units
STEPS = 2000                     # the length of the lesson's other runs (lesson_tools.ITERATIONS)
TARGET = 0.35                    # a cost the flower reaches only once the hidden layer has learned
EARLY = 100                      # "the first K steps" of the saturation study
SMALL, TINY, LARGE = 0.01, 1e-4, 10.0
NOISE_INPUTS = 18                # the flower plus 18 noise inputs: n_x = 20
TANH_GAIN = 5.0 / 3.0            # the usual gain for tanh layers (e.g. PyTorch's calculate_gain)
NUDGE = 1e-12                    # the difference put between two copied units in the stability run
HELD_OUT_SEED = 2                # the held-out flower: same shape, other noise (the training one is seed 1)
NOISE_SEEDS = (7, 8)             # the noise inputs' own RandomStates: training set, held-out set
MIX_SEED = 9                     # the random mixing of the informative-inputs control
DEPTH, WIDTH, DEPTH_M = 10, 100, 500
CONFIDENCE = 95                  # per cent: the intervals of the win rates
Z = 1.96                         # the normal quantile of a two-sided 95 % interval
TURN = 10                        # degrees: a cut that turns more than this has been reshaped by training
Z_SAT = 3.0                      # |z| where the text quotes tanh's slope
FAN_INS = (2, 2 + NOISE_INPUTS, 200)   # the variance check's numbers of inputs
RUN_SEED = 1                     # the seed of lesson_tools' single runs (compare_inits)
COLORS = ("tab:blue", "tab:green", "tab:purple", "tab:cyan", "tab:olive", "tab:orange", "tab:red", "tab:brown")


@dataclass(frozen=True)
class Start:
    name: str
    w1: float      # std of W1's entries
    w2: float      # std of W2's entries


def scale(std):
    return Start("zeros" if std == 0 else f"std {std:g}", std, std)


def lecun(n_x, n_h, n_y=1):
    """LeCun: Var(w) = 1/n_in in each layer."""
    return Start("LeCun", 1 / np.sqrt(n_x), 1 / np.sqrt(n_h))


def glorot(n_x, n_h, n_y=1, gain=TANH_GAIN):
    """Xavier (Glorot and Bengio): std = gain * sqrt(2 / (n_in + n_out)) in each layer."""
    return Start("Xavier (gain 5/3)", gain * np.sqrt(2 / (n_x + n_h)), gain * np.sqrt(2 / (n_h + n_y)))


def wilson(wins, n):
    """95 % interval of a win rate (Wilson's score interval), as (low, high)."""
    if n == 0:
        return (0.0, 1.0)
    p = wins / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * np.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def rate(wins, n):
    low, high = wilson(wins, n)
    return f"{wins} of {n} seeds ({wins / n:.0%}, {CONFIDENCE} % interval {low:.0%} to {high:.0%})"


# --------------------------------------------------------------- data and starts

def standardise(X, like=None):
    """Each input row to mean 0 and variance 1, with the statistics of ``like`` (default X)."""
    ref = X if like is None else like
    return (X - ref.mean(axis=1, keepdims=True)) / ref.std(axis=1, keepdims=True)


def flower_with_noise(extra=NOISE_INPUTS, held_out=False):
    """The flower's two inputs, standardised, plus ``extra`` inputs of pure N(0, 1) noise."""
    X, Y = lt.make_flower(seed=HELD_OUT_SEED if held_out else 1)
    noise = np.random.RandomState(NOISE_SEEDS[held_out]).randn(extra, X.shape[1])
    return np.vstack([standardise(X, lt.make_flower()[0]), noise]), Y


def flower_mixed(n_x=2 + NOISE_INPUTS, held_out=False):
    """n_x informative inputs: fixed random mixtures of the two standardised flower inputs."""
    X, Y = lt.make_flower(seed=HELD_OUT_SEED if held_out else 1)
    mix = np.random.RandomState(MIX_SEED).randn(n_x, 2)
    mix /= np.linalg.norm(mix, axis=1, keepdims=True)
    return mix @ standardise(X, lt.make_flower()[0]), Y


def starts(seeds, n_x, n_y=1, std=SMALL, n_h=N_HIDDEN, std2=None):
    """Starting parameters for each seed, stacked on a leading axis: W1 (S, n_h, n_x), ... ."""
    W1, W2 = [], []
    for s in seeds:
        np.random.seed(s)
        W1.append(np.random.randn(n_h, n_x))
        W2.append(np.random.randn(n_y, n_h))
    S = len(W1)
    return {"W1": np.array(W1) * std, "b1": np.zeros((S, n_h, 1)),
            "W2": np.array(W2) * (std if std2 is None else std2), "b2": np.zeros((S, n_y, 1))}


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


def accuracy_many(X, Y, p):
    with np.errstate(over="ignore", under="ignore"):
        _, A2 = forward_many(X, p)
    return np.mean((A2 > 0.5) == (Y > 0.5), axis=(1, 2))


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


def train_many(X, Y, params, steps=None, learning_rate=None, record_W1=False):
    """Plain gradient descent on every network of ``params`` at once."""
    steps = STEPS if steps is None else steps
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

SYMMETRY_STARTS = ("zeros", "copies", "row copies", "nudged copies")


@dataclass
class Symmetry:
    gaps: dict     # start -> (steps + 1, S): largest difference between two hidden units' W1 rows
    moved: dict    # start -> (S,): how far W1 moved in training (largest entry change)
    b2_end: np.ndarray  # (S,) the output bias at the end of the zeros runs
    steps: int


def symmetry_study(X, Y, seeds=None, steps=None):
    """Four starts that begin with (nearly) identical hidden units, trained on each seed.

    zeros: every weight 0.  copies: every unit gets unit 1's W1 row, b1 entry (0) and W2 column.
    row copies: every unit gets unit 1's W1 row, but W2 keeps its own random columns.
    nudged copies: copies, with NUDGE added to one weight of unit 2 (what one rounding error does).
    """
    seeds, steps = seeds or SEEDS, STEPS if steps is None else steps
    base = starts(seeds, X.shape[0], Y.shape[0])
    copies = dict(base, W1=np.repeat(base["W1"][:, :1], N_HIDDEN, axis=1),
                  W2=np.repeat(base["W2"][:, :, :1], N_HIDDEN, axis=2))
    nudged = dict(copies, W1=copies["W1"].copy())
    nudged["W1"][:, 1, 0] += NUDGE
    made = {"zeros": dict(base, W1=0 * base["W1"], W2=0 * base["W2"]), "copies": copies,
            "row copies": dict(base, W1=np.repeat(base["W1"][:, :1], N_HIDDEN, axis=1)),
            "nudged copies": nudged}
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


SATURATION_SCALES = (SMALL, 1.0, LARGE)


def saturation_study(X, Y, seeds=None, scales=SATURATION_SCALES, early=EARLY):
    seeds = seeds or SEEDS
    out = {k: {} for k in ("slope", "dW1", "dW2", "error", "relative_move")}
    for std in scales:
        params = starts(seeds, X.shape[0], Y.shape[0], std)
        A1, A2 = forward_many(X, params)
        runs = train_many(X, Y, params, early)
        out["slope"][std] = np.median((1.0 - A1 ** 2).reshape(len(seeds), -1), axis=1)
        out["dW1"][std] = _size(runs.first["W1"])
        out["dW2"][std] = _size(runs.first["W2"])
        out["error"][std] = np.abs(A2 - Y).mean(axis=(1, 2))
        out["relative_move"][std] = _size(runs.W1[-1] - runs.W1[0]) / _size(runs.W1[0])
    return Saturation(tuple(scales), early=early, **out)


# --------------------------------------------------------------- the scale sweep

@dataclass
class Sweep:
    setting: str
    n_x: int
    n_h: int
    starts: tuple     # Start, in the order given
    runs: dict        # start name -> Runs
    held_out: dict    # start name -> (S,) accuracy on the held-out set at the end
    trained: dict     # start name -> (S,) accuracy on the training set at the end
    target: float

    @property
    def names(self):
        return tuple(s.name for s in self.starts)

    def final(self, name):
        return self.runs[name].costs[-1]

    def steps(self, name):
        return self.runs[name].steps_to(self.target)

    def wins(self, name, against="std 0.01"):
        """In how many seeds ``name`` ended with a lower training cost than ``against``."""
        return int(np.sum(self.final(name) < self.final(against)))

    def turned(self, name):
        """(S * n_h,) the angle, in degrees, between each hidden unit's W1 row at the start and the end."""
        w0, w1 = self.runs[name].W1[0], self.runs[name].W1[-1]
        cos = np.sum(w0 * w1, axis=2) / (np.linalg.norm(w0, axis=2) * np.linalg.norm(w1, axis=2))
        return np.degrees(np.arccos(np.clip(cos, -1, 1))).ravel()


def sweep(X, Y, held_out, setting, chosen, seeds=None, steps=None, target=TARGET, n_h=N_HIDDEN):
    """Train every start of ``chosen`` on each seed; held_out = (X, Y) of the held-out set."""
    seeds = seeds or SEEDS
    runs, tested, trained = {}, {}, {}
    for start in chosen:
        params = starts(seeds, X.shape[0], Y.shape[0], start.w1, n_h, start.w2)
        runs[start.name] = train_many(X, Y, params, steps)
        tested[start.name] = accuracy_many(*held_out, runs[start.name].end)
        trained[start.name] = accuracy_many(X, Y, runs[start.name].end)
    return Sweep(setting, X.shape[0], n_h, tuple(chosen), runs, tested, trained, target)


def flower_starts(n_x=2, n_h=N_HIDDEN):
    return (scale(TINY), scale(SMALL), lecun(n_x, n_h), glorot(n_x, n_h), scale(LARGE))


def flower_sweep(seeds=None, steps=None, n_h=N_HIDDEN, chosen=None):
    X, Y = lt.make_flower()
    chosen = chosen or flower_starts(2, n_h)
    return sweep(X, Y, lt.make_flower(seed=HELD_OUT_SEED), f"the flower, {n_h} hidden units", chosen,
                 seeds, steps, n_h=n_h)


def wide_layer_sweep(seeds=None, steps=None):
    """The flower with WIDE_HIDDEN hidden units: std 0.01 against std 10."""
    return flower_sweep(seeds, steps, WIDE_HIDDEN, (scale(SMALL), scale(LARGE)))


def matched_std():
    """The std at 2 + NOISE_INPUTS standardised inputs whose Var(z) equals std 1's on the raw flower."""
    X, _ = lt.make_flower()
    return float(np.sqrt(X.var(axis=1).sum() / (2 + NOISE_INPUTS)))


def noise_sweep(seeds=None, steps=None):
    n_x = 2 + NOISE_INPUTS
    chosen = (scale(SMALL), lecun(n_x, N_HIDDEN), glorot(n_x, N_HIDDEN), matched(), scale(LARGE))
    return sweep(*flower_with_noise(), flower_with_noise(held_out=True),
                 f"the flower with {NOISE_INPUTS} noise inputs", chosen, seeds, steps)


def mixed_sweep(seeds=None, steps=None):
    return sweep(*flower_mixed(), flower_mixed(held_out=True), f"{2 + NOISE_INPUTS} informative inputs",
                 (scale(SMALL), matched(), scale(LARGE)), seeds, steps)


def matched():
    """W1 at ``matched_std()``, W2 at std 1: the Var(z) of std 1 on the two-input flower, at 20 inputs."""
    return Start("matched Var(z)", matched_std(), 1.0)


def sweep_table(result):
    """The sweep as text lines: final cost, held-out accuracy, steps to the target, wins."""
    n = len(result.final(result.names[0]))
    lines = [f"{result.setting}: n_x = {result.n_x}, {n} seeds, {len(result.runs[result.names[0]].costs) - 1} steps",
             f"{'start':>18} | {'std W1, W2':>11} | final cost: median [min, max] | held-out acc. | "
             f"reached {result.target:g} | steps to it | below std 0.01 in"]
    for start in result.starts:
        f, k, name = result.final(start.name), result.steps(start.name), start.name
        hit = k[k >= 0]
        reach = f"{np.median(hit):6.0f}" if hit.size else " never"
        versus = "" if name == "std 0.01" else rate(result.wins(name), n)
        lines.append(f"{name:>18} | {start.w1:4.2g}, {start.w2:4.2g} | {np.median(f):9.3f} [{f.min():.3f}, "
                     f"{f.max():.3f}]   | {np.median(result.held_out[name]):12.1%}  | {hit.size:3d} of {n:<3d}  | "
                     f"{reach}      | {versus}")
    return lines


# --------------------------------------------------------------- deep tanh stacks

@dataclass
class Depth:
    spreads: dict   # name -> (DEPTH,) std of each layer's activations
    grads: dict     # name -> (DEPTH,) size of each layer's weight gradient


def depth_starts(width=WIDTH):
    return ((f"std {SMALL:g}", SMALL), ("Xavier, std sqrt(2/(n_in+n_out))", np.sqrt(2 / (2 * width))),
            ("std 1", 1.0))


def depth_study(layers=DEPTH, width=WIDTH, m=DEPTH_M, seed=0):
    """Forward and backward through ``layers`` tanh layers: activation spread and |dW| per layer.

    The loss is a fixed random linear read-out of the last layer, averaged over the examples, so
    every layer's gradient is measured with the same signal arriving from above.
    """
    rng = np.random.RandomState(seed)
    x, readout = rng.randn(width, m), rng.randn(1, width)
    spreads, grads = {}, {}
    for name, std in depth_starts(width):
        Ws = [rng.randn(width, width) * std for _ in range(layers)]
        acts = [x]
        for W in Ws:
            acts.append(np.tanh(W @ acts[-1]))
        dA = np.repeat(readout.T, m, axis=1) / m
        sizes = []
        for W, a_in, a_out in zip(Ws[::-1], acts[-2::-1], acts[:0:-1]):
            dZ = dA * (1 - a_out ** 2)
            sizes.append(float(np.linalg.norm(dZ @ a_in.T)))
            dA = W.T @ dZ
        spreads[name] = np.array([float(a.std()) for a in acts[1:]])
        grads[name] = np.array(sizes[::-1])
    return Depth(spreads, grads)


def variance_check(fan_ins=FAN_INS, sigma=SMALL, m=2000, seed=0):
    """(n, measured std of z, predicted sqrt(n) * sigma) for standardised inputs x ~ N(0, 1)."""
    rng = np.random.RandomState(seed)
    rows = []
    for n in fan_ins:
        z = (rng.randn(500, n) * sigma) @ rng.randn(n, m)
        rows.append((n, float(z.std()), float(np.sqrt(n) * sigma)))
    return rows


# --------------------------------------------------------------- sentences, made from the numbers

def _range(values, fmt):
    return f"median {fmt % np.median(values)} (range {fmt % np.min(values)} to {fmt % np.max(values)})"


def _symmetry_sentences(result):
    n = len(result.b2_end)
    same = {k: int(np.sum(g.max(axis=0) == 0)) for k, g in result.gaps.items()}
    split = int(np.sum(result.gaps["row copies"][1] > 0))
    nudged = result.gaps["nudged copies"][-1]
    return [f"zeros: the {N_HIDDEN} hidden units are identical at every one of {result.steps} steps in "
            f"{same['zeros']} of {n} seeds; W1 never moves, and b2 is still exactly 0 in "
            f"{int(np.sum(result.b2_end == 0))} of {n} seeds.",
            f"copies: identical at every step in {same['copies']} of {n} seeds, although W1 moved by "
            + _range(result.moved["copies"], "%.2g") + ".",
            f"row copies (equal W1 rows, different W2 columns): different after the first step in {split} "
            f"of {n} seeds; after {result.steps} steps the rows differ by " + _range(result.gaps["row copies"][-1], "%.3g") + ".",
            f"nudged copies (copies, one weight moved by {NUDGE:g}): after {result.steps} steps the rows differ by "
            + _range(nudged, "%.3g") + f", {np.log10(np.median(nudged) / NUDGE):.0f} orders of magnitude more."]


def _saturation_sentences(result):
    out = []
    for s in result.scales:
        out.append(f"std {s:g}: median tanh' at the start {np.median(result.slope[s]):.2g}; |dW1| at step 0 "
                   + _range(result.dW1[s], "%.2g") + f", |dW2| median {np.median(result.dW2[s]):.2g}"
                   + f"; in {result.early} steps W1 changes by {np.median(result.relative_move[s]):.2g} "
                   + f"times its own size (median); mean |A2 - Y| at the start {np.median(result.error[s]):.2f}.")
    if 1.0 in result.scales and SMALL in result.scales:
        out.append(f"|dW1| at step 0 is {np.median(result.dW1[1.0]) / np.median(result.dW1[SMALL]):.0f} times larger "
                   f"at std 1 than at std {SMALL:g} (medians).")
    return out


def _sweep_sentences(result):
    n = len(result.final("std 0.01"))
    out = []
    for name in result.names:
        if name != "std 0.01":
            gap = np.median(result.held_out[name]) - np.median(result.held_out["std 0.01"])
            out.append(f"{name} ended below std 0.01 in {rate(result.wins(name), n)}; median held-out "
                       f"accuracy {np.median(result.held_out[name]):.1%} against {np.median(result.held_out['std 0.01']):.1%} "
                       f"({gap:+.1%}).")
    order = sorted(result.names, key=lambda s: np.median(result.final(s)))
    out.append("Median final cost, lowest first: " + ", ".join(order) + ".")
    small = result.trained["std 0.01"]
    out.append(f"std 0.01: median accuracy {np.median(small):.1%} on the training set, "
               f"{np.median(result.held_out['std 0.01']):.1%} on the held-out set.")
    if TINY in [s.w1 for s in result.starts]:
        extra = np.median(result.steps(f"std {TINY:g}")) / np.median(result.steps("std 0.01")) - 1
        out.append(f"std {TINY:g} needs {extra:.0%} more steps than std 0.01 to reach {result.target:g} (medians).")
    if LARGE in [s.w1 for s in result.starts]:
        small_turn, large_turn = result.turned("std 0.01"), result.turned(f"std {LARGE:g}")
        out.append(f"In training each hidden unit's cut turns by a median {np.median(small_turn):.0f} degrees at "
                   f"std 0.01 and {np.median(large_turn):.1f} degrees at std {LARGE:g}; at std {LARGE:g}, "
                   f"{np.mean(large_turn > TURN):.0%} of the units turn more than {TURN} degrees.")
    return out


def _depth_sentences(result):
    out = []
    for name in result.spreads:
        s, g = result.spreads[name], result.grads[name]
        out.append(f"{name:>34}: spread at layer 1 {s[0]:.2g}, layer {DEPTH} {s[-1]:.2g}; |dW| at layer 1 "
                   f"{g[0]:.2g}, layer {DEPTH} {g[-1]:.2g}, largest {g.max():.2g}, smallest {g.min():.2g}.")
    return out


def sentences(result):
    """The lesson's quantitative sentences about ``result``, computed from it."""
    for kind, write in ((Symmetry, _symmetry_sentences), (Saturation, _saturation_sentences),
                        (Sweep, _sweep_sentences), (Depth, _depth_sentences)):
        if isinstance(result, kind):
            return write(result)
    raise TypeError(f"no sentences for {type(result).__name__}")


def show(result):
    """Print a study's table (for a sweep) and its sentences."""
    lines = sweep_table(result) + [""] if isinstance(result, Sweep) else []
    print("\n".join(lines + sentences(result)))


def text_values():
    """{name: value} for the ``{{name}}`` placeholders of the lesson's markdown.

    Constants of the studies and facts of the data, each computed here, so the text quotes the
    numbers the code uses. Results of training are not here: the cells print those.
    """
    X, Y = lt.make_flower()
    return {
        "seeds": len(SEEDS), "first_seed": SEEDS[0], "last_seed": SEEDS[-1], "steps": STEPS,
        "n_h": N_HIDDEN, "wide_n_h": WIDE_HIDDEN, "m": X.shape[1], "target": TARGET, "early": EARLY,
        "small": SMALL, "tiny": TINY, "large": LARGE, "large_factor": LARGE / SMALL,
        "noise_inputs": NOISE_INPUTS, "n_x_noise": 2 + NOISE_INPUTS, "nudge": NUDGE,
        "max_input": float(np.abs(X).max()), "var_x": float(X.var(axis=1).mean()),
        "log2": float(np.log(2)), "slope_at_3": float(1 - np.tanh(Z_SAT) ** 2),
        "lecun_w1": 1 / np.sqrt(2), "lecun_w2": 1 / np.sqrt(N_HIDDEN),
        "glorot_w1": np.sqrt(2 / (2 + N_HIDDEN)), "glorot_w2": np.sqrt(2 / (N_HIDDEN + 1)),
        "gain": TANH_GAIN, "gain_w1": TANH_GAIN * np.sqrt(2 / (2 + N_HIDDEN)),
        "gain_w2": TANH_GAIN * np.sqrt(2 / (N_HIDDEN + 1)), "matched": matched_std(),
        "depth": DEPTH, "width": WIDTH, "depth_m": DEPTH_M, "depth_glorot": np.sqrt(2 / (2 * WIDTH)),
        "held_out_seed": HELD_OUT_SEED, "turn": TURN, "z_sat": Z_SAT, "run_seed": RUN_SEED,
        "confidence": CONFIDENCE, "gain_text": str(Fraction(TANH_GAIN).limit_denominator(10)),
        "lecun_noise_w1": lecun(2 + NOISE_INPUTS, N_HIDDEN).w1, "gain_noise_w1": glorot(2 + NOISE_INPUTS, N_HIDDEN).w1,
        "fan_ins": ", ".join(str(n) for n in FAN_INS[:-1]) + f" and {FAN_INS[-1]}",
        "petals": lt.PETALS, "petals_per_class": lt.PETALS // 2, "symmetry_starts": len(SYMMETRY_STARTS),
        "saturation_scales": len(SATURATION_SCALES), "flower_starts": len(flower_starts()),
        "depth_starts": len(depth_starts()), "bell_weights": lt.BELL_LAYER ** 2, "flat_slope": lt.FLAT_SLOPE, "symmetry_runs": len(SEEDS) * len(SYMMETRY_STARTS), "w1_entries": N_HIDDEN * 2, "studies": len(SEEDS) * 3,
    }


# --------------------------------------------------------------- figures

def plot_symmetry(result):
    """Largest gap between two hidden units' incoming weights over training: median and range."""
    fig = Figure(figsize=(7.5, 3.8), layout="constrained")
    ax = fig.subplots()
    steps = np.arange(result.steps + 1)
    floor = 1e-17
    for name, color, style, width in zip(SYMMETRY_STARTS, ("tab:red", "tab:purple", "tab:green", "tab:orange"),
                                         ("-", "--", "-", ":"), (5, 2, 2, 2)):
        g = np.maximum(result.gaps[name], floor)
        ax.plot(steps, np.median(g, axis=1), style, color=color, lw=width, label=f"{name} (median)")
        ax.fill_between(steps, g.min(axis=1), g.max(axis=1), color=color, alpha=0.2)
    ax.set(yscale="log", ylim=(floor / 3, None), xlabel="step",
           ylabel="largest gap between two units' W1 rows",
           title=f"Do identical hidden units stay identical? ({result.gaps['zeros'].shape[1]} seeds, band = range)")
    ax.text(result.steps, floor, "exactly 0 (drawn at 1e-17)", ha="right", va="bottom", fontsize=8, color="0.3")
    ax.legend(loc="center right", fontsize=8)
    return fig


def plot_saturation_study(result):
    fig = Figure(figsize=(11, 3.6), layout="constrained")
    axes = fig.subplots(1, 3)
    panels = (("slope", "median tanh'(Z1) at the start"), ("dW1", "|dW1| at step 0"),
              ("relative_move", f"change of W1 in {result.early} steps / |W1|"))
    rng = np.random.RandomState(0)
    for ax, (key, title) in zip(axes, panels):
        for i, s in enumerate(result.scales):
            v = np.maximum(getattr(result, key)[s], 1e-20)   # an exact 0 is drawn at 1e-20
            ax.plot(i + 0.08 * rng.randn(v.size), v, "o", ms=4, alpha=0.6, color=COLORS[i])
            ax.plot([i - 0.3, i + 0.3], [np.median(v)] * 2, "k-", lw=2)
        ax.set_xticks(range(len(result.scales)), [f"std {s:g}" for s in result.scales])
        ax.set(title=title, yscale="log")
    fig.suptitle("Where large weights hurt: one dot per seed, black bar = median (an exact 0 is drawn at 1e-20)")
    return fig


def _dots(ax, i, values, color):
    rng = np.random.RandomState(i)
    ax.plot(i + 0.08 * rng.randn(values.size), values, "o", ms=3.5, alpha=0.7, color=color)
    ax.plot([i - 0.3, i + 0.3], [np.median(values)] * 2, "k-", lw=2)


def plot_sweep(result):
    """Cost over training (median and range), final cost and held-out accuracy, one dot per seed."""
    fig = Figure(figsize=(12, 4), layout="constrained")
    ax, ax2, ax3 = fig.subplots(1, 3, width_ratios=(3, 2, 2))
    for i, name in enumerate(result.names):
        c = result.runs[name].costs
        steps = np.arange(c.shape[0])
        ax.plot(steps, np.median(c, axis=1), color=COLORS[i], lw=2, label=name)
        ax.fill_between(steps, c.min(axis=1), c.max(axis=1), color=COLORS[i], alpha=0.12)
        _dots(ax2, i, result.final(name), COLORS[i])
        _dots(ax3, i, result.held_out[name], COLORS[i])
    ax.axhline(result.target, color="0.5", ls=":", lw=1)
    ax.text(0, result.target, f" target {result.target:g}", va="bottom", fontsize=8, color="0.4")
    ax.set(xlabel="step", ylabel="training cost", ylim=(0, 1.2))
    ax.set_title("training cost: median, band = range", fontsize=10)
    ax.legend(fontsize=7)
    for a, title in ((ax2, "final training cost"), (ax3, "held-out accuracy")):
        a.set_xticks(range(len(result.names)), result.names, fontsize=7, rotation=30, ha="right")
        a.set_title(f"{title} (dot = seed, bar = median)", fontsize=10)
    fig.suptitle(f"{result.setting}: {len(result.final(result.names[0]))} seeds per start")
    return fig


def plot_cuts(narrow, wide):
    """Final cost of std 0.01 and std 10 with 4 and with 20 hidden units, and how far the cuts turn."""
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    big = f"std {LARGE:g}"
    for i, (result, name) in enumerate(((narrow, "std 0.01"), (narrow, big), (wide, "std 0.01"), (wide, big))):
        _dots(ax, i, result.final(name), COLORS[0] if name == "std 0.01" else COLORS[5])
    ax.set_xticks(range(4), [f"{name}\n{r.n_h} hidden" for r, name in
                             ((narrow, "std 0.01"), (narrow, big), (wide, "std 0.01"), (wide, big))])
    ax.set(ylabel="final training cost", title="one dot per seed, bar = median")
    edges = np.linspace(0, 180, 37)
    for name, color in (("std 0.01", COLORS[0]), (big, COLORS[5])):
        ax2.hist(narrow.turned(name), bins=edges, alpha=0.6, color=color, label=name,
                 weights=np.full(narrow.turned(name).size, 1 / narrow.turned(name).size))
    ax2.set(xlabel="angle between a unit's W1 row at the start and at the end (degrees)",
            ylabel="share of hidden units", title=f"How far each cut turns in training ({narrow.n_h} hidden units)")
    ax2.legend()
    return fig


def plot_depth(result):
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    for i, name in enumerate(result.spreads):
        layers = np.arange(1, result.spreads[name].size + 1)
        ax.plot(layers, result.spreads[name], "o-", color=COLORS[i], label=name)
        ax2.plot(layers, result.grads[name], "o-", color=COLORS[i], label=name)
    ax.set(yscale="log", xlabel="layer", ylabel="std of the layer's activations",
           title=f"forward: {DEPTH} tanh layers of {WIDTH} units")
    ax2.set(yscale="log", xlabel="layer", ylabel="|dW| of the layer",
            title="backward: size of each layer's weight gradient")
    ax.legend(fontsize=8)
    return fig
