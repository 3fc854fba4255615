"""``drsctl readiness STACK [--plan NAME]``: can each recovery plan recover now?"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from drsctl.commands import deployment

if TYPE_CHECKING:
    import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add the subcommand's parser to ``commands``."""
    readiness = commands.add_parser(
        "readiness",
        help="evaluate the recovery plans' readiness in a deployment (or the sandbox)",
        description="Asks the deployment's API to evaluate each recovery plan now (every "
        "server in DRS, replicating continuously, lag under the plan's threshold, a recent "
        "snapshot) and prints each plan's state and findings with their fixes. Exits 1 when "
        "a plan needs action (with --strict, also on warnings).",
    )
    deployment.add_arguments(readiness)
    readiness.add_argument("--plan", help="only the plan with this name")
    readiness.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    readiness.add_argument(
        "--history",
        type=int,
        default=0,
        metavar="N",
        help="also print each plan's last N recorded evaluations (schedule, changes, DRS "
        "events), newest first",
    )
    readiness.add_argument(
        "--json", action="store_true", help="print the evaluations (and history) as JSON"
    )
    readiness.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from drsctl.api_client import ApiCallError
    from drsctl.cli import UsageError

    try:
        target = deployment.target(args)
        plans = deployment.every_item(target.api, "/recovery-plans")
        chosen = [p for p in plans if args.plan is None or p["name"] == args.plan]
        if args.plan is not None and not chosen:
            known = ", ".join(sorted(p["name"] for p in plans)) or "none"
            msg = f"{args.stack} has no recovery plan named {args.plan!r} (its plans: {known})"
            raise UsageError(msg)
        if not 0 <= args.history <= 100:  # noqa: PLR2004 - the API's page size
            msg = f"--history must be 0 to 100, got {args.history}"
            raise UsageError(msg)
        results = [
            target.api.call("GET", f"/recovery-plans/{p['planId']}/readiness") for p in chosen
        ]
        histories = {
            p["planId"]: target.api.call(
                "GET", f"/recovery-plans/{p['planId']}/readiness/history?limit={args.history}"
            )["items"]
            for p in chosen
            if args.history
        }
    except (OSError, RuntimeError, ApiCallError) as exc:
        raise UsageError(str(exc)) from exc
    failing = {"actionRequired"} | ({"warnings"} if args.strict else set())
    code = 1 if any(r["state"] in failing for r in results) else 0
    if args.json:
        for result in results:
            if args.history:
                result["history"] = histories.get(result["planId"], [])
        print(json.dumps(results, indent=2, sort_keys=True))
        return code
    for result in results:
        print(
            f"{result['planName']}: {result['state']} "
            f"({result['servers']} servers, evaluated {result['evaluatedAt']})"
        )
        for finding in result["findings"]:
            print(f"  [{finding['severity']}] wave {finding['wave']}: {finding['message']}")
            print(f"      fix: {finding['fix']}")
        for entry in histories.get(result["planId"], []):
            print(
                f"  recorded {entry['evaluatedAt']}: {entry['state']} "
                f"({entry['findingCount']} findings; {entry['trigger']})"
            )
    return code
