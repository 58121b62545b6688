"""benchmarks/run_notebooks.py: another seed re-runs notebooks without touching the committed copies."""
import importlib.util
import json
import pathlib

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "benchmarks" / "run_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _seed_notebook(path: pathlib.Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# seed probe"),
        # no TensorFlow: tfnotes.seed() before setup() reads TFNOTES_SEED (or 42)
        nbformat.v4.new_code_cell("import tfnotes\n"
                                  "tfnotes.expect_result('seed in use', tfnotes.seed(), data='none', "
                                  "at_least=0, digits=0)"),
    ]
    nbformat.write(nb, path)


@pytest.mark.parametrize("seed", [None, 5])
def test_seed_option_reaches_the_kernel_and_spares_the_original(tmp_path, monkeypatch, seed):
    bench = _load_benchmark()
    monkeypatch.setenv(bench.SEED_ENV, "99")  # a stray variable must not leak into a default run
    notebook = tmp_path / "probe.ipynb"
    _seed_notebook(notebook)
    before = notebook.read_bytes()
    out = tmp_path / "results"
    argv = ["--output", str(out), "--no-inplace", str(notebook)]
    if seed is not None:
        argv = ["--seed", str(seed)] + argv
    assert bench.main(argv) == 0
    payload = json.loads((out / "results.json").read_text())
    row, = payload["notebooks"]
    assert row["ok"], row["error"]
    assert float(row["value"]) == (42 if seed is None else seed)
    assert payload["machine"]["seed"] == seed
    assert notebook.read_bytes() == before  # the original is never executed in place here
    if seed is not None:
        assert f"seed {seed}" in (out / "results.md").read_text()


def test_seed_option_forces_copies(tmp_path, monkeypatch):
    bench = _load_benchmark()
    monkeypatch.setenv(bench.SEED_ENV, "0")  # restored after the test (main() sets it for its kernels)
    notebook = tmp_path / "probe.ipynb"
    _seed_notebook(notebook)
    before = notebook.read_bytes()
    assert bench.main(["--seed", "3", "--output", str(tmp_path / "r"), str(notebook)]) == 0  # no --no-inplace
    assert notebook.read_bytes() == before
    assert not json.loads((tmp_path / "r" / "results.json").read_text())["inplace"]
