"""Command-line entry point of ``drsctl``; each subcommand lives in its own module
(``drsctl/commands/``), which declares its arguments and runs it."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from drsctl.commands import SUBCOMMANDS
from infra.packaging_errors import PackagingError
from infra.settings import SettingsError
from infra.stacks import UnknownStackError

if TYPE_CHECKING:
    from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drsctl", description="Operate the DRS orchestrator's deployments."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for subcommand in SUBCOMMANDS:
        subcommand.register(commands)
    return parser


class UsageError(ValueError):
    """Raised when a file named on the command line cannot be used."""


def policy_config(path: Path | None) -> dict | None:
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
        return int(args.run(args))
    except (UnknownStackError, SettingsError, PackagingError, UsageError) as exc:
        sys.stderr.write(f"drsctl {args.command}: {exc}\n")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
