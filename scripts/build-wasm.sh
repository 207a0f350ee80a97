#!/usr/bin/env bash
# WebAssembly build -> build/wasm/headlight.{js,wasm} (the engine) and
# build/wasm/headlight-train.{js,wasm} (the live trainer), copied to web/public/wasm/.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's emcc loads acorn from the system node path.
export NODE_PATH=/usr/share/nodejs
emcmake cmake --preset wasm >/dev/null
cmake --build --preset wasm -j"$(nproc)"
# The modules must really hold 128-bit SIMD instructions.
for module in headlight headlight-train; do
  n_simd=$(wasm-objdump -d "build/wasm/$module.wasm" | grep -c -E 'f32x4\.(mul|add)' || true)
  if ((n_simd < 50)); then
    echo "build-wasm: $module.wasm holds only $n_simd f32x4 mul/add instructions: SIMD is not on" >&2
    exit 1
  fi
  echo "build-wasm: $module.wasm $(stat -c %s "build/wasm/$module.wasm") bytes, $n_simd f32x4 mul/add instructions"
done
mkdir -p web/public/wasm
cp build/wasm/headlight.js build/wasm/headlight.wasm build/wasm/headlight-train.js build/wasm/headlight-train.wasm web/public/wasm/
