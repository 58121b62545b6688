"""tfnotes.setup, the run-size switch and the output folders."""

import os

import numpy as np
import pytest

import tfnotes


@pytest.fixture(autouse=True)
def _no_seed_override(monkeypatch):
    """These tests pass seeds explicitly: a TFNOTES_SEED in the caller's shell must not override
    them."""
    monkeypatch.delenv(tfnotes.SEED_ENV, raising=False)


def test_setup_makes_random_streams_reproducible(capsys):
    import tensorflow as tf

    assert tfnotes.setup(seed=7) is None
    info = dict(tfnotes.INFO)
    first = (
        np.random.rand(3),
        tf.random.normal([3]).numpy(),
        tf.keras.initializers.GlorotUniform()([2, 2]).numpy(),
    )
    tfnotes.setup(seed=7)
    second = (
        np.random.rand(3),
        tf.random.normal([3]).numpy(),
        tf.keras.initializers.GlorotUniform()([2, 2]).numpy(),
    )
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    tfnotes.setup(seed=8)
    assert not np.array_equal(np.random.rand(3), first[0])
    line = capsys.readouterr().out.strip().splitlines()[0]
    assert f"TensorFlow {tf.__version__}" in line and "seed 7" in line
    # the device part names what this machine has (CPU-only or GPUs), never a fixed kind
    assert f"device {info['device']} ·" in line
    assert info["device"].startswith("GPU: " if tf.config.list_physical_devices("GPU") else "CPU (")
    assert info["tf"] == tf.__version__ and info["seed"] == 7


@pytest.mark.parametrize(
    "value, expected",
    [("1", True), ("true", True), ("YES", True), ("0", False), ("", False), ("no", False)],
)
def test_full_switch(monkeypatch, value, expected):
    monkeypatch.setenv(tfnotes.FULL_ENV, value)
    assert tfnotes.full_run() is expected
    assert tfnotes.pick(default="fast", full="full") == ("full" if expected else "fast")


def test_full_switch_unset(monkeypatch):
    monkeypatch.delenv(tfnotes.FULL_ENV, raising=False)
    assert tfnotes.pick(default=5, full=50) == 5


def test_data_dir_honours_env(monkeypatch, tmp_path):
    monkeypatch.delenv("TFNOTES_DATA_DIR", raising=False)
    assert tfnotes.data_dir() == tfnotes.REPO_ROOT / "data"
    monkeypatch.setenv("TFNOTES_DATA_DIR", str(tmp_path))
    assert tfnotes.data_dir() == tmp_path


def test_output_dir_is_created_under_ignored_outputs(monkeypatch):
    monkeypatch.delenv("TFNOTES_OUTPUT_DIR", raising=False)
    path = tfnotes.output_dir("pytest-probe", "sub")
    assert path.is_dir()
    assert path.relative_to(tfnotes.REPO_ROOT).parts[:2] == ("outputs", "pytest-probe")
    path.rmdir()
    path.parent.rmdir()


def test_seed_env_overrides_the_notebook_seed(monkeypatch, capsys):
    import tensorflow as tf

    monkeypatch.setenv(tfnotes.SEED_ENV, "11")
    tfnotes.setup(seed=42)
    assert tfnotes.seed() == 11 and tfnotes.INFO["seed"] == 11
    line = capsys.readouterr().out
    assert "seed 11 (TFNOTES_SEED)" in line
    drawn = tf.random.normal([3]).numpy()
    monkeypatch.delenv(tfnotes.SEED_ENV)
    tfnotes.setup(seed=11)
    # same streams as seed=11 given directly
    np.testing.assert_array_equal(tf.random.normal([3]).numpy(), drawn)
    tfnotes.setup(seed=42)
    assert tfnotes.seed() == 42


def test_seed_env_rejects_non_integers(monkeypatch):
    monkeypatch.setenv(tfnotes.SEED_ENV, "seven")
    with pytest.raises(ValueError, match="TFNOTES_SEED"):
        tfnotes.setup(seed=1)


def test_output_dir_honours_env(monkeypatch, tmp_path):
    monkeypatch.setenv("TFNOTES_OUTPUT_DIR", str(tmp_path / "runs"))
    assert tfnotes.output_dir("chapter4", "x") == tmp_path / "runs" / "chapter4" / "x"
    assert (tmp_path / "runs" / "chapter4" / "x").is_dir()


@pytest.mark.parametrize(
    "line, kw, why",
    [
        (
            "2026-11-29 19:05:13.745195: E "
            "external/local_xla/xla/stream_executor/cuda/cuda_platform.cc:51] "
            "failed call to cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR "
            "(303)",
            {"cuda_probe_harmless": True},
            "CUDA probe",
        ),
        (
            "same cuInit line on a machine with an NVIDIA device: failed call to cuInit: UNKNOWN "
            "ERROR (303)",
            {"cuda_probe_harmless": False},
            None,
        ),
        (
            "E tensorflow/core/framework/node_def_util.cc:680] NodeDef mentions attribute "
            "use_unbounded_threadpool which is not in the op definition: Op<name=MapDataset; "
            "signature=…",
            {},
            "make_deterministic",
        ),
        (
            "W0000 00:00:1795983000.471206   27998 loop_optimizer.cc:934] Skipping loop "
            "optimization",
            {},
            "absl",
        ),
        ("E0000 00:00:1795983000.471206   27998 some_op.cc:12] a real error", {}, None),
        (
            "2026-11-29 19:05:14.234510: E tensorflow/core/framework/op_kernel.cc:1] OOM when "
            "allocating",
            {},
            None,
        ),
        ("Traceback (most recent call last):", {}, None),
    ],
)
def test_log_filter_drops_only_known_harmless_lines(line, kw, why):
    from tfnotes import logs

    args = {"cuda_probe_harmless": True, "min_log_level": 2, **kw}
    got = logs.reason(line, **args)
    assert (got is None) if why is None else (why.lower() in got.lower())


def test_absl_warnings_pass_when_the_log_level_asks_for_them():
    from tfnotes import logs

    line = "W0000 00:00:1795983000.471206   27998 loop_optimizer.cc:934] Skipping loop optimization"
    assert logs.reason(line, cuda_probe_harmless=True, min_log_level=0) is None


def test_log_filter_on_file_descriptor_2_keeps_every_other_line(tmp_path):
    """In a real process: C-level writes to fd 2 pass the filter, the known lines do not; nothing
    is lost at exit."""
    import subprocess
    import sys

    script = (
        "import os, tfnotes.logs as logs\n"
        "assert logs.install() and logs.install()\n"
        "os.write(2, b'E some_op.cc:1] a real C++ error\\n')\n"
        "os.write(2, b'E node_def_util.cc:680] NodeDef mentions attribute use_unbounded_threadpool "
        "which is not '\n"
        "            b'in the op definition: Op<name=MapDataset; x\\n')\n"
        "os.write(2, b'partial line without newline')\n"
        "raise SystemExit('the last words')\n"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert result.returncode == 1
    assert "a real C++ error" in result.stderr and "the last words" in result.stderr
    assert "partial line without newline" in result.stderr
    assert "use_unbounded_threadpool" not in result.stderr


def test_setup_line_says_when_no_gpu_was_found(capsys):
    import tensorflow as tf

    tfnotes.setup(seed=3)
    line = capsys.readouterr().out
    if not tf.config.list_physical_devices("GPU") and not tfnotes.logs.has_nvidia_device():
        assert "no GPU found" in line


def test_filter_is_kernel_only_by_default(monkeypatch):
    """Outside a Jupyter kernel (this pytest process imports ipykernel through nbval) setup leaves
    file descriptor 2 alone; TF_CPP_MIN_LOG_LEVEL=0 means "show everything": no filter at all."""
    assert not tfnotes._in_kernel()
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    assert tfnotes.logs.install() is False
