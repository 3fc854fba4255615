"""What an operator does through the API, from the command line: for scripts, and for the
day the console is unreachable.

``drsctl plans STACK [PLAN]`` lists the recovery plans or shows one; ``drsctl executions
STACK [EXECUTION_ID]`` lists the executions (``--status``, ``--plan``) or shows one;
``drsctl drill STACK PLAN`` and ``drsctl recover STACK PLAN [--point-in-time T]`` start
one (a recovery is an admin's); ``drsctl approve``, ``cancel`` and ``terminate`` (the
recovery instances of a finished drill) steer one. With ``--wait`` a command follows the
execution, saying each change, until it ends or waits for a person; with ``--json`` it
prints the API's answer (the last reading, when it waited) as one JSON document on
standard output and its progress on standard error. Exit codes: ``drsctl/following.py``
(0 done, 1 failed or cancelled, 2 not carried out, 3 waits for a person, 4 still running
when ``--timeout`` ran out).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from drsctl.commands import deployment
from drsctl.following import ExitCode, exit_code, follow_execution, progress
from drsctl.tables import table_lines

if TYPE_CHECKING:
    import argparse

    from drsctl.api_client import ApiClient

STATUSES = ("PENDING", "RUNNING", "PAUSED", "CANCELLING", "COMPLETED", "FAILED", "CANCELLED")


def register(commands: argparse._SubParsersAction) -> None:
    """Add the operator's subcommands to ``commands``."""
    plans = _parser(commands, "plans", "list the recovery plans, or show one", _plans)
    plans.add_argument("plan", nargs="?", metavar="PLAN", help="a plan's name or id")
    executions = _parser(
        commands, "executions", "list the executions (newest first), or show one", _executions
    )
    executions.add_argument("execution_id", nargs="?", metavar="EXECUTION_ID")
    executions.add_argument("--status", choices=STATUSES, help="only executions in this status")
    executions.add_argument("--plan", metavar="PLAN", help="only the executions of this plan")
    for name, summary, mode in (
        ("drill", "start a drill of a plan (recovery instances you terminate after)", "DRILL"),
        ("recover", "start a real recovery of a plan (admin)", "RECOVERY"),
    ):
        start = _parser(commands, name, summary, _start, waits=True)
        start.add_argument("plan", metavar="PLAN", help="the plan's name or id")
        start.set_defaults(mode=mode)
        if mode == "RECOVERY":
            start.add_argument(
                "--point-in-time",
                metavar="TIME",
                help="recover each server from its newest snapshot at or before TIME (UTC, "
                "e.g. 2026-11-29T03:00:00Z)",
            )
    for name, summary, action in (
        ("approve", "approve the waves a paused execution waits for", "resume"),
        ("cancel", "cancel an execution (launches already asked for are followed)", "cancel"),
        ("terminate", "terminate the recovery instances of a finished drill", None),
    ):
        steer = _parser(commands, name, summary, _steer, waits=action is not None)
        steer.add_argument("execution_id", metavar="EXECUTION_ID")
        steer.set_defaults(action=action or "terminate-instances")


def _parser(
    commands: argparse._SubParsersAction,
    name: str,
    summary: str,
    run: Any,
    *,
    waits: bool = False,
) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=summary, description=summary[0].upper() + summary[1:])
    deployment.add_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    if waits:
        parser.add_argument(
            "--wait",
            action="store_true",
            help="follow it until it ends or waits for a person (exit 0, 1 or 3)",
        )
        parser.add_argument(
            "--timeout", type=float, default=3600, metavar="SECONDS", help="how long --wait waits"
        )
    parser.set_defaults(run=run)
    return parser


def _call(args: argparse.Namespace, work: Any) -> int:
    """Run ``work(api)`` against the deployment; what stops it is exit 2, said plainly."""
    from drsctl.api_client import ApiCallError
    from drsctl.cli import UsageError

    try:
        return int(work(deployment.target(args).api))
    except (OSError, RuntimeError, ApiCallError, LookupError) as exc:
        raise UsageError(str(exc)) from exc


def _out(args: argparse.Namespace, answer: Any, lines: list[str]) -> None:
    print(json.dumps(answer, indent=2, sort_keys=True) if args.json else "\n".join(lines))


def find_plan(api: ApiClient, stack: str, wanted: str) -> dict[str, Any]:
    """The plan named ``wanted`` (or whose id it is); a LookupError naming the plans."""
    plans = deployment.every_item(api, "/recovery-plans")
    for plan in plans:
        if wanted in (plan["name"], plan["planId"]):
            return dict(plan)
    known = ", ".join(sorted(p["name"] for p in plans)) or "none"
    msg = f"{stack} has no recovery plan named {wanted!r} (its plans: {known})"
    raise LookupError(msg)


def _plans(args: argparse.Namespace) -> int:
    def work(api: ApiClient) -> int:
        if args.plan:
            plan = find_plan(api, args.stack, args.plan)
            lines = [f"{plan['name']} ({plan['planId']}, version {plan.get('version')})"]
            for wave in plan["waves"]:
                after = f" after {', '.join(wave['dependsOn'])}" if wave.get("dependsOn") else ""
                pause = ", pauses for approval" if wave.get("pauseBefore") else ""
                groups = ", ".join(wave["protectionGroups"])
                lines.append(f"  wave {wave['name']}{after}{pause}: {groups}")
            _out(args, plan, lines)
            return ExitCode.DONE
        plans = deployment.every_item(api, "/recovery-plans")
        rows = [
            [p["name"], p["planId"], str(len(p["waves"])), str(p.get("version", ""))]
            for p in sorted(plans, key=lambda p: p["name"])
        ]
        _out(args, plans, table_lines(rows, ["PLAN", "ID", "WAVES", "VERSION"]))
        return ExitCode.DONE

    return _call(args, work)


def _executions(args: argparse.Namespace) -> int:
    def work(api: ApiClient) -> int:
        if args.execution_id:
            item = api.call("GET", f"/executions/{args.execution_id}")
            lines = [
                f"{item['executionId']}: {item.get('mode')} of {item.get('planName')}, "
                f"{item['status']}" + (f" ({item['reason']})" if item.get("reason") else ""),
                *(
                    f"  wave {w['name']}: {w['status']}"
                    + (f" ({w['reason']})" if w.get("reason") else "")
                    for w in item["waves"]
                ),
            ]
            _out(args, item, lines)
            return ExitCode.DONE
        query = {"status": args.status} if args.status else {}
        items = deployment.every_item(api, "/executions", query=query)
        if args.plan:
            plan = find_plan(api, args.stack, args.plan)
            items = [i for i in items if i.get("planId") == plan["planId"]]
        items.sort(key=lambda i: str(i.get("startedAt", "")), reverse=True)
        rows = [
            [
                i["executionId"],
                str(i.get("mode")),
                i["status"],
                str(i.get("planName")),
                i.get("startedAt", ""),
            ]
            for i in items
        ]
        _out(args, items, table_lines(rows, ["EXECUTION", "MODE", "STATUS", "PLAN", "STARTED"]))
        return ExitCode.DONE

    return _call(args, work)


def _waited(args: argparse.Namespace, api: ApiClient, execution_id: str) -> int:
    """Follow the execution (``--wait``) and exit as it stands, or say it was asked."""
    hint = f": drsctl approve {args.stack} {execution_id}"
    item = follow_execution(
        lambda: api.call("GET", f"/executions/{execution_id}"),
        args.timeout,
        progress(args.json),
        approve_hint=hint,
    )
    if args.json:
        _out(args, item, [])
    return exit_code(item)


def _start(args: argparse.Namespace) -> int:
    def work(api: ApiClient) -> int:
        plan = find_plan(api, args.stack, args.plan)
        body: dict[str, Any] = {"mode": args.mode}
        if getattr(args, "point_in_time", None):
            body["pointInTime"] = args.point_in_time
        started = api.call("POST", f"/recovery-plans/{plan['planId']}/executions", body)
        what = "drill" if args.mode == "DRILL" else "recovery"
        progress(args.json)(f"{what} {started['executionId']} of {plan['name']} started")
        if args.wait:
            return _waited(args, api, started["executionId"])
        if args.json:
            _out(args, started, [])
        return ExitCode.DONE

    return _call(args, work)


def _steer(args: argparse.Namespace) -> int:
    def work(api: ApiClient) -> int:
        answer = api.call("POST", f"/executions/{args.execution_id}/{args.action}")
        progress(args.json)(f"{args.execution_id}: {args.action} asked")
        if getattr(args, "wait", False):
            return _waited(args, api, args.execution_id)
        if args.json:
            _out(args, answer, [])
        return ExitCode.DONE

    return _call(args, work)
