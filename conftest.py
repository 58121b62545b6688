"""pytest configuration for the whole repository (unit tests and nbval over every notebook).

``bash course.sh test`` runs ``pytest -n auto --dist loadscope --no-loadscope-reorder``:
pytest-xdist starts :func:`tfnotes.schedule.choose_jobs` workers (``TFNOTES_JOBS`` overrides), each
notebook's cells stay in one worker, in order (one notebook = one scope), and the notebooks are
handed out longest first (last benchmark's times), then the unit-test modules. A plain ``pytest``
(no ``-n``) runs everything in one process, unit tests first.
"""

import collections
import os
import time

_NOTEBOOK_SECONDS = collections.OrderedDict()
_START = time.perf_counter()


def pytest_collectstart(collector):
    # nbval: never compare stderr (TF warnings), images or HTML; text/plain outputs are compared
    # only in cells tagged `nbval-check-output` (--nbval-lax).
    if getattr(collector, "fspath", None) is not None and collector.fspath.ext == ".ipynb":
        collector.skip_compare += (
            "stderr",
            "image/png",
            "image/jpeg",
            "image/svg+xml",
            "text/html",
            "application/javascript",
            "application/vnd.jupyter.widget-view+json",
        )


def _notebooks_in_repo():
    from tfnotes import report

    return [report._rel(p, report.ROOT) for p in report.find_notebooks()]


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: as many workers as notebook kernels fit (cores + 1, limited by free memory;
    TFNOTES_JOBS)."""
    from tfnotes import schedule

    return schedule.choose_jobs(_notebooks_in_repo(), verbose=True)


def _parallel(config) -> bool:
    return bool(getattr(config.option, "numprocesses", None)) or "PYTEST_XDIST_WORKER" in os.environ


def pytest_collection_modifyitems(session, config, items):
    """Under xdist: notebooks first, longest first (so the run's tail is short), cells in order;
    then unit tests."""
    if not _parallel(config):
        return
    from tfnotes import schedule

    def path_of(item):
        return item.nodeid.split("::")[0]

    notebooks = list(dict.fromkeys(path_of(i) for i in items if path_of(i).endswith(".ipynb")))
    rank = {nb: k for k, nb in enumerate(schedule.longest_first(notebooks))}
    first_seen = {}
    for k, item in enumerate(items):
        first_seen.setdefault(path_of(item), k)
    items.sort(
        key=lambda i: (0, rank[path_of(i)]) if path_of(i) in rank else (1, first_seen[path_of(i)])
    )


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _NOTEBOOK_SECONDS[path] = _NOTEBOOK_SECONDS.get(path, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter):
    if not _NOTEBOOK_SECONDS:
        return
    wall = time.perf_counter() - _START
    terminalreporter.section("notebook durations (nbval re-execution)")
    for path, seconds in sorted(_NOTEBOOK_SECONDS.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{seconds:8.1f} s  {path}")
    total = sum(_NOTEBOOK_SECONDS.values())
    terminalreporter.write_line(f"{total:8.1f} s  sum of the notebooks' times")
    workers = getattr(terminalreporter.config.option, "numprocesses", None) or 1
    terminalreporter.write_line(
        f"{wall:8.1f} s  wall time of the whole run ({workers} worker(s); unit tests "
        f"included) = {wall / total:.0%} of the notebooks' sum"
    )
