#!/usr/bin/env bash
# The main job: Heed running in a real VS Code you open in your browser.
#
# Usage: bash scripts/start.sh        (or: npm start)
#   HEED_PORT=8080   port on 127.0.0.1 to serve VS Code on
#
# Installs the project's packages if needed, installs code-server and Chromium
# (scripts/setup-e2e.sh, cached outside the repository), packages the extension into
# dist/heed.vsix, then serves sample-workspace/ with it installed at
# http://127.0.0.1:$HEED_PORT/. Ctrl-C stops code-server and every process it started.
set -euo pipefail

cd "$(dirname "$0")/.."
port="${HEED_PORT:-8080}"

if [ ! -d node_modules ]; then
  echo "start: installing the project's packages (npm ci)"
  npm ci
fi

bash scripts/setup-e2e.sh

echo "start: packaging the extension (npm run package)"
npm run package
[ -f dist/heed.vsix ] || { echo "start: error: npm run package did not produce dist/heed.vsix" >&2; exit 1; }

echo "start: starting VS Code (code-server) on http://127.0.0.1:$port/"
# exec: the Node process receives Ctrl-C itself and ends code-server's whole tree.
exec node scripts/codeServer.cjs --vsix dist/heed.vsix --folder sample-workspace --port "$port"
