#!/usr/bin/env python
"""Execute the course's notebooks with default settings and record wall time and key metric of each.

    python benchmarks/run_notebooks.py                     # every notebook, in place, course order
    python benchmarks/run_notebooks.py chapter3/*.ipynb    # only these
    python benchmarks/run_notebooks.py --no-inplace        # write executed copies to a temp folder instead
    python benchmarks/run_notebooks.py --full              # course scale (TFNOTES_FULL=1), results elsewhere
    python benchmarks/run_notebooks.py --seed 7 chapter2/*.ipynb   # another seed (TFNOTES_SEED=7), copies only

Each notebook runs in a fresh ``python3`` kernel (nbclient, cwd = the notebook's folder), one at a time,
with ``TFNOTES_FULL`` removed from the environment (the default, fast run). ``--seed N`` sets ``TFNOTES_SEED=N``
(every notebook's ``tfnotes.setup`` then uses N): such runs never overwrite the committed notebooks (executed copies
go to a temp folder) and their results go to ``outputs/benchmark-seed-N/``, so thresholds can be checked on seeds
other than the stored one. By default the executed notebook
is written back in place, so the committed notebooks are exactly this benchmark's run; a notebook that fails
is NOT written back (its partial copy goes to a temp folder, printed). After each run the RESULT line is read
with :func:`tfnotes.report.parse_notebook`. The script continues after a failure, writes
``benchmarks/results.json`` and ``benchmarks/results.md`` (or into ``--output``; they describe only the
notebooks of this run), and exits 1 if any notebook failed. ``bash course.sh run`` calls this script.
"""
from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import pathlib
import platform
import re
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tfnotes without an installed package (it is installed editable by course.sh)

from tfnotes import env, report  # noqa: E402  (tfnotes imports no TensorFlow at import time)

FULL_ENV = env.FULL_ENV
SEED_ENV = env.SEED_ENV
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colour codes in IPython tracebacks


def machine_info() -> dict:
    """CPU count (machine and usable by this process), CPU model, versions, date (UTC)."""
    model = platform.processor() or platform.machine()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        usable = os.cpu_count()

    def version(dist):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None

    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "cpu_model": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": version("tensorflow"),
        "keras": version("keras"),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def execute(path: pathlib.Path, out_path: pathlib.Path, timeout: int) -> tuple[float, str | None]:
    """Run ``path`` top to bottom in a fresh kernel; write it to ``out_path`` on success.

    Returns (wall seconds including kernel start, error message or None). On failure the partially executed
    notebook is saved to a temp file named in the message and ``out_path`` is left untouched.
    """
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=True,
                                     resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
    except Exception as exc:  # CellExecutionError, timeouts, dead kernel: record and go on
        seconds = time.perf_counter() - start
        failed = pathlib.Path(tempfile.mkdtemp(prefix="tfnotes-failed-")) / path.name
        nbformat.write(nb, failed)
        first = ANSI.sub("", str(exc)).strip().splitlines()
        summary = f"{type(exc).__name__}: " + (first[-1] if first else "")
        return seconds, f"{summary} (partial run saved to {failed})"
    seconds = time.perf_counter() - start
    out_path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out_path)
    return seconds, None


def fmt(seconds: float) -> str:
    return report.format_seconds(seconds)


def write_markdown(path: pathlib.Path, info: dict, rows: list[dict]) -> None:
    base = os.path.relpath(path.parent, ROOT)  # links relative to results.md's folder (also outside the repo)

    def link(rel):
        return report.link(rel, base)

    lines = [
        f"# Benchmark: {info.get('run', 'default')} run of the notebooks"
        + (f" with seed {info['seed']} (TFNOTES_SEED)" if info.get("seed") is not None else ""),
        "",
        f"Generated by `python benchmarks/run_notebooks.py` on {info['date']}: {info['cpus_usable']} usable CPU "
        f"cores ({info['cpu_count']} on the machine, {info['cpu_model']}), Python {info['python']}, "
        f"TensorFlow {info['tensorflow']}, Keras {info['keras']}. Wall time per notebook in a fresh kernel "
        "(kernel start included), "
        + ("course-scale settings (`TFNOTES_FULL=1`)." if info.get("run") == "full"
           else "default settings (`TFNOTES_FULL` unset)."),
        "",
        "| notebook | status | wall time | key metric | data |",
        "|---|---|---:|---|---|",
    ]
    for row in rows:
        if row["ok"]:
            status, metric = "ok", report.metric_text(row["metric"], row["value"], row["expected"])
        else:
            status, metric = "**FAILED**", row["error"]
        lines.append(f"| {link(row['notebook'])} | {status} | {fmt(row['seconds'])} | "
                     f"{report.md_cell(metric)} | {report.md_cell(row.get('data') or '')} |")
    total = sum(row["seconds"] for row in rows)
    failed = sum(not row["ok"] for row in rows)
    lines.append(f"| **total** ({len(rows)} notebooks, {failed} failed) | | **{fmt(total)}** | | |")
    slowest = sorted(rows, key=lambda row: row["seconds"], reverse=True)[:3]
    lines += ["", "Slowest notebooks:", ""]
    lines += [f"{i}. {link(row['notebook'])} — {fmt(row['seconds'])}" for i, row in enumerate(slowest, 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks to run (default: every course notebook)")
    parser.add_argument("--no-inplace", dest="inplace", action="store_false",
                        help="write executed notebooks to a temp folder instead of over the originals")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell (default 3600)")
    parser.add_argument("--full", action="store_true",
                        help=f"course-scale run ({FULL_ENV}=1) instead of the default run; results then go to "
                             "outputs/benchmark-full/ unless --output is given")
    parser.add_argument("--seed", type=int, default=None,
                        help=f"run with {SEED_ENV}=N (another seed than the notebooks' own); implies --no-inplace, "
                             "results go to outputs/benchmark-seed-N/ unless --output is given")
    parser.add_argument("--output", help="folder for results.json and results.md "
                                         "(default: benchmarks/, with --full outputs/benchmark-full/)")
    args = parser.parse_args(argv)

    args.full = args.full or env.flag(FULL_ENV)  # TFNOTES_FULL=1 in the environment means --full
    if args.seed is None and os.environ.get(SEED_ENV, "").strip():
        args.seed = env.integer(SEED_ENV, 0)  # TFNOTES_SEED in the environment means --seed
    if args.full:
        os.environ[FULL_ENV] = "1"
        print(f"[benchmark] {FULL_ENV}=1: course-scale run (slow)")
    elif os.environ.pop(FULL_ENV, None) is not None:
        print(f"[benchmark] {FULL_ENV} removed from the environment: default run")
    if args.seed is not None:
        os.environ[SEED_ENV] = str(args.seed)
        args.inplace = False  # the committed notebooks are the default seed's run
        print(f"[benchmark] {SEED_ENV}={args.seed}: executed copies only, committed notebooks untouched")
    elif os.environ.pop(SEED_ENV, None) is not None:
        print(f"[benchmark] {SEED_ENV} removed from the environment: the notebooks' own seeds")
    paths = [pathlib.Path(p).resolve() for p in args.notebooks] or report.find_notebooks(ROOT)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print("[benchmark] no such notebook: " + ", ".join(missing), file=sys.stderr)
        return 2
    paths.sort(key=lambda p: report.course_key(report._rel(p, ROOT)))
    copies = None if args.inplace else pathlib.Path(tempfile.mkdtemp(prefix="tfnotes-benchmark-"))
    info = machine_info()
    print(f"[benchmark] {len(paths)} notebooks, {info['cpus_usable']} CPU cores ({info['cpu_model']}), "
          f"TensorFlow {info['tensorflow']}, " + ("in place" if args.inplace else f"copies in {copies}"))

    rows = []
    for i, path in enumerate(paths, 1):
        rel = report._rel(path, ROOT)
        out_path = path if args.inplace else copies / (rel.lstrip("/") if rel.startswith("/") else rel)
        print(f"[benchmark] [{i}/{len(paths)}] {rel} …", flush=True)
        seconds, error = execute(path, out_path, args.timeout)
        row = {"notebook": rel, "seconds": round(seconds, 1), "ok": False, "metric": None, "value": None,
               "expected": None, "data": None, "cells_seconds": None, "error": error}
        if error is None:
            try:
                result = report.parse_notebook(out_path, name=rel)
                row.update(ok=True, metric=result.metric, value=result.value, expected=result.expected,
                           data=result.data, cells_seconds=round(result.seconds, 1))
            except report.ReportError as exc:
                row["error"] = str(exc)
        rows.append(row)
        if row["ok"]:
            print(f"[benchmark]     ok {fmt(row['seconds'])}  {row['metric']} = {row['value']} "
                  f"(expected {row['expected']})", flush=True)
        else:
            print(f"[benchmark]     FAILED after {fmt(row['seconds'])}: {row['error']}", flush=True)

    default_out = ("outputs/benchmark-full" if args.full
                   else f"outputs/benchmark-seed-{args.seed}" if args.seed is not None else "benchmarks")
    out = pathlib.Path(args.output or ROOT / default_out)
    out.mkdir(parents=True, exist_ok=True)
    total = sum(row["seconds"] for row in rows)
    failed = [row["notebook"] for row in rows if not row["ok"]]
    info["run"] = "full" if args.full else "default"
    info["seed"] = args.seed  # None: each notebook's own seed
    payload = {"machine": info, "inplace": args.inplace, "total_seconds": round(total, 1),
               "failed": failed, "notebooks": rows}
    (out / "results.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_markdown(out / "results.md", info, rows)
    print(f"[benchmark] total {fmt(total)}; {len(failed)} failed; wrote {out / 'results.json'} and "
          f"{out / 'results.md'}")
    for name in failed:
        print(f"[benchmark] FAILED: {name}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
