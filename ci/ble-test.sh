#!/usr/bin/env bash
# The BLE trials of the scenario matrix against a real BlueZ: builds the
# harness's matrix test binary on the host, then runs it inside the lab VM
# (ci/ble-vm.sh: btvirt hci0/hci1 + bluetoothd) with
# BOARDLOOP_BLUEZ=hci1,hci0 (emulated device on hci1, board on hci0).
#
# Usage: bash ci/ble-test.sh [FILTER...]
#   default: five VM steps, each booting its own VM and kept under 3 minutes:
#     the BlueZ tests of boardloop-bluez (bluez/tests: writes in order, no
#     panic) and every `::bluez` trial (the Rust boards through btleplug) in
#     two, then every `::brainflow_bluez` trial (BrainFlow's own native BLE
#     drivers from the `brainflow` package in .venv, made by ci/setup.sh) in
#     three.
#   FILTERs (libtest filters, e.g. ganglion::known_signal_fw3::bluez, or
#   `--skip X`) run one VM step with just those instead.
# A step fails too if anything in it printed a panic ("panicked"): a panic in
# a library thread would reach the programs that load libBoardController.
# Honours CARGO_TARGET_DIR. Exit status: 0 if every step passed, else the
# first failing step's (124: VM timeout, 3: a panic was printed).
# Logs: target/ble-vm-<step>/ (of CARGO_TARGET_DIR).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

ci/ble-vm.sh --install-only

BIN="$(ci/cargo-exe.sh matrix cargo test -p boardloop-harness --test matrix --no-run)"
if [[ -z "$BIN" || ! -x "$BIN" ]]; then
    echo "ble-test: could not find the matrix test binary" >&2
    exit 2
fi
echo "ble-test: $BIN"
WRITES_BIN="$(ci/cargo-exe.sh bluez_writes cargo test -p boardloop-bluez --test bluez_writes --no-run)"
if [[ -z "$WRITES_BIN" || ! -x "$WRITES_BIN" ]]; then
    echo "ble-test: could not find the bluez_writes test binary" >&2
    exit 2
fi

# One trial at a time: the two adapters are shared, and one emulated device
# per adapter is all BlueZ offers (its alias is the device's name).
export BLE_VM_TIMEOUT="${BLE_VM_TIMEOUT:-180}"
export BOARDLOOP_BLUEZ=hci1,hci0
export BOARDLOOP_SCENARIOS="$REPO/scenarios"
TARGET_DIR="$(cd "${CARGO_TARGET_DIR:-$REPO/target}" && pwd)"
# The trials keep a failure's artifacts in $CARGO_TARGET_DIR/boardloop: the
# same directory inside the VM, shared read-write (ci/ble-vm.sh: the guest's
# /tmp keeps no writes otherwise).
export CARGO_TARGET_DIR="$TARGET_DIR"
export BLE_VM_RWDIRS="${BLE_VM_RWDIRS:-} $TARGET_DIR/boardloop"
if [[ -n "${BOARDLOOP_BRAINFLOW_LOG:-}" ]]; then
    BLE_VM_RWDIRS+=" $(dirname "$BOARDLOOP_BRAINFLOW_LOG")"
fi
export BLE_VM_ENV="${BLE_VM_ENV:-} BOARDLOOP_BLUEZ BOARDLOOP_SCENARIOS BOARDLOOP_PYTHON BOARDLOOP_BRAINFLOW_LOG RUST_LOG CARGO_TARGET_DIR"

# step NAME [--with-bluez-tests] FILTER...: one VM boot running the matrix
# binary with FILTERs (first the bluez_writes test, if asked).
overall=0
step() {
    local name="$1" start=$SECONDS status=0
    shift
    export BLE_VM_LOGDIR="$TARGET_DIR/ble-vm-$name"
    local cmd=("$BIN" --test-threads=1)
    if [[ "${1:-}" == --with-bluez-tests ]]; then
        shift
        # $0 is the bluez_writes binary, "$@" the matrix command.
        cmd=(bash -c '"$0" --ignored --test-threads=1 && exec "$@"' "$WRITES_BIN" "${cmd[@]}")
    fi
    ci/ble-vm.sh -- "${cmd[@]}" "$@" || status=$?
    if grep -sn 'panicked' "$BLE_VM_LOGDIR/command.log" >&2; then
        echo "ble-test: VM step '$name' printed a panic (lines above, from" \
            "$BLE_VM_LOGDIR/command.log)" >&2
        if [[ $status -eq 0 ]]; then status=3; fi
    fi
    echo "ble-test: VM step '$name' took $((SECONDS - start)) s, status $status" \
        "(logs in $BLE_VM_LOGDIR)"
    if [[ $status -ne 0 && $overall -eq 0 ]]; then overall=$status; fi
}

if [[ $# -gt 0 ]]; then
    step filtered "$@"
else
    # Five VM boots (about 35 s each) rather than one: under software
    # emulation a trial takes 1-9 s on the Rust boards and about 26 s on
    # BrainFlow's (13 s of it importing BrainFlow), and each step must stay
    # well under 3 minutes, even on a loaded machine. `--skip muse_2::`
    # leaves muse_2016 alone.
    step bluez-ganglion-muse_2 --with-bluez-tests ::bluez --skip muse_s:: --skip muse_2016::
    step bluez-muse_s-muse_2016 ::bluez --skip ganglion:: --skip muse_2::
    # Ganglion's BrainFlow trial may run twice (see harness::run::run), so it
    # has a step of its own.
    step brainflow-ganglion ::brainflow_bluez --skip muse
    step brainflow-muse_2 ::brainflow_bluez --skip ganglion:: --skip muse_s:: --skip muse_2016::
    step brainflow-muse_s-muse_2016 ::brainflow_bluez --skip ganglion:: --skip muse_2::
fi
exit "$overall"
