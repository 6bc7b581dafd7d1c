"""Time the students' public checks in notebook mode against a bare `python -c "import numpy"`.

    python benchmarks/bench_public_checks.py [NOTEBOOK] [--repeat N]

Both commands are started as fresh processes from assignment/ (where a student runs them),
alternately, N times each; the script prints the median of each, their ratio, and the checks'
own seconds. The aim (issue 9): an answer in under 1 s, which is a ratio of a few times
starting Python with numpy. The default notebook holds the solution, helper cells, plots and
`import lesson_tools, matplotlib` lines, as a finished student notebook does.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSIGNMENT = os.path.join(ROOT, "assignment")
DEFAULT = os.path.join(ROOT, "tests", "corpus", "notebooks", "helpers_and_constants.ipynb")


def timed(cmd):
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ASSIGNMENT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit("benchmark: %s failed with exit %d:\n%s" % (" ".join(cmd), done.returncode,
                                                              done.stderr.decode()[-2000:]))
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    baseline_cmd = [sys.executable, "-c", "import numpy"]
    checks_cmd = [sys.executable, "public_checks.py", os.path.abspath(args.notebook)]
    timed(baseline_cmd), timed(checks_cmd)              # warm the file cache
    base, checks = [], []
    for _ in range(args.repeat):
        base.append(timed(baseline_cmd))
        checks.append(timed(checks_cmd))
    b, c = statistics.median(base), statistics.median(checks)
    print("notebook:                       %s" % os.path.relpath(args.notebook, ROOT))
    print("python -c 'import numpy':       %.3f s (median of %d)" % (b, args.repeat))
    print("python public_checks.py NB:     %.3f s (median of %d)" % (c, args.repeat))
    print("ratio checks / import numpy:    %.2f" % (c / b))
    print("the checks' own time:           %.3f s" % (c - b))


if __name__ == "__main__":
    main()
