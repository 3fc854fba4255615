"""Lambda entry point of the execution finder, run by an EventBridge schedule."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger

from drs_orchestrator.adapters.drs import DrsGateway
from drs_orchestrator.adapters.dynamodb import ExecutionsStore, JobEventsStore
from drs_orchestrator.environment import FinderEnvironment
from drs_orchestrator.services.execution_finder import ExecutionFinder

logger = Logger(service="execution-finder")


@cache
def _finder() -> ExecutionFinder:
    """Built on the first invocation and reused while the container is warm."""
    env = FinderEnvironment.from_env()
    return ExecutionFinder(
        executions=ExecutionsStore(env.executions_table, env.executions_status_index),
        events=JobEventsStore(env.job_events_table, env.job_events_retention_days),
        drs=DrsGateway(),
        logger=logger,
    )


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = _finder().poll(lambda: context.get_remaining_time_in_millis() / 1000)
    return report.as_dict()
