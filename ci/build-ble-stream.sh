#!/usr/bin/env bash
# Builds the C++ example ffi/cpp/examples/ble_stream against a release
# libBoardController (cargo build --release -p boardloop-ffi) and prints the
# executable's path: one home for the build ci/ble-test.sh (rig step) and
# ci/ble-bench-cabi.sh share. Honours CARGO_TARGET_DIR.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
TARGET_DIR="$(mkdir -p "${CARGO_TARGET_DIR:-$REPO/target}" && cd "${CARGO_TARGET_DIR:-$REPO/target}" && pwd)"
cargo build --release -p boardloop-ffi >&2
OUT="$TARGET_DIR/ble_stream"
g++ -std=c++17 -O1 -Wall -Wextra -Werror -I ffi/cpp/include -I ffi/include \
    ffi/cpp/examples/ble_stream/main.cpp -L "$TARGET_DIR/release" -lBoardController \
    -Wl,-rpath,"$TARGET_DIR/release" -o "$OUT" >&2
echo "$OUT"
