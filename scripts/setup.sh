#!/usr/bin/env bash
# Installs what divan needs from Debian's packages (only what is missing),
# then configures and builds it in ./build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ meson ninja-build pkg-config cmake liblmdb-dev rapidjson-dev libssl-dev doctest-dev
          libcpp-httplib-dev zlib1g-dev libbrotli-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js and npm run the PouchDB interop tests; any node/npm on PATH will do.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The interop tests' npm packages, exactly as pinned in package-lock.json
# (no install scripts: leveldown loads the prebuilt binary it ships).
interop=tests/interop
if [ ! -d "$interop/node_modules" ] || [ "$interop/package-lock.json" -nt "$interop/node_modules" ]; then
  echo "setup: npm ci in $interop"
  if (cd "$interop" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null); then
    touch "$interop/node_modules"
  else
    echo "setup: WARNING: npm ci failed in $interop; the interop tests will fail until it succeeds" >&2
  fi
fi

if [ ! -f build/build.ninja ]; then
  meson setup build
fi
ninja -C build
