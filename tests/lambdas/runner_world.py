"""A small world for the pure core: an execution record with versions, DRS jobs with tags,
SSM automations, and a shell that carries out decisions the way ``WaveRunner`` does, with
the faults of the fault model injectable at each step. No AWS, no fake: just the promises
the real services make (DRS refuses a server already in an active job; a tag stays on its
job; a client token returns the same automation)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from drs_orchestrator.domain import actions
from drs_orchestrator.domain import runner as core
from drs_orchestrator.domain.timestamps import to_iso
from drs_orchestrator.services.executions import new_execution

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

#: How a StartRecovery call can go (the fault model, docs/RELIABILITY.md).
OUTCOMES = ("ok", "throttled", "quota", "lost", "crash-before", "crash-after", "refused")


def servers(prefix: str, count: int) -> list[str]:
    """``count`` source server ids, distinct per ``prefix``, shaped as DRS's."""
    return [f"s-{prefix}{n:0{17 - len(prefix)}d}" for n in range(count)]


#: The core tests' protection groups: one over 100 servers (two batches), two small.
GROUPS = {"big": servers("a", 150), "app": servers("b", 3), "web": servers("c", 2)}


class Crash(Exception):
    """The function died: nothing after this point of the tick happened."""


class World:
    def __init__(self, plan: Any, groups: dict[str, list[str]], failing: set[str] = frozenset()):
        self.now = START
        self.item = new_execution("ex-world", "plan-1", plan, groups, "DRILL", self._stamp())
        self.item["version"] = 1
        self.drs_jobs: dict[str, dict[str, Any]] = {}
        self.failing = set(failing)
        self.failing_documents: set[str] = set()
        #: When set, DRS refuses every StartRecovery with this error (an SCP's deny, say).
        self.refusal: str | None = None
        self.automations: dict[str, str] = {}
        self.history: list[str] = []
        self.tokens_woken = 0

    # -- the record ----------------------------------------------------------------------

    def _stamp(self) -> str:
        return self.now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def save(
        self,
        version: int,
        changes: dict[str, Any],
        new_jobs: dict[str, Any] | None = None,
        notifications: dict[str, Any] | None = None,
    ) -> None:
        if version != self.item["version"]:
            raise core_stale()
        self.item.update(copy.deepcopy(changes))
        for job_id, job in (new_jobs or {}).items():
            self.item["jobs"][job_id] = copy.deepcopy(job)
        self.item.setdefault("outbox", {}).update(copy.deepcopy(notifications or {}))
        self.item["version"] += 1

    # -- the services ----------------------------------------------------------------------

    def start_recovery(self, servers: tuple[str, ...], batch_id: str) -> dict[str, Any]:
        busy = {
            s["sourceServerID"]
            for j in self.drs_jobs.values()
            if j["status"] != "COMPLETED"
            for s in j["participatingServers"]
        }
        if busy & set(servers):
            raise DrsConflict
        job_id = f"drsjob-{len(self.drs_jobs):017d}"
        self.drs_jobs[job_id] = {
            "jobID": job_id,
            "type": "LAUNCH",
            "status": "PENDING",
            "creationDateTime": self._stamp(),
            "tags": {core.BATCH_TAG: batch_id, "drs-orchestrator:execution": "ex-world"},
            "participatingServers": [
                {"sourceServerID": s, "launchStatus": "PENDING"} for s in servers
            ],
        }
        return copy.deepcopy(self.drs_jobs[job_id])

    def drs_progress(self) -> None:
        """Every DRS job moves one phase on."""
        for job in self.drs_jobs.values():
            if job["status"] == "PENDING":
                job["status"] = "STARTED"
            elif job["status"] == "STARTED":
                job["status"] = "COMPLETED"
                for server in job["participatingServers"]:
                    failed = server["sourceServerID"] in self.failing
                    server["launchStatus"] = "FAILED" if failed else "LAUNCHED"

    def finder_poll(self) -> None:
        """What the finder writes: job status and per-server launch status (versioned), for
        the jobs still running on the execution (``Execution.active_jobs``): a job recorded
        as COMPLETED is not polled again, as in the real finder."""
        for job_id, job in self.item["jobs"].items():
            drs = self.drs_jobs.get(job_id)
            if drs is None or job.get("status") == "COMPLETED":
                continue
            job["status"] = drs["status"]
            for server in drs["participatingServers"]:
                self.item["servers"][server["sourceServerID"]] = {
                    "sourceServerId": server["sourceServerID"],
                    "waveName": job["waveName"],
                    "jobId": job_id,
                    "launchStatus": server["launchStatus"],
                }
        self.item["version"] += 1

    # -- the operator ------------------------------------------------------------------------

    def resume(self) -> bool:
        if self.item["status"] != "PAUSED":
            return False
        for wave in self.item["waves"]:
            if wave["status"] == "AWAITING_APPROVAL":
                wave["approved"] = True
                wave["approvedAt"] = self._stamp()
        self.item["status"] = "RUNNING"
        self.item["version"] += 1
        return True

    def cancel(self) -> bool:
        if self.item["status"] not in ("PENDING", "RUNNING", "PAUSED"):
            return False
        self.item["status"] = "CANCELLING"
        self.item["version"] += 1
        return True

    # -- the shell -------------------------------------------------------------------------

    def tick(self, outcome: str = "ok", seconds: int = 30) -> core.Decision | None:
        """One tick as WaveRunner runs it, the first StartRecovery meeting ``outcome``."""
        self.now += timedelta(seconds=seconds)
        item = copy.deepcopy(self.item)
        observations = core.Observations()
        doubts = core.batches_in_doubt(item)
        if doubts:
            by_tag = {j["tags"].get(core.BATCH_TAG): j for j in self.drs_jobs.values()}
            observations.found_batches.update(
                {b["batchId"]: copy.deepcopy(by_tag.get(b["batchId"])) for b in doubts}
            )
        for run_id in actions.automations_to_check(item):
            observations.automations[run_id] = (self.automations[run_id], "")
        decision = core.decide(item, observations, self.now)
        if decision.changes:
            self.save(item["version"], decision.changes, decision.new_jobs, decision.notifications)
        try:
            for command in decision.commands:
                self._carry_out(command, outcome)
                outcome = "ok"
        except Crash:
            self.history.append("crash")
        return decision

    def _carry_out(self, command: core.Command, outcome: str) -> None:
        stamp = self._stamp()
        if isinstance(command, actions.StartAutomation):
            run_id = f"auto-{command.token[:8]}"
            failing = command.document in self.failing_documents
            self.automations.setdefault(run_id, "Failed" if failing else "Success")
            self._record(
                lambda i: actions.record_automation_started(
                    i, command.wave, command.phase, command.index, run_id
                ),
                {},
            )
            return
        if not isinstance(command, core.StartRecovery):
            return
        if outcome == "crash-before":
            raise Crash
        if outcome in ("throttled", "quota"):
            self._record(
                lambda i: core.record_not_started(
                    i, command.batch_id, outcome, refused=False, stamp=stamp
                ),
                {},
            )
            return
        if self.refusal is not None:
            refusal = self.refusal
            self._record(
                lambda i: core.record_not_started(
                    i, command.batch_id, refusal, refused=True, stamp=stamp
                ),
                {},
            )
            return
        if outcome == "refused":
            self._record(
                lambda i: core.record_not_started(
                    i, command.batch_id, "ValidationException", refused=True, stamp=stamp
                ),
                {},
            )
            return
        try:
            job = self.start_recovery(command.servers, command.batch_id)
        except DrsConflict:
            self._record(
                lambda i: core.record_in_doubt(
                    i, command.batch_id, "ConflictException", conflict=True
                ),
                {},
            )
            return
        if outcome == "lost":
            return
        if outcome == "crash-after":
            raise Crash
        changes, new_jobs = core.record_started(self.item, command.batch_id, job, stamp)
        self.save(self.item["version"], changes, new_jobs)

    def _record(self, change: Any, _unused: Any) -> None:
        self.save(self.item["version"], change(self.item))

    def run_to_end(self, max_steps: int = 400) -> None:
        """No more faults: DRS makes progress, the finder polls, the runner ticks, and a
        waiting approval is given, until the execution ends."""
        for _ in range(max_steps):
            if self.item["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
                return
            self.drs_progress()
            self.finder_poll()
            self.tick()
            self.resume()


class DrsConflict(Exception):
    """DRS's ConflictException: a server is already in an active job."""


def core_stale() -> Exception:
    from drs_orchestrator.adapters.dynamodb import StaleExecutionError

    return StaleExecutionError("version moved on")


# -- one decision at a time, as the edge and limit tests take them ---------------------------


def by_name(item: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The item's waves by name."""
    return {w["name"]: w for w in item["waves"]}


def decide(
    world: World,
    observations: core.Observations | None = None,
    seconds: int = 30,
    limits: core.Limits | None = None,
) -> core.Decision:
    """One decision on the world's item as the shell holds it, time moved on; the item
    itself must come out of it unchanged (the shell saves the changes, not the item)."""
    world.now += timedelta(seconds=seconds)
    held = copy.deepcopy(world.item)
    decision = core.decide(world.item, observations, world.now, limits)
    assert world.item == held, "the core changed the item it was given"
    return decision


def apply(world: World, decision: core.Decision) -> None:
    world.save(world.item["version"], decision.changes, decision.new_jobs, decision.notifications)


def stamp(world: World) -> str:
    """The world's time as the core stamps it."""
    return to_iso(world.now)
