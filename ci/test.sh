#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test.
#   static checks  fmt, clippy -D warnings, the committed C header is current
#   unit + props   every crate (nextest), doc tests
#   matrix         every scenario x board x target: emulated, BrainFlow's own
#                  drivers (brainflow), BrainFlow's binding over our C library
#                  (brainflow_dropin), C++ boards through the plugin ABI (cpp),
#                  BLE boards over the in-memory link (memory); `device`
#                  trials need a rig and are skipped. Archived once and run
#                  in 2 nextest partitions, whose JUnit must add up to the
#                  whole matrix (ci/partitions.sh)
#   rig groups     nextest accepts `boardloop rig-groups` output: one test
#                  group of one thread per device (ci/rig-groups-check.sh)
#   HTML report    loaded in headless chromium (ci/report-browser.sh)
#   RFC 2217       `device` trials through ser2net serving an emulator's pty
#                  (ci/rfc2217.sh)
#   soak           500,000 Cyton packets through the C ABI with faults: exact
#                  loss reconciliation, flat RSS, no fd or thread leak
#                  (ci/soak.sh; the full run is a day's 21.6 M packets)
#   BLE (BlueZ)    in a small qemu VM with bluetoothd: the `bluez` trials (Rust
#                  boards over btleplug) and `brainflow_bluez` (BrainFlow's own
#                  native BLE drivers) and `brainflow_dropin_bluez` (BrainFlow's
#                  binding on our library), in VM steps of under 3 minutes each
#   (the steps below run beside the BLE lab's VMs, at idle priority)
#   C              a C program linked against libBoardController.so and .a
#   C++            the C++ wrapper's CTest suite plain, under ASan/UBSan and under
#                  valgrind; a find_package(boardloop) consumer
#   sanitizers     the Rust side of the C ABI: Miri on the ring buffer, the panic
#                  boundary and caller-buffer writes; the ffi tests under ASan
#   fuzz           every cargo-fuzz target of fuzz/ for 5 s (nightly), so a
#                  regression shows; campaigns: FUZZ_RUNS=10000000 (fuzz/README.md)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# Incremental state is 0.6 GB of a debug build that CI compiles once; a disk
# that fills fails the run (it did: "No space left on device" while linking).
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}

# Each step's heading says how much disk is left and how long the run has
# taken, so a log that ends in a full disk or in CI's time limit shows which
# steps took it.
free() { df -h --output=avail "$root" | tail -1 | tr -d ' '; }
step() {
    printf '\n== %s   [disk: %s free, at %d:%02d]\n' "$*" "$(free)" \
        $((SECONDS / 60)) $((SECONDS % 60))
}
# CI's disk is the limit there (a run failed on a full one). Under .ci/run
# (BOARDLOOP_PRUNE=1) a build is deleted once no later step reads it; a local
# `bash ci/test.sh` keeps everything for the next run.
prune() {
    [[ "${BOARDLOOP_PRUNE:-0}" == 1 ]] || return 0
    local before
    before=$(free)
    rm -rf "$@"
    echo "pruned ${*#"$root"/}: $before -> $(free) free"
}

step "setup"
bash ci/setup.sh
bash ci/make-dropin-venv.sh
# The C++ NeuroPawn Knight board (plugin ABI), for the `cpp` trials.
bash ci/build-plugins.sh

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

step "tests (unit, property, CLI, FFI)"
# The scenario matrix runs in the next step, from an archive, in partitions.
cargo nextest run --workspace --profile ci -E 'not binary(matrix)'
target="${CARGO_TARGET_DIR:-$PWD/target}"
echo "JUnit: $target/nextest/ci/junit.xml, $(grep -c '<testcase ' "$target/nextest/ci/junit.xml") test cases"
cargo test --workspace --doc -q

step "scenario matrix: archived once, run in 2 partitions, JUnit union = the matrix"
bash ci/partitions.sh 2
# The JUnit a CI system would show: the matrix's trials, one case each.
trials=$(cat "$target"/partitions/partition-*.xml | grep -c 'classname="boardloop-harness::matrix"')
echo "matrix trials in the partitions' JUnit: $trials"
[ "$trials" -gt 100 ]
# The archive and the two runners' copies of it.
prune "$target"/partitions/matrix.tar.zst "$target"/partitions/runner-*

step "rig: nextest runs one trial at a time per device (generated test groups)"
bash ci/rig-groups-check.sh

step "HTML report in headless chromium: plots rendered, the failed trial marked"
bash ci/report-browser.sh

step "remote serial port: the device target over RFC 2217 through a real ser2net"
bash ci/rfc2217.sh

step "streamers and virtual boards against BrainFlow 5.23: file:// byte for byte, STREAMING and PLAYBACK_FILE both ways, SYNTHETIC's rows"
bash ci/streamers.sh

step "soak (short): 500,000 Cyton packets through the C ABI, faults sprinkled in"
bash ci/soak.sh 500000

# The BLE lab's VMs are mostly waiting on emulated time (a stream at its
# device's rate, a link's timeouts), so the steps after it run beside them at
# SCHED_IDLE: the kernel gives them only CPU time the VM does not want (qemu
# itself runs at nice -10, ci/ble-vm.sh). They build into target dirs of their
# own (release, asan, miri, fuzz) or read builds that already exist, and print
# into a log shown when both are done. The debug and release builds are pruned
# after both, since the VMs run the matrix binary from target/debug.
# Measured on a fresh clone here: the whole run took 65 min with them beside
# the lab (the lab 36 min in 14 VMs, these 35 min at idle within it), where
# the run with them after it was projected at 77 min. The VMs are slower while
# they build (BlueZ ready at 38-58 s after boot instead of 26-33), hence the
# queue's wider margin before a VM's limit (ci/ble-queue-guest.sh).
step "BLE through real BlueZ (lab VM): bluez and brainflow_bluez trials; beside it, at idle priority: C smoke, C++ wrapper, Miri and ASan on the C ABI, fuzz targets"
bash ci/ble-test.sh --build-only
beside_log="$target/beside-ble.log"
beside() {
    set -euo pipefail
    local t0=$SECONDS
    echo "== C smoke test against libBoardController"
    bash ci/c-smoke.sh
    echo "== C++ wrapper: CTest plain, ASan/UBSan, valgrind (at $((SECONDS - t0)) s)"
    bash ci/cpp-test.sh
    echo "== Rust side of the C ABI: Miri on its unsafe paths, the ffi tests under ASan (at $((SECONDS - t0)) s)"
    bash ci/sanitizers.sh
    prune "$target"/asan "$target"/miri
    # 5 s each, a regression smoke: CI's 90 minutes are nearly used (the
    # campaigns are separate, fuzz/README.md).
    echo "== fuzz targets, 5 s each (at $((SECONDS - t0)) s)"
    bash ci/fuzz.sh 5
    echo "== done beside the BLE lab in $((SECONDS - t0)) s"
}
chrt --idle 0 bash -c "$(declare -f beside prune free); root=$(printf %q "$root"); target=$(printf %q "$target"); beside" \
    >"$beside_log" 2>&1 &
beside_pid=$!
ble_status=0
bash ci/ble-test.sh || ble_status=$?
beside_status=0
wait "$beside_pid" || beside_status=$?
step "C smoke, C++ wrapper, Miri and ASan, fuzz: what ran beside the BLE lab (status $beside_status)"
cat "$beside_log"
if [[ $ble_status -ne 0 ]]; then
    echo "ci: the BLE lab failed with status $ble_status" >&2
    exit "$ble_status"
fi
if [[ $beside_status -ne 0 ]]; then
    echo "ci: the steps beside the BLE lab failed with status $beside_status (log above)" >&2
    exit "$beside_status"
fi
prune "$target"/debug/{deps,build,incremental,.fingerprint,examples} \
    "$target"/release/{deps,build,incremental,.fingerprint,examples}

step "done"
du -sh "$target"/* 2>/dev/null | sort -h | tail -8
