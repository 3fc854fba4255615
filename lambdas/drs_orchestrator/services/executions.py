"""Creating executions from plans, and the operator's controls: resume and cancel."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from drs_orchestrator.adapters.dynamodb import WATCHED, StaleExecutionError
from drs_orchestrator.domain import actions
from drs_orchestrator.domain.runner import finalise
from drs_orchestrator.domain.states import ExecutionStatus, WaveStatus, transition
from drs_orchestrator.domain.timestamps import parse_drs_timestamp, to_iso
from drs_orchestrator.errors import OrchestratorError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from drs_orchestrator.adapters.drs import DrsGateway
    from drs_orchestrator.adapters.dynamodb import ExecutionRecords, ServerHolds
    from drs_orchestrator.adapters.notifications import Notifier
    from drs_orchestrator.adapters.ssm import Automations
    from drs_orchestrator.adapters.stepfunctions import StateMachines
    from drs_orchestrator.domain.jobs import DrsJob
    from drs_orchestrator.domain.plans import Action, RecoveryPlan

E, W = ExecutionStatus, WaveStatus
logger = logging.getLogger(__name__)


class ExecutionStateError(OrchestratorError):
    """Raised when an operator action does not apply to the execution's current status."""


def new_execution(
    execution_id: str,
    plan_id: str,
    plan: RecoveryPlan,
    group_servers: Mapping[str, Sequence[str]],
    mode: str,
    now: str,
    plan_version: int = 0,
    group_targets: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """The execution item: the plan's waves with their servers resolved now, all PENDING,
    and the version of the plan it runs. ``group_targets`` names the DRS target of each
    group bound outside the deployment's own account and region; a wave lists those
    servers under ``targets`` (target key -> servers), the others launch at home."""
    waves = []
    for wave in plan.waves:
        servers: list[str] = []
        elsewhere: dict[str, list[str]] = {}
        for group in wave.protection_groups:
            added = [s for s in group_servers.get(group, ()) if s not in servers]
            servers += added
            key = (group_targets or {}).get(group)
            if key is not None and added:
                elsewhere.setdefault(key, []).extend(added)
        entry = {
            "name": wave.name,
            "dependsOn": list(wave.depends_on),
            "pauseBefore": wave.pause_before,
            "approved": False,
            "preActions": [_action(a) for a in wave.pre_actions],
            "postActions": [_action(a) for a in wave.post_actions],
            "servers": servers,
            "status": W.PENDING.value,
            "jobIds": [],
        }
        if wave.failback_actions is not None:
            # What a failback of this execution runs once the wave is home.
            entry["failbackActions"] = [_action(a) for a in wave.failback_actions]
        if elsewhere:
            entry["targets"] = elsewhere
        waves.append(entry)
    return {
        "executionId": execution_id,
        "planId": plan_id,
        "planName": plan.name,
        "planVersion": plan_version,
        "mode": mode,
        "status": E.PENDING.value,
        "startedAt": now,
        "updatedAt": now,
        "waves": waves,
        "jobs": {},
        "servers": {},
        "batches": {},
        "outbox": {},
        "machineRun": execution_id,
        # In the finder's watch index until everything it started has ended.
        "watch": WATCHED,
    }


def _action(action: Action) -> dict[str, Any]:
    return {
        "document": action.document,
        "parameters": {k: list(v) for k, v in action.parameters.items()},
        "maxWaitSeconds": action.max_wait_seconds,
    }


def resume(records: ExecutionRecords, machines: StateMachines, execution_id: str, now: str) -> dict:
    """Approve the wave waiting for approval and let the state machine go on."""

    def approve(item: dict[str, Any]) -> dict[str, Any]:
        if item["status"] != E.PAUSED:
            msg = f"execution {execution_id} is {item['status']}, not PAUSED"
            raise ExecutionStateError(msg)
        waves = [dict(w) for w in item["waves"]]
        for wave in waves:
            if wave["status"] == W.AWAITING_APPROVAL:
                wave["approved"] = True
                wave["approvedAt"] = now
        return {"waves": waves, "status": transition(E.PAUSED, E.RUNNING), "updatedAt": now}

    return _control(records, machines, execution_id, approve)


def cancel(records: ExecutionRecords, machines: StateMachines, execution_id: str, now: str) -> dict:
    """Stop launching further waves; the execution ends CANCELLED once nothing is in flight."""

    def stop(item: dict[str, Any]) -> dict[str, Any] | None:
        status = E(item["status"])
        if status == E.CANCELLING:
            return None  # asked twice: the first request stands
        if status not in (E.PENDING, E.RUNNING, E.PAUSED):
            msg = f"execution {execution_id} is {status}; it has already ended"
            raise ExecutionStateError(msg)
        return {
            "status": transition(status, E.CANCELLING),
            "updatedAt": now,
            "cancelRequestedAt": now,
        }

    return _control(records, machines, execution_id, stop)


def _control(
    records: ExecutionRecords,
    machines: StateMachines,
    execution_id: str,
    change: Callable[[dict[str, Any]], dict[str, Any] | None],
) -> dict[str, Any]:
    """Apply an operator's change at the version read (again if the runner wrote first),
    then wake the state machine if it waits for approval (``approval-exactly-once``).

    The change is saved first, so it is never lost. The task token stays on the item until
    the machine is woken: if the wake fails (throttled, answer lost), the janitor wakes it
    from the stored token; if the machine is only now entering its wait, it finds the
    change and wakes itself (``await_approval``). A token woken twice is refused by Step
    Functions the second time, so the machine goes on exactly once."""
    for _ in range(8):
        item = _load(records, execution_id)
        changes = change(item)
        if changes is None:
            return item
        try:
            records.save(execution_id, item["version"], changes)
        except (StaleExecutionError, OrchestratorError) as exc:
            # Refused as stale, or its answer lost: botocore's retry of a save that took
            # effect is refused as stale too. Taken effect, the change goes on.
            if not _saved(records, execution_id, changes):
                if isinstance(exc, StaleExecutionError):
                    continue
                raise
        wake_waiting_machine(records, machines, execution_id, item.get("taskToken"))
        try:
            return _load(records, execution_id)
        except OrchestratorError:  # the change stands: answer it as this request left it
            saved = {**item, **changes, "version": int(item["version"]) + 1}
            saved.pop("taskToken", None)
            return saved
    msg = f"execution {execution_id} kept changing"
    raise ExecutionStateError(msg)


def _saved(records: ExecutionRecords, execution_id: str, changes: Mapping[str, Any]) -> bool:
    """Whether the execution holds ``changes`` (its ``updatedAt`` is this request's own
    moment, so another writer's change does not pass for it); False if it cannot be read."""
    try:
        latest = records.get(execution_id)
    except OrchestratorError:
        return False
    return latest is not None and all(latest.get(k) == v for k, v in changes.items())


def wake_waiting_machine(
    records: ExecutionRecords, machines: StateMachines, execution_id: str, token: str | None
) -> bool:
    """Hand the task token back to the machine, then forget it. False (token kept for a
    later try) if Step Functions could not be told now."""
    if not token:
        return True
    try:
        machines.wake(token)
    except OrchestratorError as exc:
        logger.warning(
            "could not wake the state machine now; the janitor wakes it",
            extra={"executionId": execution_id, "error": str(exc)},
        )
        return False
    # A spent token left behind is harmless: waking it again is refused.
    with contextlib.suppress(OrchestratorError):
        records.mark(execution_id, remove_paths=(("taskToken",),))
    return True


def end_with_reason(
    records: ExecutionRecords,
    execution_id: str,
    reason: str,
    now: datetime,
    *,
    still: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[dict[str, Any], bool]:
    """End a live execution with ``reason`` (``domain.runner.finalise``: waves not started
    skipped, waves in flight failed, FAILED or CANCELLED), at the version read, again if
    another writer came first; an ended execution is left as it is, and so is one for
    which ``still`` (the reason's premise, checked on every read) no longer holds. Returns
    the item and whether this call ended it."""
    for _ in range(8):
        item = _load(records, execution_id)
        if still is not None and not still(item):
            return item, False
        changes, notifications = finalise(item, reason, now)
        if not changes:
            return item, False
        try:
            records.save(execution_id, item["version"], changes, notifications=notifications)
        except StaleExecutionError:
            continue
        return _load(records, execution_id), True
    return _load(records, execution_id), False


#: A termination still REQUESTED this long after it was written down died before DRS was
#: asked (the API asks again for its instances); younger, the API may be asking now.
TERMINATION_IN_FLIGHT = timedelta(minutes=5)


def requested_recently(termination: dict[str, Any], now: datetime) -> bool:
    """Whether one termination request was written down (REQUESTED) and the API may still
    be asking DRS for it: older, it died before DRS was asked."""
    return (
        termination.get("status") == "REQUESTED"
        and now - parse_drs_timestamp(termination["requestedAt"]) <= TERMINATION_IN_FLIGHT
    )


def termination_in_flight(item: dict[str, Any], now: datetime) -> bool:
    """Whether a termination of the execution's instances was written down and its DRS job
    may still be recorded: until then the execution stays watched, or the job recorded a
    moment later would never be followed (issue 32)."""
    return any(requested_recently(t, now) for t in item.get("terminations") or ())


def termination_job(termination: dict[str, Any], job: DrsJob) -> dict[str, dict[str, Any]]:
    """The execution's record of a TERMINATE job started for ``termination``, by job id."""
    return {
        job.job_id: {
            "jobId": job.job_id,
            "waveName": "",
            "type": "TERMINATE",
            "status": job.status,
            "servers": [],
            **({"target": termination["target"]} if termination.get("target") else {}),
        }
    }


def terminations_found(gateway: DrsGateway, termination: dict[str, Any]) -> list[DrsJob]:
    """The TERMINATE jobs DRS lists for ``termination``'s instances since it was asked
    (five minutes earlier, for clocks that disagree): what it started, heard or not."""
    since = parse_drs_timestamp(termination["requestedAt"]) - timedelta(minutes=5)
    return gateway.terminations_of(termination["recoveryInstanceIds"], to_iso(since))


def free_servers(records: ExecutionRecords, holds: ServerHolds, item: dict[str, Any]) -> bool:
    """Release the holds of an ended execution and say so on it; False if already done."""
    if item.get("holdsReleased"):
        return False
    servers = sorted({s for w in item["waves"] for s in w["servers"]})
    holds.release(item["executionId"], servers)
    records.mark(item["executionId"], {"holdsReleased": True})
    return True


def publish_outbox(records: ExecutionRecords, notifier: Notifier, item: dict[str, Any]) -> None:
    """Publish the queued notifications, oldest first, removing each once published: at
    least once, never lost. A refusal stops here; the rest wait for the next attempt."""
    for key, message in sorted((item.get("outbox") or {}).items()):
        notifier.publish(message["event"], item, **message.get("details", {}))
        records.mark(item["executionId"], remove_paths=(("outbox", key),))


def end_unstarted(
    records: ExecutionRecords, holds: ServerHolds, execution_id: str, reason: str
) -> None:
    """End an execution whose state machine did not start: FAILED with ``reason``, its
    servers freed. If its run did start after all (the answer was lost), the run reads the
    ended record and stops."""
    item, _ = end_with_reason(records, execution_id, reason, datetime.now(UTC))
    free_servers(records, holds, item)


def action_statuses(
    automations: Automations | None, item: dict[str, Any], log: logging.Logger | Any
) -> dict[str, tuple[str, str]]:
    """What SSM says now of each wave action the execution follows (any mode:
    ``domain/actions.py``): automation id -> (status, failure message). A run SSM does not
    answer for is left out, logged, and asked again at the next tick."""
    statuses: dict[str, tuple[str, str]] = {}
    if automations is None:
        return statuses
    for run_id in actions.automations_to_check(item):
        try:
            statuses[run_id] = automations.status(run_id)
        except OrchestratorError as exc:
            log.warning(
                "could not read an action's status",
                extra={"automation": run_id, "error": str(exc)},
            )
    return statuses


def _load(records: ExecutionRecords, execution_id: str) -> dict[str, Any]:
    item = records.get(execution_id)
    if item is None:
        msg = f"execution {execution_id} does not exist"
        raise ExecutionStateError(msg)
    return item
