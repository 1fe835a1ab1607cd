#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium) for the headless replay checks (test/e2e/arena.test.ts
# opens the HTML replays with playwright-core). Idempotent: does nothing when it is already there.
# Needs root (or sudo) for apt-get.
set -euo pipefail

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
  echo "browser: installing chromium"
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

# Report whether it starts headless here (the same flags the tests use).
if version="$(/usr/bin/chromium --headless --no-sandbox --disable-gpu --version 2>/dev/null)"; then
  echo "browser: ${version}"
else
  echo "browser: WARNING /usr/bin/chromium is installed but does not start" >&2
fi
