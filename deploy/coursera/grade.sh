#!/bin/sh
# Entry point of the Coursera grader image (its ENTRYPOINT): run once per submission, as a non-root
# user without network. Grades /shared/submission/ and writes /shared/feedback.json and
# /shared/htmlFeedback.html; the part id comes from the environment variable partId.
#
# To try it outside Coursera: COURSERA_SHARED replaces /shared and AUTOGRADER_PYTHON the interpreter.
# Only instructors see what this prints (stdout and stderr); learners see the two files.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
python="${AUTOGRADER_PYTHON:-/usr/local/bin/python3}"
shared="${COURSERA_SHARED:-/shared}"
# Start in the grader's own folder: `python -m` puts the working directory first on sys.path,
# and this one holds the grader and nothing a submission can write.
cd "$here" || exit 2
PYTHONPATH="$here" LANG=C.UTF-8 exec "$python" -m autograder coursera-run --shared "$shared" 1>&2
