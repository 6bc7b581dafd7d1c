"""The isolated grader of an nbgrader course: the engine on one recorded file, results over a pipe.

Design
------
``IsolatedGrading(path)`` starts ``python -m autograder.platforms.nbgrader.isolated PATH`` in a
separate process. That process runs ``engine.grade`` (the engine behind ``python -m autograder
grade``; student code runs only in the engine's own sandboxed child) and renders the Result with
``report.results_json``, the same renderer as the command line's ``--results``. It sends that
JSON to the autograde step over a **pipe** it inherited as a private file descriptor: nothing is
read back from a file, so there is nothing a student's process could rewrite before the step
reads it (issue 12: a kernel rewrote the old results.json). Everything the grader prints goes to
a log that only explains a failure.

The file graded is the ledger's copy of the submission (``record.py``), made before any other
autograde step ran, so the score belongs to exactly the bytes whose hash the ledger keeps.

A grader that fails, overruns ``seconds``, or sends no valid JSON raises ``RuntimeError`` in
``wait``; the autograde step lets nbgrader report that student as failed rather than record a
score nobody computed.
"""

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile

from ...grading import engine, report

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
LOG_TAIL = 2000        # characters of the grader's log quoted when it fails


class IsolatedGrading:
    """The isolated grader running in the background on one file."""

    def __init__(self, path, owned=None):
        self.path, self.owned = path, owned       # owned: a folder to remove with the job (the file's)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, env.get("PYTHONPATH")]))
        env.pop("NBGRADER_EXECUTION", None)
        self.scratch = tempfile.mkdtemp(prefix="autograder-nbgrader-")     # mode 0700: cwd and log
        self.log = open(os.path.join(self.scratch, "grader.log"), "w+b")
        read, write = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "autograder.platforms.nbgrader.isolated", path, str(write)],
                cwd=self.scratch, env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                pass_fds=(write,))
        finally:
            os.close(write)
        self.pipe = os.fdopen(read, "rb")

    def wait(self, seconds):
        """The results.json dict; raises RuntimeError if the grader failed or overran ``seconds``."""
        chunks, data = [], None
        try:
            while True:
                ready, _, _ = select.select([self.pipe], [], [], seconds)
                if not ready:
                    raise RuntimeError("the autograder did not finish within %d seconds" % seconds)
                chunk = os.read(self.pipe.fileno(), 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
            code = self.proc.wait(seconds)
            try:
                data = json.loads(b"".join(chunks).decode("utf-8"))
            except ValueError as exc:
                data = "no valid results (%s)" % exc
            if code not in (0, 1) or not isinstance(data, dict) or not data.get("tests"):
                self.log.seek(0)
                said = self.log.read()[-LOG_TAIL:].decode("utf-8", "replace")
                raise RuntimeError("the autograder failed on %s (exit status %s): %s"
                                   % (self.path, code, said.strip() or data))
            return data
        finally:
            self.cancel()

    def cancel(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.pipe, self.log):
            f.close()
        for folder in (self.scratch, self.owned):
            if folder:
                shutil.rmtree(folder, ignore_errors=True)


def main(argv):
    """Grade ``argv[0]``; write results.json to the file descriptor ``argv[1]``; exit as the CLI does."""
    path, fd = argv[0], int(argv[1])
    out = os.fdopen(fd, "w", encoding="utf-8")
    try:
        result = engine.grade(path)
    except Exception as exc:     # a bug in the grader: the step must fail this student, not score it
        sys.stderr.write("internal error while grading %s: %s: %s\n" % (path, type(exc).__name__, exc))
        return 2
    sys.stdout.write(report.text(result))
    json.dump(report.results_json(result), out)
    out.close()
    return report.exit_status(result)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
