"""Reports: the terminal text a student reads, and Gradescope-format results.json.

Both are built from the same ``engine.Result``, so they always agree. The output
of a failed item says what was seen, the smallest case that shows it, and which
section of the notebook explains the idea. The hidden tests' source never appears.
"""

import json
import os
import tempfile

from . import rubric

VISIBILITY = "visible"


def item_output(v):
    """What the student reads for one rubric item."""
    if v.passed:
        return "Passed."
    lines = [v.problem.rstrip(".") + "."]
    if v.case:
        lines.append("%s: %s." % (v.case_label, v.case))
    if v.section:
        lines.append("Read: " + v.section + " of the notebook.")
    return "\n".join(lines)


def text(result, color=False):
    """A readable report for the terminal."""
    ok, bad = ("\033[32m", "\033[31m") if color else ("", "")
    end = "\033[0m" if color else ""
    out = ["Grading %s" % result.submission, ""]
    for v in result.verdicts:
        mark = (ok + "PASS" + end) if v.passed else (bad + "FAIL" + end)
        out.append("%s  %-20s %5s/%-3d %s" % (mark, v.id, _num(v.points), v.max_points, v.title))
        if not v.passed:
            for line in item_output(v).splitlines():
                out.append("      " + line)
    if result.notes:
        out.append("")
        out.append("Notes (these cost no points):")
        out.extend("  - " + n for n in result.notes[:10])
    out.append("")
    out.append("Score: %s/%d" % (_num(result.score), rubric.TOTAL))
    if result.error:
        out.append("The grader itself failed: " + result.error)
    return "\n".join(out) + "\n"


VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")   # Gradescope's values


def results_json(result, visibility=None):
    """The Gradescope results.json dict (CONTRACT section 3).

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
              "visibility": shown(v.id), "tags": [v.id]} for v in result.verdicts]
    data = {"score": result.score, "execution_time": round(result.seconds, 3), "tests": tests}
    notes = list(result.notes)
    if result.error:
        notes.insert(0, "The grader itself failed: " + result.error)
    if notes:
        data["output"] = "\n".join(notes)
    return data


def write_json(data, path):
    """Write atomically: a reader never sees half a file."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".results-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def _num(x):
    return ("%d" % x) if float(x).is_integer() else ("%.1f" % x)
