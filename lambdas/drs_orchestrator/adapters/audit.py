"""The audit trail's table: records are only ever put (never over an existing one), and read
newest first, whole or by user, object or plan (``domain/audit.py`` says what they hold).

The API's role may only ``PutItem`` and ``Query`` this table, and the table's own resource
policy denies every principal any other write (``infra/components/datastore.py``); the
policy pack's ``audit-trail-append-only`` rule proves no role of the stack is granted one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from drs_orchestrator.adapters.clients import client as make_client
from drs_orchestrator.adapters.clients import error_code
from drs_orchestrator.adapters.dynamodb import (
    decode_token,
    encode_token,
    from_item,
    map_store_error,
    to_item,
)
from drs_orchestrator.domain import audit

#: Indexes of the audit table (``infra/naming.py`` names them too; a test keeps them equal).
AUDIT_ACTOR_INDEX = "actor-index"
AUDIT_OBJECT_INDEX = "object-index"
AUDIT_PLAN_INDEX = "plan-index"
#: Query pages read for one page of entries before answering with what was found (a
#: filter may match few records): the caller goes on with the token.
MAX_READS_PER_PAGE = 8


@dataclass(frozen=True)
class AuditFilter:
    """What a listing is narrowed to; each is optional. ``since``/``until`` are ISO 8601
    moments (UTC, as the trail writes them) bounding ``at``."""

    user: str | None = None
    object_id: str | None = None
    plan_id: str | None = None
    action: str | None = None
    since: str | None = None
    until: str | None = None

    def partition(self) -> tuple[str | None, str, str]:
        """(index, its partition attribute, the value): the narrowest the filter allows."""
        if self.object_id:
            return AUDIT_OBJECT_INDEX, "objectId", self.object_id
        if self.plan_id:
            return AUDIT_PLAN_INDEX, "planId", self.plan_id
        if self.user:
            return AUDIT_ACTOR_INDEX, "actor", self.user
        return None, "trail", audit.TRAIL


class AuditTrail:
    def __init__(self, table: str, client: Any = None) -> None:
        self._table = table
        self._client = client or make_client("dynamodb")

    def add(self, record: dict[str, Any]) -> None:
        """Put a record that must not exist yet (a repeated put of the same record, its
        answer lost the first time, finds it there and is done)."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(record),
                ConditionExpression="attribute_not_exists(sk)",
            )
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return
            raise map_store_error("PutItem", exc) from exc

    def page(
        self, wanted: AuditFilter, limit: int, token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to ``limit`` entries, newest first, and the token of the next page."""
        index, name, value = wanted.partition()
        key_names = {"trail", "sk"} | ({name} if index else set())
        params = self._query(wanted, index, name, value, limit)
        start = decode_token(token, key_names, {name: value})
        records: list[dict[str, Any]] = []
        for _ in range(MAX_READS_PER_PAGE):
            if start:
                params["ExclusiveStartKey"] = start
            try:
                response = self._client.query(**params)
            except (ClientError, BotoCoreError) as exc:
                raise map_store_error("Query", exc) from exc
            records += [from_item(i) for i in response.get("Items", [])]
            start = response.get("LastEvaluatedKey")
            if not start or len(records) > 2 * limit:
                break
        merged = audit.merge(records)
        given = merged[:limit]
        if len(merged) <= limit and not start:
            return self._completed([e for e, _ in given]), None
        if not given:
            # Nothing matched within the reads allowed: go on where they stopped.
            return [], encode_token(start)
        after = given[-1][1]
        key = {"trail": audit.TRAIL, "sk": after} | ({name: value} if index else {})
        entries = self._completed([e for e, _ in given])
        return entries, encode_token({k: {"S": v} for k, v in key.items()})

    def _completed(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each entry found by its intent alone completed with its outcome, read by key.

        An outcome names the object the answer revealed, which may not be the one the
        intent named (a failback start names the recovery; its outcome, the failback it
        made): listed by the first object, the outcome is in another partition of the
        index, and the entry read 'outcome not recorded' for a request that succeeded."""
        completed = []
        for found in entries:
            if "status" in found:  # from its outcome record already
                completed.append(found)
                continue
            key = audit.sort_key(found["at"], found["requestId"], audit.OUTCOME)
            try:
                answer = self._client.get_item(
                    TableName=self._table, Key={"trail": {"S": audit.TRAIL}, "sk": {"S": key}}
                )
            except (ClientError, BotoCoreError) as exc:
                raise map_store_error("GetItem", exc) from exc
            outcome = answer.get("Item")
            completed.append(audit.entry([from_item(outcome)]) if outcome else found)
        return completed

    def _query(
        self, wanted: AuditFilter, index: str | None, name: str, value: str, limit: int
    ) -> dict[str, Any]:
        names = {"#p": name} | ({"#sk": "sk"} if wanted.since or wanted.until else {})
        values: dict[str, Any] = {":p": {"S": value}}
        condition = "#p = :p"
        if wanted.since and wanted.until:
            condition += " AND #sk BETWEEN :since AND :until"
            values[":since"] = {"S": wanted.since}
            values[":until"] = {"S": wanted.until + "~"}
        elif wanted.since:
            condition += " AND #sk >= :since"
            values[":since"] = {"S": wanted.since}
        elif wanted.until:
            condition += " AND #sk <= :until"
            values[":until"] = {"S": wanted.until + "~"}
        filters = []
        for attribute, wanted_value in (
            ("action", wanted.action),
            ("actor", wanted.user if index != AUDIT_ACTOR_INDEX else None),
            ("planId", wanted.plan_id if index not in (AUDIT_PLAN_INDEX,) else None),
        ):
            if wanted_value and attribute != name:
                names[f"#{attribute}"] = attribute
                values[f":{attribute}"] = {"S": wanted_value}
                filters.append(f"#{attribute} = :{attribute}")
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            # A request is two records: read enough for the page and the one after it.
            "Limit": 2 * limit + 2,
        }
        if index:
            params["IndexName"] = index
        if filters:
            params["FilterExpression"] = " AND ".join(filters)
        return params
