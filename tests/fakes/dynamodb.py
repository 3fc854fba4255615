"""A DynamoDB stand-in for the end-to-end harness: the tables in memory, answered in process
under botocore's client, with no HTTP, no serializing and no parsing in between.

Why: in a fault-matrix case most of the time went to moto's DynamoDB copying, re-sizing and
serializing a 30 KB execution item on every read and write, and to botocore parsing it
back. Here a client call (after botocore's own parameter events and validation, so a
malformed request fails as it would against AWS) reaches ``DynamoDb.call`` with its
parameters as given, and the answer is what botocore would have parsed.

What the runtime's invariants rest on is kept, and where moto is laxer than DynamoDB this
is as strict as DynamoDB: condition expressions on every write, transactions that apply
all or nothing with a cancellation reason per action, sparse global secondary indexes with
their projections, ``Limit`` counted before the filter and a ``LastEvaluatedKey`` whenever
a page stopped early, pages of at most 1 MB, the item size limit on every write (moto's
measure and limit, also for nested updates, which moto lets grow past it), and the
``ValidationException`` of an unused or undefined ``#name``/``:value``. Every request is
atomic (one lock), as DynamoDB's single-item writes are.

``tests/e2e/test_stand_in_outcomes.py`` runs a sample of the fault matrix on moto as
shipped and on this, and compares every outcome; ``tests/lambdas/test_dynamodb_stand_in.py``
holds each semantic to moto's answer for the same requests.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from botocore.client import BaseClient
from botocore.validate import validate_parameters

from tests.fakes.dynamodb_expressions import (
    Context,
    ExpressionError,
    Item,
    equal,
    evaluate,
    parse_condition,
    parse_projection,
    parse_update,
)
from tests.fakes.dynamodb_items import apply_update, copy_item, copy_value, project
from tests.fakes.dynamodb_tables import (
    CONDITION_FAILED,
    ITEM_SIZE_LIMIT,
    PAGE_SIZE_LIMIT,
    DynamoDbError,
    Index,
    Table,
    check_values,
    condition_holds,
    invalid,
    key_conditions,
    order,
    parsed,
    request_context,
)

#: Each answer's request id: unique, as DynamoDB's are, without drawing 16 random bytes
#: per answer (``uuid4`` was 2% of a fault-matrix case's time in this stand-in).
_REQUEST_IDS = itertools.count(1)

__all__ = ["ITEM_SIZE_LIMIT", "DynamoDb", "DynamoDbError", "install"]


def projection_paths(params: dict[str, Any], context: Context) -> list[Any] | None:
    """The resolved paths of a request's ``ProjectionExpression`` (None: every attribute)."""
    projection = params.get("ProjectionExpression")
    if not projection:
        return None
    return [context.resolve(p) for p in parsed(parse_projection, projection)]


class DynamoDb:
    """Every table of every region, answering DynamoDB's operations by name."""

    def __init__(self, lock: Any = None) -> None:
        self.tables: dict[tuple[str, str], Table] = {}
        #: Held through every request: the harness passes the lock its moto calls take,
        #: so DynamoDB calls interleave with the state machine's as moto's did.
        self.lock = lock or threading.RLock()

    # -- the client's side ---------------------------------------------------------------
    def answer(self, client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        """What ``client``'s call of ``operation`` returns (or raises)."""
        operation_model = client.meta.service_model.operation_model(operation)
        params = client._emit_api_params(  # noqa: SLF001 - botocore's own parameter events
            api_params=params,
            operation_model=operation_model,
            context={"client_region": client.meta.region_name},
        )
        if client.meta.config.parameter_validation:
            validate_parameters(params, operation_model.input_shape)
        # The event every call emits before it is sent (what the runtime's telemetry
        # counts, for one), with the request as botocore would hand it over (no body).
        service_id = client.meta.service_model.service_id.hyphenize()
        client.meta.events.emit(
            f"before-call.{service_id}.{operation}",
            model=operation_model,
            params={"headers": {}, "body": b"", "url_path": "/", "context": {}},
            request_signer=None,
            context={},
        )
        try:
            response = self.call(client.meta.region_name, operation, params)
        except DynamoDbError as exc:
            error = {
                "Error": {"Code": exc.code, "Message": exc.message},
                "ResponseMetadata": {"HTTPStatusCode": 400},
                **exc.extra,
            }
            raise client.exceptions.from_code(exc.code)(error, operation) from None
        response["ResponseMetadata"] = {
            "RequestId": f"{next(_REQUEST_IDS):032x}",
            "HTTPStatusCode": 200,
            "HTTPHeaders": {},
            "RetryAttempts": 0,
        }
        return response

    def call(self, region: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, f"_op_{operation}", None)
        if handler is None:
            msg = f"the DynamoDB stand-in does not answer {operation} (tests/fakes/dynamodb.py)"
            raise NotImplementedError(msg)
        with self.lock:
            try:
                return dict(handler(region, params))
            except ExpressionError as exc:
                raise invalid(str(exc)) from None

    def table(self, region: str, name: str) -> Table:
        found = self.tables.get((region, name))
        if found is None:
            raise DynamoDbError("ResourceNotFoundException", "Requested resource not found")
        return found

    # -- tables --------------------------------------------------------------------------
    def _op_CreateTable(self, region: str, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        name = params["TableName"]
        if (region, name) in self.tables:
            raise DynamoDbError("ResourceInUseException", f"Table already exists: {name}")
        types = {d["AttributeName"]: d["AttributeType"] for d in params["AttributeDefinitions"]}

        def keys(schema: list[dict[str, str]]) -> tuple[str, str | None]:
            by_type = {k["KeyType"]: k["AttributeName"] for k in schema}
            for attribute in by_type.values():
                if attribute not in types:
                    msg = f"One or more parameter values were invalid: {attribute} is not defined"
                    raise invalid(msg)
            return by_type["HASH"], by_type.get("RANGE")

        hash_key, range_key = keys(params["KeySchema"])
        indexes = {}
        for spec in params.get("GlobalSecondaryIndexes", []):
            index_hash, index_range = keys(spec["KeySchema"])
            projection = spec.get("Projection", {})
            indexes[spec["IndexName"]] = Index(
                spec["IndexName"],
                index_hash,
                index_range,
                projection.get("ProjectionType", "ALL"),
                tuple(projection.get("NonKeyAttributes", ())),
            )
        description = {
            "TableName": name,
            "TableArn": f"arn:aws:dynamodb:{region}:123456789012:table/{name}",
            "TableId": str(uuid.uuid4()),
            "TableStatus": "ACTIVE",
            "CreationDateTime": datetime.now(UTC),
            "KeySchema": params["KeySchema"],
            "AttributeDefinitions": params["AttributeDefinitions"],
            "BillingModeSummary": {"BillingMode": params.get("BillingMode", "PROVISIONED")},
            **(
                {
                    "GlobalSecondaryIndexes": [
                        {**spec, "IndexStatus": "ACTIVE"}
                        for spec in params["GlobalSecondaryIndexes"]
                    ]
                }
                if indexes
                else {}
            ),
        }
        table = Table(name, hash_key, range_key, types, indexes, description)
        self.tables[(region, name)] = table
        return {"TableDescription": self._described(table)}

    def _described(self, table: Table) -> dict[str, Any]:
        return {**copy_value(table.description), "ItemCount": len(table.items)}

    def _op_DescribeTable(self, region: str, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return {"Table": self._described(self.table(region, params["TableName"]))}

    def _op_DeleteTable(self, region: str, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        table = self.table(region, params["TableName"])
        del self.tables[(region, table.name)]
        return {"TableDescription": {**self._described(table), "TableStatus": "DELETING"}}

    def _op_ListTables(self, region: str, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        names = sorted(name for r, name in self.tables if r == region)
        start = params.get("ExclusiveStartTableName")
        if start:
            names = [n for n in names if n > start]
        limit = params.get("Limit", 100)
        page: dict[str, Any] = {"TableNames": names[:limit]}
        if len(names) > limit:
            page["LastEvaluatedTableName"] = names[limit - 1]
        return page

    def _op_UpdateTimeToLive(self, region: str, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        table = self.table(region, params["TableName"])
        table.ttl = dict(params["TimeToLiveSpecification"])
        return {"TimeToLiveSpecification": dict(table.ttl)}

    def _op_DescribeTimeToLive(self, region: str, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        ttl = self.table(region, params["TableName"]).ttl
        if not ttl or not ttl.get("Enabled"):
            return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
        description = {"TimeToLiveStatus": "ENABLED", "AttributeName": ttl["AttributeName"]}
        return {"TimeToLiveDescription": description}

    # -- single items ----------------------------------------------------------------------
    def _op_GetItem(self, region: str, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        table = self.table(region, params["TableName"])
        context = request_context(params)
        found = table.items.get(table.key_of(params["Key"]))
        paths = projection_paths(params, context)
        context.check_all_used()
        if found is None:
            return {}
        return {"Item": copy_item(project(found, paths) if paths is not None else found)}

    def _op_PutItem(self, region: str, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        table = self.table(region, params["TableName"])
        item = copy_value(params["Item"])
        check_values(item)
        key = table.item_key(item)
        old = table.items.get(key)
        self._require_condition(params, old)
        table.store(key, item, "Item size has exceeded the maximum allowed size")
        return self._returned(params, old, None)

    def _op_DeleteItem(self, region: str, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        table = self.table(region, params["TableName"])
        key = table.key_of(params["Key"])
        old = table.items.get(key)
        self._require_condition(params, old)
        table.remove(key)
        return self._returned(params, old, None)

    def _op_UpdateItem(self, region: str, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        table = self.table(region, params["TableName"])
        if "AttributeUpdates" in params or "Expected" in params:
            msg = "the stand-in answers UpdateExpression/ConditionExpression, not the legacy form"
            raise NotImplementedError(msg)
        key = table.key_of(params["Key"])
        old = table.items.get(key)
        context = request_context(params)
        new = self._updated(table, params, old, context)
        context.check_all_used()
        if new is None:
            raise self._condition_failed(params, old)
        table.store(key, new, "Item size to update has exceeded the maximum allowed size")
        return self._returned(params, old, new)

    def _updated(
        self, table: Table, params: dict[str, Any], old: Item | None, context: Context
    ) -> Item | None:
        """The item an update makes (None: its condition failed); the update expression is
        checked before the condition, as DynamoDB validates a request before it runs it."""
        text = params.get("UpdateExpression")
        clauses = parsed(parse_update, text) if text else {}
        base = old if old is not None else copy_value(table.key_item(params["Key"]))
        new = apply_update(base, clauses, context, table.key_names) if clauses else dict(base)
        if not condition_holds(params, old, context):
            return None
        return new

    def _require_condition(self, params: dict[str, Any], old: Item | None) -> None:
        """Refuse the write unless its ``ConditionExpression`` holds for ``old``."""
        context = request_context(params)
        holds = condition_holds(params, old, context)
        context.check_all_used()
        if not holds:
            raise self._condition_failed(params, old)

    @staticmethod
    def _condition_failed(params: dict[str, Any], old: Item | None) -> DynamoDbError:
        extra = {}
        if params.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old is not None:
            extra["Item"] = copy_item(old)
        return DynamoDbError("ConditionalCheckFailedException", CONDITION_FAILED, **extra)

    @staticmethod
    def _returned(params: dict[str, Any], old: Item | None, new: Item | None) -> dict[str, Any]:
        wanted = params.get("ReturnValues", "NONE")
        if wanted == "ALL_OLD" and old is not None:
            return {"Attributes": copy_item(old)}
        if wanted == "ALL_NEW" and new is not None:
            return {"Attributes": copy_item(new)}
        if wanted in {"UPDATED_OLD", "UPDATED_NEW"}:
            before, after = old or {}, new or {}
            source = before if wanted == "UPDATED_OLD" else after
            changed = {
                name: value
                for name, value in source.items()
                if before.get(name) is not after.get(name)
            }
            return {"Attributes": copy_item(changed)} if changed else {}
        return {}

    # -- many items ------------------------------------------------------------------------
    def _op_BatchWriteItem(self, region: str, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        requests = [(name, r) for name, rs in params["RequestItems"].items() for r in rs]
        if len(requests) > 25:
            raise invalid("Too many items requested for the BatchWriteItem call")
        planned = []
        seen = set()
        for name, request in requests:
            table = self.table(region, name)
            if "PutRequest" in request:
                item = copy_value(request["PutRequest"]["Item"])
                check_values(item)
                key = table.item_key(item)
            else:
                item, key = None, table.key_of(request["DeleteRequest"]["Key"])
            if (name, key) in seen:
                raise invalid("Provided list of item keys contains duplicates")
            seen.add((name, key))
            planned.append((table, key, item))
        for table, key, item in planned:
            if item is None:
                table.remove(key)
            else:
                table.store(key, item, "Item size has exceeded the maximum allowed size")
        return {"UnprocessedItems": {}, "ItemCollectionMetrics": {}}

    def _op_BatchGetItem(self, region: str, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        responses: dict[str, list[Item]] = {}
        for name, wanted in params["RequestItems"].items():
            single = {k: v for k, v in wanted.items() if k != "Keys"} | {"TableName": name}
            found = responses.setdefault(name, [])
            for key in wanted["Keys"]:
                item = self._op_GetItem(region, {**single, "Key": key}).get("Item")
                if item is not None:
                    found.append(item)
        return {"Responses": responses, "UnprocessedKeys": {}}

    def _op_TransactWriteItems(self, region: str, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        actions = params["TransactItems"]
        planned: list[tuple[Table, tuple[Any, ...], Item | None, bool]] = []
        reasons: list[dict[str, str]] = []
        seen = set()
        for action in actions:
            (verb, request), *_ = action.items()
            table = self.table(region, request["TableName"])
            if verb == "Put":
                item = copy_value(request["Item"])
                check_values(item)
                key = table.item_key(item)
            else:
                item, key = None, table.key_of(request["Key"])
            if (table.name, key) in seen:
                msg = "Transaction request cannot include multiple operations on one item"
                raise invalid(msg)
            seen.add((table.name, key))
            old = table.items.get(key)
            context = request_context(request)
            reason = {"Code": "None"}
            try:
                if verb == "Update":
                    item = self._updated(table, request, old, context)
                    holds = item is not None
                else:
                    holds = condition_holds(request, old, context)
            except ExpressionError as exc:
                reason, holds = {"Code": "ValidationError", "Message": str(exc)}, True
            context.check_all_used()
            if not holds:
                reason = {"Code": "ConditionalCheckFailed", "Message": CONDITION_FAILED}
            reasons.append(reason)
            planned.append((table, key, item, verb == "ConditionCheck"))
        if any(r["Code"] != "None" for r in reasons):
            codes = ", ".join(r["Code"] for r in reasons)
            msg = f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]"
            raise DynamoDbError("TransactionCanceledException", msg, CancellationReasons=reasons)
        for table, key, item, only_checked in planned:
            if only_checked:
                continue
            if item is None:
                table.remove(key)
            else:
                table.store(key, item, "Item size to update has exceeded the maximum allowed size")
        return {"ItemCollectionMetrics": {}}

    # -- queries ---------------------------------------------------------------------------
    def _op_Query(self, region: str, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        table = self.table(region, params["TableName"])
        index = self._index(table, params)
        context = request_context(params)
        hash_key, range_key = (
            (index.hash_key, index.range_key)
            if index
            else (
                table.hash_key,
                table.range_key,
            )
        )
        condition = parsed(parse_condition, params["KeyConditionExpression"])
        wanted, range_condition = key_conditions(condition, context, hash_key, range_key)
        candidates = [
            item
            for item in self._members(table, index)
            if equal(item.get(hash_key), wanted)
            and (range_condition is None or evaluate(range_condition, item, context))
        ]
        return self._page(table, index, candidates, params, context, range_key)

    def _op_Scan(self, region: str, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        table = self.table(region, params["TableName"])
        index = self._index(table, params)
        return self._page(
            table, index, list(self._members(table, index)), params, request_context(params), None
        )

    @staticmethod
    def _index(table: Table, params: dict[str, Any]) -> Index | None:
        name = params.get("IndexName")
        if name is None:
            return None
        if name not in table.indexes:
            msg = f"The table does not have the specified index: {name}"
            raise invalid(msg)
        if params.get("ConsistentRead"):
            raise invalid("Consistent reads are not supported on global secondary indexes")
        return table.indexes[name]

    @staticmethod
    def _members(table: Table, index: Index | None) -> Any:
        """The items of the table, or of a (sparse) index: those with its key attributes."""
        if index is None:
            return iter(table.items.values())
        return (
            item
            for item in table.items.values()
            if index.hash_key in item and (index.range_key is None or index.range_key in item)
        )

    def _page(
        self,
        table: Table,
        index: Index | None,
        candidates: list[Item],
        params: dict[str, Any],
        context: Context,
        range_key: str | None,
    ) -> dict[str, Any]:
        """One page of ``candidates``: in key order, from ``ExclusiveStartKey``, at most
        ``Limit`` read (before the filter) and at most 1 MB."""
        key_names = sorted(
            table.key_names
            | (
                {index.hash_key} | ({index.range_key} if index.range_key else set())
                if index
                else set()
            )
        )

        def position(item: Item) -> tuple[Any, ...]:
            own = table._key_tuple(item)  # noqa: SLF001
            return (order(item[range_key]), *own) if range_key else own

        candidates.sort(key=position, reverse=params.get("ScanIndexForward", True) is False)
        start = params.get("ExclusiveStartKey")
        if start:
            if set(start) != set(key_names):
                raise invalid("The provided starting key is invalid")
            after = position(start)
            forward = params.get("ScanIndexForward", True) is not False
            candidates = [
                c for c in candidates if (position(c) > after if forward else position(c) < after)
            ]
        limit = params.get("Limit")
        read: list[Item] = []
        size = 0
        stopped = False
        for item in candidates:
            if limit is not None and len(read) == limit:
                stopped = True
                break
            item_size = table.size_of(table._key_tuple(item))  # noqa: SLF001
            if read and size + item_size > PAGE_SIZE_LIMIT:
                stopped = True
                break
            read.append(item)
            size += item_size
        if limit is not None and len(read) == limit:
            stopped = True
        text = params.get("FilterExpression")
        filtered = read
        if text:
            condition = parsed(parse_condition, text)
            evaluate(condition, None, context)  # every name and value counts as used
            filtered = [item for item in read if evaluate(condition, item, context)]
        paths = projection_paths(params, context)
        context.check_all_used()
        page: dict[str, Any] = {"Count": len(filtered), "ScannedCount": len(read)}
        if params.get("Select") != "COUNT":
            shown = [self._projected(table, index, item) for item in filtered]
            page["Items"] = [
                copy_item(project(i, paths) if paths is not None else i) for i in shown
            ]
        if stopped and read:
            page["LastEvaluatedKey"] = copy_item({n: read[-1][n] for n in key_names})
        return page

    @staticmethod
    def _projected(table: Table, index: Index | None, item: Item) -> Item:
        if index is None or index.projection == "ALL":
            return item
        kept = (
            table.key_names | {index.hash_key} | ({index.range_key} if index.range_key else set())
        )
        if index.projection == "INCLUDE":
            kept |= set(index.non_key)
        return {name: value for name, value in item.items() if name in kept}


def install(monkeypatch: Any, store: DynamoDb | None = None) -> DynamoDb:
    """Answer every DynamoDB client's calls from ``store`` (a new one by default) until
    ``monkeypatch`` undoes it; other services' calls go on as they did."""
    store = store or DynamoDb()
    original = BaseClient._make_api_call  # noqa: SLF001

    def make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name != "dynamodb":
            return original(client, operation, params)
        return store.answer(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", make_api_call)
    return store
