"""Failback executions: bring a recovery's workload home, wave by wave, in the plan's
dependency order (issue 19, the pure core; the shell that runs it is not built yet).

A failback is made from a finished RECOVERY execution (``new_failback``): the same waves,
and for each server its recovery instance, the DRS target it runs in and where it came from
(an AWS ``account/region``, or on premises). Per wave, once its dependencies are home:

1. **replicate back**: an AWS source's recovery instance is asked to reverse replication
   (``ReverseReplication``, intent first: asked again after a lost answer or a crash, which
   DRS answers with the same reversed server); an on-premises server waits, visibly, for
   its failback client to be booted on the original machine;
2. wait until DRS says every server is ready for launch (a failback error fails the wave,
   counting its servers by DRS's reason and naming the first few: each server's record
   keeps its own);
3. the cut-over approval, where the plan pauses before the wave;
4. **launch** (intent first, one batch per DRS target): on premises ``StartFailbackLaunch``
   in the target the instances run in; from AWS, a recovery of the reversed source servers
   in their origin;
5. the wave is home when every launch ended: a server whose launch failed fails the wave;
6. the wave's actions, once it is home (``domain/actions.py``, phase ``post``): the plan
   wave's ``failbackActions`` where it names them, else its ``postActions``, as they were
   when the recovery started; the wave completes when every action succeeded, and fails,
   naming the document, when one fails or outlives its max wait;
7. once every wave is home, as the start asked: forward replication restarted on each
   server (``StartReplication``), the recovery instances terminated; the execution
   completes when DRS shows both done.

A failed wave skips the waves that depend on it; the execution ends COMPLETED or FAILED. A
cancel stops before the next launch and never abandons one under way.

Pure: an item and what DRS says in, changes and commands out (``decide``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from drs_orchestrator.domain import actions
from drs_orchestrator.domain.actions import StartAutomation
from drs_orchestrator.domain.executions import FAILBACK_JOB
from drs_orchestrator.domain.reasons import REASON_CHARS, bounded, servers_not_home
from drs_orchestrator.domain.runner import notification
from drs_orchestrator.domain.states import (
    TERMINAL_EXECUTION,
    ExecutionStatus,
    WaveStatus,
    transition,
)
from drs_orchestrator.domain.timestamps import parse_drs_timestamp

E, W = ExecutionStatus, WaveStatus
#: DRS's failback states this core acts on (``RecoveryInstanceFailback.state``).
READY_FOR_LAUNCH = "FAILBACK_READY_FOR_LAUNCH"
FAILBACK_ERROR = "FAILBACK_ERROR"
FAILBACK_COMPLETED = "FAILBACK_COMPLETED"
#: The mode of a failback execution.
MODE = "FAILBACK"
#: The origin of an AWS source that came from the deployment's own account and region.
HOME = "home"
#: Tag each failback launch job carries: the batch of the execution it launches.
BATCH_TAG = "drs-orchestrator:batch"


class Step(StrEnum):
    """Where one server's failback is."""

    WAITING = "WAITING"  # its wave has not begun
    REVERSE_INTENDED = "REVERSE_INTENDED"  # AWS: reverse replication asked, not confirmed
    AWAITING_CLIENT = "AWAITING_CLIENT"  # on premises: no failback client connected yet
    REPLICATING = "REPLICATING"
    READY = "READY"
    LAUNCH_INTENDED = "LAUNCH_INTENDED"  # the launch asked, its job not recorded yet
    LAUNCHING = "LAUNCHING"
    HOME = "HOME"
    FAILED = "FAILED"


#: The one table of a server's allowed steps.
STEPS: dict[Step, frozenset[Step]] = {
    Step.WAITING: frozenset({Step.REVERSE_INTENDED, Step.AWAITING_CLIENT, Step.FAILED}),
    Step.REVERSE_INTENDED: frozenset({Step.REPLICATING, Step.READY, Step.FAILED}),
    Step.AWAITING_CLIENT: frozenset({Step.REPLICATING, Step.READY, Step.FAILED}),
    Step.REPLICATING: frozenset({Step.READY, Step.FAILED}),
    Step.READY: frozenset({Step.LAUNCH_INTENDED, Step.REPLICATING, Step.FAILED}),
    Step.LAUNCH_INTENDED: frozenset({Step.LAUNCHING, Step.HOME, Step.FAILED}),
    Step.LAUNCHING: frozenset({Step.HOME, Step.FAILED}),
    Step.HOME: frozenset(),
    Step.FAILED: frozenset(),
}


@dataclass(frozen=True)
class InstanceView:
    """What DRS says of a recovery instance now (None in ``Observations``: it is gone)."""

    state: str = "FAILBACK_NOT_STARTED"
    error: str | None = None


@dataclass(frozen=True)
class JobView:
    """A failback launch job: its status, and each launched server's ``launchStatus``."""

    status: str
    servers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Observations:
    instances: dict[str, InstanceView | None] = field(default_factory=dict)
    jobs: dict[str, JobView] = field(default_factory=dict)
    #: The wave actions' automation runs: id -> (status, failure message).
    automations: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ReverseReplication:
    server: str
    instance: str
    target: str | None


@dataclass(frozen=True)
class FailbackLaunch:
    """On premises: ``StartFailbackLaunch`` of ``instances`` in ``target``."""

    batch: str
    target: str | None
    instances: tuple[str, ...]


@dataclass(frozen=True)
class OriginLaunch:
    """From AWS: a recovery of the reversed source servers in their origin."""

    batch: str
    origin: str
    reversed_servers: tuple[str, ...]


@dataclass(frozen=True)
class Protect:
    """Restart forward replication of a server that is home (``StartReplication``)."""

    server: str
    target: str | None


@dataclass(frozen=True)
class Terminate:
    """Terminate the recovery instances the workload left behind, in ``target``."""

    target: str | None
    instances: tuple[str, ...]


Command = ReverseReplication | FailbackLaunch | OriginLaunch | Protect | Terminate | StartAutomation


@dataclass
class Decision:
    changes: dict[str, Any] = field(default_factory=dict)
    commands: list[Command] = field(default_factory=list)
    #: ``wait`` (tick again), ``approval`` (a wave waits for its cut-over), ``done``.
    route: str = "wait"
    #: Outbox entries to queue with the save (``runner.notification``): published after.
    notifications: dict[str, Any] = field(default_factory=dict)


def new_failback(
    execution_id: str,
    recovery: dict[str, Any],
    origins: dict[str, str | None],
    now: str,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A failback of a finished recovery: its waves, and for each server it launched the
    recovery instance, the target it runs in and its origin (``origins``: an AWS source's
    DRS target key, ``HOME`` for the deployment's own; absent or None: on premises)."""
    jobs = recovery.get("jobs") or {}
    servers = recovery.get("servers") or {}
    failback = {}
    for server_id, server in sorted(servers.items()):
        if server.get("launchStatus") != "LAUNCHED" or not server.get("recoveryInstanceId"):
            continue
        failback[server_id] = {
            "instance": server["recoveryInstanceId"],
            "target": (jobs.get(server.get("jobId")) or {}).get("target"),
            "origin": origins.get(server_id),
            "step": Step.WAITING.value,
        }
    waves = [
        {
            "name": wave["name"],
            "dependsOn": list(wave.get("dependsOn") or ()),
            "pauseBefore": bool(wave.get("pauseBefore")),
            "approved": False,
            "servers": [s for s in wave.get("servers") or () if s in failback],
            "postActions": failback_actions(wave),
            "status": W.PENDING.value,
            "jobIds": [],
        }
        for wave in recovery.get("waves") or ()
    ]
    return {
        "executionId": execution_id,
        "mode": MODE,
        "recoveryExecutionId": recovery["executionId"],
        "planId": recovery.get("planId"),
        "planName": recovery.get("planName"),
        "status": E.RUNNING.value,
        "startedAt": now,
        "updatedAt": now,
        "waves": waves,
        "failback": failback,
        # Once home: restart forward replication, terminate the recovery instances.
        "options": {
            "restartReplication": bool((options or {}).get("restartReplication")),
            "terminateRecoveryInstances": bool((options or {}).get("terminateRecoveryInstances")),
        },
        # Queued with the item: published once it is saved (at least once, never lost).
        "outbox": notification(now, "failback started", recovery=recovery["executionId"]),
        # The execution core's maps, empty: a failback's launches are its servers' own.
        "jobs": {},
        "servers": {},
        "version": 0,
    }


def failback_actions(wave: dict[str, Any]) -> list[dict[str, Any]]:
    """The actions a recovery's wave runs once it is home again: its ``failbackActions``
    where the plan names them (an empty list: none), else its ``postActions``."""
    chosen = wave.get("failbackActions")
    return copy.deepcopy(list(wave.get("postActions") or () if chosen is None else chosen))


def decide(item: dict[str, Any], seen: Observations, now: str) -> Decision:
    """The next step of a failback from what DRS and SSM say now."""
    if ExecutionStatus(item["status"]) in TERMINAL_EXECUTION:
        return Decision(route="done")
    waves = copy.deepcopy(item["waves"])
    actions.apply_statuses(waves, seen.automations)
    servers = copy.deepcopy(item["failback"])
    commands: list[Command] = []
    notices: dict[str, Any] = {}
    cancelling = item["status"] == E.CANCELLING
    by_name = {w["name"]: w for w in waves}
    for wave in waves:
        status = W(wave["status"])
        deps = [by_name[d] for d in wave["dependsOn"] if d in by_name]
        if status == W.PENDING:
            if any(W(d["status"]) in (W.FAILED, W.SKIPPED) for d in deps) or cancelling:
                wave.update(status=W.SKIPPED.value, endedAt=now)
                continue
            if all(W(d["status"]) == W.COMPLETED for d in deps):
                wave.update(status=W.REPLICATING.value, startedAt=now)
                commands += _replicate_back(wave, servers)
            # What DRS said this tick predates the wave's start: followed from the next.
            continue
        if status == W.REPLICATING and cancelling:
            # Nothing launched yet: the wave stops here (a failback replication DRS has
            # under way is left as it is, for the operator to stop or launch).
            wave.update(status=W.SKIPPED.value, endedAt=now, reason="cancelled before its launch")
            continue
        if status == W.REPLICATING:
            commands += _follow_replication(wave, servers, seen)
            failed = [s for s in wave["servers"] if servers[s]["step"] == Step.FAILED]
            if failed:
                _fail(wave, servers, failed, now)
            elif all(_ready(servers[s]) for s in wave["servers"]):
                if cancelling:
                    wave.update(status=W.SKIPPED.value, endedAt=now)
                elif wave["pauseBefore"] and not wave["approved"]:
                    wave.update(status=W.AWAITING_APPROVAL.value, pausedAt=now)
                    notices |= notification(
                        now, "failback waiting for cut-over approval", wave=wave["name"]
                    )
                else:
                    commands += _launch(item["executionId"], wave, servers)
        elif status == W.AWAITING_APPROVAL and (wave["approved"] or cancelling):
            if cancelling:
                wave.update(status=W.SKIPPED.value, endedAt=now)
            else:
                commands += _launch(item["executionId"], wave, servers)
        elif status == W.LAUNCHING:
            _follow_launch(wave, servers, seen)
            steps = {servers[s]["step"] for s in wave["servers"]}
            if steps <= {Step.HOME, Step.FAILED}:
                failed = [s for s in wave["servers"] if servers[s]["step"] == Step.FAILED]
                if failed:
                    _fail(wave, servers, failed, now)
                else:
                    commands += _home(item["executionId"], wave, now)
        elif status == W.POST_ACTIONS:
            # Followed to their end even when cancelling: the wave is home already.
            commands += _follow_actions(item["executionId"], wave, now)
    changes: dict[str, Any] = {"waves": waves, "failback": servers, "tickedAt": now}
    statuses = {W(w["status"]) for w in waves}
    in_flight = statuses - {W.COMPLETED, W.FAILED, W.SKIPPED}
    if not in_flight:
        if W.FAILED in statuses:
            end = E.FAILED
        elif cancelling:
            end = E.CANCELLED
        else:
            finishing = _finish(item.get("options") or {}, servers, seen)
            if finishing:
                return Decision(changes, [*commands, *finishing], "wait", notices)
            end = E.COMPLETED
        changes.update(status=end.value, endedAt=now)
        reasons = bounded(
            "; ".join(f"{w['name']}: {w['reason']}" for w in waves if w.get("reason")),
            REASON_CHARS,
        )
        notices |= notification(
            now, f"failback {end.value.lower()}", **({"reason": reasons} if reasons else {})
        )
        return Decision(changes, commands, "done", notices)
    if in_flight == {W.AWAITING_APPROVAL}:
        changes["status"] = E.PAUSED.value
        return Decision(changes, commands, "approval", notices)
    if item["status"] == E.PAUSED:
        changes["status"] = E.RUNNING.value
    return Decision(changes, commands, "wait", notices)


def _finish(options: dict[str, Any], servers: dict[str, Any], seen: Observations) -> list[Command]:
    """Once every wave is home, what the options ask for and is not done yet: forward
    replication restarted on each server (recorded as ``protected``), the recovery
    instances terminated (done when DRS no longer has them)."""
    home = {k: s for k, s in servers.items() if s["step"] == Step.HOME}
    commands: list[Command] = []
    if options.get("restartReplication"):
        commands += [
            Protect(k, s["target"]) for k, s in sorted(home.items()) if not s.get("protected")
        ]
    if options.get("terminateRecoveryInstances"):
        left: dict[str | None, list[str]] = {}
        for server in home.values():
            if seen.instances.get(server["instance"], InstanceView()) is not None:
                left.setdefault(server["target"], []).append(server["instance"])
        commands += [
            Terminate(target, tuple(sorted(instances)))
            for target, instances in sorted(left.items(), key=lambda t: str(t[0]))
        ]
    return commands


def record_protected(item: dict[str, Any], server: str) -> dict[str, Any]:
    """Forward replication restarted on ``server`` (DRS answered)."""
    servers = copy.deepcopy(item["failback"])
    servers[server]["protected"] = True
    return {"failback": servers}


def record_reversed(item: dict[str, Any], server: str, reversed_arn: str) -> dict[str, Any]:
    """What DRS answered a reverse replication: the reversed server in the origin."""
    servers = copy.deepcopy(item["failback"])
    servers[server]["reversedServer"] = reversed_arn.rsplit("/", 1)[-1]
    return {"failback": servers}


def launch_place(server: dict[str, Any]) -> str | None:
    """Where a server's failback launches (a DRS target key, None: home): its origin
    (from AWS), else the target it runs in."""
    origin = server.get("origin")
    if origin:
        return None if origin == HOME else str(origin)
    return server.get("target")


def record_launch(item: dict[str, Any], batch: str, job_id: str) -> dict[str, Any]:
    """The job a batch's launch started (from its answer, or found by its batch tag), on
    its servers, on their wave and in the execution's ``jobs``: there the finder follows it
    like any job (its status, and its log recorded once as job events, which the report
    lists) while the servers' steps stay the failback core's (``FAILBACK_JOB``)."""
    servers = copy.deepcopy(item["failback"])
    launched = set()
    for server_id, server in servers.items():
        if server.get("batch") == batch and server["step"] == Step.LAUNCH_INTENDED:
            _step(server, Step.LAUNCHING, jobId=job_id)
            launched.add(server_id)
    waves = copy.deepcopy(item["waves"])
    wave_name = ""
    for wave in waves:
        if launched & set(wave["servers"]):
            wave_name = wave["name"]
            if job_id not in wave.setdefault("jobIds", []):
                wave["jobIds"].append(job_id)
    changes: dict[str, Any] = {"failback": servers, "waves": waves}
    jobs = item.get("jobs") or {}
    if launched and job_id not in jobs:
        first = servers[min(launched)]
        job: dict[str, Any] = {
            "jobId": job_id,
            "type": FAILBACK_JOB,
            "status": "PENDING",
            "waveName": wave_name,
            "servers": sorted(launched),
        }
        place = launch_place(first)
        if place:
            job["target"] = place
        changes["jobs"] = {**copy.deepcopy(jobs), job_id: job}
    return changes


def batches_in_doubt(item: dict[str, Any]) -> set[str]:
    """Batches whose launch was asked for but whose job is not recorded: the shell looks
    for their job by its tag before asking again (nothing launched is lost)."""
    return {s["batch"] for s in item["failback"].values() if s["step"] == Step.LAUNCH_INTENDED}


# -- steps ---------------------------------------------------------------------------------


def _step(server: dict[str, Any], step: Step, **details: Any) -> None:
    current = Step(server["step"])
    if step != current and step not in STEPS[current]:
        msg = f"failback step {current} -> {step} is not allowed"
        raise ValueError(msg)
    server.update(step=step.value, **details)


def _replicate_back(wave: dict[str, Any], servers: dict[str, Any]) -> list[Command]:
    commands: list[Command] = []
    for server_id in wave["servers"]:
        server = servers[server_id]
        if server.get("origin"):
            _step(server, Step.REVERSE_INTENDED)
            commands.append(ReverseReplication(server_id, server["instance"], server["target"]))
        else:
            _step(server, Step.AWAITING_CLIENT)
    return commands


def _follow_replication(
    wave: dict[str, Any], servers: dict[str, Any], seen: Observations
) -> list[Command]:
    """Each server's replication back as DRS sees it; a reverse replication not yet
    confirmed is asked again (idempotent)."""
    commands: list[Command] = []
    for server_id in wave["servers"]:
        server = servers[server_id]
        step = Step(server["step"])
        if step not in (Step.REVERSE_INTENDED, Step.AWAITING_CLIENT, Step.REPLICATING, Step.READY):
            continue
        if server["instance"] not in seen.instances:
            continue  # not observed this tick
        view = seen.instances[server["instance"]]
        if view is None:
            _step(server, Step.FAILED, reason=f"its recovery instance {server['instance']} is gone")
        elif view.state == FAILBACK_ERROR:
            why = bounded(str(view.error))
            _step(server, Step.FAILED, reason=f"failback replication failed: {why}")
        elif view.state == READY_FOR_LAUNCH:
            _step(server, Step.READY)
        elif view.state in ("FAILBACK_IN_PROGRESS", "FAILBACK_NOT_READY_FOR_LAUNCH"):
            _step(server, Step.REPLICATING)  # or back to it: the data drifted again
        lost = not server.get("reversedServer")
        stopped = view is not None and view.state == "FAILBACK_NOT_STARTED"
        if server.get("origin") and server["step"] != Step.FAILED and (lost or stopped):
            # The answer naming the reversed server was lost (DRS answers the same server
            # again: the launch needs it), or the failback was stopped by hand: asked again.
            commands.append(ReverseReplication(server_id, server["instance"], server["target"]))
    return commands


def _ready(server: dict[str, Any]) -> bool:
    """Ready for launch, and (from AWS) its reversed server known."""
    return server["step"] == Step.READY and (
        not server.get("origin") or bool(server.get("reversedServer"))
    )


def _launch(execution_id: str, wave: dict[str, Any], servers: dict[str, Any]) -> list[Command]:
    """The wave's launch: one batch per DRS target (on premises) or origin (AWS)."""
    wave["status"] = transition(W(wave["status"]), W.LAUNCHING).value
    groups: dict[tuple[str, str | None], list[str]] = {}
    for server_id in wave["servers"]:
        server = servers[server_id]
        where = (
            ("origin", server["origin"]) if server.get("origin") else ("target", server["target"])
        )
        groups.setdefault(where, []).append(server_id)
    commands: list[Command] = []
    for (kind, where), members in sorted(groups.items(), key=lambda g: (g[0][0], str(g[0][1]))):
        batch = f"{execution_id}-{wave['name']}-{kind}-{where or 'home'}".replace("/", "-")
        for server_id in members:
            _step(servers[server_id], Step.LAUNCH_INTENDED, batch=batch)
        if kind == "origin" and where:
            reversed_ids = tuple(servers[s].get("reversedServer", "") for s in members)
            commands.append(OriginLaunch(batch, where, reversed_ids))
        else:
            commands.append(
                FailbackLaunch(batch, where, tuple(servers[s]["instance"] for s in members))
            )
    return commands


def _follow_launch(wave: dict[str, Any], servers: dict[str, Any], seen: Observations) -> None:
    """Each launching server home or failed, once its job ended."""
    for server_id in wave["servers"]:
        server = servers[server_id]
        job = seen.jobs.get(server.get("jobId", ""))
        if Step(server["step"]) != Step.LAUNCHING or job is None or job.status != "COMPLETED":
            continue
        launched_as = server.get("reversedServer") or server_id
        if job.servers.get(launched_as) == "LAUNCHED":
            _step(server, Step.HOME)
        else:
            status = job.servers.get(launched_as, "not in the job")
            _step(server, Step.FAILED, reason=f"its failback launch ended {status}")


def _home(execution_id: str, wave: dict[str, Any], now: str) -> list[Command]:
    """Every server of the wave is home: its actions start, or (none) it completes."""
    wave.update(status=transition(W(wave["status"]), W.LAUNCHED).value, launchedAt=now)
    if not wave.get("postActions"):
        wave.update(status=transition(W.LAUNCHED, W.COMPLETED).value, endedAt=now)
        return []
    actions.start_runs(wave, "post", now)
    wave["status"] = transition(W.LAUNCHED, W.POST_ACTIONS).value
    return _follow_actions(execution_id, wave, now)


def _follow_actions(execution_id: str, wave: dict[str, Any], now: str) -> list[Command]:
    """The wave's actions as SSM said: COMPLETED once all succeeded, FAILED naming the
    document that did not; runs not started yet are (re)started."""
    progress = actions.follow_runs(wave, "post", parse_drs_timestamp(now), execution_id)
    if progress.failure:
        wave.update(status=W.FAILED.value, endedAt=now, reason=f"home, but {progress.failure}")
    elif progress.done:
        wave.update(status=W.COMPLETED.value, endedAt=now)
    return list(progress.commands)


def _fail(wave: dict[str, Any], servers: dict[str, Any], failed: list[str], now: str) -> None:
    """The wave failed: its reason counts the servers not home by why and names the first
    few (bounded, ``domain/reasons.py``); each server's own reason stays on its record."""
    why = {s: servers[s].get("reason", "failed") for s in failed}
    wave.update(
        status=W.FAILED.value, endedAt=now, reason=bounded(servers_not_home(why), REASON_CHARS)
    )
