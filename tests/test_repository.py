"""The repository's habits: the GitHub workflow (actionlint), the pre-commit hooks, a sanitize file
that reads under any locale, a PyPI mirror reaching pip through course.sh."""

import configparser
import os
import pathlib
import re
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(sys.executable).parent


def _tool(name):
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is not installed: bash course.sh install"
    return found


def test_github_workflow_runs_the_ci_command_and_passes_actionlint():
    workflow = ROOT / ".github" / "workflows" / "ci.yml"
    text = workflow.read_text(encoding="utf-8")
    assert re.search(r"^\s+run: bash \.ci/run$", text, re.M)
    assert re.search(r"^on:\n(\s+.*\n)*?\s+push:", text, re.M) and "pull_request:" in text
    actionlint = _tool("actionlint")
    result = subprocess.run(
        [actionlint, "-no-color", str(workflow)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_finds_a_broken_workflow(tmp_path):
    """The check above can fail: a job without runs-on and an unknown event are reported."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: pusj\njobs:\n  t:\n    steps:\n      - run: echo hi\n")
    actionlint = _tool("actionlint")
    result = subprocess.run([actionlint, "-no-color", str(bad)], capture_output=True, text=True)
    assert result.returncode == 1 and "runs-on" in result.stdout


def test_pre_commit_hooks_are_local_and_valid():
    config = ROOT / ".pre-commit-config.yaml"
    pre_commit = _tool("pre-commit")
    result = subprocess.run(
        [pre_commit, "validate-config", str(config)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = config.read_text(encoding="utf-8")
    assert re.findall(r"^\s+- repo: (\S+)", text, re.M) == ["local"], "hooks must need no network"
    entries = re.findall(r"^\s+entry: (\S+)", text, re.M)
    assert {"ruff-format", "ruff-check", "notebook-rules"} <= set(re.findall(r"id: (\S+)", text))
    for entry in entries:
        assert (ROOT / entry).exists() or shutil.which(entry), f"hook command {entry} not found"
    assert "language: system" in text and "language: python" not in text


def test_sanitize_file_reads_under_any_locale():
    """nbval opens the file without an encoding (the locale's): it must be ASCII, and still match
    µs."""
    raw = (ROOT / "tests" / "sanitize.cfg").read_bytes()
    assert raw.decode("ascii")
    from nbval.plugin import get_sanitize_patterns

    patterns = get_sanitize_patterns(raw.decode("ascii"))
    text = "took 12 \u00b5s and 3.5 s"
    for regex, replace in patterns:
        text = re.sub(regex, replace, text)
    assert text == "took DURATION and DURATION"
    configparser.ConfigParser().read_string(raw.decode("ascii"))  # well-formed sections


def test_course_sh_install_passes_the_package_index_to_pip(tmp_path):
    """PIP_INDEX_URL reaches every pip call of `bash course.sh install` (a stand-in Python records
    them)."""
    for name in ("course.sh", "requirements.txt", "requirements-data.txt", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    log = tmp_path / "pip-calls.log"
    fake_venv_python = (
        "#!/usr/bin/env bash\n"
        f'if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then echo "$PIP_INDEX_URL|$*" >> {log}; exit 0; '
        f"fi\n"
        'if [ "$1" = "-c" ]; then case "$2" in *"import tfnotes"*) exit 1;; esac; exit 0; fi\n'
    )
    fake_python = stubs / "python-stub"
    fake_python.write_text(
        "#!/usr/bin/env bash\n"
        'if [ "$1" = "-c" ]; then exit 0; fi\n'
        'if [ "$1" = "--version" ]; then echo "Python 3.11.7"; exit 0; fi\n'
        'if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then mkdir -p "$3/bin"; '
        f"cat > \"$3/bin/python\" <<'PY'\n{fake_venv_python}PY\n"
        'chmod +x "$3/bin/python"; exit 0; fi\nexit 1\n'
    )
    (stubs / "apt-get").write_text("#!/bin/sh\nexit 1\n")  # never touch the real package manager
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    env = dict(
        os.environ,
        PATH=f"{stubs}:{os.environ['PATH']}",
        PYTHON=str(fake_python),
        PIP_INDEX_URL="https://mirror.example/pypi/simple",
    )
    result = subprocess.run(
        ["bash", "course.sh", "install"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "package index: https://mirror.example/pypi/simple" in result.stdout
    calls = log.read_text().splitlines()
    assert len(calls) == 4, calls  # pip itself, requirements, data packages, tfnotes
    assert all(
        call.startswith("https://mirror.example/pypi/simple|-m pip install") for call in calls
    )
