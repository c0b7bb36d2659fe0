#!/usr/bin/env bash
# Install Debian's chromium + chromium-driver when either is missing or their versions differ.
set -euo pipefail
ver() { "$1" --version 2>/dev/null | grep -oE '[0-9]+(\.[0-9]+){3}' | head -1 || true; }
if [ -n "$(ver chromium)" ] && [ "$(ver chromium)" = "$(ver chromedriver)" ]; then
  echo "chromium $(ver chromium) and chromedriver present"
  exit 0
fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=300 -y -q update
$SUDO apt-get -o DPkg::Lock::Timeout=300 -y -q install --no-install-recommends chromium chromium-driver fonts-liberation
echo "installed chromium $(ver chromium) / chromedriver $(ver chromedriver)"
