"""The commit rule of docs/developers.md: subject <= 72 characters and a body that says why.

It reads the repository's own history (a fresh clone has it), from the commit that introduced the rule
onwards; older commits predate it. Outside a git checkout (an sdist, a copied tree) it skips with the
reason.
"""

import os
import shutil
import subprocess

import pytest

from conftest import ROOT

RULE_SINCE = "fe40f8c"        # the last commit before the rule (docs/developers.md, "Commits")
MAX_SUBJECT = 72


def _git(*args):
    return subprocess.run(["git", "-C", ROOT] + list(args), capture_output=True, text=True, check=True).stdout


def _commits():
    if shutil.which("git") is None or not os.path.isdir(os.path.join(ROOT, ".git")):
        pytest.skip("not a git checkout: the commit rule is checked on a clone of the repository")
    try:
        _git("cat-file", "-e", RULE_SINCE + "^{commit}")
    except subprocess.CalledProcessError:
        pytest.skip("a shallow clone without %s: the history the rule covers is not here" % RULE_SINCE)
    out = _git("log", "--format=%H%x1f%P%x1f%B%x1e", RULE_SINCE + "..HEAD")
    for record in filter(str.strip, out.split("\x1e")):
        sha, parents, message = record.strip("\n").split("\x1f")
        yield sha[:10], len(parents.split()) > 1, message.strip("\n")


def test_subjects_are_short_and_bodies_say_why():
    problems = []
    for sha, merge, message in _commits():
        subject, _, rest = message.partition("\n")
        if len(subject) > MAX_SUBJECT:
            problems.append("%s: subject of %d characters (at most %d): %s" % (sha, len(subject), MAX_SUBJECT,
                                                                              subject))
        if not merge and (not rest.startswith("\n") or len(rest.strip()) < 20):
            problems.append("%s: no body after a blank line saying why: %s" % (sha, subject))
    assert not problems, "commits that break the rule of docs/developers.md:\n" + "\n".join(problems)
