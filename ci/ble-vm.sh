#!/usr/bin/env bash
# Runs a command next to a real BlueZ stack inside a small qemu VM.
#
# The build and CI machines have no Bluetooth in their kernel (no AF_BLUETOOTH,
# no /dev/vhci), so bluetoothd cannot run on the host. This script boots Debian's
# stock kernel with virtme-ng (the host's root filesystem shared into the guest,
# so freshly built binaries run there as they are), creates two virtual LE
# controllers hci0/hci1 that share one emulated "air" (btvirt), starts dbus and
# bluetoothd, and then runs the given command. See /work/shared/BLE-LAB.md.
#
# Usage:
#   ci/ble-vm.sh [--] COMMAND [ARG...]   run COMMAND in the VM, return its status
#   ci/ble-vm.sh --install-only          only install what is missing
#
# Environment (host side):
#   BLE_VM_TIMEOUT   seconds for the whole VM run (boot included), default 170
#   BLE_VM_ENV       names of host variables to export inside the VM, e.g.
#                    "RUST_LOG RUST_BACKTRACE" (the guest inherits nothing else)
#   BLE_VM_DEBUG=1   start bluetoothd with -d (debug log)
#
# Logs land in target/ble-vm/ of this repository (bluetoothd.log, btvirt.log,
# dbus.log, dmesg.log, command.log, vng.log) and are printed when the run fails.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOGDIR="$REPO/target/ble-vm"
# The venv lives under ci/ (ignored by ci/.gitignore) so the script never writes
# outside the repository except through apt.
VENV="$REPO/ci/.venv-vng"
BLUETOOTHD=/usr/libexec/bluetooth/bluetoothd

log() { printf 'ble-vm: %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------
# Guest side: this same file is exec'd inside the VM with --in-vm.
# ---------------------------------------------------------------------------
in_vm() {
    local cmdfile="$1"
    local status=0
    local pids=()

    # Kill everything we started, so the exec'd script can return and the VM
    # powers off (it only does when this script exits and nothing holds it).
    cleanup() {
        local p
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        sleep 0.3
        for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
        pkill_dbus
        dmesg | tail -n 80 >"$LOGDIR/dmesg.log" 2>&1 || true
    }
    # dbus-daemon --fork detaches, so its pid is not in $pids: read it from the
    # pid file we asked for (in /run, a guest-only tmpfs).
    pkill_dbus() {
        if [[ -f /run/dbus/ble-vm.pid ]]; then
            kill "$(cat /run/dbus/ble-vm.pid)" 2>/dev/null || true
        fi
    }
    trap cleanup EXIT

    # /dev/vhci: the kernel side of virtual HCI controllers (Debian builds it
    # as a module).
    modprobe hci_vhci
    for _ in $(seq 50); do [[ -e /dev/vhci ]] && break; sleep 0.1; done
    [[ -e /dev/vhci ]] || { echo "ble-vm: /dev/vhci did not appear after modprobe hci_vhci" >&2; return 90; }

    # With --rw the host's root is writable from here: give bluetoothd a
    # guest-only storage directory so it never writes adapter/device state into
    # the host's /var/lib/bluetooth (stale state would also leak between runs).
    mkdir -p /var/lib/bluetooth 2>/dev/null || true
    mount -t tmpfs -o mode=0700 tmpfs /var/lib/bluetooth

    # The system bus. /run is a tmpfs inside the guest.
    mkdir -p /run/dbus
    dbus-daemon --system --fork --print-pid --pidfile=/run/dbus/ble-vm.pid \
        >"$LOGDIR/dbus.log" 2>&1

    # Two LE-only controllers in one btvirt process: they share one emulated
    # air, so they see each other. `-l2` must be written without a space.
    btvirt -L -l2 >"$LOGDIR/btvirt.log" 2>&1 &
    pids+=("$!")

    local dflag=()
    [[ "${BLE_VM_DEBUG:-0}" == 1 ]] && dflag=(-d)
    # -n: stay in the foreground (we own the pid); -f: our config, not /etc's.
    "$BLUETOOTHD" -n -f "$REPO/ci/bluetooth-main.conf" "${dflag[@]}" \
        >"$LOGDIR/bluetoothd.log" 2>&1 &
    pids+=("$!")

    # Wait until bluetoothd has registered both controllers on D-Bus.
    local n=0
    for _ in $(seq 100); do
        n="$(bluetoothctl list 2>/dev/null | grep -c '^Controller' || true)"
        [[ "$n" -ge 2 ]] && break
        sleep 0.2
    done
    if [[ "$n" -lt 2 ]]; then
        echo "ble-vm: bluetoothd shows $n controller(s) after 20 s, expected 2" >&2
        return 91
    fi
    # AutoEnable powers the controllers asynchronously; wait for both.
    for _ in $(seq 50); do
        [[ "$(bluetoothctl list | awk '{print $2}' | while read -r a; do bluetoothctl show "$a"; done | grep -c 'Powered: yes')" -ge 2 ]] && break
        sleep 0.2
    done
    bluetoothctl list >>"$LOGDIR/command.log" 2>&1 || true
    echo "ble-vm: BlueZ ready after ${SECONDS}s in the guest" >&2

    # The command: a bash script written by the host side (argv quoted there).
    set +e
    bash "$cmdfile" 2>&1 | tee -a "$LOGDIR/command.log"
    status="${PIPESTATUS[0]}"
    set -e
    echo "ble-vm: command exited with status $status" >&2
    return "$status"
}

if [[ "${1:-}" == "--in-vm" ]]; then
    shift
    in_vm "$@"
    exit $?
fi

# ---------------------------------------------------------------------------
# Host side
# ---------------------------------------------------------------------------

# Debian's kernel: the newest /boot/vmlinuz-*-amd64 that has its modules.
find_kernel() {
    local k v best=""
    for k in /boot/vmlinuz-*-amd64; do
        [[ -e "$k" ]] || continue
        v="${k#/boot/vmlinuz-}"
        [[ -d "/lib/modules/$v/kernel" ]] && best="$k"
    done
    printf '%s' "$best"
}

install_missing() {
    local pkgs=(qemu-system-x86 linux-image-amd64 busybox-static bluez bluez-test-tools dbus)
    local missing=() p
    for p in "${pkgs[@]}"; do
        # dpkg-query exits 0 for removed-but-configured packages too: check status.
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
            missing+=("$p")
        fi
    done
    if [[ ${#missing[@]} -gt 0 || -z "$(find_kernel)" ]]; then
        log "installing Debian packages: ${missing[*]:-linux-image-amd64}"
        export DEBIAN_FRONTEND=noninteractive
        # Update the lists only when needed: fresh machines ship without them.
        if ! apt-get install -y --no-install-recommends "${missing[@]:-linux-image-amd64}" </dev/null; then
            apt-get update </dev/null
            apt-get install -y --no-install-recommends "${missing[@]:-linux-image-amd64}" </dev/null
        fi
    fi

    if [[ -x "$VENV/bin/vng" ]] && "$VENV/bin/vng" --version >/dev/null 2>&1; then
        :
    elif command -v vng >/dev/null 2>&1 && vng --version >/dev/null 2>&1; then
        :
    else
        log "installing virtme-ng into $VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet --disable-pip-version-check virtme-ng </dev/null
    fi
}

print_logs() {
    local f
    for f in vng.log btvirt.log bluetoothd.log dbus.log dmesg.log; do
        [[ -s "$LOGDIR/$f" ]] || continue
        echo "===== $LOGDIR/$f (last 60 lines) =====" >&2
        tail -n 60 "$LOGDIR/$f" >&2
    done
}

main() {
    if [[ "${1:-}" == "--install-only" ]]; then
        install_missing
        return 0
    fi
    [[ "${1:-}" == "--" ]] && shift
    if [[ $# -eq 0 ]]; then
        echo "usage: ci/ble-vm.sh [--] COMMAND [ARG...] | --install-only" >&2
        return 2
    fi

    install_missing
    # Prefer our venv's vng; its bin/ also holds virtme-run and friends.
    if [[ -x "$VENV/bin/vng" ]]; then export PATH="$VENV/bin:$PATH"; fi

    local kernel
    kernel="$(find_kernel)"
    [[ -n "$kernel" ]] || { log "no /boot/vmlinuz-*-amd64 with modules found"; return 1; }

    rm -rf "$LOGDIR"
    mkdir -p "$LOGDIR"

    # The guest inherits no environment: write the command, the working
    # directory and the requested variables into a script the guest runs.
    local cmdfile="$LOGDIR/command.sh" name
    {
        echo "# written by ci/ble-vm.sh; run inside the VM"
        printf 'cd %q\n' "$PWD"
        printf 'export PATH=%q\n' "$PATH"
        printf 'export HOME=%q\n' "${HOME:-/root}"
        printf 'export BLE_VM_LOGDIR=%q\n' "$LOGDIR"
        for name in ${BLE_VM_ENV:-}; do
            if [[ -n "${!name+x}" ]]; then printf 'export %s=%q\n' "$name" "${!name}"; fi
        done
        printf 'exec'
        printf ' %q' "$@"
        printf '\n'
    } >"$cmdfile"

    local inner
    inner="$(printf '%q ' env "BLE_VM_DEBUG=${BLE_VM_DEBUG:-0}" bash "$REPO/ci/ble-vm.sh" --in-vm "$cmdfile")"

    log "booting $kernel (timeout ${BLE_VM_TIMEOUT:-170}s)"
    local start=$SECONDS status=0
    # --disable-kvm: with KVM this qemu/kernel combination aborts
    # ("failed to set MSR 0x10a"); TCG is fast enough for BlueZ.
    # --rw: the guest writes logs into the project tree on the host.
    # stdin </dev/null: vng would otherwise attach the terminal/CI stdin.
    # The outer timeout kills a guest that hangs (-k: then SIGKILL).
    set +e
    timeout -k 10 "${BLE_VM_TIMEOUT:-170}" \
        vng -r "$kernel" --disable-kvm --memory 1G --rw --exec "$inner" \
        </dev/null 2> >(tee "$LOGDIR/vng.log" >&2)
    status=$?
    set -e
    log "VM finished in $((SECONDS - start))s with status $status"
    if [[ $status -eq 124 || $status -eq 137 ]]; then
        log "VM timed out after ${BLE_VM_TIMEOUT:-170}s"
    fi
    if [[ $status -ne 0 ]]; then print_logs; fi
    return "$status"
}

main "$@"
