#!/usr/bin/env bash
# WebAssembly build -> build/wasm/headlight.{js,wasm}, copied to web/public/wasm/.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's emcc loads acorn from the system node path.
export NODE_PATH=/usr/share/nodejs
emcmake cmake --preset wasm >/dev/null
cmake --build --preset wasm -j"$(nproc)"
# The module must really hold 128-bit SIMD instructions.
n_simd=$(wasm-objdump -d build/wasm/headlight.wasm | grep -c -E 'f32x4\.(mul|add)' || true)
if ((n_simd < 50)); then
  echo "build-wasm: headlight.wasm holds only $n_simd f32x4 mul/add instructions: SIMD is not on" >&2
  exit 1
fi
echo "build-wasm: headlight.wasm $(stat -c %s build/wasm/headlight.wasm) bytes, $n_simd f32x4 mul/add instructions"
mkdir -p web/public/wasm
cp build/wasm/headlight.js build/wasm/headlight.wasm web/public/wasm/
