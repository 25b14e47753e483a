#!/usr/bin/env bash
# Run one libFuzzer target for N minutes (default 10) on all cores but one, keeping its corpus
# in build-fuzz/<target>_corpus next to the seeds; a crash leaves crash-* files in build-fuzz/.
#   scripts/fuzz.sh fuzz_pmd 10
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET [MINUTES] (targets: fuzz_pmd, fuzz_att)}
minutes=${2:-10}
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMACT_TESTS=ON -DCMACT_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "$target" >/dev/null
exe=$(find build-fuzz/tests -name "$target" -type f -perm -u+x | head -1)
corpus=build-fuzz/${target}_corpus
mkdir -p "$corpus"
seeds=$(ls -d tests/fuzz/corpus_${target#fuzz_} 2>/dev/null || true)
cd build-fuzz
exec "../$exe" -max_total_time=$((minutes * 60)) -print_final_stats=1 -timeout=10 \
  "../$corpus" ${seeds:+../$seeds}
