#!/usr/bin/env bash
# The `::bluez` trials of the scenario matrix against a real BlueZ: builds the
# harness's matrix test binary on the host, then runs it inside the lab VM
# (ci/ble-vm.sh: btvirt hci0/hci1 + bluetoothd) with
# BOARDLOOP_BLUEZ=hci1,hci0 (emulated device on hci1, board on hci0).
#
# Usage: bash ci/ble-test.sh [FILTER...]
#   default: every ::bluez trial of the boards in BLE_TEST_BOARDS (default
#   "ganglion muse_2"); FILTERs are libtest filters instead.
# Honours CARGO_TARGET_DIR. Exit status: the test binary's (124: VM timeout).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

ci/ble-vm.sh --install-only

# The binary's path, from cargo's own report (the hash in its name changes).
BIN="$(cargo test -p boardloop-harness --test matrix --no-run --message-format=json \
    | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == "matrix" \
            and m.get("executable"):
        print(m["executable"])
')"
if [[ -z "$BIN" || ! -x "$BIN" ]]; then
    echo "ble-test: could not find the matrix test binary" >&2
    exit 2
fi
echo "ble-test: $BIN"

# Which trials: by default the ::bluez trials of the boards in BLE_TEST_BOARDS
# (ganglion and muse_2: about 7 s per trial under software emulation, so all
# 27 BLE trials do not fit in one 3-minute VM run; e.g.
# BLE_TEST_BOARDS="muse_2016 muse_s" runs the others). Arguments replace
# this with libtest filters (e.g. ganglion::known_signal_fw3::bluez).
if [[ $# -gt 0 ]]; then
    FILTERS=("$@")
else
    # libtest-mimic takes one filter but many --skip: keep ::bluez and skip
    # the boards not asked for.
    FILTERS=(::bluez)
    WANT=" ${BLE_TEST_BOARDS:-ganglion muse_2} "
    for b in $(BOARDLOOP_BLUEZ=hci1,hci0 "$BIN" --list 2>/dev/null \
        | sed -n 's/^\([^: ]*\)::[^ ]*::bluez: test$/\1/p' | sort -u); do
        if [[ "$WANT" != *" $b "* ]]; then FILTERS+=(--skip "$b::"); fi
    done
fi

# One trial at a time: the two adapters are shared, and one emulated device
# per adapter is all BlueZ offers (its alias is the device's name).
# The whole VM step (boot included) must stay under 3 minutes.
export BLE_VM_TIMEOUT="${BLE_VM_TIMEOUT:-180}"
export BOARDLOOP_BLUEZ=hci1,hci0
export BOARDLOOP_SCENARIOS="$REPO/scenarios"
export BLE_VM_ENV="${BLE_VM_ENV:-} BOARDLOOP_BLUEZ BOARDLOOP_SCENARIOS RUST_LOG"
start=$SECONDS
status=0
ci/ble-vm.sh -- "$BIN" --test-threads=1 "${FILTERS[@]}" || status=$?
echo "ble-test: VM step took $((SECONDS - start)) s, status $status"
exit "$status"
