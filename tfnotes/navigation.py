"""The header and footer of every notebook: course order, prerequisites, data, run time, API links.

    python -m tfnotes.navigation --write   # (re)write the header/footer cells of every course
    notebook python -m tfnotes.navigation --check   # exit 1 and show the difference if any is out
    of date (tests run this)

Each notebook gets, right under its title, a Markdown cell tagged ``course-header``: the notebook
that comes before (prerequisite), the data of the last benchmark run, the default-run time on that
machine (``benchmarks/results.json``, written by ``benchmarks/run_notebooks.py``; never typed by
hand) and links to the previous / next notebook in course order
(:func:`tfnotes.report.find_notebooks`). Its last cell, tagged ``course-footer``, repeats the
navigation, links the chapter's exercise solutions (``solutions.ipynb`` in the same folder, when it
exists) and the API reference pages (tensorflow.org) of the ``tf.*`` functions and classes the
notebook calls, in order of first use. Only these two cells are touched: no output changes, no
re-execution needed.
"""

from __future__ import annotations

import argparse
import difflib
import pathlib
import re
import sys
import urllib.parse

from . import report, schedule
from .env import REPO_ROOT

HEADER_TAG = "course-header"
FOOTER_TAG = "course-footer"
API_ROOT = "https://www.tensorflow.org/api_docs/python/"
#: At most this many API links per notebook (first use first).
MAX_API_LINKS = 14
_TF_CALL = re.compile(r"\btf\.((?:[A-Za-z_][A-Za-z0-9_]*\.)*[A-Za-z_][A-Za-z0-9_]*)\s*\(")


def _rel(path: pathlib.Path, root: pathlib.Path) -> str:
    return path.relative_to(root).as_posix()


def _link(target_rel: str, here_rel: str, text: str | None = None) -> str:
    """Markdown link from notebook ``here_rel`` to repository file ``target_rel``."""
    target = pathlib.PurePosixPath(target_rel)
    base = pathlib.PurePosixPath(here_rel).parent
    rel = pathlib.PurePosixPath(*([".."] * len(base.parts)), target) if base.parts else target
    if base.parts and target.parts[: len(base.parts)] == base.parts:
        rel = pathlib.PurePosixPath(*target.parts[len(base.parts) :])
    label = text or target_rel.removesuffix(".ipynb")
    return f"[{label}]({urllib.parse.quote(rel.as_posix())})"


#: Keras model methods a notebook calls on its model object (``model.fit(...)``): linked on the
#: tf.keras.Model page.
_MODEL_METHODS = (
    "compile",
    "fit",
    "evaluate",
    "predict",
    "save",
    "load_weights",
    "save_weights",
    "summary",
)
# on a named object (``model.fit(``), not NumPy's or PIL's ``np.save(`` / ``Image....save(``
_METHOD_CALL = re.compile(r"\b(?!np\.)[A-Za-z_]\w*\.(" + "|".join(_MODEL_METHODS) + r")\(")


def api_names(nb) -> list[str]:
    """``tf.*`` callables the notebook's code calls (and ``keras.Model`` methods), first use first,
    that exist in this TensorFlow; a method of a class is written ``Class#method`` (the reference
    documents it on
    the class page)."""
    import tensorflow as tf

    names = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        found = [(m.start(), m.group(1)) for m in _TF_CALL.finditer(cell.source)]
        found += [
            (m.start(), f"keras.Model#{m.group(1)}") for m in _METHOD_CALL.finditer(cell.source)
        ]
        for _, dotted in sorted(found):
            parent, obj, path = None, tf, dotted.replace("#", ".").split(".")
            try:
                for part in path:
                    parent, obj = obj, getattr(obj, part)
            except AttributeError:
                continue
            if not callable(obj):
                continue
            if isinstance(parent, type) and "#" not in dotted:
                dotted = ".".join(path[:-1]) + "#" + path[-1]
            if dotted not in names:
                names.append(dotted)
    return names[:MAX_API_LINKS]


def _api_link(dotted: str) -> str:
    page, _, anchor = dotted.partition("#")
    url = f"{API_ROOT}tf/{page.replace('.', '/')}" + (f"#{anchor}" if anchor else "")
    return f"[`tf.{dotted.replace('#', '.')}`]({url})"


def _fmt_seconds(seconds: float) -> str:
    return report.format_seconds(seconds)


def header(rel: str, order: list[str], rows: dict, machine: dict) -> str:
    i = order.index(rel)
    prev = order[i - 1] if i else None
    nxt = order[i + 1] if i + 1 < len(order) else None
    row = rows.get(rel, {})
    run = (
        f"{_fmt_seconds(row['seconds'])}（{machine.get('cpus_usable', '?')} 核 CPU / CPU cores, "
        f"{machine.get('date', '?')[:10]} 基准 / benchmark）"
        if row.get("seconds")
        else "未测 / not measured yet"
    )
    before = prerequisites(rel, order)
    first = (
        " · ".join(_link(p, rel) for p in before)
        if before
        else "无 / none — 从这里开始 / start here"
    )
    lines = [
        f"> **先修 / Before this**: {first}  ",
        f"> **数据 / Data**: {row.get('data') or '—'}  ",
        f"> **默认运行时间 / Default run**: {run}  ",
        "> " + _nav(rel, prev, nxt),
    ]
    return "\n".join(lines)


def prerequisites(rel: str, order: list[str]) -> list[str]:
    """What to read first: the previous lesson (solutions notebooks are optional, so they are
    skipped); for a chapter's ``solutions.ipynb``, the lessons of its folder whose exercises it
    answers."""
    earlier = order[: order.index(rel)]
    if pathlib.PurePosixPath(rel).name == "solutions.ipynb":
        folder = pathlib.PurePosixPath(rel).parent
        return [p for p in earlier if pathlib.PurePosixPath(p).parent == folder]
    lessons = [p for p in earlier if pathlib.PurePosixPath(p).name != "solutions.ipynb"]
    return lessons[-1:]


def _nav(rel: str, prev: str | None, nxt: str | None) -> str:
    parts = [
        f"← {_link(prev, rel)}" if prev else "← —",
        _link("README.md", rel, "目录 / Contents"),
        f"{_link(nxt, rel)} →" if nxt else "— →",
    ]
    return " · ".join(parts)


def footer(rel: str, order: list[str], names: list[str], root: pathlib.Path) -> str:
    i = order.index(rel)
    prev = order[i - 1] if i else None
    nxt = order[i + 1] if i + 1 < len(order) else None
    lines = ["---", f"**导航 / Navigation**: {_nav(rel, prev, nxt)}"]
    solutions = pathlib.PurePosixPath(rel).parent / "solutions.ipynb"
    if (root / solutions).is_file() and rel != solutions.as_posix():
        lines.append(f"\n**练习答案 / Solutions**: {_link(solutions.as_posix(), rel)}")
    if names:
        lines.append(
            "\n**本节用到的 API / API reference**: " + " · ".join(_api_link(n) for n in names)
        )
    return "\n".join(lines)


def _tagged(nb, tag: str):
    return [k for k, c in enumerate(nb.cells) if tag in c.get("metadata", {}).get("tags", [])]


def apply(nb, head: str, foot: str) -> bool:
    """Put ``head`` under the title and ``foot`` last (tagged cells, replaced in place). Returns
    True if changed."""
    import nbformat

    changed = False
    for tag, text, position in ((HEADER_TAG, head, 1), (FOOTER_TAG, foot, None)):
        found = _tagged(nb, tag)
        if found:
            cell = nb.cells[found[0]]
            if cell.source != text:
                cell.source, changed = text, True
        else:
            cell = nbformat.v4.new_markdown_cell(text, metadata={"tags": [tag]})
            nb.cells.insert(position if position is not None else len(nb.cells), cell)
            changed = True
    if _tagged(nb, FOOTER_TAG)[0] != len(nb.cells) - 1:  # keep the footer last
        cell = nb.cells.pop(_tagged(nb, FOOTER_TAG)[0])
        nb.cells.append(cell)
        changed = True
    return changed


def plan(root: pathlib.Path | None = None, benchmark: pathlib.Path | None = None) -> dict:
    """``{path: (header, footer)}`` for every course notebook, from the course order and the
    benchmark."""
    import nbformat

    root = pathlib.Path(root or REPO_ROOT)
    paths = report.find_notebooks(root)
    order = [_rel(p, root) for p in paths]
    bench = pathlib.Path(benchmark or root / "benchmarks" / "results.json")
    rows = schedule.benchmark_rows(bench)
    try:
        import json

        machine = json.loads(bench.read_text(encoding="utf-8")).get("machine", {})
    except (OSError, ValueError):
        machine = {}
    out = {}
    for path, rel in zip(paths, order):
        nb = nbformat.read(path, as_version=4)
        out[path] = (header(rel, order, rows, machine), footer(rel, order, api_names(nb), root))
    return out


def main(argv=None) -> int:
    import nbformat

    parser = argparse.ArgumentParser(
        description="Write or check every notebook's header and footer cells."
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    parser.add_argument("--root", default=str(REPO_ROOT))
    args = parser.parse_args(argv)
    stale = []
    for path, (head, foot) in plan(args.root).items():
        nb = nbformat.read(path, as_version=4)
        before = [c.source for c in nb.cells if c.cell_type == "markdown"]
        if apply(nb, head, foot):
            if args.write:
                nbformat.write(nb, path)
                print(f"updated {path.relative_to(args.root)}")
            else:
                after = [c.source for c in nb.cells if c.cell_type == "markdown"]
                diff = "\n".join(
                    difflib.unified_diff(
                        "\n\n".join(before).splitlines(),
                        "\n\n".join(after).splitlines(),
                        lineterm="",
                        n=0,
                    )
                )
                stale.append(f"{path.relative_to(args.root)}:\n{diff[:1500]}")
    if stale:
        print(
            "out of date (run: python -m tfnotes.navigation --write):\n" + "\n".join(stale),
            file=sys.stderr,
        )
        return 1
    if args.check:
        print("headers and footers up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
