#!/usr/bin/env bash
# Run the whole test suite. Extra arguments go to pytest (e.g. -k finder, or -n 0 to run in
# this one process). Tests run on every core (pytest-xdist) with one worker more than the
# machine has cores (DRS_TEST_WORKERS sets another count): the tests that start a sandbox
# wait on its simulated clock for about half their time, and a worker waiting leaves its core
# idle. Tests go one at a time to whichever worker is free, except that a module starting a
# sandbox goes whole to one worker, first (`--dist loadscope` with tests/conftest.py's
# scheduler): split, each part would start the module's sandbox again.
#
# --quick (first argument): the loop for a change, everything but the fault-injection
# matrices and the tests that start a sandbox process (markers `matrix` and `sandbox`);
# the full command, without it, is the one CI runs.
quick=0
if [ "${1:-}" = "--quick" ]; then
  quick=1
  shift
fi
source "$(dirname "$0")/ensure-env.sh"
# The suite starts many Python processes (a worker per core, sandboxes, the CLI under test)
# importing the same modules: let them keep bytecode (in the ignored __pycache__ folders),
# pytest's rewritten test modules included, even where the environment turns it off
# (PYTHONDONTWRITEBYTECODE, common in containers). Each worker's collection takes half the
# CPU once the rewritten modules are kept.
unset PYTHONDONTWRITEBYTECODE
workers="${DRS_TEST_WORKERS:-$(( $(getconf _NPROCESSORS_ONLN) + 1 ))}"
if [ "$quick" = "1" ]; then
  source "$(dirname "$0")/ensure-console.sh"
  exec "${UV[@]}" run --frozen --no-sync pytest -n "$workers" --dist loadscope \
    -m "not matrix and not sandbox" "$@"
fi
NEED_BROWSER=1 source "$(dirname "$0")/ensure-console.sh"
# What the sandbox tests deploy, built here when its inputs changed (as `pulumi up` and the
# sandbox build them), once, before the workers start, rather than by the first test that
# needs it while the others wait on its lock: the function packages (each proven with the
# runtime's Python), beside the console (when a source is newer than its build).
"${UV[@]}" run --frozen --no-sync python -c \
  'from infra.functions import CATALOGUE; from infra.packaging import build_and_prove; [build_and_prove(spec) for spec in CATALOGUE.values()]' &
packages=$!
"${UV[@]}" run --frozen --no-sync python -c \
  'import sys; from infra.console import build_console; build_console(say=lambda line: print(line, file=sys.stderr))'
wait "$packages"
exec "${UV[@]}" run --frozen --no-sync pytest -n "$workers" --dist loadscope "$@"
