# Sourced by the ci scripts that serve a device with `boardloop emulate`.
#
# emulate_start BIN LOG ARG...: starts `BIN emulate ARG...` in the background
# with its output in LOG, waits until it prints its port (`serial: PATH`, its
# first line: a readiness signal, not a time) and sets EMU_PORT and EMU_PID.
# Fails, showing LOG, if the emulator ends or prints nothing for 5 s.
emulate_start() {
    local bin="$1" log="$2"
    shift 2
    "$bin" emulate "$@" >"$log" 2>&1 &
    EMU_PID=$!
    EMU_PORT=""
    for _ in $(seq 1 500); do
        EMU_PORT="$(sed -n 's/^serial: //p' "$log" 2>/dev/null | head -n 1)"
        [[ -n "$EMU_PORT" ]] && return 0
        kill -0 "$EMU_PID" 2>/dev/null || break
        sleep 0.01
    done
    echo "boardloop emulate $* printed no port:" >&2
    cat "$log" >&2
    return 1
}

# emulate_stop PID: ends an emulator (SIGTERM: a background job of a script
# ignores SIGINT) and reaps it.
emulate_stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
