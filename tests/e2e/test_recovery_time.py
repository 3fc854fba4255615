"""Recovery time you can prove: a plan states its objective, every completed execution
records its actual recovery time against it, the API shows per-wave timings and each
plan's history, and a run over its objective is flagged and notified."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.conftest import wait_until

if TYPE_CHECKING:
    from tests.e2e.conftest import Harness

DB = ["s-r0000000000000001", "s-r0000000000000002"]
APP = ["s-r0000000000000003"]


def start_drill(harness: Harness, objective_minutes: int) -> tuple[str, str]:
    for name, servers in (("db", DB), ("app", APP)):
        status, answer = harness.api(
            "POST",
            "/protection-groups",
            groups="admin",
            body=json.dumps({"name": name, "region": "us-east-1", "sourceServerIds": servers}),
        )
        assert status == 201, answer
    waves = [
        {"name": "Data", "protectionGroups": ["db"]},
        {"name": "Apps", "protectionGroups": ["app"], "dependsOn": ["Data"]},
    ]
    body = {"name": "timed", "waves": waves, "recoveryTimeObjectiveMinutes": objective_minutes}
    status, plan = harness.api("POST", "/recovery-plans", groups="admin", body=json.dumps(body))
    assert status == 201, plan
    assert plan["recoveryTimeObjectiveMinutes"] == objective_minutes
    status, started = harness.start_plan(plan["planId"])
    assert status == 202, started
    assert started["recoveryTimeObjectiveMinutes"] == objective_minutes
    return plan["planId"], started["executionId"]


def finish(harness: Harness, execution_id: str) -> dict[str, Any]:
    def ended() -> bool:
        harness.run_finder()
        return harness.execution(execution_id)["status"] in ("COMPLETED", "FAILED")

    wait_until(ended, message="the drill ended")
    return harness.wait_for(execution_id, "COMPLETED", "FAILED")


def test_a_completed_drill_records_its_recovery_time_against_the_objective(
    harness: Harness,
) -> None:
    plan_id, execution_id = start_drill(harness, objective_minutes=30)
    item = finish(harness, execution_id)

    assert item["status"] == "COMPLETED", item.get("reason")
    measured = item["recoveryTime"]
    last_ready = max(w["endedAt"] for w in item["waves"])
    assert measured["objectiveSeconds"] == 1800
    assert measured["overObjective"] is False
    assert 0 < measured["seconds"] < 60
    from drs_orchestrator.domain.timestamps import parse_drs_timestamp

    assert measured["seconds"] == pytest.approx(
        (parse_drs_timestamp(last_ready) - parse_drs_timestamp(item["startedAt"])).total_seconds(),
        abs=0.001,
    )
    status, shown = harness.api(
        "GET", "/executions/{executionId}", groups="read-only", executionId=execution_id
    )
    assert status == 200
    assert shown["recoveryTime"] == measured
    assert [t["wave"] for t in shown["timings"]] == ["Data", "Apps"]
    data, apps = shown["timings"]
    assert data["startedAfter"] >= 0 and data["launch"] > 0
    assert apps["startedAfter"] >= data["readyAfter"], "Apps waited for Data to be ready"
    assert apps["readyAfter"] == pytest.approx(measured["seconds"], abs=0.001)
    assert not {"sleepToken", "taskToken"} & set(shown), "task tokens are never shown"

    completed = [n for n in harness.notifications() if n["event"] == "completed"]
    assert completed and completed[-1]["recoveryTime"] == measured
    assert not [n for n in harness.notifications() if "objective" in n["event"]]

    status, history = harness.api(
        "GET", "/recovery-plans/{planId}/executions", groups="read-only", planId=plan_id
    )
    assert status == 200, history
    assert [h["executionId"] for h in history["items"]] == [execution_id]
    summary = history["items"][0]
    assert summary["recoveryTime"] == measured
    assert summary["status"] == "COMPLETED" and summary["mode"] == "DRILL"
    assert "waves" not in summary, "the history lists summaries, not whole executions"


def test_a_plan_history_pages_newest_first_and_an_unknown_plan_is_404(harness: Harness) -> None:
    plan_id, first = start_drill(harness, objective_minutes=5)
    finish(harness, first)
    status, second = harness.api(
        "POST",
        "/recovery-plans/{planId}/executions",
        body=json.dumps({"mode": "DRILL"}),
        planId=plan_id,
    )
    assert status == 202, second
    finish(harness, second["executionId"])
    status, page = harness.api(
        "GET",
        "/recovery-plans/{planId}/executions",
        groups="read-only",
        query={"limit": "1"},
        planId=plan_id,
    )
    assert status == 200
    assert [i["executionId"] for i in page["items"]] == [second["executionId"]]
    status, rest = harness.api(
        "GET",
        "/recovery-plans/{planId}/executions",
        groups="read-only",
        query={"limit": "1", "nextToken": page["nextToken"]},
        planId=plan_id,
    )
    assert status == 200
    assert [i["executionId"] for i in rest["items"]] == [first]
    status, answer = harness.api(
        "GET", "/recovery-plans/{planId}/executions", groups="read-only", planId="rp-missing"
    )
    assert status == 404, answer


@pytest.mark.parametrize("objective", [0, 10081, "30"])
def test_an_objective_out_of_bounds_is_refused_naming_the_field(
    harness: Harness, objective: Any
) -> None:
    body = {
        "name": "bad",
        "waves": [{"name": "A", "protectionGroups": ["db"]}],
        "recoveryTimeObjectiveMinutes": objective,
    }
    status, answer = harness.api("POST", "/recovery-plans", groups="admin", body=json.dumps(body))
    assert status == 400, answer
    assert [e["field"] for e in answer["errors"]] == ["recoveryTimeObjectiveMinutes"]
    status, plans = harness.api("GET", "/recovery-plans", groups="read-only")
    assert plans["items"] == [], "nothing was saved"
