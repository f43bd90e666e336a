#!/usr/bin/env bash
# Install headless Chromium (Debian 12 package `chromium`) for the HTTP catalog page and CORS tests
# (test/e2e/http-browser.test.ts). Idempotent; run as root.
set -euo pipefail
say() { printf '[setup-chromium] %s\n' "$*"; }
if command -v chromium >/dev/null 2>&1; then
  say "already installed: $(chromium --version 2>/dev/null | tail -1)"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup-chromium: run me as root (it installs the Debian package chromium)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
say "installed: $(chromium --version 2>/dev/null | tail -1)"
