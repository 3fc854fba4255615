"""The execution report: its JSON document from an execution and its job events, and the
HTML page (timeline first, everything escaped) made from it."""

from __future__ import annotations

import json
import re
from typing import Any

from drs_orchestrator.domain.plans import Action, RecoveryPlan, Wave
from drs_orchestrator.domain.recovery_time import wave_timings
from drs_orchestrator.domain.report import REPORT_VERSION, render_html, report, verdict

from tests.lambdas.runner_world import World

GROUPS = {"db": ["s-0000000000000000a", "s-0000000000000000b"], "app": ["s-0000000000000000c"]}
PLAN = RecoveryPlan(
    "Orders <script>alert(1)</script>",
    (Wave("Data", ("db",)), Wave("Apps", ("app",), depends_on=("Data",), pause_before=True)),
)
GENERATED = "2026-11-30T13:00:00.000000Z"


def completed(objective_minutes: int | None = 30) -> dict[str, Any]:
    """A drill the pure core ran to its end (approval given), as the API returns it."""
    world = World(PLAN, GROUPS)
    if objective_minutes:
        world.item["recoveryTimeObjectiveMinutes"] = objective_minutes
    world.run_to_end()
    assert world.item["status"] == "COMPLETED"
    for number, server in enumerate(world.item["servers"].values()):  # as the finder records
        server["recoveryInstanceId"] = f"i-{number:017d}"
    return {**world.item, "timings": wave_timings(world.item)}


def launch_events(execution: dict[str, Any]) -> list[dict[str, Any]]:
    events = []
    for number, (server, tracked) in enumerate(sorted(execution["servers"].items())):
        wave = next(w for w in execution["waves"] if w["name"] == tracked["waveName"])
        for event, at in (("LAUNCH_START", wave["startedAt"]), ("LAUNCH_END", wave["launchedAt"])):
            events.append(
                {
                    "eventKey": f"{at}#{tracked['jobId']}#{event}#{number}",
                    "jobId": tracked["jobId"],
                    "event": event,
                    "logDateTime": at,
                    "sourceServerId": server,
                }
            )
    return list(reversed(events))  # as a page may hold them: the report orders them


def test_the_document_holds_waves_servers_jobs_actions_and_events_in_order() -> None:
    execution = completed()
    data = report(execution, launch_events(execution), GENERATED)

    assert data["reportVersion"] == REPORT_VERSION
    assert data["execution"]["status"] == "COMPLETED"
    assert data["objectiveMinutes"] == 30
    assert data["recoveryTime"] == execution["recoveryTime"]
    assert [w["name"] for w in data["waves"]] == ["Data", "Apps"]
    apps = data["waves"][1]
    assert apps["dependsOn"] == ["Data"] and apps["servers"] == 1
    assert apps["timings"]["awaitingApproval"] >= 0 and "readyAfter" in apps["timings"]
    assert [s["sourceServerId"] for s in data["servers"]] == sorted(
        s for servers in GROUPS.values() for s in servers
    )
    assert all(s["recoveryInstanceId"] and s["launchStatus"] == "LAUNCHED" for s in data["servers"])
    assert {j["jobId"] for j in data["jobs"]} == set(execution["jobs"])
    assert [a["action"] for a in data["operatorActions"]] == [
        "started the DRILL",
        "approved wave Apps",
    ]
    moments = [e["at"] for e in data["jobEvents"]]
    assert moments == sorted(moments) and len(moments) == 6
    json.dumps(data)  # the JSON file is this document


def test_a_point_in_time_execution_names_each_servers_snapshot() -> None:
    execution = completed()
    execution["pointInTime"] = "2026-11-29T03:00:00Z"
    execution["snapshots"] = {"s-0000000000000000a": "pit-0123456789abcdef0"}
    data = report(execution, [], GENERATED)
    chosen = {s["sourceServerId"]: s["snapshotId"] for s in data["servers"]}
    assert chosen["s-0000000000000000a"] == "pit-0123456789abcdef0"
    assert chosen["s-0000000000000000c"] is None
    assert data["execution"]["pointInTime"] == "2026-11-29T03:00:00Z"
    assert "pit-0123456789abcdef0" in render_html(data)


def test_the_page_draws_a_bar_per_wave_a_tick_per_launch_and_escapes_everything() -> None:
    execution = completed()
    page = render_html(report(execution, launch_events(execution), GENERATED))

    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page, "nothing from the data is markup"
    assert "Orders &lt;script&gt;alert(1)&lt;/script&gt;" in page
    svg = page[page.index("<svg") : page.index("</svg>")]
    bars = re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="20"', svg)
    assert len(bars) == 2, "one bar per wave"
    ticks = re.findall(r"<line [^>]*stroke=\"#16191f\"", svg)
    assert len(ticks) == 3, "one tick per server launch that ended"
    assert "objective" in svg, "the objective drawn as a line"
    assert 'data-verdict="met"' in page
    assert page.index("<svg") < page.index("<h2>Waves</h2>"), "people look before they read"


def test_the_verdict_says_over_within_without_objective_or_not_completed() -> None:
    over = report(completed(objective_minutes=1), [], GENERATED)
    assert verdict(over)[0] == "over" and "over the 1 min objective" in verdict(over)[1]
    unset = verdict(report(completed(objective_minutes=None), [], GENERATED))
    assert unset[0] == "none" and unset[1].endswith("(no objective set)")
    failed = completed()
    failed.update(status="FAILED", reason="wave Apps: servers did not launch")
    failed.pop("recoveryTime")
    words = verdict(report(failed, [], GENERATED))
    assert words == ("none", "No recovery time: the execution is FAILED")
    assert "wave Apps: servers did not launch" in render_html(report(failed, [], GENERATED))


def test_the_report_names_every_action_a_wave_ran_and_how_it_ended() -> None:
    plan = RecoveryPlan(
        "Orders",
        (
            Wave("Data", ("db",), pre_actions=(Action("DR-Prepare"),)),
            Wave("Apps", ("app",), depends_on=("Data",), post_actions=(Action("DR-<Check>"),)),
        ),
    )
    world = World(plan, GROUPS)
    world.run_to_end()
    assert world.item["status"] == "COMPLETED"
    data = report(world.item, [], GENERATED)
    assert [(a["wave"], a["phase"], a["document"], a["status"]) for a in data["waveActions"]] == [
        ("Data", "pre", "DR-Prepare", "Success"),
        ("Apps", "post", "DR-<Check>", "Success"),
    ]
    assert all(a["automationExecutionId"] for a in data["waveActions"])
    page = render_html(data)
    section = page[page.index("<h2>Wave actions</h2>") : page.index("<h2>DRS jobs</h2>")]
    assert "DR-&lt;Check&gt;" in section and "before launch" in section
    assert "<h2>Wave actions</h2>" not in render_html(report(completed(), [], GENERATED))
