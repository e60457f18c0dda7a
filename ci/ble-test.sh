#!/usr/bin/env bash
# The BLE trials of the scenario matrix against a real BlueZ: builds the
# harness's matrix test binary on the host, then runs it inside the lab VM
# (ci/ble-vm.sh: btvirt hci0/hci1 + bluetoothd) with
# BOARDLOOP_BLUEZ=hci1,hci0 (emulated device on hci1, board on hci0).
#
# Usage: bash ci/ble-test.sh [--build-only | FILTER...]
#   --build-only: installs the VM's packages and builds everything the steps
#     run, then exits (ci/test.sh then runs other steps beside the VMs).
#   BLE_QUEUE_ONLY=REGEX: only the queue entries whose label matches (e.g.
#     'brainflow_bluez|^rig:'), to try the queue itself on a few trials.
#   default: one queue of trials, taken by as many VMs of under 3 minutes
#     each as it needs (ci/ble-queue-guest.sh: a VM runs trials while the
#     next one's measured estimate fits in its time): every
#     `::brainflow_bluez` trial (BrainFlow's own native BLE drivers from the
#     `brainflow` package in .venv, made by ci/setup.sh), every
#     `::brainflow_dropin_bluez` trial (BrainFlow's binding on our library,
#     .venv-dropin from ci/make-dropin-venv.sh), BLE boards on a rig and a C++
#     program streaming one (ci/ble-rig-guest.sh), the BlueZ tests of
#     boardloop-bluez (bluez/tests: writes in order, no panic; the emulated
#     device asks bluetoothd nothing while a central is connected), a BLE
#     session recorded and replayed through BlueZ, every `::replay_bluez`
#     trial (the committed BLE recordings served by bluetoothd), every
#     `::brainflow_replay_bluez` trial (BrainFlow's own driver on the
#     recordings of its sessions), and every
#     `::bluez` trial (the Rust boards through btleplug), 3 per process.
#   FILTERs (libtest filters, e.g. ganglion::known_signal_fw3::bluez, or
#   `--skip X`) run one VM step with just those instead.
# A step fails too if anything in it printed a panic ("panicked"): a panic in
# a library thread would reach the programs that load libBoardController.
# Honours CARGO_TARGET_DIR. Exit status: 0 if every step passed, else the
# first failing step's (124: VM timeout, 3: a panic was printed).
# Logs: target/ble-vm-<step>/ (of CARGO_TARGET_DIR); the queue and each
# entry's status and seconds in target/ble-vm-queue/.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

ci/ble-vm.sh --install-only

BIN="$(ci/cargo-exe.sh matrix cargo test --workspace --test matrix --no-run)"
if [[ -z "$BIN" || ! -x "$BIN" ]]; then
    echo "ble-test: could not find the matrix test binary" >&2
    exit 2
fi
echo "ble-test: $BIN"
WRITES_BIN="$(ci/cargo-exe.sh bluez_writes cargo test --workspace --test bluez_writes --no-run)"
QUIET_BIN="$(ci/cargo-exe.sh bluez_quiet cargo test --workspace --test bluez_quiet --no-run)"
TABLE_BIN="$(ci/cargo-exe.sh bluez_gatt_table cargo test --workspace --test bluez_gatt_table --no-run)"
RECORD_BIN="$(ci/cargo-exe.sh ble_record_replay cargo test --workspace --test ble_record_replay --no-run)"
for b in "$WRITES_BIN" "$QUIET_BIN" "$TABLE_BIN" "$RECORD_BIN"; do
    if [[ -z "$b" || ! -x "$b" ]]; then
        echo "ble-test: could not find the boardloop-bluez lab test binaries" >&2
        exit 2
    fi
done
# The rig entries' device (`boardloop emulate`) and C++ program.
EMULATE="$(ci/cargo-exe.sh boardloop cargo build -p boardloop-harness --bin boardloop)"
BLE_STREAM_CPP="$(ci/build-ble-stream.sh)"
if [[ "${1:-}" == "--build-only" ]]; then
    exit 0
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
export BLE_VM_RWDIRS="${BLE_VM_RWDIRS:-} $TARGET_DIR/boardloop $TARGET_DIR/ble-vm-queue"
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
    last_status=$status
}
# step NAME FILTER...: one VM boot running the matrix binary with FILTERs.
step() {
    local name="$1"
    shift
    vm_step "$name" "$BIN" --test-threads=1 "$@"
}

# The queue (ci/ble-queue-guest.sh): entries `KIND<TAB>DEFAULT_S<TAB>LABEL<TAB>
# COMMAND`, taken by as many VMs as their time limits need.
QDIR="$TARGET_DIR/ble-vm-queue"
QUEUE="$QDIR/queue.tsv"
RESULTS="$QDIR/results"
# queue_add KIND DEFAULT_S LABEL COMMAND...: DEFAULT_S is the estimate until a
# trial of KIND has been measured in this run (measured here, each with its
# process's start: a BrainFlow trial 54-56 s, on CI about 55 s; a VM takes
# 55-60 s here and about 90 s on CI to its first trial).
queue_add() {
    local kind="$1" dflt="$2" label="$3"
    shift 3
    if [[ -n "${BLE_QUEUE_ONLY:-}" ]] && ! grep -qE -- "$BLE_QUEUE_ONLY" <<<"$label"; then
        return 0
    fi
    printf '%s\t%s\t%s\t%s\n' "$kind" "$dflt" "$label" "$(printf '%q ' "$@")" >>"$QUEUE"
}
# queue_matrix KIND DEFAULT_S TARGET SIZE: every `::TARGET` trial of the
# matrix, SIZE per entry (one process). BOARDLOOP_TRIALS names an entry's
# trials: the process then loads only their scenarios and profiles (loading
# all of them took 20-35 s of every process's start in the VM, measured with
# `--list` there; 0.2 s on this host).
queue_matrix() {
    local kind="$1" dflt="$2" target="$3" size="$4" i n t
    local all=() listed=() ignored=()
    mapfile -t listed < <("$BIN" --list --format terse 2>/dev/null |
        sed -n "s/^\(.*::$target\): test\$/\1/p")
    # Trials the plan lists ignored (BrainFlow drivers with a known defect,
    # harness/src/targets/brainflow.rs) are not queued: libtest would report
    # them ignored, not passed. `cargo boardloop run --verbose` gives reasons.
    mapfile -t ignored < <("$BIN" --list --format terse --ignored 2>/dev/null |
        sed -n "s/^\(.*::$target\): test\$/\1/p")
    for t in "${listed[@]}"; do
        if printf '%s\n' "${ignored[@]}" | grep -qxF -- "$t"; then
            echo "ble-test: $t is listed ignored here; not queued"
        else
            all+=("$t")
        fi
    done
    if [[ ${#all[@]} -eq 0 ]]; then
        echo "ble-test: no ::$target trials listed" >&2
        if [[ $overall -eq 0 ]]; then overall=1; fi
        return
    fi
    for ((i = 0; i < ${#all[@]}; i += size)); do
        n=$((${#all[@]} - i < size ? ${#all[@]} - i : size))
        queue_add "$kind" "$dflt" "${all[i]}$([[ $n -gt 1 ]] && echo "+$((n - 1))")" \
            env "BOARDLOOP_TRIALS=${all[*]:i:size}" \
            bash ci/ble-queue-guest.sh --expect "$n" "$BIN" --test-threads=1 "::$target"
    done
}
# run_queue: boots VMs until every entry has run. An entry a VM's end cut off
# counts as failed with the VM's status and is not run again.
run_queue() {
    local n=0 label left started empty=0
    while :; do
        left=0
        while IFS=$'\t' read -r _ _ label _; do
            grep -qxF "start $label" "$RESULTS" || left=$((left + 1))
        done <"$QUEUE"
        [[ $left -gt 0 ]] || break
        n=$((n + 1))
        started=$(grep -c '^start ' "$RESULTS" || true)
        echo "ble-test: VM $n for the $left queue entries left"
        vm_step "queue-$n" bash ci/ble-queue-guest.sh "$QUEUE" "$RESULTS"
        for label in $(awk '$1 == "start" { s[$2] = 1 } $1 == "done" { delete s[$2] }
                END { for (l in s) print l }' "$RESULTS"); do
            echo "ble-test: $label was cut off by the end of VM $n (status $last_status)" >&2
            echo "done $label $((last_status ? last_status : 1)) 0 cut" >>"$RESULTS"
        done
        # A VM whose boot left no time for any trial to end before its limit
        # (ci/ble-queue-guest.sh) ran none: the next one boots anew (a boot
        # took 35-65 s, once 135 s). Three such in a row, or a VM that failed,
        # ends the queue.
        if [[ $(grep -c '^start ' "$RESULTS" || true) -eq $started ]]; then
            empty=$((empty + 1))
            if [[ $last_status -eq 0 && $empty -lt 3 ]]; then
                echo "ble-test: VM $n ran no trial (its boot left too little time); booting another" >&2
                continue
            fi
            echo "ble-test: VM $n ran no trial (status $last_status); giving up on the queue" >&2
            if [[ $overall -eq 0 ]]; then overall=1; fi
            break
        fi
        empty=0
    done
    echo "ble-test: queue results (status, seconds, kind) in $n VMs:"
    awk '$1 == "done" { printf "  %-60s %3d %4d s  %s\n", $2, $3, $4, $5 }' "$RESULTS"
    local failed
    failed=$(awk '$1 == "done" && $3 != 0 { print $3; exit }' "$RESULTS")
    if [[ -n "$failed" && $overall -eq 0 ]]; then overall=$failed; fi
}

if [[ $# -gt 0 ]]; then
    step filtered "$@"
else
    rm -rf "$QDIR"
    mkdir -p "$QDIR"
    : >"$RESULTS"
    # The longest entries first: each VM then fills its time with shorter ones.
    # BrainFlow's own native BLE drivers (the `brainflow` package in .venv),
    # and BrainFlow's Python binding on our libBoardController.so (the drop-in
    # venv, made by ci/make-dropin-venv.sh): our BLE boards through btleplug.
    queue_matrix brainflow_bluez 60 brainflow_bluez 1
    queue_matrix brainflow_dropin_bluez 60 brainflow_dropin_bluez 1
    # BLE boards on a lab rig: a separate `boardloop emulate --adapter hci1`
    # process is the device, a rig file names its address; and a C++ program
    # streams one through libBoardController, as a C++ user would.
    for t in muse_2::known_signal ganglion::known_signal_fw3 muse_2::aux_signal; do
        queue_add rig 35 "rig:$t" bash ci/ble-rig-guest.sh "$BIN" "$EMULATE" "$t"
    done
    queue_add cpp 35 "cpp:muse_2::known_signal" \
        bash ci/ble-rig-guest.sh --cpp "$BLE_STREAM_CPP" "$EMULATE" muse_2::known_signal
    # boardloop-bluez's own lab tests: writes in order, no panic; the emulated
    # device asks bluetoothd nothing while a central is connected; the Muse
    # GATT tables as a central sees them (order, completeness, handles).
    queue_add lab 30 bluez_writes bash ci/ble-queue-guest.sh --expect 1 "$WRITES_BIN" --ignored --test-threads=1
    queue_add lab 30 bluez_quiet bash ci/ble-queue-guest.sh --expect 1 "$QUIET_BIN" --ignored --test-threads=1
    queue_add lab 40 bluez_gatt_table bash ci/ble-queue-guest.sh --expect 1 "$TABLE_BIN" --ignored --test-threads=1
    # Record a BLE board's session through BlueZ, then serve the recording
    # through BlueZ at 1x and 10x: the same rows (harness/tests/ble_record_replay.rs).
    queue_add lab 40 ble_record_replay bash ci/ble-queue-guest.sh --expect 1 "$RECORD_BIN" --ignored --test-threads=1
    # The committed BLE recordings served through BlueZ to our driver.
    queue_matrix replay_bluez 30 replay_bluez 2
    # BrainFlow's own native driver on the committed recordings of its own
    # sessions (`<scenario>.brainflow.rec`, recorded on the device's side),
    # one per process as every BrainFlow entry (SimpleBLE keeps what it
    # scanned); muse_2::known_signal took 71 s with its process in a loaded
    # lab (the `brainflow_bluez` trial it was recorded from: 73 s), so 75 s
    # until one is measured (60 s let one start 100 s into a slow VM's boot,
    # and the 180-s limit cut it off).
    queue_matrix brainflow_replay_bluez 75 brainflow_replay_bluez 1
    # The Rust boards through btleplug, 3 trials per process: a process costs
    # about 4 s to start in the VM (BOARDLOOP_TRIALS), and entries of 6 (47-91
    # s on a slow host, estimated at 1.3 times the longest) fitted only a VM
    # of their own after a boot; entries of 3 fill the time the BrainFlow
    # entries leave.
    queue_matrix bluez 30 bluez 3
    run_queue
fi
exit "$overall"
