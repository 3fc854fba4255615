"""``drsctl compare``: two stacks in kind, or (``--drill``) in behaviour."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from infra.stacks import REPO_ROOT

if TYPE_CHECKING:
    import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add the subcommand's parser to ``commands``."""
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
    compare.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from drsctl.cli import UsageError

    if args.drill:
        from drsctl.drill.command import run_drill_command

        try:
            return run_drill_command(args)
        except (OSError, RuntimeError, ValueError) as exc:
            raise UsageError(str(exc)) from exc
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
