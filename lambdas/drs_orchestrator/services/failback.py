"""The shell of a failback execution (``domain/failback.py`` decides): one tick observes DRS
where each server runs and came from, decides, saves at the version read, then calls DRS.

Every launch is asked only after its intent is saved (``LAUNCH_INTENDED`` with its batch);
a launch whose answer was lost, or a function that died after the call, is found on the next
tick by its batch tag in the DRS it was asked of, and recorded; a batch that DRS does not
have was never launched and is asked again. A reverse replication is asked again until its
answer, the reversed server, is recorded (DRS answers the same server). A wave's actions
are started with their ClientToken (a repeated start is the same automation) and followed
through SSM like a drill's.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from drs_orchestrator.domain import actions, runner
from drs_orchestrator.domain import failback as core
from drs_orchestrator.domain.states import TERMINAL_EXECUTION, ExecutionStatus
from drs_orchestrator.domain.targets import session_name
from drs_orchestrator.domain.timestamps import parse_drs_timestamp, to_iso
from drs_orchestrator.errors import DrsError, OrchestratorError
from drs_orchestrator.services import executions

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from drs_orchestrator.adapters.dynamodb import ExecutionRecords
    from drs_orchestrator.adapters.ssm import Automations
    from drs_orchestrator.adapters.targets import DrsGateways

#: The tag that names the execution a failback launch job belongs to.
EXECUTION_TAG = "drs-orchestrator:execution"
_ROUTES = {"wait": runner.Route.WAIT, "approval": runner.Route.AWAIT_APPROVAL}


class FailbackShell:
    def __init__(
        self,
        records: ExecutionRecords,
        drs: DrsGateways,
        clock: Callable[[], datetime],
        logger: logging.Logger | Any = None,
        automations: Automations | None = None,
    ) -> None:
        self._records = records
        self._drs = drs
        self._clock = clock
        self._logger = logger or logging.getLogger(__name__)
        self._automations = automations

    def tick(self, item: dict[str, Any]) -> tuple[dict[str, Any], runner.Route]:
        """One tick of a failback; (the execution as saved, where the machine goes next).
        A stale save raises ``StaleExecutionError`` for the caller to decide again."""
        execution_id = item["executionId"]
        item = self._settle_doubts(item)
        decision = core.decide(item, self._observe(item), to_iso(self._clock()))
        if decision.changes:
            version = self._records.save(
                execution_id,
                item["version"],
                decision.changes,
                notifications=decision.notifications,
            )
            outbox = {**(item.get("outbox") or {}), **decision.notifications}
            item = {**item, **decision.changes, "outbox": outbox, "version": version}
        for command in decision.commands:
            item = self._carry_out(item, command)
        status = ExecutionStatus(item["status"])
        if decision.route == "done" or status in TERMINAL_EXECUTION:
            done = (
                runner.Route.SUCCEED if status == ExecutionStatus.COMPLETED else runner.Route.FAIL
            )
            return item, done
        return item, _ROUTES[decision.route]

    # -- observe -------------------------------------------------------------------------

    def _gateway(self, key: str | None, item: dict[str, Any]) -> Any:
        return self._drs.of(key, session_name(item["executionId"], "failback"))

    def _observe(self, item: dict[str, Any]) -> core.Observations:
        servers = item["failback"].values()
        instances: dict[str, core.InstanceView | None] = {}
        for target in {s["target"] for s in servers}:
            wanted = [s["instance"] for s in servers if s["target"] == target]
            try:
                found = self._gateway(target, item).recovery_instances(instance_ids=wanted)
            except OrchestratorError as exc:  # not observed this tick: decided next tick
                self._logger.warning("recovery instances not read", extra={"error": str(exc)})
                continue
            by_id = {i["recoveryInstanceID"]: i for i in found}
            for instance_id in wanted:
                seen = by_id.get(instance_id)
                instances[instance_id] = None if seen is None else _view(seen)
        jobs: dict[str, core.JobView] = {}
        for where, job_ids in _jobs_by_place(item).items():
            try:
                described = self._gateway(where, item).describe_jobs(job_ids)
            except OrchestratorError as exc:
                self._logger.warning("failback jobs not read", extra={"error": str(exc)})
                continue
            for job_id, job in described.items():
                jobs[job_id] = core.JobView(
                    job.status, {s.source_server_id: s.launch_status for s in job.servers}
                )
        automations = executions.action_statuses(self._automations, item, self._logger)
        return core.Observations(instances, jobs, automations)

    def _settle_doubts(self, item: dict[str, Any]) -> dict[str, Any]:
        """Find the job of every launch asked whose job is not recorded, by its batch tag;
        a batch DRS does not have was never launched: asked again."""
        for batch in sorted(core.batches_in_doubt(item)):
            members = {k: s for k, s in item["failback"].items() if s.get("batch") == batch}
            place = core.launch_place(next(iter(members.values())))
            since = to_iso(parse_drs_timestamp(item["startedAt"]) - timedelta(minutes=5))
            try:
                found = self._gateway(place, item).jobs_tagged(core.BATCH_TAG, [batch], since)
            except OrchestratorError as exc:
                self._logger.warning("launch in doubt not settled", extra={"error": str(exc)})
                continue
            if batch in found:
                changes = core.record_launch(item, batch, str(found[batch]["jobID"]))
                item = self._save(item, changes)
            else:
                item = self._carry_out(item, _relaunch(batch, members))
        return item

    # -- act -----------------------------------------------------------------------------

    def _save(self, item: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        version = self._records.save(item["executionId"], item["version"], changes)
        return {**item, **changes, "version": version}

    def _carry_out(self, item: dict[str, Any], command: core.Command) -> dict[str, Any]:
        tags = {core.BATCH_TAG: getattr(command, "batch", ""), EXECUTION_TAG: item["executionId"]}
        try:
            if isinstance(command, actions.StartAutomation):
                return self._start_automation(item, command)
            if isinstance(command, core.ReverseReplication):
                arn = self._gateway(command.target, item).reverse_replication(command.instance)
                return self._save(item, core.record_reversed(item, command.server, arn))
            if isinstance(command, core.Protect):
                try:
                    self._gateway(command.target, item).start_replication(command.server)
                except DrsError as exc:
                    if exc.code != "ConflictException":
                        raise
                    # Already replicating forward (asked before, its answer lost): done.
                return self._save(item, core.record_protected(item, command.server))
            if isinstance(command, core.Terminate):
                # Done when DRS no longer has them (the next tick's reading).
                self._gateway(command.target, item).terminate_recovery_instances(
                    list(command.instances)
                )
                return item
            if isinstance(command, core.FailbackLaunch):
                job = self._gateway(command.target, item).start_failback_launch(
                    list(command.instances), tags
                )
                return self._save(item, core.record_launch(item, command.batch, job.job_id))
            origin = None if command.origin == core.HOME else command.origin
            started = self._gateway(origin, item).start_recovery(
                list(command.reversed_servers), is_drill=False, tags=tags
            )
            return self._save(item, core.record_launch(item, command.batch, started["jobID"]))
        except OrchestratorError as exc:
            # Intent kept: a launch in doubt is settled next tick; a reverse asked again.
            self._logger.warning(
                "failback call did not complete; decided again next tick",
                extra={"command": type(command).__name__, "error": str(exc)},
            )
            return item

    def _start_automation(
        self, item: dict[str, Any], command: actions.StartAutomation
    ) -> dict[str, Any]:
        if self._automations is None:
            msg = "this runner has no SSM gateway for the waves' actions"
            raise OrchestratorError(msg)
        run_id = self._automations.start(command.document, command.parameters, command.token)
        changes = actions.record_automation_started(
            item, command.wave, command.phase, command.index, run_id
        )
        return self._save(item, changes)


def _view(instance: dict[str, Any]) -> core.InstanceView:
    info = instance.get("dataReplicationInfo") or {}
    return core.InstanceView(
        str((instance.get("failback") or {}).get("state") or "FAILBACK_NOT_STARTED"),
        (info.get("dataReplicationError") or {}).get("error"),
    )


def _jobs_by_place(item: dict[str, Any]) -> dict[str | None, list[str]]:
    places: dict[str | None, list[str]] = {}
    for server in item["failback"].values():
        if server.get("jobId"):
            places.setdefault(core.launch_place(server), []).append(server["jobId"])
    return places


def _relaunch(batch: str, members: dict[str, dict[str, Any]]) -> core.Command:
    first = next(iter(members.values()))
    if first.get("origin"):
        return core.OriginLaunch(
            batch, first["origin"], tuple(s.get("reversedServer", "") for s in members.values())
        )
    return core.FailbackLaunch(
        batch, first.get("target"), tuple(s["instance"] for s in members.values())
    )
