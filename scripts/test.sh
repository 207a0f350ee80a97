#!/usr/bin/env bash
# npm test: install what is missing, build, run every test
# (C++ doctest via ctest, wasm-in-Node, real-browser).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
bash scripts/build.sh
echo "== C++ tests (doctest) =="
# Run the doctest binary directly (not through ctest) so the figures each
# test prints (max abs error, GFLOPS, ms) appear in the log.
build/native/headlight_tests
echo "== Node and browser tests =="
node --test --test-concurrency=1 tests/node/ tests/web/ tests/e2e/
