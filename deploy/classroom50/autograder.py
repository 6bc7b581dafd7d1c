#!/usr/bin/env python3
"""Classroom 50 entry point of the random-initialization assignment.

Lives in the teacher's classroom50 repository at CLASSROOM/autograders/ASSIGNMENT/autograder.py,
next to the grader (autograder/) and requirements.txt that `python -m autograder classroom50-bundle`
put there. Classroom 50's runner runs it once per submission, in the student's checkout.

1. Make sure numpy and hypothesis are installed at the pinned versions (they decide grades):
   into the runner's Python, or, where that Python refuses installs, into a venv in this folder.
   AUTOGRADER_PYTHON names an interpreter that already has them and skips this step.
2. Run `python -m autograder classroom50-run CHECKOUT` with this folder as working directory and
   as the only PYTHONPATH entry, so the grader is imported from the teacher's bundle: a folder
   named autograder/ in the student's checkout is never on the path.
   Where the runner allows it (root already, or passwordless `sudo -n`, as on GitHub-hosted
   runners), the grader runs as root, so student code runs as a private user that cannot read the
   hidden tests, as in the GitHub Actions workflow; the files it writes are then handed back to the
   runner's user. Without either, the grader's log says that student code ran as the runner's user.
3. Exit with its status: 0 when result.json was written (the score is in it), 2 when the grader
   could not grade (the runner then records an infrastructure error).
"""

import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUTPUTS = ("result.json", "release-body.md")      # what classroom50-run writes into the checkout
# The runner's variables classroom50-run reads (autograder/platforms/classroom50.py), kept through sudo.
KEPT = ("CLASSROOM", "ASSIGNMENT", "SUBMISSION_TAG", "COMMIT_URL", "RELEASE_URL", "REVIEW_URL", "OWNER",
        "USERNAME", "ASSIGNMENT_TYPE", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")


def installed_python():
    """An interpreter with the pinned requirements; installs them first if needed."""
    chosen = os.environ.get("AUTOGRADER_PYTHON")
    if chosen:
        return chosen
    requirements = os.path.join(HERE, "requirements.txt")
    pip = ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements]
    if subprocess.run([sys.executable] + pip).returncode == 0:
        return sys.executable
    print("autograder.py: this Python refuses installs; using a venv in %s/.venv instead" % HERE, flush=True)
    venv = os.path.join(HERE, ".venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    python = os.path.join(venv, "bin", "python")
    subprocess.run([python] + pip, check=True)
    return python


def main():
    checkout = os.getcwd()
    try:
        python = installed_python()
    except (OSError, subprocess.CalledProcessError) as exc:
        print("::error title=Autograder::could not install the grader's requirements (%s); "
              "nothing is wrong with the submission" % exc, flush=True)
        return 2
    env = dict(os.environ, PYTHONPATH=HERE, PYTHONDONTWRITEBYTECODE="1")
    sudo = as_root()
    status = subprocess.run(sudo + [python, "-m", "autograder", "classroom50-run", checkout], cwd=HERE,
                            env=env).returncode
    if sudo:
        give_back(sudo, checkout)
    return status


def as_root():
    """The command prefix that runs the grader as root: [] when already root or when sudo is not allowed."""
    if os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo")
    if sudo and subprocess.run([sudo, "-n", "true"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL).returncode == 0:
        return [sudo, "--non-interactive", "--preserve-env=" + ",".join(KEPT)]
    print("autograder.py: no passwordless sudo here, so the grader runs as uid %d and student code as the "
          "same user (see SECURITY.md)" % os.geteuid(), flush=True)
    return []


def give_back(sudo, checkout):
    """The grader's files in the checkout, written as root, belong to the runner's user again."""
    owner = "%d:%d" % (os.getuid(), os.getgid())
    paths = [os.path.join(checkout, name) for name in OUTPUTS if os.path.lexists(os.path.join(checkout, name))]
    if paths:
        subprocess.run(sudo[:2] + ["chown", "--no-dereference", owner] + paths)


if __name__ == "__main__":
    sys.exit(main())
