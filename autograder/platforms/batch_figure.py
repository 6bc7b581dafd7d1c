"""grade-all's picture of a class: ``<csv stem>_failures.png`` next to the CSV.

Design
------
Two panels drawn from the summary (batch_summary.py) and the totals of the graded rows: the rubric
items the class lost, most lost on top (red when a quarter of the class or more lost it), and a
histogram of total scores with its mean and median. matplotlib is an optional extra (``pip install
.[batch]``): it is imported inside ``figure`` and ``plot_summary`` only, so grading never pays for it and
a machine without it still gets its CSV (grade-all says no plot was drawn).
"""

import io
import statistics

from .. import rubric
from ..sandbox import safefs

WIDELY_LOST = 25       # percent of the class: an item this many lost is a lesson that did not land
BIN_POINTS = 10        # width of a histogram bin, in points (the rubric's items are worth 10-20)
RED, GREY, BLUE = "#c0392b", "#7f8c8d", "#2e86c1"


def histogram_bins():
    """Bin edges 0, 10, ..., 100 (the last bin holds full marks too)."""
    return list(range(0, rubric.TOTAL + 1, BIN_POINTS))


def figure(summary, scores):
    """The matplotlib Figure: lost items (top) and the histogram of total scores (bottom)."""
    # lazy: optional extra [batch]: matplotlib is imported only when a plot is drawn
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    n = summary[0][2] if summary else 0
    ordered = list(reversed(summary))   # barh draws bottom-up: the most lost ends on top
    fig = Figure(figsize=(9, 0.65 * len(ordered) + 5.2))
    bars_ax, hist_ax = fig.subplots(2, 1, gridspec_kw={"height_ratios": [0.65 * len(ordered) + 1.2, 3.2]})
    shares = [100.0 * lost / n if n else 0.0 for _, lost, _ in ordered]
    bars = bars_ax.barh(range(len(ordered)), shares, color=[RED if s >= WIDELY_LOST else GREY for s in shares])
    bars_ax.set_yticks(range(len(ordered)))
    bars_ax.set_yticklabels(["%s\n%s" % (item.id, item.section) for item, _, _ in ordered], fontsize=8)
    for bar, (_, lost, _) in zip(bars, ordered):
        bars_ax.text(bar.get_width() + 1, bar.get_y() + bar.get_height() / 2, "%d/%d" % (lost, n),
                     va="center", fontsize=8)
    bars_ax.set_xlim(0, 110)
    bars_ax.set_xlabel("%% of the %d graded students who lost the item" % n)
    bars_ax.set_title("Which ideas of the lesson did not land")
    bars_ax.legend(handles=[Patch(color=RED, label="lost by %d%% or more of the class" % WIDELY_LOST),
                            Patch(color=GREY, label="lost by fewer than %d%%" % WIDELY_LOST)],
                   loc="lower right", fontsize=8)
    hist_ax.hist(scores, bins=histogram_bins(), color=BLUE, edgecolor="white",
                 label="students (%d graded)" % len(scores))
    if scores:
        mean, median = statistics.fmean(scores), statistics.median(scores)
        hist_ax.axvline(mean, color="black", linestyle="--", label="mean %.1f" % mean)
        hist_ax.axvline(median, color=RED, linestyle=":", label="median %.1f" % median)
    hist_ax.set_xlim(0, rubric.TOTAL)
    hist_ax.set_xticks(histogram_bins())
    hist_ax.set_xlabel("total score (of %d points), in bins of %d" % (rubric.TOTAL, BIN_POINTS))
    hist_ax.set_ylabel("students")
    hist_ax.set_title("Distribution of total scores")
    hist_ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def plot_summary(summary, png_path, scores=()):
    """Draw ``figure`` to PNG_PATH; returns the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg   # lazy: optional extra [batch], as in ``figure``
    fig = figure(summary, list(scores))
    FigureCanvasAgg(fig)
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=110)
    safefs.write_bytes(png_path, png.getvalue())        # atomic, never through a planted link
    return png_path


