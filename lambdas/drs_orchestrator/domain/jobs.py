"""DRS jobs as the orchestrator sees them, and their log items as events to record.

Job log ``event`` values are an open set: the live service sends events the API model does
not list (``LAUNCH_END`` carries the target instance id), so events are kept as strings and
stored as they come. Whether a server launched is decided from ``launchStatus``, never from
the presence of one event.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from drs_orchestrator.domain.timestamps import normalise

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

JOB_ID_PATTERN = re.compile(r"^drsjob-[0-9a-zA-Z]{17}$")

JOB_PENDING, JOB_STARTED, JOB_COMPLETED = "PENDING", "STARTED", "COMPLETED"
#: Per-server launch statuses DRS reports.
LAUNCH_STATUSES = ("PENDING", "IN_PROGRESS", "LAUNCHED", "FAILED", "TERMINATED")


@dataclass(frozen=True)
class ServerLaunch:
    """One source server's progress inside a DRS job."""

    source_server_id: str
    launch_status: str
    recovery_instance_id: str | None = None

    @classmethod
    def from_drs(cls, item: Mapping[str, Any]) -> ServerLaunch:
        return cls(
            source_server_id=item["sourceServerID"],
            launch_status=item.get("launchStatus", "PENDING"),
            # Older jobs omit recoveryInstanceID; absence is not an error.
            recovery_instance_id=item.get("recoveryInstanceID"),
        )


@dataclass(frozen=True)
class DrsJob:
    """The parts of a DescribeJobs item the orchestrator tracks."""

    job_id: str
    status: str
    job_type: str
    initiated_by: str | None
    creation_time: str | None
    end_time: str | None
    servers: tuple[ServerLaunch, ...]

    @property
    def completed(self) -> bool:
        return self.status == JOB_COMPLETED

    @classmethod
    def from_drs(cls, item: Mapping[str, Any]) -> DrsJob:
        created = item.get("creationDateTime")
        ended = item.get("endDateTime")
        return cls(
            job_id=item["jobID"],
            status=item.get("status", JOB_PENDING),
            job_type=item.get("type", "LAUNCH"),
            initiated_by=item.get("initiatedBy"),
            creation_time=normalise(created) if created else None,
            end_time=normalise(ended) if ended else None,
            servers=tuple(ServerLaunch.from_drs(s) for s in item.get("participatingServers", [])),
        )


@dataclass(frozen=True)
class JobEvent:
    """One DRS job log item, keyed so that recording it twice is impossible."""

    execution_id: str
    job_id: str
    event: str
    log_time: str
    event_data: Mapping[str, Any]
    #: 2, 3, ... for the repeats of an item identical to an earlier one in the same log
    #: (DRS can send two identical items); each is kept, under a key of its own.
    occurrence: int = 1
    #: True when the item had no ``logDateTime`` and ``log_time`` was borrowed from the
    #: item before it (or the job's creation).
    time_borrowed: bool = False

    @property
    def digest(self) -> str:
        canonical = json.dumps(self.event_data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def event_key(self) -> str:
        """Sort key: time first so an execution's events read in order; then what makes
        two items at the same instant distinct (job, event type, data)."""
        key = f"{self.log_time}#{self.job_id}#{self.event}#{self.digest}"
        return key if self.occurrence == 1 else f"{key}#{self.occurrence}"

    @property
    def source_server_id(self) -> str | None:
        value = self.event_data.get("sourceServerID")
        return value if isinstance(value, str) else None

    @classmethod
    def from_log_item(
        cls, execution_id: str, job_id: str, item: Mapping[str, Any], fallback_time: str
    ) -> JobEvent:
        raw_time = item.get("logDateTime")
        return cls(
            execution_id=execution_id,
            job_id=job_id,
            event=str(item.get("event", "UNKNOWN")),
            log_time=normalise(raw_time) if raw_time else fallback_time,
            event_data=dict(item.get("eventData") or {}),
            time_borrowed=not raw_time,
        )


#: Time given to a log item without ``logDateTime`` when nothing before it has one.
EPOCH = "1970-01-01T00:00:00.000000Z"


def events_of_log(
    execution_id: str, job_id: str, items: Sequence[Mapping[str, Any]], job_created: str | None
) -> list[JobEvent]:
    """A job log as events with one distinct key each, whatever the log holds: an item
    without ``logDateTime`` borrows the time of the item before it (the job's creation for
    the first), and identical items are numbered. Deterministic, so a re-poll makes the
    same keys and nothing is recorded twice."""
    events: list[JobEvent] = []
    seen: dict[str, int] = {}
    previous = job_created or EPOCH
    for item in items:
        event = JobEvent.from_log_item(execution_id, job_id, item, previous)
        previous = event.log_time
        count = seen.get(event.event_key, 0) + 1
        seen[event.event_key] = count
        if count > 1:
            event = replace(event, occurrence=count)
        events.append(event)
    return events


def keys_digest(events: Iterable[JobEvent]) -> str:
    """Digest of an ordered run of event keys; detects a log whose past was rewritten."""
    hasher = hashlib.sha256()
    for event in events:
        hasher.update(event.event_key.encode())
        hasher.update(b"\n")
    return hasher.hexdigest()


def unrecorded_events(
    events: Sequence[JobEvent], recorded_count: int, recorded_digest: str | None
) -> tuple[list[JobEvent], bool]:
    """The events of a job log not yet recorded, and whether they are known to be new.

    A DRS job log only grows, so the first ``recorded_count`` items were written by an
    earlier poll. The digest proves that prefix is unchanged; if it is not, every event is
    returned and the store's conditional write keeps the record free of duplicates.
    """
    if (
        0 < recorded_count <= len(events)
        and keys_digest(events[:recorded_count]) == recorded_digest
    ):
        return list(events[recorded_count:]), True
    return list(events), recorded_count == 0


def launched_instances(events: Iterable[JobEvent]) -> dict[str, str]:
    """Source server -> instance id, from the ``targetInstanceID`` that launch events carry.

    Only a fallback for jobs whose servers lack ``recoveryInstanceID``; it says nothing
    about success, which ``launchStatus`` alone decides.
    """
    found: dict[str, str] = {}
    for event in events:
        target = event.event_data.get("targetInstanceID")
        if event.source_server_id and isinstance(target, str):
            found[event.source_server_id] = target
    return found
