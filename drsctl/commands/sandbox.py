"""``drsctl sandbox``: the whole orchestrator on localhost."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add the subcommand's parser to ``commands``."""
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
        "--drop-drs-events",
        action="store_true",
        help="lose every event DRS sends (its delivery is best effort): waves then start "
        "on the wave runner's ticks alone",
    )
    sandbox.add_argument(
        "--groups",
        default="admin",
        help="comma-separated Cognito groups of the sandbox user (admin, operator, read-only)",
    )
    sandbox.add_argument("--no-seed", action="store_true", help="start with no groups or plans")
    sandbox.add_argument(
        "--no-targets",
        action="store_true",
        help="no simulated DRS targets (by default a stack without drsTargets gets two: "
        "111122223333/us-west-2 and 444455556666/eu-west-1)",
    )
    sandbox.add_argument("--no-console", action="store_true", help="do not build or serve it")
    sandbox.add_argument("--workdir", type=Path, help="logs and packages (default .sandbox/)")
    sandbox.add_argument(
        "--packages",
        type=Path,
        help="where function packages are unpacked, one directory per digest, shared by "
        "every sandbox given the same directory (default WORKDIR/packages)",
    )
    sandbox.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from drsctl.sandbox.command import exit_now, run_sandbox

    exit_now(run_sandbox(args))
