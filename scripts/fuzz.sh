#!/usr/bin/env bash
# Run one libFuzzer target for a number of minutes: bash scripts/fuzz.sh TARGET [MINUTES]
# Findings (crash-*, leak-*, oom-*) are written to build-fuzz/findings/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET [MINUTES]}
minutes=${2:-10}
bash scripts/install-deps.sh --fuzz
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMACT_TESTS=ON -DCMACT_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "$target"
bin=$(find build-fuzz/tests -type f -name "$target" -perm -u+x | head -n 1)
[ -n "$bin" ] || { echo "fuzz.sh: no fuzz target '$target'" >&2; exit 2; }
seeds=$(find tests/fuzz/corpus -maxdepth 1 -type d -name "${target#fuzz_}*" | head -n 1)
mkdir -p "build-fuzz/findings/$target" "build-fuzz/corpus/$target"
ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=0 \
  "$bin" -max_total_time=$((minutes * 60)) -timeout=60 -rss_limit_mb=0 -malloc_limit_mb=0 -detect_leaks=0 \
  -artifact_prefix="build-fuzz/findings/$target/" "build-fuzz/corpus/$target" ${seeds:+"$seeds"}
