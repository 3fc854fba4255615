# Sourced by the other scripts: make sure uv exists and the locked environment is synced.
# Needs only Python 3.11+ with pip; installs uv with pip when it is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if command -v uv >/dev/null 2>&1; then
  UV=(uv)
elif python3 -m uv --version >/dev/null 2>&1; then
  UV=(python3 -m uv)
else
  echo "uv not found: installing it with pip..." >&2
  python3 -m pip install --quiet uv || python3 -m pip install --quiet --user uv
  UV=(python3 -m uv)
fi

echo "syncing the locked environment (uv sync --frozen)..." >&2
"${UV[@]}" sync --frozen --quiet
