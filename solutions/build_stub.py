"""Make the student's stub, random_init.py, from the reference solution.

The solution is the single source: every region between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` becomes the body nbgrader itself would leave, so the .py stub
and the release notebook say the same thing. ``build_notebook.py`` puts the stub into
nbgrader's source folder, and nbgrader's release carries it to assignment/; this script
rewrites just those two copies, for a quick loop on the solution.

    python solutions/build_stub.py          # rewrite both copies of random_init.py
    python solutions/build_stub.py --check  # exit 1 if a committed stub has drifted
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOLUTION = os.path.join(HERE, "random_init.py")
STUBS = (os.path.join(HERE, os.pardir, "assignment", "random_init.py"),
         os.path.join(HERE, "source", "random_init", "random_init.py"))
REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION\n", re.S | re.M)


def stub_text(solution_text):
    body, count = REGION.subn(lambda m: "%s# YOUR CODE HERE\n%sraise NotImplementedError()\n"
                              % (m.group(1), m.group(1)), solution_text)
    if count != 3:
        raise SystemExit("build_stub: expected 3 solution regions in %s, found %d" % (SOLUTION, count))
    return body


def main(argv):
    with open(SOLUTION, encoding="utf-8") as f:
        wanted = stub_text(f.read())
    if "--check" in argv:
        for stub in STUBS:
            with open(stub, encoding="utf-8") as f:
                if f.read() != wanted:
                    print("%s has drifted from solutions/random_init.py; run: python solutions/build_stub.py"
                          % os.path.relpath(stub, os.path.dirname(HERE)))
                    return 1
        return 0
    for stub in STUBS:
        with open(stub, "w", encoding="utf-8") as f:
            f.write(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
