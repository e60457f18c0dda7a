#!/usr/bin/env bash
# Streamers against BrainFlow 5.23, on this machine's network stack (no
# hardware): a Cyton emulator (`boardloop emulate`) streams through
# BrainFlow's Python binding, once on BrainFlow's own library (.venv, made by
# ci/setup.sh) and once on ours (.venv-dropin, ci/make-dropin-venv.sh), with
# a `file://` streamer and a `plotjuggler_udp://` one; then ours with a
# `streaming_board://` streamer that BrainFlow's own STREAMING_BOARD reads
# (ci/streamer_interop.py says what each step checks):
#   * both files are the rows as C's "%lf" prints them, tab-separated, byte
#     for byte, and DataFilter.read_file reads ours back;
#   * ours sends one PlotJuggler message per row, shaped as BrainFlow's (the
#     same keys at every level) with the row's values;
#   * the rows BrainFlow's STREAMING_BOARD gets from our multicast are rows
#     of the session, every value equal, in order; and the same for our
#     STREAMING_BOARD reading BrainFlow's multicast;
#   * BrainFlow's PLAYBACK_FILE_BOARD replays our file and ours replays
#     BrainFlow's, each line once, every value equal (markers 0);
#   * our SYNTHETIC_BOARD makes BrainFlow's kind of rows (check-synthetic).
# Usage: bash ci/streamers.sh. Honours CARGO_TARGET_DIR; output in
# target/streamers-check.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
# shellcheck source=ci/lib/emulate.sh
source ci/lib/emulate.sh
T="${CARGO_TARGET_DIR:-$REPO/target}"
OUT="$T/streamers-check"
rm -rf "$OUT"
mkdir -p "$OUT"
own="$REPO/.venv/bin/python"
ours="$REPO/.venv-dropin/bin/python"
for py in "$own" "$ours"; do
    [[ -x "$py" ]] || { echo "streamers: $py missing (ci/setup.sh, ci/make-dropin-venv.sh)" >&2; exit 2; }
done
cargo build -q -p boardloop-harness
bin="$T/debug/boardloop"
interop=(ci/streamer_interop.py)

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

# serve NAME: a Cyton emulator; sets $pty once it printed its port.
serve() {
    emulate_start "$bin" "$OUT/$1.emulate" scenarios/cyton/known_signal.yaml || exit 1
    pids+=("$EMU_PID")
    pty="$EMU_PORT"
}

# The file streamer, on both libraries.
for lib in own ours; do
    py="$own"
    [[ $lib == ours ]] && py="$ours"
    serve "file-$lib"
    "$py" "${interop[@]}" session "$pty" "file://$OUT/$lib.csv:w" 2 "$OUT/$lib.json"
    # BrainFlow's DataFilter reads the file in both cases.
    "$own" "${interop[@]}" check-file "$OUT/$lib.csv" "$OUT/$lib.json"
done

# PlotJuggler's JSON over UDP, from both libraries, to a local port.
free_udp_port() {
    python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
for lib in own ours; do
    py="$own"
    [[ $lib == ours ]] && py="$ours"
    serve "plotjuggler-$lib"
    "$py" "${interop[@]}" session "$pty" "plotjuggler_udp://127.0.0.1:$(free_udp_port)" 2 "$OUT/pj-$lib.json"
done
"$own" "${interop[@]}" check-plotjuggler "$OUT/pj-ours.json" "$OUT/pj-own.json"

# The multicast streamer and STREAMING_BOARD, both ways: ours sends and
# BrainFlow's reads, then BrainFlow's sends and ours reads.
stream() {  # stream SENDER READER TAG
    local group=225.1.1.1 port tag=$3
    port="$(free_udp_port)"
    serve "multicast-$tag"
    "$2" "${interop[@]}" read-stream "$group" "$port" 0 4 "$OUT/streamed-$tag.json" "$OUT/reader-$tag.ready" &
    reader=$!
    pids+=($reader)
    # The reader joins the group before it says so: wait for that, not a time.
    for _ in $(seq 1 600); do
        [[ -e "$OUT/reader-$tag.ready" ]] && break
        kill -0 "$reader" 2>/dev/null || { echo "STREAMING_BOARD reader ($tag) ended early" >&2; exit 1; }
        sleep 0.05
    done
    [[ -e "$OUT/reader-$tag.ready" ]] || { echo "STREAMING_BOARD reader ($tag) never streamed" >&2; exit 1; }
    "$1" "${interop[@]}" session "$pty" "streaming_board://$group:$port" 2 "$OUT/sent-$tag.json"
    wait "$reader"
    "$own" "${interop[@]}" check-stream "$OUT/streamed-$tag.json" "$OUT/sent-$tag.json"
}
stream "$ours" "$own" ours-to-brainflow
stream "$own" "$ours" brainflow-to-ours

# PLAYBACK_FILE_BOARD, both ways: BrainFlow's replays the file our streamer
# wrote, ours replays BrainFlow's (both files from the first step, Cyton's
# layout: master board 0).
"$own" "${interop[@]}" playback "$OUT/ours.csv" 0 "$OUT/played-by-brainflow.json"
"$own" "${interop[@]}" check-playback "$OUT/played-by-brainflow.json" "$OUT/ours.csv"
"$ours" "${interop[@]}" playback "$OUT/own.csv" 0 "$OUT/played-by-ours.json"
"$own" "${interop[@]}" check-playback "$OUT/played-by-ours.json" "$OUT/own.csv"
# SYNTHETIC_BOARD: ours makes the kind of rows BrainFlow's makes.
"$own" "${interop[@]}" synthetic 2 "$OUT/synthetic-brainflow.json"
"$ours" "${interop[@]}" synthetic 2 "$OUT/synthetic-ours.json"
"$own" "${interop[@]}" check-synthetic "$OUT/synthetic-ours.json" "$OUT/synthetic-brainflow.json"
echo "streamers: file, plotjuggler_udp and streaming_board, SYNTHETIC_BOARD, STREAMING_BOARD and PLAYBACK_FILE_BOARD both ways, checked against BrainFlow $("$own" -c 'import importlib.metadata as m; print(m.version("brainflow"))')"
