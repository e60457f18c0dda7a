#!/usr/bin/env bash
# Installs what the full test run needs beyond Rust, idempotently, on a fresh
# Debian machine (as root) or a developer's: cargo-nextest, CMake and g++ for
# the C++ plugins, chromium (HTML report check), ser2net (remote ports), and
# a Python venv (.venv) with BrainFlow's own package for the compatibility
# trials.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! cargo nextest --version >/dev/null 2>&1; then
    echo "setup: installing cargo-nextest"
    cargo install cargo-nextest --locked
fi

# CMake and a C++ compiler for the C++ board plugins (ci/build-plugins.sh).
missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
# A real browser for the HTML report's check (ci/report-browser.sh).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# ser2net, serving an emulator's port over RFC 2217 (ci/rfc2217.sh).
command -v ser2net >/dev/null 2>&1 || missing+=(ser2net)
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
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
