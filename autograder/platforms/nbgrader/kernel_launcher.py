"""Start an IPython kernel as a private uid: ``python -m autograder.platforms.nbgrader.kernel_launcher UID -f CONN``.

Design: started as root by ``ExecutePrivately`` (execute.py) inside a new network namespace. It
imports, as root, the modules a notebook of this course needs (the interpreter may live where a
private uid cannot read, such as /root/.pyenv), then becomes ``UID`` with no supplementary
groups and a small process limit, and only then starts the kernel, which runs the student's
cells. Nothing here reads a student's file.
"""

import os
import resource
import sys

PRELOAD = ("numpy", "matplotlib", "matplotlib.pyplot", "json", "math", "random", "itertools", "collections",
           "functools", "time", "warnings", "copy", "pathlib", "textwrap", "ipykernel.kernelapp")
MAX_PROCESSES = 256       # per uid: enough for a kernel's threads, too few for a fork bomb


def main(argv):
    uid = int(argv[0])
    import importlib
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    os.setgroups([])
    resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
    os.setgid(uid)
    os.setuid(uid)
    from ipykernel import kernelapp
    sys.argv = [sys.argv[0]] + argv[1:]
    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main(sys.argv[1:])
