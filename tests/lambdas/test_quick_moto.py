"""``tests/fakes/quick_moto.py`` gives moto's own answers: each replacement against moto's
original over generated attribute values of every type, and the item-size limit at its
edge, where DynamoDB refuses an item (the 400 KB limit the runtime's bounds rely on)."""

from __future__ import annotations

import copy
import datetime
import json
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.utilities import dynamo_to_dict

from tests.fakes import quick_moto

NAMES = st.text(min_size=1, max_size=6)
SCALARS = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=12)),
    st.builds(lambda n: {"N": str(n)}, st.integers(-(10**12), 10**12)),
    st.builds(lambda n: {"N": n}, st.decimals(allow_nan=False, allow_infinity=False, places=3)),
    st.builds(lambda b: {"B": b}, st.binary(max_size=8)),
    st.builds(lambda b: {"B": b}, st.sampled_from(["AAEC", "/w=="])),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda v: {"SS": v}, st.lists(st.text(max_size=5), min_size=1, max_size=4)),
    st.builds(lambda v: {"NS": [str(n) for n in v]}, st.lists(st.integers(), min_size=1)),
    st.builds(lambda v: {"BS": v}, st.lists(st.binary(max_size=4), min_size=1, max_size=3)),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.builds(lambda v: {"L": v}, st.lists(children, max_size=4)),
        st.builds(lambda v: {"M": v}, st.dictionaries(NAMES, children, max_size=4)),
    ),
    max_leaves=30,
)


def original(name: str, value: DynamoType, *args: Any) -> Any:
    return quick_moto.motos(name)(value, *args)


def mutate_everywhere(value: DynamoType) -> None:
    """Change every mutable part of a value in place."""
    if isinstance(value.value, dict):
        for child in value.value.values():
            mutate_everywhere(child)
        value.value["added"] = DynamoType({"S": "x"})
    elif isinstance(value.value, list):
        for child in value.value:
            if isinstance(child, DynamoType):
                mutate_everywhere(child)
        value.value.append(DynamoType({"S": "x"}) if value.type == "L" else "x")
    else:
        value.value = "changed"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VALUES)
def test_the_quick_copy_size_and_wire_form_are_motos(wire: dict[str, Any]) -> None:
    value = DynamoType(copy.deepcopy(wire))
    kept = original("to_regular_json", value)

    assert quick_moto.size(value) == original("size", value)
    assert quick_moto.to_regular_json(value) == kept
    theirs = original("__deepcopy__", value, {})
    ours = quick_moto.copied(value)
    assert type(ours) is DynamoType
    assert original("to_regular_json", ours) == original("to_regular_json", theirs) == kept
    mutate_everywhere(ours)
    assert original("to_regular_json", value) == kept, "the copy shares nothing mutable"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(NAMES, VALUES, max_size=5), st.lists(VALUES, max_size=3))
def test_the_quick_result_conversion_is_motos(item: dict[str, Any], listed: list[Any]) -> None:
    """A result as moto's handlers build one: an item's values, a list of them, a count,
    a datetime (a table's description), a model with ``to_json``."""
    result = {
        "Item": {k: DynamoType(copy.deepcopy(v)) for k, v in item.items()},
        "Items": [DynamoType(copy.deepcopy(v)) for v in listed],
        "Count": len(listed),
        "CreationDateTime": datetime.datetime(2026, 12, 6, tzinfo=datetime.UTC),
        "Model": Modelled(),
        "Stored": Item(
            DynamoType({"S": "k"}),
            None,
            {k: copy.deepcopy(v) for k, v in item.items()},
        ),
        "Raw": item,
        "Decimal": Decimal("1.5"),
    }
    assert quick_moto.to_dict(result) == dynamo_to_dict(result)


class Modelled:
    def to_json(self) -> dict[str, Any]:
        return {"Table": {"Items": [DynamoType({"B": b"\x00"}), DynamoType({"S": "s"})]}}


def test_the_quick_helpers_are_what_moto_runs_in_the_tests() -> None:
    # tests/conftest.py installs them in every test process.
    assert len(quick_moto.PATCHES) == 11
    for (owner, name), (_moto, quick) in quick_moto.PATCHES.items():
        assert vars(owner)[name] is quick, name


def test_the_action_methods_moto_finds_are_its_own_list() -> None:
    from moto.core import responses as core_responses
    from moto.core.utils import method_names_from_class
    from moto.dynamodb.responses import DynamoHandler
    from moto.sns.responses import SNSResponse
    from moto.stepfunctions.responses import StepFunctionResponse

    quick = core_responses.method_names_from_class
    assert quick is not method_names_from_class
    for handler in (DynamoHandler, SNSResponse, StepFunctionResponse):
        assert quick(handler) == method_names_from_class(handler)
    assert "query" in quick(DynamoHandler) and "publish" in quick(SNSResponse)
    assert quick(DynamoHandler) is quick(DynamoHandler), "listed once per class"


def test_a_definition_is_parsed_to_check_it_once_and_a_bad_one_every_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.models import InvalidDefinition, StepFunctionsParserBackend

    parsed: list[str] = []
    parse = AmazonStateLanguageParser.parse

    def counted(definition: str) -> Any:
        parsed.append(definition)
        return parse(definition)

    monkeypatch.setattr(AmazonStateLanguageParser, "parse", staticmethod(counted))
    good = json.dumps(
        {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}, "Comment": "once"}
    )
    bad = json.dumps({"StartAt": "Nowhere", "States": {}})
    for _ in range(3):
        StepFunctionsParserBackend._validate_definition(good)  # noqa: SLF001
        with pytest.raises(InvalidDefinition):
            StepFunctionsParserBackend._validate_definition(bad)  # noqa: SLF001
    assert parsed.count(good) == 1
    assert parsed.count(bad) == 3


def grow_until_refused() -> tuple[int, str, int]:
    """An item grown by UpdateItem, a 10 KB map of strings at a time, until DynamoDB
    refuses: the maps stored, the refusal's code, and the stored item's size by moto's
    count. (moto checks the size when a top-level attribute is set, not a nested one.)"""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="bounds",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        key = {"id": {"S": "x"}}
        client.put_item(TableName="bounds", Item=key)
        leaf = {"M": {f"k{n}": {"S": "v" * 990} for n in range(10)}}
        for n in range(100):
            try:
                client.update_item(
                    TableName="bounds",
                    Key=key,
                    UpdateExpression="SET #n = :leaf",
                    ExpressionAttributeNames={"#n": f"b{n}"},
                    ExpressionAttributeValues={":leaf": leaf},
                )
            except ClientError as refused:
                code = refused.response["Error"]["Code"]
                break
        else:
            raise AssertionError("an item of 1 MB was accepted")
        stored = client.get_item(TableName="bounds", Key=key, ConsistentRead=True)["Item"]
        measured = sum(
            len(name) + quick_moto.motos("size")(DynamoType(value))
            for name, value in stored.items()
        )
        return len(stored) - 1, code, measured


def test_the_item_size_limit_refuses_at_motos_edge(monkeypatch: pytest.MonkeyPatch) -> None:
    quick = grow_until_refused()
    quick_moto.uninstall(monkeypatch)
    assert grow_until_refused() == quick
    leaves, code, measured = quick
    assert code == "ValidationException"
    assert 390_000 < measured < 405_000, "refused near 400 KB, not before"
    assert leaves == 40


def test_a_definitions_program_is_made_once_for_all_its_executions() -> None:
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    definition = json.dumps(
        {
            "StartAt": "Add",
            "States": {
                "Add": {
                    "Type": "Pass",
                    "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"},
                    "Next": "Check",
                },
                "Check": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.sum", "NumericGreaterThan": 2, "Next": "Big"}],
                    "Default": "Small",
                },
                "Big": {"Type": "Pass", "Result": "big", "End": True},
                "Small": {"Type": "Pass", "Result": "small", "End": True},
            },
        }
    )
    made: list[str] = []
    moto_made = quick_moto._moto_entrypoint  # noqa: SLF001

    def counted(worker: Any) -> Any:
        made.append(worker._evaluation_details.state_machine_details.definition)  # noqa: SLF001
        return moto_made(worker)

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        quick_moto._PROGRAMS.clear()  # noqa: SLF001
        original = quick_moto._moto_entrypoint  # noqa: SLF001
        quick_moto._moto_entrypoint = counted  # noqa: SLF001
        try:
            client = boto3.client("stepfunctions", region_name="us-east-1")
            machine = client.create_state_machine(
                name="once", definition=definition, roleArn="arn:aws:iam::123456789012:role/x"
            )["stateMachineArn"]
            outputs = [
                run_to_the_end(client, machine, f"run-{a}", {"a": a, "b": 1}) for a in (0, 5, 1, 7)
            ]
        finally:
            quick_moto._moto_entrypoint = original  # noqa: SLF001
    assert outputs == ["small", "big", "small", "big"]
    assert made == [definition], "parsed once for four executions"
    program = quick_moto._PROGRAMS[definition]  # noqa: SLF001
    parts = quick_moto.components(program)
    assert len(parts) > 10 and all(isinstance(p, EvalComponent) for p in parts)
    # Each component's heap key was made before any execution could race to make it.
    assert all(p._EvalComponent__heap_key is not None for p in parts)  # noqa: SLF001


def run_to_the_end(client: Any, machine: str, name: str, given: dict[str, Any]) -> str:
    import time

    arn = client.start_execution(stateMachineArn=machine, name=name, input=json.dumps(given))[
        "executionArn"
    ]
    for _ in range(500):
        described = client.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            assert described["status"] == "SUCCEEDED", described
            return str(described["output"]).strip('"')  # JSON or bare, as moto gives it
        time.sleep(0.01)
    raise AssertionError(arn)
