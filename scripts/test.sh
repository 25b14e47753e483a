#!/usr/bin/env bash
# The README's test command: install what is missing, build, and run the whole suite twice —
# once optimised, once under AddressSanitizer + UndefinedBehaviorSanitizer — plus the fuzz
# targets over their seed corpora. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --fuzz
# A merge conflict committed by mistake (docs are merged by union, but not every merge is).
if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
  if git grep -nE '^(<<<<<<<|>>>>>>>)( |$)' -- '*.md' '*.c' '*.h' '*.cmake' '*.sh' '*.txt'; then
    echo "test.sh: merge conflict markers committed (above)" >&2
    exit 1
  fi
fi
JOBS=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMACT_TESTS=ON >/dev/null
cmake --build build -j"$JOBS"
(cd build && ctest --output-on-failure -j"$JOBS" --timeout 600)

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMACT_TESTS=ON -DCMACT_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$JOBS"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j"$JOBS" --timeout 900 -LE no_sanitize)

CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMACT_TESTS=ON -DCMACT_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$JOBS" --target fuzz_targets
(cd build-fuzz && ctest --output-on-failure -j"$JOBS" -L fuzz)
