#!/usr/bin/env bash
# The study's protocol (Table 3, Fig. 3, Fig. 4, Fig. 5) on a dataset built from simulated
# sessions, at a scale that fits the machine: every setting below is printed into each report,
# and docs/results.md records the ones used. Usage:
#   scripts/study-protocol.sh SESSIONS_DIR OUT_DIR [DATASET.h5]
# Without DATASET.h5, the dataset is built from SESSIONS_DIR with `cmact sync` at the reduced video
# size (FRAMES x SIZE x SIZE) into OUT_DIR/dataset.h5. Scale (environment, defaults in brackets):
# RUNS [3], THREADS [2], FRAMES [9], SIZE [16], WIDTHS [8,16,32,32,64], TEACHER [30],
# TRANSFER [30], LIMITED [40], SCRATCH [200], LABELS [500], BATCH [128].
set -euo pipefail
sessions=${1:?SESSIONS_DIR}; out=${2:?OUT_DIR}; data=${3:-}
cmact=${CMACT:-$(dirname "$0")/../build/cmact}
RUNS=${RUNS:-3} THREADS=${THREADS:-2} FRAMES=${FRAMES:-9} SIZE=${SIZE:-16}
WIDTHS=${WIDTHS:-8,16,32,32,64} TEACHER=${TEACHER:-30} TRANSFER=${TRANSFER:-30}
LIMITED=${LIMITED:-40} SCRATCH=${SCRATCH:-200} LABELS=${LABELS:-500} BATCH=${BATCH:-128}
mkdir -p "$out"
log="$out/protocol.log"
step() { # NAME COMMAND...: run, log its wall time
  local name=$1; shift
  echo "\$ $*" | tee -a "$log"
  local t0; t0=$(date +%s.%N)
  "$@" 2>&1 | tee -a "$log"
  printf '(%s: %.0f s wall, load %s)\n' "$name" "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" "$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$log"
}
if [ -z "$data" ]; then
  data="$out/dataset.h5"
  [ -f "$data" ] || step sync "$cmact" sync "$sessions" --out "$data" --threads "$THREADS" --frames "$FRAMES" --size "$SIZE"
fi
common=(--data "$data" --runs "$RUNS" --threads "$THREADS" --teacher-epochs "$TEACHER" --transfer-epochs "$TRANSFER"
        --limited-epochs "$LIMITED" --scratch-epochs "$SCRATCH" --labels "$LABELS" --batch "$BATCH"
        --video-widths "$WIDTHS" --input "${FRAMES}x${SIZE}x${SIZE}x3")
step epochs "$cmact" experiment epochs --out "$out/table3" "${common[@]}"
step labels "$cmact" experiment labels --out "$out/labels" --pair video-imu "${common[@]}"
step related "$cmact" experiment related --out "$out/related" "${common[@]}"
