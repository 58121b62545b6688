"""Pick TensorFlow's distribution strategy for the machine a notebook runs on.

Used by ``chapter5/ComplexNet``, ``chapter5/distributed_training`` and both ``bert_exp`` notebooks: they build and
compile their models under ``strategy.scope()`` and multiply their per-replica batch size by
``strategy.num_replicas_in_sync``. On one CPU or one GPU this is TensorFlow's default strategy (no change at all).
"""
from __future__ import annotations

import json
import os

_CACHE: dict = {}


def cluster_spec(tf_config: str | None = None) -> dict:
    """Return the ``cluster`` part of ``TF_CONFIG`` (``{}`` when unset); ``ValueError`` names a malformed value."""
    raw = os.environ.get("TF_CONFIG", "") if tf_config is None else tf_config
    if not raw.strip():
        return {}
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValueError(f"TF_CONFIG is not valid JSON ({err}): {raw[:80]!r}") from None
    cluster = config.get("cluster", {}) if isinstance(config, dict) else None
    if not isinstance(cluster, dict):
        raise ValueError(f"TF_CONFIG must be a JSON object with a 'cluster' object, got {raw[:80]!r}")
    return cluster


def strategy(verbose: bool = True):
    """Return the ``tf.distribute`` strategy for this process (created once, then reused).

    * ``TF_CONFIG`` describes a cluster with workers → ``tf.distribute.MultiWorkerMirroredStrategy``
      (this process is the worker ``TF_CONFIG["task"]`` names; it must be called before the first op runs);
    * more than one GPU visible → ``tf.distribute.MirroredStrategy`` (one replica per GPU);
    * otherwise → the default strategy (one replica; code under ``strategy.scope()`` runs unchanged).

    Prints which one and how many replicas when ``verbose``.
    """
    if "strategy" in _CACHE:
        return _CACHE["strategy"]
    import tensorflow as tf

    cluster = cluster_spec()
    workers = len(cluster.get("worker", [])) + len(cluster.get("chief", []))
    gpus = tf.config.list_physical_devices("GPU")
    if workers >= 1:
        task = json.loads(os.environ["TF_CONFIG"]).get("task", {})
        chosen = tf.distribute.MultiWorkerMirroredStrategy()
        where = f"{workers} worker(s) from TF_CONFIG, this is {task.get('type', '?')} {task.get('index', '?')}"
    elif len(gpus) > 1:
        chosen = tf.distribute.MirroredStrategy()
        where = f"{len(gpus)} GPUs on this machine"
    else:
        chosen = tf.distribute.get_strategy()
        where = "one device" + (" (GPU)" if gpus else " (CPU)")
    _CACHE["strategy"] = chosen
    if verbose:
        name = "default strategy" if where.startswith("one device") else type(chosen).__name__
        print(f"distribution: {name} · {chosen.num_replicas_in_sync} replica(s) · {where}")
    return chosen
