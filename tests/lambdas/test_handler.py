"""The Lambda entry point wires its environment to the finder and returns the poll report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from drs_orchestrator.errors import ConfigurationError
from drs_orchestrator.handlers import execution_finder

from tests.lambdas.conftest import EXECUTIONS_TABLE, JOB_EVENTS_TABLE, events_of, put_execution

if TYPE_CHECKING:
    from tests.fakes.drs import FakeDrs
from tests.fakes.lambda_context import LambdaContext


@pytest.fixture
def finder_environment(monkeypatch: pytest.MonkeyPatch, drs: FakeDrs) -> None:
    for name, value in {
        "DEPLOYMENT_NAME": "test-deployment",
        "EXECUTIONS_TABLE": EXECUTIONS_TABLE,
        "EXECUTIONS_STATUS_INDEX": "status-index",
        "JOB_EVENTS_TABLE": JOB_EVENTS_TABLE,
        "JOB_EVENTS_RETENTION_DAYS": "30",
        "SERVER_HOLDS_TABLE": "test-deployment-server-holds",
        "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:test-deployment-notifications",
        "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:test-recovery",
        "REPORTS_BUCKET": "test-deployment-bucket",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("drs_orchestrator.adapters.drs.make_client", lambda _service: drs.client())
    execution_finder._finder.cache_clear()
    execution_finder._janitor.cache_clear()
    yield
    execution_finder._finder.cache_clear()
    execution_finder._janitor.cache_clear()


def test_handler_polls_with_the_configured_tables(
    dynamodb: Any, drs: FakeDrs, finder_environment: None
) -> None:
    job_id = drs.add_job(["s-1111111111aaaaaaa"])
    drs.start(job_id)
    put_execution(dynamodb, "exec-1", {job_id: "wave-a"})

    result = execution_finder.handler({"source": "aws.events"}, LambdaContext())

    assert result["executions"] == 1 and result["events_written"] == 3
    # The janitor looked at the same execution after the poll.
    assert result["janitor"]["examined"] == 1
    stored = events_of(dynamodb, "exec-1")
    assert len(stored) == 3
    ttl = {event["expiresAt"] for event in stored}
    assert len(ttl) == 1


def test_handler_names_a_missing_environment_variable(
    dynamodb: Any, finder_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOB_EVENTS_TABLE")
    execution_finder._finder.cache_clear()
    with pytest.raises(ConfigurationError, match="JOB_EVENTS_TABLE is not set"):
        execution_finder.handler({}, LambdaContext())
