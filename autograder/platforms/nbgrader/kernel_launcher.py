"""Start an IPython kernel as a private uid: ``python -m autograder.platforms.nbgrader.kernel_launcher UID -f CONN``.

Design: started as root by ``ExecutePrivately`` (execute.py), already inside a new network
namespace. As root it sets the kernel up completely (IPKernelApp.initialize: sockets bound,
shell created; no cell runs there) and imports the modules a notebook of this course uses,
because after the drop the interpreter's own files may be unreadable (a Python under /root, as
on some graders' machines). Then it becomes ``UID``, whose one supplementary group is the student
group (``uids.student_gid()``, which ``confine.hide_grader`` denies every grader folder, as for the
grader's own child), with a limit on processes, and only then starts the kernel's loop, which runs
the student's cells.
"""

import importlib
import os
import resource
import sys

from ipykernel.kernelapp import IPKernelApp

from ...sandbox import uids

PRELOAD = ("numpy", "matplotlib", "matplotlib.pyplot", "matplotlib_inline.backend_inline", "json", "math",
           "random", "itertools", "collections", "functools", "time", "warnings", "copy", "pathlib",
           "textwrap", "socket", "subprocess", "glob", "pdb", "types", "builtins", "inspect", "traceback")
MAX_PROCESSES = 256       # per uid: enough for a kernel's threads, too few for a fork bomb


def become(uid):
    os.setgroups([uids.student_gid()])
    resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit("kernel_launcher: could not become uid %d" % uid)


def main(argv):
    uid = int(argv[0])
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    app = IPKernelApp.instance()
    app.initialize(argv[1:])
    become(uid)
    app.start()


if __name__ == "__main__":
    main(sys.argv[1:])
