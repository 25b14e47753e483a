#!/usr/bin/env bash
# Benchmark of `cmact simulate --preset cmactivity`: the whole corpus (767 sessions, ~125 minutes
# per modality) on 2 cores (taskset), with wall time and peak resident memory from GNU time.
# Usage: scripts/simulate-bench.sh [OUT_DIR [EVERY]]: OUT_DIR defaults to a temporary folder
# (removed afterwards); EVERY=K simulates every K-th session only (a sample spread over the
# corpus, for machines too busy for the whole run: multiply CPU time by K to extrapolate).
# Build first: cmake -S . -B build && cmake --build build -j2
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CMACT:-build/cmact}
OUT=${1:-}
EVERY=${2:-1}
KEEP=1
if [ -z "$OUT" ]; then OUT=$(mktemp -d); KEEP=0; fi
echo "simulate-bench: $BIN simulate --preset cmactivity --seed 1 --threads 2 --every $EVERY --out $OUT (2 cores)" >&2
/usr/bin/time -v taskset -c 0,1 "$BIN" simulate --preset cmactivity --seed 1 --threads 2 --every "$EVERY" --out "$OUT" \
  2> >(grep -E "Elapsed|Maximum resident|User time|System time|Percent of CPU" >&2)
du -sh "$OUT" >&2
ls "$OUT"/*.h5 | wc -l | sed 's/^/files: /' >&2
if [ "$KEEP" = 0 ]; then rm -rf "$OUT"; fi
