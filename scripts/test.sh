#!/usr/bin/env bash
# Sets divan up (scripts/setup.sh) and runs every test:
#   1. the default build (HTTP enabled): every meson test suite;
#   2. a build with -Dhttp=disabled: the embedding example, proving the
#      library builds and links without any HTTP code;
#   3. a build with AddressSanitizer and UndefinedBehaviorSanitizer: every
#      unit test suite and the HTTP integration tests (whose server binary is
#      then sanitized too), which must run clean.
# Exits non-zero if anything fails; prints each test runner's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

status=0
run() {  # run TITLE COMMAND...
  echo
  echo "==== $1"
  shift
  "$@" || status=1
}

run "default build: all tests" \
  meson test -C build --print-errorlogs --num-processes 2

if [ ! -f build-nohttp/build.ninja ]; then meson setup build-nohttp -Dhttp=disabled; fi
run "build without HTTP: compile" ninja -C build-nohttp
run "build without HTTP: embedding example" \
  meson test -C build-nohttp --print-errorlogs --suite example

if [ ! -f build-asan/build.ninja ]; then
  meson setup build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
fi
run "sanitizers: compile" ninja -C build-asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
run "sanitizers (ASan+UBSan): unit and HTTP tests" \
  meson test -C build-asan --print-errorlogs --num-processes 2 --suite unit --suite http \
  --timeout-multiplier 3

echo
if [ $status -eq 0 ]; then echo "ALL TESTS PASSED"; else echo "SOME TESTS FAILED"; fi
exit $status
