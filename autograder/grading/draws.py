"""Name a wrong draw by its shape, not only its spread: which distribution the weights came from.

``init.small_scale`` measures one large draw (50,000 weights per matrix). When it is not a
Gaussian of spread 0.01, a student can act only if told what it is instead: uniform (between
which bounds), clipped (values piled at a bound), truncated (tails cut, no pile), exponential or
otherwise skewed, or a block of draws tiled over the matrix. Each is named from the draw's own
numbers, computed here in the grader: its distinct values, the count at its extremes, its skewness
and kurtosis, and a Kolmogorov-Smirnov distance to the named distribution, with the same bound
the Gaussian test uses. A name is given only when its test passes; otherwise nothing is named.

Scale causes (a fixed factor, Xavier's 1/sqrt(fan-in), He's sqrt(2/fan-in)) are told apart by a
second draw at other fan-ins (``checks.py`` gets it from the same function, at ``SECOND``): a fixed
factor gives the same spread at both, Xavier and He follow the fan-in at both.
Everything here reads plain arrays; nothing calls student code.
"""

import math

import numpy as np

from . import causes
from .grader_rules import SCALE, TILED_SHARE, spread_band

# The second large draw: other fan-ins for both matrices (W1: 800 instead of 200; W2: 62 instead of 250),
# still about 50,000 weights each, so that its spread is measured as precisely as the first one's.
SECOND = {"n_x": 800, "n_h": 62, "n_y": 800}
# A value that 0.5% of the entries share is a pile: 50,000 continuous draws never repeat a value.
PILE_SHARE = 0.005
# Skewness of n Gaussian draws has standard error sqrt(6/n) (0.011 for 50,000): 0.2 is over 18 of them.
SKEW_LIMIT = 0.2
# The largest of 50,000 Gaussian draws is about 4.3 standard deviations from the mean; below 3.5 happens
# with probability (1 - 4.7e-4)^50000, under 1e-10: the tails were cut off.
TRUNCATED_Z = 3.5


def first_equal_rows(W):
    """(i, j) with i < j for two equal rows of W, or None; sorting makes it O(n log n), not O(n^2).

    Most matrices have no two equal rows, and one sort of each row's bytes as a single key proves it
    (equal bytes are necessary for equal values once -0.0 is 0.0: only nan differs, and nan never
    equals). Only when two rows share their bytes are the values sorted column by column, which
    finds the pair to name: the smallest repeated row, its two first indices.
    """
    rows = W + 0.0                                      # -0.0 and 0.0 are the same weight
    if rows.ndim == 2 and rows.dtype == np.float64 and rows.shape[1] and _distinct_bytes(rows):
        return None
    order = np.lexsort(rows.T[::-1])
    ordered = rows[order]
    equal = np.all(ordered[1:] == ordered[:-1], axis=1)
    if not equal.any():
        return None
    k = int(np.argmax(equal))
    return tuple(sorted((int(order[k]), int(order[k + 1]))))


def _distinct_bytes(rows):
    """True when no two rows of the float64 matrix ``rows`` hold the same bytes."""
    rows = np.ascontiguousarray(rows)
    keys = np.sort(rows.view(np.dtype((np.void, rows.itemsize * rows.shape[1]))).ravel())
    return not bool((keys[1:] == keys[:-1]).any())


def moments(w):
    """(skewness, kurtosis) of the entries of w (a Gaussian has 0 and 3)."""
    z = (w - w.mean()) / w.std()
    z2 = z * z                  # products, not z ** 3 and z ** 4: numpy's pow takes a slow path for them
    return float(np.mean(z2 * z)), float(np.mean(z2 * z2))


def _uniform_gap(w):
    lo, hi = float(w.min()), float(w.max())
    return causes._ks_against((w - lo) / (hi - lo), lambda z: np.clip(z, 0.0, 1.0))


def _exponential_gap(w):
    """KS distance between w and an exponential starting at min(w), with its own mean, sign either way."""
    skew = moments(w)[0]
    shifted = (w - w.min()) if skew > 0 else (w.max() - w)
    return causes._ks_against(shifted / shifted.mean(), lambda z: 1.0 - np.exp(-np.maximum(z, 0.0)))


def _truncated_spread(t):
    """Standard deviation of N(0, 1) cut to [-t, t]."""
    density, mass = math.exp(-t * t / 2) / math.sqrt(2 * math.pi), math.erf(t / math.sqrt(2))
    return math.sqrt(max(1.0 - 2.0 * t * density / mass, 0.0))


def _truncated_gap(w):
    """KS distance between w and a Gaussian centred at its mean, cut where w ends, with w's spread."""
    centred = w - w.mean()
    cut = float(np.abs(centred).max())
    ratio = cut / float(w.std())                      # cut / spread of the truncated draw
    lo_t, hi_t = 1e-3, 50.0                           # find t with t / spread(t) = ratio (increasing in t)
    if ratio <= math.sqrt(3.0):                       # even a uniform (t -> 0) reaches sqrt(3) spreads
        return math.inf
    for _ in range(60):
        t = 0.5 * (lo_t + hi_t)
        lo_t, hi_t = (t, hi_t) if t / _truncated_spread(t) < ratio else (lo_t, t)
    sigma = cut / t
    mass = math.erf(t / math.sqrt(2))
    return causes._ks_against(centred / sigma, lambda z: (causes._normal_cdf(z) - 0.5 * (1 - mass)) / mass)


def shape(name, w, ks_limit):
    """(phrase, hint id) naming the distribution of the non-Gaussian draw ``w`` (1-D), or (None, None)."""
    n = w.size
    lo, hi = float(w.min()), float(w.max())
    at_lo, at_hi = int(np.count_nonzero(w == lo)), int(np.count_nonzero(w == hi))
    distinct = int(np.unique(w).size)
    if lo < hi and at_lo >= PILE_SHARE * n and at_hi >= PILE_SHARE * n and distinct > n - at_lo - at_hi:
        return ("%d of its entries equal its smallest value, %.4g, and %d its largest, %.4g, while every other "
                "value occurs once: the draws were clipped to [%.4g, %.4g]" % (at_lo, lo, at_hi, hi, lo, hi),
                "init_clipped")
    if distinct < TILED_SHARE * n:
        return ("'%s' holds only %d distinct values among its %d entries: each value is repeated about %.0f times"
                % (name, distinct, n, n / distinct), "init_tiled_block")
    skew, kurtosis = moments(w)
    spread = "(skewness %.2f, kurtosis %.2f; a Gaussian has 0 and 3)" % (skew, kurtosis)
    if _uniform_gap(w) <= ks_limit:
        return "its entries are spread evenly over [%.4g, %.4g] %s" % (lo, hi, spread), "init_uniform"
    if abs(skew) > SKEW_LIMIT:
        if _exponential_gap(w) <= ks_limit:
            return "its entries follow an exponential distribution %s" % spread, "init_exponential"
        return "its entries are skewed to one side %s" % spread, "init_skewed"
    reach = max(hi - w.mean(), w.mean() - lo) / w.std()
    if reach < TRUNCATED_Z and _truncated_gap(w) <= ks_limit:
        return ("no entry lies more than %.2f standard deviations from the mean, where %d Gaussian draws reach "
                "about 4.3 %s: the tails were cut off" % (reach, n, spread), "init_truncated")
    return None, None


def scale_cause(std, fan_in, again, fan_in_again):
    """'init_xavier', 'init_he', or a fixed factor ('init_too_small' / 'init_too_large'), proven at two fan-ins.

    ``std`` is the spread at ``fan_in``, ``again`` the spread of the same matrix at ``fan_in_again``
    (None when the second draw could not be measured: then no scale cause is named).
    """
    if again is None:
        return None
    band, band_again = spread_band(BIG_ENTRIES), spread_band(BIG_ENTRIES)
    for hint, rule in (("init_xavier", lambda f: 1.0 / math.sqrt(f)), ("init_he", lambda f: math.sqrt(2.0 / f))):
        if abs(std - rule(fan_in)) <= band * std / SCALE and abs(again - rule(fan_in_again)) <= \
                band_again * again / SCALE:
            return hint
    if abs(again - std) <= (band + band_again) * std / SCALE:
        return "init_too_small" if std < SCALE else "init_too_large"
    return None


BIG_ENTRIES = 49600    # the smaller of the two draws' sizes (62 x 800), for the bands of scale_cause
