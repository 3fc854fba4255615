"""The ``drsctl sandbox`` command: options checked, sandbox started, Ctrl-C stops it."""

from __future__ import annotations

import errno
import os
import signal
import sys
import time
from typing import TYPE_CHECKING, Any, NoReturn

from drsctl.collector import tune_collector
from drsctl.sandbox.app import Sandbox, SandboxBusyError, SandboxOptions
from infra.components.identity import ROLE_GROUPS

if TYPE_CHECKING:
    import argparse

ROLES = tuple(ROLE_GROUPS)


class SandboxUsageError(ValueError):
    """Raised when the command line asks for a sandbox that cannot run."""


def options_from(args: argparse.Namespace) -> SandboxOptions:
    groups = tuple(g.strip() for g in args.groups.split(",") if g.strip())
    unknown = sorted(set(groups) - set(ROLES))
    if unknown or not groups:
        msg = f"--groups: {', '.join(unknown) or '(none)'} not among {', '.join(ROLES)}"
        raise SandboxUsageError(msg)
    if not 0 <= args.throttle_rate <= 1:
        msg = f"--throttle-rate: {args.throttle_rate} is not between 0 and 1"
        raise SandboxUsageError(msg)
    if not 0 <= args.chaos < 1:
        msg = f"--chaos: {args.chaos} is not at least 0 and below 1"
        raise SandboxUsageError(msg)
    if args.time_scale < 1 or args.drs_phase_seconds <= 0:
        msg = "--time-scale must be at least 1 and --drs-phase-seconds above 0"
        raise SandboxUsageError(msg)
    if len(set(args.stacks)) != len(args.stacks):
        msg = f"stacks named twice: {' '.join(args.stacks)}"
        raise SandboxUsageError(msg)
    options = SandboxOptions(
        stacks=tuple(args.stacks),
        port=args.port,
        time_scale=args.time_scale,
        drs_phase_seconds=args.drs_phase_seconds,
        throttle_rate=args.throttle_rate,
        chaos_rate=args.chaos,
        chaos_seed=args.chaos_seed,
        drop_drs_events=getattr(args, "drop_drs_events", False),
        failing_servers=tuple(args.fail_server),
        groups=groups,
        seed=not args.no_seed,
        targets=not getattr(args, "no_targets", False),
        console=not args.no_console,
    )
    if args.workdir:
        options.workdir = args.workdir
    options.packages = getattr(args, "packages", None)
    return options


def run_sandbox(args: argparse.Namespace) -> int:
    try:
        options = options_from(args)
    except SandboxUsageError as exc:
        sys.stderr.write(f"drsctl sandbox: {exc}\n")
        return 2
    # Only a list append in the handler: an Event set from a signal handler deadlocks when
    # the signal lands while the main thread holds the Event's lock inside wait().
    signals: list[int] = []

    def on_signal(signum: int, _frame: Any) -> None:
        signals.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    tune_collector(freeze=False)  # a process holding moto for its whole life
    sandbox = Sandbox(options, say=lambda line: print(line, flush=True))
    try:
        try:
            sandbox.start()
        except SandboxBusyError as exc:
            sys.stderr.write(f"drsctl sandbox: {exc}\n")
            return 2
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            sys.stderr.write(
                f"drsctl sandbox: port {options.port} (or the next ones) is in use; is another "
                "sandbox running? Stop it, or pass --port (0 for any free port)\n"
            )
            return 2
        # What starting made (moto, models, modules) left out of every later collection.
        tune_collector(freeze=True)
        for stack, running in sandbox.deployments.items():
            print(
                f"{stack}: console {running.site.url}  API {running.site.url}/api  "
                f"signed in as {running.site.user.username} ({', '.join(options.groups)})",
                flush=True,
            )
        print(f"logs: {options.workdir / 'logs'}   Ctrl-C stops the sandbox", flush=True)
        print(
            "state lives in memory: stopping the sandbox loses every table, execution and DRS "
            "job; the next start begins again from the seed",
            flush=True,
        )
        print(sandbox.ready_line(), flush=True)
        while not signals:
            time.sleep(0.2)
        print("stopping the sandbox...", flush=True)
    finally:
        sandbox.stop()
    print("sandbox stopped", flush=True)
    return 0


def exit_now(code: int) -> NoReturn:
    """End the sandbox's process once everything it started is stopped and its files are
    closed, without the interpreter's teardown: that frees moto's backends, the models and
    every module object by object, about 2 s of CPU after ``sandbox stopped`` for nothing
    anyone waits on. Output is flushed first."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
