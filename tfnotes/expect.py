"""The one result line every notebook ends with: :func:`expect_result` (re-exported as
``tfnotes.expect_result``).

Every notebook ends with an "预期结果 / Expected result" cell that calls :func:`expect_result`. It
prints one line in a fixed format, e.g.::

    RESULT | test accuracy = 0.876 | expected >= 0.87 | data: Fashion-MNIST, Debian
    dataset-fashion-mnist (60,000 train / 10,000 test)

and raises ``AssertionError`` when the value misses the threshold. :mod:`tfnotes.report` reads these
lines back from the stored notebooks (README results table, benchmark). Standard library only.
"""

from __future__ import annotations

import math
import re

#: Prefix of the result line; the report parser looks for it in the stored outputs.
RESULT_PREFIX = "RESULT | "


_ABS_PATH = re.compile(r"\s*\((?:/|[A-Za-z]:\\)[^()]*\)")


def _fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


def expect_result(
    metric: str,
    value: float,
    *,
    data: str,
    at_least: float | None = None,
    at_most: float | None = None,
    digits: int = 3,
) -> None:
    """Print the notebook's result line and check it against the expected bound(s).

    ``metric`` names the key metric (e.g. ``"test accuracy"``), ``value`` is what this run measured,
    ``data`` says which data source the run used and how many examples (the loaders' ``source``),
    ``at_least`` / ``at_most`` are the expected bounds (set from measured runs with a margin for
    noise).
    Returns None (a cell ending with this call shows only the line). Raises ``AssertionError`` (the
    message names metric, value and bound) when a bound is missed or the value is not finite, and
    ``ValueError`` when no bound is given.
    """
    if at_least is None and at_most is None:
        raise ValueError("expect_result needs at_least= and/or at_most=")
    value = float(value)
    bounds = []
    if at_least is not None:
        bounds.append(f">= {_fmt(at_least, digits)}")
    if at_most is not None:
        bounds.append(f"<= {_fmt(at_most, digits)}")
    expected = " and ".join(bounds)
    data = " ".join(str(data).split())  # one line
    # "(/usr/share/…)": machine-specific, says nothing in a results table
    data = _ABS_PATH.sub("", data)
    print(f"{RESULT_PREFIX}{metric} = {_fmt(value, digits)} | expected {expected} | data: {data}")
    if not math.isfinite(value):
        raise AssertionError(f"{metric} is {value}: training diverged or the metric is broken")
    if at_least is not None and value < at_least:
        raise AssertionError(f"{metric} {value:.6g} is below the expected {at_least:g}")
    if at_most is not None and value > at_most:
        raise AssertionError(f"{metric} {value:.6g} is above the expected {at_most:g}")
