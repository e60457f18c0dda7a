# Sourced by the lab-VM guest scripts (ci/ble-rig-guest.sh,
# ci/ble-bench-cabi-guest.sh): one home for starting a `boardloop emulate
# --adapter hci1` device process and learning the address it advertises.
#
# start_ble_emulator BOARDLOOP_BIN YAML OUT ERR [EMULATE ARGS...]
#   Starts the emulator in the background with its stdout in OUT and stderr
#   in ERR, then waits (at most 20 s) for its first line, `ble: ADDRESS NAME`,
#   printed once it advertises. Sets EMU (the pid) and ADDRESS (empty if the
#   emulator died or never advertised).
start_ble_emulator() {
    local bin="$1" yaml="$2" out="$3" err="$4"
    shift 4
    "$bin" emulate --adapter hci1 "$@" "$yaml" >"$out" 2>"$err" &
    EMU=$!
    ADDRESS=""
    for _ in $(seq 200); do
        ADDRESS="$(sed -n 's/^ble: \([0-9A-Fa-f:]*\) .*/\1/p' "$out" | head -n 1)"
        [[ -n "$ADDRESS" ]] && return 0
        kill -0 "$EMU" 2>/dev/null || return 0
        sleep 0.1
    done
}

# stop_ble_emulator: ends the process start_ble_emulator started.
stop_ble_emulator() {
    kill "$EMU" 2>/dev/null || true
    wait "$EMU" 2>/dev/null || true
}
