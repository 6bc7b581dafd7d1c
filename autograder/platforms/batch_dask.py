"""grade-all on many machines: ``grade-all --dask SCHEDULER`` runs each submission on a Dask cluster.

Design
------
* Same work, another executor. ``DaskPool`` has the interface of ``batch_pool.Pool`` (``run(tasks,
  on_done, tick)``): grade-all keeps its CSV, state file, resume and progress bar, and only where a
  submission is graded changes. The scheduling is Dask's (``distributed.Client``); nothing here
  schedules. A worker that dies is Dask's to retry; a task that fails for good becomes that
  student's ``error`` row.
* Nothing shared but the scheduler. A task carries the submission's code files themselves (a
  submission is a few kilobytes), not a path, so workers need no shared file system: a pod of
  dask-gateway on JupyterHub grades exactly what the instructor's machine read. They are read by
  ``batch_discover.read_code``, the reader grade-all's resume key uses, through the file-safety
  layer: no link is followed and only regular files are read, so a link to the reference or to a
  classmate's file ships nothing (the local pool's grader skips it too). The worker writes them
  into a scratch folder of its own, under the submission's own file or folder name, and grades
  that with ``batch_pool.grade_row``, the very function the local pool runs.
* The same notes as locally. What the reader skipped (a link, a FIFO, a folder too deep, a file
  too large) is remade in the worker's copy as an inert stand-in: a link that leads nowhere, an
  empty FIFO, the empty folder, a sparse file of the same excess size. The worker's grader skips
  each for the same reason, so a student's feedback says the same on Dask as on the local pool.
* Warm workers. The first task on a worker process starts the warm pool's launcher
  (sandbox/pool.py) and imports the grader once; later tasks reuse both. Tasks on one worker
  process are graded one at a time (a lock), so a worker started with several threads is still
  safe; start workers with ``--nthreads 1`` and as many processes as cores instead (docs/scale.md).
* Contained as locally. Each submission still runs in a fresh child under a private uid, which
  needs the worker to run as root, in a container of its own (docs/scale.md).

``distributed`` is an optional dependency (``pip install .[dask]``); it is imported here only, inside
the functions that need it, and only when ``--dask`` is given.
"""

import os
import shutil
import tempfile
import threading
import time
import warnings

from ..errors import UsageError
from ..sandbox import pool, safefs, submission
from .batch_discover import is_code, read_code
from .batch_pool import error_row, grade_row

CONNECT_SECONDS = 30.0
NOWHERE = "/nonexistent/autograder-stand-in"     # where a stand-in link leads: nothing the grader could read
_WORKER = {"ready": False, "lock": threading.Lock()}


class DaskUnavailable(UsageError):
    """--dask was given, but distributed is missing or the scheduler cannot be reached."""


# -- the instructor's side -------------------------------------------------------------------------
def pack(path):
    """(name, {relative path: bytes}) of a submission: one file, or a folder's code files, read with no link
    followed (``batch_discover.read_code``); raises ``OSError`` when PATH itself cannot be read."""
    name = os.path.basename(os.path.normpath(path))
    files, _ = read_code(path)
    return name, files


def connect(address):
    try:
        from distributed import Client     # an optional extra (.[dask]): only a --dask run needs it
    except ImportError:
        raise DaskUnavailable("--dask needs the distributed package: pip install 'random-init-autograder[dask]' "
                              "(or pip install distributed==2026.8.0)") from None
    if isinstance(address, Client):
        return address                        # the caller's own client (dask-gateway: cluster.get_client())
    if not isinstance(address, str):
        return Client(address)                # a Cluster object: LocalCluster, GatewayCluster (with its security)
    try:
        return Client(address, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError) as exc:
        raise DaskUnavailable("cannot reach the Dask scheduler at %s (%s); check the address "
                              "(tcp://HOST:8786) and that the scheduler is running" % (address, exc)) from None


class DaskPool:
    """Grades [(key, path)] on a Dask cluster; the same interface as ``batch_pool.Pool``.

    ``address``: a scheduler address (``tcp://HOST:8786``), a Cluster object, or a distributed Client.
    A task is bounded by the sandbox's own limits (every load and call has a deadline), not by
    grade-all's ``--timeout``, which stops local workers only.
    """

    def __init__(self, address):
        self.address, self.jobs = address, None

    def workers(self, client):
        info = client.scheduler_info()
        return sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())

    def run(self, tasks, on_done, tick=None):
        from distributed import as_completed     # an optional extra, as in ``connect``
        client = connect(self.address)
        try:
            self.jobs = self.workers(client)
            futures = {}
            for key, path in tasks:
                try:
                    files, skipped = read_code(path)
                except OSError as exc:
                    on_done(key, error_row("cannot read: %s" % exc))
                    continue
                future = client.submit(grade_packed, os.path.basename(os.path.normpath(path)), files, skipped,
                                       pure=False)
                futures[future] = key
            done = as_completed(list(futures), with_results=False)
            last = time.monotonic()
            for future in done:
                key = futures[future]
                try:
                    row = future.result()
                except Exception as exc:     # a task that failed for good (KilledWorker, a lost worker)
                    row = error_row("the Dask cluster could not grade it (%s: %s); grade it alone with "
                                    "python -m autograder grade PATH" % (type(exc).__name__, exc))
                future.release()
                on_done(key, row)
                if tick and time.monotonic() - last > 0.2:
                    tick()
                    last = time.monotonic()
        finally:
            if client is not self.address:    # ours to close; a client the caller passed stays open
                client.close()


# -- the worker's side -----------------------------------------------------------------------------
def _warm():
    """Once per worker process: the warm pool, one BLAS thread, the grader imported."""
    if _WORKER["ready"]:
        return
    for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(key, "1")
    # Dask's own threads use the random module while a search runs in this one; hypothesis sees the
    # global state move and warns as if a strategy had used it. Its draws come from its own generator,
    # not the random module (tests/test_dask.py: the same feedback as the local pool), so the warning
    # is about another thread, not about the grading.
    warnings.filterwarnings("ignore", message="Do not use the `random` module inside strategies")
    _WORKER["launcher"] = pool.Launcher()   # every grade on this worker forks its child from it
    _WORKER["ready"] = True


def _stand_ins(target, skipped):
    """Remake in TARGET, as inert stand-ins, what the instructor's reader skipped (see the design above)."""
    for rel, why in skipped:
        full = os.path.normpath(os.path.join(target, rel))
        if not rel or not full.startswith(target + os.sep):
            continue
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if why == safefs.SKIPPED_LINK:      # a code name: a link to nothing; any other name was a link to a folder
            os.symlink(NOWHERE if is_code(os.path.basename(full)) else ".", full)
        elif why == safefs.SKIPPED_SPECIAL:
            os.mkfifo(full, 0o600)
        elif why == safefs.TOO_DEEP % submission.MAX_DEPTH:
            os.makedirs(full, exist_ok=True)
        elif why.startswith("is larger than"):
            with open(full, "wb") as f:
                f.truncate(submission.MAX_BYTES + 1)     # sparse: no disk, and the same note


def grade_packed(name, files, skipped=()):
    """Runs on a Dask worker: write the submission into scratch, grade it, return batch_pool's row."""
    with _WORKER["lock"]:
        _warm()
        scratch = tempfile.mkdtemp(prefix="autograder-dask-")
        try:
            target = os.path.join(scratch, os.path.basename(name) or "submission")
            if "" in files:
                safefs.write_bytes(target, files[""])
            else:
                os.makedirs(target, exist_ok=True)
                for rel, data in files.items():
                    full = os.path.normpath(os.path.join(target, rel))
                    if full.startswith(target + os.sep):      # a path that would leave the folder is not ours
                        safefs.write_bytes(full, data)
                _stand_ins(target, skipped)
            return grade_row(target, launcher=_WORKER["launcher"])
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
