"""benchmarks/run_notebooks.py: another seed re-runs notebooks without touching the committed
copies."""

import importlib.util
import json
import pathlib

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _load_benchmark():
    spec = importlib.util.spec_from_file_location(
        "run_notebooks", ROOT / "benchmarks" / "run_notebooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _seed_notebook(path: pathlib.Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell("# seed probe"),
        # no TensorFlow: tfnotes.seed() before setup() reads TFNOTES_SEED (or 42)
        nbformat.v4.new_code_cell(
            "import tfnotes\n"
            "tfnotes.expect_result('seed in use', tfnotes.seed(), data='none', "
            "at_least=0, digits=0)"
        ),
    ]
    nbformat.write(nb, path)


@pytest.mark.parametrize(
    "seed, env_seed, expected", [(None, "", 42), (5, "", 5), (None, "6", 6), (5, "6", 5)]
)
def test_seed_option_reaches_the_kernel_and_spares_the_original(
    tmp_path, monkeypatch, seed, env_seed, expected
):
    bench = _load_benchmark()
    monkeypatch.setenv(bench.SEED_ENV, env_seed)  # TFNOTES_SEED=N in the environment means --seed N
    notebook = tmp_path / "probe.ipynb"
    _seed_notebook(notebook)
    before = notebook.read_bytes()
    out = tmp_path / "results"
    argv = ["--output", str(out), "--no-inplace", str(notebook)]
    if seed is not None:
        argv = ["--seed", str(seed)] + argv
    assert bench.main(argv) == 0
    payload = json.loads((out / "results.json").read_text())
    (row,) = payload["notebooks"]
    assert row["ok"], row["error"]
    assert float(row["value"]) == expected
    assert payload["machine"]["seed"] == (None if expected == 42 else expected)
    assert notebook.read_bytes() == before  # the original is never executed in place here
    if expected != 42:
        assert f"seed {expected} (TFNOTES_SEED)" in (out / "results.md").read_text()


def test_seed_option_forces_copies(tmp_path, monkeypatch):
    bench = _load_benchmark()
    # restored after the test (main() sets it for its kernels)
    monkeypatch.setenv(bench.SEED_ENV, "0")
    notebook = tmp_path / "probe.ipynb"
    _seed_notebook(notebook)
    before = notebook.read_bytes()
    # no --no-inplace
    assert bench.main(["--seed", "3", "--output", str(tmp_path / "r"), str(notebook)]) == 0
    assert notebook.read_bytes() == before
    assert not json.loads((tmp_path / "r" / "results.json").read_text())["inplace"]


def _sleep_notebook(path: pathlib.Path, seconds: float, megabytes: int) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell("# sleep probe"),
        nbformat.v4.new_code_cell(
            f"import time, tfnotes\nblock = bytearray({megabytes} * 2**20)\n"
            f"time.sleep({seconds})\n"
            f"tfnotes.expect_result('slept', {seconds}, data='none', at_least=0)"
        ),
    ]
    nbformat.write(nb, path)


def test_parallel_run_and_compare(tmp_path):
    """-j 2 --compare: kernels side by side, longest first; peak memory measured; both times
    reported."""
    import subprocess
    import sys

    paths = []
    for k, (seconds, mb) in enumerate([(2, 20), (8, 300), (4, 20)]):
        paths.append(tmp_path / f"nb{k}.ipynb")
        _sleep_notebook(paths[-1], seconds, mb)
    env = {k: v for k, v in __import__("os").environ.items() if k != "TFNOTES_JOBS"}
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run_notebooks.py"),
            "-j",
            "2",
            "--compare",
            "--no-inplace",
            "--output",
            str(tmp_path / "out"),
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    payload = json.loads((tmp_path / "out" / "results.json").read_text())
    rows = {pathlib.Path(r["notebook"]).name: r for r in payload["notebooks"]}
    assert [pathlib.Path(r["notebook"]).name for r in payload["notebooks"]] == [
        "nb0.ipynb",
        "nb1.ipynb",
        "nb2.ipynb",
    ]
    assert all(r["ok"] for r in rows.values())
    # the kernel holding 300 MiB is seen as such; the small ones are not
    assert rows["nb1.ipynb"]["peak_rss_bytes"] > 300 * 2**20 > rows["nb0.ipynb"]["peak_rss_bytes"]
    parallel = payload["machine"]["parallel"]
    assert parallel["failed"] == 0 and all(parallel["same_results"].values())
    # side by side: less wall time than the notebooks' sum
    assert payload["wall_seconds"] < payload["total_seconds"]
    assert "wall time" in (tmp_path / "out" / "results.md").read_text()


def test_cpu_time_tells_busy_from_idle(tmp_path):
    """The benchmark records each kernel's CPU time: a notebook that computes for 3 s shows ~3 s
    more CPU time than one that sleeps for 3 s, although both take about as long; results.md states
    the floor CPU time
    / cores."""
    busy, idle = tmp_path / "busy.ipynb", tmp_path / "idle.ipynb"
    _sleep_notebook(idle, 3, 1)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import time, tfnotes\nend = time.process_time() + 3\n"
            "while time.process_time() < end:\n    pass\n"
            "tfnotes.expect_result('busy', 3, data='none', at_least=0)"
        )
    ]
    nbformat.write(nb, busy)
    bench = _load_benchmark()
    assert (
        bench.main(["--no-inplace", "--output", str(tmp_path / "out"), str(busy), str(idle)]) == 0
    )
    payload = json.loads((tmp_path / "out" / "results.json").read_text())
    rows = {pathlib.Path(r["notebook"]).name: r for r in payload["notebooks"]}
    assert rows["busy.ipynb"]["cpu_seconds"] - rows["idle.ipynb"]["cpu_seconds"] > 2.0, rows
    assert rows["idle.ipynb"]["cpu_seconds"] < rows["idle.ipynb"]["seconds"] - 2.0, rows
    assert "No schedule on" in (tmp_path / "out" / "results.md").read_text()


def test_kernel_that_dies_at_start_is_started_again(tmp_path, monkeypatch, capsys):
    """Two kernels started at once can race for one ZMQ port and die before running a cell: start it
    again."""
    import nbclient

    bench = _load_benchmark()
    nb_path = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), nb_path)
    calls = []

    class FlakyClient:
        def __init__(self, nb, **kwargs):
            self.nb = nb

        def execute(self):
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(nbclient, "NotebookClient", FlakyClient)
    seconds, error = bench._execute(nb_path, tmp_path / "out.ipynb", timeout=60)
    assert error is None and len(calls) == 2 and (tmp_path / "out.ipynb").is_file()
    assert "starting it again" in capsys.readouterr().out

    calls.clear()

    class DeadClient(FlakyClient):
        def execute(self):
            calls.append(1)
            raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(nbclient, "NotebookClient", DeadClient)
    seconds, error = bench._execute(nb_path, tmp_path / "out2.ipynb", timeout=60)
    assert (
        error is not None
        and "kernel_info" in error
        and len(calls) == bench.KERNEL_START_RETRIES + 1
    )
    assert not (tmp_path / "out2.ipynb").exists()


def test_reference_workload_times_each_part():
    """The yardstick for comparing runs: the real workload runs in a fresh interpreter and reports
    each part."""
    result = _load_benchmark().reference_seconds()
    assert result is not None
    assert set(result) == {"import", "dense_fit", "conv_fit", "total"}
    assert all(value > 0 for value in result.values()), result
    assert (
        abs(result["total"] - (result["import"] + result["dense_fit"] + result["conv_fit"])) < 0.05
    ), result


def test_reference_workload_failure_is_reported_not_fatal(tmp_path, capsys):
    bench = _load_benchmark()
    broken = tmp_path / "broken.py"
    broken.write_text("raise SystemExit('no tensorflow here')\n")
    assert bench.reference_seconds(broken) is None
    assert "reference workload failed (exit 1): no tensorflow here" in capsys.readouterr().out
    garbled = tmp_path / "garbled.py"
    garbled.write_text("print('{not json')\n")
    assert bench.reference_seconds(garbled) is None
    assert "JSONDecodeError" in capsys.readouterr().out


def test_reference_runs_only_for_the_whole_course_or_when_asked(tmp_path, monkeypatch):
    """Naming notebooks skips the reference (tests and quick checks); --reference asks for it;
    results.md states it."""
    bench = _load_benchmark()
    calls = []
    monkeypatch.setattr(
        bench, "reference_seconds", lambda: calls.append(1) or {"import": 1.0, "total": 9.5}
    )
    nb_path = tmp_path / "probe.ipynb"
    _seed_notebook(nb_path)
    assert bench.main(["--no-inplace", "--output", str(tmp_path / "a"), str(nb_path)]) == 0
    assert (
        calls == []
        and "reference" not in json.loads((tmp_path / "a" / "results.json").read_text())["machine"]
    )
    assert (
        bench.main(["--no-inplace", "--reference", "--output", str(tmp_path / "b"), str(nb_path)])
        == 0
    )
    assert calls == [1, 1]
    machine = json.loads((tmp_path / "b" / "results.json").read_text())["machine"]
    assert machine["reference"] == {
        "before": {"import": 1.0, "total": 9.5},
        "after": {"import": 1.0, "total": 9.5},
    }
    assert (
        "9.5 s before and 9.5 s after the notebooks" in (tmp_path / "b" / "results.md").read_text()
    )


def test_solutions_time_is_summed_and_held_against_the_budget():
    """Only notebooks named solutions.ipynb count; over the budget says OVER; side-by-side kernels,
    a subset of the course's solutions and course-scale runs are summed but not held against the
    budget."""
    bench = _load_benchmark()
    budget = bench.SOLUTIONS_BUDGET_SECONDS
    rows = [
        {"notebook": "chapter1/solutions.ipynb", "seconds": budget / 2},
        {"notebook": "bert_exp/solutions.ipynb", "seconds": budget / 2 - 10},
        {"notebook": "chapter1/Iris_classify.ipynb", "seconds": 1000.0},
    ]
    line = bench.solutions_line(rows)
    assert (
        line.startswith("solutions notebooks (2):")
        and f"({budget - 10:.0f} s)" in line
        and "within" in line
    ), line
    rows[0]["seconds"] += 20
    assert "OVER" in bench.solutions_line(
        rows
    ) and f"({budget + 10:.0f} s)" in bench.solutions_line(rows)
    assert "not comparable" in bench.solutions_line(rows, jobs=3)
    assert "the budget is for all of them" in bench.solutions_line(rows, in_course=7)
    assert "OVER" in bench.solutions_line(rows, in_course=2)
    assert "the budget is for the default run" in bench.solutions_line(rows, full=True)
    assert bench.solutions_line(rows[2:]) is None


def test_chapter_line_sums_lessons_and_solutions_per_chapter():
    bench = _load_benchmark()
    rows = [
        {"notebook": "chapter1/a.ipynb", "seconds": 10.0},
        {"notebook": "chapter1/b.ipynb", "seconds": 5.4},
        {"notebook": "chapter1/solutions.ipynb", "seconds": 7.0},
        {"notebook": "chapter2/c.ipynb", "seconds": 3.0},
    ]
    assert bench.chapter_line(rows) == (
        "by chapter (lessons + solutions): chapter1 15 + 7 s · chapter2 3 + 0 s"
    )
