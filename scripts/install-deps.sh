#!/usr/bin/env bash
# Installs the Debian 12 packages cmact needs to build, test and run, and nothing when they are
# all there already (idempotent). Run as root. Extra package groups: `--bench` adds what the
# benchmarks compare against (PyTorch, librosa's inputs), `--fuzz` adds clang for libFuzzer.
set -euo pipefail

BUILD_PKGS=(
  gcc make cmake pkg-config
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev ffmpeg
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-libav
  libsndfile1-dev libbluetooth-dev libhdf5-dev hdf5-tools libopenblas-dev libfftw3-dev
  libcjson-dev libcairo2-dev libfontconfig-dev libcmocka-dev zlib1g-dev
  chrony pulseaudio pulseaudio-utils
  python3-h5py python3-numpy
)
EXTRA_PKGS=()
for a in "$@"; do
  case "$a" in
    --bench) EXTRA_PKGS+=(python3-torch hyperfine) ;;
    --fuzz) EXTRA_PKGS+=(clang libclang-rt-14-dev) ;;
    *) echo "install-deps.sh: unknown option '$a'" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${BUILD_PKGS[@]}" "${EXTRA_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-deps.sh: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi
echo "install-deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
