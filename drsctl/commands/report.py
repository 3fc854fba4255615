"""``drsctl report STACK EXECUTION_ID``: an execution's report, as HTML and JSON files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from infra.offline import REPO_ROOT

if TYPE_CHECKING:
    import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add the subcommand's parser to ``commands``."""
    report = commands.add_parser(
        "report",
        help="write an execution's report (HTML that prints well, and JSON)",
        description="Reads the execution and its DRS job events from the deployment's API "
        "and writes <execution>.html (a timeline of waves and server launches, objective "
        "against actual recovery time, per-server launches and recovery instances, DRS "
        "jobs and job events, operator actions, snapshots chosen) and <execution>.json "
        "(the same data).",
    )
    report.add_argument("stack")
    report.add_argument("execution_id", metavar="EXECUTION_ID")
    report.add_argument(
        "--sandbox",
        type=Path,
        nargs="?",
        const=REPO_ROOT / ".sandbox",
        metavar="WORKDIR",
        help="the deployment of a running drsctl sandbox (default .sandbox/)",
    )
    report.add_argument("--outputs", type=Path, help="the stack's outputs JSON (live)")
    report.add_argument(
        "--out", type=Path, default=Path(), metavar="DIR", help="where to write (default .)"
    )
    report.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import json
    from datetime import UTC, datetime

    from drs_orchestrator.domain.report import render_html, report
    from drs_orchestrator.domain.timestamps import to_iso

    from drsctl.api_client import ApiCallError
    from drsctl.cli import UsageError
    from drsctl.drill.run import live_target, sandbox_targets

    try:
        if args.sandbox is not None:
            [target] = sandbox_targets((args.stack,), args.sandbox)
        else:
            from drsctl.verify import stack_outputs

            target = live_target(args.stack, stack_outputs(args.stack, args.outputs))
        execution = target.api.call("GET", f"/executions/{args.execution_id}")
        events = []
        token: str | None = None
        while True:
            page = target.api.call(
                "GET",
                f"/executions/{args.execution_id}/job-events?limit=100"
                + (f"&nextToken={token}" if token else ""),
            )
            events += page["items"]
            token = page.get("nextToken")
            if not token:
                break
    except (OSError, RuntimeError, ApiCallError) as exc:
        raise UsageError(str(exc)) from exc
    data = report(execution, events, to_iso(datetime.now(UTC)))
    args.out.mkdir(parents=True, exist_ok=True)
    html = args.out / f"{args.execution_id}.html"
    html.write_text(render_html(data), encoding="utf-8")
    document = args.out / f"{args.execution_id}.json"
    document.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"{execution.get('planName')}: {execution['status']}; wrote {html} and {document}")
    return 0
