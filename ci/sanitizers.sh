#!/usr/bin/env bash
# The Rust side of the C ABI under sanitizers (issue #12, part 5); the C++
# wrapper's share (ASan/UBSan, valgrind) is ci/cpp-test.sh.
#
#   miri   `cargo +nightly miri test` on the unsafe paths that need no I/O:
#          the ring buffer (boards/src/ring.rs), the guard's panic boundary
#          (ffi/src/guard.rs) and every C ABI call that writes into caller
#          memory, with buffers of exactly the allowed size
#          (ffi/tests/pointers.rs: string, list and integer getters, short
#          and null buffers, non-UTF-8 params). Not under Miri: anything on
#          a pty (Miri has no openpty/termios), and plugin loading
#          (boards/src/plugin.rs): Miri cannot dlopen a shared library nor
#          call into foreign code, so the plugin ABI is covered by the C++
#          suite under ASan and valgrind (ci/cpp-test.sh) instead.
#   asan   every boardloop-ffi test (sessions on emulated ptys, many threads
#          racing, logs, pointers) built with -Zsanitizer=address, in
#          target/asan so the main build stays valid.
#
# Usage: bash ci/sanitizers.sh [miri|asan]...   (default: both)
# Installs the nightly toolchain's miri and rust-src components if missing.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
steps=("$@")
[[ ${#steps[@]} -gt 0 ]] || steps=(miri asan)

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
# The C ABI without its BLE backend (ffi's `ble` feature): the unsafe code is
# the same, and neither tool then compiles tokio, btleplug and libdbus (the
# bulk of a cold build: Miri 21.7 min, ASan 28.8 min with them, on a loaded
# 2-core machine). BLE's C ABI path is covered natively by ffi/tests/ble.rs.
NO_BLE="--no-default-features"
timed() {
    local name=$1 start=$SECONDS
    shift
    "$@"
    echo "sanitizers: $name took $((SECONDS - start)) s"
}

miri() {
    rustup component add --toolchain nightly miri rust-src
    cargo +nightly miri setup
    # Isolation off: guard.rs's test writes a log file and reads the clock.
    local flags="-Zmiri-disable-isolation"
    MIRIFLAGS=$flags cargo +nightly miri test -p boardloop-boards --lib ring::
    # The logger's writer thread lives as long as the process (by design, as
    # BrainFlow's logger), so Miri's check that every thread was joined
    # ("main thread terminated without waiting for all remaining threads")
    # would fail this one; its leak check goes with it. pointers.rs logs
    # nothing, starts no thread, and keeps both checks.
    MIRIFLAGS="$flags -Zmiri-ignore-leaks" cargo +nightly miri test -p boardloop-ffi $NO_BLE --lib guard::
    MIRIFLAGS=$flags cargo +nightly miri test -p boardloop-ffi $NO_BLE --test pointers
}

asan() {
    rustup component add --toolchain nightly rust-src
    # --target keeps the sanitizer off build scripts and proc macros (they
    # run in the host's plain rustc runtime); detect_leaks stays on.
    CARGO_TARGET_DIR="$root/target/asan" RUSTFLAGS="-Zsanitizer=address" \
        RUSTDOCFLAGS="-Zsanitizer=address" ASAN_OPTIONS="detect_leaks=1" \
        cargo +nightly test -p boardloop-ffi $NO_BLE --target x86_64-unknown-linux-gnu --tests
}

for s in "${steps[@]}"; do
    case $s in
        miri) timed miri miri ;;
        asan) timed asan asan ;;
        *)
            echo "usage: bash ci/sanitizers.sh [miri|asan]..." >&2
            exit 2
            ;;
    esac
done
