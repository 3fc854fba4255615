"""Command-line entry point of ``drsctl``; each subcommand lives in its own module."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.offline import REPO_ROOT, UnknownStackError
from infra.packaging import PackagingError
from infra.settings import SettingsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drsctl", description="Operate the DRS orchestrator's deployments."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser(
        "plan",
        help="evaluate a stack's program offline and print what it would deploy",
        description="Runs the Pulumi program for STACK under pulumi's mock runtime (no CLI, "
        "no AWS) with the config in Pulumi.STACK.yaml, and prints every resource it declares.",
    )
    plan.add_argument("stack", help="stack name, e.g. dev (reads Pulumi.<stack>.yaml)")
    plan.add_argument("--json", action="store_true", help="print one JSON document")
    plan.add_argument(
        "--project-dir",
        type=Path,
        default=REPO_ROOT,
        help="directory holding Pulumi.yaml and the stack files (default: this repository)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "plan":
            from drsctl.plan import run_plan

            return run_plan(args.stack, args.json, args.project_dir)
    except (UnknownStackError, SettingsError, PackagingError) as exc:
        sys.stderr.write(f"drsctl {args.command}: {exc}\n")
        return 2
    return 1  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    raise SystemExit(main())
