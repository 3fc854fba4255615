"""``drsctl report STACK EXECUTION_ID``: an execution's report, as HTML and JSON files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from drsctl.commands import deployment

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
    deployment.add_arguments(report)
    report.add_argument("execution_id", metavar="EXECUTION_ID")
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

    try:
        target = deployment.target(args)
        execution = target.api.call("GET", f"/executions/{args.execution_id}")
        events = deployment.every_item(target.api, f"/executions/{args.execution_id}/job-events")
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
