"""pytest configuration for the whole repository (unit tests and nbval over every notebook)."""
import collections

_NOTEBOOK_SECONDS = collections.OrderedDict()


def pytest_collectstart(collector):
    # nbval: never compare stderr (TF warnings), images or HTML; text/plain outputs are compared
    # only in cells tagged `nbval-check-output` (--nbval-lax).
    if getattr(collector, "fspath", None) is not None and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr", "image/png", "image/jpeg", "image/svg+xml", "text/html",
                                   "application/javascript", "application/vnd.jupyter.widget-view+json")


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _NOTEBOOK_SECONDS[path] = _NOTEBOOK_SECONDS.get(path, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter):
    if not _NOTEBOOK_SECONDS:
        return
    terminalreporter.section("notebook durations (nbval re-execution)")
    for path, seconds in _NOTEBOOK_SECONDS.items():
        terminalreporter.write_line(f"{seconds:8.1f} s  {path}")
    terminalreporter.write_line(f"{sum(_NOTEBOOK_SECONDS.values()):8.1f} s  total")
