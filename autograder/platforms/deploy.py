"""What the bundle commands of Classroom 50, Coursera and PrairieLearn share.

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

This module is imported only by the bundle commands, never while grading, and no bundle ships it:
an adapter imports it inside its bundle command (its one import inside a function, for that reason).
"""

import os
import re
import shutil
import stat
import zipfile
from importlib import metadata

from ..errors import UsageError
from ..sandbox import safefs

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
