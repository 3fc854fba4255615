"""``drsctl plan``: evaluate stacks offline, with the policy pack's verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from infra.stacks import REPO_ROOT

if TYPE_CHECKING:
    import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add the subcommand's parser to ``commands``."""
    plan = commands.add_parser(
        "plan",
        help="evaluate stacks offline: what they would deploy and the policy pack's verdicts",
        description="Runs the Pulumi program for STACK under pulumi's mock runtime (no CLI, "
        "no AWS) with the config in Pulumi.STACK.yaml, prints every resource it declares and "
        "every policy violation, and exits 1 on a mandatory one.",
    )
    target = plan.add_mutually_exclusive_group(required=True)
    target.add_argument("stack", nargs="?", help="stack name, e.g. dev (reads Pulumi.<stack>.yaml)")
    target.add_argument(
        "--all",
        action="store_true",
        help="every stack, and the checks across stacks (shared names, cross references)",
    )
    plan.add_argument("--json", action="store_true", help="print one JSON document")
    plan.add_argument(
        "--bootstrap",
        action="store_true",
        help="evaluate the bootstrap program (deployment bucket, CI roles) of the stack(s)",
    )
    plan.add_argument(
        "--target-account",
        metavar="ACCOUNT",
        help="evaluate the target-account program (the role STACK's deployment assumes in "
        "ACCOUNT, one of its drsTargets) as stack STACK.ACCOUNT",
    )
    plan.add_argument(
        "--orchestrator-account",
        metavar="ACCOUNT",
        help="with --target-account and no target/Pulumi.STACK.ACCOUNT.yaml: the account the "
        "deployment runs in (its function roles are the ones trusted)",
    )
    plan.add_argument(
        "--project-dir",
        type=Path,
        default=REPO_ROOT,
        help="directory holding Pulumi.yaml and the stack files (default: this repository)",
    )
    plan.add_argument(
        "--policy-config",
        type=Path,
        help="policy pack config JSON, as given to 'pulumi preview --policy-pack-config'",
    )
    plan.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from drsctl.cli import UsageError, policy_config
    from drsctl.plan import run_plan, run_target_plan

    if args.target_account or args.orchestrator_account:
        if args.all or args.bootstrap or not args.target_account:
            msg = "--target-account takes one STACK, without --all or --bootstrap"
            raise UsageError(msg)
        return run_target_plan(
            args.stack,
            args.target_account,
            args.orchestrator_account,
            args.json,
            args.project_dir,
            policy_config(args.policy_config),
        )
    stacks = [] if args.all else [args.stack]
    return run_plan(
        stacks,
        args.json,
        args.project_dir,
        policy_config(args.policy_config),
        bootstrap=args.bootstrap,
    )
