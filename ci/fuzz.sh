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
# Env: FUZZ_JOBS parallel targets (default 1; libFuzzer uses one core each).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO/fuzz"
SECS="${1:-20}"
shift || true

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
# The fuzz workspace keeps its own target directory, apart from the main one.
export CARGO_TARGET_DIR="$REPO/target/fuzz"
cargo +nightly fuzz build -O
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

LOG="$REPO/target/fuzz-logs"
mkdir -p "$LOG"
status=0
printf '%-22s %14s %12s %s\n' target executions exec/s result
for t in "${targets[@]}"; do
    scratch="$REPO/target/fuzz-corpus/$t"
    mkdir -p "$scratch" "$REPO/fuzz/corpus/$t"
    rc=0
    cargo +nightly fuzz run -O "$t" "$scratch" "$REPO/fuzz/corpus/$t" -- \
        -max_total_time="$SECS" -print_final_stats=1 -rss_limit_mb=2048 -max_len=2048 \
        >"$LOG/$t.log" 2>&1 || rc=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOG/$t.log" | tail -n 1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$LOG/$t.log" | tail -n 1)"
    result=ok
    if [[ $rc -ne 0 ]]; then
        result="FAILED (exit $rc; log $LOG/$t.log)"
        status=1
        grep -E "panicked|ERROR|SUMMARY|Test unit written" "$LOG/$t.log" | head -n 8 >&2 || true
    fi
    printf '%-22s %14s %12s %s\n' "$t" "${execs:-?}" "${rate:-?}" "$result"
done
exit "$status"
