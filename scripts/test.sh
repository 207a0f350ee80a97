#!/usr/bin/env bash
# npm test: install what is missing, build, run every test
# (C++ doctest, the same suite under ASan + UBSan, each fuzz target briefly,
# wasm-in-Node, real-browser).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
bash scripts/build.sh
echo "== C++ tests (doctest) =="
# Run the doctest binary directly (not through ctest) so the figures each
# test prints (max abs error, GFLOPS, ms) appear in the log.
build/native/headlight_tests
echo "== C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer =="
bash scripts/build-sanitize.sh >build/sanitize-build.log 2>&1 || { cat build/sanitize-build.log; exit 1; }
build/sanitize/headlight_tests
echo "== fuzzing: saved crashers, then ${FUZZ_SECONDS:-30} s a target =="
bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
echo "== Node and browser tests =="
node --test --test-concurrency=1 tests/node/ tests/web/ tests/e2e/
