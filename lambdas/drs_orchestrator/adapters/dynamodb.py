"""Gateways to the DynamoDB tables the execution finder reads and writes.

The executions table is queried through its status index (never scanned) and updated
attribute path by attribute path, so the finder and the wave runner can write the same
item without overwriting each other. Job events are written with a condition on their
key, so a job log item is stored once however often it is polled.
"""

from __future__ import annotations

import base64
import json
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from drs_orchestrator.adapters.clients import client as make_client
from drs_orchestrator.adapters.clients import error_code
from drs_orchestrator.adapters.clients import pages as every_page
from drs_orchestrator.adapters.items import from_item, to_item
from drs_orchestrator.domain.states import TERMINAL_EXECUTION
from drs_orchestrator.errors import OrchestratorError, StoreError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    from drs_orchestrator.domain.executions import ExecutionUpdate
    from drs_orchestrator.domain.jobs import JobEvent

#: Most items one BatchWriteItem call accepts.
BATCH_WRITE_LIMIT = 25
UNPROCESSED_RETRY_ATTEMPTS = 8
#: The sparse index of executions the finder still follows, and the value that puts an
#: execution in it (``watch``); infra/tables.py declares the index.
EXECUTIONS_WATCH_INDEX = "watch-index"
WATCHED = "1"
#: The suffix of an execution's sleep item (``ExecutionRecords.sleeping``), which shares
#: the executions table but is in none of its indexes and is never listed.
SLEEP_SUFFIX = "#sleep"
#: How long a sleep item outlives its last write (the executions table's TTL removes it).
SLEEP_ITEM_SECONDS = 86400
#: A plan's executions newest first, as summaries (infra/tables.py declares it).
EXECUTIONS_PLAN_INDEX = "plan-index"
#: Server entries per UpdateItem: keeps each update expression well under DynamoDB's 4 KB.
SERVERS_PER_UPDATE = 40


def map_store_error(operation: str, exc: Exception) -> StoreError:
    response = getattr(exc, "response", None) or {}
    return StoreError(
        operation, error_code(exc), str(response.get("Error", {}).get("Message", exc))
    )


def sleep_key(execution_id: str) -> str:
    return execution_id + SLEEP_SUFFIX


def get_consistent(
    client: Any, table: str, key: Mapping[str, str], attributes: Sequence[str] = ()
) -> dict[str, Any] | None:
    """One item by its (string) key, read consistently (only ``attributes``, when given:
    an execution item can be hundreds of KB); None when there is none."""
    projection: dict[str, Any] = {}
    if attributes:
        names = {f"#a{index}": name for index, name in enumerate(attributes)}
        projection = {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
    try:
        response = client.get_item(
            TableName=table, Key=to_item(key), ConsistentRead=True, **projection
        )
    except (ClientError, BotoCoreError) as exc:
        raise map_store_error("GetItem", exc) from exc
    item = response.get("Item")
    return from_item(item) if item else None


class ExecutionsStore:
    """Reads active executions and applies the finder's updates to them."""

    def __init__(self, table: str, status_index: str, client: Any = None) -> None:
        self._table = table
        self._index = status_index
        self._client = client or make_client("dynamodb")

    def items_with_status(self, status: str) -> Iterator[dict[str, Any]]:
        """Every execution item in ``status``, through the status index, every page."""
        return self._query(
            {
                "IndexName": self._index,
                "KeyConditionExpression": "#status = :status",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":status": {"S": status}},
            }
        )

    def items_watched(self) -> Iterator[dict[str, Any]]:
        """Every execution still watched (``watch`` set: not ended, or ended with DRS jobs,
        holds or notifications still to settle), through the sparse watch index."""
        return self._query(
            {
                "IndexName": EXECUTIONS_WATCH_INDEX,
                "KeyConditionExpression": "#watch = :watch",
                "ExpressionAttributeNames": {"#watch": "watch"},
                "ExpressionAttributeValues": {":watch": {"S": WATCHED}},
            }
        )

    def _query(self, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """The items of a query, every page (botocore's paginator follows
        LastEvaluatedKey); errors mapped by code."""
        pages = self._client.get_paginator("query").paginate(TableName=self._table, **params)
        try:
            for page in pages:
                for item in page.get("Items", []):
                    yield from_item(item)
        except (ClientError, BotoCoreError) as exc:
            raise map_store_error("Query", exc) from exc

    def get(self, execution_id: str) -> dict[str, Any] | None:
        """The execution item, read consistently (to retry a write that went stale)."""
        return get_consistent(self._client, self._table, {"executionId": execution_id})

    def heartbeat(self, execution_id: str, polled_at: str, polled_by: str) -> None:
        """``lastPolledAt`` after a poll that found nothing new: decides nothing, so it
        leaves the version alone."""
        counter = "schedulePolls" if polled_by == "schedule" else "waveRunnerPolls"
        self._update(
            execution_id,
            ["lastPolledAt = :polledAt", "lastPolledBy = :polledBy"],
            {},
            {":polledAt": polled_at, ":polledBy": polled_by, ":one": 1},
            add=f"{counter} :one",
        )

    def apply(self, update: ExecutionUpdate, polled_at: str, polled_by: str) -> None:
        """Write one poll's changes to the job and server entries of one execution, each
        write conditional on the version the poll read (and moving it on), so a slow poll
        never overwrites newer data: it raises ``StaleExecutionError`` and the execution is
        polled again next time.

        Server entries go in chunks of ``SERVERS_PER_UPDATE``: DynamoDB caps an update
        expression at 4 KB, which a 100-server job would otherwise exceed. The job entries
        and ``lastPolledAt`` go last, so a poll interrupted between chunks is redone whole.
        """
        version = update.version
        servers = sorted(update.servers.items())
        for start in range(0, len(servers), SERVERS_PER_UPDATE):
            chunk = servers[start : start + SERVERS_PER_UPDATE]
            names = {f"#s{i}": server_id for i, (server_id, _) in enumerate(chunk)}
            values = {f":s{i}": server.as_item() for i, (_, server) in enumerate(chunk)}
            assignments = [f"servers.#s{i} = :s{i}" for i in range(len(chunk))]
            self._update(update.execution_id, assignments, names, values, version=version)
            version += 1
        names = {}
        values: dict[str, Any] = {":polledAt": polled_at, ":polledBy": polled_by, ":one": 1}
        assignments = ["lastPolledAt = :polledAt", "lastPolledBy = :polledBy"]
        counter = "schedulePolls" if polled_by == "schedule" else "waveRunnerPolls"
        for index, (job_id, progress) in enumerate(sorted(update.jobs.items())):
            names[f"#j{index}"] = job_id
            fields = {
                "status": progress.status,
                "eventCount": progress.event_count,
                "eventsDigest": progress.events_digest,
            }
            if progress.end_time:
                fields["endDateTime"] = progress.end_time
            for field, value in fields.items():
                names[f"#{field}"] = field  # "status" is a reserved word
                values[f":j{index}{field}"] = value
                assignments.append(f"jobs.#j{index}.#{field} = :j{index}{field}")
        self._update(
            update.execution_id,
            assignments,
            names,
            values,
            add=f"{counter} :one",
            version=version,
        )

    def _update(
        self,
        execution_id: str,
        assignments: list[str],
        names: dict[str, str],
        values: dict[str, Any],
        add: str | None = None,
        version: int | None = None,
    ) -> None:
        names = dict(names)
        values = dict(values)
        condition = "attribute_exists(executionId)"
        if version is not None:
            names["#version"] = "version"
            values[":expected"], values[":next"] = version, version + 1
            assignments = [*assignments, "#version = :next"]
            condition = "#version = :expected"
            if version == 0:  # an item written before versions existed
                condition = "(attribute_not_exists(#version) OR #version = :expected)"
        expression = "SET " + ", ".join(assignments) + (f" ADD {add}" if add else "")
        params: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"executionId": {"S": execution_id}},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": to_item(values),
        }
        if names:
            params["ExpressionAttributeNames"] = names
        try:
            self._client.update_item(**params)
        except (ClientError, BotoCoreError) as exc:
            if version is not None and error_code(exc) == "ConditionalCheckFailedException":
                msg = f"execution {execution_id} changed since version {version}"
                raise StaleExecutionError(msg) from exc
            raise map_store_error("UpdateItem", exc) from exc


class StaleExecutionError(Exception):
    """Raised when an execution changed since it was read (its version moved on)."""


class ExecutionRecords:
    """Whole-execution reads and version-checked writes, for the wave runner and the API.

    The runner and the API both change an execution (the API resumes or cancels it), so
    every write here names the version it read and fails if another writer came first.
    The finder's per-path job and server updates leave the version alone: they never
    touch what these writes set.
    """

    def __init__(self, table: str, client: Any = None) -> None:
        self._table = table
        self._client = client or make_client("dynamodb")

    def create(self, item: Mapping[str, Any]) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item({**item, "version": 1}),
                ConditionExpression="attribute_not_exists(executionId)",
            )
        except (ClientError, BotoCoreError) as exc:
            raise map_store_error("PutItem", exc) from exc

    def get(self, execution_id: str) -> dict[str, Any] | None:
        """The full execution item, read consistently (the status index may lag)."""
        return get_consistent(self._client, self._table, {"executionId": execution_id})

    def page(
        self,
        status: str | None,
        index: str,
        limit: int,
        token: str | None,
        target: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of executions, newest first within a status when one is given; with
        ``target``, only those acting in it (DynamoDB filters after reading ``limit``
        items, so such a page may hold fewer, and still have a next one)."""
        params: dict[str, Any] = {"TableName": self._table, "Limit": limit}
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        if target:
            params["FilterExpression"] = "contains(#targets, :target)"
            names["#targets"] = "targets"
            values[":target"] = {"S": target}
        start = (
            decode_token(token, {"executionId", "status", "startedAt"}, {"status": status})
            if status
            else decode_token(token, {"executionId"})
        )
        if start:
            params["ExclusiveStartKey"] = start
        try:
            if status:
                response = self._client.query(
                    **params,
                    IndexName=index,
                    ScanIndexForward=False,
                    KeyConditionExpression="#status = :status",
                    ExpressionAttributeNames={**names, "#status": "status"},
                    ExpressionAttributeValues={**values, ":status": {"S": status}},
                )
            else:
                # An execution's sleep item shares the table; it is not an execution.
                params["FilterExpression"] = " AND ".join(
                    filter(None, (params.get("FilterExpression"), "NOT contains(#id, :sleep)"))
                )
                names["#id"] = "executionId"
                values[":sleep"] = {"S": SLEEP_SUFFIX}
                params.update(ExpressionAttributeNames=names, ExpressionAttributeValues=values)
                response = self._client.scan(**params)
        except (ClientError, BotoCoreError) as exc:
            raise map_store_error("Query" if status else "Scan", exc) from exc
        return [from_item(i) for i in response.get("Items", [])], encode_token(
            response.get("LastEvaluatedKey")
        )

    def plan_page(
        self, plan_id: str, limit: int, token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of one plan's executions, newest first, as the plan index carries them
        (a summary: status, mode, times, recovery time and objective)."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": EXECUTIONS_PLAN_INDEX,
            "Limit": limit,
            "ScanIndexForward": False,
            "KeyConditionExpression": "planId = :plan",
            "ExpressionAttributeValues": {":plan": {"S": plan_id}},
        }
        start = decode_token(token, {"executionId", "planId", "startedAt"}, {"planId": plan_id})
        if start:
            params["ExclusiveStartKey"] = start
        try:
            response = self._client.query(**params)
        except (ClientError, BotoCoreError) as exc:
            raise map_store_error("Query", exc) from exc
        return [from_item(i) for i in response.get("Items", [])], encode_token(
            response.get("LastEvaluatedKey")
        )

    def save(
        self,
        execution_id: str,
        version: int,
        changes: Mapping[str, Any],
        new_jobs: Mapping[str, Mapping[str, Any]] | None = None,
        remove: tuple[str, ...] = (),
        notifications: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> int:
        """Set ``changes`` (top-level attributes), add ``new_jobs`` and outbox
        ``notifications`` (path by path, so a concurrent removal of a published entry is
        never undone) if the item is still at ``version``."""
        names = {"#version": "version"}
        values: dict[str, Any] = {":expected": version, ":next": version + 1}
        assignments = ["#version = :next"]
        for index, (attribute, value) in enumerate(sorted(changes.items())):
            names[f"#a{index}"] = attribute
            values[f":a{index}"] = value
            assignments.append(f"#a{index} = :a{index}")
        for index, (job_id, job) in enumerate(sorted((new_jobs or {}).items())):
            names[f"#j{index}"] = job_id
            values[f":j{index}"] = dict(job)
            assignments.append(f"jobs.#j{index} = :j{index}")
        if notifications:
            names["#outbox"] = "outbox"
        for index, (key, message) in enumerate(sorted((notifications or {}).items())):
            names[f"#o{index}"] = key
            values[f":o{index}"] = dict(message)
            assignments.append(f"#outbox.#o{index} = :o{index}")
        expression = "SET " + ", ".join(assignments)
        if remove:
            for index, attribute in enumerate(remove):
                names[f"#r{index}"] = attribute
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"executionId": {"S": execution_id}},
                UpdateExpression=expression,
                ConditionExpression="#version = :expected",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(values),
            )
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                msg = f"execution {execution_id} changed since version {version}"
                raise StaleExecutionError(msg) from exc
            raise map_store_error("UpdateItem", exc) from exc
        return version + 1

    def mark(
        self,
        execution_id: str,
        values: Mapping[str, Any] | None = None,
        remove_paths: tuple[tuple[str, ...], ...] = (),
    ) -> None:
        """Set top-level attributes and remove nested paths that decide nothing (a
        heartbeat, a published outbox entry, holds released), without moving the version,
        so these writes never make a decision's save stale. Conditional on the item."""
        names: dict[str, str] = {}
        expression_values: dict[str, Any] = {}
        sets = []
        for index, (attribute, value) in enumerate(sorted((values or {}).items())):
            names[f"#m{index}"] = attribute
            expression_values[f":m{index}"] = value
            sets.append(f"#m{index} = :m{index}")
        removes = []
        for index, path in enumerate(remove_paths):
            parts = []
            for depth, part in enumerate(path):
                names[f"#p{index}_{depth}"] = part
                parts.append(f"#p{index}_{depth}")
            removes.append(".".join(parts))
        expression = ("SET " + ", ".join(sets) if sets else "") + (
            " REMOVE " + ", ".join(removes) if removes else ""
        )
        if not expression.strip():
            return
        params: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"executionId": {"S": execution_id}},
            "UpdateExpression": expression.strip(),
            "ConditionExpression": "attribute_exists(executionId)",
            "ExpressionAttributeNames": names,
        }
        if expression_values:
            params["ExpressionAttributeValues"] = to_item(expression_values)
        try:
            self._client.update_item(**params)
        except (ClientError, BotoCoreError) as exc:
            raise map_store_error("UpdateItem", exc) from exc

    def unwatch(self, execution_id: str, version: int) -> bool:
        """Take a settled execution out of the watch index, only if it is still at the
        ``version`` it was settled at: a request that came meanwhile (a termination, whose
        jobs the finder must follow) moved the version and keeps it watched. False when
        the version had moved."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"executionId": {"S": execution_id}},
                UpdateExpression="REMOVE #watch",
                ConditionExpression="#version = :version",
                ExpressionAttributeNames={"#watch": "watch", "#version": "version"},
                ExpressionAttributeValues={":version": {"N": str(version)}},
            )
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise map_store_error("UpdateItem", exc) from exc
        return True

    def sleeping(self, execution_id: str, token: str, stamp: str) -> int:
        """Keep the token of the machine's ``Sleep`` in the execution's sleep item (beside
        the execution, never inside it: a token can be 2 KB, and the execution item of a
        500-server plan is near DynamoDB's limit), then read the wake requests counted on
        the execution so far (``domain/wakeups.py``). Written first, read after: a wake
        counted after the read finds the token."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(
                    {
                        "executionId": sleep_key(execution_id),
                        "sleepToken": token,
                        "sleptAt": stamp,
                        # Gone by TTL once no sleep rewrites it: a sleep lasts one tick
                        # interval, so its token is long spent by then.
                        "expiresAt": int(time.time()) + SLEEP_ITEM_SECONDS,
                    }
                ),
            )
        except (ClientError, BotoCoreError) as exc:
            raise map_store_error("PutItem", exc) from exc
        counted = get_consistent(
            self._client, self._table, {"executionId": execution_id}, ("wakeRequests",)
        )
        return int((counted or {}).get("wakeRequests", 0))

    def request_wake(self, execution_id: str, stamp: str) -> str | None:
        """Count a wake request on a live execution (``wakeRequests``, ``wakeRequestedAt``),
        then read the token of its machine's sleep, if it sleeps; None for an ended
        execution. Counted first, read after: a sleep whose token is written after the
        read finds the count and wakes itself."""
        ended = {f":ended{i}": s.value for i, s in enumerate(sorted(TERMINAL_EXECUTION))}
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"executionId": {"S": execution_id}},
                UpdateExpression="SET wakeRequestedAt = :stamp ADD wakeRequests :one",
                ConditionExpression="attribute_exists(executionId) AND NOT #status IN "
                f"({', '.join(ended)})",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":stamp": {"S": stamp},
                    ":one": {"N": "1"},
                    **{name: {"S": status} for name, status in ended.items()},
                },
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return None  # ended (or never was): nothing to wake
            raise map_store_error("UpdateItem", exc) from exc
        except BotoCoreError as exc:
            raise map_store_error("UpdateItem", exc) from exc
        asleep = get_consistent(
            self._client, self._table, {"executionId": sleep_key(execution_id)}, ("sleepToken",)
        )
        token = (asleep or {}).get("sleepToken")
        return str(token) if token else None


class ServerHolds:
    """One item per source server held by an active execution: how two starts sharing a
    server are kept apart without check-then-act (invariant ``servers-held-atomically``).

    Holds are taken one by one in sorted order with a conditional put, so of two starts
    sharing servers the one that takes the first shared server wins and the other fails
    on that same server, before it can take any other shared one.
    """

    def __init__(self, table: str, client: Any = None) -> None:
        self._table = table
        self._client = client or make_client("dynamodb")

    def holder(self, server_id: str) -> tuple[str, str] | None:
        """(execution id, held at) of the execution holding ``server_id``, if any."""
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key={"sourceServerId": {"S": server_id}},
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as exc:
            raise map_store_error("GetItem", exc) from exc
        item = response.get("Item")
        if not item:
            return None
        return str(item["executionId"]["S"]), str(item.get("heldAt", {}).get("S", ""))

    def take(
        self, execution_id: str, server_id: str, now: str, *, from_holder: str | None = None
    ) -> bool:
        """Hold ``server_id`` for ``execution_id`` (again, if it already does); with
        ``from_holder``, take it over from that (ended) execution only. False if another
        execution holds it."""
        condition = "attribute_not_exists(sourceServerId) OR executionId = :me"
        values: dict[str, Any] = {":me": {"S": execution_id}}
        if from_holder:
            condition += " OR executionId = :old"
            values[":old"] = {"S": from_holder}
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(
                    {"sourceServerId": server_id, "executionId": execution_id, "heldAt": now}
                ),
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise map_store_error("PutItem", exc) from exc
        return True

    def release(self, execution_id: str, server_ids: Iterable[str]) -> None:
        """Free the servers this execution holds; a server another execution holds now is
        left alone."""
        for server_id in server_ids:
            try:
                self._client.delete_item(
                    TableName=self._table,
                    Key={"sourceServerId": {"S": server_id}},
                    ConditionExpression="executionId = :me",
                    ExpressionAttributeValues={":me": {"S": execution_id}},
                )
            except (ClientError, BotoCoreError) as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    continue
                raise map_store_error("DeleteItem", exc) from exc


def encode_token(key: Mapping[str, Any] | None) -> str | None:
    """A LastEvaluatedKey as an opaque page token for the API."""
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def decode_token(
    token: str | None, attributes: set[str], fixed: Mapping[str, str] | None = None
) -> dict[str, Any] | None:
    """The key a page token encodes; a token that is not one raises ValueError.

    A token comes back from callers, so it is checked to be a start key this query could
    have issued — exactly ``attributes``, each a string, with the ``fixed`` values the query
    is bound to (its partition) — before DynamoDB sees it."""
    if not token:
        return None
    msg = "nextToken is not a token this API issued"
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeError) as exc:
        raise ValueError(msg) from exc
    if not isinstance(key, dict) or set(key) != attributes:
        raise ValueError(msg)
    for name, value in key.items():
        if not (
            isinstance(value, dict)
            and list(value) == ["S"]
            and isinstance(value["S"], str)
            and 0 < len(value["S"]) <= MAX_KEY_LENGTH
        ):
            raise ValueError(msg)
        if fixed and name in fixed and value["S"] != fixed[name]:
            raise ValueError(msg)
    return key


def query_page(
    client: Any,
    table: str,
    partition: tuple[str, str],
    range_key: str,
    limit: int,
    token: str | None,
    **extra: Any,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the items of one partition (``(name, value)``), from a page token this
    query issued (checked before DynamoDB sees it), and the token of the next page."""
    name, value = partition
    params: dict[str, Any] = {
        "TableName": table,
        "Limit": limit,
        "KeyConditionExpression": "#p = :p",
        "ExpressionAttributeNames": {"#p": name},
        "ExpressionAttributeValues": {":p": {"S": value}},
        **extra,
    }
    start = decode_token(token, {name, range_key}, {name: value})
    if start:
        params["ExclusiveStartKey"] = start
    try:
        response = client.query(**params)
    except (ClientError, BotoCoreError) as exc:
        raise map_store_error("Query", exc) from exc
    return [from_item(i) for i in response.get("Items", [])], encode_token(
        response.get("LastEvaluatedKey")
    )


#: Longer than any key this deployment writes (ids, ISO timestamps, event keys).
MAX_KEY_LENGTH = 1024


class VersionConflictError(OrchestratorError):
    """Raised when a write names a version that is no longer the record's version."""


#: The attribute of a protection group naming the recovery plans that refer to it.
USED_BY = "usedBy"
MAX_TRANSACTION_ITEMS = 100


class RecordInUseError(OrchestratorError):
    """Raised when a record other records refer to (``usedBy``) would be deleted."""


class ReferenceConflictError(OrchestratorError):
    """Raised when a transactional write found a record changed: ``ids`` are the records
    whose condition failed (the written record first when it was the one)."""

    def __init__(self, message: str, ids: list[str]) -> None:
        self.ids = ids
        super().__init__(message)


class VersionedRecords:
    """Protection groups or recovery plans: one item per record, optimistic locking."""

    def __init__(self, table: str, key: str, client: Any = None) -> None:
        self._table = table
        self._key = key
        self._client = client or make_client("dynamodb")

    def create(self, record: Mapping[str, Any]) -> dict[str, Any]:
        item = {**record, "version": 1}
        try:
            self._client.put_item(
                TableName=self._table, Item=to_item(item), **self._write_condition(None)
            )
        except (ClientError, BotoCoreError) as exc:
            raise map_store_error("PutItem", exc) from exc
        return item

    def get(self, record_id: str) -> dict[str, Any] | None:
        return get_consistent(self._client, self._table, {self._key: record_id})

    def replace(self, record: Mapping[str, Any], expected_version: int) -> dict[str, Any]:
        item = {**record, "version": expected_version + 1}
        stored = dict(item)
        if stored.get(USED_BY):
            stored[USED_BY] = set(stored[USED_BY])
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(stored),
                **self._write_condition(expected_version),
            )
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                msg = (
                    f"{self._key} {record[self._key]} is no longer at version "
                    f"{expected_version}; read it again and reapply your change"
                )
                raise VersionConflictError(msg) from exc
            raise map_store_error("PutItem", exc) from exc
        return item

    def delete(self, record_id: str, *, unless_used: bool = False) -> None:
        """Delete a record; with ``unless_used``, only while nothing refers to it
        (``RecordInUseError`` otherwise)."""
        params: dict[str, Any] = {"TableName": self._table, "Key": {self._key: {"S": record_id}}}
        if unless_used:
            params["ConditionExpression"] = f"attribute_not_exists({USED_BY})"
        try:
            self._client.delete_item(**params)
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                msg = f"{self._key} {record_id} is in use"
                raise RecordInUseError(msg) from exc
            raise map_store_error("DeleteItem", exc) from exc

    def save_referencing(
        self,
        record: Mapping[str, Any],
        expected_version: int | None,
        referenced: VersionedRecords,
        take: Mapping[str, str],
        release: Iterable[str],
    ) -> dict[str, Any]:
        """Write ``record`` and its references in one transaction.

        ``take`` maps the id of each record of ``referenced`` this one refers to to the name
        it is referred to by: each must still exist under that name, and gets this record's
        id in its ``usedBy`` set. Records in ``release`` lose it. Every referenced record's
        version goes up, so an edit of it made from an earlier read is refused — a rename or
        delete can never slip between this check and this write."""
        item = {**record, "version": (expected_version or 0) + 1}
        own_id = record[self._key]
        released = [r for r in release if r not in take]
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item(item),
                    **self._write_condition(expected_version),
                }
            }
        ]
        actions += [referenced._reference_update(r, own_id, "ADD", n) for r, n in take.items()]
        actions += [referenced._reference_update(r, own_id, "DELETE", None) for r in released]
        self._transact(actions, [own_id, *take, *released])
        return item

    def _write_condition(self, expected_version: int | None) -> dict[str, Any]:
        """The condition of a write: a new record (``None``), or the version it was read at."""
        if expected_version is None:
            return {"ConditionExpression": f"attribute_not_exists({self._key})"}
        return {
            "ConditionExpression": "#version = :expected",
            "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
        }

    def delete_referencing(
        self, record_id: str, referenced: VersionedRecords, release: Iterable[str]
    ) -> None:
        """Delete a record and remove it from the ``usedBy`` of the records it referred to."""
        actions: list[dict[str, Any]] = [
            {"Delete": {"TableName": self._table, "Key": {self._key: {"S": record_id}}}}
        ]
        released = list(release)
        actions += [referenced._reference_update(r, record_id, "DELETE", None) for r in released]
        self._transact(actions, [record_id, *released])

    def _reference_update(
        self, record_id: str, user_id: str, verb: str, name: str | None
    ) -> dict[str, Any]:
        values: dict[str, Any] = {":user": {"SS": [user_id]}, ":one": {"N": "1"}}
        names = {"#version": "version", "#key": self._key}
        condition = "attribute_exists(#key)"
        if name is not None:
            names["#name"] = "name"
            values[":name"] = {"S": name}
            condition += " AND #name = :name"
        return {
            "Update": {
                "TableName": self._table,
                "Key": {self._key: {"S": record_id}},
                "UpdateExpression": f"SET #version = #version + :one {verb} {USED_BY} :user",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def _transact(self, actions: list[dict[str, Any]], ids: list[str]) -> None:
        if len(actions) > MAX_TRANSACTION_ITEMS:
            msg = (
                f"{len(actions)} writes in one transaction; DynamoDB takes {MAX_TRANSACTION_ITEMS}"
            )
            raise StoreError("TransactWriteItems", "TooManyItems", msg)
        try:
            self._client.transact_write_items(TransactItems=actions)
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) == "TransactionCanceledException":
                reasons = getattr(exc, "response", {}).get("CancellationReasons") or []
                failed = [
                    ids[i]
                    for i, reason in enumerate(reasons)
                    if reason.get("Code") == "ConditionalCheckFailed" and i < len(ids)
                ]
                if failed or not reasons:
                    msg = f"changed meanwhile: {', '.join(failed) or 'a record'}"
                    raise ReferenceConflictError(msg, failed) from exc
            raise map_store_error("TransactWriteItems", exc) from exc

    def page(
        self, limit: int, token: str | None, where: Mapping[str, str | None] | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of records; ``where`` keeps those whose attributes equal the values given
        (None: the attribute is absent). DynamoDB filters after reading ``limit`` items,
        so a filtered page may hold fewer, and still have a next one."""
        params: dict[str, Any] = {"TableName": self._table, "Limit": limit}
        start = decode_token(token, {self._key})
        if start:
            params["ExclusiveStartKey"] = start
        if where:
            terms, names, values = [], {}, {}
            for index, (name, value) in enumerate(sorted(where.items())):
                names[f"#w{index}"] = name
                if value is None:
                    terms.append(f"attribute_not_exists(#w{index})")
                else:
                    terms.append(f"#w{index} = :w{index}")
                    values[f":w{index}"] = {"S": value}
            params["FilterExpression"] = " AND ".join(terms)
            params["ExpressionAttributeNames"] = names
            if values:
                params["ExpressionAttributeValues"] = values
        try:
            response = self._client.scan(**params)
        except (ClientError, BotoCoreError) as exc:
            raise map_store_error("Scan", exc) from exc
        items = [from_item(i) for i in response.get("Items", [])]
        return items, encode_token(response.get("LastEvaluatedKey"))

    def all(self) -> list[dict[str, Any]]:
        """Every record (these tables hold tens to hundreds of small items)."""
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page, token = self.page(100, token)
            items += page
            if not token:
                return items


class JobEventsStore:
    """Stores DRS job log items as job events, each exactly once."""

    def __init__(self, table: str, retention_days: int, client: Any = None) -> None:
        self._table = table
        self._retention_seconds = retention_days * 86400
        self._client = client or make_client("dynamodb")

    def page(
        self, execution_id: str, limit: int, token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of an execution's job events, in time order."""
        return query_page(
            self._client, self._table, ("executionId", execution_id), "eventKey", limit, token
        )

    def every(self, execution_id: str) -> list[dict[str, Any]]:
        """All of an execution's job events, in time order (every page, by the paginator)."""
        found = every_page(
            self._client,
            "query",
            lambda _operation, exc: map_store_error("Query", exc),
            TableName=self._table,
            KeyConditionExpression="executionId = :e",
            ExpressionAttributeValues={":e": {"S": execution_id}},
        )
        return [from_item(item) for page in found for item in page.get("Items", [])]

    def _item(self, event: JobEvent, expires_at: int) -> dict[str, Any]:
        item = {
            "executionId": event.execution_id,
            "eventKey": event.event_key,
            "jobId": event.job_id,
            "event": event.event,
            "logDateTime": event.log_time,
            # DynamoDB has no float type: numbers in event data become Decimals.
            "eventData": json.loads(json.dumps(event.event_data), parse_float=Decimal),
            "expiresAt": expires_at,
        }
        if event.source_server_id:
            item["sourceServerId"] = event.source_server_id
        return to_item(item)

    def record(
        self, events: Sequence[JobEvent], *, known_new: bool, now: float | None = None
    ) -> tuple[int, int]:
        """Store events so each key exists once; returns (written, already there).

        ``known_new`` events are written in batches of 25: rewriting a key is harmless
        (same key, same content), and a large first poll costs 25 times fewer calls. Other
        events are written one by one with a condition on the key, which also tells how
        many were already stored.
        """
        expires_at = int((now if now is not None else time.time()) + self._retention_seconds)
        if known_new:
            for start in range(0, len(events), BATCH_WRITE_LIMIT):
                batch = events[start : start + BATCH_WRITE_LIMIT]
                self._batch_put([self._item(e, expires_at) for e in batch])
            return len(events), 0
        written = duplicates = 0
        for event in events:
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item=self._item(event, expires_at),
                    ConditionExpression="attribute_not_exists(eventKey)",
                )
            except (ClientError, BotoCoreError) as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    duplicates += 1
                    continue
                raise map_store_error("PutItem", exc) from exc
            written += 1
        return written, duplicates

    def _batch_put(self, items: list[dict[str, Any]]) -> None:
        """BatchWriteItem, resubmitting unprocessed items with backoff until all are in."""
        pending = {self._table: [{"PutRequest": {"Item": item}} for item in items]}
        for attempt in range(UNPROCESSED_RETRY_ATTEMPTS):
            try:
                response = self._client.batch_write_item(RequestItems=pending)
            except (ClientError, BotoCoreError) as exc:
                raise map_store_error("BatchWriteItem", exc) from exc
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                return
            time.sleep(min(2**attempt * 0.05, 2.0))
        msg = f"{len(pending.get(self._table, []))} items still unprocessed"
        raise StoreError("BatchWriteItem", "UnprocessedItems", msg)


class ReadinessRecords:
    """The readiness history: one item per evaluation of a plan (``planId`` +
    ``evaluatedAt``), newest first on read, expired by TTL (``expiresAt``).

    An evaluation that changed the plan's state carries the notification it owes
    (``notices``) until it has been published: notifications SNS refused are published by
    the plan's next evaluation (and carried on to its item while SNS still refuses), never
    lost."""

    def __init__(self, table: str, client: Any = None) -> None:
        self._table = table
        self._client = client or make_client("dynamodb")

    def record(self, entry: Mapping[str, Any]) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(json.loads(json.dumps(entry), parse_float=Decimal)),
            )
        except (ClientError, BotoCoreError) as exc:
            raise map_store_error("PutItem", exc) from exc

    def latest(self, plan_id: str) -> dict[str, Any] | None:
        items, _token = self.page(plan_id, 1, None)
        return items[0] if items else None

    def page(
        self, plan_id: str, limit: int, token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of a plan's evaluations, newest first (read consistently: a notice just
        published must not be published again from a stale read)."""
        return query_page(
            self._client,
            self._table,
            ("planId", plan_id),
            "evaluatedAt",
            limit,
            token,
            ScanIndexForward=False,
            ConsistentRead=True,
        )

    def notices_left(
        self, plan_id: str, evaluated_at: str, left: Sequence[Mapping[str, Any]]
    ) -> None:
        """What one evaluation still owes after a publish: ``left`` (empty: nothing, the
        attribute goes). An item that expired meanwhile stays gone."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "Key": to_item({"planId": plan_id, "evaluatedAt": evaluated_at}),
            "ConditionExpression": "attribute_exists(planId)",
            "UpdateExpression": "REMOVE notices",
        }
        if left:
            params["UpdateExpression"] = "SET notices = :n"
            params["ExpressionAttributeValues"] = to_item(
                {":n": json.loads(json.dumps(list(left)), parse_float=Decimal)}
            )
        try:
            self._client.update_item(**params)
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return
            raise map_store_error("UpdateItem", exc) from exc
