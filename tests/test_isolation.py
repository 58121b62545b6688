"""Two kernels writing at once do not collide (the suite and `course.sh run` run notebooks side by
side).

The one cache that several notebooks fill is the offline BERT build (both bert_exp notebooks, under
``<data dir>/bert``). Two processes asking for it at once, on an empty data dir, must both get the
same complete build, made once (a file lock; the loser waits and reuses it), with no temporary
folder left behind. Everything else a notebook writes goes to its own
``tfnotes.output_dir(<chapter>, <notebook>)`` folder (checked below).
"""

import os
import pathlib
import re
import subprocess
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parent.parent

BUILD = """
import time, tfnotes.bert as b
start = time.time()
paths = b.build_offline_bert(verbose=True)
print("READY", paths.encoder, round(time.time() - start, 1))
"""


def test_two_processes_build_the_offline_bert_once(tmp_path):
    env = dict(os.environ, TFNOTES_DATA_DIR=str(tmp_path), TFNOTES_OFFLINE="1")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", BUILD],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=1500)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "\n".join(o[-2000:] for o in outs)
    ready = [re.search(r"^READY (\S+)", o, re.M).group(1) for o in outs]
    assert ready[0] == ready[1] and pathlib.Path(ready[0]).is_dir()
    # built once, reused by the other
    assert sum("Building the offline BERT" in o for o in outs) == 1, outs
    leftovers = [p.name for p in (tmp_path / "bert").iterdir() if ".tmp-" in p.name]
    assert not leftovers


def test_notebooks_write_into_folders_of_their_own():
    """No two notebooks name the same (or a nested) output folder, so running them side by side
    cannot collide."""
    folders = {}
    for path in sorted(ROOT.glob("*/*.ipynb")):
        source = "\n".join(
            c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"
        )
        for args in re.findall(r"output_dir\(([^)]*)\)", source):
            parts = tuple(re.findall(r"[\"']([^\"']+)[\"']", args))
            if not parts:
                # output_dir() alone: the outputs root, only used to print paths relative to it
                continue
            folders.setdefault(parts, set()).add(str(path.relative_to(ROOT)))
    assert folders, "no notebook writes through tfnotes.output_dir?"
    for parts, owners in folders.items():
        assert len(owners) == 1, f"output folder {'/'.join(parts)} shared by {sorted(owners)}"
    for a in folders:
        for b in folders:
            if a != b and b[: len(a)] == a and folders[a] != folders[b]:
                raise AssertionError(
                    f"{'/'.join(b)} ({folders[b]}) lies inside {'/'.join(a)} ({folders[a]})"
                )
