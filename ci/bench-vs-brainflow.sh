#!/usr/bin/env bash
# BrainFlow's Cyton driver and ours, side by side, reading the same emulator.
#
# Three readers, each a process of its own reading a `boardloop emulate` pty
# (ci/bench_reader.py, boards/examples/bench_reader.rs):
#   brainflow   BrainFlow's Python on pip's libBoardController (its C++ driver)
#   ours-py     BrainFlow's Python on ours (.venv-dropin, ci/make-dropin-venv.sh)
#   ours-rust   the Rust API (create_board), no Python
# For each, the Cyton is asked for packet rates in steps (BOARDLOOP_BENCH_RATES,
# packets/s) for BOARDLOOP_BENCH_SECONDS each (default 2); a step holds when
# every packet arrives, no package number is skipped, and the last arrives
# within 5% (+0.1 s) of the step's length. The sweep of a reader stops at the
# first step that does not hold. Then the cost of one get_board_data_count and
# one get_board_data(1) call (10,000 calls on a stopped, filled session), as
# the reader makes them (Python, or the Rust API), and for the two libraries
# from C (ci/bench/c_calls.c, the library loaded with dlopen).
#
# Prints a table (also written as Markdown to target/bench-vs-brainflow/table.md)
# with the ratios to BrainFlow. Numbers depend on the machine and its load:
# run it on a quiet one. Honours CARGO_TARGET_DIR.
#
# Usage: bash ci/bench-vs-brainflow.sh
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
# shellcheck source=ci/lib/emulate.sh
source ci/lib/emulate.sh
TARGET="$(mkdir -p "${CARGO_TARGET_DIR:-$REPO/target}" && cd "${CARGO_TARGET_DIR:-$REPO/target}" && pwd)"
OUT="$TARGET/bench-vs-brainflow"
mkdir -p "$OUT"
SECS="${BOARDLOOP_BENCH_SECONDS:-2}"
RATES="${BOARDLOOP_BENCH_RATES:-16000 32000 64000 96000 128000 160000 192000 256000 320000 384000 512000 640000 768000 1024000 1536000 2048000}"
CALLS=10000

# BrainFlow's own package (.venv, as ci/setup.sh makes it) and ours in its
# place (.venv-dropin; this also builds libBoardController in release).
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv && python3 -m venv .venv; }
    .venv/bin/python -m pip install --quiet --disable-pip-version-check brainflow
fi
bash ci/make-dropin-venv.sh >/dev/null
cargo build --release --quiet -p boardloop-harness --bin boardloop
cargo build --release --quiet -p boardloop-boards --example bench_reader
BOARDLOOP="$TARGET/release/boardloop"
RUST_READER="$TARGET/release/examples/bench_reader"
C_CALLS="$OUT/c_calls"
cc -O2 -o "$C_CALLS" ci/bench/c_calls.c -ldl
BRAINFLOW_LIB="$(.venv/bin/python -c 'import os, brainflow; print(os.path.join(os.path.dirname(brainflow.__file__), "lib", "libBoardController.so"))')"
OUR_LIB="$TARGET/release/libBoardController.so"

reader_cmd() {
    case "$1" in
        brainflow) echo ".venv/bin/python ci/bench_reader.py" ;;
        ours-py) echo ".venv-dropin/bin/python ci/bench_reader.py" ;;
        ours-rust) echo "$RUST_READER" ;;
    esac
}

EMU_PID=""
PORT=""
# Starts `boardloop emulate` on a Cyton scenario of PACKETS packets at SPEED
# (or --max); sets PORT and EMU_PID.
start_emulator() {
    local packets="$1" pacing="$2" tag="$3"
    local scenario="$OUT/cyton-$tag.yaml"
    cat >"$scenario" <<EOF
description: "ci/bench-vs-brainflow.sh workload, not a matrix scenario"
device: cyton
packets: $packets
signals:
  eeg*: { sine: { hz: 10, amplitude: 100 } }
steps: []
EOF
    # shellcheck disable=SC2086 # $pacing is one or two words
    emulate_start "$BOARDLOOP" "$OUT/emulate-$tag.out" $pacing "$scenario" || exit 1
    PORT="$EMU_PORT"
}

stop_emulator() {
    if [[ -n "$EMU_PID" ]]; then emulate_stop "$EMU_PID"; fi
}
trap 'stop_emulator' EXIT

field() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"; }

declare -A BEST BEST_CPU COUNT_US DATA_US C_COUNT_US C_DATA_US
for reader in brainflow ours-py ours-rust; do
    cmd="$(reader_cmd "$reader")"
    BEST[$reader]=0
    BEST_CPU[$reader]=""
    echo "$reader: $SECS s per step"
    for rate in $RATES; do
        packets=$((rate * SECS))
        speed="$(awk -v r="$rate" 'BEGIN { printf "%g", r / 250 }')"
        start_emulator "$packets" "--speed $speed" "$reader-$rate"
        status=0
        # shellcheck disable=SC2086
        line="$(timeout 120 $cmd "$PORT" "$packets" "$SECS" 2>"$OUT/reader-$reader-$rate.err")" || status=$?
        stop_emulator
        if [ $status -ne 0 ] || [ -z "$line" ]; then
            echo "  $rate packets/s: reader failed (exit $status): $(tail -n 3 "$OUT/reader-$reader-$rate.err")"
            break
        fi
        rows="$(field "$line" rows)"; lost="$(field "$line" lost)"; secs="$(field "$line" seconds)"
        cpu="$(field "$line" cpu_us_per_packet)"
        held="$(awk -v r="$rows" -v p="$packets" -v l="$lost" -v s="$secs" -v t="$SECS" \
            'BEGIN { print (r == p && l == 0 && s <= t * 1.05 + 0.1) ? "yes" : "no" }')"
        echo "  $rate packets/s: $rows/$packets rows, $lost lost, ${secs}s, ${cpu} µs CPU per packet: held $held"
        [ "$held" = yes ] || break
        BEST[$reader]=$rate
        BEST_CPU[$reader]=$cpu
    done
    start_emulator 100000000 --max "$reader-calls"
    # shellcheck disable=SC2086
    line="$(timeout 120 $cmd "$PORT" --calls "$CALLS" 2>"$OUT/reader-$reader-calls.err")" || true
    stop_emulator
    COUNT_US[$reader]="$(field "${line:-{\}}" count_us)"
    DATA_US[$reader]="$(field "${line:-{\}}" data_us)"
    echo "  calls: get_board_data_count ${COUNT_US[$reader]} µs, get_board_data(1) ${DATA_US[$reader]} µs"
    lib=""
    case "$reader" in
        brainflow) lib="$BRAINFLOW_LIB" ;;
        ours-py) lib="$OUR_LIB" ;;
    esac
    if [ -n "$lib" ]; then
        start_emulator 100000000 --max "$reader-c-calls"
        line="$(timeout 120 "$C_CALLS" "$lib" "$PORT" "$CALLS" 2>"$OUT/reader-$reader-c-calls.err")" || true
        stop_emulator
        C_COUNT_US[$reader]="$(field "${line:-{\}}" count_us)"
        C_DATA_US[$reader]="$(field "${line:-{\}}" data_us)"
        echo "  calls from C on $lib: get_board_data_count ${C_COUNT_US[$reader]} µs, get_board_data(1) ${C_DATA_US[$reader]} µs"
    fi
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f×", a / b }'; }
{
    echo "| reader | highest zero-loss rate (packets/s) | CPU per packet there (µs) | get_board_data_count (µs) | get_board_data(1) (µs) | the same two called from C (µs) |"
    echo "|---|---|---|---|---|---|"
    for reader in brainflow ours-py ours-rust; do
        case "$reader" in
            brainflow) name="BrainFlow 5.23's C++ driver, via its Python" ;;
            ours-py) name="boardloop, via BrainFlow's Python" ;;
            ours-rust) name="boardloop, Rust API" ;;
        esac
        c="-"
        [ -n "${C_COUNT_US[$reader]:-}" ] && c="${C_COUNT_US[$reader]} / ${C_DATA_US[$reader]}"
        echo "| $name | ${BEST[$reader]} | ${BEST_CPU[$reader]:--} | ${COUNT_US[$reader]:--} | ${DATA_US[$reader]:--} | $c |"
    done
    echo
    for reader in ours-py ours-rust; do
        echo "* $reader vs BrainFlow: rate $(ratio "${BEST[$reader]}" "${BEST[brainflow]}"), CPU per packet $(ratio "${BEST_CPU[brainflow]}" "${BEST_CPU[$reader]}") less, get_board_data_count $(ratio "${COUNT_US[brainflow]}" "${COUNT_US[$reader]}") faster"
    done
    echo "* the C ABI's get_board_data_count, called from C: ours $(ratio "${C_COUNT_US[brainflow]:-}" "${C_COUNT_US[ours-py]:-}") faster than BrainFlow's"
    top="$(echo "$RATES" | awk '{ print $NF }')"
    for reader in brainflow ours-py ours-rust; do
        if [ "${BEST[$reader]}" = "$top" ]; then
            echo "* $reader held the top step ($top packets/s): its ceiling is above what was asked."
        fi
    done
} >"$OUT/table.md"
echo
cat "$OUT/table.md"
