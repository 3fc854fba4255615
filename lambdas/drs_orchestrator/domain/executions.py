"""Executions as the execution finder tracks them, and what one poll changes in them.

The execution item is the single source of truth for job and server progress: the finder
writes it from DRS, and everything else (wave runner, API) reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from drs_orchestrator.domain.jobs import JOB_COMPLETED, JOB_ID_PATTERN, DrsJob
from drs_orchestrator.errors import MalformedExecutionError

#: The type a failback records its launch jobs under: the finder follows the job (status,
#: log) but leaves its servers to the failback core, which tracks them by step.
FAILBACK_JOB = "FAILBACK"

#: Execution statuses in which DRS jobs may still be running; the finder polls only these.
ACTIVE_EXECUTION_STATUSES: tuple[str, ...] = ("RUNNING", "PAUSED", "CANCELLING")


@dataclass(frozen=True)
class TrackedJob:
    """A DRS job an execution started, with how much of its log is recorded."""

    job_id: str
    wave_name: str
    status: str
    job_type: str = "LAUNCH"
    end_time: str | None = None
    event_count: int = 0
    events_digest: str | None = None
    #: The DRS target the job runs in (``Target.stored_key``): None at home.
    target: str | None = None

    @property
    def active(self) -> bool:
        return self.status != JOB_COMPLETED


@dataclass(frozen=True)
class TrackedServer:
    """A source server's launch as last recorded on the execution."""

    source_server_id: str
    wave_name: str
    job_id: str
    launch_status: str
    recovery_instance_id: str | None = None
    #: The TERMINATE job of the server's recovery instance, and how far it got.
    termination_job_id: str | None = None
    termination_status: str | None = None

    def as_item(self) -> dict[str, str]:
        item = {
            "sourceServerId": self.source_server_id,
            "waveName": self.wave_name,
            "jobId": self.job_id,
            "launchStatus": self.launch_status,
        }
        if self.recovery_instance_id:
            item["recoveryInstanceId"] = self.recovery_instance_id
        if self.termination_job_id:
            item["terminationJobId"] = self.termination_job_id
        if self.termination_status:
            item["terminationStatus"] = self.termination_status
        return item


@dataclass(frozen=True)
class Execution:
    """The parts of an execution item the finder reads."""

    execution_id: str
    status: str
    jobs: Mapping[str, TrackedJob]
    servers: Mapping[str, TrackedServer]
    #: The item's version when read: the finder writes only if it is still the same.
    version: int = 0
    last_polled_at: str = ""

    @property
    def active_jobs(self) -> list[TrackedJob]:
        return [job for job in self.jobs.values() if job.active]

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Execution:
        """Build from a deserialised DynamoDB item; reject what cannot be polled safely."""
        execution_id = item.get("executionId")
        if not isinstance(execution_id, str):
            msg = "execution item has no executionId"
            raise MalformedExecutionError(msg)
        raw_jobs, raw_servers = item.get("jobs"), item.get("servers")
        if not isinstance(raw_jobs, Mapping) or not isinstance(raw_servers, Mapping):
            msg = f"execution {execution_id} lacks the 'jobs' and 'servers' maps"
            raise MalformedExecutionError(msg)
        jobs = {}
        for job_id, job in raw_jobs.items():
            if not JOB_ID_PATTERN.fullmatch(job_id) or not isinstance(job, Mapping):
                msg = f"execution {execution_id} tracks an invalid DRS job id {job_id!r}"
                raise MalformedExecutionError(msg)
            jobs[job_id] = TrackedJob(
                job_id=job_id,
                wave_name=str(job.get("waveName", "")),
                status=str(job.get("status", "PENDING")),
                job_type=str(job.get("type", "LAUNCH")),
                end_time=job.get("endDateTime"),
                event_count=int(job.get("eventCount", 0)),
                events_digest=job.get("eventsDigest"),
                target=job.get("target") or None,
            )
        servers = {
            server_id: TrackedServer(
                source_server_id=server_id,
                wave_name=str(server.get("waveName", "")),
                job_id=str(server.get("jobId", "")),
                launch_status=str(server.get("launchStatus", "PENDING")),
                recovery_instance_id=server.get("recoveryInstanceId"),
                termination_job_id=server.get("terminationJobId"),
                termination_status=server.get("terminationStatus"),
            )
            for server_id, server in raw_servers.items()
        }
        return cls(
            execution_id,
            str(item.get("status", "")),
            jobs,
            servers,
            version=int(item.get("version", 0)),
            last_polled_at=str(item.get("lastPolledAt", "")),
        )


@dataclass(frozen=True)
class JobProgress:
    """What one poll learnt about one job."""

    job_id: str
    status: str
    end_time: str | None
    event_count: int
    events_digest: str


@dataclass
class ExecutionUpdate:
    """The changes one poll makes to one execution; empty when nothing moved."""

    execution_id: str
    version: int = 0
    jobs: dict[str, JobProgress] = field(default_factory=dict)
    servers: dict[str, TrackedServer] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.jobs and not self.servers


def reconcile(
    execution: Execution,
    drs_jobs: Mapping[str, DrsJob],
    event_progress: Mapping[str, tuple[int, str]],
    launched_instances: Mapping[str, str] | None = None,
) -> ExecutionUpdate:
    """Compare what the execution recorded with what DRS reports now.

    ``event_progress`` maps a job id to the number of its log items now recorded and the
    digest of their keys. ``launched_instances`` maps a source server to the instance its
    job log says was launched, for older jobs whose servers lack ``recoveryInstanceID``.
    Only what changed is put in the update, so a quiet poll writes nothing.
    """
    launched_instances = launched_instances or {}
    update = ExecutionUpdate(execution.execution_id, execution.version)
    for tracked in execution.active_jobs:
        job = drs_jobs.get(tracked.job_id)
        if job is None:
            continue
        count, digest = event_progress.get(
            tracked.job_id, (tracked.event_count, tracked.events_digest or "")
        )
        if (job.status, job.end_time, count, digest) != (
            tracked.status,
            tracked.end_time,
            tracked.event_count,
            tracked.events_digest,
        ):
            update.jobs[job.job_id] = JobProgress(
                job.job_id, job.status, job.end_time, count, digest
            )
        if tracked.job_type == FAILBACK_JOB:
            continue  # its servers are the failback core's (``failback.<server>.step``)
        for launch in job.servers:
            current = execution.servers.get(launch.source_server_id)
            if tracked.job_type == "TERMINATE":
                # A TERMINATE job reports on the servers a launch job launched: its status
                # goes beside the launch's, which it never overwrites.
                if current is not None:
                    ended = replace(
                        current,
                        termination_job_id=job.job_id,
                        termination_status=launch.launch_status,
                    )
                    if ended != current:
                        update.servers[ended.source_server_id] = ended
                continue
            recovery_instance = (
                launch.recovery_instance_id
                or launched_instances.get(launch.source_server_id)
                or (current.recovery_instance_id if current else None)
            )
            server = TrackedServer(
                source_server_id=launch.source_server_id,
                wave_name=tracked.wave_name,
                job_id=job.job_id,
                launch_status=launch.launch_status,
                recovery_instance_id=recovery_instance,
            )
            if server != current:
                update.servers[server.source_server_id] = server
    return update
