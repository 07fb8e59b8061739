#!/usr/bin/env bash
# axe-core for the browser tests' accessibility audits, pinned by tests/e2e/axe/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/../tests/e2e/axe"
if [[ -f node_modules/axe-core/axe.min.js && node_modules/.package-lock.json -nt package-lock.json ]]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "npm not found: installing Debian's nodejs and npm (needed for axe-core)..."
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "Cannot install npm automatically: install Node.js and npm." >&2
    exit 1
  fi
fi
npm ci --no-audit --no-fund --loglevel=error
