"""The execution report: what happened, when, and against the objective, for the record.

``report(execution, job_events, generated_at)`` gathers one execution as the API returns it
and its recorded DRS job events into one JSON document: the execution and its outcome, the
objective against the actual recovery time, each wave's stamps and timings, each server's
launch (job, recovery instance, the point-in-time snapshot chosen), the DRS jobs, the
operator's actions and the job events in time order. ``render_html(report)`` turns that
document into one self-contained HTML page that prints well: a timeline chart of the waves
and the servers' launches first (people look before they read), then the tables.

Pure: data in, data and text out. Every value that reaches the HTML is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from drs_orchestrator.domain.recovery_time import wave_timings
from drs_orchestrator.domain.timestamps import parse_drs_timestamp

#: Bumped when the JSON document changes shape.
REPORT_VERSION = 1
#: Job log events that end one server's launch (its tick on the timeline).
LAUNCH_ENDS = frozenset({"LAUNCH_END", "LAUNCH_FAILED"})
_EXECUTION_FIELDS = (
    "executionId",
    "planId",
    "planName",
    "planVersion",
    "mode",
    "status",
    "reason",
    "startedAt",
    "endedAt",
    "pointInTime",
)
_WAVE_FIELDS = (
    "name",
    "status",
    "dependsOn",
    "pauseBefore",
    "pausedAt",
    "approvedAt",
    "startedAt",
    "launchedAt",
    "endedAt",
    "reason",
)


def report(
    execution: dict[str, Any], job_events: list[dict[str, Any]], generated_at: str
) -> dict[str, Any]:
    """The report's JSON document (``REPORT_VERSION``)."""
    snapshots = execution.get("snapshots") or {}
    timings = {t["wave"]: t for t in wave_timings(execution)}
    waves = [
        {
            **{k: wave[k] for k in _WAVE_FIELDS if k in wave},
            "servers": len(wave.get("servers") or ()),
            "timings": {k: v for k, v in timings[wave["name"]].items() if k != "wave"},
        }
        for wave in execution["waves"]
    ]
    servers = [
        {
            "sourceServerId": server_id,
            "wave": server.get("waveName"),
            "launchStatus": server.get("launchStatus"),
            "jobId": server.get("jobId"),
            "recoveryInstanceId": server.get("recoveryInstanceId"),
            "snapshotId": snapshots.get(server_id),
            "terminationStatus": server.get("terminationStatus"),
        }
        for server_id, server in sorted((execution.get("servers") or {}).items())
    ]
    jobs = [
        {
            k: job.get(k)
            for k in ("jobId", "type", "status", "waveName", "target", "createdAt", "endDateTime")
        }
        | {"servers": len(job.get("servers") or ())}
        for job in sorted(
            (execution.get("jobs") or {}).values(), key=lambda j: str(j.get("createdAt", ""))
        )
    ]
    events = sorted(
        (
            {
                "at": e["logDateTime"],
                "jobId": e["jobId"],
                "event": e["event"],
                "sourceServerId": e.get("sourceServerId"),
            }
            for e in job_events
        ),
        key=lambda e: (e["at"], e["jobId"]),
    )
    return {
        "reportVersion": REPORT_VERSION,
        "generatedAt": generated_at,
        "execution": {k: execution[k] for k in _EXECUTION_FIELDS if k in execution},
        "objectiveMinutes": execution.get("recoveryTimeObjectiveMinutes"),
        "recoveryTime": execution.get("recoveryTime"),
        "waves": waves,
        "servers": servers,
        "jobs": jobs,
        "operatorActions": operator_actions(execution),
        "waveActions": wave_actions(execution),
        "jobEvents": events,
        **({"failback": failback_servers(execution)} if execution.get("failback") else {}),
    }


#: What a failback's report shows of each server (``domain/failback.py``).
_FAILBACK_FIELDS = ("instance", "origin", "step", "reversedServer", "jobId", "protected", "reason")


def failback_servers(execution: dict[str, Any]) -> list[dict[str, Any]]:
    """A failback's servers: where each came from and where its failback ended."""
    return [
        {"sourceServerId": server_id, **{k: state[k] for k in _FAILBACK_FIELDS if k in state}}
        for server_id, state in sorted((execution.get("failback") or {}).items())
    ]


#: What the report keeps of each run of a wave's action (``domain/actions.py``).
_RUN_FIELDS = ("phase", "document", "status", "startedAt", "automationExecutionId", "failure")


def wave_actions(execution: dict[str, Any]) -> list[dict[str, Any]]:
    """Every SSM Automation a wave ran (before its launch, after it, or once home after a
    failback), wave by wave in the plan's order: what ran, its automation, how it ended."""
    return [
        {"wave": wave["name"], **{k: run[k] for k in _RUN_FIELDS if k in run}}
        for wave in execution["waves"]
        for run in wave.get("actionRuns") or ()
    ]


def operator_actions(execution: dict[str, Any]) -> list[dict[str, Any]]:
    """What people did to the execution, in time order: its start, each approval, a cancel,
    each request to terminate the drill's instances."""
    actions = [{"at": execution["startedAt"], "action": f"started the {execution['mode']}"}]
    for wave in execution["waves"]:
        if wave.get("approvedAt"):
            actions.append({"at": wave["approvedAt"], "action": f"approved wave {wave['name']}"})
    if execution.get("cancelRequestedAt"):
        actions.append({"at": execution["cancelRequestedAt"], "action": "asked to cancel"})
    for termination in execution.get("terminations") or ():
        count = len(termination.get("recoveryInstanceIds") or ())
        actions.append(
            {
                "at": termination["requestedAt"],
                "action": f"asked to terminate {count} recovery instance(s)",
            }
        )
    return sorted(actions, key=lambda a: parse_drs_timestamp(a["at"]))


# -- HTML ----------------------------------------------------------------------------------

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;color:#16191f;margin:24px;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;break-after:avoid}
.verdict{font-weight:600;padding:4px 8px;border-radius:4px;display:inline-block}
.met{background:#e9f5e9;color:#037f0c}.over{background:#fdecea;color:#d91515}
.none{background:#f2f3f3;color:#5f6b7a}
table{border-collapse:collapse;width:100%;font-size:12px}
th,td{border-bottom:1px solid #d5dbdb;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f2f3f3}tr{break-inside:avoid}
svg text{font:11px system-ui,sans-serif}
@media print{body{margin:0}a{color:inherit;text-decoration:none}}
"""
_WAVE_COLOURS = {"COMPLETED": "#037f0c", "FAILED": "#d91515", "SKIPPED": "#8d99a8"}


def _cell(value: Any) -> str:
    return escape("-" if value is None or value == "" else str(value))


def _table(headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    whole = round(value)
    return f"{whole // 60} min {whole % 60} s" if whole >= 60 else f"{value:.1f} s"


def verdict(data: dict[str, Any]) -> tuple[str, str]:
    """(css class, words): the recovery time against the objective."""
    measured, objective = data.get("recoveryTime"), data.get("objectiveMinutes")
    if not measured:
        return "none", f"No recovery time: the execution is {data['execution']['status']}"
    actual = _seconds(measured["seconds"])
    if not objective:
        return "none", f"Recovered in {actual} (no objective set)"
    if measured.get("overObjective"):
        return "over", f"Recovered in {actual}: over the {objective} min objective"
    return "met", f"Recovered in {actual}: within the {objective} min objective"


def timeline(data: dict[str, Any], width: int = 1000) -> str:
    """An SVG chart: one row per wave, its bar from start to ready (or end), the wait for
    approval drawn hatched before it, a tick per server launch that ended, and the
    objective as a dashed line."""
    start = parse_drs_timestamp(data["execution"]["startedAt"])
    ends = [
        parse_drs_timestamp(t)
        for t in (
            data["execution"].get("endedAt"),
            *(w.get("endedAt") for w in data["waves"]),
            *(e["at"] for e in data["jobEvents"]),
        )
        if t
    ]
    span = max([(t - start).total_seconds() for t in ends] + [1.0])
    objective = (data.get("objectiveMinutes") or 0) * 60
    span = max(span, objective) * 1.05
    label, row = 150, 26
    scale = (width - label - 10) / span

    def x(moment: str | None) -> float | None:
        if not moment:
            return None
        return label + (parse_drs_timestamp(moment) - start).total_seconds() * scale

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{row * len(data["waves"]) + 30}" aria-label="Timeline of the waves">',
        '<defs><pattern id="wait" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="3" height="6" fill="#c6c6cd"/></pattern>'
        "</defs>",
    ]
    launches: dict[str, list[str]] = {}
    by_server = {s["sourceServerId"]: s["wave"] for s in data["servers"]}
    for event in data["jobEvents"]:
        if event["event"] in LAUNCH_ENDS and event.get("sourceServerId") in by_server:
            launches.setdefault(str(by_server[event["sourceServerId"]]), []).append(event["at"])
    for index, wave in enumerate(data["waves"]):
        y = index * row + 4
        parts.append(f'<text x="0" y="{y + 14}">{escape(wave["name"][:24])}</text>')
        paused, approved = x(wave.get("pausedAt")), x(wave.get("approvedAt"))
        if paused is not None and approved is not None:
            parts.append(
                f'<rect x="{paused:.1f}" y="{y + 3}" width="{max(approved - paused, 1):.1f}" '
                f'height="14" fill="url(#wait)"><title>awaiting approval</title></rect>'
            )
        begin, end = x(wave.get("startedAt")), x(wave.get("endedAt"))
        if begin is not None:
            colour = _WAVE_COLOURS.get(wave.get("status", ""), "#0972d3")
            finish = end if end is not None else label + span / 1.05 * scale
            parts.append(
                f'<rect x="{begin:.1f}" y="{y}" width="{max(finish - begin, 2):.1f}" '
                f'height="20" rx="3" fill="{colour}" fill-opacity="0.8"><title>'
                f"{escape(wave['name'])}: {escape(str(wave.get('status')))}</title></rect>"
            )
        for moment in launches.get(wave["name"], []):
            at = x(moment)
            parts.append(
                f'<line x1="{at:.1f}" x2="{at:.1f}" y1="{y}" y2="{y + 20}" stroke="#16191f"/>'
            )
    axis = row * len(data["waves"]) + 18
    parts.append(f'<text x="{label}" y="{axis}">0</text>')
    parts.append(f'<text x="{width - 80}" y="{axis}">{escape(_seconds(span / 1.05))}</text>')
    if objective:
        at = label + objective * scale
        parts.append(
            f'<line x1="{at:.1f}" x2="{at:.1f}" y1="0" y2="{axis - 12}" stroke="#5f6b7a" '
            f'stroke-dasharray="4 3"><title>objective</title></line>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _failback_table(data: dict[str, Any]) -> str:
    if "failback" not in data:
        return ""
    rows = [
        (
            f["sourceServerId"],
            f.get("origin") or "on premises",
            f.get("step"),
            f.get("reversedServer"),
            f.get("jobId"),
            "yes" if f.get("protected") else "",
            f.get("reason"),
        )
        for f in data["failback"]
    ]
    headers = ("source server", "goes back to", "step", "reversed server", "job", "protected")
    return "<h2>Failback</h2>" + _table((*headers, "reason"), rows)


def _wave_actions_table(data: dict[str, Any]) -> str:
    runs = data.get("waveActions") or []
    if not runs:
        return ""
    rows = [
        (
            r["wave"],
            "before launch" if r.get("phase") == "pre" else "after",
            r.get("document"),
            r.get("status"),
            r.get("startedAt"),
            r.get("automationExecutionId"),
            r.get("failure"),
        )
        for r in runs
    ]
    headers = ("wave", "when", "document", "status", "started", "automation", "failure")
    return "<h2>Wave actions</h2>" + _table(headers, rows)


def render_html(data: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (no script, no external resource)."""
    execution = data["execution"]
    css, words = verdict(data)
    title = f"{execution.get('mode', '')} of {execution.get('planName', '')}".strip()
    rows_waves = [
        (
            w["name"],
            w.get("status"),
            ", ".join(w.get("dependsOn") or ()) or None,
            w["servers"],
            _seconds(w["timings"].get("startedAfter")),
            _seconds(w["timings"].get("awaitingApproval")),
            _seconds(w["timings"].get("launch")),
            _seconds(w["timings"].get("readyAfter")),
            w.get("reason"),
        )
        for w in data["waves"]
    ]
    rows_servers = [
        (
            s["sourceServerId"],
            s["wave"],
            s["launchStatus"],
            s["recoveryInstanceId"],
            s["jobId"],
            s["snapshotId"],
        )
        for s in data["servers"]
    ]
    rows_jobs = [
        (j["jobId"], j["type"], j["status"], j["waveName"], j["servers"], j["target"])
        for j in data["jobs"]
    ]
    rows_actions = [(a["at"], a["action"]) for a in data["operatorActions"]]
    rows_events = [
        (e["at"], e["jobId"], e["event"], e["sourceServerId"]) for e in data["jobEvents"]
    ]
    facts = _table(
        ("execution", "plan version", "status", "started", "ended", "point in time", "reason"),
        [
            (
                execution.get("executionId"),
                execution.get("planVersion"),
                execution.get("status"),
                execution.get("startedAt"),
                execution.get("endedAt"),
                execution.get("pointInTime") or "latest snapshot",
                execution.get("reason"),
            )
        ],
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} - {escape(str(execution.get('executionId')))}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="verdict {css}" data-verdict="{css}">{escape(words)}</p>'
        f"<h2>Timeline</h2>{timeline(data)}"
        f"<h2>Execution</h2>{facts}"
        "<h2>Waves</h2>"
        + _table(
            (
                "wave",
                "status",
                "after",
                "servers",
                "started after",
                "awaiting approval",
                "launch",
                "ready after",
                "reason",
            ),
            rows_waves,
        )
        + "<h2>Servers</h2>"
        + _table(
            ("source server", "wave", "launch", "recovery instance", "DRS job", "snapshot"),
            rows_servers,
        )
        + _failback_table(data)
        + _wave_actions_table(data)
        + "<h2>DRS jobs</h2>"
        + _table(("job", "type", "status", "wave", "servers", "target"), rows_jobs)
        + "<h2>Operator actions</h2>"
        + _table(("at", "action"), rows_actions)
        + f"<h2>DRS job events ({len(rows_events)})</h2>"
        + _table(("at", "job", "event", "source server"), rows_events)
        + f"<p>Report generated {escape(data['generatedAt'])} "
        f"(report version {data['reportVersion']}).</p></body></html>"
    )
