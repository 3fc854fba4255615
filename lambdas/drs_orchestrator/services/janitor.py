"""The janitor: heals executions the state machine can no longer end, on the finder's schedule.

Step Functions catches every task error and the ``finalise`` action writes the reason, but
a run can still end without the record knowing (aborted by hand, ``finalise`` itself
failing, a ``StartExecution`` whose run never began). After each poll the janitor looks at
every watched execution:

- not ended, its runner silent for ``janitor_after`` and its state machine run not
  RUNNING (or never started): ended with the reason (``every-execution-ends``);
- ended: launches still in doubt are looked for by their tag and recorded
  (``nothing-launched-is-lost``), terminations asked for whose job was never recorded are
  looked for by their instances and recorded, queued notifications published, servers freed
  (``servers-held-atomically``); once nothing is left to settle and every DRS job ended,
  its report is stored in the deployment bucket (``every-finished-execution-has-a-report``)
  and then the execution leaves the watch index, unless it changed meanwhile.

Each step is safe to repeat: a sweep that dies or fails part-way leaves the execution
watched, and the next sweep does what is left (a report is rewritten whole).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from drs_orchestrator.adapters.dynamodb import WATCHED
from drs_orchestrator.adapters.targets import as_gateways
from drs_orchestrator.domain import runner as core
from drs_orchestrator.domain.report import render_html
from drs_orchestrator.domain.report import report as execution_report
from drs_orchestrator.domain.states import TERMINAL_EXECUTION, ExecutionStatus
from drs_orchestrator.domain.targets import session_name
from drs_orchestrator.domain.timestamps import parse_drs_timestamp, to_iso
from drs_orchestrator.errors import TargetUnreachableError
from drs_orchestrator.services import executions

if TYPE_CHECKING:
    from collections.abc import Callable

    from drs_orchestrator.adapters.drs import DrsGateway
    from drs_orchestrator.adapters.dynamodb import ExecutionRecords, ServerHolds
    from drs_orchestrator.adapters.notifications import Notifier
    from drs_orchestrator.adapters.reports import ReportStore
    from drs_orchestrator.adapters.stepfunctions import StateMachines
    from drs_orchestrator.adapters.targets import DrsGateways

E = ExecutionStatus


class JobEventsReader(Protocol):
    def every(self, execution_id: str) -> list[dict[str, Any]]: ...


#: Run statuses in which a state machine run may still end the execution itself.
LIVE_RUN = frozenset({"RUNNING", "PENDING_REDRIVE"})


@dataclass
class JanitorReport:
    examined: int = 0
    ended: int = 0
    launches_found: int = 0
    terminations_found: int = 0
    holds_released: int = 0
    woken: int = 0
    reports_stored: int = 0
    settled: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Janitor:
    def __init__(
        self,
        records: ExecutionRecords,
        machines: StateMachines,
        drs: DrsGateway | DrsGateways,
        notifier: Notifier,
        holds: ServerHolds,
        events: JobEventsReader,
        reports: ReportStore,
        janitor_after: timedelta = timedelta(minutes=5),
        logger: logging.Logger | Any = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_ended: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self._records = records
        #: Told once of each execution the janitor ended (its metrics).
        self._on_ended = on_ended or (lambda _item: None)
        self._machines = machines
        self._drs = as_gateways(drs)
        self._notifier = notifier
        self._holds = holds
        self._events = events
        self._reports = reports
        self._after = janitor_after
        self._logger = logger or logging.getLogger(__name__)
        self._clock = clock

    def sweep(self, execution_ids: list[str]) -> JanitorReport:
        report = JanitorReport()
        for execution_id in execution_ids:
            report.examined += 1
            try:
                self._examine(execution_id, report)
            except Exception as exc:  # noqa: BLE001 - one bad execution must not stop the rest
                report.failures.append({"executionId": execution_id, "error": str(exc)})
                self._logger.warning(
                    "janitor could not settle an execution this time",
                    extra={"executionId": execution_id, "error": str(exc)},
                )
        self._logger.info("janitor finished", extra=report.as_dict())
        return report

    def _examine(self, execution_id: str, report: JanitorReport) -> None:
        item = self._records.get(execution_id)
        if item is None:
            return
        if E(item["status"]) not in TERMINAL_EXECUTION:
            self._heal_if_orphaned(item, report)
            return
        self._settle(item, report)

    def _heal_if_orphaned(self, item: dict[str, Any], report: JanitorReport) -> None:
        if item.get("taskToken") and item["status"] != E.PAUSED:
            # Resumed or cancelled, but the machine could not be woken then: wake it now.
            if executions.wake_waiting_machine(
                self._records, self._machines, item["executionId"], item["taskToken"]
            ):
                report.woken += 1
            return
        now = self._clock()
        last = item.get("tickedAt") or item.get("startedAt")
        if last and now - parse_drs_timestamp(last) < self._after:
            return
        run = str(item.get("machineRun") or item["executionId"])
        status = self._machines.run_status(run)
        if status in LIVE_RUN:
            return
        reason = (
            "its state machine never started"
            if status == "MISSING"
            else f"its state machine run {run} ended {status} without ending it"
        )
        # Judged on the run the record named: if a tick or a hand-over wrote since (the
        # ended run handed over to a successor that runs), the premise is gone.
        ended, by_us = executions.end_with_reason(
            self._records,
            item["executionId"],
            reason,
            now,
            still=lambda latest: (
                latest["version"] == item["version"]
                and latest.get("machineRun") == item.get("machineRun")
            ),
        )
        if not by_us:
            return
        report.ended += 1
        self._on_ended(ended)
        self._logger.warning(
            "janitor ended an orphaned execution",
            extra={"executionId": item["executionId"], "reason": reason},
        )
        self._settle(ended, report)

    def _settle(self, item: dict[str, Any], report: JanitorReport) -> None:
        execution_id = item["executionId"]
        by_target: dict[str | None, list[dict[str, Any]]] = {}
        for batch in core.batches_in_doubt(item):
            by_target.setdefault(batch.get("target"), []).append(batch)
        for key, doubts in by_target.items():
            since = min(parse_drs_timestamp(b["intendedAt"]) for b in doubts)
            try:
                gateway = self._drs.of(key, session_name(execution_id, "janitor"))
            except TargetUnreachableError as exc:
                # Still in doubt, still watched: settled once the target can be reached.
                report.failures.append({"executionId": execution_id, "error": str(exc)})
                continue
            found = gateway.jobs_tagged(
                core.BATCH_TAG,
                [b["batchId"] for b in doubts],
                to_iso(since - timedelta(minutes=5)),
            )
            stamp = to_iso(self._clock())
            for batch in doubts:
                job = found.get(batch["batchId"])
                latest = self._records.get(execution_id) or item
                if job is not None:
                    changes, new_jobs = core.record_started(latest, batch["batchId"], job, stamp)
                    report.launches_found += 1
                else:
                    changes, new_jobs = (
                        core.record_not_started(
                            latest,
                            batch["batchId"],
                            "never launched: the execution had ended",
                            refused=True,
                            stamp=stamp,
                        ),
                        {},
                    )
                self._records.save(execution_id, latest["version"], changes, new_jobs)
        if by_target:
            item = self._records.get(execution_id) or item
        item = self._find_terminations(item, report)
        executions.publish_outbox(self._records, self._notifier, item)
        if executions.free_servers(self._records, self._holds, item):
            report.holds_released += 1
        open_jobs = [j for j in (item.get("jobs") or {}).values() if j.get("status") != "COMPLETED"]
        asking = executions.termination_in_flight(item, self._clock())
        if not open_jobs and not core.batches_in_doubt(item) and not asking:
            self._store_report(item)
            report.reports_stored += 1
            if self._records.unwatch(execution_id, item["version"]):
                report.settled += 1

    def _find_terminations(self, item: dict[str, Any], report: JanitorReport) -> dict[str, Any]:
        """Record the TERMINATE jobs DRS started for the execution's terminations that no
        record holds (``nothing-launched-is-lost``, for terminations): the API wrote a
        request down and DRS started its job, but the answer was lost or the function died
        before recording it (the request is still ``REQUESTED``: it takes the job), or
        botocore asked again after a lost answer and DRS started two (the request took the
        second: the first is recorded beside it). Each is then followed to its end and in
        the report. A request DRS never got stays asked for until the API may ask again
        (``TERMINATION_IN_FLIGHT``)."""
        execution_id = item["executionId"]
        recorded = set(item.get("jobs") or {})
        # A request recorded STARTED is looked for again only once the execution would
        # otherwise settle (every job it knows ended), not on every schedule meanwhile.
        settling = all(j.get("status") == "COMPLETED" for j in (item.get("jobs") or {}).values())
        looked_for = ("REQUESTED", "STARTED") if settling else ("REQUESTED",)
        terminations = [dict(t) for t in item.get("terminations") or ()]
        new_jobs: dict[str, dict[str, Any]] = {}
        for termination in terminations:
            if termination.get("status") not in looked_for:
                continue
            gateway = self._drs.of(termination.get("target"), session_name(execution_id, "janitor"))
            found = executions.terminations_found(gateway, termination)
            unrecorded = [j for j in found if j.job_id not in recorded | set(new_jobs)]
            if unrecorded and termination["status"] == "REQUESTED":
                termination.update(status="STARTED", jobId=unrecorded[0].job_id)
            for job in unrecorded:
                new_jobs.update(executions.termination_job(termination, job))
                report.terminations_found += 1
        if not new_jobs:
            return item
        self._records.save(
            execution_id,
            item["version"],
            {"terminations": terminations, "watch": WATCHED, "updatedAt": to_iso(self._clock())},
            new_jobs,
        )
        return self._records.get(execution_id) or item

    def _store_report(self, item: dict[str, Any]) -> None:
        """The settled execution's report, with every job event recorded for it (they
        expire from the table; the report keeps them)."""
        execution_id = item["executionId"]
        document = execution_report(item, self._events.every(execution_id), to_iso(self._clock()))
        self._reports.put(execution_id, document, render_html(document))
