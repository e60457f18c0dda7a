#!/usr/bin/env bash
# The BLE trials of the scenario matrix against a real BlueZ: builds the
# harness's matrix test binary on the host, then runs it inside the lab VM
# (ci/ble-vm.sh: btvirt hci0/hci1 + bluetoothd) with
# BOARDLOOP_BLUEZ=hci1,hci0 (emulated device on hci1, board on hci0).
#
# Usage: bash ci/ble-test.sh [FILTER...]
#   default: VM steps of under 3 minutes each, each booting its own VM: the
#     BlueZ tests of boardloop-bluez (bluez/tests: writes in order, no panic;
#     the emulated device asks bluetoothd nothing while a central is connected);
#     every `::bluez` trial (the Rust boards through btleplug), every
#     `::brainflow_bluez` trial (BrainFlow's own native BLE drivers from the
#     `brainflow` package in .venv, made by ci/setup.sh) and every
#     `::brainflow_dropin_bluez` trial (BrainFlow's binding on our library,
#     .venv-dropin from ci/make-dropin-venv.sh), listed from the matrix and cut
#     into steps of a fixed size; and BLE boards on a rig (ci/ble-rig-guest.sh).
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
QUIET_BIN="$(ci/cargo-exe.sh bluez_quiet cargo test -p boardloop-bluez --test bluez_quiet --no-run)"
for b in "$WRITES_BIN" "$QUIET_BIN"; do
    if [[ -z "$b" || ! -x "$b" ]]; then
        echo "ble-test: could not find the boardloop-bluez lab test binaries" >&2
        exit 2
    fi
done

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

# vm_step NAME COMMAND...: one VM boot running COMMAND.
overall=0
vm_step() {
    local name="$1" start=$SECONDS status=0
    shift
    export BLE_VM_LOGDIR="$TARGET_DIR/ble-vm-$name"
    ci/ble-vm.sh -- "$@" || status=$?
    if grep -sn 'panicked' "$BLE_VM_LOGDIR/command.log" >&2; then
        echo "ble-test: VM step '$name' printed a panic (lines above, from" \
            "$BLE_VM_LOGDIR/command.log)" >&2
        if [[ $status -eq 0 ]]; then status=3; fi
    fi
    echo "ble-test: VM step '$name' took $((SECONDS - start)) s, status $status" \
        "(logs in $BLE_VM_LOGDIR)"
    if [[ $status -ne 0 && $overall -eq 0 ]]; then overall=$status; fi
}
# step NAME FILTER...: one VM boot running the matrix binary with FILTERs.
step() {
    local name="$1"
    shift
    vm_step "$name" "$BIN" --test-threads=1 "$@"
}

# shard NAME TARGET SIZE: every `::TARGET` trial of the matrix, SIZE per VM
# step (libtest takes one filter, so each step skips the trials of the others).
shard() {
    local name="$1" target="$2" size="$3" i t
    local all=()
    mapfile -t all < <("$BIN" --list --format terse 2>/dev/null |
        sed -n "s/^\(.*::$target\): test\$/\1/p")
    if [[ ${#all[@]} -eq 0 ]]; then
        echo "ble-test: no ::$target trials listed" >&2
        if [[ $overall -eq 0 ]]; then overall=1; fi
        return
    fi
    for ((i = 0; i < ${#all[@]}; i += size)); do
        local skips=()
        for t in "${all[@]:0:i}" "${all[@]:i+size}"; do skips+=(--skip "$t"); done
        step "$name-$((i / size + 1))" "::$target" "${skips[@]}"
    done
}

if [[ $# -gt 0 ]]; then
    step filtered "$@"
else
    # Several VM boots (about 35 s each) rather than one: under software
    # emulation a trial takes 1-9 s on the Rust boards and 25-40 s through
    # BrainFlow's Python (13 s of it importing BrainFlow), and each step must
    # stay well under 3 minutes, even on a loaded machine. The trials are
    # listed from the matrix and cut into steps of a fixed size, so a new
    # board or scenario adds steps, never lengthens one past its limit.
    # boardloop-bluez's own lab tests: writes in order, no panic; the emulated
    # device asks bluetoothd nothing while a central is connected.
    vm_step bluez-lab bash -c '"$1" --ignored --test-threads=1 && "$2" --ignored --test-threads=1' \
        _ "$WRITES_BIN" "$QUIET_BIN"
    shard bluez bluez 10
    shard brainflow brainflow_bluez 2
    # BrainFlow's Python binding on our libBoardController.so (the drop-in
    # venv, made by ci/make-dropin-venv.sh): our BLE boards through btleplug.
    shard dropin brainflow_dropin_bluez 2
    # BLE boards on a lab rig: a separate `boardloop emulate --adapter hci1`
    # process is the device, a rig file names its address.
    EMULATE="$(ci/cargo-exe.sh boardloop cargo build -p boardloop-harness --bin boardloop)"
    # ...and a C++ program streams it through libBoardController.
    BLE_STREAM_CPP="$(ci/build-ble-stream.sh)"
    export BLE_STREAM_CPP
    export BLE_VM_ENV="$BLE_VM_ENV BLE_STREAM_CPP"
    vm_step rig bash ci/ble-rig-guest.sh "$BIN" "$EMULATE" \
        muse_2::known_signal ganglion::known_signal_fw3 muse_2::aux_signal
fi
exit "$overall"
