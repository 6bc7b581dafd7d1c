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
