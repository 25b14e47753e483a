#!/usr/bin/env bash
# Training throughput of cmact against PyTorch on this machine, same networks, batch 128, Adam,
# same thread count, one invocation: for each model it runs `cmact bench train` and then
# scripts/bench_train_torch.py, and prints samples/s of both, their ratio, the peak RSS of both,
# and cmact's dense-layer GFLOP/s next to OpenBLAS's sgemm peak measured in the same process.
#
#   bash scripts/bench-train.sh [--threads T] [--steps-scale K] [--build DIR]
#                               [--video32-batch B] [--video64-batch B]
#
# Needs python3-torch (scripts/install-deps.sh --bench) under /usr/bin/python3. Steps are few on
# purpose (a 2-core machine is shared); --steps-scale multiplies them. The 45x64x64x3 video run
# needs ~11 GB (cmact) and more for PyTorch at batch 128; when MemAvailable is short the script
# lowers that run's batch and says so in the table.
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=2
SCALE=1
V32=128
V64=128
BUILD=build
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) THREADS="$2"; shift 2 ;;
    --steps-scale) SCALE="$2"; shift 2 ;;
    --build) BUILD="$2"; shift 2 ;;
    --video32-batch) V32="$2"; shift 2 ;;
    --video64-batch) V64="$2"; shift 2 ;;
    *) echo "bench-train.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "bench-train.sh: PyTorch is missing; run: bash scripts/install-deps.sh --bench" >&2
  exit 1
fi
if [ ! -x "$BUILD/cmact" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target cmact >/dev/null
fi
CMACT="$BUILD/cmact"

val() { sed -n "s/^$1: //p" <<<"$2" | head -1; }

echo "# cmact vs PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), $(nproc) cores, threads $THREADS, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# OpenBLAS kernels: $("$CMACT" bench train --model imu_cnn --steps 1 --batch 8 --threads 1 | sed -n 's/^blas_core: //p') (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; both engines inherit it)"
printf '| model | input | batch | steps | cmact samples/s | PyTorch samples/s | ratio | cmact peak RSS MiB | PyTorch peak RSS MiB | dense GFLOP/s | sgemm peak GFLOP/s |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'

run() { # model input batch steps
  local model=$1 input=$2 batch=$3 steps=$(( $4 * SCALE ))
  local extra=() textra=()
  if [ "$model" = video_c3d ]; then extra=(--input "$input"); textra=(--input "$input"); fi
  local c t
  c=$("$CMACT" bench train --model "$model" "${extra[@]}" --batch "$batch" --steps "$steps" --threads "$THREADS")
  t=$(/usr/bin/python3 scripts/bench_train_torch.py --model "$model" "${textra[@]}" --batch "$batch" --steps "$steps" --threads "$THREADS")
  local cs ts
  cs=$(val samples_per_s "$c"); ts=$(val samples_per_s "$t")
  printf '| %s | %s | %s | %s | %s | %s | %.2f | %s | %s | %s | %s |\n' "$model" "$input" "$batch" "$steps" \
    "$cs" "$ts" "$(awk -v a="$cs" -v b="$ts" 'BEGIN{print a/b}')" \
    "$(val peak_rss_mib "$c")" "$(val peak_rss_mib "$t")" "$(val dense_gflops "$c")" "$(val sgemm_peak_gflops "$c")"
}

run imu_cnn 40x12 128 30
run audio_mlp 193 128 30
run video_c3d 45x32x32x3 "$V32" 2
avail_gib=$(awk '/MemAvailable/ {print int($2/1048576)}' /proc/meminfo)
b64=$V64
if [ "$b64" -gt 32 ] && [ "$avail_gib" -lt 40 ]; then b64=32; fi
run video_c3d 45x64x64x3 "$b64" 1
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg); MemAvailable at the 64x64 run: ${avail_gib} GiB"
