#!/usr/bin/env bash
# Throughput of `cmact import cmactivity-raw` (issue 6, item 3): sessions imported per second.
#
#   scripts/import-bench.sh [N] [BUILD]
#
# With `cmact simulate --export-raw` available, the input is the simulator's cmactivity preset
# export (N sessions; the whole corpus is 767). Without it, a stand-in corpus of N clips shaped
# like the preset (9.8 s, 320x240 H.264 at 30 fps, AAC 44.1 kHz mono, 50 Hz wrist logs) is made
# with the ffmpeg command: one encode, then N copies with their own creation times (ffmpeg
# -c copy), so making the corpus costs little. The import itself is timed with /usr/bin/time
# (wall and CPU seconds), run once; the report says which input was used.
# RAW=DIR uses an existing export instead (e.g. the whole corpus from
# `cmact simulate --preset cmactivity --export-raw DIR`); N is then ignored.
set -euo pipefail
N=${1:-100}
BUILD=${2:-build}
CMACT=$(readlink -f "$BUILD/cmact")
W=$(mktemp -d "${TMPDIR:-/tmp}/cmact-import-bench-XXXXXX")
trap 'rm -rf "$W"' EXIT
if [ -n "${RAW:-}" ]; then
  SRC="existing export $RAW ($(find "$RAW" -name '*.mp4' | wc -l) videos)"
elif RAW=$W/raw && "$CMACT" simulate --help 2>/dev/null | grep -q -- --export-raw; then
  SRC="simulator export, cmactivity preset, $N sessions"
  "$CMACT" simulate --preset cmactivity --sessions "$N" --out "$W/sim" --export-raw "$RAW" >/dev/null
else
  SRC="stand-in ffmpeg corpus shaped like the cmactivity preset, $N sessions"
  mkdir -p "$RAW"/{raw3,raw4,raw11,raw12} "$RAW/walk"
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=320x240:rate=30 \
    -f lavfi -i sine=frequency=440:sample_rate=44100 -t 9.8 -c:v libx264 -preset veryfast \
    -pix_fmt yuv420p -c:a aac -b:a 64k "$W/one.mp4"
  T0=1795600800 # 2026-11-25T10:00:00Z; sessions 20 s apart
  for i in $(seq 0 $((N - 1))); do
    ct=$(date -u -d "@$((T0 + 20 * i))" +%Y-%m-%dT%H:%M:%SZ)
    ffmpeg -hide_banner -loglevel error -y -i "$W/one.mp4" -map 0 -c copy -metadata creation_time="$ct" \
      "$RAW/walk/clip$(printf %04d "$i").mp4"
  done
  for d in raw3 raw4 raw11 raw12; do
    awk -v t0=$((T0 * 1000)) -v n=$((N * 20 * 50)) \
      'BEGIN { for (i = 0; i < n; i++) printf "%d,0,%.4f,%.4f,%.4f\n", t0 + i * 20, sin(i / 7), cos(i / 5), 9.81 }' |
      gzip >"$RAW/$d/imu.csv.gz"
  done
fi
echo "input: $SRC"
/usr/bin/time -f "wall %e s, user %U s, sys %S s, max RSS %M KiB" \
  "$CMACT" import cmactivity-raw "$RAW" --out "$W/sessions" 2>&1 | tail -2
echo "cores: $(nproc), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
