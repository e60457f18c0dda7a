#!/usr/bin/env bash
# Builds libBoardController in release and links the C smoke test
# (ffi/tests/c/smoke.c) against both the shared and the static library, then
# runs both. Honours CARGO_TARGET_DIR.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build --release -p boardloop-ffi --manifest-path "$root/Cargo.toml"
lib="$target/release"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cc -std=c99 -Wall -Wextra -Werror -pedantic -I "$root/ffi/include" \
    "$root/ffi/tests/c/smoke.c" -L "$lib" -lBoardController -o "$out/smoke_shared"
LD_LIBRARY_PATH="$lib" "$out/smoke_shared"
cc -std=c99 -Wall -Wextra -Werror -pedantic -I "$root/ffi/include" \
    "$root/ffi/tests/c/smoke.c" "$lib/libBoardController.a" -lpthread -ldl -lm -o "$out/smoke_static"
"$out/smoke_static"
