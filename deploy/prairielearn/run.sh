#!/bin/sh
# PrairieLearn external-grader entrypoint of the random-initialization assignment.
# It lives in the course at serverFilesCourse/random_init_grader/run.sh, next to the grader
# (autograder/), and PrairieLearn copies that folder to /grade/serverFilesCourse/random_init_grader/.
# Grades /grade/student and writes /grade/results/results.json.
#
# To try it outside PrairieLearn: PL_GRADE_ROOT replaces /grade and AUTOGRADER_PYTHON the interpreter.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
root="${PL_GRADE_ROOT:-/grade}"
python="${AUTOGRADER_PYTHON:-python3}"
mkdir -p "$root/results"
# Start in the grader's own folder: `python -m` puts the working directory first on sys.path.
cd "$here" || exit 2
PYTHONPATH="$here" LANG=C.UTF-8 exec "$python" -m autograder prairielearn-run --root "$root"
