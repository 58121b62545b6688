"""tfnotes.distribute: TF_CONFIG parsing, strategy choice, and LocalCluster's process hygiene (no TF
needed there)."""

import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from tfnotes import distribute
from tfnotes.distribute import LocalCluster, cluster_spec, free_port

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); treat it as dead
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def gone(pid: int, timeout: float = 10) -> bool:
    """True once `pid` has died (SIGKILL is delivered asynchronously; allow a moment under load)."""
    deadline = time.time() + timeout
    while alive(pid) and time.time() < deadline:
        time.sleep(0.05)
    return not alive(pid)


def test_cluster_spec_parses_and_rejects():
    assert cluster_spec("") == {}
    assert cluster_spec(
        '{"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", '
        '"index": 0}}'
    ) == {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    with pytest.raises(ValueError, match="not valid JSON"):
        cluster_spec("{worker: [1]}")
    with pytest.raises(ValueError, match="'cluster' object"):
        cluster_spec('{"cluster": ["127.0.0.1:1"]}')


def test_free_port_is_bindable_on_loopback():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # would raise if the port were taken


def run_python(code: str, env_extra: dict, timeout: float = 120) -> str:
    env = dict(os.environ, **env_extra)
    env.pop("TFNOTES_FULL", None)
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_strategy_default_without_tf_config():
    env = {"TF_CONFIG": ""}
    out = run_python(
        "import tfnotes; s = tfnotes.strategy(); assert s is tfnotes.strategy(); "
        "print('replicas', s.num_replicas_in_sync)",
        env,
    )
    assert "distribution: default strategy · 1 replica(s)" in out
    assert "replicas 1" in out


def test_strategy_multiworker_from_tf_config():
    config = json.dumps(
        {
            "cluster": {"worker": [f"127.0.0.1:{free_port()}"]},
            "task": {"type": "worker", "index": 0},
        }
    )
    out = run_python(
        "import tfnotes; s = tfnotes.strategy(); print(type(s).__name__, s.num_replicas_in_sync)",
        {"TF_CONFIG": config},
    )
    assert (
        "distribution: MultiWorkerMirroredStrategy · 1 replica(s) · 1 worker(s) in TF_CONFIG, "
        "this process is worker 0" in out
    )
    assert "warning" not in out  # one worker: Keras 3 fit works


DUMMY = textwrap.dedent("""
    import json, os, subprocess, sys, time
    cfg = json.loads(os.environ["TF_CONFIG"])
    print("index", cfg["task"]["index"], "workers", ",".join(cfg["cluster"]["worker"]), flush=True)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    print("child", child.pid, flush=True)
    if cfg["task"]["index"] == int(os.environ.get("DUMMY_EXIT", "-1")):
        sys.exit(3)
    time.sleep(300)
""")


@pytest.fixture()
def dummy(tmp_path):
    script = tmp_path / "dummy_worker.py"
    script.write_text(DUMMY)
    return script


def child_pid(cluster, i):
    cluster.wait_for_log(i, "child ", timeout=30)
    return int(cluster.log(i).split("child ")[1].split()[0])


def test_local_cluster_config_kill_and_cleanup(dummy, tmp_path):
    with pytest.raises(ZeroDivisionError):
        with LocalCluster(dummy, 2, log_dir=tmp_path / "logs") as cluster:
            assert len(set(cluster.addresses)) == 2
            assert all(a.startswith("127.0.0.1:") for a in cluster.addresses)
            assert json.loads(cluster.tf_config(1))["task"] == {"type": "worker", "index": 1}
            cluster.start(tag="a-")
            kids = [child_pid(cluster, i) for i in range(2)]
            pids = [cluster.procs[i].pid for i in range(2)]
            for i in range(2):
                assert f"index {i} workers {','.join(cluster.addresses)}" in cluster.log(i)
            assert (tmp_path / "logs" / "a-worker1.log").exists()
            cluster.kill(1)
            assert cluster.running() == [0]
            assert gone(kids[1]), "killing a worker must end its children too"
            with pytest.raises(RuntimeError, match="still run"):
                cluster.new_ports()
            raise ZeroDivisionError("a failing cell: the with-block must still end every process")
    for pid in pids + kids:
        assert gone(pid), f"process {pid} survived the failing block"


def test_local_cluster_wait_timeout_and_early_exit(dummy, tmp_path):
    env = dict(os.environ, DUMMY_EXIT="1")
    cluster = LocalCluster(dummy, 2, log_dir=tmp_path, env=env)
    cluster.start()
    with pytest.raises(RuntimeError, match="worker 1 exited with 3"):
        cluster.wait_for_log(1, "never printed", timeout=30)
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="worker 0 still running"):
        cluster.wait(timeout=1)
    assert time.monotonic() - start < 15
    assert cluster.running() == []
    assert len(set(cluster.new_ports())) == 2  # a fresh pick is allowed once nothing runs
    with pytest.raises(IndexError):
        cluster.tf_config(2)
    assert cluster in distribute._LIVE
