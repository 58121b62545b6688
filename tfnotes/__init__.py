"""tfnotes — the small helpers package shared by every notebook of the course.

It holds only plumbing that would otherwise be copied between notebooks:

* :func:`setup` — seeding, determinism, quiet logs, one line of versions (every notebook, first
  cell); :func:`seed` — the seed in use (``TFNOTES_SEED=N`` re-runs any notebook with another seed);
* :func:`full_run` / :func:`pick` — the run-size switch ``TFNOTES_FULL=1`` (default: fast on 2 CPU
  cores);
* :func:`data_dir` / :func:`output_dir` — where data is looked for and where notebooks may write;
* :mod:`tfnotes.data` — dataset loaders (local dir → Keras cache/download → offline registry
  package);
* :mod:`tfnotes.plots` — training curves, image grids, confusion matrices;
* :func:`strategy` (:mod:`tfnotes.distribute`) — the ``tf.distribute`` strategy for this machine /
  ``TF_CONFIG``, and ``LocalCluster`` for the two-worker notebook;
* :func:`expect_result` (:mod:`tfnotes.expect`) — the one ``RESULT | …`` line each notebook ends
  with, from which ``python -m tfnotes.report`` builds the README results table;
* :mod:`tfnotes.env` — every ``TFNOTES_*`` variable and the one yes/no parser; :mod:`tfnotes.net` —
  the one proxy-aware, fail-fast reachability probe used before any download;
* :mod:`tfnotes.prefetch` — ``python -m tfnotes.prefetch`` for machines that will later be offline;
* :mod:`tfnotes.logs` — keeps known-harmless TensorFlow C++ log lines out of notebook outputs;
* :mod:`tfnotes.convarith`, :mod:`tfnotes.bert` — conv arithmetic (chapter 5) and the offline BERT
  build (bert_exp).

Teaching code (models, losses, training loops) stays in the notebooks.
"""

from __future__ import annotations

import os
import random
import sys

# Must be set before TensorFlow is first imported (TF reads it once): 2 hides the C++ infos and
# warnings (oneDNN notices, tf.data "End of sequence") but keeps C++ errors visible, which often
# explain a failure. A few E lines are harmless (the CUDA probe on a machine without a GPU, a TF
# 2.20 tf.data bug): in a notebook kernel, importing tfnotes filters exactly those (tfnotes.logs).
# Import tfnotes BEFORE tensorflow in a notebook; set TF_CPP_MIN_LOG_LEVEL=0 to see everything.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__all__ = [
    "setup",
    "seed",
    "full_run",
    "pick",
    "data_dir",
    "output_dir",
    "expect_result",
    "strategy",
    "REPO_ROOT",
    "FULL_ENV",
    "SEED_ENV",
]

from . import env, logs  # noqa: E402
from .env import FULL_ENV, REPO_ROOT, SEED_ENV, data_dir, full_run, output_dir  # noqa: E402
from .expect import expect_result  # noqa: E402  (standard library only)
from .distribute import strategy  # noqa: E402  (imports TensorFlow only when called)


def _in_kernel() -> bool:
    """True inside a Jupyter (IPython) kernel, where C++ stderr lands in the stored outputs (not
    merely when ipykernel is imported: nbval's pytest plugin imports it too)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    return getattr(shell, "kernel", None) is not None


if _in_kernel():  # before any TensorFlow call of the notebook, even one that precedes setup()
    logs.install()


def pick(default, full):
    """Return ``full`` when :func:`full_run` is on, else ``default``.

    Example: ``EPOCHS = tfnotes.pick(default=5, full=50)``.
    """
    return full if full_run() else default


#: What the last :func:`setup` call found (versions, device, seed, run size).
INFO: dict = {}


def _keras_version(tf) -> str:
    """Keras 3's version, or tf-keras's when ``TF_USE_LEGACY_KERAS=1`` made ``tf.keras`` Keras 2."""
    version = getattr(tf.keras, "__version__", None)
    if version:
        return version
    try:
        import tf_keras

        return f"{tf_keras.__version__} (tf-keras, TF_USE_LEGACY_KERAS=1)"
    except ImportError:  # pragma: no cover
        return "?"


def _device_summary(tf) -> str:
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = []
        for gpu in gpus:
            details = tf.config.experimental.get_device_details(gpu)
            names.append(details.get("device_name", gpu.name))
        return "GPU: " + ", ".join(names)
    if logs.has_nvidia_device():  # TensorFlow cannot use the GPU: the cuInit line above says why
        return f"CPU ({os.cpu_count()} cores; NVIDIA device present but unusable: see stderr)"
    return f"CPU ({os.cpu_count()} cores; no GPU found)"


def _seed_from_env(default: int) -> int:
    """``$TFNOTES_SEED`` when set (``ValueError`` naming the variable if it is not an integer), else
    ``default``."""
    return env.integer(SEED_ENV, default)


def seed() -> int:
    """Return the seed of the last :func:`setup` call (``$TFNOTES_SEED`` or the notebook's default).

    Notebooks derive every other random stream from it (data splits, noise draws), so that one
    variable re-runs the whole notebook with another seed. Before any ``setup`` call:
    ``$TFNOTES_SEED`` or 42.
    """
    return INFO.get("seed", _seed_from_env(42))


def setup(
    seed: int = 42,
    *,
    deterministic: bool = True,
    verbose: bool = True,
    quiet_logs: bool | None = None,
) -> None:
    """Seed Python/NumPy/TensorFlow, enable op determinism, quiet logs, print one info line.

    Call it first in every notebook (after setting ``TF_USE_LEGACY_KERAS`` where needed). ``seed``
    is the notebook's default; ``$TFNOTES_SEED`` (an integer) overrides it, so a notebook can be
    re-run with another seed without editing it (``TFNOTES_SEED=7 jupyter lab`` or
    ``benchmarks/run_notebooks.py --seed 7``). Read the seed in use back with :func:`tfnotes.seed`.

    ``quiet_logs`` (default: on inside a Jupyter kernel) filters the known-harmless C++ log lines
    listed in :mod:`tfnotes.logs` out of stderr, before TensorFlow probes its devices; every other
    line passes.

    Returns None (so a notebook cell shows only the printed line); the same facts are kept in
    :data:`INFO` (``tf``, ``keras``, ``device``, ``seed``, ``full``).
    """
    if _in_kernel() if quiet_logs is None else quiet_logs:
        logs.install()
    import numpy as np
    import tensorflow as tf
    import logging

    seed = _seed_from_env(seed)
    # PYTHONHASHSEED cannot change this (running) interpreter's str hashing; it is set for the
    # processes a notebook starts (e.g. chapter5's distributed workers), so their set/dict orders
    # repeat too.
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    tf.keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    for gpu in tf.config.list_physical_devices("GPU"):
        # allocate GPU memory as needed instead of all of it at once: two open notebooks can share
        # one GPU
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        # the GPU is already initialised in this process: its setting cannot change
        except RuntimeError:
            pass
    tf.get_logger().setLevel(logging.ERROR)
    try:  # absl warnings (e.g. from tf-models-official) go to stderr; keep them quiet
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:  # pragma: no cover - absl ships with TF
        pass

    info = INFO
    info.update(
        {
            "tf": tf.__version__,
            "keras": _keras_version(tf),
            "device": _device_summary(tf),
            "seed": seed,
            "full": full_run(),
        }
    )
    if verbose:
        mode = (
            "full (TFNOTES_FULL=1)" if info["full"] else "default (fast; TFNOTES_FULL=1 for full)"
        )
        print(
            f"TensorFlow {info['tf']} · Keras {info['keras']} · device {info['device']} · "
            f"seed {seed}{' (' + SEED_ENV + ')' if os.environ.get(SEED_ENV, '').strip() else ''} · "
            f"run size: {mode}"
        )
