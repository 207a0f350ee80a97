#!/usr/bin/env bash
# Installs what the project needs and is missing: Debian packages (as root;
# otherwise prints the one apt-get line to run) and the npm packages (npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(cmake g++ make clang libclang-rt-14-dev emscripten wabt libxsimd-dev doctest-dev nlohmann-json3-dev
                 chromium libopenblas-dev xz-utils fortunes)
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "ensure-deps: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "ensure-deps: missing Debian packages. Run:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# npm packages: install when node_modules is missing or older than the lock.
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  # `npm install` rather than `npm ci`: npm 11 leaves other platforms'
  # optional packages (rollup, esbuild) out of the lock, which `npm ci` refuses.
  echo "ensure-deps: npm install"
  npm install --no-audit --no-fund --loglevel=error
fi
