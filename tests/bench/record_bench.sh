#!/usr/bin/env bash
# Recorder benchmark (issue 4): 640x480 at 29 fps plus 48 kHz stereo from live GStreamer test
# sources for SECONDS (default 60), recorded by `cmact record`:
#   * H.264 (x264enc ultrafast/zerolatency) and MJPEG runs: dropped frames, CPU time per second
#     of recording (the recorder's own process CPU), frame-timestamp jitter (t_host_ns steps
#     against the nominal 1/29 s) and file size;
#   * the same sources captured by gst-launch into fakesink, with no encoder and no file
#     (what capture alone costs), for the "without the encoder" figure;
#   * `cmact export` of the H.264 run, checked with ffprobe (codec, frame count, duration).
# Prints a Markdown table to stdout. Run it alone: it measures CPU time on a shared machine.
set -euo pipefail
SECONDS_TO_RECORD=${1:-60}
cd "$(dirname "$0")/../.."
CMACT=${CMACT:-build/cmact}
T=$(mktemp -d /tmp/cmact-bench-XXXXXX)
trap 'rm -rf "$T"' EXIT
V="videotestsrc is-live=true pattern=ball"
A="audiotestsrc is-live=true wave=sine freq=440"
FRAMES=$((SECONDS_TO_RECORD * 29))

jitter() { # FILE -> "packets dropped mean_ms std_ms max_abs_dev_ms"
  /usr/bin/python3 - "$1" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
tables = f["committed"].attrs["tables"]
tables = (tables.decode() if isinstance(tables, bytes) else tables).split(",")
n = int(f["committed"][tables.index("/streams/video/index")])
t = f["streams/video/index"]["t_host_ns"][:n].astype(np.int64)
d = np.diff(t) / 1e6
nominal = 1000.0 / 29
dev = d - nominal
print(f"{n} {np.mean(d):.4f} {np.std(d):.4f} {np.max(np.abs(dev)):.4f}")
PY
}

run_record() { # NAME CODEC
  local name=$1 codec=$2
  /usr/bin/time -f "%U %S %e" -o "$T/$name.time" "$CMACT" record --video "$V" --audio "$A" \
    --size 640x480 --fps 29 --audio-rate 48000 --audio-channels 2 --video-codec "$codec" \
    --duration "$SECONDS_TO_RECORD" --chrony-interval 4 --no-status \
    --summary-json "$T/$name.json" --out "$T/$name.h5" > "$T/$name.log"
  local cpu wall
  read -r u s wall < "$T/$name.time"
  cpu=$(echo "$u + $s" | bc -l)
  local dropped secs bytes
  dropped=$(/usr/bin/python3 -c "import json;print(int(json.load(open('$T/$name.json'))['video_dropped']))")
  secs=$(/usr/bin/python3 -c "import json;print(json.load(open('$T/$name.json'))['seconds'])")
  bytes=$(/usr/bin/python3 -c "import json;print(json.load(open('$T/$name.json'))['file_bytes'])")
  read -r n mean std maxdev < <(jitter "$T/$name.h5")
  printf "| cmact record, %s | %s | %s | %.3f | %.3f | %s / %s / %s | %.1f |\n" "$codec" "$n" "$dropped" \
    "$cpu" "$(echo "$cpu / $secs" | bc -l)" "$mean" "$std" "$maxdev" "$(echo "$bytes / 1000000" | bc -l)"
}

echo "Recording ${SECONDS_TO_RECORD} s of 640x480 @ 29 fps + 48 kHz stereo from test sources ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ))"
echo
echo "| run | frames | dropped | CPU s | CPU s per s recorded | frame step mean / std / max abs dev from 34.483 ms (ms) | file MB |"
echo "|---|---|---|---|---|---|---|"
run_record h264 h264
run_record mjpeg mjpeg
# Capture only: the same sources and conversions, no encoder, no file.
/usr/bin/time -f "%U %S %e" -o "$T/raw.time" gst-launch-1.0 -q -e \
  $V num-buffers=$FRAMES ! videoconvert ! videoscale ! video/x-raw,format=I420,width=640,height=480,framerate=29/1 ! fakesink \
  $A num-buffers=$((SECONDS_TO_RECORD * 48000 / 1024)) ! audioconvert ! audioresample ! \
  audio/x-raw,format=S16LE,rate=48000,channels=2 ! fakesink > /dev/null
read -r u s wall < "$T/raw.time"
cpu=$(echo "$u + $s" | bc -l)
printf "| capture only (gst-launch, no encoder, no file) | %s | - | %.3f | %.3f | - | - |\n" "$FRAMES" "$cpu" \
  "$(echo "$cpu / $SECONDS_TO_RECORD" | bc -l)"
echo
"$CMACT" export "$T/h264.h5" --mp4 "$T/h264.mp4" > /dev/null
echo "Export of the H.264 run (ffprobe -count_frames):"
echo
echo '```'
ffprobe -v error -count_frames -show_entries stream=codec_name,profile,width,height,nb_read_frames,duration,sample_rate,channels \
  -show_entries format=duration -of compact "$T/h264.mp4"
echo '```'
