#!/usr/bin/env bash
# Run the whole test suite. Extra arguments go to pytest (e.g. -k finder).
source "$(dirname "$0")/ensure-env.sh"
NEED_BROWSER=1 source "$(dirname "$0")/ensure-console.sh"
exec "${UV[@]}" run --frozen --no-sync pytest "$@"
