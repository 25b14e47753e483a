#!/usr/bin/env bash
# Run one libFuzzer target for a number of minutes: bash scripts/fuzz.sh TARGET [MINUTES [LIBFUZZER_ARGS...]]
# (e.g. -fork=1 -ignore_crashes=1 to go on past a known finding and collect the others)
# Findings (crash-*, leak-*, oom-*) are written to build-fuzz/findings/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET [MINUTES]}
minutes=${2:-10}
shift $(( $# < 2 ? $# : 2 ))
bash scripts/install-deps.sh --fuzz
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMACT_TESTS=ON -DCMACT_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "$target"
bin=$(find build-fuzz/tests -type f -name "$target" -perm -u+x | head -n 1)
[ -n "$bin" ] || { echo "fuzz.sh: no fuzz target '$target'" >&2; exit 2; }
# the seed corpus named by the target's cmact_fuzz(... CORPUS ...) line (fuzz_formats_read's is
# corpus/formats: guessing from the target's name found none, and libFuzzer then started from one
# empty input and never got past HDF5's signature check)
seeds=$(grep -h -A3 "cmact_fuzz($target " tests/*/*.cmake | grep -o 'corpus/[A-Za-z0-9_]*' | head -n 1 || true)
seeds=${seeds:+tests/fuzz/$seeds}
if [ -n "$seeds" ] && [ ! -d "$seeds" ]; then echo "fuzz.sh: seed corpus $seeds is missing" >&2; exit 2; fi
[ -n "$seeds" ] || echo "fuzz.sh: $target has no seed corpus; starting from nothing" >&2
# seeds for long campaigns only: each one changes the path of CTest's short seeded smoke run
extra=
[ -n "$seeds" ] && [ -d "tests/fuzz/corpus-extra/${seeds#tests/fuzz/corpus/}" ] && extra=tests/fuzz/corpus-extra/${seeds#tests/fuzz/corpus/}
mkdir -p "build-fuzz/findings/$target" "build-fuzz/corpus/$target"
ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=0 \
  "$bin" -max_total_time=$((minutes * 60)) -timeout=60 -rss_limit_mb=0 -malloc_limit_mb=0 -detect_leaks=0 \
  -artifact_prefix="build-fuzz/findings/$target/" "$@" "build-fuzz/corpus/$target" ${seeds:+"$seeds"} ${extra:+"$extra"}
