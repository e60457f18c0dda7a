#!/usr/bin/env bash
# The soak (issue #12, part 4): PACKETS Cyton packets (default 21,600,000: a
# day at 250 Hz) streamed through the C ABI as fast as the driver reads them,
# from an emulator with a fault every 10,000 packets on average (drops,
# garbage, truncated packets, corrupted start and end bytes), then 10 more
# prepare/start/stop/release cycles. Prints packets, wall time, rows/s, the
# loss reconciliation (emulator counters and every missing package number
# against the fault plan), RSS while streaming (start and end), and open fds
# and threads before and after; fails on unexplained loss, RSS growth over
# 8 MiB, or a leaked fd or thread. The test is ffi/tests/soak.rs.
#
# Usage: bash ci/soak.sh [PACKETS]      (CI: bash ci/soak.sh 500000)
# Built in the test profile (opt-level 1), so CI reuses the nextest build.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
packets=${1:-21600000}
if ! [[ $packets =~ ^[0-9]+$ ]]; then
    echo "usage: bash ci/soak.sh [PACKETS]" >&2
    exit 2
fi
cargo test -q --workspace --test soak --no-run
start=$(date +%s)
BOARDLOOP_SOAK_PACKETS=$packets cargo test -q --workspace --test soak -- \
    --ignored --nocapture --test-threads 1
echo "soak: $packets packets, $(($(date +%s) - start)) s wall in all (cycles included)"
