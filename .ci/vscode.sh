#!/usr/bin/env bash
# CI step for the VS Code extension (vscode-extension/): installs the locked npm dependencies,
# bundles the client, type-checks it, runs the grammar scope and snapshot tests and the keyword
# sync test against grammar/dspx.lark, and packages the .vsix. One line per step with its time;
# a failing step prints its output and stops the script with that step's exit code.
# Idempotent: `npm ci` starts from the lockfile each time and the .vsix is overwritten.
set -euo pipefail

ext="$(cd "$(dirname "${BASH_SOURCE[0]}")/../vscode-extension" && pwd)"
cd "$ext"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
started=$SECONDS

node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$node_major" -lt 20 ]; then
  echo "vscode: Node.js 20 or newer is needed (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

step() {
  local name="$1"
  shift
  local t0=$SECONDS status=0
  "$@" >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    printf 'vscode: %-40s FAILED (exit %s)\n' "$name" "$status"
    grep -v 'Unknown user config "nodedir"' "$log" || true
    exit "$status"
  fi
  printf 'vscode: %-40s ok (%ss)\n' "$name" "$((SECONDS - t0))"
}

step "npm ci" npm ci --no-audit --no-fund --loglevel=error
step "build (esbuild -> out/extension.js)" npm run --silent build
step "type-check (tsc --noEmit)" npx --no-install tsc --noEmit
step "grammar scope tests" npx --no-install vscode-tmgrammar-test \
  -g syntaxes/dspx.tmLanguage.json 'test/grammar/**/*.test.dspx'
step "grammar snapshot tests" npx --no-install vscode-tmgrammar-snap \
  -g syntaxes/dspx.tmLanguage.json 'test/grammar/snapshots/*.dspx'
step "keyword sync with grammar/dspx.lark" node --test test/keywords.test.mjs
grep -E '^# (tests|pass|fail) ' "$log" | sed 's/^/vscode: keyword sync /'
step "package (vsce -> dspx.vsix)" npm run --silent package
printf 'vscode: all steps passed in %ss; %s\n' "$((SECONDS - started))" "$(du -h dspx.vsix | cut -f1) dspx.vsix"
