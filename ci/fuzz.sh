#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for a while and reports the executions
# each reached. Installs cargo-fuzz (crates.io) if missing; needs the nightly
# toolchain (rustup toolchain install nightly).
#
# Usage: bash ci/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS per target (default 20, what CI runs so a regression shows);
#   TARGETs default to every target `cargo fuzz list` names.
# The repo's seeds (fuzz/corpus/<target>) are read, never written: new inputs
# go to a scratch corpus under target/fuzz-corpus/. A crash leaves its input
# in fuzz/artifacts/<target>/ and fails the run: turn it into a regression
# test (fuzz/README.md).
#
# Env:
#   FUZZ_RUNS   run each target to this many executions instead of for
#               SECONDS (a campaign: FUZZ_RUNS=10000000 is #12's bar).
#   FUZZ_JOBS   targets run at once (default 1; libFuzzer uses one core each).
#   FUZZ_FLAGS  cargo fuzz build flags (default "-O": release, AddressSanitizer).
#               Campaigns use "-O -a -s none": overflow checks on, no ASan.
#               The code the decoder, parser and matcher targets reach is
#               safe Rust, where ASan finds nothing a panic would not, and
#               every target runs 5 to 20 times faster without it
#               (profile_loader 545 -> 2,900 executions/s, decode_muse_s
#               2,800 -> 56,000 on a 2-core VM). The loaders reach unsafe
#               code in one place, libyaml driven by emulators/src/load.rs's
#               event reader: that keeps ASan in the default build CI runs.
#               Each set of flags builds in its own target directory.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO/fuzz"
SECS="${1:-20}"
shift || true
FLAGS="${FUZZ_FLAGS:--O}"
JOBS="${FUZZ_JOBS:-1}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
# The fuzz workspace keeps its own target directory, apart from the main one,
# and one per set of flags, so a campaign build never invalidates CI's.
suffix=""
if [[ "$FLAGS" != "-O" ]]; then
    suffix="$(printf %s "$FLAGS" | tr -cs 'a-zA-Z0-9' '-')"
fi
export CARGO_TARGET_DIR="$REPO/target/fuzz$suffix"
# shellcheck disable=SC2086 # FLAGS is a list of flags
cargo +nightly fuzz build $FLAGS
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
if [[ -n "${FUZZ_RUNS:-}" ]]; then
    limit=(-runs="$FUZZ_RUNS")
else
    limit=(-max_total_time="$SECS")
fi

LOG="$REPO/target/fuzz-logs"
mkdir -p "$LOG"

# One target: its log in target/fuzz-logs/<target>.log, its exit code and
# wall time in <target>.rc.
run_one() {
    local t="$1" scratch="$REPO/target/fuzz-corpus/$1" rc=0 start
    mkdir -p "$scratch" "$REPO/fuzz/corpus/$t"
    start="$(date +%s)"
    # shellcheck disable=SC2086
    cargo +nightly fuzz run $FLAGS "$t" "$scratch" "$REPO/fuzz/corpus/$t" -- \
        "${limit[@]}" -print_final_stats=1 -rss_limit_mb=2048 -max_len=2048 \
        >"$LOG/$t.log" 2>&1 || rc=$?
    echo "$rc $(($(date +%s) - start))" >"$LOG/$t.rc"
}

for t in "${targets[@]}"; do
    rm -f "$LOG/$t.rc"
    while [[ "$(jobs -rp | wc -l)" -ge "$JOBS" ]]; do
        wait -n || true
    done
    run_one "$t" &
done
wait

status=0
printf '%-22s %14s %12s %8s %s\n' target executions exec/s seconds result
for t in "${targets[@]}"; do
    read -r rc secs <"$LOG/$t.rc"
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOG/$t.log" | tail -n 1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$LOG/$t.log" | tail -n 1)"
    result=ok
    if [[ $rc -ne 0 ]]; then
        result="FAILED (exit $rc; log $LOG/$t.log)"
        status=1
        grep -E "panicked|ERROR|SUMMARY|Test unit written" "$LOG/$t.log" | head -n 8 >&2 || true
    fi
    printf '%-22s %14s %12s %8s %s\n' "$t" "${execs:-?}" "${rate:-?}" "$secs" "$result"
done
exit "$status"
