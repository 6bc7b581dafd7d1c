"""grade-all on Dask: the same sample graded by the local pool and by a LocalCluster gives the same CSV.

The cluster is a ``distributed.LocalCluster`` that this module starts (two worker processes of one
thread each, as docs/scale.md tells instructors to start theirs) and stops. Nothing here schedules:
the point is that ``--dask`` changes where a submission is graded and nothing else.
"""

import io
import json
import os
import shutil
import subprocess
import sys

import pytest

from autograder.errors import UsageError
from autograder.platforms import batch, batch_dask
from conftest import CORPUS, ROOT

distributed = pytest.importorskip("distributed", reason="pip install .[dask] to test grade-all --dask")

SAMPLE = {"alice.py": "valid/np_dot.py", "bob.py": "wrong/relu_hidden.py",
          "carol/random_init.py": "wrong/scale_0_1.py", "dave/work/random_init.py": "wrong/dw1_transposed.py",
          "erin.py": "hostile/os_exit_in_forward.py"}


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as c:
        yield c


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """Files and folders (one nested), a hostile one, and a folder without code."""
    root = tmp_path_factory.mktemp("dask") / "submitted"
    for target, source in SAMPLE.items():
        os.makedirs(os.path.dirname(str(root / target)), exist_ok=True)
        shutil.copy(os.path.join(CORPUS, source), root / target)
    (root / "carol" / "notes.txt").write_text("not code\n")
    (root / "frank").mkdir()
    (root / "frank" / "README.md").write_text("no code here\n")
    return root


def feedback(folder):
    """{student: results.json} without execution_time, the one field that is a measurement."""
    out = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            data = json.load(f)
        data.pop("execution_time")
        out[name] = data
    return out


def test_dask_grades_the_sample_exactly_as_the_local_pool(cluster, sample, tmp_path):
    local, remote = tmp_path / "local.csv", tmp_path / "dask.csv"
    batch.grade_all(str(sample), str(local), jobs=2, plot=False, stream=io.StringIO(),
                    results_dir=str(tmp_path / "local"))
    log = io.StringIO()
    done = batch.grade_all(str(sample), str(remote), plot=False, stream=log, results_dir=str(tmp_path / "dask"),
                           dask=cluster.scheduler_address)
    assert "on the Dask cluster at %s" % cluster.scheduler_address in log.getvalue()
    assert "5/5 100%" in log.getvalue()                      # the same progress bar
    assert local.read_bytes() == remote.read_bytes()
    rows = {r["student"]: r for r in done["rows"]}
    assert rows["alice"]["total"] == 100 and rows["frank"]["status"] == "missing"
    assert rows["erin"]["status"] == "graded" and rows["erin"]["points"]["forward.values"] == 0
    assert feedback(tmp_path / "local") == feedback(tmp_path / "dask")
    # Resume works the same way: nothing changed, nothing is sent to the cluster.
    again = batch.grade_all(str(sample), str(remote), plot=False, stream=io.StringIO(),
                            dask=cluster.scheduler_address)
    assert again["graded"] == 0 and again["skipped"] == 5
    assert local.read_bytes() == remote.read_bytes()


def test_grade_all_dask_on_the_command_line(cluster, sample, tmp_path):
    out = tmp_path / "cli.csv"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade-all", str(sample), "--csv", str(out),
                           "--no-plot", "--dask", cluster.scheduler_address],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr                  # frank is missing
    assert "Traceback" not in done.stderr
    local = tmp_path / "local.csv"
    batch.grade_all(str(sample), str(local), jobs=2, plot=False, stream=io.StringIO())
    assert out.read_bytes() == local.read_bytes()


def test_an_unreachable_scheduler_is_a_usage_error(monkeypatch):
    monkeypatch.setattr(batch_dask, "CONNECT_SECONDS", 2.0)
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        batch_dask.connect("tcp://127.0.0.1:9")


def test_pack_sends_code_files_only(sample):
    name, files = batch_dask.pack(str(sample / "carol"))
    assert name == "carol" and sorted(files) == ["random_init.py"]
    name, files = batch_dask.pack(str(sample / "alice.py"))
    assert name == "alice.py" and list(files) == [""]
    with open(os.path.join(CORPUS, SAMPLE["alice.py"]), "rb") as f:
        assert files[""] == f.read()


def test_a_client_of_the_callers_own_is_used_and_left_open(cluster, tmp_path):
    """What a notebook on JupyterHub does with dask-gateway: cluster.get_client(), then grade_all(dask=client)."""
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(os.path.join(CORPUS, "valid", "einsum.py"), subs / "gina.py")
    shutil.copy(os.path.join(CORPUS, "wrong", "scale_0_1.py"), subs / "hal.py")
    with distributed.Client(cluster) as client:
        done = batch.grade_all(str(subs), str(tmp_path / "g.csv"), plot=False, stream=io.StringIO(), dask=client)
        assert client.status == "running"
        assert client.submit(sum, [1, 2]).result() == 3          # still usable by the caller
    rows = {r["student"]: r for r in done["rows"]}
    assert rows["gina"]["total"] == 100 and rows["hal"]["points"]["init.small_scale"] == 0


# -- hypothesis' searches shared across workers, and saved for the next run ------------------------------
def _reset_memory():
    """On a worker: an empty memory, strict (a replay that went another way than the search would raise)."""
    from autograder.grading import search_memory
    search_memory.MEMORY = search_memory.SearchMemory(strict=True)


def _memory_counts():
    from autograder.grading import search_memory
    return search_memory.MEMORY.hits, search_memory.MEMORY.misses


def _twins(folder, name, count):
    """COUNT students who made the same mistake, each file distinct (a first line naming the student)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(os.path.join(CORPUS, "wrong", name + ".py"), encoding="utf-8") as f:
        text = f.read()
    for i in range(count):
        (folder / ("%s%d.py" % (name[:4], i))).write_text("# student %d\n%s" % (i, text))


def test_a_worker_replays_the_searches_another_worker_ran(cluster, tmp_path, monkeypatch):
    """One batch at a time, aimed at the two workers in turn: the second student's worker never searched."""
    _twins(tmp_path / "subs", "linear_output", 2)
    with distributed.Client(cluster) as client:
        client.run(_reset_memory)
        workers = sorted(client.scheduler_info()["workers"])
        aims = iter(workers)

        def one_at_a_time(self, client):
            return batch_dask._FULL if self.flying else next(aims)
        monkeypatch.setattr(batch_dask.DaskPool, "_target", one_at_a_time)
        done = batch.grade_all(str(tmp_path / "subs"), str(tmp_path / "g.csv"), plot=False, stream=io.StringIO(),
                               dask=client, dask_batch=1, results_dir=str(tmp_path / "feedback"))
        counts = client.run(_memory_counts)
    first, second = counts[workers[0]], counts[workers[1]]
    assert first[1] >= 1 and first[0] == 0        # the first worker searched for real...
    assert second[0] >= first[1] and second[1] == 0   # ...the second replayed every one of those searches
    assert done["searches"] == {"replayed": second[0], "searched": first[1]}
    twins = [feedback(tmp_path / "feedback")["line%d.json" % i] for i in range(2)]
    assert twins[0] == twins[1]                   # the same mistake, the same feedback, searched or replayed


def test_a_rerun_on_dask_starts_from_the_saved_memory(cluster, tmp_path):
    """Late submissions after a run: the saved memory reaches the workers, which replay instead of searching."""
    subs, csv_path = tmp_path / "subs", str(tmp_path / "g.csv")
    _twins(subs, "tanh_deriv_dropped", 1)
    with distributed.Client(cluster) as client:
        client.run(_reset_memory)
        first = batch.grade_all(str(subs), csv_path, plot=False, stream=io.StringIO(), dask=client)
        assert first["searches"]["searched"] >= 1 and os.path.exists(csv_path + ".searches.json")
        client.run(_reset_memory)                 # as if the cluster had been restarted since
        _twins(subs, "tanh_deriv_dropped", 3)     # two late submissions with the same mistake
        log = io.StringIO()
        second = batch.grade_all(str(subs), csv_path, plot=False, stream=log, dask=client)
    assert second["graded"] == 2 and second["skipped"] == 1
    assert "searches remembered from earlier runs" in log.getvalue()
    assert second["searches"]["searched"] == 0 and second["searches"]["replayed"] >= 2
    rows = {r["student"]: r for r in second["rows"]}
    assert rows["tanh1"]["points"] == rows["tanh2"]["points"] == rows["tanh0"]["points"]


def test_batches_are_cut_small_enough_to_balance_and_large_enough_to_pay():
    assert batch_dask.batch_size(1000, 2) == batch_dask.MAX_BATCH
    assert batch_dask.batch_size(5, 2) == 1                   # a small class: one student per task
    assert batch_dask.batch_size(48, 2) == 3                  # 16 tasks, 8 per worker
    assert batch_dask.batch_size(10, 0) == 2                  # no worker yet: counted as one


def test_a_worker_that_holds_fewer_paths_than_it_was_sent_is_sent_them_again():
    pool = batch_dask.DaskPool("tcp://unused:8786")
    pool.searches = ["p%d" % i for i in range(10)]
    pool.sent = {"w1": 10, "w2": 10}
    pool.flying = {"f1": (["k"], "w1", 6)}
    pool._caught_up("w1", 6)          # it holds all it was sent before its batch in flight: nothing to resend
    assert pool.sent["w1"] == 10
    pool._caught_up("w1", 2)          # restarted (or it ran another's batch): from its 2 on, again
    assert pool.sent["w1"] == 2
    pool._caught_up("w2", 0)          # nothing in flight: it should hold all 10
    assert pool.sent["w2"] == 0
    pool._caught_up("w3", 0)          # a worker this run never aimed at, or no count: nothing to do
    assert "w3" not in pool.sent


class _FakeClient:
    """What DaskPool._fill asks of a client: the workers, and submit (recorded, nothing run)."""

    def __init__(self, workers):
        self.known, self.submitted = workers, []

    def scheduler_info(self):
        return {"workers": {w: {"nthreads": 1} for w in self.known}}

    def submit(self, fn, *args, **kw):
        self.submitted.append((args, kw))
        return len(self.submitted)


class _Done(list):
    add = list.append


def test_each_batch_carries_the_paths_its_worker_has_not_been_sent():
    pool = batch_dask.DaskPool("tcp://unused:8786", searches=["saved1", "saved2"], fingerprint="f")
    client = _FakeClient(["w1", "w2"])
    pending = [[("k%d" % i, "s%d.py" % i, {"": b""}, [])] for i in range(6)][::-1]
    pool._fill(client, pending, _Done())
    sent = [(kw["workers"], args[3], args[4]) for args, kw in client.submitted]
    assert sent == [(["w1"], 0, ["saved1", "saved2"]), (["w2"], 0, ["saved1", "saved2"]),
                    (["w1"], 2, []), (["w2"], 2, [])]            # DEPTH batches each, the saved paths once
    assert len(pending) == 2
    pool.searches.append("found on w2")                          # w2's first batch came back with a path
    pool.flying.pop(2)
    pool._fill(client, pending, _Done())
    assert client.submitted[-1][1]["workers"] == ["w2"] and client.submitted[-1][0][3:] == (2, ["found on w2"])
    lonely = batch_dask.DaskPool("tcp://unused:8786", searches=["saved1"], fingerprint="f")
    nobody = _FakeClient([])                                     # no worker yet (a cluster still scaling up)
    lonely._fill(nobody, [[("k", "s.py", {"": b""}, [])]] * 5, _Done())
    assert [(kw["workers"], args[3:]) for args, kw in nobody.submitted] == [(None, (0, ["saved1"]))] * 2
