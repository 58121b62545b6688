"""How many notebook kernels to run at once, and in which order (standard library only).

Used by ``benchmarks/run_notebooks.py`` (``-j``), ``bash course.sh run`` and the test suite
(``conftest.py``: pytest-xdist with one notebook per worker at a time). Small Keras models and the
~10 s TensorFlow import do not keep two cores busy, so a few kernels side by side finish the course
sooner; memory is what limits them (a BERT kernel needs several GiB, a chapter-1 kernel a few
hundred MiB).

* :func:`choose_jobs` — kernels at once: ``$TFNOTES_JOBS`` if set, else at most usable cores + 1,
  and no more than the largest peak memories (from the last benchmark) fit into 80 % of the memory
available now;
* :func:`longest_first` — notebooks in longest-processing-time-first order (last benchmark's times),
  so the tail of a parallel run is short.
"""

from __future__ import annotations

import json
import os
import pathlib

from . import env

#: The committed benchmark (``benchmarks/run_notebooks.py``): per-notebook seconds and peak memory.
BENCHMARK = env.REPO_ROOT / "benchmarks" / "results.json"
#: Peak memory assumed for a notebook the benchmark has not measured (bytes).
UNKNOWN_PEAK = 3 * 2**30
#: Share of the available memory the kernels may use together.
MEMORY_SHARE = 0.8


def usable_cpus() -> int:
    """CPU cores this process may run on (affinity / container limits where the OS tells them)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


def available_memory() -> int | None:
    """Bytes of memory available now (``MemAvailable`` on Linux, psutil elsewhere); None if
    unknown."""
    try:
        for line in pathlib.Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:  # pragma: no cover
        return None


def benchmark_rows(path: pathlib.Path | None = None) -> dict:
    """``{notebook relpath: row}`` from the last benchmark (``{}`` when there is none or it is
    unreadable)."""
    try:
        payload = json.loads(pathlib.Path(path or BENCHMARK).read_text(encoding="utf-8"))
        return {row["notebook"]: row for row in payload.get("notebooks", [])}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def choose_jobs(
    notebooks,
    *,
    cpus: int | None = None,
    memory: int | None = None,
    rows: dict | None = None,
    verbose: bool = False,
) -> int:
    """Return how many notebooks to run at once (≥ 1, ≤ number of notebooks).

    ``$TFNOTES_JOBS`` (a positive integer) wins. Otherwise ``cpus + 1`` (default: usable cores),
    reduced until the peak memories of that many of the heaviest ``notebooks`` (relpaths; peaks from
    ``rows``, default the committed benchmark, :data:`UNKNOWN_PEAK` if not measured) fit into
    :data:`MEMORY_SHARE` of ``memory`` (default: available now). Raises ``ValueError`` for a
    malformed ``$TFNOTES_JOBS``.
    """
    notebooks = list(notebooks)
    forced = env.integer("TFNOTES_JOBS", 0)
    if forced < 0:
        raise ValueError(f"TFNOTES_JOBS={forced} must be a positive number of kernels")
    if forced:
        return max(1, min(forced, len(notebooks) or 1))
    cpus = usable_cpus() if cpus is None else cpus
    memory = available_memory() if memory is None else memory
    rows = benchmark_rows() if rows is None else rows
    peaks = sorted(
        (rows.get(nb, {}).get("peak_rss_bytes") or UNKNOWN_PEAK for nb in notebooks), reverse=True
    )
    jobs = max(1, min(cpus + 1, len(notebooks) or 1))
    if memory:
        while jobs > 1 and sum(peaks[:jobs]) > MEMORY_SHARE * memory:
            jobs -= 1
    if verbose:
        gib = f"{memory / 2**30:.1f} GiB available" if memory else "memory unknown"
        print(
            f"[schedule] {jobs} kernel(s) at once ({cpus} usable cores, {gib}; TFNOTES_JOBS "
            f"overrides)"
        )
    return jobs


def longest_first(notebooks, rows: dict | None = None) -> list:
    """``notebooks`` (relpaths) sorted by the last benchmark's seconds, longest first; unmeasured
    ones first of all (they may be long), ties in the given order."""
    rows = benchmark_rows() if rows is None else rows
    notebooks = list(notebooks)
    return sorted(notebooks, key=lambda nb: -(rows.get(nb, {}).get("seconds") or float("inf")))
