"""tfnotes.schedule: kernels at once from cores and memory (TFNOTES_JOBS wins), longest notebooks
first."""

import json

import pytest

from tfnotes import schedule

GIB = 2**30
ROWS = {
    "a.ipynb": {"seconds": 10, "peak_rss_bytes": 1 * GIB},
    "bert.ipynb": {"seconds": 180, "peak_rss_bytes": 6 * GIB},
    "c.ipynb": {"seconds": 60, "peak_rss_bytes": 1 * GIB},
}


@pytest.fixture(autouse=True)
def _no_override(monkeypatch):
    monkeypatch.delenv("TFNOTES_JOBS", raising=False)


def test_cores_plus_one_when_memory_allows():
    assert schedule.choose_jobs(list(ROWS), cpus=2, memory=24 * GIB, rows=ROWS) == 3
    # never more than notebooks
    assert schedule.choose_jobs(list(ROWS), cpus=16, memory=240 * GIB, rows=ROWS) == 3


def test_memory_limits_the_heaviest_kernels():
    # 6 + 1 GiB fit into 80 % of 9.5 GiB; 6 + 1 + 1 do not
    assert schedule.choose_jobs(list(ROWS), cpus=8, memory=9.5 * GIB, rows=ROWS) == 2
    assert schedule.choose_jobs(list(ROWS), cpus=8, memory=6 * GIB, rows=ROWS) == 1
    # unmeasured notebooks count as UNKNOWN_PEAK each
    assert schedule.choose_jobs(["x", "y", "z"], cpus=8, memory=8 * GIB, rows={}) == 2


def test_env_override(monkeypatch):
    monkeypatch.setenv("TFNOTES_JOBS", "5")
    assert schedule.choose_jobs(list(ROWS) * 3, cpus=1, memory=1 * GIB, rows=ROWS) == 5
    monkeypatch.setenv("TFNOTES_JOBS", "many")
    with pytest.raises(ValueError, match="TFNOTES_JOBS"):
        schedule.choose_jobs(list(ROWS), rows=ROWS)


def test_longest_first_unmeasured_first():
    assert schedule.longest_first(["a.ipynb", "new.ipynb", "bert.ipynb", "c.ipynb"], rows=ROWS) == [
        "new.ipynb",
        "bert.ipynb",
        "c.ipynb",
        "a.ipynb",
    ]


def test_reads_the_committed_benchmark(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"notebooks": [{"notebook": "a.ipynb", "seconds": 3}]}))
    assert schedule.benchmark_rows(path) == {"a.ipynb": {"notebook": "a.ipynb", "seconds": 3}}
    assert schedule.benchmark_rows(tmp_path / "missing.json") == {}
    assert schedule.available_memory() > 0 and schedule.usable_cpus() >= 1
