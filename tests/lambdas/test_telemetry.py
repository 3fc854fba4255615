"""The orchestrator's metrics: what an ended execution and a finder run tell, every AWS call
and throttled answer counted, all printed in CloudWatch's embedded metric format."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
from botocore.awsrequest import AWSResponse
from drs_orchestrator.adapters import telemetry
from drs_orchestrator.adapters.clients import client
from drs_orchestrator.domain import metrics
from moto import mock_aws

if TYPE_CHECKING:
    import pytest


def emf(printed: str) -> list[dict[str, Any]]:
    """The EMF documents printed (one JSON object per line with ``_aws``)."""
    found = []
    for line in printed.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            found.append(document)
    return found


def test_an_ended_execution_tells_how_it_ended_its_recovery_time_and_each_wave_start_delay() -> (
    None
):
    item = {
        "status": "COMPLETED",
        "mode": "DRILL",
        "recoveryTime": {"seconds": 600, "objectiveSeconds": 900, "overObjective": False},
        "waves": [
            {"name": "Db", "startedAt": "2026-11-30T12:00:00Z", "endedAt": "2026-11-30T12:04:00Z"},
            {
                "name": "App",
                "dependsOn": ["Db"],
                "startedAt": "2026-11-30T12:04:02Z",
                "endedAt": "2026-11-30T12:08:00Z",
            },
            {
                "name": "Web",
                "dependsOn": ["App"],
                "pauseBefore": True,
                "approvedAt": "2026-11-30T12:09:00Z",
                "startedAt": "2026-11-30T12:09:00.5Z",
            },
            {"name": "Never", "dependsOn": ["Web"]},
        ],
    }
    found = metrics.execution_ended(item)
    assert found[0] == metrics.Metric(
        "ExecutionsEnded", 1, dimensions=(("Status", "COMPLETED"), ("Mode", "DRILL"))
    )
    assert metrics.Metric("RecoveryTime", 600.0, "Seconds") in found
    delays = [m.value for m in found if m.name == "WaveStartDelay"]
    assert delays == [2.0, 0.5], "from its dependency's ready, or its approval when later"


def test_calls_and_throttled_answers_are_counted_per_service_and_emitted_as_emf(
    capsys: pytest.CaptureFixture[str],
) -> None:
    telemetry.drain()
    with mock_aws():
        dynamodb = client("dynamodb", region_name="us-east-1")
        throttled = {"left": 2}

        def throttle_twice(request: Any, **_: Any) -> AWSResponse | None:
            if throttled["left"]:
                throttled["left"] -= 1
                body = b'{"__type":"ThrottlingException","message":"slow down"}'
                return AWSResponse(request.url, 400, {}, _Raw(body))
            return None

        dynamodb.meta.events.register("before-send.dynamodb.ListTables", throttle_twice)
        dynamodb.list_tables()  # answered at the third attempt
        dynamodb.list_tables()
        assert boto3.client("s3", region_name="us-east-1").list_buckets() is not None
    counted = telemetry.drain()
    assert counted == {"dynamodb": {"calls": 2, "throttled": 2}}, "only the adapters' clients"
    telemetry._count("drs", "calls")
    telemetry.Telemetry("drs-x", "execution-finder").emit_calls()
    [calls, throttles] = emf(capsys.readouterr().out)
    assert calls["AwsCalls"] == [1.0] and throttles["AwsThrottled"] == [0.0]
    assert (calls["deployment"], calls["service"], calls["Service"]) == (
        "drs-x",
        "execution-finder",
        "drs",
    )
    [definition] = calls["_aws"]["CloudWatchMetrics"]
    assert definition["Namespace"] == metrics.NAMESPACE
    assert set(definition["Dimensions"][0]) == {"deployment", "service", "Service"}


class _Raw:
    """A raw HTTP body botocore can read."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any) -> bytes:
        body, self._body = self._body, b""
        return body
