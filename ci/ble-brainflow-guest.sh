#!/usr/bin/env bash
# Guest side of ci/ble-brainflow.sh (runs inside the lab VM with BlueZ up).
# Usage: ble-brainflow-guest.sh BOARDLOOP SCENARIO BOARD_ID PYTHON
set -euo pipefail
BOARDLOOP="$1" SCENARIO="$2" BOARD_ID="$3" PY="$4"
LOG="${BLE_VM_LOGDIR:-target/ble-vm}"

"$BOARDLOOP" emulate --adapter hci1 "$SCENARIO" >"$LOG/emulator.out" 2>"$LOG/emulator.err" &
epid=$!
# The VM powers off only when every process started here is gone.
trap 'kill $epid 2>/dev/null || true; wait $epid 2>/dev/null || true' EXIT
for _ in $(seq 150); do
    if grep -q '^ble: ' "$LOG/emulator.out" 2>/dev/null; then break; fi
    if ! kill -0 $epid 2>/dev/null; then
        echo "ble-brainflow: emulator exited early:" >&2
        cat "$LOG/emulator.err" >&2
        exit 3
    fi
    sleep 0.1
done
line="$(head -n1 "$LOG/emulator.out")"
echo "emulator: $line"
addr="$(echo "$line" | cut -d' ' -f2)"

set +e
timeout 60 "$PY" - "$addr" "$BOARD_ID" "$LOG/brainflow.log" <<'PYEOF'
import sys, time
from brainflow.board_shim import BoardShim, BrainFlowInputParams
addr, board, logfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
BoardShim.enable_dev_board_logger()
# The whole driver log, in case stderr is cut short.
BoardShim.set_log_file(logfile)
p = BrainFlowInputParams()
p.mac_address = addr
p.timeout = 15
b = BoardShim(board, p)
t = time.monotonic()
b.prepare_session()
print(f"prepare_session returned after {time.monotonic() - t:.2f} s; "
      f"is_prepared {b.is_prepared()}", flush=True)
b.start_stream()
t = time.monotonic()
time.sleep(5)
n = b.get_board_data_count()
print(f"{n} samples in {time.monotonic() - t:.2f} s "
      f"(sampling rate {BoardShim.get_sampling_rate(board)} Hz)", flush=True)
data = b.get_board_data()
b.stop_stream()
b.release_session()
print("data shape", data.shape, flush=True)
sys.exit(0 if n > 0 else 1)
PYEOF
status=$?
set -e
echo "ble-brainflow: python session status $status; emulator stderr:"
cat "$LOG/emulator.err"
exit $status
