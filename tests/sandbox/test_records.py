"""``/sandbox/records``: each of a deployment's tables, item by item, as its key and a digest
of the whole item, read from moto's DynamoDB in the sandbox's process (the fuzz run's check
that a refused write changed nothing compares two readings)."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest
from moto import mock_aws

from drsctl.sandbox.drs import DrsSimulator
from drsctl.sandbox.gateway import AwsGateway
from drsctl.sandbox.records import stored_items
from tests.sandbox.test_site import OK, USER, FakeLambda

ACCOUNT, REGION, NAME = "123456789012", "us-east-1", "aws-elasticdrs-orchestrator-dev"


def _table(client: Any, name: str, *keys: str) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": k, "KeyType": kind}
            for k, kind in zip(keys, ("HASH", "RANGE"), strict=False)
        ],
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def dynamodb() -> Any:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        _table(client, f"{NAME}-recovery-plans", "planId")
        _table(client, f"{NAME}-job-events", "executionId", "eventKey")
        _table(client, "aws-drs-orchestrator-archive-test-recovery-plans", "planId")
        yield client


def _put(client: Any, table: str, **attributes: Any) -> None:
    client.put_item(TableName=f"{NAME}-{table}", Item=attributes)


def test_each_of_the_deployments_tables_is_listed_by_key_with_a_digest(dynamodb: Any) -> None:
    _put(dynamodb, "recovery-plans", planId={"S": "p-2"}, name={"S": "two"})
    _put(dynamodb, "recovery-plans", planId={"S": "p-1"}, waves={"L": [{"M": {"n": {"N": "1"}}}]})
    _put(dynamodb, "job-events", executionId={"S": "e-1"}, eventKey={"S": "k"}, n={"N": "3"})
    dynamodb.put_item(
        TableName="aws-drs-orchestrator-archive-test-recovery-plans", Item={"planId": {"S": "x"}}
    )

    found = stored_items(ACCOUNT, REGION, NAME)

    assert sorted(found) == [f"{NAME}-job-events", f"{NAME}-recovery-plans"]  # no other's
    plans = found[f"{NAME}-recovery-plans"]
    assert [row["key"] for row in plans] == [{"planId": {"S": "p-1"}}, {"planId": {"S": "p-2"}}]
    assert found[f"{NAME}-job-events"][0]["key"] == {
        "executionId": {"S": "e-1"},
        "eventKey": {"S": "k"},
    }
    assert len({row["digest"] for row in plans}) == 2 and all(
        len(row["digest"]) == 64 for row in plans
    )


def test_only_the_tables_asked_for_are_read(dynamodb: Any) -> None:
    _put(dynamodb, "job-events", executionId={"S": "e-1"}, eventKey={"S": "k"})
    found = stored_items(ACCOUNT, REGION, NAME, ["recovery-plans", "executions"])
    assert found == {f"{NAME}-recovery-plans": []}


def test_a_digest_changes_with_any_attribute_of_its_item_and_only_its_own(dynamodb: Any) -> None:
    _put(dynamodb, "recovery-plans", planId={"S": "p-1"}, waves={"L": [{"M": {"n": {"N": "1"}}}]})
    _put(dynamodb, "recovery-plans", planId={"S": "p-2"}, name={"S": "two"})
    before = stored_items(ACCOUNT, REGION, NAME)
    assert stored_items(ACCOUNT, REGION, NAME) == before  # reading changes nothing

    dynamodb.update_item(
        TableName=f"{NAME}-recovery-plans",
        Key={"planId": {"S": "p-1"}},
        UpdateExpression="SET waves[0].n = :n",
        ExpressionAttributeValues={":n": {"N": "2"}},
    )
    after = stored_items(ACCOUNT, REGION, NAME)[f"{NAME}-recovery-plans"]
    old = before[f"{NAME}-recovery-plans"]
    assert after[0]["digest"] != old[0]["digest"]  # a nested number changed
    assert after[1] == old[1]


def test_the_site_serves_the_reading_under_the_gateways_lock(dynamodb: Any) -> None:
    from drsctl.sandbox.deploy import Deployment
    from drsctl.sandbox.site import Site

    _put(dynamodb, "recovery-plans", planId={"S": "p-1"})
    gateway = AwsGateway({})
    holding: list[bool] = []

    asked: list[list[str]] = []

    def read() -> Any:
        # The gateway's lock is held: no request thread can change moto meanwhile.
        other = threading.Thread(target=lambda: holding.append(gateway._lock.acquire(timeout=0)))
        other.start()
        other.join()
        return stored_items(ACCOUNT, REGION, NAME)

    deployment = Deployment("dev", NAME, REGION)
    site = Site(
        deployment,
        FakeLambda(OK),
        DrsSimulator(),
        USER,
        None,
        dict,
        records=lambda tables: asked.append(tables) or gateway.read_moto(read),
    )
    site.stop()
    status, headers, body = site.control(
        "GET", "/sandbox/records", b"", "table=recovery-plans&table=executions"
    )
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert asked == [["recovery-plans", "executions"]]
    assert json.loads(body)[f"{NAME}-recovery-plans"][0]["key"] == {"planId": {"S": "p-1"}}
    assert holding == [False]
    assert gateway._lock.acquire(timeout=0)  # and released after


def test_a_site_given_no_reading_has_no_such_control() -> None:
    from tests.sandbox.test_site import site

    status, _h, body = site(FakeLambda(OK)).control("GET", "/sandbox/records", b"")
    assert status == 404 and "no sandbox control" in json.loads(body)["message"]
