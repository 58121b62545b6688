#!/usr/bin/env python
"""Execute the course's notebooks with default settings and record wall time and key metric of each.

    python benchmarks/run_notebooks.py                     # every notebook, in place, course order
    python benchmarks/run_notebooks.py chapter3/*.ipynb    # only these
    python benchmarks/run_notebooks.py --no-inplace        # write executed copies to a temp folder
    instead python benchmarks/run_notebooks.py --full              # course scale (TFNOTES_FULL=1),
    results elsewhere python benchmarks/run_notebooks.py --seed 7 chapter2/*.ipynb   # another seed
    (TFNOTES_SEED=7), copies only python benchmarks/run_notebooks.py -j auto             # several
    kernels at once (longest first) python benchmarks/run_notebooks.py --compare           #
    sequential run, then a parallel re-run: both times

Each notebook runs in a fresh ``python3`` kernel (nbclient, cwd = the notebook's folder), one at a
time, with ``TFNOTES_FULL`` removed from the environment (the default, fast run). ``--seed N`` sets
``TFNOTES_SEED=N`` (every notebook's ``tfnotes.setup`` then uses N): such runs never overwrite the
committed notebooks (executed copies go to a temp folder) and their results go to
``outputs/benchmark-seed-N/``, so thresholds can be checked on seeds other than the stored one. By
default the executed notebook is written back in place, so the committed notebooks are exactly this
benchmark's run; a notebook that fails is NOT written back (its partial copy goes to a temp folder,
printed). After each run the RESULT line is read with :func:`tfnotes.report.parse_notebook`. The
script continues after a failure, writes ``benchmarks/results.json`` and ``benchmarks/results.md``
(or into ``--output``; they describe only the notebooks of this run), and exits 1 if any notebook
failed. ``bash course.sh run`` calls this script.

A run of every notebook (no notebooks named) or ``--reference`` also times
``benchmarks/reference_workload.py``, a fixed workload, before and after the notebooks: this
machine's speed varies between runs (1.4 times within one day), and the reference is a rough scale
for comparing two runs of the Keras-bound notebooks, not of the BERT ones (measurements in its
docstring; ``--no-reference`` skips it).

The exercise solutions (every ``solutions.ipynb``) have a budget together: 4 minutes, default run,
one kernel at a time on 2 cores (issue 17). The run prints their sum and, when it ran all of them
that way, whether it is within the budget; results.md says the same.
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
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
# tfnotes without an installed package (it is installed editable by course.sh)
sys.path.insert(0, str(ROOT))

from tfnotes import env, report, schedule  # noqa: E402  (tfnotes imports no TensorFlow at import time)

FULL_ENV = env.FULL_ENV
SEED_ENV = env.SEED_ENV
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colour codes in IPython tracebacks
REFERENCE = ROOT / "benchmarks" / "reference_workload.py"
#: Issue 17's budget: all solutions notebooks together, default run, one kernel at a time on 2
#: cores.
SOLUTIONS_BUDGET_SECONDS = 240


def solutions_line(
    rows: list[dict], jobs: int = 1, in_course: int | None = None, full: bool = False
) -> str | None:
    """One line on the exercise solutions' time against their budget; None when no solutions
    notebook ran.

    The budget holds for all ``in_course`` solutions notebooks run one at a time with default
    settings: other runs get the sum and the reason it is not compared."""
    picked = [
        row for row in rows if pathlib.PurePosixPath(row["notebook"]).name == "solutions.ipynb"
    ]
    if not picked:
        return None
    seconds = sum(row["seconds"] for row in picked)
    if full:
        verdict = "course-scale run: the budget is for the default run"
    elif jobs > 1:
        verdict = "not comparable with the budget: kernels ran side by side"
    elif in_course is not None and len(picked) < in_course:
        verdict = f"{len(picked)} of the course's {in_course}: the budget is for all of them"
    else:
        verdict = "within" if seconds <= SOLUTIONS_BUDGET_SECONDS else "OVER"
        verdict += f" the {fmt(SOLUTIONS_BUDGET_SECONDS)} budget"
    return f"solutions notebooks ({len(picked)}): {fmt(seconds)} ({seconds:.0f} s), {verdict}"


def chapter_line(rows: list[dict]) -> str:
    """Seconds per chapter folder, lessons and solutions apart, in course order: one line."""
    sums: dict[str, list[float]] = {}
    for row in rows:
        path = pathlib.PurePosixPath(row["notebook"])
        part = sums.setdefault(path.parts[0], [0.0, 0.0])
        part[path.name == "solutions.ipynb"] += row["seconds"]
    return "by chapter (lessons + solutions): " + " · ".join(
        f"{name} {lessons:.0f} + {solutions:.0f} s" for name, (lessons, solutions) in sums.items()
    )


def reference_seconds(script: pathlib.Path = REFERENCE, timeout: int = 900) -> dict | None:
    """Run the fixed reference workload in a fresh interpreter; its seconds per part (``total``
    included).

    None, with a printed reason, when it fails: a benchmark is still worth having without its
    yardstick.
    """
    env = {k: v for k, v in os.environ.items() if k not in (FULL_ENV, SEED_ENV)}
    try:
        proc = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=timeout, env=env
        )
        lines = proc.stdout.strip().splitlines()
        result = json.loads(lines[-1]) if proc.returncode == 0 and lines else None
    except (subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        print(f"[benchmark] reference workload failed: {type(exc).__name__}: {exc}", flush=True)
        return None
    if not isinstance(result, dict) or not isinstance(result.get("total"), (int, float)):
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"[benchmark] reference workload failed (exit {proc.returncode}): {tail}", flush=True)
        return None
    return result


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


class _PeakMemory:
    """Samples the kernel (this process's children) twice a second: summed resident memory and CPU
    time.

    ``peak``: the largest summed RSS seen. ``cpu_seconds``: user + system CPU time of every child
    process, the last value seen for each (a kernel's final fraction of a second after the last
    sample is missed). CPU time over wall time says how many cores the notebook kept busy; the whole
    course's CPU time over the usable cores is the floor that no parallel schedule can beat.
    Run each notebook from its own process (``-j N`` does) or one at a time, so the children are
    that notebook's.
    """

    def __init__(self):
        import threading

        self.peak, self._cpu, self._stop = 0, {}, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def cpu_seconds(self) -> float:
        return sum(self._cpu.values())

    def _run(self):
        import psutil

        me = psutil.Process()
        while not self._stop.wait(0.5):
            total = 0
            for child in me.children(recursive=True):
                try:
                    total += child.memory_info().rss
                    times = child.cpu_times()
                    self._cpu[child.pid] = max(
                        self._cpu.get(child.pid, 0.0), times.user + times.system
                    )
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def execute(
    path: pathlib.Path, out_path: pathlib.Path, timeout: int
) -> tuple[float, str | None, int, float]:
    """Run ``path`` top to bottom in a fresh kernel; write it to ``out_path`` on success.

    Returns (wall seconds including kernel start, error message or None, peak memory of the kernel
    and its child processes in bytes, their CPU seconds). On failure the partially executed notebook
    is saved to a temp file named in the message and ``out_path`` is left untouched.
    """
    with _PeakMemory() as memory:
        seconds, error = _execute(path, out_path, timeout)
    return seconds, error, memory.peak, memory.cpu_seconds


#: Kernel starts retried when the kernel dies before its first reply (no cell has run yet).
KERNEL_START_RETRIES = 2


def _execute(path: pathlib.Path, out_path: pathlib.Path, timeout: int) -> tuple[float, str | None]:
    import nbclient
    import nbformat

    for attempt in range(KERNEL_START_RETRIES + 1):
        nb = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            record_timing=True,
            resources={"metadata": {"path": str(path.parent)}},
        )
        start = time.perf_counter()
        try:
            client.execute()
        except Exception as exc:  # CellExecutionError, timeouts, dead kernel: record and go on
            if "before replying to kernel_info" in str(exc) and attempt < KERNEL_START_RETRIES:
                # Kernels started at the same moment can race for one ZMQ port ("Address already in
                # use"): the kernel dies before running anything, so starting it again changes
                # nothing but the wall time.
                print(
                    f"[benchmark]     kernel for {path.name} died at start ({exc}); starting it "
                    f"again",
                    flush=True,
                )
                time.sleep(1 + attempt)
                continue
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
    raise AssertionError("unreachable")


def fmt(seconds: float) -> str:
    return report.format_seconds(seconds)


def write_markdown(
    path: pathlib.Path, info: dict, rows: list[dict], budget: str | None = None
) -> None:
    # links relative to results.md's folder (also outside the repo)
    base = os.path.relpath(path.parent, ROOT)

    def link(rel):
        return report.link(rel, base)

    lines = [
        f"# Benchmark: {info.get('run', 'default')} run of the notebooks"
        + (f" with seed {info['seed']} (TFNOTES_SEED)" if info.get("seed") is not None else ""),
        "",
        f"Generated by `python benchmarks/run_notebooks.py` on {info['date']}: "
        f"{info['cpus_usable']} usable CPU "
        f"cores ({info['cpu_count']} on the machine, {info['cpu_model']}), Python "
        f"{info['python']}, "
        f"TensorFlow {info['tensorflow']}, Keras {info['keras']}. Wall time per notebook in a "
        f"fresh kernel "
        "(kernel start included), "
        + (
            "course-scale settings (`TFNOTES_FULL=1`)."
            if info.get("run") == "full"
            else "default settings (`TFNOTES_FULL` unset)."
        ),
        "",
        "| notebook | status | wall time | peak memory | key metric | data |",
        "|---|---|---:|---:|---|---|",
    ]
    for row in rows:
        if row["ok"]:
            status, metric = "ok", report.metric_text(row["metric"], row["value"], row["expected"])
        else:
            status, metric = "**FAILED**", row["error"]
        peak = f"{row['peak_rss_bytes'] / 2**30:.1f} GiB" if row.get("peak_rss_bytes") else ""
        lines.append(
            f"| {link(row['notebook'])} | {status} | {fmt(row['seconds'])} | {peak} | "
            f"{report.md_cell(metric)} | {report.md_cell(row.get('data') or '')} |"
        )
    total = sum(row["seconds"] for row in rows)
    failed = sum(not row["ok"] for row in rows)
    lines.append(
        f"| **total** ({len(rows)} notebooks, {failed} failed) | | **{fmt(total)}** | | | |"
    )
    jobs = info.get("jobs", 1)
    lines += [
        "",
        f"Run with {jobs} kernel(s) at once: wall time {fmt(info['wall_seconds'])}"
        + (
            f" for a sum of {fmt(total)} of per-notebook times (each slowed by the others)."
            if jobs > 1
            else "."
        ),
    ]
    cpu = sum(row.get("cpu_seconds") or 0 for row in rows)
    if cpu and jobs == 1:
        cores = info["cpus_usable"] or 1
        lines += [
            "",
            f"CPU time of the kernels (user + system, sampled twice a second): {fmt(cpu)} = "
            f"{cpu / total:.2f} of {cores} cores busy on average. No schedule on {cores} cores can "
            f"run "
            f"these notebooks in less than CPU time / cores = {fmt(cpu / cores)} = "
            f"{cpu / cores / total:.0%} of the sum.",
        ]
    ref = info.get("reference") or {}
    totals = [ref[when]["total"] for when in ("before", "after") if ref.get(when)]
    if totals:
        lines += [
            "",
            "Reference workload (`benchmarks/reference_workload.py`, the same in every run): "
            + " and ".join(
                f"{ref[when]['total']:.1f} s {when}"
                for when in ("before", "after")
                if ref.get(when)
            )
            + " the notebooks. The machine's speed varies between runs; this is a rough yardstick "
            "for "
            "comparing them: it follows the Keras-bound chapters 1-6 more closely than the BERT "
            "notebooks "
            "(measurements in the script's docstring).",
        ]
    parallel = info.get("parallel")
    if parallel:
        lines += [
            "",
            f"**Parallel re-run** (`--compare`, same invocation, executed copies): "
            f"{parallel['jobs']} "
            f"kernels at once, wall time **{fmt(parallel['wall_seconds'])}** = "
            f"**{parallel['wall_seconds'] / total:.0%}** of the sum of the per-notebook times "
            f"above "
            f"({parallel['failed']} failed).",
        ]
    if budget:
        lines += [
            "",
            f"Exercise {budget}. The machine's speed differs between runs: compare the reference "
            "workload's time.",
        ]
    slowest = sorted(rows, key=lambda row: row["seconds"], reverse=True)[:3]
    lines += ["", "Slowest notebooks:", ""]
    lines += [
        f"{i}. {link(row['notebook'])} — {fmt(row['seconds'])}" for i, row in enumerate(slowest, 1)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _jobs(value: str, paths) -> int:
    if str(value).strip().lower() == "auto":
        return schedule.choose_jobs([report._rel(p, ROOT) for p in paths], verbose=True)
    try:
        jobs = int(value)
    except ValueError:
        raise SystemExit(f"-j takes a positive number or 'auto', not {value!r}") from None
    if jobs < 1:
        raise SystemExit(f"-j takes a positive number or 'auto', not {value!r}")
    return jobs


def _one(path: pathlib.Path, root: pathlib.Path, inplace: bool, copies, timeout: int) -> dict:
    """Execute one notebook and read its RESULT line back: the benchmark row."""
    rel = report._rel(path, root)
    out_path = path if inplace else copies / (rel.lstrip("/") if rel.startswith("/") else rel)
    seconds, error, peak, cpu = execute(path, out_path, timeout)
    row = {
        "notebook": rel,
        "seconds": round(seconds, 1),
        "peak_rss_bytes": peak or None,
        "cpu_seconds": round(cpu, 1) or None,
        "ok": False,
        "metric": None,
        "value": None,
        "expected": None,
        "data": None,
        "cells_seconds": None,
        "error": error,
    }
    if error is None:
        try:
            result = report.parse_notebook(out_path, name=rel)
            row.update(
                ok=True,
                metric=result.metric,
                value=result.value,
                expected=result.expected,
                data=result.data,
                cells_seconds=round(result.seconds, 1),
            )
        except report.ReportError as exc:
            row["error"] = str(exc)
    return row


def _print_row(row: dict) -> None:
    mem = f", peak {row['peak_rss_bytes'] / 2**30:.1f} GiB" if row.get("peak_rss_bytes") else ""
    if row.get("cpu_seconds"):
        busy = row["cpu_seconds"] / max(row["seconds"], 0.1)
        mem += f", CPU {fmt(row['cpu_seconds'])} ({busy:.1f} cores busy)"
    if row["ok"]:
        print(
            f"[benchmark]     ok {row['notebook']} {fmt(row['seconds'])}{mem}  {row['metric']} = "
            f"{row['value']} "
            f"(expected {row['expected']})",
            flush=True,
        )
    else:
        print(
            f"[benchmark]     FAILED {row['notebook']} after {fmt(row['seconds'])}: {row['error']}",
            flush=True,
        )


def run_all(paths, root, jobs: int, inplace: bool, copies, timeout: int) -> tuple[list, float]:
    """Execute ``paths`` (``jobs`` at once, each in its own process and kernel); rows in course
    order, wall seconds."""
    start = time.perf_counter()
    if jobs <= 1:
        rows = []
        for i, path in enumerate(paths, 1):
            print(f"[benchmark] [{i}/{len(paths)}] {report._rel(path, root)} …", flush=True)
            rows.append(_one(path, root, inplace, copies, timeout))
            _print_row(rows[-1])
        return rows, time.perf_counter() - start
    import concurrent.futures
    import multiprocessing

    order = schedule.longest_first([report._rel(p, root) for p in paths])
    by_rel = {report._rel(p, root): p for p in paths}
    print(f"[benchmark] {jobs} at once, longest first: " + ", ".join(order), flush=True)
    done = {}
    # spawn: a fresh interpreter per worker (no forked threads or event loops from this process)
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {
            pool.submit(_one, by_rel[rel], root, inplace, copies, timeout): rel for rel in order
        }
        for future in concurrent.futures.as_completed(futures):
            row = future.result()
            done[row["notebook"]] = row
            _print_row(row)
    return [done[report._rel(p, root)] for p in paths], time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "notebooks", nargs="*", help="notebooks to run (default: every course notebook)"
    )
    parser.add_argument(
        "--no-inplace",
        dest="inplace",
        action="store_false",
        help="write executed notebooks to a temp folder instead of over the originals",
    )
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell (default 3600)")
    parser.add_argument(
        "--full",
        action="store_true",
        help=f"course-scale run ({FULL_ENV}=1) instead of the default run; results then go to "
        "outputs/benchmark-full/ unless --output is given",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"run with {SEED_ENV}=N (another seed than the notebooks' own); implies --no-inplace, "
        "results go to outputs/benchmark-seed-N/ unless --output is given",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        default="1",
        help="notebooks run at once, each in its own kernel: a number or 'auto' (from cores and "
        "free "
        "memory, tfnotes/schedule.py; TFNOTES_JOBS overrides auto). Default 1: honest "
        "per-notebook times. With more, the longest notebooks (last benchmark) start first",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="after the run, run the same notebooks again with -j auto on executed copies and "
        "report the parallel wall time beside this run's sequential sum",
    )
    parser.add_argument(
        "--reference",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="time benchmarks/reference_workload.py before and after the notebooks (default: only "
        "when every notebook runs)",
    )
    parser.add_argument(
        "--output",
        help="folder for results.json and results.md "
        "(default: benchmarks/, with --full outputs/benchmark-full/)",
    )
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
        print(
            f"[benchmark] {SEED_ENV}={args.seed}: executed copies only, committed notebooks "
            f"untouched"
        )
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
    print(
        f"[benchmark] {len(paths)} notebooks, {info['cpus_usable']} CPU cores "
        f"({info['cpu_model']}), "
        f"TensorFlow {info['tensorflow']}, "
        + ("in place" if args.inplace else f"copies in {copies}")
    )

    reference = not args.notebooks if args.reference is None else args.reference
    if reference:
        before = reference_seconds()
        print(f"[benchmark] reference workload before the notebooks: {before}", flush=True)
    jobs = _jobs(args.jobs, paths)
    rows, wall = run_all(paths, ROOT, jobs, args.inplace, copies, args.timeout)
    info["jobs"], info["wall_seconds"] = jobs, round(wall, 1)
    if reference:
        after = reference_seconds()
        print(f"[benchmark] reference workload after the notebooks: {after}", flush=True)
        info["reference"] = {"before": before, "after": after}
    if args.compare:
        copies2 = pathlib.Path(tempfile.mkdtemp(prefix="tfnotes-parallel-"))
        jobs2 = _jobs("auto", paths)
        print(
            f"[benchmark] --compare: the same {len(paths)} notebooks again, {jobs2} at once "
            f"(copies in {copies2})"
        )
        rows2, wall2 = run_all(paths, ROOT, jobs2, False, copies2, args.timeout)
        info["parallel"] = {
            "jobs": jobs2,
            "wall_seconds": round(wall2, 1),
            "failed": sum(not r["ok"] for r in rows2),
            "notebooks": {r["notebook"]: r["seconds"] for r in rows2},
            "same_results": {r["notebook"]: r["value"] == s["value"] for r, s in zip(rows2, rows)},
        }

    default_out = (
        "outputs/benchmark-full"
        if args.full
        else f"outputs/benchmark-seed-{args.seed}"
        if args.seed is not None
        else "benchmarks"
    )
    out = pathlib.Path(args.output or ROOT / default_out)
    out.mkdir(parents=True, exist_ok=True)
    total = sum(row["seconds"] for row in rows)
    failed = [row["notebook"] for row in rows if not row["ok"]]
    info["run"] = "full" if args.full else "default"
    info["seed"] = args.seed  # None: each notebook's own seed
    payload = {
        "machine": info,
        "inplace": args.inplace,
        "total_seconds": round(total, 1),
        "jobs": jobs,
        "wall_seconds": round(wall, 1),
        "failed": failed,
        "notebooks": rows,
    }
    (out / "results.json").write_text(
        json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    in_course = sum(p.name == "solutions.ipynb" for p in report.find_notebooks(ROOT))
    budget = solutions_line(rows, jobs, in_course, full=args.full)
    write_markdown(out / "results.md", info, rows, budget)
    if jobs > 1 or args.compare:
        par = info.get("parallel", {"jobs": jobs, "wall_seconds": wall})
        print(
            f"[benchmark] sum of per-notebook times {fmt(total)} ({jobs} at once); wall time with "
            f"{par['jobs']} at once {fmt(par['wall_seconds'])} = {par['wall_seconds'] / total:.0%} "
            f"of the sum"
        )
        cpu = sum(row.get("cpu_seconds") or 0 for row in rows)
        if cpu and jobs == 1:
            cores = info["cpus_usable"] or 1
            print(
                f"[benchmark] CPU time of the sequential run {fmt(cpu)}: floor on {cores} cores "
                f"{fmt(cpu / cores)} = {cpu / cores / total:.0%} of the sum"
            )
    print(f"[benchmark] {chapter_line(rows)}")
    if budget:
        print(f"[benchmark] {budget}")
    print(
        f"[benchmark] total {fmt(total)}; {len(failed)} failed; wrote {out / 'results.json'} and "
        f"{out / 'results.md'}"
    )
    for name in failed:
        print(f"[benchmark] FAILED: {name}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
