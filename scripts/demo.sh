#!/usr/bin/env bash
# The README's main command: install what is missing, build, and run the end-to-end demo on
# simulated data (`cmact demo`). Output goes to ./demo-out.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMACT_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)"
exec ./build/cmact demo --out demo-out "$@"
