#!/usr/bin/env bash
# Installs llama.cpp for Node (node-llama-cpp with its prebuilt CPU binaries) outside the
# repository, in ~/.cache/heed-peer (HEED_PEER_DIR), for `heed bench peer` and the GGUF
# test. Idempotent: seconds when already installed. It is not a package.json dependency
# because its lock entries for other platforms' binaries cannot be resolved from every
# registry, which would break `npm ci`.
set -euo pipefail
dir="${HEED_PEER_DIR:-$HOME/.cache/heed-peer}"
version=3.22.1
manifest="$dir/node_modules/node-llama-cpp/package.json"
if [ -f "$manifest" ] && node -e "process.exit(require('$manifest').version === '$version' ? 0 : 1)"; then
  exit 0
fi
echo "setup-peer: installing node-llama-cpp $version into $dir"
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{ "private": true }' > "$dir/package.json"
npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "node-llama-cpp@$version"
