"""``drsctl report STACK EXECUTION_ID``: an execution's report, as HTML and JSON files.

The report the deployment stored when the execution settled is the record (its job events
outlive the table's retention): it is downloaded as it is. An execution with none stored
yet (still running, or ended moments ago) has its report built from the API's answers as
they are now, and says so; ``--live`` builds it that way whatever is stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from drsctl.commands import deployment

if TYPE_CHECKING:
    import argparse

    from drsctl.api_client import ApiClient

#: Seconds to wait for a stored report's download.
DOWNLOAD_TIMEOUT = 60
NOT_FOUND = 404


def register(commands: argparse._SubParsersAction) -> None:
    """Add the subcommand's parser to ``commands``."""
    report = commands.add_parser(
        "report",
        help="write an execution's report (HTML that prints well, and JSON)",
        description="Downloads the report the deployment stored when the execution settled "
        "(reports/ of its bucket), or, while none is stored, builds it from the execution "
        "and its DRS job events as the API answers them now. Writes <execution>.html (a "
        "timeline of waves and server launches, objective against actual recovery time, "
        "per-server launches and recovery instances, DRS jobs and job events, operator "
        "actions, snapshots chosen) and <execution>.json (the same data).",
    )
    deployment.add_arguments(report)
    report.add_argument("execution_id", metavar="EXECUTION_ID")
    report.add_argument(
        "--out", type=Path, default=Path(), metavar="DIR", help="where to write (default .)"
    )
    report.add_argument(
        "--live",
        action="store_true",
        help="build the report from the execution as it is now, even when one is stored",
    )
    report.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from drsctl.api_client import ApiCallError
    from drsctl.cli import UsageError

    try:
        target = deployment.target(args)
        stored = None if args.live else _stored(target.api, args.execution_id)
        if stored is not None:
            html, document = stored["html"], stored["json"]
            origin = f"stored at {stored['storedAt']}"
        else:
            html, document = _built(target.api, args.execution_id)
            origin = "built from the execution as it is now (none stored yet)"
    except (OSError, RuntimeError, ApiCallError) as exc:
        raise UsageError(str(exc)) from exc
    args.out.mkdir(parents=True, exist_ok=True)
    html_path = args.out / f"{args.execution_id}.html"
    html_path.write_bytes(html)
    json_path = args.out / f"{args.execution_id}.json"
    json_path.write_bytes(document)
    print(f"report of {args.execution_id} ({origin}): wrote {html_path} and {json_path}")
    return 0


def _stored(api: ApiClient, execution_id: str) -> dict[str, object] | None:
    """The stored report's two forms, downloaded through the links the API signs; None
    when the execution has none stored yet (a missing execution is an error)."""
    from urllib.request import urlopen

    from drsctl.api_client import ApiCallError

    try:
        links = api.call("GET", f"/executions/{execution_id}/report")
    except ApiCallError as exc:
        if exc.status != NOT_FOUND:
            raise
        api.call("GET", f"/executions/{execution_id}")  # a missing execution: its own 404
        return None
    downloaded: dict[str, object] = {"storedAt": links["storedAt"]}
    for kind in ("html", "json"):
        if not str(links[kind]).startswith(("https://", "http://127.0.0.1")):
            msg = f"refusing to download the report from {links[kind]!r}: not HTTPS"
            raise RuntimeError(msg)
        with urlopen(links[kind], timeout=DOWNLOAD_TIMEOUT) as answer:  # noqa: S310  # nosec B310 - https or the local sandbox, checked above
            downloaded[kind] = answer.read()
    return downloaded


def _built(api: ApiClient, execution_id: str) -> tuple[bytes, bytes]:
    """The report built here from the execution and its job events as the API gives them."""
    import json
    from datetime import UTC, datetime

    from drs_orchestrator.domain.report import render_html, report
    from drs_orchestrator.domain.timestamps import to_iso

    execution = api.call("GET", f"/executions/{execution_id}")
    events = deployment.every_item(api, f"/executions/{execution_id}/job-events")
    data = report(execution, events, to_iso(datetime.now(UTC)))
    document = json.dumps(data, indent=2, sort_keys=True) + "\n"
    return render_html(data).encode(), document.encode()
