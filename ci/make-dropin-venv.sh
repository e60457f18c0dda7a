#!/usr/bin/env bash
# Makes .venv-dropin at the repo root: a throwaway venv with pip's brainflow
# whose libBoardController.so is replaced by boardloop's (a copy, so the venv
# keeps working while the target dir is rebuilt). BrainFlow's own bindings then
# drive the Rust boards: `.venv-dropin/bin/python ci/brainflow_host.py ...`.
# Honours CARGO_TARGET_DIR. BRAINFLOW_VERSION pins the pip package if set.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$root/.venv-dropin"

cargo build --release -p boardloop-ffi --manifest-path "$root/Cargo.toml"
ours="$target/release/libBoardController.so"
test -f "$ours" || { echo "no $ours after the build" >&2; exit 1; }

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
# The venv ignores itself (the repo's .gitignore does not list it).
echo '*' > "$venv/.gitignore"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "brainflow${BRAINFLOW_VERSION:+==$BRAINFLOW_VERSION}"

libdir="$("$venv/bin/python" - <<'PY'
import os, brainflow
print(os.path.join(os.path.dirname(brainflow.__file__), "lib"))
PY
)"
dest="$libdir/libBoardController.so"
# Keep BrainFlow's original beside it, for comparisons (ci/probe_brainflow_codes.py --lib).
if [ ! -f "$libdir/libBoardController.brainflow.so" ]; then
    cp "$dest" "$libdir/libBoardController.brainflow.so"
fi
rm -f "$dest"
cp "$ours" "$dest"
cmp -s "$ours" "$dest"
echo "drop-in ready: $dest is boardloop's libBoardController ($(stat -c %s "$dest") bytes)"
echo "python: $venv/bin/python"
