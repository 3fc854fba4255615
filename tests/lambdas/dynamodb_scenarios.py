"""The requests ``test_dynamodb_stand_in.py`` sends to moto and to the DynamoDB stand-in:
the runtime's own expressions, conditions, transactions, indexes and pages, by scenario."""

from __future__ import annotations

from typing import Any

from infra.tables import AUDIT, EXECUTIONS, RECOVERY_PLANS, SERVER_HOLDS
from tests.fakes.dynamodb import ITEM_SIZE_LIMIT

EXECUTIONS_TABLE, PLANS_TABLE, HOLDS_TABLE, AUDIT_TABLE = "executions", "plans", "holds", "audit"
TABLES = {
    EXECUTIONS_TABLE: EXECUTIONS,
    PLANS_TABLE: RECOVERY_PLANS,
    HOLDS_TABLE: SERVER_HOLDS,
    AUDIT_TABLE: AUDIT,
}
STATUS_INDEX = EXECUTIONS.indexes[0].name
PLAN_INDEX = EXECUTIONS.indexes[2].name
OBJECT_INDEX = AUDIT.indexes[1].name
Step = tuple[str, dict[str, Any]]


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def execution(number: int, status: str = "RUNNING", **more: Any) -> dict[str, Any]:
    return {
        "executionId": s(f"exec-{number:03d}"),
        "status": s(status),
        "startedAt": s(f"2026-01-01T00:{number:02d}:00Z"),
        "planId": s("plan-1"),
        "version": n(1),
        "jobs": {"M": {}},
        "outbox": {"M": {"n1": {"M": {"event": s("started")}}}},
        "targets": {"L": [s("111122223333/us-west-2")]},
        **more,
    }


def key(number: int) -> dict[str, Any]:
    return {"executionId": s(f"exec-{number:03d}")}


def put(item: dict[str, Any], **more: Any) -> Step:
    return ("PutItem", {"TableName": EXECUTIONS_TABLE, "Item": item, **more})


def update(number: int, expression: str, **more: Any) -> Step:
    return (
        "UpdateItem",
        {"TableName": EXECUTIONS_TABLE, "Key": key(number), "UpdateExpression": expression, **more},
    )


def get(number: int, **more: Any) -> Step:
    return (
        "GetItem",
        {"TableName": EXECUTIONS_TABLE, "Key": key(number), "ConsistentRead": True, **more},
    )


SCENARIOS: dict[str, list[Step]] = {
    "a conditional put refuses a second start": [
        put(execution(1), ConditionExpression="attribute_not_exists(executionId)"),
        put(execution(1), ConditionExpression="attribute_not_exists(executionId)"),
        get(1),
    ],
    "a versioned save refuses a stale version": [
        put(execution(1)),
        update(
            1,
            "SET #version = :next, #a0 = :a0",
            ConditionExpression="#version = :expected",
            ExpressionAttributeNames={"#version": "version", "#a0": "status"},
            ExpressionAttributeValues={":expected": n(1), ":next": n(2), ":a0": s("PAUSED")},
        ),
        update(
            1,
            "SET #version = :next",
            ConditionExpression="#version = :expected",
            ExpressionAttributeNames={"#version": "version"},
            ExpressionAttributeValues={":expected": n(1), ":next": n(2)},
        ),
        get(1),
    ],
    "nested sets and removes, under a parent that is there or not": [
        put(execution(1)),
        update(
            1,
            "SET jobs.#j0 = :j0, #outbox.#o0 = :o0 REMOVE #r0",
            ExpressionAttributeNames={
                "#j0": "drsjob-1",
                "#outbox": "outbox",
                "#o0": "n2",
                "#r0": "targets",
            },
            ExpressionAttributeValues={":j0": {"M": {"status": s("PENDING")}}, ":o0": {"M": {}}},
        ),
        update(
            1,
            "SET missing.#a = :v",
            ExpressionAttributeNames={"#a": "a"},
            ExpressionAttributeValues={":v": n(1)},
        ),
        update(
            1,
            "REMOVE #p0.#p1, #p2.#p3",
            ExpressionAttributeNames={"#p0": "outbox", "#p1": "n1", "#p2": "outbox", "#p3": "gone"},
        ),
        get(1),
    ],
    "counters and sets: ADD and DELETE": [
        put(execution(1)),
        update(
            1,
            "SET wakeRequestedAt = :stamp ADD wakeRequests :one",
            ExpressionAttributeValues={":stamp": s("t1"), ":one": n(1)},
        ),
        update(
            1,
            "ADD wakeRequests :one, usedBy :user",
            ExpressionAttributeValues={":one": n(1), ":user": {"SS": ["plan-a", "plan-b"]}},
        ),
        update(1, "DELETE usedBy :user", ExpressionAttributeValues={":user": {"SS": ["plan-a"]}}),
        get(1),
        update(1, "DELETE usedBy :user", ExpressionAttributeValues={":user": {"SS": ["plan-b"]}}),
        get(1),
        update(
            1,
            "SET #version = #version + :one",
            ExpressionAttributeNames={"#version": "version"},
            ExpressionAttributeValues={":one": n(1)},
        ),
        update(
            1,
            "ADD #status :one",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":one": n(1)},
        ),
        get(1),
    ],
    "a wake is counted only on a live execution": [
        put(execution(1, "COMPLETED")),
        put(execution(2)),
        *(
            update(
                number,
                "SET wakeRequestedAt = :stamp ADD wakeRequests :one",
                ConditionExpression="attribute_exists(executionId) AND NOT #status IN (:ended0, :ended1)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":stamp": s("t"),
                    ":one": n(1),
                    ":ended0": s("COMPLETED"),
                    ":ended1": s("FAILED"),
                },
            )
            for number in (1, 2, 3)
        ),
        get(1),
        get(2),
        get(3),
    ],
    "server holds: taken once, taken over, released by their holder only": [
        *(
            (
                "PutItem",
                {
                    "TableName": HOLDS_TABLE,
                    "Item": {
                        "sourceServerId": s("s-1"),
                        "executionId": s(holder),
                        "heldAt": s("t"),
                    },
                    "ConditionExpression": condition,
                    "ExpressionAttributeValues": values,
                },
            )
            for holder, condition, values in (
                (
                    "exec-1",
                    "attribute_not_exists(sourceServerId) OR executionId = :me",
                    {":me": s("exec-1")},
                ),
                (
                    "exec-2",
                    "attribute_not_exists(sourceServerId) OR executionId = :me",
                    {":me": s("exec-2")},
                ),
                (
                    "exec-2",
                    "attribute_not_exists(sourceServerId) OR executionId = :me OR executionId = :old",
                    {":me": s("exec-2"), ":old": s("exec-1")},
                ),
            )
        ),
        *(
            (
                "DeleteItem",
                {
                    "TableName": HOLDS_TABLE,
                    "Key": {"sourceServerId": s("s-1")},
                    "ConditionExpression": "executionId = :me",
                    "ExpressionAttributeValues": {":me": s(holder)},
                },
            )
            for holder in ("exec-1", "exec-2", "exec-2")
        ),
        ("GetItem", {"TableName": HOLDS_TABLE, "Key": {"sourceServerId": s("s-1")}}),
    ],
    "a transaction applies all or nothing, with a reason per action": [
        (
            "PutItem",
            {
                "TableName": PLANS_TABLE,
                "Item": {"planId": s("p1"), "name": s("one"), "version": n(1)},
            },
        ),
        *(
            (
                "TransactWriteItems",
                {
                    "TransactItems": [
                        {
                            "Put": {
                                "TableName": PLANS_TABLE,
                                "Item": {"planId": s("p2"), "version": n(1)},
                                "ConditionExpression": "attribute_not_exists(planId)",
                            }
                        },
                        {
                            "Update": {
                                "TableName": PLANS_TABLE,
                                "Key": {"planId": s("p1")},
                                "UpdateExpression": "SET #version = #version + :one ADD usedBy :user",
                                "ConditionExpression": "attribute_exists(#key) AND #name = :name",
                                "ExpressionAttributeNames": {
                                    "#version": "version",
                                    "#key": "planId",
                                    "#name": "name",
                                },
                                "ExpressionAttributeValues": {
                                    ":one": n(1),
                                    ":user": {"SS": ["p2"]},
                                    ":name": s(name),
                                },
                            }
                        },
                    ]
                },
            )
            for name in ("renamed", "one", "one")
        ),
        ("Scan", {"TableName": PLANS_TABLE}),
        (
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Delete": {"TableName": PLANS_TABLE, "Key": {"planId": s("p1")}}},
                    {
                        "ConditionCheck": {
                            "TableName": PLANS_TABLE,
                            "Key": {"planId": s("p1")},
                            "ConditionExpression": "attribute_exists(planId)",
                        }
                    },
                ]
            },
        ),
        (
            "DeleteItem",
            {
                "TableName": PLANS_TABLE,
                "Key": {"planId": s("p1")},
                "ConditionExpression": "attribute_not_exists(usedBy)",
            },
        ),
        ("Scan", {"TableName": PLANS_TABLE}),
    ],
    "the sparse status index, newest first, page by page": [
        *(put(execution(i, "RUNNING" if i % 3 else "COMPLETED")) for i in range(1, 12)),
        update(4, "REMOVE #status", ExpressionAttributeNames={"#status": "status"}),
        (
            "Query",
            {
                "TableName": EXECUTIONS_TABLE,
                "IndexName": STATUS_INDEX,
                "KeyConditionExpression": "#status = :status",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":status": s("RUNNING")},
                "ScanIndexForward": False,
                "Limit": 3,
            },
        ),
        (
            "Query",
            {
                "TableName": EXECUTIONS_TABLE,
                "IndexName": STATUS_INDEX,
                "KeyConditionExpression": "#status = :status",
                "ExpressionAttributeNames": {"#status": "status", "#targets": "targets"},
                "ExpressionAttributeValues": {
                    ":status": s("RUNNING"),
                    ":target": s("111122223333/us-west-2"),
                },
                "FilterExpression": "contains(#targets, :target)",
                "Limit": 4,
            },
        ),
        (
            "Query",
            {
                "TableName": EXECUTIONS_TABLE,
                "IndexName": PLAN_INDEX,
                "KeyConditionExpression": "planId = :plan",
                "ExpressionAttributeValues": {":plan": s("plan-1")},
                "ScanIndexForward": False,
                "Limit": 2,
            },
        ),
        (
            "Query",
            {
                "TableName": EXECUTIONS_TABLE,
                "IndexName": STATUS_INDEX,
                "ConsistentRead": True,
                "KeyConditionExpression": "#status = :status",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":status": s("RUNNING")},
            },
        ),
    ],
    "scans: a filter after the limit, counts, the sleep items left out": [
        *(put(execution(i)) for i in range(1, 8)),
        put({"executionId": s("exec-002#sleep"), "sleepToken": s("token")}),
        (
            "Scan",
            {
                "TableName": EXECUTIONS_TABLE,
                "Limit": 4,
                "FilterExpression": "NOT contains(#id, :sleep)",
                "ExpressionAttributeNames": {"#id": "executionId"},
                "ExpressionAttributeValues": {":sleep": s("#sleep")},
            },
        ),
        ("Scan", {"TableName": EXECUTIONS_TABLE, "Select": "COUNT"}),
        (
            "Scan",
            {
                "TableName": EXECUTIONS_TABLE,
                "FilterExpression": "#w0 = :w0 AND attribute_not_exists(#w1)",
                "ExpressionAttributeNames": {"#w0": "status", "#w1": "reason"},
                "ExpressionAttributeValues": {":w0": s("RUNNING")},
            },
        ),
    ],
    "the audit trail: a range of sort keys, newest first, by object": [
        *(
            (
                "PutItem",
                {
                    "TableName": AUDIT_TABLE,
                    "Item": {
                        "trail": s("audit"),
                        "sk": s(f"2026-01-0{day}T00:00:00Z#{n}"),
                        "objectId": s(f"o{n % 2}"),
                        "action": s("start" if n % 3 else "stop"),
                        "actor": s("ops"),
                    },
                    "ConditionExpression": "attribute_not_exists(sk)",
                },
            )
            for n, day in enumerate((1, 2, 3, 4, 5, 6, 7, 8))
        ),
        (
            "Query",
            {
                "TableName": AUDIT_TABLE,
                "KeyConditionExpression": "#p = :p AND #sk BETWEEN :since AND :until",
                "ExpressionAttributeNames": {"#p": "trail", "#sk": "sk", "#action": "action"},
                "ExpressionAttributeValues": {
                    ":p": s("audit"),
                    ":since": s("2026-01-02"),
                    ":until": s("2026-01-06~"),
                    ":action": s("start"),
                },
                "FilterExpression": "#action = :action",
                "ScanIndexForward": False,
                "Limit": 10,
            },
        ),
        (
            "Query",
            {
                "TableName": AUDIT_TABLE,
                "IndexName": OBJECT_INDEX,
                "KeyConditionExpression": "#p = :p AND #sk >= :since",
                "ExpressionAttributeNames": {"#p": "objectId", "#sk": "sk"},
                "ExpressionAttributeValues": {":p": s("o1"), ":since": s("2026-01-03")},
                "ScanIndexForward": False,
            },
        ),
        (
            "Query",
            {
                "TableName": AUDIT_TABLE,
                "KeyConditionExpression": "trail = :p AND begins_with(sk, :day)",
                "ExpressionAttributeValues": {":p": s("audit"), ":day": s("2026-01-04")},
            },
        ),
    ],
    "batches of 25 puts, and a batch that names one key twice": [
        (
            "BatchWriteItem",
            {
                "RequestItems": {
                    EXECUTIONS_TABLE: [{"PutRequest": {"Item": execution(i)}} for i in range(1, 26)]
                }
            },
        ),
        ("Scan", {"TableName": EXECUTIONS_TABLE, "Select": "COUNT"}),
        (
            "BatchWriteItem",
            {
                "RequestItems": {
                    EXECUTIONS_TABLE: [
                        {"PutRequest": {"Item": execution(1)}},
                        {"DeleteRequest": {"Key": key(1)}},
                    ]
                }
            },
        ),
        (
            "BatchWriteItem",
            {
                "RequestItems": {
                    EXECUTIONS_TABLE: [{"DeleteRequest": {"Key": key(i)}} for i in range(1, 11)]
                }
            },
        ),
        ("Scan", {"TableName": EXECUTIONS_TABLE, "Select": "COUNT"}),
    ],
    "projections and refusals of malformed requests": [
        put(
            execution(
                1,
                jobs={"M": {"j1": {"M": {"status": s("COMPLETED"), "servers": {"L": [s("s-1")]}}}}},
            )
        ),
        get(
            1,
            ProjectionExpression="#a0, #a1",
            ExpressionAttributeNames={"#a0": "status", "#a1": "version"},
        ),
        get(1, ProjectionExpression="jobs.j1.#s", ExpressionAttributeNames={"#s": "status"}),
        get(
            1,
            ProjectionExpression="#a0",
            ExpressionAttributeNames={"#a0": "status", "#a1": "version"},
        ),
        update(
            1,
            "SET #a = :a",
            ExpressionAttributeNames={"#a": "status"},
            ExpressionAttributeValues={":a": s("x"), ":b": s("y")},
        ),
        update(
            1,
            "SET #a = :a",
            ExpressionAttributeNames={"#a": "executionId"},
            ExpressionAttributeValues={":a": s("x")},
        ),
        update(1, "SET jobs = :a, jobs.j2 = :a", ExpressionAttributeValues={":a": {"M": {}}}),
        update(
            1, "SET #a = #missing", ExpressionAttributeNames={"#a": "status", "#missing": "missing"}
        ),
        ("GetItem", {"TableName": EXECUTIONS_TABLE, "Key": {"executionId": n(1)}}),
        ("GetItem", {"TableName": EXECUTIONS_TABLE, "Key": {"status": s("RUNNING")}}),
        put({"status": s("RUNNING")}),
        ("GetItem", {"TableName": "no-such-table", "Key": key(1)}),
        get(1),
    ],
    "the item size limit": [
        put(execution(1, big={"S": "x" * (ITEM_SIZE_LIMIT - 2_000)})),
        put(execution(2, big={"S": "x" * (ITEM_SIZE_LIMIT + 1)})),
        update(1, "SET more = :more", ExpressionAttributeValues={":more": {"S": "y" * 3_000}}),
        update(1, "SET more = :more", ExpressionAttributeValues={":more": {"S": "y" * 100}}),
        get(1, ProjectionExpression="more"),
    ],
}
