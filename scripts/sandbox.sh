#!/usr/bin/env bash
# The whole orchestrator on localhost: ./scripts/sandbox.sh [stack ...] [--port N] ...
# (every option: ./scripts/sandbox.sh --help). Ctrl-C stops it.
source "$(dirname "$0")/ensure-env.sh"
source "$(dirname "$0")/ensure-console.sh"
exec "${UV[@]}" run --frozen --no-sync drsctl sandbox "$@"
