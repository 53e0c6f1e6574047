#!/usr/bin/env bash
# Install what the browser tests (tests/browser/) need when it is missing: Debian's Chromium, its
# chromedriver, and a CJK font (without one every Chinese character renders as a box in screenshots).
# Non-interactive and idempotent: does nothing when everything is present.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
[ -n "$(fc-list :lang=zh 2>/dev/null)" ] || missing+=(fonts-noto-cjk)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# (Debian's chromium wrapper prints a harmless shell warning on stderr on some machines)
/usr/bin/chromium --version 2>/dev/null
/usr/bin/chromedriver --version
echo "CJK font: $(fc-list :lang=zh family | sed -n 1p)"
