#!/usr/bin/env bash
# Alignment accuracy of `cmact sync` against the simulator's truth, with and without the
# cross-modal refinement (issue 7, "what must be shown" 1). Simulates a corpus (NTP error of
# each host up to 0.5 s, BLE latency, sensor drift: the presets' defaults), builds the dataset
# twice (refined, --no-refine) and prints the truth lines `cmact sync` reports: median, p95 and
# the fraction of sessions within 34/100/300/700 ms, and how often the stated per-window
# uncertainty covers the true error.
#
#   scripts/bench-sync-accuracy.sh [OUT_DIR] [EVERY] [SCHEDULES] [SEED]
#
# Default corpus: every 24th clip of the cmactivity preset (32 clips of ~10 s, all seven
# activities) plus 4 schedules, at 160x120 (the resolution does not change the timing cues);
# about a minute of CPU. EVERY=1 SCHEDULES=0 is the full preset. Results: OUT_DIR/accuracy.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
CMACT=${CMACT:-build/cmact}
out=${1:-bench-sync-accuracy}
every=${2:-24}
schedules=${3:-4}
seed=${4:-1}
mkdir -p "$out"
log="$out/accuracy.txt"
{
  echo "cmact sync accuracy, $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "corpus: cmact simulate --preset cmactivity --every $every --schedules $schedules --width 160 --height 120 --seed $seed"
  rm -rf "$out/sessions"
  "$CMACT" simulate --preset cmactivity --every "$every" --schedules "$schedules" --width 160 --height 120 \
    --seed "$seed" --out "$out/sessions" > /dev/null
  for mode in refined clock; do
    extra=""
    [ "$mode" = clock ] && extra="--no-refine"
    echo "== cmact sync $out/sessions --out $out/$mode.h5 $extra"
    "$CMACT" sync "$out/sessions" --out "$out/$mode.h5" --force $extra 2>/dev/null |
      grep -E 'sessions:|refinement:|alignment error|with refinement|clock model only|covers|state 0.1'
  done
} | tee "$log"
