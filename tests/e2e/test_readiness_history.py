"""Recorded readiness (issue 16, item 1): every plan evaluated after each change to it or
its groups, on the schedule and on DRS's replication-stalled events; each evaluation kept
as history, and a change of a plan's state notified once — even when SNS refused it at
first."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from drs_orchestrator.adapters.notifications import NotificationError, Notifier
from drs_orchestrator.handlers import readiness as readiness_handler

from tests.e2e.conftest import STAGING, TARGETS
from tests.e2e.test_readiness import AWAY, HOME, plan
from tests.fakes.lambda_context import LambdaContext

if TYPE_CHECKING:
    import pytest

    from tests.e2e.conftest import Harness


def history(harness: Harness, plan_id: str) -> list[dict[str, Any]]:
    status, answer = harness.api(
        "GET",
        "/recovery-plans/{planId}/readiness/history",
        groups="read-only",
        planId=plan_id,
    )
    assert status == 200, answer
    return list(answer["items"])


def overview(harness: Harness) -> dict[str, dict[str, Any]]:
    status, answer = harness.api("GET", "/readiness", groups="read-only")
    assert status == 200, answer
    return {item["planId"]: item for item in answer["items"]}


def run(event: dict[str, Any]) -> dict[str, Any]:
    return dict(readiness_handler.handler(event, LambdaContext("e2e-readiness")))


SCHEDULED = {"source": "aws.events", "detail-type": "Scheduled Event", "resources": []}


def stalled_event(server: str, account: str, region: str, state: str) -> dict[str, Any]:
    return {
        "version": "0",
        "source": "aws.drs",
        "detail-type": "DRS Source Server Data Replication Stalled Change",
        "account": account,
        "region": region,
        "resources": [f"arn:aws:drs:{region}:{account}:source-server/{server}"],
        "detail": {"state": state},
    }


def readiness_notices(harness: Harness) -> list[dict[str, Any]]:
    return [n for n in harness.notifications() if n.get("event") == "READINESS_CHANGED"]


def test_saving_a_plan_records_its_evaluation_and_the_dashboard_shows_it(
    harness: Harness,
) -> None:
    plan_id = plan(harness)

    (entry,) = history(harness, plan_id)
    assert (entry["state"], entry["trigger"], entry["servers"]) == ("passed", "plan-changed", 3)
    assert "notices" not in entry and "expiresAt" not in entry
    listed = overview(harness)[plan_id]
    assert (listed["state"], listed["planName"], listed["findingCount"]) == ("passed", "ready", 0)
    # A plan found ready the first time is not news.
    assert readiness_notices(harness) == []


def test_a_stall_event_re_evaluates_the_plans_of_that_server_and_notifies_the_change(
    harness: Harness,
) -> None:
    plan_id = plan(harness)
    harness.drs.stall(HOME[0], "AGENT_NOT_SEEN")

    report = run(stalled_event(HOME[0], "123456789012", "us-east-1", "STALLED"))

    assert report["evaluated"] == 1 and report["servers"] == [HOME[0]]
    latest = history(harness, plan_id)[0]
    assert (latest["state"], latest["trigger"]) == ("actionRequired", "replication-event")
    assert latest["counts"] == {"actionRequired": 1, "check:replication": 1}
    (notice,) = readiness_notices(harness)
    assert (notice["previousState"], notice["state"]) == ("passed", "actionRequired")
    assert notice["findings"][0]["sourceServerId"] == HOME[0]
    assert notice["findings"][0]["fix"]

    harness.drs.replicate(HOME[0])
    run(SCHEDULED)

    assert [e["state"] for e in history(harness, plan_id)] == [
        "passed",
        "actionRequired",
        "passed",
    ]
    assert [n["state"] for n in readiness_notices(harness)] == ["actionRequired", "passed"]


def test_an_event_for_a_server_no_plan_launches_evaluates_nothing(harness: Harness) -> None:
    plan_id = plan(harness)
    report = run(stalled_event("s-q0000000000000999", "123456789012", "us-east-1", "STALLED"))
    assert (report["plans"], report["evaluated"]) == (0, 0)
    assert len(history(harness, plan_id)) == 1


def test_changing_a_group_re_evaluates_every_plan_that_uses_it(harness: Harness) -> None:
    plan_id = plan(harness)
    status, group = harness.api("GET", "/protection-groups", groups="read-only")
    db = next(g for g in group["items"] if g["name"] == "db")
    harness.drs.stall(HOME[1], "SNAPSHOTS_FAILURE")
    body = {k: db[k] for k in ("name", "region", "sourceServerIds")} | {"version": db["version"]}
    status, answer = harness.api(
        "PUT",
        "/protection-groups/{groupId}",
        groups="admin",
        body=json.dumps(body),
        groupId=db["groupId"],
    )
    assert status == 200, answer

    latest = history(harness, plan_id)[0]
    assert (latest["state"], latest["trigger"]) == ("actionRequired", "group-changed")


def test_the_schedule_evaluates_every_plan_even_in_other_targets(harness: Harness) -> None:
    plan_id = plan(harness)
    harness.targets[STAGING].stall(AWAY, "UNSTABLE_NETWORK")
    account, region = TARGETS[STAGING]

    report = run(SCHEDULED)

    assert (report["trigger"], report["evaluated"]) == ("schedule", 1)
    latest = history(harness, plan_id)[0]
    assert latest["state"] == "actionRequired"
    (finding,) = latest["findings"]
    assert finding["sourceServerId"] == AWAY and finding["wave"] == "Apps"
    assert account and region


def test_a_notice_sns_refused_is_sent_by_the_next_evaluation_exactly_once(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan_id = plan(harness)
    harness.drs.stall(HOME[0])
    publish = Notifier.publish_message

    def refused(self: Notifier, subject: str, message: dict[str, Any]) -> None:
        raise NotificationError("SNS Publish failed with InternalError")

    monkeypatch.setattr(Notifier, "publish_message", refused)
    run(SCHEDULED)
    assert readiness_notices(harness) == []
    assert history(harness, plan_id)[0]["state"] == "actionRequired"

    monkeypatch.setattr(Notifier, "publish_message", publish)
    run(SCHEDULED)  # still actionRequired: nothing new to say, but the old notice goes out
    run(SCHEDULED)

    (notice,) = readiness_notices(harness)
    assert (notice["previousState"], notice["state"]) == ("passed", "actionRequired")


def test_a_deleted_plan_is_skipped_and_a_bad_request_names_the_field(harness: Harness) -> None:
    plan_id = plan(harness)
    status, _ = harness.api("DELETE", "/recovery-plans/{planId}", groups="admin", planId=plan_id)
    assert status == 204
    report = run({"planIds": [plan_id], "trigger": "plan-changed"})
    assert (report["missing"], report["evaluated"]) == (1, 0)

    status, answer = harness.api("GET", "/readiness", groups="read-only", query={"limit": "0"})
    assert status == 400 and answer["errors"][0]["field"] == "limit"
    status, answer = harness.api(
        "GET",
        "/recovery-plans/{planId}/readiness/history",
        groups="read-only",
        planId="rp-missing",
    )
    assert status == 404


def test_a_target_whose_role_no_longer_trusts_the_deployment_is_a_finding_not_a_failure(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drs_orchestrator.handlers import readiness as handler_module

    from tests.e2e.test_targets import refuse_role

    plan_id = plan(harness)
    account, _region = TARGETS[STAGING]
    refuse_role(monkeypatch, account)
    handler_module._readiness.cache_clear()  # a fresh container: no cached credentials

    report = run(SCHEDULED)

    assert (report["evaluated"], report["failed"]) == (1, 0)
    latest = history(harness, plan_id)[0]
    assert latest["state"] == "actionRequired"
    (finding,) = latest["findings"]
    assert finding["check"] == "target"
    assert f"DRS target {STAGING} cannot be reached (AccessDenied" in finding["message"]
    assert "infra/target" in finding["fix"]
    (notice,) = readiness_notices(harness)
    assert notice["state"] == "actionRequired"


def test_notices_sns_refuses_twice_in_a_row_are_carried_on_and_all_sent(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan_id = plan(harness)
    publish = Notifier.publish_message

    def refused(self: Notifier, subject: str, message: dict[str, Any]) -> None:
        raise NotificationError("SNS Publish failed with InternalError")

    monkeypatch.setattr(Notifier, "publish_message", refused)
    harness.drs.stall(HOME[0])
    run(SCHEDULED)  # passed -> actionRequired: owed, refused
    harness.drs.replicate(HOME[0])
    run(SCHEDULED)  # actionRequired -> passed: owed too, refused again; the first carried on
    latest = harness.dynamodb.query(
        TableName="e2e-readiness",
        KeyConditionExpression="planId = :p",
        ExpressionAttributeValues={":p": {"S": plan_id}},
        ScanIndexForward=False,
    )["Items"]
    assert len(latest[0]["notices"]["L"]) == 2
    assert all("notices" not in item for item in latest[1:]), "owed once, by the latest"

    monkeypatch.setattr(Notifier, "publish_message", publish)
    run(SCHEDULED)

    assert [(n["previousState"], n["state"]) for n in readiness_notices(harness)] == [
        ("passed", "actionRequired"),
        ("actionRequired", "passed"),
    ]
