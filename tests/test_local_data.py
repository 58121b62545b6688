"""The notebooks pass, compared cells included, when a learner's own data file is used instead of
the package data.

README invites learners to put their files into ``data/`` (``$TFNOTES_DATA_DIR``); the loaders then
prefer them. A compared cell (tag ``nbval-check-output``) must print only what is the same on every
data route, and every expected-result check must hold on the learner's copy too. Here: Iris as
``iris.csv`` (the course's format: header, four features, integer label; the rows of the classic
data set in their usual order) in a temporary data dir; every notebook that loads Iris is
re-executed by nbval against its stored outputs.
"""

import os
import pathlib
import subprocess
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _iris_notebooks() -> list[str]:
    found = []
    for path in sorted(ROOT.glob("chapter*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if any("load_iris()" in cell.source for cell in nb.cells if cell.cell_type == "code"):
            found.append(str(path.relative_to(ROOT)))
    return found


def test_iris_notebooks_pass_with_a_learners_iris_csv(tmp_path):
    from sklearn.datasets import load_iris

    iris = load_iris()
    rows = [",".join(f"{v:g}" for v in x) + f",{y}" for x, y in zip(iris.data, iris.target)]
    (tmp_path / "iris.csv").write_text(
        "sepal_length,sepal_width,petal_length,petal_width,label\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    notebooks = _iris_notebooks()
    assert "chapter1/Iris_classify.ipynb" in notebooks, notebooks
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *notebooks],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        # its own outputs folder: the main nbval run may execute the same notebooks at the same time
        env=dict(
            os.environ,
            TFNOTES_DATA_DIR=str(tmp_path),
            TFNOTES_OFFLINE="1",
            TFNOTES_OUTPUT_DIR=str(tmp_path / "outputs"),
        ),
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    # the learner's file was really used: the loader names its source in the notebook outputs; nbval
    # does not store them, so check with the loader itself
    env = dict(os.environ, TFNOTES_DATA_DIR=str(tmp_path), TFNOTES_OFFLINE="1")
    probe = subprocess.run(
        [sys.executable, "-c", "import tfnotes.data as d; d.load_iris()"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert "iris.csv" in probe.stdout, probe.stdout + probe.stderr
