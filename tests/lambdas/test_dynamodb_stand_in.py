"""The DynamoDB stand-in (``tests/fakes/dynamodb.py``) answers as moto does: each scenario's
requests (the runtime's own expressions, conditions, transactions, indexes and pages) run
on moto and on the stand-in, and every answer is compared: items, pages, error codes and
cancellation reasons. Where DynamoDB and moto part ways, the stand-in follows DynamoDB and
the test says so (a ``LastEvaluatedKey`` after a page that used up its ``Limit``; an item
grown past the size limit by a nested update)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.tables import EXECUTIONS, create_table_request
from tests.fakes.dynamodb import ITEM_SIZE_LIMIT, DynamoDb
from tests.fakes.dynamodb import install as install_stand_in
from tests.lambdas.dynamodb_scenarios import (
    EXECUTIONS_TABLE,
    SCENARIOS,
    TABLES,
    execution,
    get,
    key,
    n,
    put,
    update,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.lambdas.dynamodb_scenarios import Step


def normalised(answer: Any) -> Any:
    if isinstance(answer, ClientError):
        response = answer.response
        reasons = [r.get("Code") for r in response.get("CancellationReasons") or []]
        return ("error", response["Error"]["Code"], reasons)
    answer = {k: v for k, v in answer.items() if k not in {"ResponseMetadata", "ConsumedCapacity"}}
    return sets_sorted(answer)


def sets_sorted(value: Any) -> Any:
    """Sets' members in order (neither DynamoDB nor moto promises one)."""
    if isinstance(value, dict):
        return {
            k: sorted(v) if k in {"SS", "NS", "BS"} else sets_sorted(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [sets_sorted(v) for v in value]
    return value


def answers(call: Callable[[str, dict[str, Any]], Any], steps: list[Step]) -> list[Any]:
    found = []
    for operation, params in steps:
        try:
            found.append(normalised(call(operation, copy.deepcopy(params))))
        except ClientError as exc:
            found.append(normalised(exc))
    return found


def moto_and_stand_in(steps: list[Step]) -> tuple[list[Any], list[Any]]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        store = DynamoDb()
        for name, layout in TABLES.items():
            client.create_table(**create_table_request(layout, name))
            store.answer(client, "CreateTable", create_table_request(layout, name))
        on_moto = answers(client._make_api_call, steps)  # noqa: SLF001
        on_stand_in = answers(lambda op, params: store.answer(client, op, params), steps)
    return on_moto, on_stand_in


#: Where moto is not DynamoDB: (scenario, step) -> why the stand-in answers otherwise.
DYNAMODB_NOT_MOTO = {
    ("projections and refusals of malformed requests", 8): "moto answers a key of the wrong "
    "type with no item; DynamoDB refuses it: the provided key element does not match the schema",
    ("batches of 25 puts, and a batch that names one key twice", 2): "moto takes a put and a "
    "delete of one item in one batch; DynamoDB refuses it (provided list of item keys contains "
    "duplicates)",
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_stand_in_answers_as_moto_does(scenario: str) -> None:
    on_moto, on_stand_in = moto_and_stand_in(SCENARIOS[scenario])
    for step, (moto_answer, answer) in enumerate(zip(on_moto, on_stand_in, strict=True)):
        if (scenario, step) in DYNAMODB_NOT_MOTO:
            assert answer[:2] == ("error", "ValidationException"), "DynamoDB refuses it"
            continue
        moto_answer, answer = last_key_after_a_full_page(moto_answer, answer)
        operation, params = SCENARIOS[scenario][step]
        assert answer == moto_answer, f"step {step}: {operation} {str(params)[:300]}"


def last_key_after_a_full_page(on_moto: Any, on_stand_in: Any) -> tuple[Any, Any]:
    """DynamoDB answers a page that used up its ``Limit`` with a ``LastEvaluatedKey``,
    even when nothing comes after it (the next page is empty); moto only when something
    does. Such a key is compared only when moto gives one."""
    both_pages = isinstance(on_moto, dict) and isinstance(on_stand_in, dict)
    if both_pages and "LastEvaluatedKey" in on_stand_in and "LastEvaluatedKey" not in on_moto:
        on_stand_in = {k: v for k, v in on_stand_in.items() if k != "LastEvaluatedKey"}
    return on_moto, on_stand_in


def test_a_nested_update_past_the_size_limit_is_refused() -> None:
    """moto checks the limit only when a top-level attribute is set, so a nested update
    grows an item past it; DynamoDB (and the stand-in) refuse any write that leaves the item
    too large."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        store = DynamoDb()
        store.answer(client, "CreateTable", create_table_request(EXECUTIONS, EXECUTIONS_TABLE))
        store.answer(
            client, "PutItem", put(execution(1, big={"S": "x" * (ITEM_SIZE_LIMIT - 2_000)}))[1]
        )
        grow = update(
            1,
            "SET jobs.#j = :j",
            ExpressionAttributeNames={"#j": "j1"},
            ExpressionAttributeValues={":j": {"S": "y" * 3_000}},
        )[1]
        with pytest.raises(ClientError) as refused:
            store.answer(client, "UpdateItem", grow)
        assert refused.value.response["Error"]["Code"] == "ValidationException"
        assert "maximum allowed size" in refused.value.response["Error"]["Message"]
        item = store.answer(client, "GetItem", get(1)[1])["Item"]
        assert item["jobs"] == {"M": {}}, "the refused update left nothing behind"


def test_a_page_that_used_up_its_limit_has_a_last_key_even_when_nothing_follows() -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        store = DynamoDb()
        store.answer(client, "CreateTable", create_table_request(EXECUTIONS, EXECUTIONS_TABLE))
        for number in (1, 2):
            store.answer(client, "PutItem", put(execution(number))[1])
        first = store.answer(client, "Scan", {"TableName": EXECUTIONS_TABLE, "Limit": 2})
        assert first["LastEvaluatedKey"] == key(2)
        rest = store.answer(
            client, "Scan", {"TableName": EXECUTIONS_TABLE, "Limit": 2, "ExclusiveStartKey": key(2)}
        )
        assert rest["Items"] == [] and "LastEvaluatedKey" not in rest


def test_every_client_in_the_process_reaches_the_stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """Installed, the stand-in answers every DynamoDB client (the runtime makes its own),
    emits ``before-call`` as botocore does (the runtime's telemetry counts it), and
    refuses a malformed request as botocore would, before anything is written."""
    store = install_stand_in(monkeypatch)
    client = boto3.client(
        "dynamodb", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    seen: list[str] = []
    client.meta.events.register("before-call.dynamodb", lambda model, **_: seen.append(model.name))
    client.create_table(**create_table_request(EXECUTIONS, EXECUTIONS_TABLE))
    assert ("eu-west-1", EXECUTIONS_TABLE) in store.tables
    with pytest.raises(Exception, match="Parameter validation failed"):
        client.put_item(TableName=EXECUTIONS_TABLE, Item={"executionId": "not an attribute value"})
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        client.update_item(
            TableName=EXECUTIONS_TABLE,
            Key=key(1),
            UpdateExpression="SET a = :a",
            ConditionExpression="attribute_exists(executionId)",
            ExpressionAttributeValues={":a": n(1)},
        )
    assert seen == ["CreateTable", "UpdateItem"]
    assert store.tables[("eu-west-1", EXECUTIONS_TABLE)].items == {}


def _containers(value: Any) -> list[int]:
    """The ids of every dict and list in ``value``."""
    if isinstance(value, dict):
        return [id(value), *(i for v in value.values() for i in _containers(v))]
    if isinstance(value, list):
        return [id(value), *(i for v in value for i in _containers(v))]
    return []


def test_an_answered_item_is_a_copy_sharing_nothing_the_store_holds() -> None:
    from tests.fakes.dynamodb_items import copy_item, copy_value

    stored = {
        "id": {"S": "ex-1"},
        "n": {"N": "7"},
        "blob": {"B": b"\x00\x01"},
        "ok": {"BOOL": True},
        "none": {"NULL": True},
        "names": {"SS": ["a", "b"]},
        "numbers": {"NS": ["1", "2"]},
        "blobs": {"BS": [b"\x02"]},
        "waves": {"L": [{"M": {"servers": {"M": {"s-1": {"L": [{"S": "LAUNCHED"}]}}}}}]},
    }
    answered = copy_item(stored)
    assert answered == stored == copy_value(stored)
    assert not set(_containers(answered)) & set(_containers(stored))
