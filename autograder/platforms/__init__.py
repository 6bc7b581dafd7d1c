"""Thin adapters over the one engine, one per place a class is taught. Each turns a platform's
layout into a call of ``grading.engine.grade`` and renders the Result with ``grading.report``."""

import os
import sys

from ..sandbox.confine import NOT_ROOT


def without_private_user(command):
    """The warning to log when student code will run as the grader's own user, else "".

    Only as root does the sandbox give student code a private uid of its own (sandbox/uids.py,
    SECURITY.md); the words are the sandbox's own (``confine.NOT_ROOT``, which ``ci`` and
    ``grade-all`` print too), written to each platform's log."""
    if not hasattr(os, "geteuid") or os.geteuid() == 0:
        return ""
    return "%s: warning: %s (uid %d)." % (command, NOT_ROOT, os.geteuid())


def warn_without_private_user(command, stream=None):
    """Write ``without_private_user``'s warning to ``stream`` (standard error); True if there was one."""
    message = without_private_user(command)
    if message:
        (stream or sys.stderr).write(message + "\n")
    return bool(message)
