#!/usr/bin/env bash
# Native build: tests and the headlight command line -> build/native/.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset native >/dev/null
cmake --build --preset native -j"$(nproc)"
