#!/usr/bin/env bash
# npm run build:single: one self-contained HTML file with the default model,
# web/dist-single/headlight.html, that works when opened from disk (file://).
# Arguments go to scripts/build-single.mjs (--out FILE, --model NAME).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
bash scripts/build-wasm.sh >/dev/null
node scripts/build-single.mjs "$@"
