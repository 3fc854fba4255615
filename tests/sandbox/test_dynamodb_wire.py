"""The sandbox's shortcut for moto's DynamoDB answers (``drsctl/sandbox/dynamodb_wire.py``)
changes no answer: every request of the stand-in's scenarios (the runtime's own reads,
writes, conditions, transactions, index queries and pages, and refusals) answered by moto
with its own serializer and with the shortcut, compared."""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.responses import DynamoResult

from drsctl.sandbox.dynamodb_wire import send_dynamodb_results_as_json
from infra.tables import create_table_request
from tests.lambdas.dynamodb_scenarios import SCENARIOS, TABLES


def answers(steps: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    found: list[Any] = []
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for name, layout in TABLES.items():
            client.create_table(**create_table_request(layout, name))
        for operation, params in steps:
            try:
                answer = client._make_api_call(operation, copy.deepcopy(params))  # noqa: SLF001
            except ClientError as exc:
                answer = exc.response
            answer.pop("ResponseMetadata", None)
            found.append(answer)
    return found


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_moto_answers_the_same_with_the_shortcut(scenario: str) -> None:
    serialized = answers(SCENARIOS[scenario])
    restore = send_dynamodb_results_as_json()
    try:
        assert DynamoResult.execute_result.__name__ == "as_json", "the shortcut is installed"
        shortcut = answers(SCENARIOS[scenario])
    finally:
        restore()
    assert DynamoResult.execute_result.__name__ != "as_json", "and put back"
    assert shortcut == serialized


def test_an_answer_that_is_not_plain_json_goes_through_motos_serializer() -> None:
    restore = send_dynamodb_results_as_json()
    try:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            name, layout = next(iter(TABLES.items()))
            client.create_table(**create_table_request(layout, name))
            described = client.describe_table(TableName=name)["Table"]
    finally:
        restore()
    assert described["TableName"] == name
    assert described["CreationDateTime"].year >= 2026
