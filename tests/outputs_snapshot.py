"""Golden outputs: every file and report the grader produces for the whole corpus, kept as a snapshot.

    python tests/outputs_snapshot.py            grade the corpus, compare with the snapshot, exit 1 on a change
    python tests/outputs_snapshot.py --update   grade the corpus and write the snapshot (only for an intended change)

Design
------
A refactor must not change what anyone reads. This tool grades every corpus submission (tests/corpus/: valid,
wrong, hostile, notebooks) once, and renders from that one grading every output of one submission:

* ``text``: the report ``python -m autograder grade`` prints (no terminal, so no colour);
* ``results.json``: what ``grade --results`` writes (grade-all's ``--results-dir`` file must be the same bytes);
* ``feedback.html``: the student's page, ``grade --html``;
* each platform adapter's files, made by the adapter's own ``run`` in its own layout (the way
  tests/test_platforms_outputs.py drives them: ``engine.grade`` stands in with the Result already graded):
  Gradescope's and PrairieLearn's results.json, Coursera's feedback.json and htmlFeedback.html, Classroom 50's
  result.json and release-body.md, GitHub's results.json, step summary and outputs file.

The whole corpus is also graded as one class by ``batch.grade_all`` (two warm workers): its CSV, the class
report (``grade-all --html``) and the summary grade-all prints (what the class lost most) are kept too. Each
grade-all worker grades with the real ``batch_pool.grade_row`` on a warm-pool launcher of its own and renders
the outputs above from the Result that grading produced (``snapshot_row``), so the corpus is graded once.
Not kept: grade-all's PNG figure, the nbgrader adapter's gradebook and feedback (they need a course), and what
the adapters print to their logs (GitHub's holds a random stop-commands token).

The snapshot (tests/snapshots/corpus_outputs.json) keeps, per submission, the sha256 of each output's bytes
after ``normalise``, and, in clear, the score, the CSV row and the text report's lines, so that a failure can
show which lines changed. Outputs in JSON may gain fields: a JSON output whose bytes differ still matches when,
after every key path not in the snapshot's recorded key paths of that format (``json_keys``, the union over the
corpus) is dropped, it is written again as the grader writes JSON (indent 2) and hashes to the recorded sha256.
So an added field passes; a changed, removed or reordered one fails. The CSV may gain columns the same way
(its rows are compared on the recorded columns). Everything else must be byte-identical.
"""

import argparse
import contextlib
import csv
import difflib
import hashlib
import io
import json
import multiprocessing.util
import os
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from autograder.grading import engine, html, report  # noqa: E402
from autograder.sandbox.pool import Launcher  # noqa: E402
from autograder.sandbox.uids import uid_range  # noqa: E402
from autograder.platforms import (batch, batch_pool, class_report, classroom50, coursera, github,  # noqa: E402
                                  gradescope, prairielearn)
from autograder.platforms.batch_summary import summary_text  # noqa: E402

CORPUS = os.path.join(HERE, "corpus")
KINDS = ("valid", "wrong", "hostile", "notebooks")
SNAPSHOT = os.path.join(HERE, "snapshots", "corpus_outputs.json")
JOBS = 2
# Classroom 50 requires these variables (its runner sets them); fixed values, so its result.json is comparable.
CLASSROOM_ENV = {"CLASSROOM": "class", "ASSIGNMENT": "random-init", "SUBMISSION_TAG": "tag",
                 "COMMIT_URL": "https://example.invalid/commit", "RELEASE_URL": "https://example.invalid/release"}

# format -> the file, relative to the submission's output folder, that holds it
FORMATS = ("text", "results.json", "feedback.html", "gradescope/results.json", "prairielearn/results.json",
           "coursera/feedback.json", "coursera/htmlFeedback.html", "classroom50/result.json",
           "classroom50/release-body.md", "github/results.json", "github/summary.md", "github/output.txt")
CLASS_FORMATS = ("grades.csv", "class_report.html", "summary.txt")
SHOWN = 8       # submissions whose differences a failure shows in full; the others get one line each


def corpus_files(names=None):
    """{'kind/name': absolute path} of every corpus submission (or only of ``names``), sorted."""
    found = {}
    for kind in KINDS:
        for name in sorted(os.listdir(os.path.join(CORPUS, kind))):
            if name.endswith((".py", ".ipynb")):
                found["%s/%s" % (kind, name)] = os.path.join(CORPUS, kind, name)
    if names is not None:
        missing = sorted(set(names) - set(found))
        if missing:
            raise SystemExit("outputs_snapshot: no corpus submission %s" % ", ".join(missing))
        found = {k: v for k, v in found.items() if k in names}
    return found


# -- what legitimately varies run to run -----------------------------------------------------------------
_EXECUTION_TIME = re.compile(rb'"execution_time": [0-9.e+-]+')
_DATETIME = re.compile(rb'"datetime": "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"')
_WHOLE_NUMBER = re.compile(rb"(?<![0-9.])[0-9]{4,10}(?![0-9.])")


def normalise(data, folder):
    """The bytes of one output with what legitimately varies between runs replaced by a fixed word.

    Each replacement was found by grading the corpus twice and diffing, and only these vary:
    * the folder the submission was graded in (a temporary class folder, or tests/corpus/<kind>):
      "Grading /tmp/xyz/class/np_dot.py" -> "Grading <folder>/np_dot.py";
    * results.json's ``execution_time`` (seconds the grading took) -> 0;
    * Classroom 50's ``datetime`` (when result.json was written) -> "<datetime>";
    * a private uid (a number in ``uids.uid_range()``; each grading gets whichever uid is free) that student code
      put into a message (hostile/reports_its_uid.py) -> "<private uid>".
    """
    data = data.replace(os.fsencode(folder.rstrip(os.sep) + os.sep), b"<folder>/")
    first, last = uid_range()
    data = _WHOLE_NUMBER.sub(lambda m: b"<private uid>" if first <= int(m.group()) <= last else m.group(), data)
    data = _EXECUTION_TIME.sub(b'"execution_time": 0', data)
    return _DATETIME.sub(b'"datetime": "<datetime>"', data)


# -- rendering one Result ----------------------------------------------------------------------------------
class _Sink:
    def write(self, text):
        pass


@contextlib.contextmanager
def _graded_as(result):
    """``engine.grade`` returns ``result`` inside the block: the adapters render the grading already done."""
    real = engine.grade
    engine.grade = lambda path, *args, **kwargs: result
    try:
        yield
    finally:
        engine.grade = real


def render(result, out):
    """Write every per-submission output of ``result`` under folder ``out``, each adapter through its own
    ``run`` in the layout its platform uses; returns {format: path}."""
    paths = {f: os.path.join(out, f) for f in FORMATS}
    for name in ("gradescope/results", "prairielearn/results", "coursera", "classroom50", "github"):
        os.makedirs(os.path.join(out, name), exist_ok=True)
    with open(paths["text"], "wb") as f:
        f.write(report.text(result, color=False).encode("utf-8"))
    report.write_json(report.results_json(result), paths["results.json"])
    html.write(result, paths["feedback.html"])
    with _graded_as(result):
        gradescope.run_in_gradescope(os.path.join(out, "gradescope"), stdout=_Sink())
        prairielearn.run(os.path.join(out, "prairielearn"), stdout=_Sink())
        coursera.run(os.path.join(out, "coursera"), env={"partId": "part"}, stderr=_Sink())
        classroom50.run(os.path.join(out, "classroom50"), env=CLASSROOM_ENV, stdout=_Sink())
        github.run(result.submission, paths["github/results.json"], paths["github/summary.md"],
                   paths["github/output.txt"], stdout=_Sink())
    for name in ("gradescope", "prairielearn"):
        os.replace(os.path.join(out, name, "results", "results.json"), paths[name + "/results.json"])
    return paths


def read_outputs(paths, folder):
    """{format: normalised bytes} of the files ``render`` wrote."""
    found = {}
    for fmt, path in paths.items():
        with open(path, "rb") as f:
            found[fmt] = normalise(f.read(), folder)
    return found


# -- grading the corpus as a class ---------------------------------------------------------------------
_LAUNCHER = []      # this grade-all worker's warm-pool launcher, made on its first submission


def _launcher():
    if not _LAUNCHER:
        _LAUNCHER.append(Launcher())
        multiprocessing.util.Finalize(None, _LAUNCHER[0].close, exitpriority=10)
    return _LAUNCHER[0]


def snapshot_row(path):
    """grade-all's grading function here: the real ``grade_row`` on this worker's warm launcher, and every
    output of the same Result rendered into <class>/../outputs/<file name>/."""
    seen = []
    real = engine.grade

    def keep(*args, **kwargs):
        seen.append(real(*args, **kwargs))
        return seen[-1]
    engine.grade = keep
    try:
        row = batch_pool.grade_row(path, launcher=_launcher())
    finally:
        engine.grade = real
    if len(seen) != 1:
        raise RuntimeError("outputs_snapshot: grade_row called engine.grade %d times, not once" % len(seen))
    render(seen[0], os.path.join(os.path.dirname(os.path.dirname(path)), "outputs", os.path.basename(path)))
    return row


def grade_class(files, work, jobs=JOBS):
    """Grade ``files`` ({key: path}) as one class in folder ``work``; returns ``collect``'s answer and the
    seconds grade-all took. Every student's file keeps its corpus name (the names are unique)."""
    folder = os.path.join(work, "class")
    os.makedirs(folder)
    for path in files.values():
        shutil.copy(path, folder)
    start = time.monotonic()
    done = batch.grade_all(folder, os.path.join(work, "grades.csv"), jobs=jobs, plot=False, fresh=True,
                           results_dir=os.path.join(work, "feedback"), stream=io.StringIO(), grade_fn=snapshot_row)
    seconds = time.monotonic() - start
    class_report.write(done["rows"], os.path.join(work, "class_report.html"))
    with open(os.path.join(work, "summary.txt"), "w", encoding="utf-8") as f:
        f.write(summary_text(done["summary"]))
    return collect(files, work) + (seconds,)


def collect(files, work):
    """(per-submission outputs {key: {format: bytes}}, class outputs {format: bytes}, CSV rows {key: row}) of
    a grading of ``files`` kept in folder ``work``, normalised."""
    folder = os.path.join(work, "class")
    outputs, rows = {}, _csv_rows(os.path.join(work, "grades.csv"))
    for key, path in files.items():
        name = os.path.basename(path)
        out = os.path.join(work, "outputs", name)
        if not os.path.isdir(out):      # snapshot_row failed in the worker; the row says why
            row = rows.get(os.path.splitext(name)[0], {})
            raise RuntimeError("outputs_snapshot: %s was not rendered; its grade-all row says %s: %s"
                               % (key, row.get("status"), row.get("detail")))
        paths = {f: os.path.join(out, f) for f in FORMATS}
        paths["grade-all/results.json"] = os.path.join(work, "feedback", os.path.splitext(name)[0] + ".json")
        outputs[key] = read_outputs(paths, folder)
        rows[key] = rows.pop(os.path.splitext(name)[0])
    whole = read_outputs({f: os.path.join(work, f) for f in CLASS_FORMATS}, folder)
    return outputs, whole, rows


def _csv_rows(path):
    """{student: row dict} of a grade-all CSV, as a spreadsheet reads it."""
    with open(path, newline="", encoding="utf-8") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


# -- the snapshot --------------------------------------------------------------------------------------
def sha(data):
    return hashlib.sha256(data).hexdigest()


def is_json(fmt):
    return fmt.endswith(".json")


def key_paths(value, prefix=""):
    """The set of key paths in a JSON value: 'tests/[]/extra_data/kind' (a list's items share '[]')."""
    found = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = prefix + "/" + key if prefix else key
            found |= {path} | key_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            found |= key_paths(item, prefix + "/[]")
    return found


def prune(value, keep, prefix=""):
    """``value`` without the keys whose path is not in ``keep`` (the order of the rest unchanged)."""
    if isinstance(value, dict):
        return {k: prune(v, keep, prefix + "/" + k if prefix else k) for k, v in value.items()
                if (prefix + "/" + k if prefix else k) in keep}
    if isinstance(value, list):
        return [prune(v, keep, prefix + "/[]") for v in value]
    return value


def as_written(doc):
    """A JSON value as the grader writes it (report.write_json)."""
    return (json.dumps(doc, indent=2) + "\n").encode("utf-8")


def entry(outputs, row):
    """What the snapshot keeps of one submission: sha256 per format; score, CSV row and text report in clear."""
    for fmt, data in outputs.items():
        if is_json(fmt) and as_written(json.loads(data)) != data:
            raise SystemExit("outputs_snapshot: %s is not written as report.write_json writes JSON; teach "
                             "entry() how it is written before recording it" % fmt)
    return {"score": json.loads(outputs["results.json"])["score"], "csv": row,
            "text": outputs["text"].decode("utf-8").splitlines(),
            "sha256": {fmt: sha(data) for fmt, data in sorted(outputs.items())}}


def build(outputs, whole, rows):
    """The snapshot document of one grading of the corpus."""
    keys = {}
    for found in outputs.values():
        for fmt, data in found.items():
            if is_json(fmt):
                keys.setdefault(fmt, set()).update(key_paths(json.loads(data)))
    columns = list(next(iter(rows.values())))
    if "grades.csv" in whole and only_columns(whole["grades.csv"], columns) != whole["grades.csv"]:
        raise SystemExit("outputs_snapshot: grades.csv is not written as csv.writer writes by default; teach "
                         "only_columns() how it is written before recording it")
    return {"about": "Written by `python tests/outputs_snapshot.py --update`; compared by "
                     "tests/test_outputs_unchanged.py. Update it only for an intended change of what the grader "
                     "writes, and say why in the commit body (docs/developers.md).",
            "json_keys": {fmt: sorted(paths) for fmt, paths in sorted(keys.items())},
            "csv_columns": columns,
            "class": {fmt: sha(data) for fmt, data in whole.items()},
            "submissions": {key: entry(outputs[key], rows.get(key)) for key in sorted(outputs)}}


def load(path=SNAPSHOT):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save(snapshot, path=SNAPSHOT):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(snapshot, indent=1, ensure_ascii=False) + "\n")


# -- comparing ---------------------------------------------------------------------------------------
def matches(fmt, data, recorded, snapshot):
    """True if ``data`` is the recorded output, or a JSON output that only adds key paths to it, or a CSV that
    only adds columns."""
    if sha(data) == recorded:
        return True
    if fmt.endswith(".csv"):
        return sha(only_columns(data, snapshot["csv_columns"])) == recorded
    if not is_json(fmt) or fmt not in snapshot["json_keys"]:
        return False
    try:
        doc = json.loads(data)
    except ValueError:
        return False
    return sha(as_written(prune(doc, set(snapshot["json_keys"][fmt])))) == recorded


def only_columns(data, columns):
    """A CSV (as grade-all writes it: csv.writer's defaults, UTF-8) with only ``columns``, in that order."""
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows([row.get(c, "") for c in columns] for row in rows)
    return out.getvalue().encode("utf-8")


def differences(snapshot, key, outputs, row=None, complete=True):
    """Readable lines saying how one submission's outputs differ from the snapshot ([] if they do not).
    ``complete``: ``outputs`` holds every per-submission format (else only those given are compared)."""
    old = snapshot["submissions"].get(key)
    if old is None:
        return ["%s: not in the snapshot (a new corpus file? record it with --update)" % key]
    changed = [fmt for fmt, data in sorted(outputs.items())
               if fmt in old["sha256"] and not matches(fmt, data, old["sha256"][fmt], snapshot)]
    if complete:        # a format no longer written
        changed += sorted((set(old["sha256"]) & set(FORMATS)) - set(outputs))
    bad_row = row is not None and {c: row.get(c) for c in snapshot["csv_columns"]} != old["csv"]
    if not changed and not bad_row:
        return []
    out = ["%s: changed: %s" % (key, ", ".join(changed + (["CSV row"] if bad_row else [])))]
    score = json.loads(outputs["results.json"])["score"] if "results.json" in outputs else None
    if score != old["score"]:
        out.append("  score %s -> %s" % (report.num(old["score"]), report.num(score)))
    if bad_row:
        out.append("  CSV row was %s" % json.dumps(old["csv"]))
        out.append("  CSV row now %s" % json.dumps({c: row.get(c) for c in snapshot["csv_columns"]}))
    if "text" in changed:
        new = outputs["text"].decode("utf-8").splitlines()
        out.extend("  " + line for line in difflib.unified_diff(old["text"], new, "text report (snapshot)",
                                                                 "text report (now)", lineterm=""))
    elif changed:
        out.append("  the text report is the same; see the change with: python tests/outputs_snapshot.py "
                   "--show %s %s (here and on main)" % (key, changed[0]))
    return out


def compare(snapshot, outputs, whole=None, rows=None):
    """Every difference between a grading of the corpus and the snapshot, as readable lines: in full for the
    first SHOWN submissions that changed, then one line each."""
    out, shown = [], 0
    for key in sorted(outputs):
        found = differences(snapshot, key, outputs[key], None if rows is None else rows.get(key))
        out += found if shown < SHOWN else found[:1]
        shown += bool(found)
    if whole is not None:
        missing = sorted(set(snapshot["submissions"]) - set(outputs))
        out += ["%s: in the snapshot but not graded (a corpus file removed? --update)" % k for k in missing]
        out += ["%s (the whole corpus as one class): changed" % fmt for fmt, data in sorted(whole.items())
                if not matches(fmt, data, snapshot["class"].get(fmt), snapshot)]
    return out


# -- the command line ----------------------------------------------------------------------------------
def show(key, fmt):
    """Grade one corpus submission with a fresh child and print one of its outputs, normalised."""
    path = corpus_files([key])[key]
    with tempfile.TemporaryDirectory(prefix="outputs-snapshot-") as work:
        found = read_outputs(render(engine.grade(path), work), os.path.dirname(path))
    sys.stdout.buffer.write(found[fmt])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python tests/outputs_snapshot.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="write the snapshot instead of comparing with it")
    parser.add_argument("--show", nargs=2, metavar=("KIND/NAME", "FORMAT"), help="print one output of one "
                        "submission (formats: %s)" % ", ".join(FORMATS))
    parser.add_argument("-j", "--jobs", type=int, default=JOBS, help="grade-all workers (default %d)" % JOBS)
    parser.add_argument("--keep", metavar="DIR", help="grade in DIR (new) and keep every output there")
    parser.add_argument("--reuse", metavar="DIR", help="do not grade: read the outputs kept in DIR by --keep")
    args = parser.parse_args(argv)
    if args.show:
        return show(*args.show)
    if args.reuse:
        outputs, whole, rows = collect(corpus_files(), args.reuse)
    else:
        work = args.keep or tempfile.mkdtemp(prefix="outputs-snapshot-")
        try:
            outputs, whole, rows, seconds = grade_class(corpus_files(), work, args.jobs)
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        print("graded %d submissions as a class in %.1f s" % (len(outputs), seconds))
    if args.update:
        save(build(outputs, whole, rows))
        print("wrote %s" % os.path.relpath(SNAPSHOT))
        return 0
    problems = compare(load(), outputs, whole, rows)
    print("\n".join(problems) if problems else "every output is as in the snapshot")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
