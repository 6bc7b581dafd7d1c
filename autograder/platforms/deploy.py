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

This module is imported only by the bundle commands, never while grading.
"""

import os
import shutil
import stat

from ..errors import UsageError

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))     # autograder/
REPO_DIR = os.path.dirname(PACKAGE_DIR)
DEPLOY_DIR = os.path.join(REPO_DIR, "deploy")
# The grader every platform needs: the same list the Gradescope zip uses.
ENGINE = ("__init__.py", "__main__.py", "errors.py", "rubric.py", "verdicts.py", "grading", "sandbox")


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
    import zipfile
    info = zipfile.ZipInfo(name, FIXED_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    zf.writestr(info, data)


def requirements():
    """requirements.txt text: numpy and hypothesis pinned as pyproject.toml pins them."""
    from .gradescope import requirements as pinned    # build time only: the same pins as the Gradescope zip
    return pinned()


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
        dst = os.path.join(target, name)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(os.path.join(PACKAGE_DIR, name), dst)
        written.append(os.path.join("autograder", name))
    for src, dst in sources:
        path = os.path.join(folder, dst)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copyfile(src, path)
        if os.stat(src).st_mode & stat.S_IXUSR:
            os.chmod(path, 0o755)
        written.append(dst)
    for name, text in dict(extra or {}, **{"requirements.txt": requirements()}).items():
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            f.write(text)
        written.append(name)
    return sorted(written)
