"""``drsctl failback STACK EXECUTION_ID``: bring a finished recovery's workload home.

Starts the failback through the deployment's API (as the sandbox's first user, or, for a
live stack, the Cognito user whose credentials the environment holds, as ``drsctl compare``
does; an admin: only admins fail back) and, with ``--wait``, follows it: each server's step
and each wave action's status as they change, until the failback ends (then: why each
failed wave failed) or waits for the cut-over approval (then: how to approve).
Exits as every command that waits (``drsctl/following.py``): 0 completed, 1 failed or
cancelled, 3 waits for the cut-over approval (a person), 4 still running when
``--timeout`` ran out; 0 once started without ``--wait``. ``--json`` prints the failback
(its last reading) as JSON on standard output, and the progress on standard error.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from drsctl.commands import deployment
from drsctl.following import FOLLOW_SECONDS, ExitCode, exit_code, progress

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable


def register(commands: argparse._SubParsersAction) -> None:
    """Add the subcommand's parser to ``commands``."""
    failback = commands.add_parser(
        "failback",
        help="bring a finished recovery's workload home, wave by wave (admin)",
        description="Starts a failback of a finished RECOVERY execution: per wave, in the "
        "plan's order, replication reversed (AWS sources) or awaited from each failback "
        "client (on premises), the cut-over approved where the plan pauses, the launch back; "
        "then, if asked, forward replication restarted and the recovery instances "
        "terminated.",
    )
    deployment.add_arguments(failback)
    failback.add_argument("execution_id", metavar="EXECUTION_ID", help="the recovery's id")
    failback.add_argument(
        "--restart-replication",
        action="store_true",
        help="restart forward replication of every server once home",
    )
    failback.add_argument(
        "--terminate-recovery-instances",
        action="store_true",
        help="terminate the recovery instances once the workload is home",
    )
    failback.add_argument(
        "--wait", action="store_true", help="follow it until it ends or waits for approval"
    )
    failback.add_argument(
        "--timeout", type=float, default=3600, metavar="SECONDS", help="how long --wait waits"
    )
    failback.add_argument("--json", action="store_true", help="print the failback as JSON")
    failback.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from drsctl.api_client import ApiCallError
    from drsctl.cli import UsageError

    body = {
        "restartReplication": args.restart_replication,
        "terminateRecoveryInstances": args.terminate_recovery_instances,
    }
    say = progress(args.json)
    try:
        api = deployment.target(args).api
        started = api.call("POST", f"/executions/{args.execution_id}/failback", body)
        say(f"failback {started['executionId']} of {args.execution_id} started")
        item = started
        if args.wait:
            path = f"/executions/{started['executionId']}"
            item = follow(lambda: api.call("GET", path), args.timeout, say)
    except (OSError, RuntimeError, ApiCallError) as exc:
        raise UsageError(str(exc)) from exc
    if args.json:
        print(json.dumps(item, indent=2, sort_keys=True))
    return exit_code(item) if args.wait else ExitCode.DONE


def follow(
    read: Callable[[], dict[str, Any]],
    timeout: float,
    say: Callable[[str], None],
    pause: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Read the failback until it ends, waits for approval or ``timeout`` runs out, saying
    each server's step and each wave action's status as they change, and why each failed
    wave failed; the last reading."""
    deadline = time.monotonic() + timeout
    seen: dict[str, str] = {}
    while True:
        item = read()
        for server, state in sorted((item.get("failback") or {}).items()):
            step = state["step"] + (f" ({state['reason']})" if state.get("reason") else "")
            if seen.get(server) != step:
                seen[server] = step
                say(f"  {server}: {step}")
        for wave in item["waves"]:
            for run in wave.get("actionRuns") or ():
                key = f"{wave['name']}#{run['index']}"
                status = run["status"] + (f" ({run['failure']})" if run.get("failure") else "")
                if seen.get(key) != status:
                    seen[key] = status
                    say(f"  wave {wave['name']}, once home: {run['document']} {status}")
        if item["status"] == "PAUSED":
            waiting = [w["name"] for w in item["waves"] if w["status"] == "AWAITING_APPROVAL"]
            say(
                f"waits for the cut-over approval of {', '.join(waiting)}: approve it in the "
                f"console, or POST /executions/{item['executionId']}/resume"
            )
            return item
        if item["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
            say(f"failback {item['executionId']}: {item['status']}")
            for wave in item["waves"]:
                if wave["status"] == "FAILED":
                    say(f"  wave {wave['name']}: {wave.get('reason', 'failed')}")
            return item
        if time.monotonic() > deadline:
            say(f"failback {item['executionId']} is still {item['status']} after {timeout:.0f} s")
            return item
        pause(FOLLOW_SECONDS)
