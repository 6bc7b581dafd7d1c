"""init.small_scale's large draw, judged: spread, mean and shape of its distinct draws, and the cause.

The check (``checks.init_gaussian_spread``) calls initialize_parameters for one large draw (50,000
weights per matrix) and hands each matrix here, finite and large enough to measure. Repeated rows or
columns are init.breaks_symmetry's mistake (CONTRACT section 2), so a matrix is judged over its
distinct rows and columns: one mistake, one item. The order is fixed: a constant, a block of repeated values, one sign, the
spread, the mean, then the Kolmogorov-Smirnov distance to N(0, 0.01^2) with the DKW bound for the
number of distinct draws. A draw that is not Gaussian is named by ``draws.shape``; a Gaussian with a
wrong spread gets a scale cause only when ``draws.scale_cause`` proves it on a second draw at other
fan-ins (``again``, made by the check from the same function); saturation only when measured.
Everything here reads plain arrays; nothing calls student code.
"""

import math

import numpy as np

from . import causes, draws
from .draws import first_equal_rows
from .grader_rules import MIN_DISTINCT, SCALE, TILED_SHARE, mean_band, spread_band
from ..verdicts import PROPERTY, Failed, Number

BIG_DRAW = 50000                   # entries of each matrix of the large draw (checks.BIG)
KS_FALSE_ALARM = 1e-8              # chance that a correct draw fails the KS test (DKW)
KS_LIMIT = math.sqrt(math.log(2 / KS_FALSE_ALARM) / (2 * BIG_DRAW))
SPREAD, MEAN = "standard deviation", "mean"                  # what a measured Number is
KS_DISTANCE = "Kolmogorov-Smirnov distance to N(0, 0.01^2)"


def distinct_draws(name, w):
    """(entries judged, words for them): the distinct rows, then columns, of a matrix where some repeat
    (repeated rows and columns cost init.breaks_symmetry), else every entry."""
    if w.ndim != 2:
        return w.ravel(), "the %d entries of '%s'" % (w.size, name)
    rows = np.unique(w + 0.0, axis=0) if w.shape[0] > 1 and first_equal_rows(w) is not None else w
    both = np.unique(rows, axis=1) if rows.shape[1] > 1 and first_equal_rows(rows.T) is not None else rows
    kept = [("%d distinct %s" % (n, what), what) for n, full, what in
            ((both.shape[0], w.shape[0], "rows"), (both.shape[1], w.shape[1], "columns")) if n < full]
    if not kept:
        return w.ravel(), "the %d entries of '%s'" % (w.size, name)
    return both.ravel(), "the %d entries of the %s of '%s' (its repeated %s cost init.breaks_symmetry)" % (
        both.size, " and ".join(k for k, _ in kept), name, " and ".join(what for _, what in kept))


class PassedDraws:
    """The draws that passed ``judge`` in this process, so that the same draw passes again unmeasured.

    The grader sets the seed of the large draw, so in a class most answers that draw correctly send
    the very same 50,000 weights, and measuring them again (a sort, the KS distance, the search for
    repeated rows and columns) is work done twice (what it saves: docs/scale.md, "Speed tricks").
    Whether a draw passes depends on its values alone (never on the name, sizes or seed, which only
    word a failure), so a draw equal to one that passed, entry for entry, passes. Only passes are
    kept, at most ``KEPT`` draws.
    """

    KEPT = 8           # distinct correct ways of drawing (randn, normal, standard_normal...) a class sends

    def __init__(self):
        self.draws = []

    def __contains__(self, w):
        return any(seen.shape == w.shape and np.array_equal(seen, w) for seen in self.draws)

    def add(self, w):
        self.draws = [w.copy()] + self.draws[:self.KEPT - 1]


PASSED = PassedDraws()


def judge(name, w, p, sizes, seed, case, again, passed=PASSED):
    """Failed unless the finite draw ``w`` (at least MIN_MEASURED entries) looks like N(0, 0.01^2); the cause
    named where one is proven. ``again()`` gives the same matrix at draws.SECOND, for scale causes.
    ``passed``: the draws known to pass (PassedDraws)."""
    if w in passed:
        return
    _measure(name, w, p, sizes, seed, case, again)
    passed.add(w)


def _measure(name, w, p, sizes, seed, case, again):
    if float(w.std()) < 1e-12:
        raise Failed("all %d entries of '%s' equal %.4g: a constant has no spread at all (standard deviation "
                     "0), where draws of np.random.randn(...) * 0.01 have standard deviation 0.01"
                     % (w.size, name, w.flat[0]), case, hint="init_constant", kind=PROPERTY)
    w, entries = distinct_draws(name, w)
    n = w.size
    if n < MIN_DISTINCT:
        return
    mean, std = float(w.mean()), float(w.std())
    ordered = np.sort(w)            # sorted once: the count of distinct values and the KS distance read it
    if 1 + np.count_nonzero(ordered[1:] != ordered[:-1]) < TILED_SHARE * n:
        phrase, hint = draws.shape(name, w, ks_limit(n))
        raise Failed(phrase + ", where independent draws never repeat a value", case, hint=hint, kind=PROPERTY)
    if w.min() >= 0 or w.max() <= 0:
        sign = "at least 0" if w.min() >= 0 else "at most 0"
        hint = causes.one_signed_cause(w, KS_LIMIT)
        subject = entries if "distinct" in entries else entries[len("the "):]   # "all 50000 entries of 'W1'"
        text = "all %s are %s, so their mean is %.4g; draws from N(0, 0.01^2) take both signs and have mean 0" \
            % (subject, sign, mean)
        if hint is None:
            phrase, hint = draws.shape(name, w, ks_limit(n))
            text += "; " + phrase if phrase else ""
        raise Failed(text, case, expected=Number(0.0, MEAN), actual=Number(mean, MEAN), hint=hint, kind=PROPERTY)
    band = spread_band(n)
    if abs(std - SCALE) > band:
        _wrong_spread(name, w, std, band, p, sizes, seed, case, again, entries)
    if abs(mean) > mean_band(n):
        _not_gaussian(name, w, "%s have mean %.4g; draws from N(0, 0.01^2) average to 0 within %.2g over %d "
                      "entries" % (entries, mean, mean_band(n), n), case, expected=Number(0.0, MEAN),
                      actual=Number(mean, MEAN), tolerance={"atol": mean_band(n)})
    gap = causes.ks_normal(ordered / SCALE, ordered=True)
    if gap > ks_limit(n):
        _not_gaussian(name, w, "%s do not follow a Gaussian: their distribution differs from N(0, 0.01^2) by "
                      "%.3g (Kolmogorov-Smirnov; at most %.3g is expected)" % (entries, gap, ks_limit(n)), case,
                      advice=" Use np.random.randn, which draws from a normal distribution",
                      actual=Number(gap, KS_DISTANCE), tolerance={"atol": ks_limit(n)})


def ks_limit(n):
    """The KS bound for n draws: the DKW inequality at KS_FALSE_ALARM (KS_LIMIT for the full 50,000)."""
    return math.sqrt(math.log(2 / KS_FALSE_ALARM) / (2 * n))


def _not_gaussian(name, w, text, case, advice="", **parts):
    """Failed for a draw that is not N(0, 0.01^2), naming its distribution when draws.shape can."""
    phrase, hint = draws.shape(name, w, ks_limit(w.size))
    raise Failed(text + ("; " + phrase if phrase else "") + ("." + advice if advice and not hint else ""), case,
                 hint=hint, kind=PROPERTY, **parts)


def _wrong_spread(name, w, std, band, p, sizes, seed, case, again, entries):
    text = "%s have standard deviation %.4g, expected 0.01 (+/- %.1g)" % (entries, std, band)
    text += ": %.3g times too %s" % ((SCALE / std, "small") if std < SCALE else (std / SCALE, "large"))
    parts = {"expected": Number(SCALE, SPREAD), "actual": Number(std, SPREAD), "tolerance": {"atol": band}}
    if std > SCALE:
        measured = causes.saturation(name, p, seed, sizes)
        if measured is not None:
            share, z = measured
            if share >= causes.SATURATION_SHARE:
                raise Failed(text + "; " + causes.saturation_text(share, z), case, hint="init_saturates",
                             kind=PROPERTY, **parts)
            text += ". That is not yet enough to saturate: " + causes.saturation_text(share, z, "only ")
    if not causes.gaussian_shape(w, ks_limit(w.size)):
        _not_gaussian(name, w, text, case, **parts)
    dim = "n_x" if name == "W1" else "n_h"
    fan_in, other = sizes[dim], draws.SECOND[dim]
    second = again()
    std_again = float(second.std()) if second is not None else None
    hint = draws.scale_cause(std, fan_in, std_again, other)
    if hint:
        text += ". A second draw with %s = %d (fan-in %d instead of %d) has standard deviation %.4g" \
            % (dim, other, other, fan_in, std_again)
    raise Failed(text, case, hint=hint, kind=PROPERTY, **parts)
