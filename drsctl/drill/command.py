"""``drsctl compare A B --drill PLAN_FILE [--sandbox [WORKDIR]]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drsctl.drill.planfile import load_plan_file
from drsctl.drill.run import live_target, run_drill_comparison, sandbox_targets

if TYPE_CHECKING:
    import argparse


def run_drill_command(args: argparse.Namespace) -> int:
    if args.first == args.second:
        msg = f"compare two different stacks, not {args.first} with itself"
        raise ValueError(msg)
    planfile = load_plan_file(args.drill)  # the whole file is checked before any call
    if args.sandbox is not None:
        targets = sandbox_targets((args.first, args.second), args.sandbox)
    else:
        from drsctl.verify import stack_outputs

        files = (args.outputs_first, args.outputs_second)
        targets = [
            live_target(stack, stack_outputs(stack, path))
            for stack, path in zip((args.first, args.second), files, strict=True)
        ]
    return run_drill_comparison(
        targets,
        planfile,
        keep_instances=args.keep_instances,
        json_out=args.json,
        timeout=args.timeout,
    )
