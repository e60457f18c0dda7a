#!/usr/bin/env bash
# Builds the C++ board plugins (ffi/plugins/*) with CMake into
# $CARGO_TARGET_DIR/plugins/ (default <repo>/target/plugins/), where the
# harness's `cpp` target looks for them. CMake's build tree goes to
# $CARGO_TARGET_DIR/cmake/<plugin>.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
mkdir -p "$target/plugins"
for dir in "$repo"/ffi/plugins/*/; do
  name="$(basename "$dir")"
  build="$target/cmake/$name"
  cmake -S "$dir" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$target/plugins" >/dev/null
  cmake --build "$build" -j 2
done
ls -1 "$target"/plugins/*.so
