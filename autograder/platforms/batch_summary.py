"""What grade-all tells the instructor while and after it runs: the progress bar and the summary.

Design
------
* ``Progress`` is a plain-text bar on standard error: redrawn in place on a terminal, a line now
  and then (each tenth, or every 30 s) in a log file, so a scheduler's log stays short.
* The summary is a function of the rows the CSV is written from (``graded`` rows only), so every
  count it prints, and every bar of the figure (batch_figure.py), can be checked against the CSV:
  which rubric items the class lost most, with the notebook section that teaches each.
"""

import sys
import time

from .. import rubric


class Progress:
    """A plain-text progress bar on stderr: redrawn in place on a terminal, a line now and then in a log."""

    def __init__(self, total, stream=None, width=28):
        self.total, self.stream, self.width = total, stream or sys.stderr, width
        self.done = self.errors = 0
        self.start = self.last = time.monotonic()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last_decile, self.shown = -1, None

    def line(self):
        elapsed = max(time.monotonic() - self.start, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        filled = int(self.width * self.done / max(self.total, 1))
        eta = "--" if left != left else "%dm%02ds" % divmod(int(left), 60)
        return "grading [%s%s] %d/%d %3d%%  %.2f/s  eta %s  errors %d" % (
            "#" * filled, "-" * (self.width - filled), self.done, self.total,
            100 * self.done // max(self.total, 1), rate, eta, self.errors)

    def update(self, done=None, errors=None, final=False):
        if done is not None:
            self.done = done
        if errors is not None:
            self.errors = errors
        now = time.monotonic()
        if self.tty:
            if final or now - self.last >= 0.2:
                self.stream.write("\r" + self.line() + ("\n" if final else ""))
                self.stream.flush()
                self.last = now
        else:
            decile = 10 * self.done // max(self.total, 1)
            if (final and self.shown != self.done) or decile > self.last_decile or now - self.last >= 30:
                self.stream.write(self.line() + "\n")
                self.stream.flush()
                self.last, self.last_decile, self.shown = now, decile, self.done



# -- what the class got wrong ----------------------------------------------------------------------
def _graded(rows):
    return [r for r in rows if r.get("status") == "graded" and r.get("points")]


def failure_summary(rows):
    """[(item, students who lost it, students graded)], the most lost first."""
    done = _graded(rows)
    counts = []
    for item in rubric.ITEMS:
        lost = sum(1 for r in done if r["points"].get(item.id, 0) < item.points)
        counts.append((item, lost, len(done)))
    order = [i.id for i in rubric.ITEMS]
    return sorted(counts, key=lambda c: (-c[1], order.index(c[0].id)))


def summary_text(summary):
    if not summary or summary[0][2] == 0:
        return "No submission was graded, so there is no summary of what the class got wrong.\n"
    lines = ["What the class lost most (%d students graded):" % summary[0][2]]
    for item, lost, n in summary:
        lines.append("  %-20s %3d%% lost it (%d/%d)  %s" % (item.id, round(100 * lost / n), lost, n, item.section))
    return "\n".join(lines) + "\n"


def totals(rows):
    """The total score of every graded student."""
    return [float(r["total"]) for r in _graded(rows) if r.get("total") is not None]
