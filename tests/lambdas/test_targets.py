"""DRS targets at run time (issue 15): the list each function is given, and clients in a
target through STS with credentials cached until they near expiry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from drs_orchestrator.adapters.targets import RENEW_BEFORE, TargetSessions
from drs_orchestrator.domain.targets import HOME, Target, Targets, session_name
from drs_orchestrator.errors import ConfigurationError, TargetUnreachableError
from moto import mock_aws

STAGING = "111122223333"
ROLE = f"arn:aws:iam::{STAGING}:role/dep-a-drs-target"
TARGET = Target(STAGING, "us-west-2", ROLE, "dep-a-7f3a")
ENTRY = {"account": STAGING, "region": "us-west-2", "roleArn": ROLE, "externalId": "dep-a-7f3a"}


def test_the_list_is_read_with_home_first() -> None:
    assert Targets.from_json("us-east-1", "").all() == (Target(HOME, "us-east-1"),)
    targets = Targets.from_json("us-east-1", json.dumps([ENTRY]))
    assert targets.all() == (Target(HOME, "us-east-1"), TARGET)
    assert targets.get(f"{STAGING}/us-west-2") == TARGET
    assert targets.home.is_home and not TARGET.is_home
    with pytest.raises(ConfigurationError, match="no DRS target '444455556666/us-west-2'"):
        targets.get("444455556666/us-west-2")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[{", "DRS_TARGETS is not JSON"),
        ('{"account": "1"}', "DRS_TARGETS must be a JSON list"),
        ('["x"]', r"DRS_TARGETS\[0\] must be an object"),
        (json.dumps([{**ENTRY, "externalId": ""}]), r"DRS_TARGETS\[0\] lacks externalId"),
        (
            json.dumps([{**ENTRY, "account": "444455556666"}]),
            r"DRS_TARGETS\[0\].roleArn is not a role of account 444455556666",
        ),
    ],
)
def test_a_broken_list_stops_the_function_with_the_reason(text: str, expected: str) -> None:
    with pytest.raises(ConfigurationError, match=expected):
        Targets.from_json("us-east-1", text)


def test_session_names_carry_the_execution_in_what_sts_accepts() -> None:
    assert session_name("exec-1a2b", "wave-runner") == "drs-exec-1a2b"
    assert session_name(None, "execution-finder") == "drs-execution-finder"
    assert session_name("exec:1/2 3", "api") == "drs-exec-1-2-3"
    assert len(session_name("e" * 100, "api")) == 64


class RecordingSts:
    """STS answering AssumeRole with credentials valid for an hour from ``now``."""

    def __init__(self, clock: list[datetime], error: Exception | None = None) -> None:
        self.clock = clock
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def assume_role(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        if self.error:
            raise self.error
        return {
            "Credentials": {
                "AccessKeyId": f"ASIA{len(self.calls)}",
                "SecretAccessKey": "secret",
                "SessionToken": "token",
                "Expiration": self.clock[0] + timedelta(hours=1),
            }
        }


def test_a_role_is_assumed_once_per_session_until_its_credentials_near_expiry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    clock = [datetime(2026, 11, 30, 8, 0, tzinfo=UTC)]
    sts = RecordingSts(clock)
    sessions = TargetSessions(sts, now=lambda: clock[0])
    client = sessions.client("drs", TARGET, "drs-exec-1")
    assert client.meta.region_name == "us-west-2"
    assert sts.calls == [
        {
            "RoleArn": ROLE,
            "RoleSessionName": "drs-exec-1",
            "ExternalId": "dep-a-7f3a",
            "DurationSeconds": 3600,
        }
    ]
    sessions.client("ssm", TARGET, "drs-exec-1")
    clock[0] += timedelta(hours=1) - RENEW_BEFORE - timedelta(seconds=1)
    sessions.client("drs", TARGET, "drs-exec-1")
    assert len(sts.calls) == 1, "cached: the credentials are good for more than five minutes"
    clock[0] += timedelta(seconds=2)
    sessions.client("drs", TARGET, "drs-exec-1")
    sessions.client("drs", TARGET, "drs-exec-2")
    assert [c["RoleSessionName"] for c in sts.calls] == ["drs-exec-1", "drs-exec-1", "drs-exec-2"]
    home = sessions.client("drs", Target(HOME, "eu-west-1"), "drs-exec-1")
    assert home.meta.region_name == "eu-west-1"
    assert len(sts.calls) == 3, "home needs no role"


@mock_aws
def test_calls_in_a_target_are_made_as_the_assumed_role() -> None:
    sessions = TargetSessions(boto3.client("sts", region_name="us-east-1"))
    identity = sessions.client("sts", TARGET, "drs-exec-9").get_caller_identity()
    assert identity["Arn"] == (f"arn:aws:sts::{STAGING}:assumed-role/dep-a-drs-target/drs-exec-9")


def refused(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "no"}}, "AssumeRole")


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (refused("AccessDenied"), False),
        (refused("RegionDisabledException"), False),
        (refused("Throttling"), True),
        (EndpointConnectionError(endpoint_url="https://sts.amazonaws.com"), True),
    ],
)
def test_a_role_that_cannot_be_assumed_names_the_target(error: Exception, transient: bool) -> None:
    clock = [datetime(2026, 11, 30, tzinfo=UTC)]
    sessions = TargetSessions(RecordingSts(clock, error), now=lambda: clock[0])
    with pytest.raises(TargetUnreachableError) as caught:
        sessions.client("drs", TARGET, "drs-exec-1")
    assert caught.value.target == f"{STAGING}/us-west-2"
    assert caught.value.transient is transient
    assert str(caught.value).startswith(f"DRS target {STAGING}/us-west-2 cannot be reached")
