"""Lambda entry point of the execution finder, run by an EventBridge schedule: one poll of
DRS for every watched execution, then the janitor over the same executions."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger

from drs_orchestrator.adapters.dynamodb import (
    ExecutionRecords,
    ExecutionsStore,
    JobEventsStore,
    ServerHolds,
)
from drs_orchestrator.adapters.notifications import Notifier
from drs_orchestrator.adapters.reports import ReportStore
from drs_orchestrator.adapters.stepfunctions import StateMachines
from drs_orchestrator.adapters.targets import DrsGateways
from drs_orchestrator.adapters.telemetry import Telemetry
from drs_orchestrator.domain.metrics import execution_ended, finder_counts
from drs_orchestrator.environment import FinderEnvironment, JanitorEnvironment, drs_targets
from drs_orchestrator.services.execution_finder import ExecutionFinder
from drs_orchestrator.services.janitor import Janitor

logger = Logger(service="execution-finder")


@cache
def _finder() -> ExecutionFinder:
    """Built on the first invocation and reused while the container is warm."""
    env = FinderEnvironment.from_env()
    return ExecutionFinder(
        executions=ExecutionsStore(env.executions_table, env.executions_status_index),
        events=JobEventsStore(env.job_events_table, env.job_events_retention_days),
        drs=DrsGateways(drs_targets()),
        logger=logger,
    )


@cache
def _janitor() -> Janitor:
    finder_env, env = FinderEnvironment.from_env(), JanitorEnvironment.from_env()
    return Janitor(
        records=ExecutionRecords(finder_env.executions_table),
        machines=StateMachines(env.state_machine_arn),
        # The poll's gateways: a target's role is assumed once an hour, not once for each.
        drs=_finder().gateways,
        notifier=Notifier(env.topic_arn),
        holds=ServerHolds(env.server_holds_table),
        events=JobEventsStore(finder_env.job_events_table, finder_env.job_events_retention_days),
        reports=ReportStore(env.reports_bucket),
        janitor_after=timedelta(seconds=env.janitor_after_seconds),
        logger=logger,
        on_ended=lambda item: _telemetry().emit(execution_ended(item)),
    )


@cache
def _telemetry() -> Telemetry:
    return Telemetry(FinderEnvironment.from_env().deployment_name, "execution-finder")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        report = _finder().poll(lambda: context.get_remaining_time_in_millis() / 1000)
        janitor = _janitor().sweep(report.execution_ids)
        _telemetry().emit(finder_counts(report.as_dict(), janitor.as_dict()))
        return {**report.as_dict(), "janitor": janitor.as_dict()}
    finally:
        _telemetry().emit_calls()
