#!/usr/bin/env bash
# Everything the page and the tests need: native tools, wasm module, page.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-native.sh
bash scripts/build-wasm.sh
npx vite build --config web/vite.config.ts --logLevel warn
