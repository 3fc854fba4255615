#!/usr/bin/env bash
# Evaluate a stack's Pulumi program offline (pulumi mocks, no CLI, no AWS) and print what it
# would deploy, with the policy pack's verdicts. Usage: scripts/plan.sh <stack>|--all [--json]
source "$(dirname "$0")/ensure-env.sh"
# The program builds the operator console it deploys: npm packages first.
source "$(dirname "$0")/ensure-console.sh"
if [ $# -eq 0 ]; then
  echo "usage: scripts/plan.sh <stack>|--all [--json]   (stacks: $(ls Pulumi.*.yaml | sed 's/Pulumi\.\(.*\)\.yaml/\1/' | tr '\n' ' '))" >&2
  exit 2
fi
exec "${UV[@]}" run --frozen --no-sync drsctl plan "$@"
