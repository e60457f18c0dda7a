#!/usr/bin/env bash
# BrainFlow's own native BLE driver against our emulator, through a real BlueZ
# in the lab VM: `boardloop emulate --adapter hci1 SCENARIO` serves the device
# on hci1, then a short BoardShim session (GANGLION_NATIVE by default; SimpleBLE
# over BlueZ) connects by `mac_address` = the address the emulator printed.
#
# Usage: bash ci/ble-brainflow.sh [SCENARIO] [BOARD_ID]
#   default: scenarios/ganglion/known_signal_fw3.yaml 46 (GANGLION_NATIVE);
#   e.g. scenarios/muse_2/known_signal.yaml 38 (MUSE_2).
# Env: BRAINFLOW_PYTHON (default .venv/bin/python of this repository, made by
# ci/setup.sh; needs `brainflow`).
# Honours CARGO_TARGET_DIR. Exit status: the Python session's.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
SCENARIO="${1:-scenarios/ganglion/known_signal_fw3.yaml}"
BOARD_ID="${2:-46}"
PY="${BRAINFLOW_PYTHON:-$REPO/.venv/bin/python}"

ci/ble-vm.sh --install-only
cargo build -p boardloop-harness --bin boardloop
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
BOARDLOOP="$(cd "$TARGET_DIR" && pwd)/debug/boardloop"

# The guest runs this script (a file, not a -c string, to keep quoting sane);
# its arguments are passed through ci/ble-vm.sh.
INNER="$REPO/ci/ble-brainflow-guest.sh"
start=$SECONDS
status=0
ci/ble-vm.sh -- bash "$INNER" "$BOARDLOOP" "$SCENARIO" "$BOARD_ID" "$PY" || status=$?
echo "ble-brainflow: VM step took $((SECONDS - start)) s, status $status"
exit "$status"
