#!/usr/bin/env bash
# Multicast streaming side by side with BrainFlow 5.23 (not a test; figures):
# a PLAYBACK_FILE_BOARD with a streaming_board:// streamer and a
# STREAMING_BOARD reading it, in one Python process, on BrainFlow's own
# library (.venv) and on ours (.venv-dropin), at FreeEEG32's 512 Hz (the
# fastest board here) and well beyond. See ci/bench_streaming.py.
# Usage: bash ci/bench-streaming.sh [RATE...]   (default 512 5000 50000)
# Needs ci/setup.sh and ci/make-dropin-venv.sh. Run it on a quiet machine.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
rates=("$@")
[[ ${#rates[@]} -gt 0 ]] || rates=(512 5000 50000)
for rate in "${rates[@]}"; do
    # 4 s of rows at the board rate, 2 s beyond it.
    secs=4
    [[ $rate -gt 5000 ]] && secs=2
    .venv/bin/python ci/bench_streaming.py "$rate" "$secs"
    .venv-dropin/bin/python ci/bench_streaming.py "$rate" "$secs"
done
