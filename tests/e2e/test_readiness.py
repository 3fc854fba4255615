"""Plan readiness on demand (issue 16, item 1, first part), end to end through the API: each
server of the plan checked against what its own DRS target reports."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tests.e2e.conftest import STAGING, TARGETS

if TYPE_CHECKING:
    from tests.e2e.conftest import Harness

HOME = ["s-q0000000000000001", "s-q0000000000000002"]
AWAY = "s-q0000000000000003"


def post(harness: Harness, resource: str, body: dict[str, Any]) -> Any:
    status, answer = harness.api("POST", resource, groups="admin", body=json.dumps(body))
    assert status == 201, answer
    return answer


def plan(harness: Harness, **extra: Any) -> str:
    account, region = TARGETS[STAGING]
    post(
        harness,
        "/protection-groups",
        {"name": "db", "region": "us-east-1", "sourceServerIds": HOME},
    )
    harness.targets[STAGING].add_source_server(AWAY, {"Tier": "app"})
    post(
        harness,
        "/protection-groups",
        {"name": "app", "accountId": account, "region": region, "tagSelectors": {"Tier": ["app"]}},
    )
    waves = [
        {"name": "Data", "protectionGroups": ["db"]},
        {"name": "Apps", "protectionGroups": ["app"], "dependsOn": ["Data"]},
    ]
    return str(
        post(harness, "/recovery-plans", {"name": "ready", "waves": waves, **extra})["planId"]
    )


def with_pre_action(harness: Harness, plan_id: str, document: str = "DR-Prepare") -> None:
    """Give the plan's first wave a pre-wave action running ``document``."""
    status, record = harness.api(
        "GET", "/recovery-plans/{planId}", groups="read-only", planId=plan_id
    )
    assert status == 200
    record["waves"][0]["preActions"] = [{"document": document}]
    body = {k: record[k] for k in ("name", "waves", "version")}
    status, answer = harness.api(
        "PUT", "/recovery-plans/{planId}", groups="admin", body=json.dumps(body), planId=plan_id
    )
    assert status == 200, answer


def readiness(harness: Harness, plan_id: str, groups: str = "read-only") -> dict[str, Any]:
    status, answer = harness.api(
        "GET", "/recovery-plans/{planId}/readiness", groups=groups, planId=plan_id
    )
    assert status == 200, answer
    return dict(answer)


def test_a_plan_whose_servers_replicate_continuously_is_ready(harness: Harness) -> None:
    answer = readiness(harness, plan(harness))
    assert answer["state"] == "passed", answer["findings"]
    assert answer["servers"] == 3 and answer["planName"] == "ready"
    assert answer["evaluatedAt"].endswith("Z")


def test_a_stalled_server_in_a_target_needs_action_and_a_lagging_one_warns(
    harness: Harness,
) -> None:
    plan_id = plan(harness, maxReplicationLagSeconds=600)
    harness.targets[STAGING].stall(AWAY, "UNSTABLE_NETWORK")
    harness.drs.lag(HOME[0], 1200)

    answer = readiness(harness, plan_id)

    assert answer["state"] == "actionRequired"
    by_check = {(f["check"], f["sourceServerId"]): f for f in answer["findings"]}
    stalled = by_check[("replication", AWAY)]
    assert stalled["severity"] == "actionRequired" and stalled["wave"] == "Apps"
    assert "STALLED (UNSTABLE_NETWORK)" in stalled["message"] and stalled["fix"]
    lagging = by_check[("lag", HOME[0])]
    assert lagging["severity"] == "warning"
    assert "20 min, over the plan's 10 min" in lagging["message"]
    assert len(answer["findings"]) == 2


def test_a_server_gone_from_drs_and_an_old_snapshot_are_found(harness: Harness) -> None:
    plan_id = plan(harness)
    harness.drs.source_servers = [
        s for s in harness.drs.source_servers if s["sourceServerID"] != HOME[1]
    ]
    old = datetime.now(UTC) - timedelta(hours=5)
    harness.targets[STAGING].snapshots[AWAY] = []
    harness.targets[STAGING].add_snapshot(AWAY, old)

    answer = readiness(harness, plan_id)

    checks = sorted((f["check"], f["sourceServerId"], f["severity"]) for f in answer["findings"])
    assert checks == [
        ("snapshot", AWAY, "warning"),
        ("source-server", HOME[1], "actionRequired"),
    ]
    assert answer["state"] == "actionRequired"


def test_an_action_document_that_is_missing_or_not_automation_needs_action(
    harness: Harness,
) -> None:
    post(
        harness,
        "/protection-groups",
        {"name": "db", "region": "us-east-1", "sourceServerIds": HOME},
    )
    harness.ssm.documents["DR-Gone"] = None
    waves = [
        {
            "name": "Data",
            "protectionGroups": ["db"],
            "preActions": [{"document": "AWS-RunShellScript"}, {"document": "DR-Prepare"}],
            "postActions": [{"document": "DR-Gone"}],
            "failbackActions": [{"document": "DR-Prepare"}, {"document": "AWS-RunShellScript"}],
        }
    ]
    plan_id = str(post(harness, "/recovery-plans", {"name": "actions", "waves": waves})["planId"])
    harness.ssm.calls.clear()  # the save had the plan evaluated and recorded already

    answer = readiness(harness, plan_id)

    assert answer["state"] == "actionRequired"
    assert [f["message"] for f in answer["findings"]] == [
        "pre-wave action 1 of wave Data: SSM document AWS-RunShellScript is a Command document, "
        "not an Automation document",
        "post-wave action 1 of wave Data: SSM document DR-Gone does not exist",
        "failback action 2 of wave Data: SSM document AWS-RunShellScript is a Command document, "
        "not an Automation document",
    ]
    described = [p["Name"] for op, p in harness.ssm.calls if op == "DescribeDocument"]
    assert sorted(described) == ["AWS-RunShellScript", "DR-Gone", "DR-Prepare"], "once each"


def test_jobs_already_running_in_a_target_leave_too_little_quota(harness: Harness) -> None:
    plan_id = plan(harness)
    staging = harness.targets[STAGING]
    for n in range(20):  # another tool's 20 jobs are running in the staging account
        staging.start(staging.add_job([f"s-z{n:016d}"]))

    answer = readiness(harness, plan_id)

    [quota] = [f for f in answer["findings"] if f["check"] == "quota"]
    assert quota["severity"] == "warning" and answer["state"] == "warnings"
    assert quota["message"] == (
        f"in {STAGING}: 20 DRS jobs now, and the plan's waves may need 1 more at once; "
        "DRS allows 20"
    )
