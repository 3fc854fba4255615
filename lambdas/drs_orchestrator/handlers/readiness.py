"""Lambda entry point of the readiness function: evaluates recovery plans and records each
evaluation (``services/readiness.py``).

It is invoked three ways, told apart by the event:

- the evaluation schedule (EventBridge, ``readinessSchedule``): every plan;
- DRS's ``DRS Source Server Data Replication Stalled Change`` events (EventBridge): the
  plans that launch the servers the event names;
- the API, asynchronously, after a plan or a group changed: ``{"planIds": [...],
  "trigger": "plan-changed" | "group-changed"}``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger

from drs_orchestrator.adapters.dynamodb import ReadinessRecords, VersionedRecords
from drs_orchestrator.adapters.notifications import Notifier
from drs_orchestrator.adapters.targets import DrsGateways
from drs_orchestrator.adapters.telemetry import Telemetry
from drs_orchestrator.domain.readiness import STALLED_CHANGE
from drs_orchestrator.domain.targets import session_name
from drs_orchestrator.domain.timestamps import to_iso
from drs_orchestrator.environment import ReadinessEnvironment, deployment_name, drs_targets
from drs_orchestrator.services.inventory import Inventory
from drs_orchestrator.services.readiness import TRIGGERS, PlanReadiness

logger = Logger(service="readiness")


@cache
def _readiness() -> PlanReadiness:
    env = ReadinessEnvironment.from_env()
    inventory = Inventory(
        groups=VersionedRecords(env.protection_groups_table, "groupId"),
        plans=VersionedRecords(env.recovery_plans_table, "planId"),
        drs=DrsGateways(drs_targets()),
        clock=lambda: to_iso(datetime.now(UTC)),
        session=session_name(None, "readiness"),
    )
    return PlanReadiness(
        inventory,
        ReadinessRecords(env.readiness_table),
        Notifier(env.topic_arn),
        logger,
        runner_role_arn=env.runner_role_arn,
    )


def servers_named(event: dict[str, Any]) -> set[str]:
    """The source server ids a DRS event's ``resources`` name (``...:source-server/s-...``)."""
    return {
        str(arn).rsplit("/", 1)[-1]
        for arn in event.get("resources") or []
        if ":source-server/" in str(arn)
    }


@cache
def _telemetry() -> Telemetry:
    return Telemetry(deployment_name(), "readiness")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return _evaluate(event, context)
    finally:
        _telemetry().emit_calls()


def _evaluate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    readiness = _readiness()

    def remaining() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000

    if event.get("source") == "aws.drs" and event.get("detail-type") == STALLED_CHANGE:
        servers = servers_named(event)
        plans = readiness.plans_with_servers(servers) if servers else []
        report = readiness.run(plans, "replication-event", remaining)
        report["servers"] = sorted(servers)
    elif "planIds" in event:
        trigger = event.get("trigger")
        if trigger not in TRIGGERS:
            trigger = "plan-changed"
        plan_ids = [str(p) for p in event.get("planIds") or [] if isinstance(p, str)]
        report = readiness.run(plan_ids, trigger, remaining)
    else:  # the schedule (or an event of no other kind): every plan
        report = readiness.run(None, "schedule", remaining)
    logger.info("readiness run finished", extra=report)
    return report
