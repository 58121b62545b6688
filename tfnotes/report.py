"""Results of the notebooks: the one-line result every notebook prints, and the README table built
from it.

Every notebook ends with an "预期结果 / Expected result" cell that calls
:func:`tfnotes.expect_result` (:mod:`tfnotes.expect`). It prints one line in a fixed format, e.g.::

    RESULT | test accuracy = 0.876 | expected >= 0.87 | data: Fashion-MNIST (60,000 train)

and raises ``AssertionError`` when the value misses the threshold. Because the line is in the stored
outputs, the README's results table can be generated from the notebooks themselves (``python -m
tfnotes.report``) and a test can check that README and notebooks never disagree.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import difflib
import json
import os
import pathlib
import re
import sys
import urllib.parse

from .expect import RESULT_PREFIX, expect_result  # noqa: F401  (re-exported: report.expect_result)

#: Parses one line printed by :func:`expect_result` (the ``data`` part is the rest of the line).
RESULT_RE = re.compile(
    r"^RESULT \| (?P<metric>.+?) = (?P<value>\S+) \| expected (?P<expected>.+?) \| data: "
    r"(?P<data>.*)$"
)

#: Markers in README.md between which ``--write`` puts the results table.
START_MARKER = "<!-- results:start -->"
END_MARKER = "<!-- results:end -->"

#: Repository root (this file lives in ``<root>/tfnotes/``).
ROOT = pathlib.Path(__file__).resolve().parent.parent

#: Course order inside each folder, as in the outline (notes.zh.md); notebooks not listed follow,
#: alphabetically.
COURSE_ORDER = (
    "chapter1/tf_basic_functions.ipynb",
    "chapter1/Iris_classify.ipynb",
    "chapter2/tf_basic_functions.ipynb",
    "chapter3/keras_basic_step.ipynb",
    "chapter3/mnist_dataset_exp.ipynb",
    "chapter3/fashion_dataset_exp.ipynb",
    "chapter4/dataset_methods.ipynb",
    "chapter4/param_methods.ipynb",
    "chapter4/use_model_test.ipynb",
    "chapter5/ComplexNet.ipynb",
    "chapter6/basic_RNN.ipynb",
    "chapter6/LSTM_exp.ipynb",
    "bert_exp/text_classification_with_BERT.ipynb",
    "bert_exp/Fine tune BERT.ipynb",
)


class ReportError(Exception):
    """A stored notebook cannot be reported (no/duplicate RESULT line, error output, no timing, bad
    markers)."""


@dataclasses.dataclass(frozen=True)
class NotebookResult:
    """What one stored notebook says: its RESULT line and how long its stored (default) run took."""

    path: str  # relative to the root given to parse_notebook (posix), or as given when outside it
    metric: str
    value: str  # as printed (keeps the notebook's digits)
    expected: str  # e.g. ">= 0.870" or ">= 0.100 and <= 0.300"
    data: str
    seconds: float  # last shell.execute_reply - first iopub.execute_input over the code cells
    exercises: int = 0  # numbered items under the "练习 / Exercises" heading
    solutions: str | None = None  # the folder's solutions notebook (relative path) when it exists


#: The exercises heading every lesson notebook ends with, and one numbered exercise under it.
_EXERCISES_HEADING = re.compile(r"^#+\s*练习\s*/\s*Exercises\s*$", re.M)
_NUMBERED = re.compile(r"^\d+\.\s", re.M)


def count_exercises(nb) -> int:
    """Numbered items of the notebook's "练习 / Exercises" section (up to the next heading), 0 if it
    has none."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = "".join(cell.get("source", ""))
        heading = _EXERCISES_HEADING.search(source)
        if heading:
            section = re.split(r"^#+\s", source[heading.end() :], maxsplit=1, flags=re.M)[0]
            return len(_NUMBERED.findall(section))
    return 0


def _rel(path: pathlib.Path, root: pathlib.Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _timestamp(text: str) -> datetime.datetime:
    # nbclient writes ISO 8601 with a trailing Z and microseconds, e.g. 2026-11-27T12:10:36.991627Z
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _output_text(output: dict) -> str:
    if output.get("output_type") == "stream":
        text = output.get("text", "")
    else:  # execute_result / display_data: the plain-text form only
        text = output.get("data", {}).get("text/plain", "")
    return "".join(text) if isinstance(text, list) else str(text)


def parse_notebook(path, root=None, *, name: str | None = None) -> NotebookResult:
    """Read a stored ``.ipynb`` and return its :class:`NotebookResult`.

    Raises :class:`ReportError` (the message names the notebook) when a cell has an error output,
    when there is no line starting with ``RESULT | `` or more than one, when that line does not have
    the :func:`expect_result` format, or when the cells carry no nbclient timing metadata
    (``metadata.execution``: ``iopub.execute_input`` / ``shell.execute_reply``). ``path`` in the
    result (and in error messages) is relative to ``root`` (default: the repository), unless
    ``name`` is given.
    """
    path = pathlib.Path(path)
    name = name or _rel(path, pathlib.Path(root) if root is not None else ROOT)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportError(f"{name}: cannot read the notebook ({exc})") from exc
    code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    lines, starts, ends = [], [], []
    for index, cell in enumerate(code, 1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                raise ReportError(
                    f"{name}: code cell {index} has an error output "
                    f"({output.get('ename', '?')}: {output.get('evalue', '')}); re-run the notebook"
                )
            lines += [
                line for line in _output_text(output).splitlines() if line.startswith(RESULT_PREFIX)
            ]
        execution = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in execution:
            starts.append(_timestamp(execution["iopub.execute_input"]))
        if "shell.execute_reply" in execution:
            ends.append(_timestamp(execution["shell.execute_reply"]))
    if not lines:
        raise ReportError(
            f"{name}: no '{RESULT_PREFIX.strip()}' line in the stored outputs "
            "(add an expected-result cell calling tfnotes.expect_result and re-run)"
        )
    if len(lines) > 1:
        raise ReportError(
            f"{name}: {len(lines)} '{RESULT_PREFIX.strip()}' lines in the stored outputs, "
            "expected exactly one: " + " / ".join(lines)
        )
    match = RESULT_RE.match(lines[0].rstrip())
    if not match:
        raise ReportError(f"{name}: result line not in the expect_result format: {lines[0]!r}")
    if not starts or not ends:
        raise ReportError(
            f"{name}: no execution timing in the cell metadata (execute it with "
            f"nbclient/nbconvert, "
            "e.g. python benchmarks/run_notebooks.py)"
        )
    seconds = (max(ends) - min(starts)).total_seconds()
    solutions = path.parent / "solutions.ipynb"
    solutions_rel = (
        str(pathlib.PurePosixPath(name).parent / "solutions.ipynb")
        if solutions.is_file() and path.name != "solutions.ipynb"
        else None
    )
    return NotebookResult(
        path=name,
        seconds=seconds,
        exercises=count_exercises(nb),
        solutions=solutions_rel,
        **{k: v.strip() for k, v in match.groupdict().items()},
    )


def find_notebooks(root=None) -> list[pathlib.Path]:
    """Return the course's notebooks under ``root`` (``chapter*/`` and ``bert_exp/``), in course
    order."""
    root = pathlib.Path(root) if root is not None else ROOT
    found = [p for pattern in ("chapter*/*.ipynb", "bert_exp/*.ipynb") for p in root.glob(pattern)]
    return sorted(found, key=lambda p: course_key(p.relative_to(root).as_posix()))


def course_key(relpath: str):
    """Sort key for a notebook path relative to the root: chapter1..N, then bert_exp, then anything
    else; inside a folder the outline's order (:data:`COURSE_ORDER`), then alphabetical."""
    folder, _, name = relpath.rpartition("/")
    chapter = re.fullmatch(r"chapter(\d+)", folder)
    rank = (
        (0, int(chapter.group(1)), "")
        if chapter
        else (1, 0, "")
        if folder == "bert_exp"
        else (2, 0, folder)
    )
    order = COURSE_ORDER.index(relpath) if relpath in COURSE_ORDER else len(COURSE_ORDER)
    return rank, order, name.lower()


def format_seconds(seconds: float) -> str:
    """Rounded human form: ``"28 s"`` under a minute, else minutes with one decimal (``"3.5
    min"``)."""
    if seconds < 59.5:
        return f"{max(int(seconds + 0.5), 1)} s"
    return f"{seconds / 60:.1f} min"


def link(relpath: str, base: str = "") -> str:
    """Markdown link ``[chapter3/x](chapter3/x.ipynb)`` to a notebook, relative to folder ``base``
    of the repository (``""`` for README.md at the root); spaces and non-ASCII are URL-encoded
    (``%20``)."""
    target = os.path.relpath(relpath, base or ".").replace(os.sep, "/")
    text = relpath[: -len(".ipynb")] if relpath.endswith(".ipynb") else relpath
    return f"[{text}]({urllib.parse.quote(target)})"


def md_cell(text: str) -> str:
    """Escape ``|`` so ``text`` stays inside one Markdown table cell."""
    return text.replace("|", "\\|")


def metric_text(metric: str, value: str, expected: str) -> str:
    """``"test accuracy = **0.876** (expected >= 0.870)"``: how a result reads in the tables."""
    return f"{metric} = **{value}** (expected {expected})"


def render_table(results, base: str = "") -> str:
    """Markdown table (one row per notebook, in the given order, plus a total row); links relative
    to ``base``."""
    rows = [
        "| 笔记本 / Notebook | 数据 / Data (stored run) | 默认运行 / Default run (2 CPU cores) | "
        "关键指标 / Key metric "
        "| 练习 / Exercises |",
        "|---|---|---:|---|---|",
    ]
    for r in results:
        metric = metric_text(r.metric, r.value, r.expected)
        exercises = str(r.exercises or "")
        if r.solutions:
            target = os.path.relpath(r.solutions, base or ".").replace(os.sep, "/")
            exercises += f" · [答案 / solutions]({urllib.parse.quote(target)})"
        rows.append(
            f"| {link(r.path, base)} | {md_cell(r.data)} | {format_seconds(r.seconds)} | "
            f"{md_cell(metric)} "
            f"| {exercises} |"
        )
    total = sum(r.seconds for r in results)
    rows.append(
        f"| **合计 / Total** ({len(results)} notebooks) | | **{format_seconds(total)}** | | |"
    )
    return "\n".join(rows)


def collect(root=None, paths=None) -> list[NotebookResult]:
    """Parse ``paths`` (default: :func:`find_notebooks`) and return their results in course order.

    Raises :class:`ReportError` listing every notebook that cannot be reported (one per line).
    """
    root = pathlib.Path(root) if root is not None else ROOT
    paths = [pathlib.Path(p) for p in paths] if paths else find_notebooks(root)
    results, errors = [], []
    for path in paths:
        try:
            results.append(parse_notebook(path, root))
        except ReportError as exc:
            errors.append(str(exc))
    if errors:
        raise ReportError("\n".join(errors))
    return sorted(results, key=lambda r: course_key(r.path))


def results_block(root=None) -> str:
    """The text ``--write`` puts between the markers (a generated-by note and the table)."""
    table = render_table(collect(root))
    return (
        "<!-- generated from the notebooks' stored outputs by `python -m tfnotes.report --write "
        "README.md`;"
        " do not edit by hand -->\n" + table
    )


def replace_block(text: str, block: str, name: str = "README.md") -> str:
    """Return ``text`` with everything between :data:`START_MARKER` and :data:`END_MARKER` replaced
    by ``block``; raises :class:`ReportError` when the markers are missing, repeated or out of
    order."""
    if text.count(START_MARKER) != 1 or text.count(END_MARKER) != 1:
        raise ReportError(
            f"{name}: needs exactly one '{START_MARKER}' and one '{END_MARKER}' line "
            "(put them where the results table belongs)"
        )
    start = text.index(START_MARKER) + len(START_MARKER)
    end = text.index(END_MARKER)
    if end < start:
        raise ReportError(f"{name}: '{END_MARKER}' comes before '{START_MARKER}'")
    return text[:start] + "\n" + block + "\n" + text[end:]


def check_block(readme, root=None) -> str:
    """Return ``""`` when the README's results block matches the notebooks, else a unified diff."""
    readme = pathlib.Path(readme)
    current = readme.read_text(encoding="utf-8")
    # markers first: a clear error before parsing any notebook
    replace_block(current, "", readme.name)
    wanted = replace_block(current, results_block(root), readme.name)
    if current == wanted:
        return ""
    return "".join(
        difflib.unified_diff(
            current.splitlines(True),
            wanted.splitlines(True),
            f"{readme.name} (now)",
            f"{readme.name} (from the notebooks)",
        )
    )


def main(argv=None) -> int:
    """CLI: print the table, or ``--write``/``--check`` a README's results block. Returns the exit
    status: 0 ok, 1 README out of date (diff printed), 2 a notebook or the README cannot be
    reported."""
    parser = argparse.ArgumentParser(
        prog="python -m tfnotes.report",
        description="Results table (data source, default-run time, key metric) from the notebooks' "
        "stored outputs.",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--write", metavar="README", help="replace the block between the results markers"
    )
    group.add_argument(
        "--check", metavar="README", help="exit 1 with a diff when the block is out of date"
    )
    parser.add_argument(
        "--root", default=str(ROOT), help="repository root (default: this checkout)"
    )
    args = parser.parse_args(argv)
    try:
        if args.check:
            diff = check_block(args.check, args.root)
            if diff:
                sys.stdout.write(diff)
                print(
                    f"{args.check}: results block differs from the notebooks; "
                    f"run: python -m tfnotes.report --write {args.check}",
                    file=sys.stderr,
                )
                return 1
            print(f"{args.check}: results block matches the notebooks")
        elif args.write:
            readme = pathlib.Path(args.write)
            text = replace_block(
                readme.read_text(encoding="utf-8"), results_block(args.root), readme.name
            )
            readme.write_text(text, encoding="utf-8")
            print(f"{args.write}: results block written")
        else:
            print(render_table(collect(args.root)))
    except (ReportError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
