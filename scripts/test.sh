#!/usr/bin/env bash
# Run the whole test suite. Extra arguments go to pytest (e.g. -k finder, or -n 0 to run in
# this one process). Tests run on every core (pytest-xdist); a worker idle at the end takes
# tests queued on the others (worksteal), as the fault matrix and the fuzz run are long.
source "$(dirname "$0")/ensure-env.sh"
NEED_BROWSER=1 source "$(dirname "$0")/ensure-console.sh"
exec "${UV[@]}" run --frozen --no-sync pytest -n auto --dist worksteal "$@"
