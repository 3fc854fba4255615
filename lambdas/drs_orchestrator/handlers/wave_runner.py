"""Lambda entry point of the wave runner: the recovery state machine's tasks, and DRS's
launch-result events (the deployment's EventBridge rule), which wake a sleeping machine."""

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
from drs_orchestrator.adapters.ssm import Automations
from drs_orchestrator.adapters.stepfunctions import StateMachines
from drs_orchestrator.adapters.targets import DrsGateways
from drs_orchestrator.adapters.telemetry import Telemetry
from drs_orchestrator.domain.metrics import execution_ended
from drs_orchestrator.domain.runner import Limits
from drs_orchestrator.environment import WaveRunnerEnvironment, drs_targets
from drs_orchestrator.errors import OrchestratorError
from drs_orchestrator.services.execution_finder import ExecutionFinder
from drs_orchestrator.services.wakeups import Waker
from drs_orchestrator.services.wave_runner import WaveRunner

logger = Logger(service="wave-runner")


@cache
def _runner() -> WaveRunner:
    env = WaveRunnerEnvironment.from_env()
    drs = DrsGateways(drs_targets())
    finder = ExecutionFinder(
        executions=ExecutionsStore(env.finder.executions_table, env.finder.executions_status_index),
        events=JobEventsStore(env.finder.job_events_table, env.finder.job_events_retention_days),
        drs=drs,
        logger=logger,
    )
    return WaveRunner(
        records=ExecutionRecords(env.finder.executions_table),
        drs=drs,
        notifier=Notifier(env.topic_arn),
        finder=finder,
        deployment=env.finder.deployment_name,
        automations=Automations(),
        holds=ServerHolds(env.server_holds_table),
        machines=_machines,
        poll_seconds=env.poll_seconds,
        limits=Limits(
            approval_timeout=timedelta(seconds=env.approval_timeout_seconds),
            quota_wait=timedelta(seconds=env.quota_wait_seconds),
            target_wait=timedelta(seconds=env.target_wait_seconds),
            ticks_per_run=env.ticks_per_run,
        ),
        logger=logger,
        on_ended=lambda item: _telemetry().emit(execution_ended(item)),
    )


@cache
def _telemetry() -> Telemetry:
    return Telemetry(WaveRunnerEnvironment.from_env().finder.deployment_name, "wave-runner")


@cache
def _waker() -> Waker:
    env = WaveRunnerEnvironment.from_env()
    return Waker(
        records=ExecutionRecords(env.finder.executions_table),
        holds=ServerHolds(env.server_holds_table),
        machines=_machines(""),
        drs=DrsGateways(drs_targets()),
        logger=logger,
    )


@cache
def _machines(state_machine_arn: str) -> StateMachines:
    """The recovery state machine that invoked this task (its ARN comes in the payload)."""
    return StateMachines(state_machine_arn)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return _handle(event)
    finally:
        _telemetry().emit_calls()


def _handle(event: dict[str, Any]) -> dict[str, Any]:
    if event.get("source") == "aws.drs":
        logger.append_keys(eventId=event.get("id"), detailType=event.get("detail-type"))
        return _waker().on_event(event)
    action = event.get("action")
    execution_id = event.get("executionId")
    if not isinstance(execution_id, str) or not execution_id:
        msg = "the state machine must pass executionId"
        raise OrchestratorError(msg)
    logger.append_keys(executionId=execution_id, action=action)
    runner = _runner()
    run = event.get("run") if isinstance(event.get("run"), dict) else {}
    if action == "start":
        return runner.start(execution_id, run)
    if action == "tick":
        return runner.tick(execution_id, run)
    if action == "sleep":
        return runner.sleep(execution_id, str(event["taskToken"]), int(event.get("wakes", 0)))
    if action == "awaitApproval":
        return runner.await_approval(execution_id, str(event["taskToken"]))
    if action == "finalise":
        return runner.finalise(execution_id, event.get("error"))
    msg = f"unknown wave runner action {action!r}"
    raise OrchestratorError(msg)
