#!/usr/bin/env bash
# The C++ test suite built with clang under ASan + UBSan -> build/sanitize/.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset sanitize >/dev/null
cmake --build --preset sanitize -j"$(nproc)" --target headlight_tests
