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
3. Exit with its status: 0 when result.json was written (the score is in it), 2 when the grader
   could not grade (the runner then records an infrastructure error).
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


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
    return subprocess.run([python, "-m", "autograder", "classroom50-run", checkout], cwd=HERE, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
