"""The student's own feedback as one self-contained HTML page, rendered from an ``engine.Result``.

Design
------
* Same facts as every other rendering. The page is a function of the Result alone and shows,
  for each rubric item, exactly the parts that ``report.item_output`` prints: the problem, the
  likely cause (a hint that the check verified), the reproducible failing case, the code that
  rebuilds it, and the notebook section to read. Nothing is added that the grader did not find.
* The student's words. The submission is shown by its file name only (never the server's folders),
  and every sentence is the terminal report's, the reproduce instruction in full.
* Self-contained. One file: inline CSS, no script, no font, image or link to fetch, so it opens
  offline, inside Coursera's ``htmlFeedback.html``, or as a mail attachment. A Content-Security-
  Policy meta tag forbids scripts and remote loads, as a second wall behind the escaping.
* Escaped. Every string that reaches the page goes through ``text()``: ``report.safe`` first
  (control characters and bidirectional overrides made visible), then ``html.escape`` (``<``,
  ``>``, ``&`` and both quotes), so an exception text such as ``<script>`` is shown, never run.
* Readable on a phone: a viewport meta tag, a fluid single column (max-width, no fixed widths),
  long tokens that wrap, and code blocks that scroll sideways inside their own box.

``student_page(result)`` is the entry point; ``python -m autograder grade SUB --html PATH``
writes it, and platform adapters (Coursera) call it directly.
"""

import html as _html
import os

from .. import rubric
from ..sandbox import safefs
from . import report

# Shared by the class report (platforms/class_report.py), so both pages look alike.
CSS = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;
     background:#f5f6f8}
main{max-width:52rem;margin:0 auto;padding:1rem}
h1{font-size:1.45rem;margin:.4rem 0}
h2{font-size:1.15rem;margin:1.6rem 0 .6rem}
h3{font-size:1rem;margin:0;overflow-wrap:anywhere}
p,li,dd,td,th{overflow-wrap:anywhere}
.score{font-size:2rem;font-weight:700}
.card{background:#fff;border:1px solid #d8dce3;border-left:.4rem solid #8a94a6;border-radius:.4rem;
      padding:.75rem 1rem;margin:.75rem 0}
.card.passed{border-left-color:#137333}
.card.failed{border-left-color:#c5221f}
.card.alert{border-left-color:#e37400;background:#fff8ec}
.mark{font-weight:700;margin-right:.35rem}
.passed .mark{color:#137333}
.failed .mark{color:#c5221f}
.pts{float:right;font-weight:600;margin-left:.5rem}
.id{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;color:#4a5160}
.label{font-weight:600}
pre{background:#f0f2f5;border-radius:.3rem;padding:.6rem;overflow-x:auto;white-space:pre;
    font:13px/1.45 ui-monospace,Menlo,Consolas,monospace}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #e3e6eb;padding:.35rem .45rem;text-align:left;vertical-align:top}
th{background:#eef0f4;font-weight:600}
td.n,th.n{text-align:right;white-space:nowrap}
.scroll{overflow-x:auto}
details{margin:.4rem 0}
summary{cursor:pointer;color:#1a56b0}
.muted{color:#5f6675;font-size:.92rem}
.bar{display:inline-block;height:.7rem;background:#c5221f;border-radius:.2rem;vertical-align:middle}
.bar.ok{background:#137333}
@media (max-width:30rem){main{padding:.6rem}.score{font-size:1.6rem}.pts{float:none;display:block}}
"""

# No script may run and nothing may be fetched: the page needs neither.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def text(value):
    """Any value, made safe for HTML text or a quoted attribute."""
    return _html.escape(report.safe("" if value is None else value), quote=True)


def page(title, body):
    """A complete HTML document around ``body`` (already escaped markup)."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">\n"
            "<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n%s\n</main>\n</body>\n</html>\n"
            % (CSP, text(title), CSS, body))


def item_card(v):
    """One rubric item: its mark, points, title and, if it failed, what to do about it."""
    state = "passed" if v.passed else "failed"
    out = ['<section class="card %s" id="item-%s" data-item="%s">' % (state, text(v.id), text(v.id)),
           '<h3><span class="mark">%s</span><span class="id">%s</span>'
           '<span class="pts">%s / %d</span></h3>'
           % ("PASS" if v.passed else "FAIL", text(v.id), report.num(v.points), v.max_points),
           "<p>%s</p>" % text(v.title)]
    if v.passed:
        out.append("</section>")
        return "\n".join(out)
    out.append('<p class="problem"><span class="label">What was wrong:</span> %s</p>'
               % text(report.safe(v.problem).rstrip(".") + "."))
    cause = report.hint_text(v)
    if cause:
        out.append('<p class="cause" data-hint="%s"><span class="label">Likely cause:</span> %s.</p>'
                   % (text(v.hint), text(cause.rstrip("."))))
    if v.expected is not None and v.actual is not None:
        out.append('<p class="values"><span class="label">You returned:</span> <code>%s</code>; '
                   '<span class="label">expected:</span> <code>%s</code></p>' % (text(v.actual), text(v.expected)))
    if v.case:
        out.append('<p class="case"><span class="label">%s:</span> %s.</p>'
                   % (text(v.case_label), text(report.safe(v.case_text).rstrip("."))))
    if v.inputs:
        out.append('<p class="label">%s</p>\n<pre class="inputs">%s</pre>'
                   % (text(report.REPRODUCE), text(report.safe(v.inputs).rstrip())))
    if v.section:
        out.append('<p class="read"><span class="label">Read:</span> %s of the notebook.</p>' % text(v.section))
    out.append("</section>")
    return "\n".join(out)


def file_name(path):
    """The submission's file name only: the page goes to the student, and the server's folders are not theirs."""
    return os.path.basename(os.path.normpath(str(path))) or str(path)


def student_page(result):
    """The student's feedback page for one graded submission (a complete, self-contained HTML document)."""
    failed = [v for v in result.verdicts if not v.passed]
    body = ['<header id="summary">',
            "<h1>Autograder feedback</h1>",
            '<p class="muted">Submission: <code>%s</code></p>' % text(file_name(result.submission)),
            '<p><span class="score" id="score">%s / %d</span></p>' % (report.num(result.score), rubric.TOTAL)]
    if result.error:
        body.append('<section class="card alert" id="grader-error"><p><span class="label">The grader itself '
                    'failed</span>, so this is not your grade; show this message to your instructor: %s</p></section>'
                    % text(result.error))
    elif not failed:
        body.append("<p>Every rubric item passed.</p>")
    else:
        body.append("<p>%d of %d rubric items need work. Each one below says what was wrong and, where the "
                    "grader has them, the case that shows it and the section of the notebook to read.</p>"
                    % (len(failed), len(result.verdicts)))
    body.append("</header>")
    body.append('<h2 id="items">Rubric items</h2>')
    body.extend(item_card(v) for v in result.verdicts)
    if result.notes:
        body.append('<h2 id="notes">Notes (these cost no points)</h2>\n<ul>')
        body.extend("<li>%s</li>" % text(n) for n in result.notes[:10])
        if len(result.notes) > 10:
            body.append("<li>... and %d more</li>" % (len(result.notes) - 10))
        body.append("</ul>")
    return page("Feedback: %s / %d" % (report.num(result.score), rubric.TOTAL), "\n".join(body))


def write(result, path):
    """Write ``student_page(result)`` to ``path`` atomically (UTF-8), never through a link a student
    planted (``sandbox/safefs.py``, as results.json)."""
    safefs.write_bytes(path, student_page(result).encode("utf-8"))
    return path
