"""The mutation report, as text for a person and JSON for tools.

Design: both are made from the plain dict ``runner.run`` returns, so they cannot disagree. The text
puts what needs action first -- survivors (with their diffs and a ready-to-review entry for the
equivalents file), cross-item costs, killed "equivalents", grader errors -- then the figures per
operator and per function. The JSON holds every mutant with its status, the items it lost and,
for those needing attention, its diff.
"""

import json

from . import runner

RULE = "-" * 78


def as_json(result):
    data = dict(result)
    data["figures"] = runner.figures(result)
    data["by_operator"] = _table(result, "operator")
    data["by_function"] = _table(result, "function")
    data["failures"] = [{"kind": kind, "id": o["id"] if isinstance(o, dict) else o}
                        for kind, o in runner.failures(result)]
    return data


def write(result, prefix):
    """Write PREFIX.json and PREFIX.txt; return the two paths."""
    paths = (prefix + ".json", prefix + ".txt")
    with open(paths[0], "w", encoding="utf-8") as f:
        json.dump(as_json(result), f, indent=1, sort_keys=True)
        f.write("\n")
    with open(paths[1], "w", encoding="utf-8") as f:
        f.write(text(result))
    return paths


def _table(result, key):
    table = {}
    for o in result["outcomes"]:
        row = table.setdefault(o[key], {"mutants": 0, "killed": 0, "equivalent": 0, "survived": 0,
                                        "error": 0, "cross_item": 0})
        row["mutants"] += 1
        row[o["status"]] += 1
        row["cross_item"] += bool(o["cross"])
    return table


def _indent(block, pad="    "):
    return "\n".join(pad + line for line in block.splitlines())


def _entry(o):
    return '[[equivalent]]\nid = %s\nreason = "TODO: why is this mutant a correct program?"' \
        % json.dumps(o["id"])


def text(result):
    f = runner.figures(result)
    kind = "CI sample" if result["sample"] else "full run"
    lines = ["Mutation report (%s): %d mutants of %s, graded in %.1f s (%d gradings, %.2f s each "
             "per worker-slot)" % (kind, f["mutants"], " and ".join(result["bases"]), result["seconds"],
                                   result["graded"], result["seconds"] / max(1, result["graded"])),
             "Mutation score: %.1f%% (%d killed of %d that are not known equivalents)"
             % (100 * f["score"], f["killed"], f["mutants"] - f["equivalent"]),
             "killed %d, equivalent %d, survived %d, errors %d, cross-item costs %d, listed equivalents "
             "killed %d" % (f["killed"], f["equivalent"], f["survived"], f["error"], f["cross_item"],
                            f["equivalents_killed"]), ""]
    for name, score in result["bad_bases"].items():
        lines += ["BASE NOT CORRECT: %s (%s) scores %s, not 100, so its mutants were not judged. Fix the "
                  "base, or the check that fails it." % (name, result["bases"][name]["path"], score), ""]
    outs = result["outcomes"]
    survivors = [o for o in outs if o["status"] == "survived"]
    if survivors:
        lines += [RULE, "SURVIVORS (%d): full marks for a changed program. Either a check should catch it "
                  "(name the rubric item and close the escape), or it is a correct program: then add "
                  "the entry shown, with its reason, to %s." % (len(survivors), result["equivalents_file"])]
        for o in survivors:
            lines += ["", "  %s" % o["id"], _indent(o["diff"]), _indent(_entry(o))]
        lines.append("")
    cross = [o for o in outs if o["cross"]]
    if cross:
        lines += [RULE, "CROSS-ITEM COSTS (%d): a mutant of one function lost points under another "
                  "function's item, which the contract forbids." % len(cross)]
        for o in cross:
            lines += ["", "  %s (a mutant of %s)" % (o["id"], o["function"]), _indent(o["diff"])]
            lines += ["    lost %s: %s" % (i, o["problems"].get(i, "")) for i in o["cross"]]
        lines.append("")
    wrong = [o for o in outs if o["status"] == "killed" and o["equivalent_reason"]]
    if wrong:
        lines += [RULE, "LISTED AS EQUIVALENT BUT KILLED (%d): the entry is wrong, or the grader now "
                  "rejects a correct program." % len(wrong)]
        for o in wrong:
            lines += ["", "  %s" % o["id"], "    listed because: %s" % o["equivalent_reason"],
                      "    lost " + "; ".join("%s: %s" % (i, o["problems"].get(i, "")) for i in o["lost"])]
        lines.append("")
    errors = [o for o in outs if o["status"] == "error"]
    if errors:
        lines += [RULE, "GRADER ERRORS (%d): the grader could not grade these mutants." % len(errors)]
        lines += ["  %s: %s" % (o["id"], o.get("detail", "")) for o in errors] + [""]
    if result["stale_equivalents"]:
        lines += [RULE, "STALE ENTRIES in %s (no operator makes these mutants any more; remove them):"
                  % result["equivalents_file"]] + ["  " + i for i in result["stale_equivalents"]] + [""]
    lines += [RULE, "%-12s %8s %7s %10s %9s %6s %6s" % ("", "mutants", "killed", "equivalent", "survived",
                                                        "errors", "cross")]
    for key in ("operator", "function"):
        for name, row in sorted(_table(result, key).items()):
            lines.append("%-12s %8d %7d %10d %9d %6d %6d" % (name[:12], row["mutants"], row["killed"],
                                                             row["equivalent"], row["survived"], row["error"],
                                                             row["cross_item"]))
        lines.append("")
    verdict = runner.failures(result)
    lines.append("RESULT: %s" % ("PASS: every mutant is killed or a reviewed equivalent, and none costs "
                                 "points under another function's item" if not verdict else
                                 "FAIL: %d finding(s) above need action" % len(verdict)))
    return "\n".join(lines) + "\n"
