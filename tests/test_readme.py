"""The README tells the truth about its own commands (issue 27, item 6).

Command 1's two grades print what the README says (100/100 exiting 0, then 65/100 exiting 1 with
the two items lost), and the sample FAIL block in the README is, line for line, what the second
grade prints.
"""

import os
import re
import subprocess
import sys

from conftest import ROOT

README = os.path.join(ROOT, "README.md")


def readme():
    with open(README, encoding="utf-8") as f:
        return f.read()


def command_one():
    """The two `python -m autograder grade ...` parts of README command 1."""
    block = readme().split("**1. Install, then grade")[1].split("```bash\n")[1].split("```")[0]
    parts = [p.strip() for p in re.split(r"&&|;", block)]
    grades = [p for p in parts if p.startswith("python -m autograder grade ")]
    assert len(grades) == 2, parts
    return [g.split()[4:] for g in grades]


def grade(args):
    return subprocess.run([sys.executable, "-m", "autograder", "grade", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_command_one_prints_what_the_readme_promises():
    first, second = (grade(args) for args in command_one())
    assert first.returncode == 0 and "Score: 100/100" in first.stdout
    assert second.returncode == 1 and "Score: 65/100" in second.stdout
    lost = re.findall(r"^FAIL  (\S+)", second.stdout, re.M)
    assert lost == ["init.breaks_symmetry", "init.small_scale"]
    promise = readme().split("The first grade prints")[1].split("\n\n")[0]
    assert "`Score: 100/100`" in promise and all("`%s`" % i in promise for i in lost)


def test_the_sample_fail_block_is_what_command_one_prints():
    sample = readme().split("keeps the two equal):\n\n```\n")[1].split("```")[0].splitlines()
    assert sample[0].startswith("FAIL  ")
    printed = grade(command_one()[1]).stdout.splitlines()
    start = printed.index(sample[0])
    assert printed[start:start + len(sample)] == sample
    assert not printed[start + len(sample)].startswith("      ")     # the whole block, not a part of it
