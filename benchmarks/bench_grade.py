"""Time grading one submission against the floor, `python -c "import numpy"`, in the same run.

    python benchmarks/bench_grade.py [SUBMISSION] [--repeat N] [--cluttered]

Both commands are started as fresh processes, alternately, N times each (after one
untimed round that warms the file cache); the script prints the median wall time of
each, their ratio, and CPU seconds of each (what other load on the machine cannot
inflate). The ratio, not the seconds, is the figure to compare across machines. The
goal (issue 25, tightened from issue 14's 2.5): one ``grade`` at most GOAL_FLOORS floors.
A grade needs two Pythons with numpy (the grader and the child that runs the student's code), so about 2 floors
is the least it can cost on one core; the two start in parallel where a core is free.

With ``--cluttered`` the same is timed twice in one run: on the machine as it is, then with
/tmp cluttered as a shared machine's often is (issue 25: ``CLUTTER_FILES`` empty files in
``CLUTTER_FOLDERS`` world-readable folders made directly under /tmp for the run and removed
afterwards), and both ratios are printed. The grader's cost must not grow with files that have
nothing to do with grading (docs/scale.md).
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT = os.path.join(ROOT, "solutions", "random_init.py")
GOAL_FLOORS = 2.0
CLUTTER_FOLDERS = 400       # issue 25's cluttered /tmp: 100,000 empty files in 400 world-readable folders
CLUTTER_FILES = 100000


class Clutter:
    """``with Clutter():`` CLUTTER_FILES empty files in CLUTTER_FOLDERS folders (mode 0755) directly under
    /tmp, removed on exit."""

    def __enter__(self):
        self.folders = []
        per = CLUTTER_FILES // CLUTTER_FOLDERS
        try:
            for i in range(CLUTTER_FOLDERS):
                folder = "/tmp/bench-clutter-%d-%03d" % (os.getpid(), i)
                os.mkdir(folder)
                self.folders.append(folder)
                os.chmod(folder, 0o755)
                for j in range(per):
                    os.close(os.open(os.path.join(folder, "f%03d" % j), os.O_CREAT | os.O_WRONLY, 0o644))
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)


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


def measure(submission, repeat):
    """Medians (floor wall, grade wall, floor CPU, grade CPU) of REPEAT alternate runs."""
    floor_cmd = [sys.executable, "-c", "import numpy"]
    grade_cmd = [sys.executable, "-m", "autograder", "grade", submission]
    timed(floor_cmd), timed(grade_cmd)              # warm the file cache
    floor, grade = [], []
    for _ in range(repeat):
        floor.append(timed(floor_cmd))
        grade.append(timed(grade_cmd))
    return (statistics.median(x for x, _ in floor), statistics.median(x for x, _ in grade),
            statistics.median(x for _, x in floor), statistics.median(x for _, x in grade))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submission", nargs="?", default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--cluttered", action="store_true",
                        help="also time with %d empty files in %d folders under /tmp" % (CLUTTER_FILES,
                                                                                       CLUTTER_FOLDERS))
    args = parser.parse_args()
    compiled()
    load = os.getloadavg()
    ratios = {"clean": measure(args.submission, args.repeat)}
    if args.cluttered:
        with Clutter():
            ratios["cluttered"] = measure(args.submission, args.repeat)
    print("load average before: %.2f %.2f %.2f; after: %.2f %.2f %.2f" % (load + os.getloadavg()))
    print("submission:                 %s" % os.path.relpath(args.submission, ROOT))
    for tmp, (f, g, fc, gc) in ratios.items():
        if args.cluttered:
            print("-- /tmp %s" % ("as it is" if tmp == "clean" else "cluttered (%d files in %d folders)"
                                  % (CLUTTER_FILES, CLUTTER_FOLDERS)))
        print('floor, python -c "import numpy": %.3f s wall, %.3f s CPU (medians of %d)' % (f, fc, args.repeat))
        print("python -m autograder grade:      %.3f s wall, %.3f s CPU (medians of %d)" % (g, gc, args.repeat))
        print("ratio grade / floor:             %.2f wall, %.2f CPU" % (g / f, gc / fc))
        print("goal: at most %.1f floors: %s" % (GOAL_FLOORS, "MET" if g / f <= GOAL_FLOORS else "NOT MET"))
    if args.cluttered:
        (f, g, fc, gc), (f2, g2, fc2, gc2) = ratios["clean"], ratios["cluttered"]
        print("cluttered / clean: %.2f wall (floors %.2f against %.2f), %.2f CPU (%.2f against %.2f)"
              % ((g2 / f2) / (g / f), g2 / f2, g / f, (gc2 / fc2) / (gc / fc), gc2 / fc2, gc / fc))
    f, g, _, _ = ratios["clean"]
    return g / f

if __name__ == "__main__":
    main()
