"""Hygiene of every notebook in the repository (found by glob: new notebooks are checked too)."""

import json
import re
import pathlib

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(
    p
    for p in ROOT.rglob("*.ipynb")
    if not any(
        part.startswith(".") or part in {"outputs", "data"} for part in p.relative_to(ROOT).parts
    )
)


def test_notebooks_exist():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_hygiene(path):
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert nb.nbformat == 4
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", "kernel must be python3"
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.lstrip().startswith("# "), (
        "first cell: a Markdown title"
    )
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert code, "no code cells"
    counts = [c.execution_count for c in code]
    assert None not in counts, "every code cell must have been executed"
    assert counts == list(range(1, len(counts) + 1)), (
        f"cells not executed once, in order, in a fresh kernel: {counts}"
    )
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"stored error output: {errors[0].ename if errors else ''}"
    assert sum(bool(c.outputs) for c in code) >= len(code) // 2, (
        "outputs missing: commit the executed notebook"
    )
    text = json.dumps(nb)
    assert "/work/" not in text and "/home/" not in text and "/root/" not in text, (
        "absolute path in notebook"
    )
    assert "input(" not in "".join(c.source for c in code), "no interactive input()"


#: Text that differs between machines or data routes: it must never be in an output that nbval
#: compares.
ROUTE_OR_DEVICE = re.compile(
    r"\b(CPU|GPU)s?\b|\[tfnotes\.data\]|^RESULT \||来源 source|/device:", re.M
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_compared_cells_print_nothing_machine_or_route_specific(path):
    """A cell tagged nbval-check-output prints only what is identical on every machine (CPU/GPU) and
    data route."""
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "nbval-check-output" not in cell.metadata.get("tags", []):
            continue
        text = "".join(
            o.get("text", "")
            if o.output_type == "stream" and o.get("name") == "stdout"
            else o.get("data", {}).get("text/plain", "")
            for o in cell.outputs
            if o.output_type != "stream" or o.get("name") == "stdout"
        )
        match = ROUTE_OR_DEVICE.search(text)
        assert not match, (
            f"cell {index} is compared by nbval but prints {match.group(0)!r}: untag it or move "
            f"that line"
        )
