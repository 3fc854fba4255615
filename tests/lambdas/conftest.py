"""Moto DynamoDB tables laid out as the program deploys them, and the DRS fake."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from drs_orchestrator.adapters.drs import DrsGateway
from drs_orchestrator.adapters.dynamodb import ExecutionsStore, JobEventsStore, to_item
from drs_orchestrator.services.execution_finder import ExecutionFinder
from drs_orchestrator.services.wave_runner import WaveRunner
from moto import mock_aws

from infra.naming import EXECUTIONS_STATUS_INDEX
from infra.tables import EXECUTIONS, JOB_EVENTS, create_table_request
from tests.fakes.drs import FakeDrs

if TYPE_CHECKING:
    from collections.abc import Iterator

EXECUTIONS_TABLE = "test-deployment-executions"
JOB_EVENTS_TABLE = "test-deployment-job-events"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture
def dynamodb(aws: None) -> Any:
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(**create_table_request(EXECUTIONS, EXECUTIONS_TABLE))
    client.create_table(**create_table_request(JOB_EVENTS, JOB_EVENTS_TABLE))
    return client


@pytest.fixture
def drs() -> FakeDrs:
    return FakeDrs()


@pytest.fixture
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record botocore's retry back-off instead of sleeping through it."""
    slept: list[float] = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", slept.append)
    return slept


@pytest.fixture
def finder(dynamodb: Any, drs: FakeDrs) -> ExecutionFinder:
    return ExecutionFinder(
        executions=ExecutionsStore(EXECUTIONS_TABLE, EXECUTIONS_STATUS_INDEX, client=dynamodb),
        events=JobEventsStore(JOB_EVENTS_TABLE, retention_days=90, client=dynamodb),
        drs=DrsGateway(client=drs.client()),
        logger=logging.getLogger("execution-finder-test"),
    )


def shell_runner(records: Any, machines: Any, name: str = "runner-test") -> WaveRunner:
    """A wave runner for tests of its dealings with the execution record and Step
    Functions only (no DRS, SNS or finder: what those tests never reach)."""
    return WaveRunner(
        records=records,
        drs=None,  # type: ignore[arg-type]
        notifier=None,  # type: ignore[arg-type]
        finder=None,  # type: ignore[arg-type]
        deployment="d",
        machines=lambda _arn: machines,
        logger=logging.getLogger(name),
    )


def put_execution(
    dynamodb: Any,
    execution_id: str,
    jobs: dict[str, str],
    *,
    status: str = "RUNNING",
    extra: dict[str, Any] | None = None,
) -> None:
    """Store an execution tracking ``jobs`` (job id -> wave name), as the wave runner does."""
    item = {
        "executionId": execution_id,
        "status": status,
        "startedAt": "2026-11-01T12:00:00.000000Z",
        "mode": "DRILL",
        "jobs": {
            job_id: {"jobId": job_id, "waveName": wave, "status": "PENDING", "type": "LAUNCH"}
            for job_id, wave in jobs.items()
        },
        "servers": {},
        **(extra or {}),
    }
    dynamodb.put_item(TableName=EXECUTIONS_TABLE, Item=to_item(item))


def events_of(dynamodb: Any, execution_id: str) -> list[dict[str, Any]]:
    from drs_orchestrator.adapters.dynamodb import from_item

    pages = dynamodb.get_paginator("query").paginate(
        TableName=JOB_EVENTS_TABLE,
        KeyConditionExpression="executionId = :e",
        ExpressionAttributeValues={":e": {"S": execution_id}},
    )
    return [from_item(item) for page in pages for item in page["Items"]]
