"""Keep known-harmless TensorFlow C++ log lines out of notebook outputs; pass every other line.

Installed by ``import tfnotes`` inside a Jupyter kernel (every notebook's first code cell), and by
``tfnotes.setup(quiet_logs=True)`` elsewhere. TensorFlow's C++ code writes to file descriptor 2,
below Python's ``sys.stderr``, so ``TF_CPP_MIN_LOG_LEVEL=2`` is the only switch it offers, and it
keeps every ``E`` line. :func:`install` puts a pipe in front of descriptor 2 and a thread that
copies each line to the real stderr unless it is one of these (each seen on TensorFlow 2.20.0, the
CPU build from PyPI):

* ``failed call to cuInit`` — the CUDA probe of ``list_physical_devices`` on a machine with no
  NVIDIA device (no ``/dev/nvidia0``…, and no ``/dev/dxg``, WSL2's GPU). Dropped only there: on a
  machine that has one, the line explains a broken driver.
* ``NodeDef mentions attribute use_unbounded_threadpool … Op<name=MapDataset`` — with op
  determinism on (``tf.config.experimental.enable_op_determinism()``), tf.data's
  ``make_deterministic`` rewrite turns a ``ParallelMapDatasetV2`` (Keras's input pipeline uses
  one) into a ``MapDataset`` but keeps the newer attribute, which ``MapDataset`` lacks; TensorFlow
  then ignores it ("Unknown attributes will be ignored"). A bug inside TensorFlow 2.20 itself (its
  own Python API and kernels), not a package built against another version.
* ``oneDNN supports DT_INT64 only on platforms with AVX-512. Falling back to the default
  Eigen-based implementation`` — logged at level E, but it only says which implementation runs.
* absl-format ``I``/``W`` lines (``W0000 00:00:… loop_optimizer.cc:…]``) and absl's "All log
  messages before absl::InitializeLog()" banner: parts of TF 2.20 log through absl, which ignores
  ``TF_CPP_MIN_LOG_LEVEL``; they are dropped when that variable is 2 or more, as TensorFlow's own
  ``I``/``W`` lines are.

Everything else (every other ``E`` or ``F`` line, Python tracebacks in a terminal) reaches stderr
unchanged. :data:`DROPPED` counts what was dropped, by reason. Limits: a process that dies at once
(``abort``, a segfault, ``os._exit``) can lose the lines still in the pipe, and a child process
that outlives this one loses its stderr. ``TF_CPP_MIN_LOG_LEVEL=0`` (see everything) or Windows
(no ``select`` on pipes) installs no filter.
"""

from __future__ import annotations

import atexit
import collections
import glob
import os
import re
import threading

#: reason → number of lines dropped so far in this process.
DROPPED: collections.Counter = collections.Counter()

_ABSL_LOW = re.compile(r"^[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] ")
_ABSL_BANNER = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
)
_RULES = [
    (
        "tf.data make_deterministic attribute (TF 2.20 bug)",
        re.compile(
            r"NodeDef mentions attribute use_unbounded_threadpool which is not in the op "
            r"definition: "
            r"Op<name=MapDataset"
        ),
    ),
    (
        "oneDNN int64 fallback notice",
        re.compile(r"oneDNN supports DT_INT64 only on platforms with AVX-512"),
    ),
]
_CUINIT = re.compile(r"failed call to cuInit")
_state: dict = {}


def has_nvidia_device() -> bool:
    """True when the machine exposes a GPU device node (``/dev/nvidia0`` …, or WSL2's
    ``/dev/dxg``), whatever TensorFlow finds."""
    return bool(glob.glob("/dev/nvidia[0-9]*") or os.path.exists("/dev/dxg"))


def reason(line: str, *, cuda_probe_harmless: bool, min_log_level: int) -> str | None:
    """Why ``line`` (one stderr line) is dropped, or None when it must reach stderr."""
    if min_log_level >= 2 and (_ABSL_LOW.match(line) or line.startswith(_ABSL_BANNER)):
        return "absl info/warning (TF_CPP_MIN_LOG_LEVEL)"
    if cuda_probe_harmless and _CUINIT.search(line):
        return "CUDA probe on a machine without an NVIDIA device"
    for name, pattern in _RULES:
        if pattern.search(line):
            return name
    return None


def _level() -> int:
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


def install() -> bool:
    """Filter file descriptor 2 of this process (idempotent); return True if the filter is (now) in
    place.

    Call before TensorFlow probes its devices. Child processes started afterwards inherit the
    filtered stderr.
    """
    if _state.get("thread") and _state["thread"].is_alive():
        return True
    if os.name == "nt" or _level() == 0:
        return False
    try:
        real = os.dup(2)
        read_end, write_end = os.pipe()
        try:  # Linux: a 1 MiB pipe, so a burst of log lines never waits for this thread
            import fcntl

            fcntl.fcntl(write_end, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
        except (ImportError, OSError):
            pass
        os.dup2(write_end, 2)
        os.close(write_end)
    except OSError:
        return False
    harmless_probe, level = not has_nvidia_device(), _level()

    def emit(line: bytes) -> None:
        why = reason(
            line.decode("utf-8", "replace"), cuda_probe_harmless=harmless_probe, min_log_level=level
        )
        if why:
            DROPPED[why] += 1
            return
        try:
            os.write(real, line)
        # the real stderr is gone: keep reading, so writers never block on a full pipe
        except OSError:
            DROPPED["real stderr closed"] += 1

    def pump() -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(read_end, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                emit(line + b"\n")
            if pending and not _more(read_end):
                emit(pending)  # a partial line with nothing after it (a prompt, a progress bar)
                pending = b""
        if pending:
            emit(pending)
        os.close(read_end)

    thread = threading.Thread(target=pump, name="tfnotes-stderr-filter", daemon=True)
    thread.start()
    _state.update(thread=thread, real=real)
    atexit.register(_drain)
    return True


def _more(fd: int, wait: float = 0.05) -> bool:
    import select

    return bool(select.select([fd], [], [], wait)[0])


def _drain() -> None:
    """At exit: give descriptor 2 back and let the thread copy what is still in the pipe."""
    thread, real = _state.pop("thread", None), _state.pop("real", None)
    if thread is None:
        return
    # closes our pipe's last write end in this process, so the thread reads end-of-file
    os.dup2(real, 2)
    thread.join(timeout=2)
