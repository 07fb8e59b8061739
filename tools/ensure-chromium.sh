#!/usr/bin/env bash
# Make sure a Chromium exists for the browser tests. Playwright cannot download its
# own browsers on this network, so the system package is used: Debian's `chromium`.
set -euo pipefail
if [[ -n "${CHROMIUM_PATH:-}" && -x "${CHROMIUM_PATH}" ]]; then exit 0; fi
for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [[ -x "$candidate" ]]; then exit 0; fi
done
echo "Chromium not found: installing Debian's chromium package (needed by the browser tests)..."
if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium >/dev/null
elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
  sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "Cannot install Chromium automatically. Install it, or set CHROMIUM_PATH to a Chromium binary." >&2
  exit 1
fi
command -v chromium >/dev/null && echo "Installed $(chromium --version 2>/dev/null || echo chromium)"
