#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz/ (clang, ASan + UBSan) -> build/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"$(nproc)" --target $(cd tests/fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')
