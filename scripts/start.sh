#!/usr/bin/env bash
# npm start: install what is missing, build, serve the page on :8080.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
bash scripts/build.sh
echo "Headlight: http://localhost:8080/"
exec npx vite preview --config web/vite.config.ts --port 8080 --strictPort --host 127.0.0.1
