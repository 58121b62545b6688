"""Pick TensorFlow's distribution strategy, and run a small multi-worker cluster on this machine.

* :func:`strategy` — used by ``chapter5/ComplexNet``, ``chapter5/distributed_training`` and both
  ``bert_exp`` notebooks: they build and compile their models under ``strategy.scope()`` and
multiply their
  per-replica batch size by ``strategy.num_replicas_in_sync``. On one CPU or one GPU this is
  TensorFlow's default strategy (a no-op).
* :class:`LocalCluster` — used by ``chapter5/distributed_training``: starts N worker processes of
  one training script on 127.0.0.1 with a ``TF_CONFIG`` each, collects their logs, kills/restarts
single workers,
  and always ends every process it started (on ``with`` exit, on errors, and at interpreter exit).
"""

from __future__ import annotations

import atexit
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import weakref

from . import env

_CACHE: dict = {}


def cluster_spec(tf_config: str | None = None) -> dict:
    """Return the ``cluster`` part of ``TF_CONFIG`` (``{}`` when unset); ``ValueError`` names a
    malformed value."""
    raw = os.environ.get("TF_CONFIG", "") if tf_config is None else tf_config
    if not raw.strip():
        return {}
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValueError(f"TF_CONFIG is not valid JSON ({err}): {raw[:80]!r}") from None
    cluster = config.get("cluster", {}) if isinstance(config, dict) else None
    if not isinstance(cluster, dict):
        raise ValueError(
            f"TF_CONFIG must be a JSON object with a 'cluster' object, got {raw[:80]!r}"
        )
    return cluster


def strategy(verbose: bool = True):
    """Return the ``tf.distribute`` strategy for this process (created once, then reused).

    * ``TF_CONFIG`` describes a cluster with workers → ``tf.distribute.MultiWorkerMirroredStrategy``
      (this process is the worker ``TF_CONFIG["task"]`` names; call this before the first TF op
      runs);
    * more than one GPU visible → ``tf.distribute.MirroredStrategy`` (one replica per GPU);
    * otherwise → the default strategy (one replica; code under ``strategy.scope()`` runs
      unchanged).

    Prints which one and how many replicas when ``verbose``. Keras 3's ``Model.fit`` does not work
    with ``MultiWorkerMirroredStrategy`` yet (keras-team/keras#20585): with several workers and
    Keras 3 a warning line says to use tf-keras (``TF_USE_LEGACY_KERAS=1``) for ``fit``; custom
    training loops work with either.
    """
    if "strategy" in _CACHE:
        return _CACHE["strategy"]
    import tensorflow as tf

    cluster = cluster_spec()
    workers = sum(len(cluster.get(kind, [])) for kind in ("chief", "worker"))
    gpus = tf.config.list_physical_devices("GPU")
    if workers >= 1:
        task = json.loads(os.environ["TF_CONFIG"]).get("task", {})
        chosen = tf.distribute.MultiWorkerMirroredStrategy()
        name = "MultiWorkerMirroredStrategy"
        me = f"{task.get('type', '?')} {task.get('index', '?')}"
        where = f"{workers} worker(s) in TF_CONFIG, this process is {me}"
    elif len(gpus) > 1:
        chosen = tf.distribute.MirroredStrategy()
        name, where = "MirroredStrategy", f"{len(gpus)} GPUs on this machine"
    else:
        chosen = tf.distribute.get_strategy()
        name, where = "default strategy", "one device" + (" (GPU)" if gpus else " (CPU)")
    _CACHE["strategy"] = chosen
    if verbose:
        print(f"distribution: {name} · {chosen.num_replicas_in_sync} replica(s) · {where}")
        if workers > 1 and not env.legacy_keras():
            print(
                "warning: Keras 3 Model.fit does not support MultiWorkerMirroredStrategy yet "
                "(keras-team/keras#20585); set TF_USE_LEGACY_KERAS=1 before importing TensorFlow "
                "to use tf-keras"
            )
    return chosen


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free on ``host`` a moment ago (the OS picks it; never a fixed
    number)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


_LIVE: "weakref.WeakSet[LocalCluster]" = weakref.WeakSet()


@atexit.register
def _close_all() -> None:  # pragma: no cover - runs at interpreter exit
    for cluster in list(_LIVE):
        cluster.close()


class LocalCluster:
    """``n_workers`` processes of ``script`` on this machine, wired together by ``TF_CONFIG`` on
    127.0.0.1.

    Worker *i* runs ``python script *args`` with ``TF_CONFIG={"cluster": {"worker": [...]}, "task":
    {"type": "worker", "index": i}}``; its stdout and stderr go to ``log_dir/<tag>worker<i>.log``.
    Ports are picked by the OS. Every started process is killed by :meth:`close`, which runs on
    ``with`` exit (also after an exception), and at interpreter exit. Workers start in their own
    process group so a kill reaches their children too.
    """

    def __init__(
        self,
        script,
        n_workers: int = 2,
        *,
        args=(),
        log_dir,
        env: dict | None = None,
        host: str = "127.0.0.1",
    ):
        self.script = str(script)
        self.args = [str(a) for a in args]
        self.n_workers = n_workers
        self.host = host
        self.log_dir = pathlib.Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ if env is None else env)
        self.env.pop("TF_CONFIG", None)
        self.procs: dict[int, subprocess.Popen] = {}
        self.logs: dict[int, pathlib.Path] = {}
        self.new_ports()
        _LIVE.add(self)

    # --- addresses
    # -------------------------------------------------------------------------------------
    def new_ports(self) -> list[str]:
        """Pick fresh free ports for every worker (only while no worker runs); return the
        addresses."""
        if self.running():
            raise RuntimeError(
                f"workers {self.running()} still run; stop them before changing ports"
            )
        ports: list[int] = []
        while len(ports) < self.n_workers:
            port = free_port(self.host)
            if port not in ports:
                ports.append(port)
        self.addresses = [f"{self.host}:{p}" for p in ports]
        return self.addresses

    def tf_config(self, index: int) -> str:
        """The ``TF_CONFIG`` JSON string worker ``index`` is started with."""
        if not 0 <= index < self.n_workers:
            raise IndexError(f"worker index {index} outside 0..{self.n_workers - 1}")
        return json.dumps(
            {"cluster": {"worker": self.addresses}, "task": {"type": "worker", "index": index}}
        )

    # --- processes
    # -------------------------------------------------------------------------------------
    def start(self, index: int | None = None, tag: str = "") -> None:
        """Start worker ``index`` (all workers when None); the log file name gets ``tag`` as
        prefix."""
        for i in range(self.n_workers) if index is None else [index]:
            if i in self.running():
                raise RuntimeError(f"worker {i} is already running (pid {self.procs[i].pid})")
            log = self.log_dir / f"{tag}worker{i}.log"
            env = dict(self.env, TF_CONFIG=self.tf_config(i), PYTHONUNBUFFERED="1")
            with open(log, "wb") as out:
                self.procs[i] = subprocess.Popen(
                    [sys.executable, self.script, *self.args],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            self.logs[i] = log

    def running(self) -> list[int]:
        """Indices of workers whose process is still alive."""
        return [i for i, p in self.procs.items() if p.poll() is None]

    def kill(self, index: int, sig: int = getattr(signal, "SIGKILL", signal.SIGTERM)) -> None:
        """Send ``sig`` (default SIGKILL: no chance to clean up, like a lost machine) to worker
        ``index``'s group."""
        proc = self.procs[index]
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:  # pragma: no cover - exited between poll and kill
                pass
            proc.wait(timeout=30)

    def wait(self, timeout: float) -> dict[int, int]:
        """Wait for every started worker to exit; return ``{index: exit code}``.

        Raises ``TimeoutError`` (after killing all workers) when they are not done within
        ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        for i, proc in self.procs.items():
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.close()
                raise TimeoutError(
                    f"worker {i} still running after {timeout:.0f} s; all workers killed"
                ) from None
        return {i: p.returncode for i, p in self.procs.items()}

    def wait_for_log(self, index: int, text: str, timeout: float) -> float:
        """Block until ``text`` appears in worker ``index``'s log; return the seconds waited.

        Raises ``RuntimeError`` if the worker exits first and ``TimeoutError`` after ``timeout``
        seconds.
        """
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if text in self.log(index):
                return time.monotonic() - start
            if self.procs[index].poll() is not None:
                raise RuntimeError(
                    f"worker {index} exited with {self.procs[index].returncode} before logging "
                    f"{text!r}; last lines:\n{self.log(index)[-800:]}"
                )
            time.sleep(0.05)
        raise TimeoutError(f"worker {index} did not log {text!r} within {timeout:.0f} s")

    def log(self, index: int) -> str:
        """The current text of worker ``index``'s log ('' before it started)."""
        path = self.logs.get(index)
        return path.read_text(errors="replace") if path and path.exists() else ""

    def close(self) -> None:
        """Kill every worker still running (idempotent)."""
        for i in self.running():
            self.kill(i)

    def __enter__(self) -> "LocalCluster":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
