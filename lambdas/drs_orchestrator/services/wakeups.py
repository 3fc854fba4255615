"""Wake an execution's state machine at once when DRS reports a launch ended.

Called by the wave runner function for the deployment's EventBridge rule on DRS's
``DRS Source Server Launch Result`` events (``domain/wakeups.py`` says why and how no wake
is lost). A wake is an optimisation of latency only: whatever fails here, the machine's
sleep ends at ``POLL_SECONDS`` and its next tick follows the wave's own DRS jobs. So no
fault is raised back to EventBridge (which would only deliver the event again later):
each is logged with the execution and counted in the answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from drs_orchestrator.domain.targets import session_name
from drs_orchestrator.domain.timestamps import to_iso
from drs_orchestrator.domain.wakeups import LaunchResult, job_has_ended, launch_result
from drs_orchestrator.errors import OrchestratorError

if TYPE_CHECKING:
    from collections.abc import Callable

    from drs_orchestrator.adapters.dynamodb import ExecutionRecords, ServerHolds
    from drs_orchestrator.adapters.stepfunctions import StateMachines
    from drs_orchestrator.adapters.targets import DrsGateways
    from drs_orchestrator.domain.jobs import DrsJob


@dataclass
class Waker:
    """Turns a DRS launch result into a wake of the execution holding the server."""

    records: ExecutionRecords
    holds: ServerHolds
    machines: StateMachines
    #: DRS of every target: an event forwarded from a target (its account and region)
    #: is checked against that target's DRS, through its role.
    drs: DrsGateways
    logger: logging.Logger | Any = None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def __post_init__(self) -> None:
        self.logger = self.logger or logging.getLogger(__name__)

    def on_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """Wake the execution the event's server belongs to; says what it did."""
        result = launch_result(event)
        if result is None:
            self.logger.info("not a DRS launch result; ignored", extra={"id": event.get("id")})
            return {"woken": False, "why": "not a DRS launch result"}
        try:
            held = self.holds.holder(result.server_id)
        except OrchestratorError as exc:
            self.logger.warning(
                "could not find the execution of a launch result; its next tick sees it",
                extra={"sourceServerId": result.server_id, "error": str(exc)},
            )
            return {"woken": False, "why": f"server holds unreadable: {exc}"}
        if held is None:
            # A launch the orchestrator did not start, or an execution already ended.
            return {"woken": False, "why": f"{result.server_id} is held by no execution"}
        execution_id, _ = held
        if not job_has_ended(self._job(result)):
            return {
                "woken": False,
                "executionId": execution_id,
                "why": f"{result.job_id} has servers still launching",
            }
        woken = self.wake(execution_id, why=f"{result.server_id} {result.state}")
        return {"woken": woken, "executionId": execution_id, "sourceServerId": result.server_id}

    def _job(self, result: LaunchResult) -> DrsJob | None:
        """The job as DRS describes it now, in the target the event came from; None when
        it cannot be told (the wake then goes ahead: ``job_has_ended``)."""
        if not result.job_id:
            return None
        target = self.drs.targets.of_event(result.account, result.region)
        try:
            gateway = self.drs.of(target.stored_key, session_name(None, "wave-runner"))
            return gateway.describe_jobs([result.job_id]).get(result.job_id)
        except OrchestratorError as exc:  # TargetUnreachableError is one
            self.logger.warning(
                "could not describe the job of a launch result; waking anyway",
                extra={"jobId": result.job_id, "target": target.key, "error": str(exc)},
            )
            return None

    def wake(self, execution_id: str, why: str) -> bool:
        """Count a wake request on the execution, then hand its sleeping token back.
        False when there was nothing to wake now (no sleep in progress: the request
        counted makes the next sleep end at once; or the execution ended) or the wake
        could not be sent."""
        try:
            token = self.records.request_wake(execution_id, to_iso(self.clock()))
        except OrchestratorError as exc:
            self.logger.warning(
                "could not request a wake; the execution's next tick comes on time",
                extra={"executionId": execution_id, "error": str(exc)},
            )
            return False
        if not token:  # not asleep (the next sleep sees the count), or ended
            return False
        try:
            woken = self.machines.wake(token)
        except OrchestratorError as exc:
            self.logger.warning(
                "could not wake the sleeping machine; it wakes at its poll interval",
                extra={"executionId": execution_id, "error": str(exc)},
            )
            return False
        if woken:
            self.logger.info("woke the execution", extra={"executionId": execution_id, "why": why})
        return woken
