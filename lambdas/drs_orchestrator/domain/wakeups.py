"""Waking a sleeping execution when DRS says a launch ended.

Between ticks the recovery state machine sleeps in a callback task (``Sleep``) for at
most ``POLL_SECONDS``; the wave runner keeps that task's token on the execution
(``sleepToken``). DRS sends ``DRS Source Server Launch Result`` to EventBridge when a
drill or recovery instance launched or failed to (best-effort delivery, in the account
and region of the source server). The deployment's rule routes it to the wave runner,
which counts a wake request on the execution holding that server (``wakeRequests``) and
hands the sleeping token back, so the dependent wave starts within seconds instead of at
the next tick.

DRS sends one result per server, as each launches. Only the last of a job can move a wave
on (a wave waits for all its jobs), so the runner wakes the execution only once the job
the event names has ended, or every server of it has its outcome (``job_has_ended``): a
wake costs a loop of the state machine (three state transitions), and waking once per
server would make a large drill cost more than ticking alone.

No wake is lost between a tick and the next sleep: every tick carries the count of wake
requests it saw when it loaded the execution (``wakes``); a sleep that finds the count
moved on since then wakes itself at once (``woken_meanwhile``). An event that never
arrives costs at most one sleep: the next tick follows the wave's own DRS jobs.

Everything here is pure: it reads events and counts, and calls nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drs_orchestrator.domain.jobs import DrsJob

#: The DRS event, as EventBridge's ``detail-type``, that ends a server's launch.
LAUNCH_RESULT = "DRS Source Server Launch Result"
#: Its ``detail.state`` values (docs: EventBridge's reference of DRS events).
LAUNCH_SUCCEEDED = "RECOVERY_LAUNCH_SUCCEEDED"
LAUNCH_FAILED = "RECOVERY_LAUNCH_FAILED"
#: The event pattern of the deployment's rule (``infra/components/orchestrator.py``).
LAUNCH_RESULT_PATTERN: dict[str, list[str]] = {
    "source": ["aws.drs"],
    "detail-type": [LAUNCH_RESULT],
}

_SOURCE_SERVER_ARN = re.compile(
    r"^arn:aws[a-z-]*:drs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"source-server/(?P<server>s-[0-9a-zA-Z]{17})$"
)


@dataclass(frozen=True)
class LaunchResult:
    """One server's launch ended, as DRS reported it."""

    server_id: str
    account: str
    region: str
    state: str
    job_id: str | None
    at: str | None

    @property
    def succeeded(self) -> bool:
        return self.state == LAUNCH_SUCCEEDED


def launch_result(event: dict[str, Any]) -> LaunchResult | None:
    """The launch result an EventBridge event carries, or None for any other event (or one
    whose shape DRS does not send: no source server ARN in ``resources``)."""
    if event.get("source") != "aws.drs" or event.get("detail-type") != LAUNCH_RESULT:
        return None
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    for resource in event.get("resources") or ():
        match = _SOURCE_SERVER_ARN.match(str(resource))
        if match:
            job = detail.get("job-id")
            return LaunchResult(
                server_id=match["server"],
                account=match["account"],
                region=match["region"],
                state=str(detail.get("state", "")),
                job_id=str(job) if job else None,
                at=str(event["time"]) if event.get("time") else None,
            )
    return None


#: A server's ``launchStatus`` once its launch has an outcome.
FINAL_LAUNCH_STATUSES = frozenset({"LAUNCHED", "FAILED", "TERMINATED"})


def job_has_ended(job: DrsJob | None) -> bool:
    """True when the job a launch result names may let a wave move on: it COMPLETED, or
    every server of it has its outcome (DRS may still be closing the job). A job DRS does
    not describe (not found, or not read) counts as ended: a wake too many costs one loop,
    a wake missed costs a whole sleep."""
    if job is None:
        return True
    return job.completed or all(s.launch_status in FINAL_LAUNCH_STATUSES for s in job.servers)


#: What a tick that could not load the execution saw: its sleep lasts the poll interval
#: rather than loop at once on a table that does not answer.
UNSEEN = -1


def woken_meanwhile(wake_requests: int, seen_by_last_tick: int) -> bool:
    """True when a wake was requested after the last tick loaded the execution: that tick
    may have looked at DRS before the launch ended, so the sleep must not wait."""
    return seen_by_last_tick != UNSEEN and wake_requests > seen_by_last_tick
