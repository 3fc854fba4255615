"""The audit trail through the API: every change and operator action recorded with who,
when, the object before and after, and the result, refused attempts included; read back
newest first, filtered and paginated; a fault at either write loses nothing it promised."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from drs_orchestrator.adapters.audit import AuditTrail
from drs_orchestrator.api import schemas
from drs_orchestrator.errors import StoreError

from tests.lambdas.test_api import REAL_IDS, Api, _groups_and_plan, call, group

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pytest

__all__ = ["call"]  # the API fixture, shared with test_api


def trail(call: Api, groups: str = "read-only", **query: str) -> list[dict[str, Any]]:
    """Every entry, page by page (limit 2: every page boundary is crossed)."""
    entries: list[dict[str, Any]] = []
    token = None
    while True:
        params = {"limit": "2", **query, **({"nextToken": token} if token else {})}
        status, page = call("GET", "/audit", groups=groups, query=params)
        assert status == 200, page
        entries += page["items"]
        token = page.get("nextToken")
        if not token:
            return entries


def test_every_change_and_operation_is_recorded_with_who_before_after_and_result(
    call: Api,
) -> None:
    plan_id = _groups_and_plan(call)
    status, db = call("GET", "/protection-groups", groups="read-only")
    db = next(g for g in db["items"] if g["name"] == "db")
    status, updated = call(
        "PUT",
        "/protection-groups/{groupId}",
        {**group("db", REAL_IDS[:1]), "version": db["version"]},
        groupId=db["groupId"],
    )
    assert status == 200, updated
    route = "/recovery-plans/{planId}/executions"
    status, started = call("POST", route, {"mode": "DRILL"}, groups="operator", planId=plan_id)
    assert status == 202
    execution_id = started["executionId"]
    status, _ = call(
        "POST", "/executions/{executionId}/cancel", groups="operator", executionId=execution_id
    )
    assert status == 200

    entries = trail(call)

    assert [e["action"] for e in entries] == [
        "cancelExecution",
        "startDrill",
        "updateProtectionGroup",
        "createRecoveryPlan",
        "createProtectionGroup",
        "createProtectionGroup",
    ]
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)
    assert all(e["outcome"] == "succeeded" for e in entries)
    cancel, start, update, plan, *_ = entries
    assert cancel["actor"] == {"user": "ops@example.com", "sub": "user-1", "groups": ["operator"]}
    assert (cancel["objectType"], cancel["objectId"], cancel["planId"]) == (
        "execution",
        execution_id,
        plan_id,
    )
    assert cancel["before"]["status"] == "PENDING" and cancel["status"] == 200
    assert cancel["after"]["status"] in ("CANCELLING", "CANCELLED")
    assert (start["objectType"], start["objectId"], start["planId"]) == (
        "execution",
        execution_id,
        plan_id,
    )
    assert start["request"] == {"mode": "DRILL"} and start["status"] == 202
    assert update["before"]["sourceServerIds"] == REAL_IDS[:2]
    assert update["after"]["sourceServerIds"] == REAL_IDS[:1]
    assert update["actor"]["groups"] == ["admin"]
    assert (plan["objectType"], plan["objectId"], plan["after"]["name"]) == (
        "recovery-plan",
        plan_id,
        "tiers",
    )


def test_refused_attempts_are_recorded_with_the_reason_and_nothing_else_changes(
    call: Api,
) -> None:
    plan_id = _groups_and_plan(call)
    route = "/recovery-plans/{planId}/executions"
    assert (
        call("POST", "/protection-groups", group("x", REAL_IDS[5:6]), groups="read-only")[0] == 403
    )
    assert call("POST", route, {"mode": "RECOVERY"}, groups="operator", planId=plan_id)[0] == 403
    assert call("POST", route, {"mode": "TEST"}, planId=plan_id)[0] == 400
    status, plan = call("GET", "/recovery-plans/{planId}", planId=plan_id)
    waves = [
        {"name": "A", "protectionGroups": ["db"]},
        {"name": "B", "protectionGroups": ["app"], "dependsOn": ["A"]},
    ]
    stale = {"name": "tiers", "waves": waves, "version": plan["version"] + 5}
    assert call("PUT", "/recovery-plans/{planId}", stale, planId=plan_id)[0] == 409

    stale_put, bad_mode, recovery, read_only = trail(call)[:4]

    assert (read_only["action"], read_only["status"], read_only["outcome"]) == (
        "createProtectionGroup",
        403,
        "refused",
    )
    assert read_only["message"] == "POST /protection-groups needs one of the groups admin"
    assert read_only["actor"]["groups"] == ["read-only"]
    assert (recovery["action"], recovery["status"]) == ("startRecovery", 403)
    assert recovery["message"] == "a RECOVERY needs one of the groups admin"
    assert (recovery["objectType"], recovery["objectId"]) == ("recovery-plan", plan_id)
    assert (bad_mode["status"], bad_mode["outcome"]) == (400, "refused")
    assert (stale_put["action"], stale_put["status"], stale_put["outcome"]) == (
        "updateRecoveryPlan",
        409,
        "refused",
    )
    assert stale_put["before"]["version"] == plan["version"], "the plan as it was"
    assert "after" not in stale_put
    assert call.count("executions") == 0


def test_the_trail_is_filtered_by_user_object_plan_action_and_time(call: Api) -> None:
    plan_id = _groups_and_plan(call)
    route = "/recovery-plans/{planId}/executions"
    claims = {"sub": "user-2", "cognito:username": "oncall", "cognito:groups": "operator"}
    status, started = call("POST", route, {"mode": "DRILL"}, planId=plan_id, claims=claims)
    assert status == 202
    execution_id = started["executionId"]
    call("POST", "/executions/{executionId}/cancel", executionId=execution_id, claims=claims)
    everything = trail(call)

    assert [e["action"] for e in trail(call, user="oncall")] == ["cancelExecution", "startDrill"]
    assert [e["action"] for e in trail(call, object=execution_id)] == [
        "cancelExecution",
        "startDrill",
    ]
    assert [e["action"] for e in trail(call, plan=plan_id)] == [
        "cancelExecution",
        "startDrill",
        "createRecoveryPlan",
    ]
    assert [e["action"] for e in trail(call, action="createProtectionGroup")] == [
        "createProtectionGroup",
        "createProtectionGroup",
    ]
    newest = everything[0]["at"]
    moment = newest[:19] + "Z"
    assert trail(call, to="2000-01-01T00:00:00Z") == []
    assert len(trail(call, **{"from": "2000-01-01T00:00:00Z", "to": moment})) == len(everything)
    status, refused = call("GET", "/audit", groups="read-only", query={"from": "yesterday"})
    assert status == 400 and refused["errors"][0]["field"] == "from"
    status, refused = call("GET", "/audit", groups="read-only", query={"to": ""})
    assert status == 400 and refused["errors"][0]["field"] == "to", "blank is not a moment"
    backwards = {"from": "2026-12-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
    status, refused = call("GET", "/audit", groups="read-only", query=backwards)
    assert status == 400 and refused["errors"] == [
        {"field": "to", "reason": "must not be before from"}
    ]


@contextmanager
def outcomes_not_written(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """While it lasts, the trail's outcome records fail to be written (throttled after the
    retries); intents are written as usual."""
    add = AuditTrail.add

    def outcome_refused(trail: AuditTrail, record: dict[str, Any]) -> None:
        if record["phase"] == "2-outcome":
            raise StoreError("PutItem", "ProvisionedThroughputExceededException", "injected")
        add(trail, record)

    with monkeypatch.context() as refusing:
        refusing.setattr(AuditTrail, "add", outcome_refused)
        yield


def test_an_outcome_that_cannot_be_written_leaves_the_intent_and_the_change_stands(
    call: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    with outcomes_not_written(monkeypatch):
        status, created = call("POST", "/protection-groups", group("web", REAL_IDS[:1]))
    assert status == 201, "the change stands"
    [entry] = trail(call)
    assert entry["outcome"] == "unknown"
    assert (entry["action"], entry["request"]["name"]) == ("createProtectionGroup", "web")
    assert call.count("groups") == 1 and created["name"] == "web"


def test_an_intent_that_cannot_be_written_stops_the_operation(
    call: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(_trail: AuditTrail, _record: dict[str, Any]) -> None:
        raise StoreError("PutItem", "ProvisionedThroughputExceededException", "injected")

    monkeypatch.setattr(AuditTrail, "add", refused)
    status, body = call("POST", "/protection-groups", group("web", REAL_IDS[:1]))
    assert status == 503 and body["message"].startswith("try again")
    assert call.count("groups") == 0, "nothing was done unrecorded"


def test_every_operation_that_changes_something_is_audited() -> None:
    for method, path in schemas.routes():
        if method in ("POST", "PUT", "DELETE"):
            assert schemas.audited(method, path), f"{method} {path} is not audited"
    assert schemas.audited("GET", "/recovery-plans/{planId}/readiness"), "asked by hand"
    assert not schemas.audited("GET", "/audit")


def _update_meeting(call: Api, monkeypatch: pytest.MonkeyPatch, kind: str) -> dict[str, Any]:
    """Update a group whose write meets ``kind``: ``lost`` (it takes effect, its answer is
    lost) or ``throttled`` (it does not). The API answers 503 either way; returns the
    update's audit entry."""
    from botocore.client import BaseClient
    from botocore.exceptions import ClientError, ReadTimeoutError

    status, created = call("POST", "/protection-groups", group("web", REAL_IDS[:1]))
    assert status == 201
    change = group("web", REAL_IDS[:2], version=created["version"])
    original = BaseClient._make_api_call
    met: list[str] = []

    def faulty(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        touches_groups = "groups" in str(params.get("TableName", "")) or any(
            "groups" in str(item) for item in params.get("TransactItems", [])
        )
        writes = operation in ("PutItem", "UpdateItem", "TransactWriteItems")
        if met or not writes or not touches_groups:
            return original(client, operation, params)
        met.append(operation)
        if kind == "throttled":
            error = {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}
            raise ClientError({"Error": error}, operation)
        original(client, operation, params)
        raise ReadTimeoutError(endpoint_url="https://dynamodb.invalid")

    with monkeypatch.context() as faults:
        faults.setattr(BaseClient, "_make_api_call", faulty)
        status, body = call(
            "PUT", "/protection-groups/{groupId}", change, groupId=created["groupId"]
        )
    assert met and status == 503, body
    return next(e for e in trail(call) if e["action"] == "updateProtectionGroup")


def test_a_change_whose_answer_was_lost_is_unknown_with_what_is_so_now(
    call: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 503 after a write that took effect: the trail does not claim it failed."""
    entry = _update_meeting(call, monkeypatch, "lost")
    assert entry["outcome"] == "unknown"
    assert entry["after"]["sourceServerIds"] == REAL_IDS[:2], "the change took effect"


def test_a_change_certainly_not_made_is_failed(call: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = _update_meeting(call, monkeypatch, "throttled")
    assert entry["outcome"] == "failed" and "after" not in entry


def test_an_outcome_that_cannot_be_read_back_answers_503_and_changes_nothing(
    call: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listing's new call point: an entry found by its intent alone reads its outcome
    by key (GetItem). A fault there is DynamoDB's like any other: 503 'try again'."""
    from botocore.exceptions import ClientError
    from drs_orchestrator.handlers import api as handler

    with outcomes_not_written(monkeypatch):
        assert call("POST", "/protection-groups", group("web", REAL_IDS[:1]))[0] == 201

    def throttled(**_params: Any) -> Any:
        error = {"Error": {"Code": "ThrottlingException", "Message": "injected"}}
        raise ClientError(error, "GetItem")

    monkeypatch.setattr(handler._trail()._client, "get_item", throttled)
    status, body = call("GET", "/audit", groups="read-only")
    assert status == 503 and body["message"].startswith("try again"), body
