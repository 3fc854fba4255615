"""Every decision of a recovery execution, as a pure function of what is known now.

``decide(execution, observations, now)`` turns the execution item (as stored), what the
shell has just observed (automation statuses, DRS jobs found again for launches in doubt)
and the time into a ``Decision``: the attributes to write, the side effects to carry out
(``commands``) and what the state machine does next (``route``). Nothing here calls AWS,
so every decision is tested without a fake, and property-based tests throw any order of
DRS progress, operator actions and faults at it.

The shell (``services/wave_runner.py``) saves the decision *before* it carries out any
command: a launch is first written as an ``INTENDED`` batch with a deterministic id that
the DRS job carries as a tag, so a launch whose answer was lost, or a function that died
after ``StartRecovery``, is found again by that tag instead of being guessed at
(invariant ``nothing-launched-is-lost``). The outcomes of commands come back through the
``record_*`` functions below, also pure.

The invariants the core keeps are named in ``INVARIANTS`` and in docs/RELIABILITY.md.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from drs_orchestrator.domain import actions
from drs_orchestrator.domain.actions import StartAutomation
from drs_orchestrator.domain.plans import job_batches
from drs_orchestrator.domain.reasons import (
    REASON_CHARS,
    bounded,
    named,
    servers_not_launched,
    with_servers_not_launched,
)
from drs_orchestrator.domain.recovery_time import OVER_OBJECTIVE, recovery_time
from drs_orchestrator.domain.states import (
    TERMINAL_EXECUTION,
    ExecutionStatus,
    WaveStatus,
    transition,
)
from drs_orchestrator.domain.timestamps import parse_drs_timestamp, to_iso

E, W = ExecutionStatus, WaveStatus

#: The invariants every execution keeps, by the names code, tests and docs use.
INVARIANTS = (
    "every-execution-ends",
    "nothing-launched-is-lost",
    "no-partial-wave",
    "terminal-is-final",
    "servers-held-atomically",
    "approval-exactly-once",
    "dependencies-mean-ready",
    "long-runs-fit",
    "every-finished-execution-has-a-report",
)

#: Tag each DRS job carries: the batch of the execution it launches.
BATCH_TAG = "drs-orchestrator:batch"


class BatchStatus(StrEnum):
    """Where one job's worth of a wave's servers (at most 100) stands."""

    #: Decided, not yet asked of DRS.
    PLANNED = "PLANNED"
    #: Written down before ``StartRecovery``; until its outcome is recorded the launch is
    #: in doubt, and the next tick looks for the job by its batch tag before anything else.
    INTENDED = "INTENDED"
    #: DRS answered with its job: the job is on the execution and followed to its end.
    STARTED = "STARTED"
    #: Known not to be launched (throttled, quota full, or not found after a doubt): the
    #: next tick asks again, until the quota wait runs out.
    DEFERRED = "DEFERRED"
    #: DRS refused it for good, or it waited longer than the quota wait: its servers are
    #: named as not launched and the wave fails.
    REFUSED = "REFUSED"
    #: The execution was cancelled before the batch was launched.
    CANCELLED = "CANCELLED"


B = BatchStatus
BATCH_OPEN = frozenset({B.PLANNED, B.DEFERRED})


class Route(StrEnum):
    """What the state machine does after a tick."""

    WAIT = "WAIT"
    AWAIT_APPROVAL = "AWAIT_APPROVAL"
    CONTINUE_AS_NEW = "CONTINUE_AS_NEW"
    SUCCEED = "SUCCEED"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Limits:
    """How long the core waits for people and for DRS before it gives up."""

    approval_timeout: timedelta = timedelta(days=7)
    quota_wait: timedelta = timedelta(hours=1)
    #: How long a DRS target may stay unreachable (its role cannot be assumed) while a
    #: wave needs it, before the wave fails naming the target and the reason.
    target_wait: timedelta = timedelta(hours=1)
    #: Ticks one state machine run makes before it hands over to a fresh run, so that no
    #: run comes near Step Functions' 25,000 history events (about 12 events a tick with
    #: its sleep, up to 66 with every retry the tick and the sleep may take: 300 x 66 =
    #: 19,800; see docs/RELIABILITY.md).
    ticks_per_run: int = 300


@dataclass(frozen=True)
class StartRecovery:
    """Launch one batch: the shell has already saved it as INTENDED."""

    batch_id: str
    wave: str
    servers: tuple[str, ...]
    is_drill: bool
    #: The DRS target to launch in (``Target.stored_key``): None at home.
    target: str | None = None
    #: (server, point-in-time snapshot id) for the servers of an execution started at a
    #: point in time; the others launch from their latest snapshot.
    snapshots: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ReleaseHolds:
    """Free the execution's source servers for other executions."""

    execution_id: str


Command = StartRecovery | StartAutomation | ReleaseHolds


@dataclass(frozen=True)
class Observations:
    """What the shell saw just before deciding.

    ``automations``: automation execution id -> (status, failure message).
    ``found_batches``: for each batch in doubt, the DRS job (a DescribeJobs item) that
    carries its tag, or None when DRS has no such job.
    ``reached`` / ``unreachable``: the DRS targets the execution needs whose role could be
    assumed just now, and those it could not (key -> the reason).
    """

    automations: dict[str, tuple[str, str]] = field(default_factory=dict)
    found_batches: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    reached: frozenset[str] = frozenset()
    unreachable: dict[str, str] = field(default_factory=dict)


@dataclass
class Decision:
    """What one tick changes, does and routes to."""

    changes: dict[str, Any]
    new_jobs: dict[str, dict[str, Any]]
    #: Outbox entries to add (key -> message); published after the save, at least once.
    notifications: dict[str, dict[str, Any]]
    commands: list[Command]
    route: Route

    @property
    def status(self) -> str:
        return str(self.changes.get("status", ""))


def notification(stamp: str, event: str, **details: Any) -> dict[str, dict[str, Any]]:
    """One outbox entry, keyed so that the same event of the same tick is queued once."""
    key = f"{stamp}#{event}#{details.get('wave', '')}"
    return {key: {"event": event, "details": details, "queuedAt": stamp}}


def batch_id(execution_id: str, wave: str, ordinal: int) -> str:
    """The deterministic id of a wave's ``ordinal``-th batch: the same on every retry."""
    digest = hashlib.sha256(f"{execution_id}\0{wave}\0{ordinal}".encode()).hexdigest()
    return f"batch-{digest[:20]}"


def batches_in_doubt(item: dict[str, Any]) -> list[dict[str, Any]]:
    """Batches written as INTENDED whose outcome was never recorded."""
    return [b for b in (item.get("batches") or {}).values() if b["status"] == B.INTENDED]


def approval_seconds_left(item: dict[str, Any], now: datetime, limits: Limits) -> int:
    """Seconds until the oldest unapproved wave's approval times out (at least 1): the
    state machine's approval wait ends then, and the next tick fails that wave."""
    paused = [
        parse_drs_timestamp(w["pausedAt"])
        for w in item.get("waves", [])
        if w["status"] == W.AWAITING_APPROVAL and not w.get("approved") and w.get("pausedAt")
    ]
    if not paused:
        return int(limits.approval_timeout.total_seconds())
    left = min(paused) + limits.approval_timeout - now
    return max(1, int(left.total_seconds()) + 1)


def wave_targets(wave: dict[str, Any]) -> list[tuple[str | None, list[str]]]:
    """A wave's servers by the DRS target they launch in: home (None) first, then each
    target the wave lists under ``targets``, in order; targets with no server left out."""
    elsewhere: dict[str, list[str]] = wave.get("targets") or {}
    placed = {s for servers in elsewhere.values() for s in servers}
    home = [s for s in wave["servers"] if s not in placed]
    pairs: list[tuple[str | None, list[str]]] = [(None, home)]
    pairs += [(key, list(servers)) for key, servers in elsewhere.items()]
    return [(key, servers) for key, servers in pairs if servers]


def targets_in_use(item: dict[str, Any]) -> list[str]:
    """The DRS targets (other than home) where the execution has work not yet ended: a
    batch to launch or in doubt, or a job still running. The shell checks each can be
    reached before deciding."""
    keys: dict[str, None] = {}
    for batch in (item.get("batches") or {}).values():
        if batch.get("target") and batch["status"] in (*BATCH_OPEN, B.INTENDED):
            keys[batch["target"]] = None
    for job in (item.get("jobs") or {}).values():
        if job.get("target") and job.get("status") != "COMPLETED":
            keys[job["target"]] = None
    return list(keys)


def in_flight(waves: list[dict[str, Any]]) -> bool:
    return any(w["status"] in (W.PRE_ACTIONS, W.LAUNCHING, W.POST_ACTIONS) for w in waves)


class _Tick:
    """The working state of one decision: copies of the item's parts, changed in place."""

    def __init__(
        self, item: dict[str, Any], observations: Observations, now: datetime, limits: Limits
    ) -> None:
        self.item = item
        self.execution_id = str(item["executionId"])
        self.observations = observations
        self.now = now
        self.stamp = to_iso(now)
        self.limits = limits
        self.status = E(item["status"])
        self.waves: list[dict[str, Any]] = copy.deepcopy(list(item["waves"]))
        self.batches: dict[str, dict[str, Any]] = copy.deepcopy(dict(item.get("batches") or {}))
        self.jobs: dict[str, Any] = dict(item.get("jobs") or {})
        self.servers: dict[str, Any] = dict(item.get("servers") or {})
        self.notifications: dict[str, Any] = {}
        self.new_jobs: dict[str, dict[str, Any]] = {}
        self.commands: list[Command] = []
        self.unreachable: dict[str, dict[str, str]] = copy.deepcopy(
            dict(item.get("unreachableTargets") or {})
        )
        #: The recovery time, once the execution completes (``domain/recovery_time.py``).
        self.measured: dict[str, Any] | None = None

    # -- helpers -----------------------------------------------------------------------

    def notify(self, event: str, **details: Any) -> None:
        """Queue a notification in the outbox; the shell publishes it after the save."""
        self.notifications.update(notification(self.stamp, event, **details))

    def set_wave(self, wave: dict[str, Any], status: WaveStatus, **stamps: Any) -> None:
        wave["status"] = transition(W(wave["status"]), status).value
        wave.update(stamps)

    def fail_wave(self, wave: dict[str, Any], reason: str, *, counted: bool = False) -> None:
        """Fail ``wave`` for ``reason``, counting the servers it had not launched by then
        (``no-partial-wave``), unless the reason is the launch's own and ``counted`` them."""
        if counted:
            reason = bounded(reason, REASON_CHARS)
        else:
            reason = with_servers_not_launched(reason, not_launched_yet(wave, self.servers))
        self.set_wave(wave, W.FAILED, reason=reason, endedAt=self.stamp)

    def wave_batches(self, wave: dict[str, Any]) -> list[dict[str, Any]]:
        return [self.batches[b] for b in wave.get("batchIds", []) if b in self.batches]

    def commands_for(self, batch: dict[str, Any]) -> bool:
        """True when this tick issues the batch's launch (it was just made INTENDED)."""
        return any(
            isinstance(c, StartRecovery) and c.batch_id == batch["batchId"] for c in self.commands
        )

    def job(self, job_id: str) -> dict[str, Any]:
        return self.new_jobs.get(job_id) or self.jobs.get(job_id) or {}

    # -- observations ------------------------------------------------------------------

    def apply_found_batches(self) -> None:
        for found_id, job in self.observations.found_batches.items():
            batch = self.batches.get(found_id)
            if batch is None or batch["status"] != B.INTENDED:
                continue
            if job is None and batch.get("conflict"):
                # DRS said the servers were busy and no job of ours holds them: another
                # job does. Refused for good: its servers are named as not launched.
                batch.update(status=B.REFUSED.value, reason=batch.get("lastError", "conflict"))
                continue
            if job is None:
                batch.update(status=B.DEFERRED.value, deferredAt=self.stamp)
                batch["note"] = "no DRS job carries this batch: it was not launched"
                continue
            changes, new_jobs = record_started(self.as_item(), found_id, job, self.stamp)
            self.waves, self.batches = changes["waves"], changes["batches"]
            self.new_jobs.update(new_jobs)

    def apply_reachability(self) -> None:
        """Note since when each target the execution needs has been unreachable (the
        reason kept current); a target reached again is forgotten."""
        for key in self.observations.reached:
            self.unreachable.pop(key, None)
        for key, reason in self.observations.unreachable.items():
            since = (self.unreachable.get(key) or {}).get("since", self.stamp)
            self.unreachable[key] = {"reason": bounded(reason), "since": since}

    def unreachable_too_long(self, key: str | None) -> str | None:
        """Why target ``key`` has been out of reach longer than the target wait, or None."""
        entry = self.unreachable.get(key or "")
        if not entry:
            return None
        if self.now - parse_drs_timestamp(entry["since"]) <= self.limits.target_wait:
            return None
        return (
            f"DRS target {key} could not be reached for over "
            f"{_span(self.limits.target_wait)} ({entry['reason']})"
        )

    def apply_automations(self) -> None:
        actions.apply_statuses(self.waves, self.observations.automations)

    def as_item(self) -> dict[str, Any]:
        return {
            **self.item,
            "waves": self.waves,
            "batches": self.batches,
            "jobs": {**self.jobs, **self.new_jobs},
        }

    # -- waves -------------------------------------------------------------------------

    def adopt_legacy_jobs(self, wave: dict[str, Any]) -> None:
        """A wave launched before batches existed (an upgrade during an execution): each of
        its jobs becomes a STARTED batch, and servers in no job get batches of their own."""
        if "batchIds" in wave:
            return
        ids, covered = [], set()
        for job_id in wave.get("jobIds", []):
            servers = list(self.job(job_id).get("servers", []))
            bid = f"batch-legacy-{job_id}"
            self.batches[bid] = {
                "batchId": bid,
                "wave": wave["name"],
                "servers": servers,
                "status": B.STARTED.value,
                "jobId": job_id,
                "plannedAt": self.stamp,
            }
            ids.append(bid)
            covered.update(servers)
        remaining = [s for s in wave["servers"] if s not in covered]
        for ordinal, servers in enumerate(job_batches(remaining)):
            bid = batch_id(self.execution_id, wave["name"], ordinal)
            self.batches[bid] = {
                "batchId": bid,
                "wave": wave["name"],
                "servers": servers,
                "status": B.PLANNED.value,
                "plannedAt": self.stamp,
            }
            ids.append(bid)
        wave["batchIds"] = ids

    def judge_launch(self, wave: dict[str, Any], may_launch: bool) -> None:
        """Issue open batches; LAUNCHED once every batch's job completed with every server
        LAUNCHED; FAILED naming the servers not launched otherwise."""
        self.adopt_legacy_jobs(wave)
        batches = self.wave_batches(wave)
        for batch in batches:
            if batch["status"] not in BATCH_OPEN:
                continue
            if not may_launch:
                batch["status"] = B.CANCELLED.value
                continue
            waited = self.now - parse_drs_timestamp(batch["plannedAt"])
            if batch["status"] == B.DEFERRED and waited > self.limits.quota_wait:
                batch.update(
                    status=B.REFUSED.value,
                    reason=f"DRS did not accept it within {_span(self.limits.quota_wait)}"
                    + (f" ({batch['lastError']})" if batch.get("lastError") else ""),
                )
                continue
            batch.update(status=B.INTENDED.value, intendedAt=self.stamp)
            batch["attempts"] = int(batch.get("attempts", 0)) + 1
            self.commands.append(
                StartRecovery(
                    batch["batchId"],
                    wave["name"],
                    tuple(batch["servers"]),
                    self.item.get("mode") == "DRILL",
                    batch.get("target"),
                    tuple(
                        (server, chosen[server])
                        for server in batch["servers"]
                        if server in (chosen := self.item.get("snapshots") or {})
                    ),
                )
            )
        for batch in batches:
            why = self.unreachable_too_long(batch.get("target"))
            if batch["status"] == B.INTENDED and why and not self.commands_for(batch):
                # In doubt, and the target that would tell stays out of reach: whether DRS
                # launched it cannot be known from here; named, so the wave can end.
                batch.update(status=B.REFUSED.value, reason=f"launch outcome unknown: {why}")
        if any(b["status"] in (B.INTENDED, B.PLANNED, B.DEFERRED) for b in batches):
            return
        started = [b for b in batches if b["status"] == B.STARTED]
        running = [b for b in started if self.job(b["jobId"]).get("status") != "COMPLETED"]
        lost = [(b, why) for b in running if (why := self.unreachable_too_long(b.get("target")))]
        if lost:
            jobs = named((b["jobId"] for b, _ in lost), "DRS job")
            self.fail_wave(wave, f"{lost[0][1]}: {jobs} cannot be followed")
            return
        if running:
            return
        not_launched: dict[str, str] = {}
        for batch in batches:
            if batch["status"] != B.STARTED:
                reason = batch.get("reason") or batch["status"].lower()
                for server in batch["servers"]:
                    not_launched[server] = f"not launched: {reason}"
        for server in wave["servers"]:
            if server in not_launched:
                continue
            status = (self.servers.get(server) or {}).get("launchStatus", "UNKNOWN")
            if status != "LAUNCHED":
                not_launched[server] = status
        if not_launched:
            self.fail_wave(wave, servers_not_launched(not_launched), counted=True)
            return
        self.set_wave(wave, W.LAUNCHED, launchedAt=self.stamp)
        if wave.get("postActions"):
            self.start_actions(wave, "post")
            self.follow_actions(wave, "post")
        else:
            self.set_wave(wave, W.COMPLETED, endedAt=self.stamp)

    def start_actions(self, wave: dict[str, Any], phase: str) -> None:
        actions.start_runs(wave, phase, self.stamp)
        self.set_wave(wave, W.PRE_ACTIONS if phase == "pre" else W.POST_ACTIONS)

    def follow_actions(self, wave: dict[str, Any], phase: str) -> bool:
        """True once every action of ``phase`` succeeded; fails the wave on a failure or a
        wait past an action's max wait (``domain/actions.py``)."""
        progress = actions.follow_runs(wave, phase, self.now, self.execution_id)
        if progress.failure:
            self.fail_wave(wave, progress.failure)
            return False
        self.commands += progress.commands
        if progress.done and phase == "post":
            self.set_wave(wave, W.COMPLETED, endedAt=self.stamp)
        return progress.done

    def launch(self, wave: dict[str, Any]) -> None:
        """Plan the wave's batches (at most 100 servers each, each in one DRS target) and
        issue them."""
        ids = []
        planned = [
            (key, servers)
            for key, in_target in wave_targets(wave)
            for servers in job_batches(in_target)
        ]
        for ordinal, (key, servers) in enumerate(planned):
            bid = batch_id(self.execution_id, wave["name"], ordinal)
            ids.append(bid)
            batch = {
                "batchId": bid,
                "wave": wave["name"],
                "servers": servers,
                "status": B.PLANNED.value,
                "plannedAt": self.stamp,
            }
            if key is not None:
                batch["target"] = key
            self.batches.setdefault(bid, batch)
        wave["batchIds"] = ids
        self.set_wave(wave, W.LAUNCHING, startedAt=self.stamp)
        self.judge_launch(wave, may_launch=True)

    def skip_not_started(self) -> None:
        for wave in self.waves:
            if wave["status"] in (W.PENDING, W.AWAITING_APPROVAL, W.PRE_ACTIONS):
                self.set_wave(wave, W.SKIPPED, endedAt=self.stamp)

    def start_ready(self) -> None:
        """Start every wave whose dependencies are COMPLETED (launched *and* post-wave
        actions passed); a wave to approve waits alone, the others go on."""
        by_name = {w["name"]: w for w in self.waves}
        for wave in self.waves:
            ready = all(by_name[d]["status"] == W.COMPLETED for d in wave.get("dependsOn", []))
            waiting = wave["status"] == W.PENDING or (
                wave["status"] == W.AWAITING_APPROVAL and wave.get("approved")
            )
            if not (ready and waiting):
                continue
            if wave.get("pauseBefore") and not wave.get("approved"):
                self.set_wave(wave, W.AWAITING_APPROVAL, pausedAt=self.stamp)
                self.notify("waiting for approval", wave=wave["name"])
                continue
            if wave.get("preActions"):
                self.start_actions(wave, "pre")
                self.follow_actions(wave, "pre")
                continue
            self.launch(wave)

    def expire_approvals(self) -> None:
        for wave in self.waves:
            if wave["status"] != W.AWAITING_APPROVAL or wave.get("approved"):
                continue
            waited = self.now - parse_drs_timestamp(wave["pausedAt"])
            if waited > self.limits.approval_timeout:
                self.fail_wave(
                    wave,
                    "approval timed out: nobody approved it within "
                    + _span(self.limits.approval_timeout),
                )

    # -- the whole tick ----------------------------------------------------------------

    def run(self) -> Decision:
        if self.status == E.PENDING:
            self.status = transition(self.status, E.RUNNING)
            self.notify("started")
        self.apply_found_batches()
        self.apply_automations()
        self.apply_reachability()
        cancelling = self.status == E.CANCELLING
        for wave in self.waves:
            if wave["status"] == W.LAUNCHING:
                self.judge_launch(wave, may_launch=not cancelling)
            elif wave["status"] == W.POST_ACTIONS:
                self.follow_actions(wave, "post")
            elif (
                wave["status"] == W.PRE_ACTIONS
                and not cancelling
                and self.follow_actions(wave, "pre")
            ):
                self.launch(wave)
        self.expire_approvals()
        failed = [w for w in self.waves if w["status"] == W.FAILED]
        if cancelling or failed:
            # No wave starts after a failure or a cancel; waves already launching are
            # followed to the end so their job events are still recorded.
            self.skip_not_started()
            if not in_flight(self.waves):
                if cancelling:
                    self.status = transition(self.status, E.CANCELLED)
                    self.notify("cancelled")
                else:
                    self.status = transition(self.status, E.FAILED)
                    self.notify("failed", wave=failed[0]["name"], reason=failed[0].get("reason"))
        else:
            self.start_ready()
            if all(w["status"] == W.COMPLETED for w in self.waves):
                self.status = transition(self.status, E.COMPLETED)
                self.measured = recovery_time(self.item, self.waves, self.stamp)
                self.notify("completed", recoveryTime=self.measured)
                if self.measured.get("overObjective"):
                    self.notify(OVER_OBJECTIVE, recoveryTime=self.measured)
            else:
                awaiting = any(
                    w["status"] == W.AWAITING_APPROVAL and not w.get("approved") for w in self.waves
                )
                self.status = transition(self.status, E.PAUSED if awaiting else E.RUNNING)
        return self.decision()

    def decision(self) -> Decision:
        changes: dict[str, Any] = {
            "waves": self.waves,
            "batches": self.batches,
            "status": self.status.value,
            "updatedAt": self.stamp,
            "tickedAt": self.stamp,
        }
        if self.unreachable or self.item.get("unreachableTargets"):
            changes["unreachableTargets"] = self.unreachable
        if self.status in TERMINAL_EXECUTION:
            changes["endedAt"] = self.stamp
            if self.measured is not None:
                changes["recoveryTime"] = self.measured
            failed = next((w for w in self.waves if w["status"] == W.FAILED), None)
            if self.status == E.FAILED and failed:
                changes["reason"] = bounded(
                    f"wave {failed['name']}: {failed.get('reason')}", REASON_CHARS
                )
            self.commands.append(ReleaseHolds(self.execution_id))
        route = self.route()
        return Decision(changes, self.new_jobs, self.notifications, self.commands, route)

    def route(self) -> Route:
        if self.status in TERMINAL_EXECUTION:
            return Route.FAIL if self.status == E.FAILED else Route.SUCCEED
        if self.status == E.PAUSED and not in_flight(self.waves):
            return Route.AWAIT_APPROVAL
        return Route.WAIT


def decide(
    item: dict[str, Any],
    observations: Observations | None = None,
    now: datetime | None = None,
    limits: Limits | None = None,
) -> Decision:
    """The next step of an execution (see the module docstring). A terminal execution
    changes nothing (invariant ``terminal-is-final``)."""
    if now is None:
        msg = "decide needs the time"
        raise ValueError(msg)
    status = E(item["status"])
    if status in TERMINAL_EXECUTION:
        route = Route.FAIL if status == E.FAILED else Route.SUCCEED
        return Decision({}, {}, {}, [ReleaseHolds(str(item["executionId"]))], route)
    return _Tick(item, observations or Observations(), now, limits or Limits()).run()


#: Attributes every decision sets that say when, not what.
_STAMPS = frozenset({"updatedAt", "tickedAt"})


def is_quiet(item: dict[str, Any], decision: Decision, changes: dict[str, Any]) -> bool:
    """True when a decision changes nothing but its time stamps: no command, no job, no
    notification, every other attribute as stored."""
    if decision.commands or decision.new_jobs or decision.notifications:
        return False
    return all(item.get(k) == v for k, v in changes.items() if k not in _STAMPS)


# -- outcomes of commands, recorded by the shell ----------------------------------------


def record_started(
    item: dict[str, Any], started_batch: str, job: dict[str, Any], stamp: str
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The changes that put a launched batch's DRS job (a DescribeJobs item) on the
    execution: the batch STARTED, the job tracked, the wave's job list. Applies to any
    status, terminal included: a job that was launched is always recorded."""
    waves = copy.deepcopy(list(item["waves"]))
    batches = copy.deepcopy(dict(item.get("batches") or {}))
    batch = batches[started_batch]
    job_id = str(job["jobID"])
    if batch["status"] == B.STARTED and batch.get("jobId") == job_id:
        return {"waves": waves, "batches": batches}, {}
    batch.update(status=B.STARTED.value, jobId=job_id, startedAt=stamp)
    batch.pop("lastError", None)
    for wave in waves:
        if wave["name"] == batch["wave"] and job_id not in wave.get("jobIds", []):
            wave["jobIds"] = [*wave.get("jobIds", []), job_id]
    # A job found by its tag may have ended already; it is tracked as running all the
    # same, so the finder follows it to its end and records what it launched (each
    # server's launch status, its job log) before the wave is judged on it.
    status = str(job.get("status", "PENDING"))
    new_job = {
        "jobId": job_id,
        "waveName": batch["wave"],
        "batchId": started_batch,
        "status": "STARTED" if status == "COMPLETED" else status,
        "type": str(job.get("type", "LAUNCH")),
        "servers": list(batch["servers"]),
        "createdAt": stamp,
    }
    if batch.get("target"):
        new_job["target"] = batch["target"]
    known = (item.get("jobs") or {}).get(job_id)
    return {"waves": waves, "batches": batches}, ({} if known else {job_id: new_job})


def record_not_started(
    item: dict[str, Any], deferred_batch: str, error: str, *, refused: bool, stamp: str
) -> dict[str, Any]:
    """A batch DRS certainly did not launch: DEFERRED to try again (throttled, quota
    full) or REFUSED for good (its servers are then named as not launched)."""
    batches = copy.deepcopy(dict(item.get("batches") or {}))
    batch = batches[deferred_batch]
    if batch["status"] != B.INTENDED:
        return {"batches": batches}
    if refused:
        batch.update(status=B.REFUSED.value, reason=bounded(error), refusedAt=stamp)
    else:
        batch.update(status=B.DEFERRED.value, lastError=bounded(error), deferredAt=stamp)
    return {"batches": batches}


def record_in_doubt(
    item: dict[str, Any], doubtful_batch: str, error: str, *, conflict: bool
) -> dict[str, Any]:
    """A launch whose outcome is unknown stays INTENDED: the next tick looks for its job
    by tag first. ``conflict``: DRS said the servers are already in a job, so if no job of
    ours is found, another job holds them and the batch is refused."""
    batches = copy.deepcopy(dict(item.get("batches") or {}))
    batch = batches[doubtful_batch]
    if batch["status"] == B.INTENDED:
        batch["lastError"] = bounded(error)
        batch["conflict"] = conflict
    return {"batches": batches}


def not_launched_yet(wave: dict[str, Any], servers: dict[str, Any]) -> list[str]:
    """The servers of ``wave`` DRS has not reported LAUNCHED (so far)."""
    return [s for s in wave["servers"] if (servers.get(s) or {}).get("launchStatus") != "LAUNCHED"]


def finalise(
    item: dict[str, Any], reason: str, now: datetime
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The changes that end an execution whose state machine can no longer run it: waves
    not started are skipped, waves in flight fail with ``reason`` (their DRS jobs are still
    followed by the finder), and the execution ends FAILED, or CANCELLED if a cancel was
    under way. Empty for an execution already ended (``terminal-is-final``)."""
    status = E(item["status"])
    if status in TERMINAL_EXECUTION:
        return {}, {}
    reason = bounded(reason, REASON_CHARS)
    stamp = to_iso(now)
    waves = copy.deepcopy(list(item["waves"]))
    for wave in waves:
        current = W(wave["status"])
        if current in (W.PENDING, W.AWAITING_APPROVAL, W.PRE_ACTIONS):
            wave.update(status=transition(current, W.SKIPPED).value, endedAt=stamp)
        elif current in (W.LAUNCHING, W.LAUNCHED, W.POST_ACTIONS):
            unlaunched = not_launched_yet(wave, item.get("servers") or {})
            wave.update(
                status=transition(current, W.FAILED).value,
                endedAt=stamp,
                reason=with_servers_not_launched(reason, unlaunched),
            )
    final = E.CANCELLED if status == E.CANCELLING else E.FAILED
    batches = copy.deepcopy(dict(item.get("batches") or {}))
    for batch in batches.values():
        if batch["status"] in BATCH_OPEN:
            batch["status"] = B.CANCELLED.value
    changes = {
        "status": transition(status, final).value,
        "waves": waves,
        "batches": batches,
        "reason": reason,
        "endedAt": stamp,
        "updatedAt": stamp,
    }
    event = "cancelled" if final == E.CANCELLED else "failed"
    return changes, notification(stamp, event, reason=reason)


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} s"
