#!/usr/bin/env bash
# Inside the lab VM (run by ci/ble-bench-cabi.sh through ci/ble-vm.sh): the
# notification rate a BLE board holds with zero loss through the C ABI. For
# each speed, a fresh `boardloop emulate --adapter hci1 --uncapped --speed S`
# serves a Ganglion (100 notifications/s at speed 1, 2 rows each) and the C++
# example ble_stream (libBoardController, as a C++ user) prepares, streams
# SECONDS worth of rows, and checks that none was lost (no package number
# skipped). Stops at the first speed that loses a row.
#
# Usage: ci/ble-bench-cabi-guest.sh BOARDLOOP_BIN BLE_STREAM_BIN
# Env: BOARDLOOP_BENCH_SECONDS per step (default 3), BOARDLOOP_BENCH_SPEEDS
# (default "1 1.5 2": one VM step of under 3 minutes; BlueZ under btvirt tops out near 175
# notifications/s, see README "BLE").
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BOARDLOOP="$1"
STREAM="$2"
LOG="${BLE_VM_LOGDIR:-$REPO/target/ble-vm-bench-cabi}"
mkdir -p "$LOG"
# shellcheck source=ci/ble-emulate.sh
source "$REPO/ci/ble-emulate.sh"
SECS="${BOARDLOOP_BENCH_SECONDS:-3}"
# The registry's id for the native-BLE Ganglion (`boardloop boards`).
GANGLION="$("$BOARDLOOP" boards | awk '$1 == "ganglion" { print $2; exit }')"

best=""
echo "C ABI (ble_stream through libBoardController), Ganglion fw3, $SECS s per step:"
for speed in ${BOARDLOOP_BENCH_SPEEDS:-1 1.5 2}; do
    start_ble_emulator "$BOARDLOOP" "$REPO/ci/bench/ganglion_rate.yaml" \
        "$LOG/emulate-$speed.out" "$LOG/emulate-$speed.err" --uncapped --speed "$speed"
    if [[ -z "$ADDRESS" ]]; then
        echo "  speed $speed: the emulator did not come up" >&2
        cat "$LOG/emulate-$speed.err" >&2
        stop_ble_emulator
        exit 1
    fi
    # Ganglion: 200 rows/s and 100 notifications/s at speed 1.
    rows="$(awk -v s="$speed" -v t="$SECS" 'BEGIN { printf "%d", 200 * s * t }')"
    notes="$(awk -v s="$speed" 'BEGIN { printf "%g", 100 * s }')"
    status=0
    "$STREAM" "$GANGLION" "$ADDRESS" "$rows" >"$LOG/stream-$speed.log" 2>&1 || status=$?
    stop_ble_emulator
    line="$(tail -n 1 "$LOG/stream-$speed.log")"
    echo "  asked $notes notifications/s: exit $status: $line"
    [[ $status -eq 0 ]] || break
    best="$notes notifications/s ($rows rows in $SECS s)"
done
echo "highest zero-loss rate through the C ABI: ${best:-none}"
