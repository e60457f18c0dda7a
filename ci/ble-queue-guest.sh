#!/usr/bin/env bash
# Inside the lab VM (run by ci/ble-test.sh through ci/ble-vm.sh): runs the
# trials of a queue, one after the other, for as long as the VM's time allows.
#
# A VM boot costs 20-40 s here and 50-75 s on a slower CI machine, and a trial
# 5-60 s, so a fixed number of trials per VM either wastes boots on a fast
# machine or runs past the VM's time limit on a slow one (CI did: two steps
# of two BrainFlow trials hit the 180 s limit). Instead each VM takes trials
# from the queue while the next one's estimate still fits before its deadline;
# ci/ble-test.sh boots another VM for what is left. The estimate of a trial is
# 1.3 times the longest trial of its kind measured so far in this run (every
# VM's results are kept). Until one has run, it is the kind's default scaled
# by how much slower than their defaults the kinds measured so far ran: on a
# loaded host a BrainFlow trial took 115 s against a default of 75, and the
# next kind's unscaled default let a trial start that the VM's end then cut
# off.
#
# Usage: ci/ble-queue-guest.sh QUEUE RESULTS
#        ci/ble-queue-guest.sh --expect N COMMAND...   (a queue entry's command)
#   --expect N: runs a libtest COMMAND and fails unless it reports exactly N
#   passed: a filtered-out or ignored trial would otherwise "pass" unrun.
#   QUEUE    lines of `KIND<TAB>DEFAULT_S<TAB>LABEL<TAB>COMMAND` (COMMAND is
#            bash, run with `bash -c`, its output in this VM's command.log)
#   RESULTS  appended to: `start LABEL` before a trial, `done LABEL STATUS
#            SECONDS KIND DEFAULT_S` after it; a label with `start` and no
#            `done` was cut off by the VM's end.
# Environment: BLE_VM_START (the host's clock when it started the VM) and
# BLE_VM_TIMEOUT (seconds it gives the VM); the guest's clock is the host's
# (qemu's RTC), read at boot.
# Exit status: 0 (the results say how each trial went).
set -uo pipefail

if [[ "$1" == --expect ]]; then
    want="$2"
    shift 2
    out="$(mktemp)"
    "$@" 2>&1 | tee "$out"
    status=${PIPESTATUS[0]}
    if [[ $status -eq 0 ]] && ! grep -q "^test result: ok\. $want passed" "$out"; then
        echo "ble-queue: expected $want trials to pass in: $*" >&2
        status=1
    fi
    rm -f "$out"
    exit "$status"
fi

QUEUE="$1"
RESULTS="$2"
# Time the VM needs after the last trial to stop its daemons and power off
# (measured: 1-2 s alone, but one VM step took 24 s from its last trial to
# qemu's exit, ending at its 180-s limit, while ci/test.sh built beside it);
# a trial's estimate already has 30 % of room. 30 s here took the lab from 14
# VMs to 17 (no builds beside it), so 25.
MARGIN=25
deadline=$((BLE_VM_START + BLE_VM_TIMEOUT - MARGIN))
touch "$RESULTS"
echo "ble-queue: $((EPOCHSECONDS - BLE_VM_START)) s since the host started this VM;" \
    "trials may run until $((deadline - BLE_VM_START)) s"

# estimate KIND DEFAULT: "ESTIMATE LONGEST": seconds to allow a trial of
# KIND, and the longest one of KIND measured (without the 30 % of room; the
# scaled default until one was).
estimate() {
    awk -v kind="$1" -v dflt="$2" '
        $1 == "done" && $6 > 0 {
            if ($5 == kind && $4 > max) max = $4
            if ($5 == kind) seen = 1
            if ($4 / $6 > slow) slow = $4 / $6
        }
        END {
            if (seen) { printf "%d %d\n", max * 1.3 + 1, max; exit }
            if (slow < 1) slow = 1
            printf "%d %d\n", dflt * slow + 1, dflt * slow
        }' "$RESULTS"
}
# A VM's first trial is what it was booted for, so it may use the margin; but
# it must still end before the VM's hard limit. A boot that took 135 s (5
# btvirt attempts) started a 52-s BrainFlow trial at 138 s, and the limit at
# 180 s cut it off: a failed run with no trial at fault. So the first trial
# starts only where the longest measured trial of its kind ends 5 s before
# the limit (powering off takes 1-2 s); else the VM looks for a shorter kind,
# and if none fits it ends with none run and ci/ble-test.sh boots another.
hard_limit=$((BLE_VM_START + BLE_VM_TIMEOUT - 5))

# The scan forks nothing per entry: under emulation on a loaded host a fork
# and exec cost about a second (measured: a VM that had run its last trial
# took 1.3 s per queue entry to skip the 80 left, 26 s in all, and met its
# limit in the scan). So: `started` holds the labels begun (read once, kept
# current), estimates are worked out once per kind until a trial runs, the
# clock is bash's $EPOCHSECONDS, and once the deadline has passed the scan
# stops.
declare -A started est_of
while read -r what label _; do
    [[ $what == start ]] && started[$label]=1
done <"$RESULTS"
ran=0
while IFS=$'\t' read -r kind default label command; do
    [[ -n "$label" ]] || continue
    [[ -z "${started[$label]:-}" ]] || continue
    now=$EPOCHSECONDS
    # A VM's first trial is held to the hard limit instead (below).
    if [[ $ran -gt 0 && $now -ge $deadline ]]; then
        echo "ble-queue: the VM's time for trials is up; the next VM takes the rest"
        break
    fi
    [[ -n "${est_of[$kind/$default]:-}" ]] || est_of[$kind/$default]="$(estimate "$kind" "$default")"
    est=${est_of[$kind/$default]% *}
    longest=${est_of[$kind/$default]#* }
    if [[ $ran -gt 0 && $((now + est)) -gt $deadline ]]; then
        echo "ble-queue: $label (estimate $est s) does not fit in the $((deadline - now)) s left"
        continue
    fi
    if [[ $ran -eq 0 && $((now + longest)) -gt $hard_limit ]]; then
        echo "ble-queue: $label (longest of its kind $longest s) would not end before the VM's limit ($((hard_limit - now)) s left)"
        continue
    fi
    echo "start $label" >>"$RESULTS"
    started[$label]=1
    echo "ble-queue: $label ($kind, estimate $est s) at $((now - BLE_VM_START)) s"
    begin=$EPOCHSECONDS
    bash -c "$command" </dev/null
    status=$?
    echo "done $label $status $((EPOCHSECONDS - begin)) $kind $default" >>"$RESULTS"
    ran=$((ran + 1))
    # A new measurement: every kind's estimate may change.
    est_of=()
done <"$QUEUE"
exit 0
