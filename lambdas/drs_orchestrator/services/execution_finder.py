"""One poll of the execution finder: bring every running execution up to date with DRS.

For each active execution (found through the status index): describe its unfinished DRS
jobs in batches, read each job's full log, record every log item once as a job event, and
write job status and per-server launch status back to the execution. One execution that
fails is logged and skipped; the others are still polled.

Jobs run in the DRS target their batch launched in, so the jobs of every execution are
described together per target (one DescribeJobs call per target for up to 1,000 jobs,
then one DescribeJobLogItems per unfinished job). A target whose role cannot be assumed
costs only its own jobs: they are left as recorded (the wave runner notes the target
unreachable and, past its wait, fails the wave that needs it); every other job is polled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from drs_orchestrator.adapters.dynamodb import StaleExecutionError
from drs_orchestrator.adapters.targets import as_gateways
from drs_orchestrator.domain import jobs as job_domain
from drs_orchestrator.domain.executions import (
    ACTIVE_EXECUTION_STATUSES,
    Execution,
    reconcile,
)
from drs_orchestrator.domain.targets import session_name
from drs_orchestrator.domain.timestamps import to_iso
from drs_orchestrator.errors import (
    DrsAccessDeniedError,
    DrsError,
    DrsRequestRejectedError,
    OrchestratorError,
    TargetUnreachableError,
)

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable

    from drs_orchestrator.adapters.drs import DrsGateway
    from drs_orchestrator.adapters.targets import DrsGateways
    from drs_orchestrator.domain.jobs import DrsJob


#: Versioned writes of one execution's progress tried in one poll before it waits for the
#: next poll (each retry re-reads the item, not DRS).
WRITE_ATTEMPTS = 4
#: Time kept in hand at the end of an invocation: no new execution is started after it.
TIME_RESERVE_SECONDS = 10.0


class DrsReader(Protocol):
    def describe_jobs(self, job_ids: Any) -> dict[str, DrsJob]: ...
    def job_log_items(self, job_id: str) -> list[dict[str, Any]]: ...


class ExecutionsReaderWriter(Protocol):
    def items_with_status(self, status: str) -> Any: ...
    def items_watched(self) -> Any: ...
    def apply(self, update: Any, polled_at: str, polled_by: str) -> None: ...
    def heartbeat(self, execution_id: str, polled_at: str, polled_by: str) -> None: ...
    def get(self, execution_id: str) -> dict[str, Any] | None: ...


class EventsWriter(Protocol):
    def record(self, events: Any, *, known_new: bool) -> tuple[int, int]: ...


@dataclass
class PollReport:
    """Counts for one poll, logged as one structured line."""

    executions: int = 0
    executions_updated: int = 0
    executions_failed: int = 0
    executions_deferred: int = 0
    #: Executions another writer changed while they were polled: polled again next time.
    executions_stale: int = 0
    jobs_polled: int = 0
    jobs_completed: int = 0
    jobs_missing: int = 0
    #: Jobs in a target whose role could not be assumed: left as recorded this poll.
    jobs_unreachable: int = 0
    #: DRS targets whose role could not be assumed, or whose DRS refused access, in this
    #: poll, with the reason.
    targets_unreachable: dict[str, str] = field(default_factory=dict)
    #: DRS targets whose DescribeJobs failed otherwise (throttled, unavailable).
    targets_failed: dict[str, str] = field(default_factory=dict)
    log_items_read: int = 0
    events_written: int = 0
    events_already_recorded: int = 0
    servers_updated: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    #: Every execution this poll looked at (for the janitor; not logged).
    execution_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "execution_ids"}


#: Who recorded a poll's progress on the execution: the scheduled finder, or the wave
#: runner's fallback when the scheduled polls are late (``lastPolledBy`` on the item, and a
#: count of each: ``schedulePolls``, ``waveRunnerPolls``).
POLLED_BY_SCHEDULE = "schedule"
POLLED_BY_WAVE_RUNNER = "wave-runner"


class ExecutionFinder:
    """Polls DRS for every active execution and records what it finds."""

    def __init__(
        self,
        executions: ExecutionsReaderWriter,
        events: EventsWriter,
        drs: DrsGateway | DrsGateways,
        logger: logging.Logger | Any,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._executions = executions
        self._events = events
        self._drs = as_gateways(drs)
        self._logger = logger
        self._clock = clock

    @property
    def gateways(self) -> DrsGateways:
        """The DRS gateways this finder polls through (shared with the janitor)."""
        return self._drs

    def poll(self, remaining_seconds: Callable[[], float] | None = None) -> PollReport:
        """Bring every active execution up to date.

        ``remaining_seconds`` (the invocation's time left) lets the poll stop starting new
        executions while ``TIME_RESERVE_SECONDS`` remain, so a large backlog is finished by
        the next polls instead of being cut off mid-write by the Lambda timeout.
        """
        report = PollReport()
        try:
            executions = self._active_executions(report)
        except OrchestratorError as exc:
            # The executions table could not be listed: nothing was read or written; the
            # next poll does this one's work.
            self._logger.error("could not list the executions to poll", extra={"error": str(exc)})
            report.failures.append({"executionId": "*", "error": str(exc)})
            return report
        report.executions = len(executions) + report.executions_failed
        report.execution_ids = [e.execution_id for e in executions]
        jobs, described = self._describe_all(executions, report)
        for index, execution in enumerate(described):
            if remaining_seconds is not None and remaining_seconds() < TIME_RESERVE_SECONDS:
                report.executions_deferred = len(described) - index
                self._logger.warning(
                    "time budget spent; remaining executions wait for the next poll",
                    extra={"deferred": report.executions_deferred},
                )
                break
            try:
                self._poll_execution(execution, jobs, report, POLLED_BY_SCHEDULE)
            except StaleExecutionError:
                report.executions_stale += 1
            except Exception as exc:  # noqa: BLE001 - one bad execution must not stop the rest
                self._fail(report, execution.execution_id, exc)
        self._logger.info("poll finished", extra=report.as_dict())
        return report

    def poll_one(self, item: dict[str, Any]) -> PollReport:
        """Bring one execution up to date now (the wave runner's fallback when the
        scheduled polls are late); failures propagate to the caller."""
        report = PollReport(executions=1)
        execution = Execution.from_item(item)
        jobs: dict[str, DrsJob] = {}
        by_target = _by_target(execution.active_jobs)
        errors: list[OrchestratorError] = []
        for key, tracked in by_target.items():
            try:
                jobs.update(self._reader(key).describe_jobs(j.job_id for j in tracked))
            except TargetUnreachableError as exc:
                report.targets_unreachable[str(key)] = exc.reason
                errors.append(exc)
            except DrsAccessDeniedError as exc:
                report.targets_unreachable[str(key)] = f"{exc.code}: {exc}"
                errors.append(exc)
            except DrsError as exc:
                report.targets_failed[str(key)] = str(exc)
                errors.append(exc)
        if errors and len(errors) == len(by_target):
            # Nothing could be described: the caller decides on what is recorded.
            raise errors[0]
        self._poll_execution(execution, jobs, report, POLLED_BY_WAVE_RUNNER)
        return report

    def _reader(self, key: str | None) -> DrsReader:
        """The DRS gateway of a target, acting as the finder (its session name)."""
        return self._drs.of(key, session_name(None, "execution-finder"))

    def _fail(self, report: PollReport, execution_id: str, exc: Exception) -> None:
        report.executions_failed += 1
        report.failures.append({"executionId": execution_id, "error": str(exc)})
        extra = {"executionId": execution_id, "error": str(exc)}
        if isinstance(exc, OrchestratorError):
            self._logger.error("execution skipped in this poll", extra=extra)
        else:  # unexpected: keep the traceback
            self._logger.exception("execution skipped in this poll", extra=extra)

    def _active_executions(self, report: PollReport) -> list[Execution]:
        """Every execution with DRS jobs to follow: the active ones, and the ended ones
        still watched (jobs running after the end, TERMINATE jobs). Least recently polled
        first, so that when the time budget runs out, the same executions are not the
        ones left behind every time."""
        items: dict[str, dict[str, Any]] = {}
        for item in self._executions.items_watched():
            items[str(item.get("executionId"))] = item
        for status in ACTIVE_EXECUTION_STATUSES:
            for item in self._executions.items_with_status(status):
                items[str(item.get("executionId"))] = item
        executions = []
        for item in items.values():
            try:
                executions.append(Execution.from_item(item))
            except OrchestratorError as exc:
                self._fail(report, str(item.get("executionId", "?")), exc)
        return sorted(executions, key=lambda e: (e.last_polled_at, e.execution_id))

    def _describe_all(
        self, executions: list[Execution], report: PollReport
    ) -> tuple[dict[str, DrsJob], list[Execution]]:
        """All active jobs of all executions, described per target in as few DescribeJobs
        calls as the filter allows, and the executions whose jobs could be described.

        A target whose role cannot be assumed is noted and its jobs left as recorded; the
        executions go on with their other jobs. If DRS rejects a combined request, each
        execution's jobs in that target are described on their own, so the execution at
        fault is the only one skipped. If DRS stays unavailable (throttled after every
        retry), every execution with jobs in that target waits for the next poll.
        """
        jobs: dict[str, DrsJob] = {}
        failed: set[str] = set()
        by_target = _by_target(j for e in executions for j in e.active_jobs)
        for key, tracked in by_target.items():
            try:
                reader = self._reader(key)
                jobs.update(reader.describe_jobs(j.job_id for j in tracked))
                continue
            except TargetUnreachableError as exc:
                self._logger.warning(
                    "DRS target unreachable; its jobs wait",
                    extra={"target": key, "error": str(exc)},
                )
                report.targets_unreachable[str(key)] = exc.reason
                continue
            except DrsRequestRejectedError:
                self._logger.warning("combined DescribeJobs rejected; describing per execution")
            except DrsError as exc:
                # This target's jobs wait for the next poll; an execution whose every
                # active job is there is skipped, the others go on with their other jobs.
                reason = f"{exc.code}: {exc}" if isinstance(exc, DrsAccessDeniedError) else ""
                if reason:
                    report.targets_unreachable[str(key)] = reason
                else:
                    report.targets_failed[str(key)] = str(exc)
                for execution in executions:
                    if execution.active_jobs and all(
                        j.target == key for j in execution.active_jobs
                    ):
                        self._fail(report, execution.execution_id, exc)
                        failed.add(execution.execution_id)
                continue
            for execution in executions:
                mine = [j.job_id for j in execution.active_jobs if j.target == key]
                if not mine or execution.execution_id in failed:
                    continue
                try:
                    jobs.update(reader.describe_jobs(mine))
                except DrsError as exc:
                    self._fail(report, execution.execution_id, exc)
                    failed.add(execution.execution_id)
        return jobs, [e for e in executions if e.execution_id not in failed]

    def _poll_execution(
        self, execution: Execution, jobs: dict[str, DrsJob], report: PollReport, polled_by: str
    ) -> None:
        progress: dict[str, tuple[int, str]] = {}
        instances: dict[str, str] = {}
        for tracked in execution.active_jobs:
            job = jobs.get(tracked.job_id)
            left_out = str(tracked.target)
            if job is None and (
                left_out in report.targets_unreachable or left_out in report.targets_failed
            ):
                report.jobs_unreachable += 1
                continue
            if job is None:
                report.jobs_missing += 1
                self._logger.warning(
                    "DRS does not know a tracked job",
                    extra={"executionId": execution.execution_id, "jobId": tracked.job_id},
                )
                continue
            report.jobs_polled += 1
            items = self._reader(tracked.target).job_log_items(tracked.job_id)
            report.log_items_read += len(items)
            events = job_domain.events_of_log(
                execution.execution_id, job.job_id, items, job.creation_time
            )
            new, prefix_verified = job_domain.unrecorded_events(
                events, tracked.event_count, tracked.events_digest
            )
            written, duplicates = self._events.record(new, known_new=prefix_verified)
            report.events_written += written
            report.events_already_recorded += duplicates
            progress[job.job_id] = (len(events), job_domain.keys_digest(events))
            instances.update(job_domain.launched_instances(events))
            if job.completed:
                report.jobs_completed += 1
        for attempt in range(WRITE_ATTEMPTS):
            update = reconcile(execution, jobs, progress, instances)
            polled_at = to_iso(self._clock())
            if update.empty:
                # A heartbeat: the runner sees the finder is alive and does not poll itself.
                self._executions.heartbeat(execution.execution_id, polled_at, polled_by)
                return
            try:
                self._executions.apply(update, polled_at, polled_by)
            except StaleExecutionError:
                # Another writer came first: what DRS said still holds, so compare it with
                # the item as it is now instead of waiting for the next poll.
                item = self._executions.get(execution.execution_id)
                if item is None or attempt == WRITE_ATTEMPTS - 1:
                    raise
                execution = Execution.from_item(item)
                continue
            report.executions_updated += 1
            report.servers_updated += len(update.servers)
            return


def _by_target(jobs: Any) -> dict[str | None, list[Any]]:
    """Tracked jobs by the DRS target they run in (None: home), home first."""
    grouped: dict[str | None, list[Any]] = {}
    for job in sorted(jobs, key=lambda j: j.target or ""):
        grouped.setdefault(job.target, []).append(job)
    return grouped
