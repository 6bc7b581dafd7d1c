"""Start an IPython kernel as a private uid: ``python -m autograder.platforms.nbgrader.kernel_launcher UID -f CONN``.

Design: started as root by ``ExecutePrivately`` (execute.py). First, while the interpreter is
still single-threaded (unshare of a mount namespace refuses a process with threads, and numpy's
BLAS starts some), it leaves the grader's namespaces with ``sandbox/namespaces.py``, as the
grader's own child does: an empty **network** (the kernel talks to nbgrader over Unix sockets,
which need none), its own **IPC** (System V objects the notebook makes die with the kernel) and
its own **mounts**, with fresh tmpfs on /tmp, /var/tmp and /dev/shm, so nothing the notebook
writes there reaches the host's folders. The scratch folder that holds the connection file, the
kernel's sockets and the notebook's working copy lies in the host's /tmp; it is bind-mounted back
at its own path (``private_namespaces``), as are the interpreter's folders and import path when
they lie under a temp root, so nbgrader and the kernel still meet there. Why not in a preexec_fn
of nbgrader's: that runs in a fork of a process with threads (zmq, asyncio), where Python code
may deadlock; here it runs in a fresh interpreter that can also say what failed. Without a
network namespace the launcher refuses to start the kernel; without private temp folders (mount
denied) it starts it, and execute.py, which checks the kernel's namespaces itself, logs that and
walks the host's temp folders afterwards.

As root it then sets the kernel up completely (IPKernelApp.initialize: sockets bound, shell
created; no cell runs there) and imports the modules a notebook of this course uses, because after
the drop the interpreter's own files may be unreadable (a Python under /root, as on some graders'
machines). Then it becomes ``UID``, whose one supplementary group is the student group
(``uids.student_gid()``, which ``confine.hide_grader`` denies every grader folder, as for the
grader's own child), with a limit on processes, and only then starts the kernel's loop, which runs
the student's cells.
"""

import importlib
import os
import resource
import sys

from ...sandbox import namespaces, uids

PRELOAD = ("numpy", "matplotlib", "matplotlib.pyplot", "matplotlib_inline.backend_inline", "json", "math",
           "random", "itertools", "collections", "functools", "time", "warnings", "copy", "pathlib",
           "textwrap", "socket", "subprocess", "glob", "pdb", "types", "builtins", "inspect", "traceback")
MAX_PROCESSES = 256       # per uid: enough for a kernel's threads, too few for a fork bomb
NO_NETWORK_EXIT = 3       # the exit status when no network namespace could be made (the kernel never ran)


def connection_file(argv):
    """The path after ``-f`` (or ``--f=``) in the kernel's arguments, or None."""
    for i, arg in enumerate(argv):
        if arg == "-f" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(("--f=", "-f=")):
            return arg.split("=", 1)[1]
    return None


def private_namespaces(connection):
    """Leave the grader's network, IPC and mount namespaces (private tmpfs on the temp roots), binding back
    the folder of ``connection`` and the interpreter's folders that lie under a temp root; the flags made."""
    cwd = os.getcwd()
    keep = [os.path.dirname(os.path.abspath(connection))] if connection else []
    keep += [sys.prefix, sys.exec_prefix, sys.base_prefix, os.path.dirname(os.path.abspath(sys.executable)), cwd]
    flags = namespaces.enter(bind_paths=namespaces.needed_binds(keep + sys.path))
    os.chdir(cwd)             # through the new mounts: the working copy bound back, the same folder
    return flags


def become(uid):
    os.setgroups([uids.student_gid()])
    resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit("kernel_launcher: could not become uid %d" % uid)


def main(argv):
    uid, connection = int(argv[0]), connection_file(argv[1:])
    flags = private_namespaces(connection)
    if not flags & namespaces.CLONE_NEWNET:
        sys.stderr.write("kernel_launcher: could not give the kernel a network namespace of its own (unshare was "
                         "refused: it needs CAP_SYS_ADMIN and no seccomp profile that forbids it); the kernel is "
                         "not started\n")
        raise SystemExit(NO_NETWORK_EXIT)
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    # lazy: execute.py imports this module (NO_NETWORK_EXIT) in every nbgrader run, which starts no kernel;
    # ipykernel.kernelapp would cost that process more than an import of numpy
    from ipykernel.kernelapp import IPKernelApp
    app = IPKernelApp.instance()
    app.initialize(argv[1:])
    if connection:
        os.chown(connection, uid, uid)     # the kernel's own from now on (it removes it when it ends)
    become(uid)
    app.start()


if __name__ == "__main__":
    main(sys.argv[1:])
