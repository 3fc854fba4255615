# Sourced (after ensure-env.sh, which sets UV) by scripts that need the console's toolchain:
# Node.js/npm, the locked npm packages (npm ci), and, with NEED_BROWSER=1, a Chromium for
# the browser tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

source "$(dirname "${BASH_SOURCE[0]}")/ensure-node.sh"
if [ ! -f frontend/node_modules/.package-lock.json ] ||
  [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then
  echo "installing the console's locked npm packages (npm ci)..." >&2
  (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "${NEED_BROWSER:-0}" = "1" ] && [ -z "${CHROMIUM_PATH:-}" ]; then
  for candidate in /usr/bin/chromium /usr/bin/google-chrome /usr/bin/google-chrome-stable; do
    if [ -x "$candidate" ]; then
      export CHROMIUM_PATH="$candidate"
      break
    fi
  done
  if [ -z "${CHROMIUM_PATH:-}" ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
      echo "installing Chromium for the browser tests (apt-get install chromium)..." >&2
      apt-get install -y -qq chromium >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null; }
      export CHROMIUM_PATH=/usr/bin/chromium
    else
      echo "the browser tests need Chromium: apt-get install chromium, or set CHROMIUM_PATH" >&2
      exit 1
    fi
  fi
fi
