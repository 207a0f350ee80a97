#!/usr/bin/env bash
# npm run bench: kernel and forward-pass benchmarks, each next to a peer
# measured in the same run. Prints tables; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
bash scripts/build-native.sh >/dev/null
bash scripts/build-wasm.sh >/dev/null
echo "== headlight bench (native GEMM next to OpenBLAS sgemm) =="
build/native/headlight bench
for b in bench/*.mjs; do
  echo "== $b =="
  node "$b"
done
