"""The bundle commands: what an instructor uploads to Gradescope, Classroom 50, Coursera or PrairieLearn.

    python -m autograder gradescope-bundle OUT.zip [--visibility V] [--hold-back ID[=V] ...]
    python -m autograder classroom50-bundle FOLDER | coursera-bundle OUT.zip | prairielearn-bundle FOLDER

Design
------
Each of those platforms runs the grader from a folder the instructor controls: the teacher's
``classroom50`` repository, a Docker image built by Coursera, a PrairieLearn course's
``serverFilesCourse``. A bundle command fills such a folder with three things:

* the grader's own source (``grader_files``): the engine folders and this platform's one adapter,
  byte for byte, hidden tests included, and nothing of any other platform;
* ``requirements.txt``: numpy and hypothesis pinned exactly as pyproject.toml pins them, because
  those versions decide which cases are tried and the reference values;
* the platform's deployment files, kept as plain files in ``deploy/<platform>/`` at the top of
  the repository (a Dockerfile, an entry script, the Classroom 50 ``autograder.py``, an
  ``info.json`` snippet). They live there and not inside the package because they are not code
  the grader imports: a platform runs them, instructors read and diff them, and the bundle copies
  them verbatim, so the tests run exactly the file the platform runs. The bundle commands need a
  checkout of this repository for that; they say so if ``deploy/`` is missing.

Gradescope's zip is built here too, from the scripts and settings file ``gradescope.py`` describes.

Build time and run time live apart: this module builds bundles and imports the adapters it needs
(``gradescope``, ``prairielearn``); an adapter is what a bundle runs, and never imports this module,
which no bundle ships.
"""

import io
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import zipfile
from importlib import metadata

from ..errors import UsageError
from ..grading import report
from ..sandbox import safefs
from . import gradescope, prairielearn

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))     # autograder/
REPO_DIR = os.path.dirname(PACKAGE_DIR)
DEPLOY_DIR = os.path.join(REPO_DIR, "deploy")
# The grader every platform needs: the same list the Gradescope zip uses.
ENGINE = ("__init__.py", "__main__.py", "errors.py", "rubric.py", "verdicts.py", "grading", "sandbox")
RUNTIME = ("numpy", "hypothesis")     # the packages whose versions decide grades: pinned in every bundle


class PinError(UsageError):
    """The runtime requirements cannot be pinned; the message says what to pin or install."""


def deploy_path(platform, name):
    """The path of deploy/<platform>/<name>; a UsageError that says what to do if it is missing."""
    path = os.path.join(DEPLOY_DIR, platform, name)
    if not os.path.isfile(path):
        raise UsageError("%s is missing; run this command from a checkout of the grader's repository "
                         "(git clone it), where deploy/%s/ holds the %s files" % (path, platform, platform))
    return path


def grader_files(platform):
    """The grader's files for one platform, relative to autograder/: the engine plus that one adapter."""
    names = []
    for entry in ENGINE:
        path = os.path.join(PACKAGE_DIR, entry)
        if os.path.isdir(path):
            names += [os.path.join(entry, n) for n in sorted(os.listdir(path)) if n.endswith((".py", ".json"))]
        else:
            names.append(entry)
    return names + [os.path.join("platforms", "__init__.py"), os.path.join("platforms", platform + ".py")]


FIXED_DATE = (2020, 1, 1, 0, 0, 0)   # every zip entry's date, so the same source builds the same bytes


def zip_entry(zf, name, data, executable=False):
    """Add one file to a bundle zip: fixed date, deflated, a regular file with mode 755 or 644."""
    info = zipfile.ZipInfo(name, FIXED_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    zf.writestr(info, data)


def requirements():
    """Pinned runtime requirements: from pyproject.toml next to the package, else the running versions."""
    pyproject = os.path.join(os.path.dirname(PACKAGE_DIR), "pyproject.toml")
    lines = []
    if os.path.exists(pyproject):
        with open(pyproject, encoding="utf-8") as f:
            text = f.read()
        block = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.S | re.M)
        for spec in re.findall(r'"([^"]+)"', block.group(1) if block else ""):
            name = re.split(r"[=<>!~;\s\[]", spec, 1)[0].lower()
            if name in RUNTIME:
                if "==" not in spec:
                    raise PinError("pyproject.toml lists %r without an exact version; pin it "
                                      "(name==version) so Gradescope grades with the versions you tested" % spec)
                lines.append(spec)
    for name in RUNTIME:
        if not any(re.split(r"[=<>!~;\s\[]", l, 1)[0].lower() == name for l in lines):
            try:
                lines.append("%s==%s" % (name, metadata.version(name)))
            except metadata.PackageNotFoundError:
                raise PinError("%s is neither pinned in pyproject.toml nor installed; "
                                  "pip install it first" % name) from None
    return "\n".join(lines) + "\n"


def write_bundle(folder, platform, deploy_files, extra=None):
    """Fill FOLDER with autograder/ (engine + adapter), requirements.txt and deploy files.

    ``deploy_files``: {name in deploy/<platform>/: name in FOLDER}; ``extra``: {name: text} written as is.
    Returns the sorted list of written paths, relative to FOLDER. An existing autograder/ is replaced,
    so a stale module of an older grader cannot stay behind.
    """
    sources = [(deploy_path(platform, src), dst) for src, dst in deploy_files.items()]
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, "autograder")
    if os.path.isdir(target):
        shutil.rmtree(target)
    written = []
    for name in grader_files(platform):
        _copy(os.path.join(PACKAGE_DIR, name), os.path.join(target, name))
        written.append(os.path.join("autograder", name))
    for src, dst in sources:
        _copy(src, os.path.join(folder, dst))
        written.append(dst)
    for name, text in dict(extra or {}, **{"requirements.txt": requirements()}).items():
        safefs.write_bytes(os.path.join(folder, name), text.encode("utf-8"))
        written.append(name)
    return sorted(written)


def _copy(src, dst):
    """Copy one file into a bundle through the one writer (``safefs``), executable if the source is."""
    with open(src, "rb") as f:
        data = f.read()
    safefs.write_bytes(dst, data, 0o755 if os.stat(src).st_mode & stat.S_IXUSR else 0o644)


# -- each platform's bundle ------------------------------------------------------------------------
def gradescope_bundle(out_path, default="visible", hold_back=()):
    """Write Gradescope's autograder zip to OUT_PATH (gradescope.py's design); returns the entry names."""
    config = {"visibility": gradescope.visibility_config(default, hold_back)}
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as zf:
        zip_entry(zf, "setup.sh", gradescope.SETUP_SH, executable=True)
        zip_entry(zf, "run_autograder", gradescope.RUN_AUTOGRADER, executable=True)
        zip_entry(zf, "requirements.txt", requirements())
        zip_entry(zf, gradescope.CONFIG, json.dumps(config, indent=2, sort_keys=True) + "\n")
        for name in grader_files("gradescope"):
            with open(os.path.join(PACKAGE_DIR, name), "rb") as f:
                zip_entry(zf, "autograder/" + name.replace(os.sep, "/"), f.read())
        names = zf.namelist()
    safefs.write_bytes(out_path, data.getvalue())      # atomic, never through a link, like every output
    return names


def classroom50_bundle(folder):
    """Fill FOLDER (CLASSROOM/autograders/ASSIGNMENT/ of the teacher's repository); returns the written paths."""
    return write_bundle(folder, "classroom50", {"autograder.py": "autograder.py"})


def coursera_bundle(out_zip):
    """Write the zip Coursera builds the grader image from (Dockerfile at its root); returns its entries."""
    with tempfile.TemporaryDirectory() as tmp:
        names = write_bundle(tmp, "coursera", {"Dockerfile": "Dockerfile", "grade.sh": "grade.sh"})
        data = io.BytesIO()
        with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in names:
                with open(os.path.join(tmp, name), "rb") as f:
                    zip_entry(zf, name.replace(os.sep, "/"), f.read(), executable=name == "grade.sh")
    safefs.write_bytes(out_zip, data.getvalue())        # atomic, never through a link, like every output
    return names


def prairielearn_bundle(folder):
    """Write FOLDER/serverFilesCourse/random_init_grader/ (grader + run.sh), Dockerfile and info.json."""
    server = os.path.join(folder, "serverFilesCourse", prairielearn.SERVER_FOLDER)
    names = write_bundle(server, "prairielearn", {"run.sh": "run.sh"})
    image = prairielearn_image_files(folder)
    return [os.path.join("serverFilesCourse", prairielearn.SERVER_FOLDER, n) for n in names] + image


def prairielearn_image_files(folder):
    """The image's Dockerfile (with the same requirements.txt) and the info.json snippet, at FOLDER's top."""
    for name in ("Dockerfile", "info.json"):
        with open(deploy_path("prairielearn", name), "rb") as f:
            safefs.write_bytes(os.path.join(folder, name), f.read())
    safefs.write_bytes(os.path.join(folder, "requirements.txt"), requirements().encode("utf-8"))
    return ["Dockerfile", "info.json", "requirements.txt"]


# -- the commands ----------------------------------------------------------------------------------
def add_subparsers(sub):
    p = sub.add_parser("gradescope-bundle", help="build the zip to upload as a Gradescope autograder")
    p.add_argument("out", metavar="OUT.zip", help="where to write the zip (its folder is created)")
    p.add_argument("--visibility", default="visible", choices=report.VISIBILITIES,
                   help="visibility of every test (default: visible)")
    p.add_argument("--hold-back", action="append", default=[], metavar="ID[=VALUE]",
                   help="show this rubric item's test only later (default after_published); repeatable")
    p.set_defaults(handler=gradescope_command)
    b = sub.add_parser("classroom50-bundle", help="fill CLASSROOM/autograders/ASSIGNMENT/ of a Classroom 50 "
                                                  "teacher repository with autograder.py and the grader")
    b.add_argument("folder", metavar="FOLDER",
                   help="the folder to write autograder.py and the grader into (created if missing); "
                        "commit it as CLASSROOM/autograders/ASSIGNMENT/")
    b.set_defaults(handler=classroom50_command)
    b = sub.add_parser("coursera-bundle", help="build the zip to upload as a Coursera custom grader")
    b.add_argument("out", metavar="OUT.zip", help="where to write the zip (its folder is created)")
    b.set_defaults(handler=coursera_command)
    b = sub.add_parser("prairielearn-bundle", help="write the grader, entrypoint, image Dockerfile and info.json "
                                                   "snippet for a PrairieLearn course")
    b.add_argument("folder", metavar="FOLDER",
                   help="the folder to write serverFilesCourse/, the Dockerfile and info.json into (created if missing)")
    b.set_defaults(handler=prairielearn_command)


def _built(build, target, *options):
    """``build(target, *options)``; a file system error becomes a UsageError that names ``target``."""
    try:
        return build(target, *options)
    except OSError as exc:
        raise UsageError("cannot write %s: %s" % (target, exc.strerror or exc)) from None


def gradescope_command(args):
    if not args.out.endswith(".zip"):
        raise UsageError("%s should end in .zip (Gradescope takes a zip)" % args.out)
    names = _built(gradescope_bundle, args.out, args.visibility, args.hold_back)
    sys.stdout.write("Wrote %s (%d files). Upload it under Configure Autograder, base image Ubuntu with "
                     "Python 3.10 or newer; see docs/gradescope.md.\n" % (args.out, len(names)))
    return 0


def classroom50_command(args):
    names = _built(classroom50_bundle, args.folder)
    sys.stdout.write("Wrote %d files to %s. Commit them as CLASSROOM/autograders/ASSIGNMENT/ in your classroom50 "
                     "repository; see docs/classroom50.md.\n" % (len(names), args.folder))
    return 0


def coursera_command(args):
    if not args.out.endswith(".zip"):
        raise UsageError("%s should end in .zip (Coursera takes a zip with the Dockerfile at its root)" % args.out)
    names = _built(coursera_bundle, args.out)
    sys.stdout.write("Wrote %s (%d files). Upload it as the part's custom grader; see docs/coursera.md.\n"
                     % (args.out, len(names)))
    return 0


def prairielearn_command(args):
    names = _built(prairielearn_bundle, args.folder)
    sys.stdout.write("Wrote %d files to %s. Copy serverFilesCourse/%s/ into your course, build and push the image "
                     "from Dockerfile, and merge info.json into the question's; see docs/prairielearn.md.\n"
                     % (len(names), args.folder, prairielearn.SERVER_FOLDER))
    return 0
