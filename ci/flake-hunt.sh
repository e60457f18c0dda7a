#!/usr/bin/env bash
# Runs the whole nextest suite N times while the CPU is kept busy, and lists
# every test that failed even once (with how often), so timing-dependent tests
# show up before CI meets them.
#
#   bash ci/flake-hunt.sh 20                       # 20 runs under stress-ng
#   bash ci/flake-hunt.sh 50 -p boardloop-ffi      # extra args go to nextest
#   FLAKE_LOAD=build bash ci/flake-hunt.sh 10      # load: a release build loop
#   FLAKE_LOAD=none  bash ci/flake-hunt.sh 10      # no extra load
#
# FLAKE_LOAD=stress (default) runs `stress-ng --cpu $FLAKE_CPUS` (default: one
# worker per core) beside the tests, installing Debian's stress-ng if missing.
# FLAKE_LOAD=build rebuilds the workspace in release mode in a scratch target
# dir, over and over. The tests are built before the load starts. Trials that
# need setup (BrainFlow's venv, the C++ plugins) run only if it was done
# (`bash ci/setup.sh`, `bash ci/make-dropin-venv.sh`, `bash ci/build-plugins.sh`);
# otherwise nextest lists them as skipped, as in any run. Honours
# CARGO_TARGET_DIR. Each run's output is kept in <target>/flake-hunt/run-K.log.
# Exits 1 if any test failed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TERM_COLOR=never

runs=${1:-}
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: bash ci/flake-hunt.sh N [nextest args...]" >&2
    exit 2
fi
shift
load=${FLAKE_LOAD:-stress}
cpus=${FLAKE_CPUS:-$(nproc)}
target=${CARGO_TARGET_DIR:-$root/target}
out="$target/flake-hunt"
rm -rf "$out"
mkdir -p "$out"

echo "flake-hunt: building the tests"
cargo nextest run --workspace --no-run "$@" >"$out/build.log" 2>&1 || {
    cat "$out/build.log" >&2
    exit 1
}

load_pid=
stop_load() {
    if [ -n "$load_pid" ]; then
        # The load runs in its own process group: end the loop and what it runs.
        kill -- -"$load_pid" 2>/dev/null || true
        wait "$load_pid" 2>/dev/null || true
        load_pid=
    fi
}
trap stop_load EXIT

case "$load" in
stress)
    if ! command -v stress-ng >/dev/null 2>&1; then
        echo "flake-hunt: apt-get install stress-ng"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends stress-ng
    fi
    setsid stress-ng --cpu "$cpus" --timeout 0 >"$out/load.log" 2>&1 &
    load_pid=$!
    ;;
build)
    scratch="$out/load-target"
    setsid bash -c "while :; do rm -rf '$scratch'; cargo build -q --release --workspace --target-dir '$scratch'; done" \
        >"$out/load.log" 2>&1 &
    load_pid=$!
    ;;
none) ;;
*)
    echo "flake-hunt: FLAKE_LOAD must be stress, build or none (got $load)" >&2
    exit 2
    ;;
esac
echo "flake-hunt: $runs runs of the nextest suite, load: $load ($(nproc) cores${load_pid:+, $cpus workers})"

failures="$out/failures.txt"
: >"$failures"
started=$(date +%s)
for k in $(seq "$runs"); do
    log="$out/run-$k.log"
    t0=$(date +%s)
    if cargo nextest run --workspace --no-fail-fast "$@" >"$log" 2>&1; then
        status=ok
    else
        status=failed
    fi
    # nextest prints a failed test as `FAIL [ time] (i/n) crate::binary test`
    # (or TIMEOUT, SIGSEGV, ...) during the run and again in its summary.
    failed=$(grep -E '^ +(FAIL|TIMEOUT|SIG[A-Z]+|ABORT|LEAK-FAIL) +\[' "$log" |
        sed -E 's/^ +[A-Z-]+ +\[[^]]*\] +(\([^)]*\) +)?//' | sort -u || true)
    summary=$(grep -E '^ +Summary ' "$log" | tail -1 | sed -E 's/^ +//')
    if [ -n "$failed" ]; then
        printf '%s\n' "$failed" >>"$failures"
        printf 'run %d/%d (%ds): %s\n%s\n' "$k" "$runs" "$(($(date +%s) - t0))" "$summary" \
            "$(printf '%s\n' "$failed" | sed 's/^/    FAILED /')"
    elif [ "$status" = failed ]; then
        # Failed without a failing test: a build or nextest error.
        echo "run $k/$runs: nextest failed without a failing test, see $log" >&2
        tail -20 "$log" >&2
        exit 1
    else
        printf 'run %d/%d (%ds): %s\n' "$k" "$runs" "$(($(date +%s) - t0))" "$summary"
    fi
done
stop_load

echo
echo "flake-hunt: $runs runs in $(($(date +%s) - started)) s, load: $load"
if [ -s "$failures" ]; then
    echo "tests that failed at least once (failures/runs):"
    sort "$failures" | uniq -c | sort -rn | while read -r n name; do
        printf '  %3d/%d  %s\n' "$n" "$runs" "$name"
    done
    echo "logs: $out/run-*.log"
    exit 1
fi
echo "no test failed"
