#!/usr/bin/env bash
# A rig's device on another machine: a real ser2net (Debian's, installed if
# missing) serves a `boardloop emulate` pseudo-terminal as RFC 2217 on the
# loopback interface, and the `device` target reads it through a rig entry
# `serial_port: rfc2217://127.0.0.1:PORT`. For each scenario below: the
# trial must pass, value by value. Then BrainFlow's own Cyton driver is
# given the same URL, to record what it does with it (README "Rigs").
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
# shellcheck source=ci/lib/emulate.sh
source ci/lib/emulate.sh
T="${CARGO_TARGET_DIR:-$REPO/target}"
OUT="$T/rfc2217-check"
rm -rf "$OUT"
mkdir -p "$OUT"

if ! command -v ser2net >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ser2net
fi
cargo build -q -p boardloop-harness
bin="$T/debug/boardloop"

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts `boardloop emulate SCENARIO` and ser2net in front of it; sets $url.
serve() {
    local scenario="$1" name="$2" port pty
    emulate_start "$bin" "$OUT/$name.emulate" "$scenario" || exit 1
    pids+=("$EMU_PID")
    pty="$EMU_PORT"
    port="$(free_port)"
    ser2net -n -u -P "$OUT/$name.ser2net.pid" \
        -Y "connection: &$name" \
        -Y "  accepter: telnet(rfc2217),tcp,127.0.0.1,$port" \
        -Y "  connector: serialdev,$pty,115200n81,local" \
        >"$OUT/$name.ser2net.log" 2>&1 &
    pids+=($!)
    # Ready when the port accepts a connection (then closed at once).
    for _ in $(seq 1 300); do
        if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1).close()" 2>/dev/null; then
            break
        fi
        sleep 0.05
    done
    url="rfc2217://127.0.0.1:$port"
    echo "$scenario: $pty served by ser2net $(ser2net -v | awk '{print $3}') at $url"
}

for sc in known_signal markers; do
    serve "scenarios/cyton/$sc.yaml" "$sc"
    printf 'rig: rfc2217\nboards:\n  cyton: { serial_port: "%s", scenarios: [%s] }\n' "$url" "$sc" >"$OUT/$sc.rig.yaml"
    "$bin" run "cyton::$sc::device" --rig "$OUT/$sc.rig.yaml" --html "$OUT/$sc.html" | tee "$OUT/$sc.run"
    grep -q "1 passed, 0 failed, 0 ignored" "$OUT/$sc.run"
done

# BrainFlow 5.23's serial layer opens a device path: it has no RFC 2217
# client, so the URL is refused when the session is prepared.
py="$REPO/.venv/bin/python"
if [[ -x "$py" ]]; then
    "$py" - "$url" 2>"$OUT/brainflow.log" <<'PY'
import sys
from brainflow.board_shim import BoardShim, BrainFlowInputParams, BrainFlowError, BoardIds
p = BrainFlowInputParams()
p.serial_port = sys.argv[1]
b = BoardShim(BoardIds.CYTON_BOARD, p)
try:
    b.prepare_session()
    b.release_session()
    print(f"BrainFlow's Cyton driver opened {p.serial_port}")
except BrainFlowError as e:
    print(f"BrainFlow's Cyton driver refuses {p.serial_port}: {e}")
PY
fi
