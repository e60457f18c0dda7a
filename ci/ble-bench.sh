#!/usr/bin/env bash
# BLE through a real BlueZ, measured: builds the `ble_bluez` bench of the
# harness (harness/benches/ble_bluez.rs) and runs it inside the lab VM
# (ci/ble-vm.sh) with the device on hci1 and the central on hci0, one VM per
# part so each stays under the lab's 3-minute step: scan-to-found and
# connect+discover times over several connections (`connect`), then per
# board the notification rate stepped up until a notification is lost.
#
# Usage: bash ci/ble-bench.sh [PART...]   (default: connect ganglion
#        brainalive aavaa_v3 muse_s_athena)
# Env: BOARDLOOP_BENCH_ROUNDS (default 8), BOARDLOOP_BENCH_SECONDS per rate
# step (default 3). Honours CARGO_TARGET_DIR. Logs: target/ble-vm-bench/PART/.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

PARTS=("$@")
[[ ${#PARTS[@]} -gt 0 ]] || PARTS=(connect ganglion brainalive aavaa_v3 muse_s_athena)

ci/ble-vm.sh --install-only
BIN="$(ci/cargo-exe.sh ble_bluez cargo bench -p boardloop-harness --bench ble_bluez --no-run)"
[[ -x "$BIN" ]] || { echo "ble-bench: could not find the bench binary" >&2; exit 2; }

export BLE_VM_TIMEOUT="${BLE_VM_TIMEOUT:-175}"
export BOARDLOOP_BLUEZ=hci1,hci0
export BLE_VM_ENV="${BLE_VM_ENV:-} BOARDLOOP_BLUEZ BOARDLOOP_BENCH_PARTS BOARDLOOP_BENCH_ROUNDS BOARDLOOP_BENCH_SECONDS RUST_LOG"
TARGET_DIR="$(cd "${CARGO_TARGET_DIR:-$REPO/target}" && pwd)"
status=0
for part in "${PARTS[@]}"; do
  echo "== ble-bench: $part"
  export BOARDLOOP_BENCH_PARTS="$part"
  export BLE_VM_LOGDIR="$TARGET_DIR/ble-vm-bench/$part"
  ci/ble-vm.sh -- "$BIN" || { echo "ble-bench: $part failed (logs: $BLE_VM_LOGDIR)" >&2; status=1; }
done
exit $status
