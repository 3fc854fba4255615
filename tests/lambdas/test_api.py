"""The REST API: every route, every role, and 400/403/404/409 answers that write nothing."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from drs_orchestrator.adapters.dynamodb import to_item
from drs_orchestrator.api import schemas
from drs_orchestrator.handlers import api
from moto import mock_aws

from infra.naming import EXECUTIONS_STATUS_INDEX
from infra.tables import (
    AUDIT,
    EXECUTIONS,
    JOB_EVENTS,
    PROTECTION_GROUPS,
    READINESS,
    RECOVERY_PLANS,
    SERVER_HOLDS,
    create_table_request,
)
from tests.fakes.drs import FakeDrs
from tests.fakes.lambda_context import LambdaContext

if TYPE_CHECKING:
    from collections.abc import Iterator

REGION = "us-east-1"
TABLES = {
    "groups": "api-groups",
    "plans": "api-plans",
    "executions": "api-executions",
    "events": "api-job-events",
    "holds": "api-server-holds",
    "readiness": "api-readiness",
    "audit": "api-audit",
}
REPORTS_BUCKET = "api-test-bucket"
CAPTURE = (
    Path(__file__).parents[1]
    / "fixtures"
    / "drs"
    / "describe_source_servers__drs-tools_sample-result.json"
)
REAL = json.loads(CAPTURE.read_text())["items"]
REAL_IDS = [s["sourceServerID"] for s in REAL]


def made(prefix: str, count: int) -> list[str]:
    return [f"s-{prefix}{n:0{17 - len(prefix)}d}" for n in range(count)]


class Api:
    def __init__(self, drs: FakeDrs) -> None:
        self.drs = drs
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)

    def __call__(
        self,
        method: str,
        resource: str,
        body: Any = None,
        groups: str = "admin",
        query: dict[str, str] | None = None,
        raw_body: str | None = None,
        headers: dict[str, str] | None = None,
        claims: dict[str, Any] | None = None,
        **path: str,
    ) -> tuple[int, Any]:
        concrete = resource
        for name, value in path.items():
            concrete = concrete.replace("{" + name + "}", value)
        event = {
            "resource": resource,
            "path": concrete,
            "httpMethod": method,
            "headers": {"Content-Type": "application/json", **(headers or {})},
            "multiValueHeaders": {},
            "queryStringParameters": query,
            "multiValueQueryStringParameters": None,
            "pathParameters": path or None,
            "stageVariables": None,
            "body": raw_body
            if raw_body is not None
            else (json.dumps(body) if body is not None else None),
            "isBase64Encoded": False,
            "requestContext": {
                "resourcePath": resource,
                "httpMethod": method,
                "stage": "prod",
                "requestId": str(uuid.uuid4()),
                "path": f"/prod{concrete}",
                "authorizer": {
                    "claims": claims
                    or {
                        "sub": "user-1",
                        "email": "ops@example.com",
                        "cognito:groups": groups,
                    }
                },
            },
        }
        response = api.handler(event, LambdaContext("api"))
        text = response.get("body") or ""
        return response["statusCode"], json.loads(text) if text else None

    def count(self, table: str) -> int:
        return self.dynamodb.scan(TableName=TABLES[table], Select="COUNT")["Count"]


@pytest.fixture
def call(monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "DEPLOYMENT_NAME": "api-test",
        "EXECUTIONS_TABLE": TABLES["executions"],
        "EXECUTIONS_STATUS_INDEX": EXECUTIONS_STATUS_INDEX,
        "JOB_EVENTS_TABLE": TABLES["events"],
        "JOB_EVENTS_RETENTION_DAYS": "30",
        "PROTECTION_GROUPS_TABLE": TABLES["groups"],
        "RECOVERY_PLANS_TABLE": TABLES["plans"],
        "SERVER_HOLDS_TABLE": TABLES["holds"],
        "READINESS_TABLE": TABLES["readiness"],
        # No such function here: every request is refused, and every save must stand.
        "READINESS_FUNCTION": "api-test-readiness",
        "REPORTS_BUCKET": REPORTS_BUCKET,
        "AUDIT_TABLE": TABLES["audit"],
        "AUDIT_RETENTION_DAYS": "400",
    }.items():
        monkeypatch.setenv(name, value)
    drs = FakeDrs(region=REGION)
    drs.source_servers = json.loads(json.dumps(REAL))
    for server in made("b", 250):
        drs.add_source_server(server, {"Tier": "app"})
    monkeypatch.setattr("drs_orchestrator.adapters.drs.make_client", lambda _s: drs.client())
    # boto3's default session kept from test to test (moto starts each mock with a new one
    # by default): the API's clients, made once per session, are made once per process.
    with mock_aws(config={"core": {"reset_boto3_session": False}}):
        client = boto3.client("dynamodb", region_name=REGION)
        for layout, table in (
            (PROTECTION_GROUPS, "groups"),
            (RECOVERY_PLANS, "plans"),
            (EXECUTIONS, "executions"),
            (JOB_EVENTS, "events"),
            (SERVER_HOLDS, "holds"),
            (READINESS, "readiness"),
            (AUDIT, "audit"),
        ):
            client.create_table(**create_table_request(layout, TABLES[table]))
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=REPORTS_BUCKET)
        role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        machine = boto3.client("stepfunctions", region_name=REGION).create_state_machine(
            name="api-recovery",
            roleArn=role["Role"]["Arn"],
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        )
        monkeypatch.setenv("STATE_MACHINE_ARN", machine["stateMachineArn"])
        caches = (api._catalog, api._audit, api._trail)
        for cache in caches:
            cache.cache_clear()
        yield Api(drs)
        for cache in caches:
            cache.cache_clear()


def group(name: str, servers: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "region": REGION, "sourceServerIds": servers or [], **extra}


def test_every_handler_route_is_in_the_openapi_document_and_back() -> None:
    handled = {
        (r.method, r.openapi_path) for r in (*api.app._static_routes, *api.app._dynamic_routes)
    }
    assert handled == schemas.routes()
    for method, path in schemas.routes():
        assert schemas.roles(method, path), f"{method} {path} declares its roles"


def test_protection_group_lifecycle_with_optimistic_locking(call: Api) -> None:
    status, created = call("POST", "/protection-groups", group("web", REAL_IDS[:2]))
    assert status == 201 and created["version"] == 1
    assert created["resolvedServerIds"] == REAL_IDS[:2]
    group_id = created["groupId"]
    assert call("GET", "/protection-groups/{groupId}", groupId=group_id)[1]["name"] == "web"
    status, updated = call(
        "PUT",
        "/protection-groups/{groupId}",
        {**group("web", REAL_IDS[:3]), "version": 1},
        groupId=group_id,
    )
    assert status == 200 and updated["version"] == 2
    status, stale = call(
        "PUT",
        "/protection-groups/{groupId}",
        {**group("web", REAL_IDS[:1]), "version": 1},
        groupId=group_id,
    )
    assert status == 409 and "no longer at version 1" in stale["message"]
    assert (
        call("GET", "/protection-groups/{groupId}", groupId=group_id)[1]["sourceServerIds"]
        == REAL_IDS[:3]
    )
    assert call("DELETE", "/protection-groups/{groupId}", groupId=group_id)[0] == 204
    status, missing = call("GET", "/protection-groups/{groupId}", groupId=group_id)
    assert status == 404 and missing == {"message": f"protection group {group_id} does not exist"}


def test_tag_selectors_resolve_across_every_page_of_the_inventory(call: Api) -> None:
    status, created = call(
        "POST", "/protection-groups", group("apps", tagSelectors={"Tier": ["app"]})
    )
    assert status == 201
    assert len(created["resolvedServerIds"]) == 250
    assert len(call.drs.calls_to("DescribeSourceServers")) >= 2, "inventory pages followed"


def test_a_server_in_two_groups_is_refused_naming_both(call: Api) -> None:
    call("POST", "/protection-groups", group("web", REAL_IDS[:2]))
    status, body = call("POST", "/protection-groups", group("db", [REAL_IDS[1]]))
    assert status == 409
    assert body["errors"] == [
        {
            "field": "sourceServerIds",
            "reason": f"source server {REAL_IDS[1]} already belongs to protection group 'web'",
        }
    ]
    assert call.count("groups") == 1


@pytest.mark.parametrize(
    ("body", "raw", "field", "reason"),
    [
        ({"region": REGION}, None, "name", "is required"),
        (group("x", ["i-1234567890abcdef0"]), None, "sourceServerIds[0]", "must match pattern"),
        (
            {**group("x", REAL_IDS[:1]), "colour": "red"},
            None,
            "body",
            "must not contain {'colour'} properties",
        ),
        (None, "{not json", "body", "Expecting property name"),
        (group("x"), None, "sourceServerIds", "give source server ids, tag selectors, or both"),
    ],
)
def test_bad_group_requests_get_400_with_field_and_reason(
    call: Api, body: Any, raw: str | None, field: str, reason: str
) -> None:
    status, answer = call("POST", "/protection-groups", body, raw_body=raw)
    assert status == 400
    [error] = answer["errors"]
    assert error["field"] == field and reason in error["reason"]
    assert call.count("groups") == 0


@pytest.mark.parametrize(
    ("method", "resource", "groups", "expected"),
    [
        ("GET", "/protection-groups", "read-only", 200),
        ("POST", "/protection-groups", "read-only", 403),
        ("POST", "/protection-groups", "operator", 403),
        ("POST", "/protection-groups", "admin", 201),
        ("POST", "/protection-groups", "", 403),
        ("GET", "/executions", "operator", 200),
        ("GET", "/source-servers", "read-only", 200),
    ],
)
def test_roles_come_from_cognito_groups(
    call: Api, method: str, resource: str, groups: str, expected: int
) -> None:
    body = group("web", REAL_IDS[:1]) if method == "POST" else None
    status, answer = call(method, resource, body, groups=groups)
    assert status == expected
    if expected == 403:
        assert answer["message"].startswith(f"{method} {resource} needs one of the groups")
        assert call.count("groups") == 0


def test_a_real_recovery_is_started_by_an_admin_only(call: Api) -> None:
    """Operators run drills; a recovery launches production in the recovery site, and only
    an admin may ask for one (``x-roles-by-mode``). The refusal says so and writes nothing."""
    plan_id = _groups_and_plan(call)
    route = "/recovery-plans/{planId}/executions"
    for groups in ("operator", "read-only", ""):
        status, body = call("POST", route, {"mode": "RECOVERY"}, groups=groups, planId=plan_id)
        assert status == 403, groups
        expected = (
            "a RECOVERY needs one of the groups admin"
            if groups == "operator"
            else "POST /recovery-plans/{planId}/executions needs one of the groups admin, operator"
        )
        assert body["message"] == expected
    assert call.count("executions") == 0
    status, started = call("POST", route, {"mode": "RECOVERY"}, groups="admin", planId=plan_id)
    assert status == 202 and started["mode"] == "RECOVERY"
    assert (
        call(
            "POST",
            "/executions/{executionId}/cancel",
            groups="operator",
            executionId=started["executionId"],
        )[0]
        == 200
    ), "operators still operate it"


def _groups_and_plan(call: Api, **wave_b: Any) -> str:
    call("POST", "/protection-groups", group("db", REAL_IDS[:2]))
    call("POST", "/protection-groups", group("app", REAL_IDS[2:4]))
    status, plan = call(
        "POST",
        "/recovery-plans",
        {
            "name": "tiers",
            "waves": [
                {"name": "A", "protectionGroups": ["db"]},
                {"name": "B", "protectionGroups": ["app"], "dependsOn": ["A"], **wave_b},
            ],
        },
    )
    assert status == 201, plan
    return plan["planId"]


def test_plan_validation_errors_name_the_field(call: Api) -> None:
    _groups_and_plan(call)
    status, body = call(
        "POST",
        "/recovery-plans",
        {
            "name": "loop",
            "waves": [
                {"name": "A", "protectionGroups": ["db"], "dependsOn": ["B"]},
                {"name": "B", "protectionGroups": ["app"], "dependsOn": ["A"]},
                {"name": "C", "protectionGroups": ["ghost"]},
            ],
        },
    )
    assert status == 400
    assert {"field": "waves", "reason": "dependency cycle: A -> B -> A"} in body["errors"]
    assert {
        "field": "waves[2].protectionGroups[0]",
        "reason": "unknown protection group 'ghost'",
    } in body["errors"]
    assert call.count("plans") == 1


def test_plan_update_is_version_checked_and_used_groups_cannot_go(call: Api) -> None:
    plan_id = _groups_and_plan(call)
    plan = call("GET", "/recovery-plans/{planId}", planId=plan_id)[1]
    change = {"name": "tiers", "description": "v2", "waves": plan["waves"], "version": 1}
    assert call("PUT", "/recovery-plans/{planId}", change, planId=plan_id)[0] == 200
    assert call("PUT", "/recovery-plans/{planId}", change, planId=plan_id)[0] == 409
    db = next(g for g in call("GET", "/protection-groups")[1]["items"] if g["name"] == "db")
    status, body = call("DELETE", "/protection-groups/{groupId}", groupId=db["groupId"])
    assert (
        status == 409
        and body["message"] == "protection group 'db' is used by recovery plan(s) tiers"
    )
    assert call("DELETE", "/recovery-plans/{planId}", planId=plan_id)[0] == 204


def test_starting_an_execution_records_it_and_starts_the_state_machine(call: Api) -> None:
    plan_id = _groups_and_plan(call)
    status, execution = call(
        "POST",
        "/recovery-plans/{planId}/executions",
        {"mode": "DRILL"},
        groups="operator",
        planId=plan_id,
    )
    assert status == 202
    assert execution["status"] == "PENDING" and execution["mode"] == "DRILL"
    assert [w["servers"] for w in execution["waves"]] == [REAL_IDS[:2], REAL_IDS[2:4]]
    runs = call.sfn.list_executions(stateMachineArn=api._catalog().machines._arn)["executions"]
    assert [r["name"] for r in runs] == [execution["executionId"]]
    status, clash = call(
        "POST", "/recovery-plans/{planId}/executions", {"mode": "RECOVERY"}, planId=plan_id
    )
    assert status == 409 and "already uses source server(s)" in clash["message"]
    assert call.count("executions") == 1
    status, bad = call(
        "POST", "/recovery-plans/{planId}/executions", {"mode": "TEST"}, planId=plan_id
    )
    assert status == 400 and bad["errors"][0]["field"] == "mode"
    assert (
        call("POST", "/recovery-plans/{planId}/executions", {"mode": "DRILL"}, planId="rp-missing")[
            0
        ]
        == 404
    )


def _put_execution(call: Api, execution_id: str, status: str, **extra: Any) -> None:
    item = {
        "executionId": execution_id,
        "status": status,
        "mode": "DRILL",
        "planName": "p",
        "startedAt": f"2026-11-01T12:00:0{len(execution_id) % 10}.000000Z",
        "waves": [],
        "jobs": {},
        "servers": {},
        "version": 1,
        **extra,
    }
    call.dynamodb.put_item(TableName=TABLES["executions"], Item=to_item(item))


def test_executions_list_by_status_with_pagination(call: Api) -> None:
    for n in range(3):
        _put_execution(call, f"ex-run-{n}", "RUNNING")
    _put_execution(call, "ex-done", "COMPLETED")
    status, first = call("GET", "/executions", query={"status": "RUNNING", "limit": "2"})
    assert status == 200 and len(first["items"]) == 2 and first["nextToken"]
    _, second = call(
        "GET",
        "/executions",
        query={"status": "RUNNING", "limit": "2", "nextToken": first["nextToken"]},
    )
    ids = {i["executionId"] for i in first["items"] + second["items"]}
    assert ids == {"ex-run-0", "ex-run-1", "ex-run-2"}
    assert call("GET", "/executions", query={"status": "NOPE"})[0] == 400
    status, body = call("GET", "/executions", query={"nextToken": "garbage!"})
    assert status == 400 and body["errors"][0]["field"] == "nextToken"


def test_job_events_are_paginated_in_time_order(call: Api) -> None:
    _put_execution(call, "ex-1", "RUNNING")
    for n in range(5):
        call.dynamodb.put_item(
            TableName=TABLES["events"],
            Item=to_item(
                {
                    "executionId": "ex-1",
                    "eventKey": f"2026-11-01T12:00:0{n}.000000Z#j#E#{n}",
                    "event": "SNAPSHOT_START",
                }
            ),
        )
    _, page = call(
        "GET", "/executions/{executionId}/job-events", query={"limit": "3"}, executionId="ex-1"
    )
    _, rest = call(
        "GET",
        "/executions/{executionId}/job-events",
        query={"limit": "3", "nextToken": page["nextToken"]},
        executionId="ex-1",
    )
    keys = [e["eventKey"] for e in page["items"] + rest["items"]]
    assert keys == sorted(keys) and len(keys) == 5
    assert call("GET", "/executions/{executionId}/job-events", executionId="ex-none")[0] == 404


def test_an_executions_report_is_linked_once_stored_and_only_then(call: Api) -> None:
    """404 naming why while there is none (running; ended but not yet settled by the
    finder), then presigned links that fetch exactly what the janitor stored."""
    import requests
    from drs_orchestrator.adapters.reports import ReportStore

    _put_execution(call, "ex-run", "RUNNING")
    _put_execution(call, "ex-done", "COMPLETED")
    route = "/executions/{executionId}/report"
    status, body = call("GET", route, executionId="ex-run")
    assert status == 404 and body["message"] == (
        "execution ex-run is RUNNING: its report is written once it has ended"
    )
    status, body = call("GET", route, executionId="ex-done", groups="read-only")
    assert status == 404 and "is not stored yet" in body["message"]
    assert call("GET", route, executionId="ex-none")[0] == 404

    store = ReportStore(REPORTS_BUCKET)
    store.put(
        "ex-done", {"reportVersion": 1, "execution": {"executionId": "ex-done"}}, "<h1>ok</h1>"
    )
    status, body = call("GET", route, executionId="ex-done", groups="read-only")
    assert status == 200, body
    assert body["executionId"] == "ex-done" and body["expiresInSeconds"] == 300
    assert body["storedAt"].endswith("Z")
    page = requests.get(body["html"], timeout=5)
    assert page.status_code == 200 and page.text == "<h1>ok</h1>"
    assert page.headers["Content-Type"].startswith("text/html")
    document = requests.get(body["json"], timeout=5)
    assert document.json()["execution"] == {"executionId": "ex-done"}
    assert 'filename="ex-done.json"' in document.headers["Content-Disposition"]
    assert "X-Amz-Expires=300" in body["json"]
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in body["html"], "SigV4: the bucket uses KMS"


def test_cancel_and_resume_refuse_the_wrong_status(call: Api) -> None:
    _put_execution(call, "ex-1", "COMPLETED")
    status, body = call("POST", "/executions/{executionId}/resume", executionId="ex-1")
    assert status == 409 and body["message"] == "execution ex-1 is COMPLETED, not PAUSED"
    status, body = call("POST", "/executions/{executionId}/cancel", executionId="ex-1")
    assert status == 409
    assert call("POST", "/executions/{executionId}/cancel", executionId="ex-nope")[0] == 404
    assert (
        call("POST", "/executions/{executionId}/cancel", groups="read-only", executionId="ex-1")[0]
        == 403
    )


def test_cancel_of_a_running_execution(call: Api) -> None:
    _put_execution(call, "ex-1", "RUNNING")
    status, body = call(
        "POST", "/executions/{executionId}/cancel", groups="operator", executionId="ex-1"
    )
    assert status == 200 and body["status"] == "CANCELLING"


def test_terminate_a_drills_instances_in_calls_of_at_most_200(call: Api) -> None:
    servers = {
        f"s-{n:017d}": {
            "sourceServerId": f"s-{n:017d}",
            "launchStatus": "LAUNCHED",
            "recoveryInstanceId": f"i-{n:017x}",
        }
        for n in range(250)
    }
    _put_execution(call, "ex-1", "COMPLETED", servers=servers)
    status, body = call("POST", "/executions/{executionId}/terminate-instances", executionId="ex-1")
    assert status == 202
    sizes = [len(c["recoveryInstanceIDs"]) for c in call.drs.calls_to("TerminateRecoveryInstances")]
    assert sizes == [200, 50]
    assert len(body["terminations"]) == 2
    assert {j["type"] for j in body["jobs"].values()} == {"TERMINATE"}
    status, again = call(
        "POST", "/executions/{executionId}/terminate-instances", executionId="ex-1"
    )
    assert status == 409 and "no recovery instance left" in again["message"]


def test_a_termination_asked_for_and_not_started_says_when_to_ask_again(call: Api) -> None:
    """A request written down whose function died before DRS was asked looks, for five
    minutes, like one the API is still asking: the 409 says when it may be asked again."""
    from datetime import UTC, datetime, timedelta

    from drs_orchestrator.domain.timestamps import to_iso

    asked = datetime.now(UTC) - timedelta(minutes=1)
    server = {"sourceServerId": "s-1", "launchStatus": "LAUNCHED", "recoveryInstanceId": "i-1"}
    termination = {
        "requestId": "req-1",
        "status": "REQUESTED",
        "requestedAt": to_iso(asked),
        "recoveryInstanceIds": ["i-1"],
    }
    _put_execution(call, "ex-1", "COMPLETED", servers={"s-1": server}, terminations=[termination])
    path = "/executions/{executionId}/terminate-instances"
    status, answer = call("POST", path, executionId="ex-1")
    assert status == 409, answer
    again = to_iso(asked + timedelta(minutes=5))
    assert answer["message"].endswith(f"if it does not start, ask again after {again}")
    assert call.drs.calls_to("TerminateRecoveryInstances") == []


def test_source_servers_are_paginated_with_group_membership(call: Api) -> None:
    call("POST", "/protection-groups", group("web", REAL_IDS[:1]))
    _, first = call("GET", "/source-servers", query={"limit": "100"})
    assert len(first["items"]) == 100 and first["nextToken"] == "100"
    assert first["items"][0] == {
        "sourceServerID": REAL_IDS[0],
        "accountId": "123456789012",
        "region": "us-east-1",
        "target": "home/us-east-1",
        "extended": False,
        "tags": REAL[0]["tags"],
        "hostname": REAL[0]["sourceProperties"]["identificationHints"]["hostname"],
        "protectionGroup": "web",
    }
    pages = [first]
    while "nextToken" in pages[-1]:
        pages.append(
            call(
                "GET",
                "/source-servers",
                query={"limit": "100", "nextToken": pages[-1]["nextToken"]},
            )[1]
        )
    assert sum(len(p["items"]) for p in pages) == 256


def test_the_task_token_is_never_returned(call: Api) -> None:
    _put_execution(call, "ex-1", "PAUSED", taskToken="secret-token")
    body = call("GET", "/executions/{executionId}", executionId="ex-1")[1]
    assert "taskToken" not in body
    for query in (None, {"status": "PAUSED"}):
        status, listing = call("GET", "/executions", query=query)
        assert status == 200
        assert [item["executionId"] for item in listing["items"]] == ["ex-1"]
        assert "secret-token" not in json.dumps(listing)
    # Nor does an operator's control: a second cancel answers with the execution as it is.
    _put_execution(call, "ex-2", "CANCELLING", taskToken="secret-token")
    status, answer = call("POST", "/executions/{executionId}/cancel", executionId="ex-2")
    assert status == 200
    assert answer["executionId"] == "ex-2"
    assert "taskToken" not in answer


ROLES = ("admin", "operator", "read-only")


@pytest.mark.parametrize(("method", "path"), sorted(schemas.routes()))
def test_every_route_refuses_every_role_it_does_not_list(call: Api, method: str, path: str) -> None:
    allowed = set(schemas.roles(method, path))
    params = {name.strip("{}"): "x-1" for name in path.split("/") if name.startswith("{")}
    for role in ROLES:
        status, body = call(
            method, path, {} if method in ("POST", "PUT") else None, groups=role, **params
        )
        if role in allowed:
            assert status != 403, f"{role} may {method} {path}"
        else:
            assert status == 403, f"{role} must not {method} {path}"
            assert body["message"].startswith(f"{method} {path} needs one of the groups")
    assert call.count("groups") == call.count("plans") == call.count("executions") == 0


def test_recovery_plans_are_listed_with_pagination(call: Api) -> None:
    _groups_and_plan(call)
    call(
        "POST",
        "/recovery-plans",
        {"name": "second", "waves": [{"name": "only", "protectionGroups": ["db"]}]},
    )
    status, first = call("GET", "/recovery-plans", groups="read-only", query={"limit": "1"})
    assert status == 200 and len(first["items"]) == 1 and first["nextToken"]
    _, rest = call("GET", "/recovery-plans", query={"limit": "5", "nextToken": first["nextToken"]})
    assert {p["name"] for p in first["items"] + rest["items"]} == {"tiers", "second"}
