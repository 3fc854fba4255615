# ruff: noqa: F811 - the ``call`` fixture is imported from test_api
"""The hardened API: referential integrity, executions that keep what they ran, bounded
input answered 400 (never 5xx), and roles read exactly as the authorizer delivers them.

Every refusal is also checked to have written nothing."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from drs_orchestrator.errors import StoreError
from drs_orchestrator.services.catalog import Catalog

from tests.lambdas.test_api import REAL_IDS, REGION, TABLES, Api, call, group  # noqa: F401

PLAN = {
    "name": "tiers",
    "waves": [
        {"name": "A", "protectionGroups": ["db"]},
        {"name": "B", "protectionGroups": ["app"], "dependsOn": ["A"]},
    ],
}


def _setup(call: Api) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    db = call("POST", "/protection-groups", group("db", REAL_IDS[:2]))[1]
    app = call("POST", "/protection-groups", group("app", REAL_IDS[2:4]))[1]
    status, plan = call("POST", "/recovery-plans", PLAN)
    assert status == 201, plan
    return db, app, plan


def _get_group(call: Api, group_id: str) -> dict[str, Any]:
    return call("GET", "/protection-groups/{groupId}", groupId=group_id)[1]


def _snapshot(call: Api) -> dict[str, list[dict[str, Any]]]:
    """Every stored record a request could change; the audit trail aside, which records a
    refused request by design (tests/lambdas/test_audit.py)."""
    return {
        name: call.dynamodb.scan(TableName=table)["Items"]
        for name, table in TABLES.items()
        if name != "audit"
    }


# -- referential integrity ---------------------------------------------------------------


def test_a_group_in_use_keeps_its_name_until_no_plan_uses_it(call: Api) -> None:
    db, _, plan = _setup(call)
    db = _get_group(call, db["groupId"])
    assert db["usedBy"] == [plan["planId"]]
    before = _snapshot(call)
    status, body = call(
        "PUT",
        "/protection-groups/{groupId}",
        {**group("database", REAL_IDS[:2]), "version": db["version"]},
        groupId=db["groupId"],
    )
    assert status == 409
    assert "used by recovery plan(s) tiers" in body["message"]
    assert body["errors"] == [{"field": "name", "reason": "a group in use keeps its name"}]
    assert _snapshot(call) == before
    # An edit that keeps the name is fine, and keeps the reference.
    status, edited = call(
        "PUT",
        "/protection-groups/{groupId}",
        {**group("db", REAL_IDS[:2], description="primary"), "version": db["version"]},
        groupId=db["groupId"],
    )
    assert status == 200 and edited["usedBy"] == [plan["planId"]]
    # Out of the plan, the group may be renamed.
    only_app = {"name": "tiers", "waves": [PLAN["waves"][1] | {"dependsOn": []}]}
    status, _ = call(
        "PUT", "/recovery-plans/{planId}", {**only_app, "version": 1}, planId=plan["planId"]
    )
    assert status == 200
    db = _get_group(call, db["groupId"])
    assert "usedBy" not in db
    status, renamed = call(
        "PUT",
        "/protection-groups/{groupId}",
        {**group("database", REAL_IDS[:2]), "version": db["version"]},
        groupId=db["groupId"],
    )
    assert status == 200 and renamed["name"] == "database"


def test_a_delete_racing_a_plan_save_is_refused_by_the_reference_itself(
    call: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan scan is the convenience; the condition on ``usedBy`` is the guarantee."""
    db, _, plan = _setup(call)
    monkeypatch.setattr(Catalog, "_plans_using", lambda self, g: [])
    status, _ = call("DELETE", "/protection-groups/{groupId}", groupId=db["groupId"])
    assert status == 409
    assert _get_group(call, db["groupId"])["usedBy"] == [plan["planId"]]


def test_a_rename_between_a_plans_check_and_its_write_fails_the_plan_save(
    call: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _, _ = _setup(call)
    check = Catalog._check_plan

    def rename_meanwhile(self: Catalog, body: dict[str, Any], plan_id: str | None) -> Any:
        take = check(self, body, plan_id)
        current = _get_group(call, db["groupId"])
        call.dynamodb.update_item(
            TableName=TABLES["groups"],
            Key={"groupId": {"S": db["groupId"]}},
            UpdateExpression="SET #n = :n, #v = :v",
            ExpressionAttributeNames={"#n": "name", "#v": "version"},
            ExpressionAttributeValues={
                ":n": {"S": "renamed"},
                ":v": {"N": str(current["version"] + 1)},
            },
        )
        return take

    monkeypatch.setattr(Catalog, "_check_plan", rename_meanwhile)
    status, body = call("POST", "/recovery-plans", {**PLAN, "name": "second"})
    assert status == 409 and "changed while the plan was saved" in body["message"]
    assert call.count("plans") == 1


def test_deleting_a_plan_releases_its_groups(call: Api) -> None:
    db, app, plan = _setup(call)
    assert call("DELETE", "/recovery-plans/{planId}", planId=plan["planId"])[0] == 204
    assert "usedBy" not in _get_group(call, db["groupId"])
    assert call("DELETE", "/protection-groups/{groupId}", groupId=app["groupId"])[0] == 204


def test_an_execution_keeps_the_plan_and_groups_it_ran_and_holds_its_plan(call: Api) -> None:
    db, _, plan = _setup(call)
    status, execution = call(
        "POST", "/recovery-plans/{planId}/executions", {"mode": "DRILL"}, planId=plan["planId"]
    )
    assert status == 202
    change = {**PLAN, "description": "v2", "version": 1}
    assert call("PUT", "/recovery-plans/{planId}", change, planId=plan["planId"])[0] == 200
    stored = call("GET", "/executions/{executionId}", executionId=execution["executionId"])[1]
    assert stored["plan"] == {"name": "tiers", "waves": PLAN["waves"], "version": 1}
    assert stored["protectionGroups"]["db"]["groupId"] == db["groupId"]
    assert stored["protectionGroups"]["db"]["sourceServerIds"] == REAL_IDS[:2]
    assert sorted(stored["protectionGroups"]) == ["app", "db"]
    # While it runs, the plan can be edited but neither renamed nor deleted.
    before = _snapshot(call)
    status, body = call("DELETE", "/recovery-plans/{planId}", planId=plan["planId"])
    assert status == 409 and execution["executionId"] in body["message"]
    renamed = {**PLAN, "name": "other", "version": 2}
    status, body = call("PUT", "/recovery-plans/{planId}", renamed, planId=plan["planId"])
    assert status == 409 and "cannot be renamed" in body["message"]
    assert _snapshot(call) == before


# -- bounded input, 400 never 5xx ----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (group("x", ["s-" + "0" * 17]), "sourceServerIds[0]", "is not in DRS in us-east-1"),
        ({**group("x", REAL_IDS[:1]), "region": "eu-west-1"}, "region", "not a region"),
        (group("x", tagSelectors={"": ["a"]}), "tagSelectors", ""),
        (group("x", tagSelectors={"k" * 10_000: ["a"]}), "tagSelectors", ""),
        (group("x", tagSelectors={"aws:cloudformation:stack": ["a"]}), "tagSelectors", ""),
        (group("x", tagSelectors={"Tier": ["a\u0000b"]}), "tagSelectors.Tier[0]", "pattern"),
    ],
)
def test_bad_groups_get_400_naming_the_field(
    call: Api, body: dict[str, Any], field: str, reason: str
) -> None:
    status, answer = call("POST", "/protection-groups", body)
    assert status == 400, answer
    [error] = answer["errors"]
    assert error["field"].startswith(field) and reason in error["reason"]
    assert call.count("groups") == 0


def test_tag_keys_follow_aws_rules_including_unicode_letters(call: Api) -> None:
    status, _ = call("POST", "/protection-groups", group("x", tagSelectors={"Équipe 1": ["é"]}))
    assert status == 201


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("[" * 5000 + "]" * 5000, "nested deeper than 32 levels"),
        ("[" * 200_000 + "]" * 200_000, "bytes; at most 262144"),
        ('{"a":' * 40 + "1" + "}" * 40, "nested deeper than 32 levels"),
    ],
)
def test_deep_or_huge_json_is_a_400(call: Api, raw: str, reason: str) -> None:
    for resource in ("/protection-groups", "/recovery-plans"):
        status, answer = call("POST", resource, raw_body=raw)
        assert status == 400 and reason in answer["errors"][0]["reason"]
    assert call.count("groups") == 0 and call.count("plans") == 0


def test_a_plan_too_large_to_store_is_a_400_naming_why(call: Api) -> None:
    _setup(call)
    params = {f"p{i}": ["v" * 512] * 10 for i in range(10)}
    heavy = {
        "name": "heavy",
        "waves": [
            {
                "name": "A",
                "protectionGroups": ["db"],
                "preActions": [{"document": "AWS-RunShellScript", "parameters": params}],
            }
        ],
    }
    status, answer = call("POST", "/recovery-plans", heavy)
    assert status == 400
    assert answer["errors"][0]["field"] == "body"
    assert "at most 32768" in answer["errors"][0]["reason"]
    assert call.count("plans") == 1


def test_an_unforeseen_error_is_json_and_aws_trouble_is_503(
    call: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(self: Catalog, group_id: str) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(Catalog, "get_group", boom)
    status, body = call("GET", "/protection-groups/{groupId}", groupId="pg-1")
    assert status == 500 and "internal error" in body["message"]

    def throttled(self: Catalog, group_id: str) -> None:
        raise StoreError("GetItem", "ThrottlingException", "Rate exceeded")

    monkeypatch.setattr(Catalog, "get_group", throttled)
    status, body = call("GET", "/protection-groups/{groupId}", groupId="pg-1")
    assert status == 503 and "try again" in body["message"]


# -- roles exactly as the authorizer delivers them ------------------------------------------


def _token(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'kid': 'k'})}.{part(claims)}.c2lnbmF0dXJl"


def _as(groups: list[str], *, token_groups: list[str] | None = None, sub: str = "u-1") -> dict:
    token = {"sub": "u-1", "iat": 1764460800, "cognito:groups": token_groups or groups}
    claims = {"sub": sub, "iat": "1764460800", "cognito:groups": ",".join(groups)}
    return {"claims": claims, "headers": {"Authorization": _token(token)}}


@pytest.mark.parametrize(
    ("identity", "expected"),
    [
        (_as(["admin"]), 201),
        (_as(["ops,admin"]), 403),  # one group whose name holds a comma: not admin
        (_as(["read-only", "admin"]), 201),
        (_as(["ops admin", "[admin]"]), 403),  # spaces and brackets are part of names
        (_as(["ops admin", "admin"]), 201),
        # The claim says two groups but the token is another one's: not trusted.
        (_as(["ops", "admin"], token_groups=["ops", "admin"], sub="someone-else"), 403),
        ({"claims": {"sub": "u-1", "cognito:groups": ["viewer", "admin"]}}, 201),
        ({"claims": {"sub": "u-1", "cognito:groups": "admin"}}, 201),
        ({"claims": {"sub": "u-1", "cognito:groups": "ops,admin"}}, 403),
    ],
)
def test_groups_are_read_exactly(call: Api, identity: dict[str, Any], expected: int) -> None:
    status, _ = call("POST", "/protection-groups", group("web", REAL_IDS[:1]), **identity)
    assert status == expected
    assert call.count("groups") == (1 if expected == 201 else 0)


def _encoded(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


@pytest.mark.parametrize(
    ("resource", "query"),
    [
        ("/protection-groups", {"nextToken": _encoded({"groupId": {"N": "1"}})}),
        ("/protection-groups", {"nextToken": _encoded({"planId": {"S": "rp-1"}})}),
        ("/recovery-plans", {"nextToken": _encoded({"planId": {"S": ""}})}),
        ("/recovery-plans", {"nextToken": "x" * 3000}),
        (
            "/executions",
            {
                "status": "PAUSED",
                "nextToken": _encoded(
                    {"executionId": {"S": "e"}, "status": {"S": "RUNNING"}, "startedAt": {"S": "t"}}
                ),
            },
        ),
        ("/executions", {"nextToken": _encoded({"executionId": {"S": "e"}, "x": {"S": "y"}})}),
        ("/source-servers", {"nextToken": "9" * 3000}),
    ],
)
def test_forged_page_tokens_are_a_400_before_dynamodb_sees_them(
    call: Api, resource: str, query: dict[str, str]
) -> None:
    status, answer = call("GET", resource, query=query)
    assert status == 400, answer
    assert answer["errors"][0]["field"] == "nextToken"


def test_a_blank_page_token_is_the_first_page(call: Api) -> None:
    _setup(call)
    status, page = call("GET", "/protection-groups", query={"nextToken": "", "limit": "1"})
    assert status == 200 and len(page["items"]) == 1


# -- 4xx, never 5xx, for what a caller gets wrong (issue 30) ----------------------------

LIST_ROUTES = [
    ("/protection-groups", {}),
    ("/recovery-plans", {}),
    ("/executions", {}),
    ("/source-servers", {}),
    ("/readiness", {}),
    ("/audit", {}),
    ("/recovery-plans/{planId}/executions", {"planId": "p-1"}),
    ("/recovery-plans/{planId}/readiness/history", {"planId": "p-1"}),
]


@pytest.mark.parametrize(("resource", "path"), LIST_ROUTES)
@pytest.mark.parametrize("limit", ["²", "٣", "1²", "0", "101", "+5", " 5", "5.0"])
def test_a_page_size_that_is_not_ascii_digits_is_a_400(
    call: Api, resource: str, path: dict[str, str], limit: str
) -> None:
    """``str.isdigit`` takes ``²`` (which ``int`` cannot read: a 500 on every list)."""
    status, answer = call("GET", resource, groups="read-only", query={"limit": limit}, **path)
    assert status == 400, answer
    assert answer["errors"] == [{"field": "limit", "reason": "must be 1 to 100"}]


def test_a_source_server_page_token_of_unicode_digits_is_a_400(call: Api) -> None:
    status, answer = call("GET", "/source-servers", query={"nextToken": "²"})
    assert status == 400, answer
    assert answer["errors"][0]["field"] == "nextToken"


@pytest.mark.parametrize("kind", ["group", "plan"])
def test_a_version_dynamodb_cannot_hold_is_a_400_with_its_audit_record(
    call: Api, kind: str
) -> None:
    """A version of 10^38 (39 digits: DynamoDB's numbers hold 38) answered 500 and left no
    audit record; the document bounds it, so it is refused, recorded, and nothing else."""
    db, _, plan = _setup(call)
    before = _snapshot(call)
    if kind == "group":
        route, body, key = "/protection-groups/{groupId}", group("db", REAL_IDS[:2]), "groupId"
        ident = db["groupId"]
    else:
        route, body, key = "/recovery-plans/{planId}", dict(PLAN), "planId"
        ident = plan["planId"]
    status, answer = call("PUT", route, {**body, "version": 10**38}, **{key: ident})
    assert status == 400, answer
    assert answer["errors"][0]["field"] == "version"
    assert "9007199254740991" in answer["errors"][0]["reason"]
    assert _snapshot(call) == before
    records = call("GET", "/audit", groups="read-only", query={"limit": "100"})[1]["items"]
    refused = [r for r in records if r["status"] == 400]
    assert [(r["outcome"], r["objectId"]) for r in refused] == [("refused", ident)]


def test_a_lone_surrogate_is_a_400_naming_the_field(call: Api) -> None:
    """JSON's ``\\ud800`` makes a string no UTF-8 text can hold: it answered 503 'try
    again', which no retry could ever satisfy."""
    raw = json.dumps(group("db", REAL_IDS[:2], description="x")).replace(
        '"description": "x"', '"description": "bad \\ud800 text"'
    )
    raw = raw.replace('"name": "db"', '"name": "db", "\\udfff": 1')
    before = _snapshot(call)
    status, answer = call("POST", "/protection-groups", raw_body=raw)
    assert status == 400, answer
    assert answer["message"] == "the body is not valid Unicode text"
    assert [e["field"] for e in answer["errors"]] == ["body", "description"]
    assert "lone UTF-16 surrogate" in answer["errors"][0]["reason"]
    assert _snapshot(call) == before
    # A surrogate pair (one character beyond the BMP) is valid text.
    emoji = json.dumps(group("db", REAL_IDS[:2], description="ok \U0001f600"))
    assert call("POST", "/protection-groups", raw_body=emoji)[0] == 201


@pytest.mark.parametrize(
    ("method", "resource"),
    [("GET", "/no-such-thing"), ("DELETE", "/executions"), ("PATCH", "/recovery-plans")],
)
def test_a_request_no_route_matches_is_a_404(call: Api, method: str, resource: str) -> None:
    status, answer = call(method, resource)
    assert status == 404, answer
    assert answer == {"message": f"no such operation: {method} {resource}"}


def test_an_unknown_query_parameter_is_a_400_naming_it(call: Api) -> None:
    """``GET /audit?since=...`` answered the whole trail as if it had been filtered."""
    status, answer = call("GET", "/audit", groups="read-only", query={"since": "2026-01-01"})
    assert status == 400, answer
    assert answer["errors"] == [
        {"field": "since", "reason": "is not a parameter of this operation"}
    ]
    assert answer["message"] == (
        "unknown query parameter(s) since; GET /audit takes: action, from, limit, nextToken, "
        "object, plan, to, user"
    )
    _setup(call)
    before = _snapshot(call)
    status, answer = call(
        "POST", "/protection-groups", group("x", REAL_IDS[5:6]), query={"dryRun": "true"}
    )
    assert status == 400 and answer["errors"][0]["field"] == "dryRun"
    assert _snapshot(call) == before
    assert call("GET", "/audit", groups="read-only", query={"user": "nobody"})[0] == 200
