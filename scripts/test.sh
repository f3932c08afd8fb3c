#!/usr/bin/env bash
# The whole test suite: build, type-check, package the extension, set up the real VS Code
# (code-server + Chromium, cached outside the repo), then run every test with node's
# test runner. HEED_SKIP_E2E=1 skips the end-to-end test and its set-up.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || npm ci
echo "== build and package"
npm run --silent package
echo "== type-check"
npx tsc -p . --noEmit
if [ "${HEED_SKIP_E2E:-0}" != "1" ]; then
  echo "== end-to-end set-up"
  bash scripts/setup-e2e.sh
fi
echo "== python3 for the training recipe's checks"
bash scripts/apt-install.sh python3
echo "== llama.cpp for the GGUF test (cached outside the repo)"
bash scripts/setup-peer.sh
echo "== tests"
mapfile -t tests < <(find out/test -name '*.test.js' | sort)
node --test --test-concurrency=1 "${tests[@]}"
