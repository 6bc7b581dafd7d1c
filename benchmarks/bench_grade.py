"""Time grading one submission against a bare `import numpy, hypothesis`, in the same run.

    python benchmarks/bench_grade.py [SUBMISSION] [--repeat N]

Both commands are started as fresh processes, alternately, N times each; the
script prints the median of each and their ratio. The ratio, not the seconds,
is the figure to compare across machines (the aim is at most 2x: grading should
cost about what starting Python with its two libraries costs).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT = os.path.join(ROOT, "solutions", "random_init.py")


def timed(cmd):
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit("benchmark: %s failed with exit %d:\n%s" % (" ".join(cmd), done.returncode,
                                                              done.stderr.decode()[-2000:]))
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submission", nargs="?", default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    baseline_cmd = [sys.executable, "-c", "import numpy, hypothesis"]
    grade_cmd = [sys.executable, "-m", "autograder", "grade", args.submission]
    timed(baseline_cmd), timed(grade_cmd)              # warm the file cache
    base, grade = [], []
    for _ in range(args.repeat):
        base.append(timed(baseline_cmd))
        grade.append(timed(grade_cmd))
    b, g = statistics.median(base), statistics.median(grade)
    print("submission:                  %s" % os.path.relpath(args.submission, ROOT))
    print("import numpy, hypothesis:    %.3f s (median of %d)" % (b, args.repeat))
    print("python -m autograder grade:  %.3f s (median of %d)" % (g, args.repeat))
    print("ratio grade / import:        %.2f" % (g / b))


if __name__ == "__main__":
    main()
