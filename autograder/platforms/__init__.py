"""Thin adapters over the one engine, one per place a class is taught. Each turns a platform's
layout into a call of ``grading.engine.grade`` and renders the Result with ``grading.report``."""

import os
import sys


def without_private_user(command):
    """The warning to log when student code will run as the grader's own user, else "".

    Only as root does the sandbox give student code a private uid of its own (sandbox/uids.py,
    SECURITY.md). Run otherwise, the student's code can read and write whatever this user can: the
    hidden grader's files, the results being written. The platform's log should say so."""
    if not hasattr(os, "geteuid") or os.geteuid() == 0:
        return ""
    return ("%s: warning: running as uid %d, not root, so student code runs as this same user, not as a "
            "private one: it can read what this user can read (see SECURITY.md)" % (command, os.geteuid()))


def warn_without_private_user(command, stream=None):
    """Write ``without_private_user``'s warning to ``stream`` (standard error); True if there was one."""
    message = without_private_user(command)
    if message:
        (stream or sys.stderr).write(message + "\n")
    return bool(message)
