"""The one output layer: every rendering of a grading comes from the same ``engine.Result``.

Like check50's renderers, each output format is a function of the Result and nothing else, so
they always agree: the terminal ``text``, Gradescope's ``results_json``, the ``markdown`` of a CI
summary, the ``csv_row`` of a class, and ``item_output``, the block a student reads for one
rubric item (used by every platform: nbgrader grade cells, PrairieLearn, Coursera, Classroom 50).
There is one number formatter (``num``), one fallback (``fallback``: the Result of a grading
that could not happen), one exit status (``exit_status``) and one writer (``write_json``).

Everything a student controls (exception texts, printed output, file names) is passed through
``safe`` before it is shown: control characters, ANSI escapes, carriage returns and lone
surrogates are written as visible escapes, so a submission cannot draw a fake "PASS" line.
"""

import json
import re

from .. import rubric, verdicts
from ..sandbox import safefs
from . import hints
from .engine import Result, Verdict

VISIBILITY = "visible"
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")   # Gradescope's values
EXIT_FULL, EXIT_LOST, EXIT_ERROR = 0, 1, 2    # docs/contract.md section 3

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def safe(text):
    """``text`` with every control character, escape, carriage return and lone surrogate made visible.

    Newlines and tabs stay. Bidirectional overrides are escaped too (they can reorder what a reader sees).
    """
    return _UNSAFE.sub(lambda m: "\\x%02x" % ord(m.group()) if ord(m.group()) < 0x100
                       else "\\u%04x" % ord(m.group()), str(text))


def num(x):
    """Points as people write them: 20, 7.5 (never 20.0); '' for a missing value."""
    if x is None or x == "":
        return ""
    x = float(x)
    return ("%d" % x) if x.is_integer() else ("%.1f" % x)


def whole(x):
    """Points as an integer, for schemas that want integers (Classroom 50); every rubric item is worth whole
    points, so nothing is lost. The one other points formatter besides ``num``."""
    return int(round(float(x)))


def hint_text(v):
    """The likely-cause sentence of a verdict, or ''."""
    if not v.hint:
        return ""
    return hints.get(v.hint).text


# How to use a failure's rebuild code; every rendering (terminal, results.json, HTML) says it in full.
REPRODUCE = "To reproduce it, run this after your functions (it rebuilds the grader's inputs exactly):"


def item_output(v):
    """What the student reads for one rubric item: problem, likely cause, case, inputs, where to read."""
    if v.passed:
        return "Passed."
    lines = [safe(v.problem).rstrip(".") + "."]
    cause = hint_text(v)
    if cause:
        lines.append("Likely cause: %s." % cause.rstrip("."))
    if v.case:
        lines.append("%s: %s." % (v.case_label, safe(v.case_text).rstrip(".")))
    if v.inputs:
        lines.append(REPRODUCE + "\n" + safe(v.inputs).rstrip())
    if v.section:
        lines.append("Read: " + v.section + " of the notebook.")
    return "\n".join(lines)


def text(result, color=False):
    """A readable report for the terminal."""
    ok, bad = ("\033[32m", "\033[31m") if color else ("", "")
    end = "\033[0m" if color else ""
    out = ["Grading %s" % safe(result.submission), ""]
    for v in result.verdicts:
        mark = (ok + "PASS" + end) if v.passed else (bad + "FAIL" + end)
        out.append("%s  %-20s %5s/%-3d %s" % (mark, v.id, num(v.points), v.max_points, v.title))
        if not v.passed:
            out.extend("      " + line for line in item_output(v).splitlines())
    if result.notes:
        out += ["", "Notes (these cost no points):"]
        out.extend("  - " + safe(n) for n in result.notes[:10])
    out += ["", "Score: %s/%d" % (num(result.score), rubric.TOTAL)]
    if result.error:
        out.append("The grader itself failed: " + safe(result.error))
    return "\n".join(out) + "\n"


def results_json(result, visibility=None):
    """The Gradescope results.json dict (docs/contract.md section 3).

    ``visibility`` (optional) sets each test's Gradescope visibility: one value for every
    test, or a dict {rubric id: value} where unlisted ids stay "visible". Values: VISIBILITIES.
    """
    def shown(item_id):
        chosen = visibility.get(item_id, VISIBILITY) if isinstance(visibility, dict) else visibility
        chosen = chosen or VISIBILITY
        if chosen not in VISIBILITIES:
            raise ValueError("report.results_json: visibility %r for %s is not one of %s"
                             % (chosen, item_id, ", ".join(VISIBILITIES)))
        return chosen

    tests = [{"name": "%s: %s" % (v.id, v.title), "score": v.points, "max_score": v.max_points,
              "status": "passed" if v.passed else "failed", "output": item_output(v),
              "output_format": "text", "visibility": shown(v.id), "tags": [v.id]} for v in result.verdicts]
    for test, v in zip(tests, result.verdicts):
        if not v.passed:
            test["extra_data"] = failure_data(v)
    data = {"score": result.score, "execution_time": round(result.seconds, 3), "output_format": "text",
            "tests": tests}
    notes = [safe(n) for n in result.notes]
    if result.error:
        notes.insert(0, "The grader itself failed: " + safe(result.error))
    if notes:
        data["output"] = "\n".join(notes)
    return data


def failure_data(v):
    """The structured parts of a failed verdict, as JSON data (results.json's per-test ``extra_data``).

    ``kind`` (verdicts.KINDS), ``case`` (sizes and seeds), ``expected`` and ``actual`` (values: shapes,
    dtypes, the entry where arrays differ, how many entries differ and by how much), ``rel`` and
    ``tolerance``, ``hint`` and ``label``. Strings a student controls are passed through ``safe``.
    """
    out = verdicts.record(v)
    out["label"] = v.case_label if v.case else None
    return _safe_data(out)


def _safe_data(value):
    if isinstance(value, str):
        return safe(value)
    if isinstance(value, dict):
        return {safe(k): _safe_data(x) for k, x in value.items()}
    if isinstance(value, (list, tuple)):
        return [_safe_data(x) for x in value]
    return value


def markdown(result):
    """A Markdown report (CI step summaries): the score, a table of rubric items, then what to fix."""
    out = ["## Autograder: %s / %d" % (num(result.score), rubric.TOTAL), ""]
    if result.error:
        out += ["> **The grader itself failed**, so this is not your grade: %s" % code_span(result.error), ""]
    out += ["| | Rubric item | Points |", "|---|---|---|"]
    for v in result.verdicts:
        out.append("| %s | `%s` %s | %s / %d |" % ("\u2705" if v.passed else "\u274c", v.id, _cell(v.title),
                                                  num(v.points), v.max_points))
    failed = [v for v in result.verdicts if not v.passed]
    if failed:
        out += ["", "### What to fix", ""]
        for v in failed:
            out += ["**`%s`**" % v.id, "", fenced(item_output(v)), ""]
    if result.notes:
        out += ["", "### Notes (these cost no points)", ""]
        out += ["- " + code_span(n) for n in result.notes[:10]]
    return "\n".join(out).rstrip() + "\n"


def _fence_for(text, least):
    """A run of backticks longer than any in ``text`` (and at least ``least``): nothing inside can close it."""
    return "`" * max([least] + [len(run) + 1 for run in re.findall("`+", text)])


def code_span(value):
    """Student text as one inline Markdown code span: shown literally (no link, image or HTML), on one line."""
    text = safe(value).replace("\n", " ")
    tick = _fence_for(text, 1)
    return "%s %s %s" % (tick, text, tick)


def fenced(value):
    """Student text as a fenced Markdown code block whose fence no line of the text can close."""
    text = safe(value).rstrip("\n")
    fence = _fence_for(text, 3)
    return "%stext\n%s\n%s" % (fence, text, fence)


def _cell(value):
    return safe(value).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


CSV_HEADER = ["student"] + [item.id for item in rubric.ITEMS] + ["total", "status", "detail"]


def csv_row(student, points, total, status, detail=""):
    """One row of a class CSV: points per rubric id (a dict), the total, a status and a detail."""
    return ([student] + [num(points.get(item.id)) for item in rubric.ITEMS]
            + [num(total), status, safe(detail or "").replace("\n", " ")])


def lost_detail(result):
    """The class CSV's ``detail`` of a graded submission: each lost item with the kind of its failure
    (``verdicts.KINDS``), e.g. "forward.values: value; backward.gradients: hang"; '' at full marks."""
    return "; ".join("%s: %s" % (v.id, v.kind) for v in result.verdicts if not v.passed and v.kind)


def fallback(submission, detail):
    """The Result of a grading that could not happen (the grader failed): every item 0, ``error`` set."""
    why = ("not graded: the grader itself failed (%s); this is not your grade, so show this message to "
           "your instructor" % detail)
    verdicts = [Verdict(i.id, 0, i.points, i.title, why, section="") for i in rubric.ITEMS]
    return Result(submission, verdicts, error=detail)


def exit_status(result):
    """docs/contract.md section 3: 0 full marks, 1 points lost (the report was written), 2 the grader failed."""
    if result.error:
        return EXIT_ERROR
    return EXIT_FULL if result.score == rubric.TOTAL else EXIT_LOST


def write_json(data, path, clear=False):
    """Write atomically (a reader never sees half a file), never through a link a student planted
    (``sandbox/safefs.py``: the path is walked with O_NOFOLLOW; only root's or the grader's links count).
    ``clear``: the path is in a folder a student controls; a folder planted there is removed first."""
    safefs.write_bytes(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"), clear=clear)


def unreadable(result):
    """Why nothing of a submission could be graded ('' when something could): the file could not be read
    or parsed, or was empty (every item failed with that one reason), or it defines none of the functions."""
    if not result.verdicts or any(v.passed for v in result.verdicts) or result.error:
        return ""
    problems = {v.problem for v in result.verdicts}
    if len(problems) == 1:
        return problems.pop()
    functions = list(dict.fromkeys(i.function for i in rubric.ITEMS))
    if all(any(p.startswith("%s is not defined in your submission" % f) for f in functions) for p in problems):
        return "it defines none of %s" % ", ".join(functions)
    return ""
