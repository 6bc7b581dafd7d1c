"""What the class got wrong: ``grade-all --html REPORT.html``, one self-contained page for the instructor.

Design
------
* Input: the rows grade-all keeps per student (``student``, ``status``, ``detail``, ``points``
  {rubric id: points}, ``total``, ``hints`` {rubric id: hint id}, ``limits`` {rubric id: reason}),
  the same rows the CSV is written from, so every count on the page can be checked against it.
  Nothing here grades: hint ids are the ones the checks verified (grading/hints.py).
* Output: one HTML file, inline CSS and inline SVG, no script and no network (the same page frame
  and Content-Security-Policy as the student's page, grading/html.py). Sections, in the order an
  instructor needs them:
    1. ``attention``: students whose grading hit a limit (time, memory, reply size), whose grading
       failed (a grader error, a batch timeout) or whose submission is missing. First, because
       their numbers are not yet a grade anyone should trust.
    2. ``distribution``: the score histogram (bins of ten, 100 on its own).
    3. ``items``: the pass rate of each rubric item and the notebook section that teaches it.
    4. ``misconceptions``: each hint id that fired, most students first: how many, the sentence
       they read, the section to re-teach, and who (collapsible). Then, per item, how many lost it
       without a recognised cause, so the hints' silence is not mistaken for understanding.
    5. ``compare`` (``--compare OLD.csv``): the same class graded earlier (before a deadline
       extension, say): score and pass-rate changes, who improved or declined.
    6. ``students``: everyone (collapsible), lowest score first.
* ``--anonymous`` replaces names by "Student N", N fixed by a hash of the name (stable between
  runs, independent of the alphabet and of scores), for a page to show to the class.
* Every count carries a ``data-`` attribute (``data-item``/``data-passed``, ``data-hint``/
  ``data-count``, ``data-bin``/``data-count``) so tests read the numbers, not the prose.
"""

import csv
import hashlib
import statistics

from .. import rubric, verdicts
from ..errors import UsageError
from ..grading import hints as _hints
from ..grading import report
from ..grading.html import page, text
from ..sandbox import safefs
from .batch_files import inert

# The runner's own words for a limit the student's code ran into (sandbox/runner.py StudentError).
# A verdict whose problem holds one of them is listed under "attention": the code may be fine and slow.
LIMIT_MARKERS = (
    ("did not finish within", "time limit"),
    ("crashed the Python process", "crashed (often the memory limit)"),
    ("far too large", "reply size limit"),
    ("stopped answering", "stopped answering"),
)
BINS = [(lo, lo + 9) for lo in range(0, 100, 10)] + [(100, 100)]   # 100 alone: full marks are a group


def limits(result):
    """{rubric id: reason} for the items whose grading ran into one of the sandbox's limits (a verdict of kind
    hang or crash: the words of a student's own exception never count)."""
    found = {}
    for v in result.verdicts:
        for marker, reason in LIMIT_MARKERS:
            if not v.passed and v.kind in (verdicts.HANG, verdicts.CRASH) and marker in v.problem:
                found[v.id] = reason
                break
    return found


NOTHING_READ = "nothing could be graded: "


def unread(result):
    """Why nothing, or only part, of a submission could be graded ('' when all of it was read):
    every item failed with one same reason (a file that cannot be read or parsed, an empty file), or
    blocks of code skipped for a syntax error (their notes name the lines)."""
    whole = report.unreadable(result)
    if whole:
        return NOTHING_READ + whole
    skipped = [n for n in result.notes if "syntax error" in n and "skipped" in n]
    return "part of the code did not parse: " + "; ".join(skipped) if skipped else ""


# -- reading what grade-all produced -------------------------------------------------------------
def read_old_csv(path):
    """{student: {"status", "total", rubric id: points}} from an earlier grade-all CSV; UsageError if unusable."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            if "student" not in header or "total" not in header:
                raise UsageError("--compare %s: not a grade-all CSV (its first line must name the columns "
                                 "student, ..., total); pass the CSV an earlier grade-all wrote" % path)
            old = {}
            for row in reader:
                entry = {"status": row.get("status") or "graded", "total": _float(row.get("total"))}
                entry.update({i.id: _float(row.get(i.id)) for i in rubric.ITEMS if i.id in header})
                old[row["student"]] = entry
    except OSError as exc:
        raise UsageError("--compare %s: cannot read it (%s); pass the CSV of an earlier grade-all"
                         % (path, exc.strerror or exc)) from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise UsageError("--compare %s: not a readable CSV (%s)" % (path, exc)) from None
    return old


def prepare(args):
    """Check --html/--compare/--anonymous before any grading; the old CSV's rows, or None."""
    if (args.compare or args.anonymous) and not args.html:
        raise UsageError("--compare and --anonymous change the HTML report; add --html REPORT.html")
    return read_old_csv(args.compare) if args.compare else None


def _float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# -- the numbers -----------------------------------------------------------------------------------
def graded(rows):
    return [r for r in rows if r.get("status") == "graded" and r.get("points") is not None]


def item_counts(rows):
    """[(item, passed, graded)] in rubric order: passed means full points on that item."""
    done = graded(rows)
    return [(i, sum(1 for r in done if (r["points"].get(i.id) or 0) >= i.points), len(done))
            for i in rubric.ITEMS]


def misconceptions(rows):
    """[(hint, [students], [rubric ids it fired under])], most students first, then hints.py order."""
    order = list(_hints.HINTS)
    found = {}
    for r in graded(rows):
        for item_id, hint_id in sorted((r.get("hints") or {}).items()):
            if hint_id in _hints.HINTS:
                entry = found.setdefault(hint_id, ({}, set()))
                entry[0][r["student"]] = True
                entry[1].add(item_id)
    ranked = [(_hints.HINTS[h], sorted(s), sorted(items, key=list(rubric.BY_ID).index))
              for h, (s, items) in found.items()]
    return sorted(ranked, key=lambda m: (-len(m[1]), order.index(m[0].id)))


def unexplained(rows):
    """[(item, students who lost it with no hint)] in rubric order."""
    out = []
    for i in rubric.ITEMS:
        out.append((i, [r["student"] for r in graded(rows)
                        if (r["points"].get(i.id) or 0) < i.points
                        and (r.get("hints") or {}).get(i.id) not in _hints.HINTS]))
    return out


def histogram(rows):
    totals = [float(r["total"]) for r in graded(rows) if r.get("total") is not None]
    return [(lo, hi, sum(1 for t in totals if lo <= t < hi + 1)) for lo, hi in BINS], totals


def attention(rows):
    """[(student, what happened)]: grader errors and missing first, then limits hit."""
    out = [(r["student"], "%s: %s" % (r["status"], r.get("detail") or "no detail")) for r in rows
           if r.get("status") != "graded"]
    for r in rows:
        if r.get("status") == "graded" and r.get("detail") and not r.get("limits"):   # limits: listed below
            out.append((r["student"], r["detail"]))
    for r in graded(rows):
        if r.get("limits"):
            out.append((r["student"], "hit a limit: " + "; ".join(
                "%s (%s)" % (item_id, why) for item_id, why in sorted(r["limits"].items()))))
    return out


# -- rendering -------------------------------------------------------------------------------------
class Names:
    """A student's name, or with ``anonymous`` a stable "Student N" that reveals nothing."""

    def __init__(self, students, anonymous):
        self.anonymous = anonymous
        ranked = sorted(students, key=lambda s: hashlib.sha256(s.encode("utf-8", "replace")).hexdigest())
        self.alias = {s: "Student %d" % (k + 1) for k, s in enumerate(ranked)}

    def __call__(self, student):
        return text(self.alias[student] if self.anonymous else student)


def students(n):
    return "%d student%s" % (n, "" if n == 1 else "s")


def _pct(n, d):
    return "%d%%" % round(100.0 * n / d) if d else "n/a"


def _names_list(students, names, what="who: %d"):
    if not students:
        return ""
    return ('<details><summary>%s</summary><p>%s</p></details>'
            % (what % len(students), ", ".join(names(s) for s in students)))


def svg_histogram(hist):
    """The score distribution as an inline SVG bar chart that scales with the page."""
    w, h, top, bottom = 660, 220, 20, 40
    biggest = max([n for _, _, n in hist] + [1])
    step = (w - 20) / len(hist)
    parts = ['<svg viewBox="0 0 %d %d" width="100%%" role="img" '
             'aria-label="Number of students per score band">' % (w, h)]
    parts.append('<line x1="10" y1="%d" x2="%d" y2="%d" stroke="#8a94a6"/>' % (h - bottom, w - 10, h - bottom))
    for k, (lo, hi, n) in enumerate(hist):
        bar = (h - top - bottom) * n / biggest
        x = 10 + k * step
        label = "100" if lo == hi else "%d-%d" % (lo, hi)
        parts.append('<g data-bin="%s" data-count="%d"><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" '
                     'fill="%s"/><text x="%.1f" y="%.1f" font-size="13" text-anchor="middle">%d</text>'
                     '<text x="%.1f" y="%d" font-size="12" text-anchor="middle" fill="#4a5160">%s</text></g>'
                     % (label, n, x + 4, h - bottom - bar, step - 8, bar, "#1e8e3e" if lo >= 90 else "#3b6fc4",
                        x + step / 2, h - bottom - bar - 5, n, x + step / 2, h - bottom + 18, label))
    parts.append('<text x="%d" y="%d" font-size="12" text-anchor="middle" fill="#4a5160">score</text></svg>'
                 % (w // 2, h - 4))
    return "".join(parts)


def _bar(share, ok=False):
    return '<span class="bar%s" style="width:%.1fpx"></span>' % (" ok" if ok else "", 80 * share)


def render(rows, old=None, anonymous=False, title="What the class got wrong"):
    """The report page (a complete HTML document) for grade-all's rows."""
    names = Names([r["student"] for r in rows] + list(old or {}), anonymous)
    done = graded(rows)
    hist, totals = histogram(rows)
    body = ["<header><h1>%s</h1>" % text(title),
            '<p id="overview" data-students="%d" data-graded="%d">%s: %d graded, %d not graded '
            '(grader error or missing).%s</p></header>'
            % (len(rows), len(done), students(len(rows)), len(done), len(rows) - len(done),
               "" if not anonymous else " Names are hidden (--anonymous).")]
    stale = [r for r in done if "hints" not in r]
    if stale:
        body.append('<p class="card alert" id="stale">%d graded students come from an earlier run that kept no '
                    'likely causes, so their misconceptions are not counted below; rerun grade-all with '
                    '<code>--fresh</code> to count them.</p>' % len(stale))
    body += _attention(rows, names)
    body.append('<h2 id="distribution">Score distribution</h2>')
    if totals:
        body.append('<p>Mean %s, median %s, %d of %d with full marks.</p>'
                    % (report.num(round(statistics.mean(totals), 1)), report.num(statistics.median(totals)),
                       sum(1 for t in totals if t >= rubric.TOTAL), len(totals)))
        body.append('<div class="card">%s</div>' % svg_histogram(hist))
    else:
        body.append("<p>No submission was graded.</p>")
    body += _items(rows)
    body += _misconceptions(rows, names)
    if old is not None:
        body += _compare(rows, old, names)
    body += _students(rows, names)
    return page(title, "\n".join(body))


def _attention(rows, names):
    flagged = attention(rows)
    out = ['<h2 id="attention">Look at these first</h2>']
    if not flagged:
        return out + ['<p data-count="0">Every submission was graded within the limits; nothing to check by hand.</p>']
    out.append('<section class="card alert" data-count="%d"><p>%s: the grading failed, the '
               'submission is missing or could not be read or parsed, or the code ran into a limit of the grader. Grade them alone '
               '(<code>python -m autograder grade PATH</code>) before trusting these numbers.</p><ul>'
               % (len(flagged), students(len(flagged))))
    out += ['<li data-student="%s"><strong>%s</strong>: %s</li>'
            % (names(s), names(s), text(why.replace(s, names.alias[s]) if names.anonymous else why))
            for s, why in flagged]
    return out + ["</ul></section>"]


def _items(rows):
    out = ['<h2 id="items">Pass rate per rubric item</h2>', '<div class="scroll"><table>',
           '<tr><th>Rubric item</th><th>Section that teaches it</th><th class="n">Passed</th>'
           '<th>Pass rate</th></tr>']
    for item, passed, n in item_counts(rows):
        out.append('<tr data-item="%s" data-passed="%d" data-graded="%d"><td><span class="id">%s</span> '
                   '(%d pts)<br><span class="muted">%s</span></td><td>%s</td><td class="n">%d / %d</td>'
                   '<td>%s %s</td></tr>' % (text(item.id), passed, n, text(item.id), item.points, text(item.title),
                                            text(item.section), passed, n, _bar(passed / n if n else 0, True),
                                            _pct(passed, n)))
    return out + ["</table></div>"]


def _misconceptions(rows, names):
    n = len(graded(rows))
    found = misconceptions(rows)
    out = ['<h2 id="misconceptions">Misconceptions found, most common first</h2>',
           '<p class="muted">Each is a mistake the grader recognised and verified in the students\' own '
           'numbers; the sentence is what those students read as the likely cause.</p>']
    if not found:
        out.append("<p>No recognised misconception in this class.</p>")
    for hint, who, items in found:
        out.append('<section class="card failed" data-hint="%s" data-count="%d"><h3>%s (%s) '
                   '<span class="id">%s</span></h3><p><span class="label">They read:</span> Likely cause: %s.</p>'
                   '<p><span class="label">Re-teach:</span> %s <span class="muted">(lost under %s)</span></p>'
                   '%s</section>'
                   % (text(hint.id), len(who), students(len(who)), _pct(len(who), n), text(hint.id),
                      text(hint.text.rstrip(".")), text(hint.section),
                      ", ".join('<span class="id">%s</span>' % text(i) for i in items),
                      _names_list(who, names)))
    rest = [(i, s) for i, s in unexplained(rows) if s]
    if rest:
        out.append('<h3>Lost with no recognised cause</h3><div class="scroll"><table><tr><th>Rubric item</th>'
                   '<th class="n">Students</th><th>Section</th><th>Who</th></tr>')
        out += ['<tr data-unexplained="%s" data-count="%d"><td><span class="id">%s</span></td><td class="n">%d'
                '</td><td>%s</td><td>%s</td></tr>' % (text(i.id), len(s), text(i.id), len(s), text(i.section),
                                                      _names_list(s, names))
                for i, s in rest]
        out.append("</table></div>")
    return out


def _compare(rows, old, names):
    now = {r["student"]: r for r in graded(rows)}
    as_written = {inert(s): s for s in now}      # the old CSV holds names as grade-all wrote them (inert)
    old = {as_written.get(s, s): o for s, o in old.items()}
    before = {s: o for s, o in old.items() if o["status"] == "graded" and o["total"] is not None}
    both = sorted(set(now) & set(before))
    out = ['<h2 id="compare">Compared with the earlier grading</h2>']
    if not both:
        return out + ["<p>No student was graded in both runs.</p>"]
    delta = {s: float(now[s]["total"]) - before[s]["total"] for s in both}
    up = [s for s in both if delta[s] > 0]
    down = [s for s in both if delta[s] < 0]
    out.append('<p data-both="%d" data-improved="%d" data-declined="%d">%s graded both times: mean '
               '%s then %s; %d improved, %d declined, %d unchanged.</p>'
               % (len(both), len(up), len(down), students(len(both)),
                  report.num(round(statistics.mean(before[s]["total"] for s in both), 1)),
                  report.num(round(statistics.mean(float(now[s]["total"]) for s in both), 1)),
                  len(up), len(down), len(both) - len(up) - len(down)))
    out.append('<div class="scroll"><table><tr><th>Rubric item</th><th class="n">Passed before</th>'
               '<th class="n">Passed now</th></tr>')
    for i in rubric.ITEMS:
        was = sum(1 for s in both if (before[s].get(i.id) or 0) >= i.points)
        is_ = sum(1 for s in both if (now[s]["points"].get(i.id) or 0) >= i.points)
        out.append('<tr data-item="%s" data-before="%d" data-now="%d"><td><span class="id">%s</span></td>'
                   '<td class="n">%d / %d</td><td class="n">%d / %d</td></tr>'
                   % (text(i.id), was, is_, text(i.id), was, len(both), is_, len(both)))
    out.append("</table></div>")
    out.append(_names_list(up, names, "improved: %d"))
    out.append(_names_list(down, names, "declined: %d"))
    out.append(_names_list(sorted(set(now) - set(before)), names, "graded only now: %d"))
    out.append(_names_list(sorted(set(before) - set(now)), names, "graded only before: %d"))
    return out


def _students(rows, names):
    out = ['<h2 id="students">Every student</h2>', '<details><summary>%s, lowest score first'
           '</summary><div class="scroll"><table><tr><th>Student</th><th class="n">Score</th><th>Lost</th>'
           '<th>Likely causes</th></tr>' % students(len(rows))]
    key = lambda r: (r.get("status") == "graded", float(r.get("total") or 0), names(r["student"]))  # noqa: E731
    for r in sorted(rows, key=key):
        if r.get("status") != "graded":
            out.append('<tr data-student="%s"><td>%s</td><td class="n">-</td><td colspan="2">%s</td></tr>'
                       % (names(r["student"]), names(r["student"]), text(r.get("status"))))
            continue
        lost = [i.id for i in rubric.ITEMS if (r["points"].get(i.id) or 0) < i.points]
        out.append('<tr data-student="%s"><td>%s</td><td class="n">%s</td><td>%s</td><td>%s</td></tr>'
                   % (names(r["student"]), names(r["student"]), report.num(r.get("total")),
                      text(", ".join(lost)), text(", ".join(sorted(set((r.get("hints") or {}).values()))))))
    return out + ["</table></div></details>"]


def write(rows, path, old=None, anonymous=False):
    """Write the report atomically, never through a planted link (``sandbox/safefs.py``, as every other
    page the grader writes); returns ``path``."""
    try:
        safefs.write_bytes(path, render(rows, old, anonymous).encode("utf-8"))
    except OSError as exc:
        raise UsageError("cannot write the report %s: %s; the CSV is complete"
                         % (path, exc.strerror or exc)) from None
    return path
