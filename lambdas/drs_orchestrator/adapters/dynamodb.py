"""Gateways to the DynamoDB tables the execution finder reads and writes.

The executions table is queried through its status index (never scanned) and updated
attribute path by attribute path, so the finder and the wave runner can write the same
item without overwriting each other. Job events are written with a condition on their
key, so a job log item is stored once however often it is polled.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from drs_orchestrator.adapters.clients import client as make_client
from drs_orchestrator.adapters.clients import error_code
from drs_orchestrator.domain.executions import ExecutionUpdate
from drs_orchestrator.domain.jobs import JobEvent
from drs_orchestrator.errors import StoreError

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
    return StoreError(operation, error_code(exc), str(exc.response.get("Error", {}).get("Message", "")))


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

    def get(self, execution_id: str) -> dict[str, Any] | None:
        """The full execution item, read consistently (the GSI copy may lag)."""
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

    def apply(self, update: ExecutionUpdate, polled_at: str) -> None:
        """Write one poll's changes to the job and server entries of one execution."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {":polledAt": polled_at}
        assignments = ["lastPolledAt = :polledAt"]
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
        for index, (server_id, server) in enumerate(sorted(update.servers.items())):
            names[f"#s{index}"] = server_id
            values[f":s{index}"] = server.as_item()
            assignments.append(f"servers.#s{index} = :s{index}")
        params: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"executionId": {"S": update.execution_id}},
            "UpdateExpression": "SET " + ", ".join(assignments),
            "ConditionExpression": "attribute_exists(executionId)",
            "ExpressionAttributeValues": to_item(values),
        }
        if names:
            params["ExpressionAttributeNames"] = names
        try:
            self._client.update_item(**params)
        except ClientError as exc:
            raise map_store_error("UpdateItem", exc) from exc


class JobEventsStore:
    """Stores DRS job log items as job events, each exactly once."""

    def __init__(self, table: str, retention_days: int, client: Any = None) -> None:
        self._table = table
        self._retention_seconds = retention_days * 86400
        self._client = client or make_client("dynamodb")

    def record(self, events: Iterable[JobEvent], now: float | None = None) -> tuple[int, int]:
        """Write each event unless its key is already stored; (written, already there)."""
        expires_at = int((now if now is not None else time.time()) + self._retention_seconds)
        written = duplicates = 0
        for event in events:
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
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item=to_item(item),
                    ConditionExpression="attribute_not_exists(eventKey)",
                )
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    duplicates += 1
                    continue
                raise map_store_error("PutItem", exc) from exc
            written += 1
        return written, duplicates
