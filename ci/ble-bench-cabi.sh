#!/usr/bin/env bash
# BLE through a real BlueZ and the C ABI, measured: the connect time
# (prepare_session: scan, connect, discover, subscribe) and the highest
# notification rate a Ganglion streams with zero loss through
# libBoardController, read by the C++ example ffi/cpp/examples/ble_stream
# from a separate `boardloop emulate --adapter hci1 --uncapped` process in the
# lab VM (ci/ble-vm.sh). The Rust-API figures of the same link come from
# ci/ble-bench.sh.
#
# Usage: bash ci/ble-bench-cabi.sh
# Env: BOARDLOOP_BENCH_SECONDS per step (default 3), BOARDLOOP_BENCH_SPEEDS.
# Honours CARGO_TARGET_DIR. Logs: target/ble-vm-bench-cabi/.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

ci/ble-vm.sh --install-only
BOARDLOOP="$(ci/cargo-exe.sh boardloop cargo build -p boardloop-harness --bin boardloop)"
STREAM="$(ci/build-ble-stream.sh)"

export BLE_VM_TIMEOUT="${BLE_VM_TIMEOUT:-170}"
export BLE_VM_ENV="${BLE_VM_ENV:-} BOARDLOOP_BENCH_SECONDS BOARDLOOP_BENCH_SPEEDS RUST_LOG"
TARGET_DIR="$(cd "${CARGO_TARGET_DIR:-$REPO/target}" && pwd)"
export BLE_VM_LOGDIR="$TARGET_DIR/ble-vm-bench-cabi"
exec ci/ble-vm.sh -- bash ci/ble-bench-cabi-guest.sh "$BOARDLOOP" "$STREAM"
