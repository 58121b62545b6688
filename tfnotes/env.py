"""The course's environment variables, read in one place (standard library only; imports nothing of
tfnotes).

Used by every tfnotes module, ``benchmarks/run_notebooks.py`` and (through them) ``course.sh``. Each
variable a learner may set is listed in :data:`VARIABLES` (README's "环境变量 / Environment
variables" table mirrors it, checked by a test). Yes/no switches are parsed by :func:`flag` only, so
``TFNOTES_FULL=1``, ``=true``, ``=True``, ``=yes`` and ``=on`` mean the same everywhere, and a typo
raises instead of silently meaning "no".
"""

from __future__ import annotations

import os
import pathlib

#: Repository root (the folder that holds ``tfnotes/``, ``chapter1/`` …).
REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
#: The one environment variable that switches every notebook to the course's full scale.
FULL_ENV = "TFNOTES_FULL"
#: Re-run any notebook with another seed without editing it: ``TFNOTES_SEED=7`` overrides
#: ``setup(seed=…)``.
SEED_ENV = "TFNOTES_SEED"

#: Every ``TFNOTES_*`` variable: name → (what it does, default).
VARIABLES = {
    "TFNOTES_FULL": ("course-scale runs: full datasets, more epochs (yes/no)", "no"),
    "TFNOTES_SEED": (
        "re-run a notebook with another seed without editing it (integer)",
        "the notebook's own, 42",
    ),
    "TFNOTES_DATA_DIR": (
        "where a learner's own data files and prefetched downloads are looked for first",
        "`data/`",
    ),
    "TFNOTES_OUTPUT_DIR": (
        "where notebooks write checkpoints, exports and generated files",
        "`outputs/`",
    ),
    "TFNOTES_JOBS": (
        "notebooks run at once by `bash course.sh test` / `run` (positive integer)",
        "from cores and free memory",
    ),
    "TFNOTES_OFFLINE": (
        "never touch the network: skip reachability probes and downloads (yes/no)",
        "no",
    ),
    "TFNOTES_NET_TIMEOUT": (
        "seconds a reachability probe may take before a source counts as unreachable",
        "3",
    ),
    "TFNOTES_MIRROR": (
        "download base for prefetch: `https://HOST/PATH` is fetched from `<base>/HOST/PATH`",
        "none",
    ),
    "TFNOTES_BERT": (
        "which BERT the bert_exp notebooks use: `auto`, `hub` (TF Hub handles) or `local` "
        "(offline all-MiniLM-L6-v2 build); same as `bert_handles(prefer=…)`",
        "auto",
    ),
}

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"", "0", "false", "no", "off"})


def flag(name: str, default: bool = False) -> bool:
    """Return the yes/no environment variable ``name`` (case-insensitive 1/true/yes/on or
    0/false/no/off/empty).

    Unset → ``default``. Raises ``ValueError`` naming the variable for any other value (a typo must
    not silently mean "no").
    """
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ValueError(
        f"{name}={raw!r} is not a yes/no value: use 1 or 0 (true/false, yes/no, on/off also work)"
    )


def integer(name: str, default: int) -> int:
    """Return the integer environment variable ``name`` (unset or empty → ``default``);
    ``ValueError`` names it."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not an integer (e.g. {name}=7)") from None


def number(name: str, default: float) -> float:
    """Return the positive number in environment variable ``name`` (unset or empty →
    ``default``)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f"{name}={raw!r} is not a positive number of seconds (e.g. {name}=10)")
    return value


def full_run() -> bool:
    """Return True when ``TFNOTES_FULL`` is on (full datasets, more epochs).

    Read at call time, so ``%env TFNOTES_FULL=1`` in a notebook takes effect on the next call.
    """
    return flag(FULL_ENV)


def data_dir() -> pathlib.Path:
    """Return the local data directory: ``$TFNOTES_DATA_DIR`` or the repository's ``data/``.

    Files a learner puts here (e.g. ``mnist.npz``, ``SH600519.csv``) are used before any download.
    """
    return pathlib.Path(os.environ.get("TFNOTES_DATA_DIR") or REPO_ROOT / "data").expanduser()


def output_dir(*parts: str) -> pathlib.Path:
    """Return (and create) ``<outputs>/<parts…>``, the folder notebooks write to.

    ``<outputs>`` is ``$TFNOTES_OUTPUT_DIR`` or the repository's git-ignored ``outputs/``.
    Checkpoints, exported models and generated files go here, so re-running a notebook never touches
    tracked files or a learner's data, and two runs of one notebook at the same time (e.g. in tests)
    can be given separate folders.
    """
    base = pathlib.Path(os.environ.get("TFNOTES_OUTPUT_DIR") or REPO_ROOT / "outputs").expanduser()
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def offline() -> bool:
    """True when ``TFNOTES_OFFLINE`` is on: no probe, no download."""
    return flag("TFNOTES_OFFLINE")


def legacy_keras() -> bool:
    """True when ``TF_USE_LEGACY_KERAS`` makes ``tf.keras`` tf-keras (Keras 2).

    Read exactly as TensorFlow 2.20 reads it (``tensorflow/__init__.py``: ``"true"``, ``"True"`` or
    ``"1"``), not with :func:`flag`: ``yes`` would make us believe in tf-keras while TensorFlow
    loads Keras 3.
    """
    return os.environ.get("TF_USE_LEGACY_KERAS") in ("true", "True", "1")


def net_timeout() -> float:
    """Seconds a reachability probe may take (``TFNOTES_NET_TIMEOUT``, default 3)."""
    return number("TFNOTES_NET_TIMEOUT", 3.0)
