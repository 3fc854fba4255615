"""``drsctl config``: one config value of a stack, project defaults applied."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from infra.stacks import REPO_ROOT

if TYPE_CHECKING:
    import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add the subcommand's parser to ``commands``."""
    config = commands.add_parser(
        "config",
        help="print one config value of a stack (project defaults applied)",
        description="Prints KEY from Pulumi.STACK.yaml, with the defaults Pulumi.yaml declares; "
        "the workflows read the region this way so it is configured in one place.",
    )
    config.add_argument("stack")
    config.add_argument("key", help="full key, e.g. aws:region or drs-orchestrator:pollSchedule")
    config.add_argument("--project-dir", type=Path, default=REPO_ROOT)
    config.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from drsctl.cli import UsageError
    from infra.offline import load_stack_config

    value = load_stack_config(args.stack, args.project_dir).get(args.key)
    if value is None:
        msg = f"stack '{args.stack}' has no value for '{args.key}'"
        raise UsageError(msg)
    sys.stdout.write(f"{value}\n")
    return 0
