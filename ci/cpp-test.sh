#!/usr/bin/env bash
# The C++ wrapper (ffi/cpp) from a fresh machine:
#  1. installs cmake, g++, GoogleTest and valgrind with apt-get if missing;
#  2. builds libBoardController (release) and the boardloop CLI (the emulator);
#  3. installs the CMake package to a temporary prefix and builds and runs the
#     find_package consumer (ffi/cpp/examples/consumer), shared and static;
#  4. runs the GoogleTest suite under CTest three ways: plain, with
#     AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer on), and
#     under valgrind memcheck (ctest -T memcheck).
# Exits non-zero on any failure; prints one summary line per mode at the end.
# Honours CARGO_TARGET_DIR (default <repo>/target); CMake build dirs go to
# $CARGO_TARGET_DIR/cmake-*.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
target="$CARGO_TARGET_DIR"
jobs="${CPP_TEST_JOBS:-2}"

# ---- 1. System packages ----
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v g++ >/dev/null || missing+=(g++)
command -v valgrind >/dev/null || missing+=(valgrind)
dpkg -s libgtest-dev >/dev/null 2>&1 || missing+=(libgtest-dev)
if ((${#missing[@]})); then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "== apt-get install ${missing[*]}"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# ---- 2. Rust artefacts ----
echo "== cargo build (libBoardController release, boardloop CLI debug)"
cargo build --release -p boardloop-ffi --manifest-path "$root/Cargo.toml"
cargo build -p boardloop-harness --manifest-path "$root/Cargo.toml"

summary=()
logs="$(mktemp -d)"
prefix="$(mktemp -d)"
trap 'rm -rf "$logs" "$prefix"' EXIT

failed=0
# Runs CTest with the given extra arguments and records "<mode>: <ctest's
# result line>"; a failure is remembered (the script fails at the end, after
# the other modes have run and the summary is printed).
run_ctest() {
    local mode="$1" dir="$2"
    shift 2
    local status=0
    (cd "$dir" && ctest --output-on-failure --no-tests=error "$@") 2>&1 | tee "$logs/$mode.log" ||
        status=$?
    local line
    line="$(grep -E 'tests passed|tests failed' "$logs/$mode.log" | tail -n1 || true)"
    summary+=("$mode: ${line:-no CTest summary} (exit $status)")
    ((status == 0)) || failed=1
}

# ---- 3. Package install + find_package consumer ----
echo "== package: install to $prefix, build the consumer"
cmake -S "$root/ffi/cpp" -B "$target/cmake-pkg" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$target/cmake-pkg"
cmake --install "$target/cmake-pkg" --prefix "$prefix" >/dev/null
rm -rf "$target/cmake-consumer"
cmake -S "$root/ffi/cpp/examples/consumer" -B "$target/cmake-consumer" \
    -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$target/cmake-consumer" -j "$jobs"
"$target/cmake-consumer/consumer"
"$target/cmake-consumer/consumer_static"
summary+=("package: find_package(boardloop) consumer built and ran (shared and static)")

# ---- 4a. Plain (also the build valgrind runs on) ----
echo "== plain"
valgrind_opts="--leak-check=full --error-exitcode=1 --errors-for-leak-kinds=definite,possible --suppressions=$root/ffi/cpp/tests/valgrind.supp"
valgrind_opts+=" --suppressions=$root/ffi/cpp/tests/valgrind.supp --gen-suppressions=all"
cmake -S "$root/ffi/cpp" -B "$target/cmake-plain" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBOARDLOOP_BUILD_TESTS=ON -DMEMORYCHECK_COMMAND="$(command -v valgrind)" \
    -DMEMORYCHECK_COMMAND_OPTIONS="$valgrind_opts" >/dev/null
cmake --build "$target/cmake-plain" -j "$jobs"
run_ctest plain "$target/cmake-plain"

# ---- 4b. AddressSanitizer + UndefinedBehaviorSanitizer ----
# The Rust library is not instrumented; ASan still checks every C++ access
# and, through its malloc interposer, frees across the boundary.
echo "== asan+ubsan"
san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
cmake -S "$root/ffi/cpp" -B "$target/cmake-asan" -DCMAKE_BUILD_TYPE=Debug \
    -DBOARDLOOP_BUILD_TESTS=ON -DCMAKE_CXX_FLAGS="$san" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$target/cmake-asan" -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    LSAN_OPTIONS="suppressions=$root/ffi/cpp/tests/lsan.supp:print_suppressions=1" \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_ctest asan+ubsan "$target/cmake-asan"

# ---- 4c. valgrind memcheck (each test in its own valgrind run) ----
echo "== valgrind"
run_ctest valgrind "$target/cmake-plain" -T memcheck

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
