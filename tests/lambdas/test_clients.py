"""The runtime's clients: one per service, region, endpoint and configuration in a session,
each with the shared retry configuration and counted by the telemetry."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from drs_orchestrator.adapters import telemetry
from drs_orchestrator.adapters.clients import MAX_ATTEMPTS, client
from drs_orchestrator.adapters.dynamodb import ExecutionRecords, ServerHolds
from moto import mock_aws

if TYPE_CHECKING:
    import pytest


def test_the_stores_of_a_handler_share_one_client_per_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        records, holds = ExecutionRecords("executions"), ServerHolds("holds")
        assert records._client is holds._client
        assert client("dynamodb") is records._client
        assert client("sns") is not records._client
        shared = records._client
        assert shared.meta.region_name == "us-east-1"
        assert shared.meta.config.retries["total_max_attempts"] == MAX_ATTEMPTS


def test_another_region_configuration_or_endpoint_is_another_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        home = client("s3")
        assert client("s3", region_name="eu-west-1").meta.region_name == "eu-west-1"
        assert client("s3", region_name="us-east-1") is home, "the session's region, named"
        signed = client("s3", config=Config(signature_version="s3v4"))
        assert signed is not home
        assert client("s3", config=Config(signature_version="s3v4")) is signed, "equal configs"
        assert signed.meta.config.retries["total_max_attempts"] == MAX_ATTEMPTS
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
        pointed = client("s3")
        assert pointed is not home
        assert pointed.meta.endpoint_url == "http://127.0.0.1:4566"
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
        monkeypatch.delenv("AWS_ENDPOINT_URL")
        assert client("s3").meta.region_name == "eu-west-2", "the region the environment names"


def test_a_new_default_session_makes_new_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        first = client("dynamodb")
    with mock_aws():  # moto starts every mock with a new default session
        assert client("dynamodb") is not first
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    made = client("dynamodb")
    assert boto3.DEFAULT_SESSION is not None
    assert client("dynamodb") is made


def test_threads_asking_at_once_get_the_one_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(client("sqs"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 8
    assert len({id(c) for c in got}) == 1


def test_a_shared_client_counts_each_call_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        telemetry.drain()
        ExecutionRecords("executions")
        ServerHolds("holds")
        client("dynamodb").list_tables()
        assert telemetry.drain()["dynamodb"]["calls"] == 1
