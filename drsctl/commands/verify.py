"""``drsctl verify``: check a deployed stack."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add the subcommand's parser to ``commands``."""
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
    verify.add_argument("--json", action="store_true", help="print the checks as JSON")
    verify.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from drsctl.cli import UsageError
    from drsctl.verify import run_verify

    try:
        return run_verify(args.stack, args.outputs, as_json=args.json)
    except (OSError, ValueError, RuntimeError) as exc:
        raise UsageError(str(exc)) from exc
