#!/usr/bin/env bash
# Runs every Krate test on a fresh Debian 12 machine: installs what is missing,
# builds, runs unit, integration and browser tests (ctest), then the unit and integration tests under
# AddressSanitizer + UndefinedBehaviorSanitizer, then a short fuzz run.
# Ends with one summary line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh build test browser || { echo "bootstrap failed"; echo "0 passed, 1 failed"; exit 1; }

jobs=$(nproc)
passed=0
failed=0
log=$(mktemp)

run_suite() { # name build-dir cmake-args...
  local name=$1 dir=$2; shift 2
  echo "== $name: build"
  if ! { cmake -S . -B "$dir" "$@" >/dev/null && cmake --build "$dir" -j "$jobs" >/dev/null; }; then
    echo "== $name: BUILD FAILED"
    cmake --build "$dir" -j 1 2>&1 | tail -30
    failed=$((failed + 1))
    return
  fi
  echo "== $name: ctest"
  (cd "$dir" && ctest --output-on-failure -j "$jobs" --timeout 600) 2>&1 | tee "$log"
  local line p f
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
  if [ -z "$line" ]; then
    failed=$((failed + 1))
    return
  fi
  f=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/')
  p=$(echo "$line" | sed -E 's/.* failed out of ([0-9]+).*/\1/')
  passed=$((passed + p - f))
  failed=$((failed + f))
}

run_suite "tests" build -DCMAKE_BUILD_TYPE=RelWithDebInfo
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=23
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite "tests under ASan+UBSan" build-asan -DCMAKE_BUILD_TYPE=Debug -DKRATE_SANITIZE=ON
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "== fuzz (admission and request parsing, ${FUZZ_SECONDS:-30}s)"
if FUZZ_SECONDS=${FUZZ_SECONDS:-30} bash fuzz/run.sh >"$log" 2>&1; then
  passed=$((passed + 1))
  tail -3 "$log"
else
  failed=$((failed + 1))
  tail -40 "$log"
fi
rm -f "$log"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
