# Sourced by the other scripts: make sure uv exists (ensure-uv.sh) and the locked environment
# is synced.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/ensure-uv.sh"

echo "syncing the locked environment (uv sync --frozen)..." >&2
"${UV[@]}" sync --frozen --quiet --compile-bytecode
