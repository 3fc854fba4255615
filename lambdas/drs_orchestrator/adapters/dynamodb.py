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

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from drs_orchestrator.adapters.clients import client as make_client
from drs_orchestrator.adapters.clients import error_code
from drs_orchestrator.errors import OrchestratorError, StoreError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from drs_orchestrator.domain.executions import ExecutionUpdate
    from drs_orchestrator.domain.jobs import JobEvent

#: Most items one BatchWriteItem call accepts.
BATCH_WRITE_LIMIT = 25
UNPROCESSED_RETRY_ATTEMPTS = 8
#: Server entries per UpdateItem: keeps each update expression well under DynamoDB's 4 KB.
SERVERS_PER_UPDATE = 40

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _plain(_deserializer.deserialize(value)) for key, value in item.items()}


def _plain(value: Any) -> Any:
    """Decimals back to int where they are whole, recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def map_store_error(operation: str, exc: ClientError) -> StoreError:
    return StoreError(
        operation, error_code(exc), str(exc.response.get("Error", {}).get("Message", ""))
    )


class ExecutionsStore:
    """Reads active executions and applies the finder's updates to them."""

    def __init__(self, table: str, status_index: str, client: Any = None) -> None:
        self._table = table
        self._index = status_index
        self._client = client or make_client("dynamodb")

    def items_with_status(self, status: str) -> Iterator[dict[str, Any]]:
        """Every execution item in ``status``, following LastEvaluatedKey to the end."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": self._index,
            "KeyConditionExpression": "#status = :status",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":status": {"S": status}},
        }
        while True:
            try:
                page = self._client.query(**params)
            except ClientError as exc:
                raise map_store_error("Query", exc) from exc
            for item in page.get("Items", []):
                yield from_item(item)
            if "LastEvaluatedKey" not in page:
                return
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def apply(self, update: ExecutionUpdate, polled_at: str, polled_by: str) -> None:
        """Write one poll's changes to the job and server entries of one execution.

        Server entries go in chunks of ``SERVERS_PER_UPDATE``: DynamoDB caps an update
        expression at 4 KB, which a 100-server job would otherwise exceed. The job entries
        and ``lastPolledAt`` go last, so a poll interrupted between chunks is redone whole.
        """
        servers = sorted(update.servers.items())
        for start in range(0, len(servers), SERVERS_PER_UPDATE):
            chunk = servers[start : start + SERVERS_PER_UPDATE]
            names = {f"#s{i}": server_id for i, (server_id, _) in enumerate(chunk)}
            values = {f":s{i}": server.as_item() for i, (_, server) in enumerate(chunk)}
            assignments = [f"servers.#s{i} = :s{i}" for i in range(len(chunk))]
            self._update(update.execution_id, assignments, names, values)
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
        self._update(update.execution_id, assignments, names, values, add=f"{counter} :one")

    def _update(
        self,
        execution_id: str,
        assignments: list[str],
        names: dict[str, str],
        values: dict[str, Any],
        add: str | None = None,
    ) -> None:
        expression = "SET " + ", ".join(assignments) + (f" ADD {add}" if add else "")
        params: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"executionId": {"S": execution_id}},
            "UpdateExpression": expression,
            "ConditionExpression": "attribute_exists(executionId)",
            "ExpressionAttributeValues": to_item(values),
        }
        if names:
            params["ExpressionAttributeNames"] = names
        try:
            self._client.update_item(**params)
        except ClientError as exc:
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
        except ClientError as exc:
            raise map_store_error("PutItem", exc) from exc

    def get(self, execution_id: str) -> dict[str, Any] | None:
        """The full execution item, read consistently (the status index may lag)."""
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key={"executionId": {"S": execution_id}},
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise map_store_error("GetItem", exc) from exc
        item = response.get("Item")
        return from_item(item) if item else None

    def page(
        self, status: str | None, index: str, limit: int, token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of executions, newest first within a status when one is given."""
        params: dict[str, Any] = {"TableName": self._table, "Limit": limit}
        start = decode_token(token)
        if start:
            params["ExclusiveStartKey"] = start
        try:
            if status:
                response = self._client.query(
                    **params,
                    IndexName=index,
                    ScanIndexForward=False,
                    KeyConditionExpression="#status = :status",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={":status": {"S": status}},
                )
            else:
                response = self._client.scan(**params)
        except ClientError as exc:
            raise map_store_error("Query" if status else "Scan", exc) from exc
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
    ) -> int:
        """Set ``changes`` (top-level attributes) and add ``new_jobs`` if still at ``version``."""
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
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                msg = f"execution {execution_id} changed since version {version}"
                raise StaleExecutionError(msg) from exc
            raise map_store_error("UpdateItem", exc) from exc
        return version + 1


def encode_token(key: Mapping[str, Any] | None) -> str | None:
    """A LastEvaluatedKey as an opaque page token for the API."""
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def decode_token(token: str | None) -> dict[str, Any] | None:
    """The key a page token encodes; a token that is not one raises ValueError."""
    if not token:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        msg = "nextToken is not a token this API issued"
        raise ValueError(msg) from exc
    if not isinstance(key, dict):
        msg = "nextToken is not a token this API issued"
        raise ValueError(msg)
    return key


class VersionConflictError(OrchestratorError):
    """Raised when a write names a version that is no longer the record's version."""


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
                TableName=self._table,
                Item=to_item(item),
                ConditionExpression=f"attribute_not_exists({self._key})",
            )
        except ClientError as exc:
            raise map_store_error("PutItem", exc) from exc
        return item

    def get(self, record_id: str) -> dict[str, Any] | None:
        try:
            response = self._client.get_item(
                TableName=self._table, Key={self._key: {"S": record_id}}, ConsistentRead=True
            )
        except ClientError as exc:
            raise map_store_error("GetItem", exc) from exc
        item = response.get("Item")
        return from_item(item) if item else None

    def replace(self, record: Mapping[str, Any], expected_version: int) -> dict[str, Any]:
        item = {**record, "version": expected_version + 1}
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(item),
                ConditionExpression="#version = :expected",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                msg = (
                    f"{self._key} {record[self._key]} is no longer at version "
                    f"{expected_version}; read it again and reapply your change"
                )
                raise VersionConflictError(msg) from exc
            raise map_store_error("PutItem", exc) from exc
        return item

    def delete(self, record_id: str) -> None:
        try:
            self._client.delete_item(TableName=self._table, Key={self._key: {"S": record_id}})
        except ClientError as exc:
            raise map_store_error("DeleteItem", exc) from exc

    def page(self, limit: int, token: str | None) -> tuple[list[dict[str, Any]], str | None]:
        params: dict[str, Any] = {"TableName": self._table, "Limit": limit}
        start = decode_token(token)
        if start:
            params["ExclusiveStartKey"] = start
        try:
            response = self._client.scan(**params)
        except ClientError as exc:
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
        params: dict[str, Any] = {
            "TableName": self._table,
            "Limit": limit,
            "KeyConditionExpression": "executionId = :e",
            "ExpressionAttributeValues": {":e": {"S": execution_id}},
        }
        start = decode_token(token)
        if start:
            params["ExclusiveStartKey"] = start
        try:
            response = self._client.query(**params)
        except ClientError as exc:
            raise map_store_error("Query", exc) from exc
        return [from_item(i) for i in response.get("Items", [])], encode_token(
            response.get("LastEvaluatedKey")
        )

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
            except ClientError as exc:
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
            except ClientError as exc:
                raise map_store_error("BatchWriteItem", exc) from exc
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                return
            time.sleep(min(2**attempt * 0.05, 2.0))
        msg = f"{len(pending.get(self._table, []))} items still unprocessed"
        raise StoreError("BatchWriteItem", "UnprocessedItems", msg)
