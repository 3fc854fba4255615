"""The DynamoDB table layouts, as plain data shared by the Pulumi component and the tests.

Keeping keys and indexes in one place means the moto tables the Lambda tests run against
are the tables the program deploys.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.naming import (
    AUDIT_ACTOR_INDEX,
    AUDIT_OBJECT_INDEX,
    AUDIT_PLAN_INDEX,
    EXECUTIONS_PLAN_INDEX,
    EXECUTIONS_PLAN_INDEX_ATTRIBUTES,
    EXECUTIONS_STATUS_INDEX,
    EXECUTIONS_WATCH_INDEX,
)


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str | None = None
    #: Attributes projected besides the keys; empty: every attribute (ALL).
    attributes: tuple[str, ...] = ()

    @property
    def projection_type(self) -> str:
        return "INCLUDE" if self.attributes else "ALL"


@dataclass(frozen=True)
class TableLayout:
    short_name: str
    purpose: str
    hash_key: str
    range_key: str | None = None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None

    #: Every key attribute (all strings here).
    @property
    def key_attributes(self) -> list[str]:
        names = [self.hash_key, self.range_key]
        for index in self.indexes:
            names += [index.hash_key, index.range_key]
        return sorted({n for n in names if n})


EXECUTIONS = TableLayout(
    short_name="executions",
    purpose="One item per execution: waves, DRS jobs and per-server launch status.",
    hash_key="executionId",
    # Sparse by design: only items with a status are indexed, and the finder queries one
    # active status at a time, so finished history is never read.
    indexes=(
        Index(EXECUTIONS_STATUS_INDEX, hash_key="status", range_key="startedAt"),
        # Sparse too: an execution leaves it once it ended and everything it started in
        # DRS (launches, terminations), its notifications and its server holds are settled.
        Index(EXECUTIONS_WATCH_INDEX, hash_key="watch", range_key="startedAt"),
        # A plan's executions newest first, as summaries (the recovery-time trend): an
        # item can be hundreds of KB, its summary a few hundred bytes.
        Index(
            EXECUTIONS_PLAN_INDEX,
            hash_key="planId",
            range_key="startedAt",
            attributes=EXECUTIONS_PLAN_INDEX_ATTRIBUTES,
        ),
    ),
    # Only an execution's sleep item (``<id>#sleep``: the token of its machine's sleep,
    # rewritten at every sleep) carries it, a day after it was written; executions never.
    ttl_attribute="expiresAt",
)

JOB_EVENTS = TableLayout(
    short_name="job-events",
    purpose="One item per DRS job log item, keyed so that re-polling never duplicates it.",
    hash_key="executionId",
    range_key="eventKey",
    ttl_attribute="expiresAt",
)

PROTECTION_GROUPS = TableLayout(
    short_name="protection-groups",
    purpose="One item per protection group: explicit servers and tag selectors, versioned.",
    hash_key="groupId",
)

RECOVERY_PLANS = TableLayout(
    short_name="recovery-plans",
    purpose="One item per recovery plan: its waves, dependencies and actions, versioned.",
    hash_key="planId",
)

SERVER_HOLDS = TableLayout(
    short_name="server-holds",
    purpose="One item per source server an active execution holds: two starts sharing a "
    "server cannot both win (conditional puts, no check-then-act).",
    hash_key="sourceServerId",
)

READINESS = TableLayout(
    short_name="readiness",
    purpose="One item per recorded readiness evaluation of a plan, newest read first; "
    "an evaluation that changed the plan's state holds its notice until SNS took it.",
    hash_key="planId",
    range_key="evaluatedAt",
    ttl_attribute="expiresAt",
)

AUDIT = TableLayout(
    short_name="audit",
    purpose="Append-only audit trail: one record per audited API request's intent and one "
    "per outcome (domain/audit.py), newest first by sk, kept auditRetentionDays.",
    hash_key="trail",
    range_key="sk",
    indexes=(
        Index(AUDIT_ACTOR_INDEX, hash_key="actor", range_key="sk"),
        Index(AUDIT_OBJECT_INDEX, hash_key="objectId", range_key="sk"),
        Index(AUDIT_PLAN_INDEX, hash_key="planId", range_key="sk"),
    ),
    ttl_attribute="expiresAt",
)

TABLES: tuple[TableLayout, ...] = (
    EXECUTIONS,
    JOB_EVENTS,
    PROTECTION_GROUPS,
    RECOVERY_PLANS,
    SERVER_HOLDS,
    READINESS,
    AUDIT,
)


def create_table_request(layout: TableLayout, table_name: str) -> dict:
    """A boto3 ``create_table`` request for ``layout`` (used by tests, sandbox, benchmarks)."""

    def key_schema(hash_key: str, range_key: str | None) -> list[dict[str, str]]:
        schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
        if range_key:
            schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
        return schema

    request: dict = {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"} for name in layout.key_attributes
        ],
        "KeySchema": key_schema(layout.hash_key, layout.range_key),
    }
    if layout.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": key_schema(index.hash_key, index.range_key),
                "Projection": {"ProjectionType": index.projection_type}
                | ({"NonKeyAttributes": list(index.attributes)} if index.attributes else {}),
            }
            for index in layout.indexes
        ]
    return request
