"""Gradescope: what the autograder zip holds, and the run inside Gradescope's container.

    python -m autograder gradescope-bundle OUT.zip [--visibility V] [--hold-back ID[=V] ...]   (deploy.py)
    python -m autograder gradescope-run [--root /autograder]      (what run_autograder calls)

Design
------
The zip holds, at its root (Gradescope looks only there):

* ``setup.sh``: run once when Gradescope builds the image. It is the only place that
  installs anything: python3 and a venv at /autograder/venv with requirements.txt.
* ``run_autograder``: run for each submission. It installs nothing; it finds a
  Python (``$AUTOGRADER_PYTHON``, else the venv, else python3) and calls
  ``gradescope-run`` on ``$AUTOGRADER_ROOT`` (default /autograder), so a test can
  lay out source/, submission/ and results/ in a temporary folder instead.
* ``requirements.txt``: numpy and hypothesis pinned as in pyproject.toml (the
  versions decide grades), with its environment markers; else the running versions.
* ``autograder/``: the grader's own source, byte for byte, hidden tests included.
  Students never see /autograder/source.
* ``gradescope.json``: the visibility of each test.

Zip entries carry a fixed date, so the same source always builds the same bytes.

Visibility follows Gradescope's rules: ``visible`` (default), ``after_due_date``,
``after_published``, ``hidden``. Gradescope keeps ``hidden`` for tests worth no
points (a hidden test's points would still count in a total the student sees), and
every rubric item carries points, so a point-carrying item can be held back with
``after_published`` or ``after_due_date`` but not hidden; asking for it is refused.
"""

import json
import os
import sys

from .. import rubric
from ..errors import UsageError
from ..grading import engine, report
from ..sandbox import safefs
from . import warn_without_private_user

CONFIG = "gradescope.json"

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image.
# Everything the grader needs is installed here; run_autograder installs nothing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends python3 python3-venv python3-pip
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --no-cache-dir --upgrade pip
/autograder/venv/bin/pip install --no-cache-dir -r /autograder/source/requirements.txt
# Fail the build now, not at the first submission, if the grader cannot start.
cd /autograder/source && /autograder/venv/bin/python -c "import autograder.grading.engine, autograder.grading.checks_net"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission, from /autograder. It installs nothing.
# AUTOGRADER_ROOT replaces /autograder (tests use a temporary folder laid out alike);
# AUTOGRADER_PYTHON picks the interpreter (default: the venv setup.sh made, else python3).
set -u
root="${AUTOGRADER_ROOT:-/autograder}"
python="${AUTOGRADER_PYTHON:-}"
if [ -z "$python" ]; then
  if [ -x "$root/venv/bin/python" ]; then python="$root/venv/bin/python"; else python=python3; fi
fi
mkdir -p "$root/results"
cd "$root/source" || { echo "run_autograder: no folder $root/source; upload the zip built by gradescope-bundle" >&2; exit 2; }
PYTHONPATH="$root/source" exec "$python" -m autograder gradescope-run --root "$root"
"""


class BundleError(UsageError):
    """The bundle cannot be built as asked; the message says why and what to do instead."""


# -- what the zip holds (deploy.py builds it) -----------------------------------------------------
def visibility_config(default="visible", hold_back=()):
    """{rubric id: visibility} from a default and ``ID`` or ``ID=VALUE`` items (ID alone: after_published)."""
    chosen = {item.id: default for item in rubric.ITEMS}
    for entry in hold_back:
        item_id, _, value = entry.partition("=")
        if item_id not in rubric.BY_ID:
            raise BundleError("%r is not a rubric id; use one of %s"
                              % (item_id, ", ".join(rubric.BY_ID)))
        chosen[item_id] = value or "after_published"
    for item_id, value in chosen.items():
        if value not in report.VISIBILITIES:
            raise BundleError("visibility %r is not one of %s"
                              % (value, ", ".join(report.VISIBILITIES)))
        if value == "hidden" and rubric.BY_ID[item_id].points:
            raise BundleError("%s carries %d points, and Gradescope keeps 'hidden' for tests "
                              "worth nothing; use after_published (shown once you publish grades) or "
                              "after_due_date instead" % (item_id, rubric.BY_ID[item_id].points))
    return chosen


# -- inside Gradescope -------------------------------------------------------------------------------
def load_config(root):
    path = os.path.join(root, "source", CONFIG)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise BundleError("%s is not valid JSON (%s); rebuild the zip with gradescope-bundle" % (path, exc))


def run_in_gradescope(root="/autograder", stdout=None):
    """Grade ROOT/submission, write ROOT/results/results.json; 0 if it was written, else 2."""
    stdout = stdout or sys.stdout
    results_path = os.path.join(root, "results", "results.json")
    submission = os.path.join(root, "submission")
    visibility = None
    warn_without_private_user("gradescope-run", stdout)       # stdout: instructors only
    try:
        visibility = load_config(root).get("visibility") or None
        result = engine.grade(submission)
        data = report.results_json(result, visibility=visibility)
        stdout.write(report.text(result))
    except Exception as exc:   # the grader failed: the student still gets a results.json that says so
        detail = "%s: %s" % (type(exc).__name__, exc)
        stdout.write("gradescope-run: the grader failed on %s (%s)\n" % (submission, report.safe(detail)))
        try:        # held-back tests stay held back, even at 0 and marked "not graded"
            data = report.results_json(report.fallback(submission, detail), visibility=visibility)
        except ValueError:      # the zip's own visibility is what failed: show no test before publishing
            data = report.results_json(report.fallback(submission, detail), visibility="after_published")
    try:
        report.write_json(data, results_path, clear=True)      # a folder planted at results.json is removed
    except OSError as exc:
        raise UsageError("cannot write %s: %s" % (results_path, exc.strerror or exc)) from None
    return 0


def add_subparsers(sub):
    r = sub.add_parser("gradescope-run", help="(used by run_autograder inside Gradescope) grade /autograder")
    r.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"),
                   help="the folder laid out like /autograder (default: $AUTOGRADER_ROOT or /autograder)")
    r.set_defaults(handler=run_command)


def run_command(args):
    if not os.path.isdir(args.root):
        raise UsageError("no folder %s; set AUTOGRADER_ROOT or --root to the folder that holds source/, "
                         "submission/ and results/" % args.root)
    return run_in_gradescope(args.root)

