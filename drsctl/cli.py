"""Command-line entry point of ``drsctl``; each subcommand lives in its own module."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from infra.offline import REPO_ROOT, UnknownStackError, load_stack_config
from infra.packaging import PackagingError
from infra.settings import SettingsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drsctl", description="Operate the DRS orchestrator's deployments."
    )
    commands = parser.add_subparsers(dest="command", required=True)
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
    verify = commands.add_parser(
        "verify",
        help="check a deployed stack: functions, deployed code, schedule, tables, entry points",
        description="Reads the stack's outputs and checks the live deployment with boto3, one "
        "row per check; downloads each function's deployed code and imports its handler in a "
        "fresh interpreter. Exits 1 on any failed check.",
    )
    verify.add_argument("stack")
    verify.add_argument(
        "--outputs",
        type=Path,
        help="JSON from 'pulumi stack output --json' (default: run that command)",
    )
    compare = commands.add_parser(
        "compare",
        help="compare two stacks in kind (offline, or --live through boto3)",
        description="Reports what differs in kind between two stacks: resource counts, "
        "handlers, runtimes, memory and timeouts, environment variable names, package hashes, "
        "schedule, state machine definition; names, ARNs and tags are ignored. Exits 1 when "
        "they differ.",
    )
    compare.add_argument("first")
    compare.add_argument("second")
    compare.add_argument("--live", action="store_true", help="compare the deployed stacks")
    compare.add_argument("--outputs-first", type=Path, help="outputs JSON of the first stack")
    compare.add_argument("--outputs-second", type=Path, help="outputs JSON of the second stack")
    compare.add_argument("--project-dir", type=Path, default=REPO_ROOT)
    compare.add_argument(
        "--drill",
        type=Path,
        metavar="PLAN_FILE",
        help="drill this plan file (YAML or JSON: protectionGroups, recoveryPlan) in both "
        "deployments and compare how they behaved",
    )
    compare.add_argument(
        "--sandbox",
        type=Path,
        nargs="?",
        const=REPO_ROOT / ".sandbox",
        metavar="WORKDIR",
        help="with --drill: the deployments of a running drsctl sandbox (default .sandbox/)",
    )
    compare.add_argument("--json", type=Path, metavar="FILE", help="with --drill: traces and diff")
    compare.add_argument(
        "--keep-instances", action="store_true", help="with --drill: leave drill instances"
    )
    compare.add_argument(
        "--timeout", type=float, default=3600, help="with --drill: seconds a drill may take"
    )
    sandbox = commands.add_parser(
        "sandbox",
        help="run the whole orchestrator on localhost: AWS emulated, DRS simulated, console",
        description="Evaluates each stack offline, deploys its run-time resources into moto "
        "(server mode) with a DRS simulator in front, runs the real handlers from their "
        "deployment packages, the real state machine and the finder's schedule, and serves "
        "each deployment's API and console on 127.0.0.1. Ctrl-C stops everything.",
    )
    sandbox.add_argument(
        "stacks", nargs="*", default=["dev"], help="stacks to run side by side (default: dev)"
    )
    sandbox.add_argument(
        "--port", type=int, default=8080, help="first deployment's port (0: any free port)"
    )
    sandbox.add_argument(
        "--time-scale",
        type=float,
        default=20.0,
        help="how much faster than AWS time schedules and waits run (default 20)",
    )
    sandbox.add_argument(
        "--drs-phase-seconds",
        type=float,
        default=3.0,
        help="seconds a simulated DRS job spends in each phase (default 3)",
    )
    sandbox.add_argument(
        "--fail-server",
        action="append",
        default=[],
        metavar="SOURCE_SERVER_ID",
        help="simulate a failed launch of this source server (repeatable)",
    )
    sandbox.add_argument(
        "--throttle-rate",
        type=float,
        default=0.0,
        help="share of StartRecovery/DescribeJobs calls answered with ThrottlingException",
    )
    sandbox.add_argument(
        "--chaos",
        type=float,
        default=0.0,
        metavar="RATE",
        help="share of the wave runner's and finder's AWS calls that meet a random fault "
        "(throttle, 5xx, answer lost, function dying before/after the call)",
    )
    sandbox.add_argument(
        "--chaos-seed", type=int, default=0, help="seed of --chaos's random faults"
    )
    sandbox.add_argument(
        "--groups",
        default="admin",
        help="comma-separated Cognito groups of the sandbox user (admin, operator, read-only)",
    )
    sandbox.add_argument("--no-seed", action="store_true", help="start with no groups or plans")
    sandbox.add_argument("--no-console", action="store_true", help="do not build or serve it")
    sandbox.add_argument("--workdir", type=Path, help="logs and packages (default .sandbox/)")
    config = commands.add_parser(
        "config",
        help="print one config value of a stack (project defaults applied)",
        description="Prints KEY from Pulumi.STACK.yaml, with the defaults Pulumi.yaml declares; "
        "the workflows read the region this way so it is configured in one place.",
    )
    config.add_argument("stack")
    config.add_argument("key", help="full key, e.g. aws:region or drs-orchestrator:pollSchedule")
    config.add_argument("--project-dir", type=Path, default=REPO_ROOT)
    return parser


class UsageError(ValueError):
    """Raised when a file named on the command line cannot be used."""


def _policy_config(path: Path | None) -> dict | None:
    if path is None:
        return None
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        msg = f"cannot read policy config {path}: {exc}"
        raise UsageError(msg) from exc
    if not isinstance(config, dict):
        msg = f"policy config {path} must be a JSON object keyed by policy name"
        raise UsageError(msg)
    return config


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "plan":
            from drsctl.plan import run_plan

            stacks = [] if args.all else [args.stack]
            return run_plan(
                stacks,
                args.json,
                args.project_dir,
                _policy_config(args.policy_config),
                bootstrap=args.bootstrap,
            )
        if args.command == "verify":
            from drsctl.verify import run_verify

            try:
                return run_verify(args.stack, args.outputs)
            except (OSError, ValueError, RuntimeError) as exc:
                raise UsageError(str(exc)) from exc
        if args.command == "compare" and args.drill:
            from drsctl.drill.command import run_drill_command

            try:
                return run_drill_command(args)
            except (OSError, RuntimeError, ValueError) as exc:
                raise UsageError(str(exc)) from exc
        if args.command == "compare":
            from drsctl.compare import run_compare

            try:
                return run_compare(
                    args.first,
                    args.second,
                    live=args.live,
                    outputs=(args.outputs_first, args.outputs_second),
                    project_dir=args.project_dir,
                )
            except (OSError, RuntimeError) as exc:
                raise UsageError(str(exc)) from exc
        if args.command == "sandbox":
            from drsctl.sandbox.command import run_sandbox

            return run_sandbox(args)
        if args.command == "config":
            value = load_stack_config(args.stack, args.project_dir).get(args.key)
            if value is None:
                msg = f"stack '{args.stack}' has no value for '{args.key}'"
                raise UsageError(msg)
            sys.stdout.write(f"{value}\n")
            return 0
    except (UnknownStackError, SettingsError, PackagingError, UsageError) as exc:
        sys.stderr.write(f"drsctl {args.command}: {exc}\n")
        return 2
    return 1  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    raise SystemExit(main())
