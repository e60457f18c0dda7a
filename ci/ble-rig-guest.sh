#!/usr/bin/env bash
# Inside the lab VM (run by ci/ble-test.sh through ci/ble-vm.sh): BLE boards
# on a lab rig, proven with an emulator standing in for the device. For each
# BOARD::SCENARIO given, a separate `boardloop emulate --adapter hci1` process
# serves the device; a rig file names it by its address (and the board by
# adapter hci0), as a lab writes one for a physical device; the matrix's
# `BOARD::SCENARIO::device` trial then opens the board through the same
# registry path a user takes (boardloop_bluez::create_board).
#
# With --cpp CPP_BIN (the C++ example ffi/cpp/examples/ble_stream, built by
# ci/ble-test.sh), BOARD::SCENARIO's device is streamed by that C++ program
# through libBoardController instead, as a C++ user would.
#
# Usage: ci/ble-rig-guest.sh MATRIX_BIN BOARDLOOP_BIN BOARD::SCENARIO...
#        ci/ble-rig-guest.sh --cpp CPP_BIN BOARDLOOP_BIN BOARD::SCENARIO
# Exit status: the first failing trial's, else 0.
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CPP=""
MATRIX=""
if [[ "$1" == --cpp ]]; then
    CPP="$2"
    shift
else
    MATRIX="$1"
fi
BOARDLOOP="$2"
shift 2
CPP_TRIAL="${1:-}"
LOG="${BLE_VM_LOGDIR:-$REPO/target/ble-vm-rig}"
# shellcheck source=ci/ble-emulate.sh
source "$REPO/ci/ble-emulate.sh"
mkdir -p "$LOG"

overall=0
[[ -n "$CPP" ]] && set -- # the C++ example only (below)
for trial in "$@"; do
    board="${trial%%::*}"
    scenario="${trial#*::}"
    # The emulator's first line is `ble: ADDRESS NAME` once it advertises.
    start_ble_emulator "$BOARDLOOP" "$REPO/scenarios/$board/$scenario.yaml" \
        "$LOG/emulate-$board-$scenario.out" "$LOG/emulate-$board-$scenario.err"
    emu=$EMU
    address=$ADDRESS
    if [[ -z "$address" ]]; then
        echo "ble-rig: the emulator for $trial did not come up:" >&2
        cat "$LOG/emulate-$board-$scenario.err" >&2 || true
        kill "$emu" 2>/dev/null || true
        wait "$emu" 2>/dev/null || true
        if [[ $overall -eq 0 ]]; then overall=1; fi
        continue
    fi
    rig="$LOG/rig-$board-$scenario.yaml"
    cat >"$rig" <<EOF
rig: lab-vm
boards:
  $board: { mac_address: "$address", adapter: hci0, scenarios: [$scenario] }
EOF
    echo "ble-rig: $trial: device at $address (rig file $rig)"
    status=0
    BOARDLOOP_RIG="$rig" "$MATRIX" --test-threads=1 --exact "$trial::device" \
        2>&1 | tee "$LOG/trial-$board-$scenario.log" || status=$?
    kill "$emu" 2>/dev/null || true
    wait "$emu" 2>/dev/null || true
    # An ignored or filtered-out trial would "pass" with nothing run.
    if [[ $status -eq 0 ]] && ! grep -q '1 passed' "$LOG/trial-$board-$scenario.log"; then
        echo "ble-rig: $trial::device did not run" >&2
        status=1
    fi
    if [[ $status -ne 0 && $overall -eq 0 ]]; then overall=$status; fi
done
# The C++ example, on a device of its own (a fresh emulator process: right
# after another central's session on the same one, discovery found a stale
# GATT object in bluetoothd: "GetAll ... doesn't exist").
if [[ -n "$CPP" ]]; then
    first="$CPP_TRIAL"
    board="${first%%::*}"
    scenario="${first#*::}"
    start_ble_emulator "$BOARDLOOP" "$REPO/scenarios/$board/$scenario.yaml" \
        "$LOG/emulate-cpp.out" "$LOG/emulate-cpp.err"
    emu=$EMU
    address=$ADDRESS
    # The board's BrainFlow id, from the registry (`boardloop boards`).
    id="$("$BOARDLOOP" boards | awk -v b="$board" '$1 == b { print $2; exit }')"
    cpp=1
    if [[ -n "$address" && -n "$id" ]]; then
        cpp=0
        "$CPP" "$id" "$address" 512 2>&1 | tee "$LOG/cpp-$board.log" || cpp=$?
    fi
    echo "ble-rig: C++ ble_stream on $board ($scenario): exit $cpp"
    kill "$emu" 2>/dev/null || true
    wait "$emu" 2>/dev/null || true
    if [[ $cpp -ne 0 && $overall -eq 0 ]]; then overall=$cpp; fi
fi
exit "$overall"
