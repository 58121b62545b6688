"""tfnotes — the small helpers package shared by every notebook of the course.

It holds only plumbing that would otherwise be copied between notebooks:

* :func:`setup` — seeding, determinism, quiet logs, one line of versions (every notebook, first cell);
  :func:`seed` — the seed in use (``TFNOTES_SEED=N`` re-runs any notebook with another seed);
* :func:`full_run` / :func:`pick` — the run-size switch ``TFNOTES_FULL=1`` (default: fast on 2 CPU cores);
* :func:`data_dir` / :func:`output_dir` — where data is looked for and where notebooks may write;
* :mod:`tfnotes.data` — dataset loaders (local dir → Keras cache/download → offline registry package);
* :mod:`tfnotes.plots` — training curves, image grids, confusion matrices;
* :func:`strategy` (:mod:`tfnotes.distribute`) — the ``tf.distribute`` strategy for this machine / ``TF_CONFIG``,
  and ``LocalCluster`` for the two-worker notebook;
* :func:`expect_result` (:mod:`tfnotes.report`) — the one ``RESULT | …`` line each notebook ends with, from which
  ``python -m tfnotes.report`` builds the README results table;
* :mod:`tfnotes.prefetch` — ``python -m tfnotes.data prefetch`` for machines that will later be offline;
* :mod:`tfnotes.convarith`, :mod:`tfnotes.bert` — conv arithmetic (chapter 5) and the offline BERT build (bert_exp).

Teaching code (models, losses, training loops) stays in the notebooks.
"""
from __future__ import annotations

import os
import pathlib
import random

# Must be set before TensorFlow is first imported to silence its C++ start-up logs (CUDA probing,
# oneDNN notices, tf.data "End of sequence" infos): import tfnotes BEFORE tensorflow in a notebook.
# Python-level errors still raise normally; set TF_CPP_MIN_LOG_LEVEL=0 yourself to see everything.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__all__ = ["setup", "seed", "full_run", "pick", "data_dir", "output_dir", "expect_result", "strategy", "REPO_ROOT",
           "FULL_ENV", "SEED_ENV"]

#: Repository root (the folder that holds ``tfnotes/``, ``chapter1/`` …).
REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
#: The one environment variable that switches every notebook to the course's full scale.
FULL_ENV = "TFNOTES_FULL"
#: Re-run any notebook with another seed without editing it: ``TFNOTES_SEED=7`` overrides ``setup(seed=…)``.
SEED_ENV = "TFNOTES_SEED"


def full_run() -> bool:
    """Return True when ``TFNOTES_FULL`` is set to 1/true/yes (full datasets, more epochs).

    Read at call time, so ``%env TFNOTES_FULL=1`` in a notebook takes effect on the next call.
    """
    return os.environ.get(FULL_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def pick(default, full):
    """Return ``full`` when :func:`full_run` is on, else ``default``.

    Example: ``EPOCHS = tfnotes.pick(default=5, full=50)``.
    """
    return full if full_run() else default


def data_dir() -> pathlib.Path:
    """Return the local data directory: ``$TFNOTES_DATA_DIR`` or the repository's ``data/``.

    Files a learner puts here (e.g. ``mnist.npz``, ``SH600519.csv``) are used before any download.
    """
    return pathlib.Path(os.environ.get("TFNOTES_DATA_DIR") or REPO_ROOT / "data").expanduser()


def output_dir(*parts: str) -> pathlib.Path:
    """Return (and create) ``<repo>/outputs/<parts…>``, the git-ignored folder notebooks write to.

    Checkpoints, exported models and generated files go here, so re-running a notebook never
    touches tracked files.
    """
    path = REPO_ROOT.joinpath("outputs", *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


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
    return f"CPU ({os.cpu_count()} cores)"


def _seed_from_env(default: int) -> int:
    """``$TFNOTES_SEED`` as an int when set (raises ``ValueError`` naming the variable if it is not one), else ``default``."""
    raw = os.environ.get(SEED_ENV, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{SEED_ENV}={raw!r} is not an integer seed (e.g. {SEED_ENV}=7)") from None


def seed() -> int:
    """Return the seed of the last :func:`setup` call (``$TFNOTES_SEED`` or the notebook's default).

    Notebooks derive every other random stream from it (data splits, noise draws), so that one variable
    re-runs the whole notebook with another seed. Before any ``setup`` call: ``$TFNOTES_SEED`` or 42.
    """
    return INFO.get("seed", _seed_from_env(42))


def setup(seed: int = 42, *, deterministic: bool = True, verbose: bool = True) -> None:
    """Seed Python/NumPy/TensorFlow, enable op determinism, quiet logs, print one info line.

    Call it first in every notebook (after setting ``TF_USE_LEGACY_KERAS`` where needed). ``seed`` is the
    notebook's default; ``$TFNOTES_SEED`` (an integer) overrides it, so a notebook can be re-run with another
    seed without editing it (``TFNOTES_SEED=7 jupyter lab`` or ``benchmarks/run_notebooks.py --seed 7``).
    Read the seed in use back with :func:`tfnotes.seed`.

    Returns None (so a notebook cell shows only the printed line); the same facts are kept in
    :data:`INFO` (``tf``, ``keras``, ``device``, ``seed``, ``full``).
    """
    import numpy as np
    import tensorflow as tf
    import logging

    seed = _seed_from_env(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    tf.keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    tf.get_logger().setLevel(logging.ERROR)
    try:  # absl warnings (e.g. from tf-models-official) go to stderr; keep them quiet
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:  # pragma: no cover - absl ships with TF
        pass

    info = INFO
    info.update({
        "tf": tf.__version__,
        "keras": _keras_version(tf),
        "device": _device_summary(tf),
        "seed": seed,
        "full": full_run(),
    })
    if verbose:
        mode = "full (TFNOTES_FULL=1)" if info["full"] else "default (fast; TFNOTES_FULL=1 for full)"
        print(
            f"TensorFlow {info['tf']} · Keras {info['keras']} · device {info['device']} · "
            f"seed {seed}{' (' + SEED_ENV + ')' if os.environ.get(SEED_ENV, '').strip() else ''} · run size: {mode}"
        )


def __getattr__(name: str):
    """Lazy re-exports: ``tfnotes.strategy`` (tfnotes.distribute) and ``tfnotes.expect_result`` (tfnotes.report).

    Lazy so that ``python -m tfnotes.report`` does not import its own module twice.
    """
    if name == "strategy":
        from tfnotes.distribute import strategy

        return strategy
    if name == "expect_result":
        from tfnotes.report import expect_result

        return expect_result
    raise AttributeError(f"module 'tfnotes' has no attribute {name!r}")
