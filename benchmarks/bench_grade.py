"""Time grading one submission against the floor, `python -c "import numpy"`, in the same run.

    python benchmarks/bench_grade.py [SUBMISSION] [--repeat N]

Both commands are started as fresh processes, alternately, N times each (after one
untimed round that warms the file cache); the script prints the median wall time of
each, their ratio, and CPU seconds of each (what other load on the machine cannot
inflate). The ratio, not the seconds, is the figure to compare across machines. The
goal (issue 14): one ``grade`` at most GOAL_FLOORS floors. A grade needs two Pythons
with numpy (the grader and the child that runs the student's code), so about 2 floors
is the least it can cost on one core; the two start in parallel where a core is free.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT = os.path.join(ROOT, "solutions", "random_init.py")
GOAL_FLOORS = 2.5


def compiled():
    """Byte-compile the grader first, as ``pip install`` does: a checkout run with PYTHONDONTWRITEBYTECODE
    set would otherwise compile every module from source on every run and time that instead."""
    import compileall
    compileall.compile_dir(os.path.join(ROOT, "autograder"), quiet=1)


def _cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd):
    """(wall seconds, CPU seconds of the command and its children)."""
    start, cpu = time.perf_counter(), _cpu()
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
    if done.returncode not in (0, 1):
        sys.exit("benchmark: %s failed with exit %d:\n%s" % (" ".join(cmd), done.returncode,
                                                              done.stderr.decode()[-2000:]))
    return elapsed, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submission", nargs="?", default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    compiled()
    floor_cmd = [sys.executable, "-c", "import numpy"]
    grade_cmd = [sys.executable, "-m", "autograder", "grade", args.submission]
    timed(floor_cmd), timed(grade_cmd)              # warm the file cache
    load = os.getloadavg()
    floor, grade = [], []
    for _ in range(args.repeat):
        floor.append(timed(floor_cmd))
        grade.append(timed(grade_cmd))
    f, g = statistics.median(x for x, _ in floor), statistics.median(x for x, _ in grade)
    fc, gc = statistics.median(x for _, x in floor), statistics.median(x for _, x in grade)
    print("load average before: %.2f %.2f %.2f; after: %.2f %.2f %.2f" % (load + os.getloadavg()))
    print("submission:                 %s" % os.path.relpath(args.submission, ROOT))
    print('floor, python -c "import numpy": %.3f s wall, %.3f s CPU (medians of %d)' % (f, fc, args.repeat))
    print("python -m autograder grade:      %.3f s wall, %.3f s CPU (medians of %d)" % (g, gc, args.repeat))
    print("ratio grade / floor:             %.2f wall, %.2f CPU" % (g / f, gc / fc))
    print("goal: at most %.1f floors: %s" % (GOAL_FLOORS, "MET" if g / f <= GOAL_FLOORS else "NOT MET"))
    return g / f

if __name__ == "__main__":
    main()
