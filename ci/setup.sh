#!/usr/bin/env bash
# Installs what the full test run needs beyond Rust, idempotently, on a fresh
# Debian machine (as root) or a developer's: cargo-nextest, and a Python venv
# (.venv) with BrainFlow's own package for the compatibility trials.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! cargo nextest --version >/dev/null 2>&1; then
    echo "setup: installing cargo-nextest"
    cargo install cargo-nextest --locked
fi

py=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    if ! "$py" -m venv .venv 2>/dev/null; then
        # Debian's python3 ships venv separately.
        apt-get update -qq && apt-get install -y -qq python3-venv
        "$py" -m venv .venv
    fi
fi
if ! .venv/bin/python -c "import brainflow" 2>/dev/null; then
    echo "setup: pip install brainflow into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check brainflow
fi
echo "setup: ok ($(.venv/bin/python -c 'import importlib.metadata as m; print("brainflow", m.version("brainflow"))'))"
