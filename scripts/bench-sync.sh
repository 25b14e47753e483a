#!/usr/bin/env bash
# Benchmark of the dataset rebuild: `cmact sync` over a folder of session files, timed with
# GNU time (wall clock, CPU, peak resident memory), with the dataset's size on disk and the
# alignment figures against the simulator's truth that `cmact sync` prints.
#
#   scripts/bench-sync.sh SESSIONS_DIR [OUT_DIR] [THREADS]
#   scripts/bench-sync.sh --simulate PRESET [OUT_DIR] [THREADS]   # simulate first (cmact simulate)
#
# Results go to OUT_DIR/bench-sync.txt (and the dataset's report JSON next to it).
set -euo pipefail
cd "$(dirname "$0")/.."
CMACT=${CMACT:-build/cmact}
if [ "${1:-}" = "--simulate" ]; then
  preset=${2:?preset name}
  out=${3:-bench-sync-out}
  threads=${4:-2}
  mkdir -p "$out"
  sessions="$out/sessions"
  /usr/bin/time -f "simulate: wall %e s, peak %M KiB" "$CMACT" simulate --preset "$preset" --out "$sessions" \
    2>&1 | tail -n 3
else
  sessions=${1:?sessions folder}
  out=${2:-bench-sync-out}
  threads=${3:-2}
  mkdir -p "$out"
fi
ds="$out/dataset.h5"
log="$out/bench-sync.txt"
{
  echo "cmact sync benchmark, $(date -u +%FT%TZ), $(nproc) cores, threads $threads"
  echo "sessions: $sessions ($(ls "$sessions"/*.h5 | wc -l) files, $(du -sh "$sessions" | cut -f1))"
  /usr/bin/time -f "sync: wall %e s, user %U s, sys %S s, peak memory %M KiB" \
    "$CMACT" sync "$sessions" --out "$ds" --force --threads "$threads" 2>&1
  echo "dataset on disk: $(du -h "$ds" | cut -f1) ($(stat -c %s "$ds") bytes)"
} | tee "$log"
