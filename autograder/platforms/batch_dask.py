"""grade-all on many machines: ``grade-all --dask SCHEDULER`` runs each submission on a Dask cluster.

Design
------
* Same work, another executor. ``DaskPool`` has the interface of ``batch_pool.Pool`` (``run(tasks,
  on_done, tick)``): grade-all keeps its CSV, state file, resume and progress bar, and only where a
  submission is graded changes. Dask runs the tasks (``distributed.Client``); the client only keeps
  each worker fed with a batch or two, aimed at it so that searches can be shared (below). A worker
  that dies is Dask's to retry; a task that fails for good becomes an ``error`` row for each of its
  students.
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
* Several students per task. A Dask task has a cost of its own (the scheduler's bookkeeping, two
  network hops, a thread hand-off on the worker), paid per task, so a task grades a batch of up to
  MAX_BATCH students, cut small enough that each worker still gets TASKS_PER_WORKER of them and the
  last ones even out (``batch_size``; ``grade-all --dask-batch N`` overrides it).
* Shared searches, as on the local pool. Each task's answer carries the search paths its worker
  found (grading/search_memory.py); the client keeps them in one list, in arrival order, after the
  paths of a saved memory (batch_files.py). It aims each batch at one worker (the one with the
  fewest batches queued, at most DEPTH; ``allow_other_workers`` lets Dask move it if that worker
  goes) and sends with it the paths that worker has not been sent yet, so a mistake searched on one
  worker is replayed on the others. A worker says how many of the run's paths it holds; one that
  holds fewer than it was sent (restarted, or it ran a batch aimed at another) is sent the rest
  again. A worker whose grader differs from the client's (its ``grader_fingerprint``) neither takes
  nor gives paths: they would not replay exactly there. Which worker knows what never changes a
  grade, only how fast it comes.
* Contained as locally. Each submission still runs in a fresh child under a private uid, which
  needs the worker to run as root, in a container of its own (docs/scale.md).

``distributed`` is an optional dependency (``pip install .[dask]``); it is imported here only, inside
the functions that need it, and only when ``--dask`` is given.
"""

import os
import secrets
import shutil
import tempfile
import threading
import time
import warnings

from ..errors import UsageError
from ..grading import search_memory
from ..sandbox import pool, safefs, submission
from .batch_discover import is_code, read_code
from .batch_files import grader_fingerprint
from .batch_pool import count_replays, error_row, grade_row

CONNECT_SECONDS = 30.0
MAX_BATCH = 8           # students per task at most: a task's own cost (scheduler, transfer) shared by 8
TASKS_PER_WORKER = 8    # ...and at least this many tasks per worker, so that the last ones even out
DEPTH = 2               # batches queued per worker: the next waits on the worker while one is graded
WORKERS_EVERY = 1.0     # seconds between two looks at the scheduler's list of workers
_FULL = object()        # every known worker has DEPTH batches
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
        from distributed import Client     # lazy: optional extra [dask]: only a --dask run needs it
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
    ``searches``: saved search paths (batch_files.py) handed to every worker with its first task;
    ``fingerprint``: the grader's (``batch_files.grader_fingerprint``), which a worker must share to
    exchange paths; ``batch``: students per task (default: ``batch_size``).
    A task is bounded by the sandbox's own limits (every load and call has a deadline), not by
    grade-all's ``--timeout``, which stops local workers only.
    """

    def __init__(self, address, searches=(), fingerprint=None, batch=None):
        self.address, self.jobs, self.batch = address, None, batch
        self.searches, self.fingerprint = list(searches), fingerprint
        self.replays = [0, 0]                    # searches replayed from memory, searches run for real
        self.run_id = secrets.token_hex(8)       # a worker's count of paths it holds is per run
        self.sent, self.flying, self.seen_at, self.known = {}, {}, 0.0, []

    def workers(self, client):
        info = client.scheduler_info()
        return sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())

    def run(self, tasks, on_done, tick=None):
        from distributed import as_completed     # lazy: optional extra [dask], as in ``connect``
        client = connect(self.address)
        try:
            self.jobs = self.workers(client)
            pending = self._packs(tasks, on_done)
            size = self.batch or batch_size(len(pending), self.jobs)
            pending = [pending[i:i + size] for i in range(0, len(pending), size)][::-1]
            done = as_completed()
            self._fill(client, pending, done)
            last = time.monotonic()
            for future in done:
                self._collect(future, on_done)
                self._fill(client, pending, done)
                if tick and time.monotonic() - last > 0.2:
                    tick()
                    last = time.monotonic()
        finally:
            if client is not self.address:    # ours to close; a client the caller passed stays open
                client.close()

    def _packs(self, tasks, on_done):
        """[(key, name, files, skipped)] of every task; an unreadable one gets its error row at once."""
        packs = []
        for key, path in tasks:
            try:
                files, skipped = read_code(path)
            except OSError as exc:
                on_done(key, error_row("cannot read: %s" % exc))
                continue
            packs.append((key, os.path.basename(os.path.normpath(path)), files, skipped))
        return packs

    def _fill(self, client, pending, done):
        """Submit batches until every worker has DEPTH of them (see the design: who gets which paths)."""
        while pending:
            target = self._target(client)
            if target is _FULL:
                return
            batch = pending.pop()
            start = 0 if target is None else self.sent.get(target, 0)     # any worker may take it: send all
            future = client.submit(grade_batch, [p[1:] for p in batch], self.run_id, self.fingerprint, start,
                                   self.searches[start:], workers=None if target is None else [target],
                                   allow_other_workers=True, pure=False)
            if target is not None:
                self.sent[target] = len(self.searches)
            self.flying[future] = ([p[0] for p in batch], target, start)
            done.add(future)

    def _target(self, client):
        """The known worker with the fewest batches in flight, under DEPTH; None (any) while none is known."""
        if time.monotonic() - self.seen_at > WORKERS_EVERY:
            self.known = sorted(client.scheduler_info().get("workers", {}))
            self.seen_at = time.monotonic()
        load = {}
        for _, target, _ in self.flying.values():
            load[target] = load.get(target, 0) + 1
        free = [(load.get(w, 0), w) for w in self.known if load.get(w, 0) < DEPTH]
        if free:
            return min(free)[1]
        return None if not self.known and load.get(None, 0) < DEPTH else _FULL

    def _collect(self, future, on_done):
        """The rows of a finished batch; its worker's new paths join the run's list."""
        keys, target, start = self.flying.pop(future)
        try:
            out = future.result()
            rows = out["rows"]
            if len(rows) != len(keys):
                raise ValueError("%d rows for %d students" % (len(rows), len(keys)))
        except Exception as exc:     # a task that failed for good (KilledWorker, a lost worker)
            rows = [error_row("the Dask cluster could not grade it (%s: %s); grade it alone with "
                              "python -m autograder grade PATH" % (type(exc).__name__, exc))] * len(keys)
            out = {}
        future.release()
        self.searches.extend(out.get("searches") or ())
        count_replays(self.replays, out.get("replays"))
        self._caught_up(out.get("worker"), out.get("have"))
        for key, row in zip(keys, rows):
            on_done(key, row)

    def _caught_up(self, worker, have):
        """A worker that holds fewer paths than were sent it (restarted, or it ran another's batch) gets the
        missing ones again with its next batch."""
        if worker not in self.sent or not isinstance(have, int):
            return
        expected = min([s for _, t, s in self.flying.values() if t == worker], default=self.sent[worker])
        if have < expected:
            self.sent[worker] = have


def batch_size(students, workers):
    """Students per task: at most MAX_BATCH, and at least TASKS_PER_WORKER tasks per worker so the end balances."""
    return max(1, min(MAX_BATCH, -(-students // (max(1, workers) * TASKS_PER_WORKER))))


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


def _write(scratch, name, files, skipped):
    """Write one packed submission into SCRATCH under its own name; its path."""
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
    return target


def grade_packed(name, files, skipped=()):
    """Write one submission into scratch, grade it, return batch_pool's row (the worker's lock held)."""
    _warm()
    scratch = tempfile.mkdtemp(prefix="autograder-dask-")
    try:
        try:
            target = _write(scratch, name, files, skipped)
        except OSError as exc:
            return error_row("the Dask worker could not write the submission (%s)" % exc)
        return grade_row(target, launcher=_WORKER["launcher"])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _learn(run_id, fingerprint, start, searches):
    """Take the paths the client sent (the ones from ``start`` on of this run's list); True if sharing."""
    memory = search_memory.MEMORY
    memory.sharing = fingerprint is not None and fingerprint == _fingerprint()
    if not memory.sharing:
        return False                      # another grader's paths would not replay exactly: keep to our own
    if _WORKER.get("run") != run_id:
        _WORKER.update(run=run_id, have=0)
        memory.drain()                    # what an earlier run left unsent belongs to that run
    memory.apply(searches)
    if start <= _WORKER["have"]:
        _WORKER["have"] = max(_WORKER["have"], start + len(searches))
    return True


def grade_batch(packs, run_id, fingerprint, start, searches):
    """Runs on a Dask worker: learn the paths sent, grade [(name, files, skipped)] in order, and return the
    rows, the paths found meanwhile, and how many of the run's paths this worker holds."""
    with _WORKER["lock"]:
        _warm()
        sharing = _learn(run_id, fingerprint, start, searches)
        memory = search_memory.MEMORY
        hits, misses = memory.hits, memory.misses
        rows = [grade_packed(name, files, skipped) for name, files, skipped in packs]
        return {"rows": rows, "searches": memory.drain() if sharing else [], "worker": _address(),
                "have": _WORKER.get("have"), "replays": (memory.hits - hits, memory.misses - misses)}


def _fingerprint():
    if "fingerprint" not in _WORKER:
        _WORKER["fingerprint"] = grader_fingerprint()
    return _WORKER["fingerprint"]


def _address():
    from distributed import get_worker       # lazy: optional extra [dask]: we are on a Dask worker here
    try:
        return get_worker().address
    except ValueError:                        # called outside a worker (a test): no address to report
        return None
