"""The wave runner: every decision of a recovery execution, one tick at a time.

The state machine only calls ``start``, then ``tick`` in a loop with a wait between, and
``await_approval`` when a wave must be approved. Each tick reads the execution item, which
is the single source of truth for job and server progress: the execution finder writes it
from DRS on its schedule. If those writes are late (the schedule stopped, or is slower than
the runner), the tick polls DRS for its own execution with the finder's code, so progress
is recorded the same way either way and nothing is missed.

A wave starts when every wave it depends on has LAUNCHED; independent waves run at the same
time. A wave is LAUNCHED when all its DRS jobs completed with every server LAUNCHED; a
server that does not launch fails its wave and the execution, and no later wave starts.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from drs_orchestrator.adapters.dynamodb import StaleExecutionError
from drs_orchestrator.domain.plans import job_batches
from drs_orchestrator.domain.states import (
    TERMINAL_EXECUTION,
    WAVE_HAS_LAUNCHED,
    ExecutionStatus,
    WaveStatus,
    transition,
)
from drs_orchestrator.domain.timestamps import parse_drs_timestamp, to_iso
from drs_orchestrator.errors import DrsError, DrsThrottledError, OrchestratorError

if TYPE_CHECKING:
    from collections.abc import Callable

    from drs_orchestrator.adapters.drs import DrsGateway
    from drs_orchestrator.adapters.dynamodb import ExecutionRecords
    from drs_orchestrator.adapters.notifications import Notifier
    from drs_orchestrator.adapters.ssm import Automations
    from drs_orchestrator.services.execution_finder import ExecutionFinder

E, W = ExecutionStatus, WaveStatus
SAVE_ATTEMPTS = 5


class UnsupportedWaveError(OrchestratorError):
    """Raised for a wave feature this runner cannot carry out yet."""


@dataclass
class TickResult:
    status: str
    waitSeconds: int  # noqa: N815 - the state machine reads this name

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "waitSeconds": self.waitSeconds}


class WaveRunner:
    def __init__(
        self,
        records: ExecutionRecords,
        drs: DrsGateway,
        notifier: Notifier,
        finder: ExecutionFinder,
        deployment: str,
        automations: Automations | None = None,
        poll_seconds: int = 30,
        stale_after_seconds: int = 90,
        logger: logging.Logger | Any = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._records = records
        self._drs = drs
        self._notifier = notifier
        self._finder = finder
        self._automations = automations
        self._deployment = deployment
        self._poll_seconds = poll_seconds
        self._stale_after = timedelta(seconds=stale_after_seconds)
        self._logger = logger or logging.getLogger(__name__)
        self._clock = clock

    # -- entry points ------------------------------------------------------------------

    def start(self, execution_id: str) -> dict[str, Any]:
        item = self._load(execution_id)
        if item["status"] == E.PENDING:
            now = to_iso(self._clock())
            self._records.save(
                execution_id,
                item["version"],
                {"status": transition(E.PENDING, E.RUNNING), "updatedAt": now, "runStartedAt": now},
            )
            item = self._load(execution_id)
            self._notifier.publish("started", item)
        return self.tick(execution_id)

    def await_approval(self, execution_id: str, task_token: str) -> dict[str, Any]:
        """Keep the token the API needs to resume the state machine."""
        for _ in range(SAVE_ATTEMPTS):
            item = self._load(execution_id)
            try:
                self._records.save(execution_id, item["version"], {"taskToken": task_token})
            except StaleExecutionError:
                continue
            if item["status"] != E.PAUSED:
                # Resumed or cancelled between the tick and this call: wake the machine.
                return {"status": item["status"], "wakeNow": True}
            return {"status": item["status"]}
        msg = f"execution {execution_id} kept changing; could not store the task token"
        raise OrchestratorError(msg)

    def tick(self, execution_id: str) -> dict[str, Any]:
        for _ in range(SAVE_ATTEMPTS):
            try:
                return self._tick_once(execution_id).as_dict()
            except StaleExecutionError:
                self._logger.info("execution changed during the tick; reading it again")
                time.sleep(0.05)
        msg = f"execution {execution_id} kept changing during the tick"
        raise OrchestratorError(msg)

    # -- one tick ----------------------------------------------------------------------

    def _load(self, execution_id: str) -> dict[str, Any]:
        item = self._records.get(execution_id)
        if item is None:
            msg = f"execution {execution_id} does not exist"
            raise OrchestratorError(msg)
        return item

    def _fresh(self, item: dict[str, Any]) -> dict[str, Any]:
        """The item, polled now if waves are launching and the finder's data is stale."""
        launching = any(w["status"] == W.LAUNCHING for w in item["waves"])
        polled = item.get("lastPolledAt")
        stale = polled is None or self._clock() - parse_drs_timestamp(polled) >= self._stale_after
        if launching and stale:
            self._finder.poll_one(item)
            return self._load(item["executionId"])
        return item

    def _tick_once(self, execution_id: str) -> TickResult:
        item = self._fresh(self._load(execution_id))
        status = E(item["status"])
        if status in TERMINAL_EXECUTION:
            return TickResult(status, self._poll_seconds)
        waves = [dict(w) for w in item["waves"]]
        new_jobs: dict[str, dict[str, Any]] = {}
        events: list[tuple[str, dict[str, Any]]] = []
        now = to_iso(self._clock())

        for wave in waves:
            if wave["status"] == W.LAUNCHING:
                self._judge_launch(item, wave, now)
            elif wave["status"] == W.POST_ACTIONS:
                self._follow_actions(item, wave, "post", now)
            elif (
                wave["status"] == W.PRE_ACTIONS
                and status == E.RUNNING
                and self._follow_actions(item, wave, "pre", now)
            ):
                self._launch(item, wave, new_jobs, now)

        failed = [w for w in waves if w["status"] == W.FAILED]
        in_flight = any(w["status"] in (W.LAUNCHING, W.POST_ACTIONS) for w in waves)
        if failed and status != E.CANCELLING:
            # No wave starts after a failure; waves already launching are followed to the
            # end so their job events are still recorded, then the execution fails.
            self._skip_pending(waves, now)
            if not in_flight:
                status = transition(status, E.FAILED)
                events.append(
                    ("failed", {"wave": failed[0]["name"], "reason": failed[0].get("reason")})
                )
        elif status == E.CANCELLING:
            self._skip_pending(waves, now)
            if not in_flight:
                status = transition(status, E.CANCELLED)
                events.append(("cancelled", {}))
        elif status == E.RUNNING:
            status = self._start_ready(item, waves, new_jobs, events, now)
            if all(w["status"] == W.COMPLETED for w in waves):
                status = transition(status, E.COMPLETED)
                events.append(("completed", {}))

        changes: dict[str, Any] = {"waves": waves, "status": status, "updatedAt": now}
        if status in TERMINAL_EXECUTION:
            changes["endedAt"] = now
        self._records.save(execution_id, item["version"], changes, new_jobs)
        for event, details in events:
            self._notifier.publish(event, {**item, "status": status}, **details)
        return TickResult(status, self._poll_seconds)

    def _judge_launch(self, item: dict[str, Any], wave: dict[str, Any], now: str) -> None:
        """LAUNCHED when every job completed with every server LAUNCHED; FAILED otherwise."""
        jobs = item.get("jobs") or {}
        servers = item.get("servers") or {}
        wave_jobs = [jobs.get(job_id) or {} for job_id in wave["jobIds"]]
        started = {
            s for job_id in wave["jobIds"] for s in (jobs.get(job_id) or {}).get("servers", [])
        }
        if started != set(wave["servers"]) or not all(
            j.get("status") == "COMPLETED" for j in wave_jobs
        ):
            return
        not_launched = {
            s: (servers.get(s) or {}).get("launchStatus", "UNKNOWN")
            for s in wave["servers"]
            if (servers.get(s) or {}).get("launchStatus") != "LAUNCHED"
        }
        if not_launched:
            wave["status"] = transition(W(wave["status"]), W.FAILED)
            wave["reason"] = "servers did not launch: " + ", ".join(
                f"{s} ({status})" for s, status in sorted(not_launched.items())
            )
            wave["endedAt"] = now
            return
        wave["status"] = transition(W(wave["status"]), W.LAUNCHED)
        wave["launchedAt"] = now
        if wave.get("postActions"):
            self._start_actions(item, wave, "post", now)
        else:
            wave["status"] = transition(W.LAUNCHED, W.COMPLETED)
            wave["endedAt"] = now

    # -- pre- and post-wave actions (SSM Automation) ---------------------------------------

    def _start_actions(
        self, item: dict[str, Any], wave: dict[str, Any], phase: str, now: str
    ) -> None:
        """Start every action of ``phase``; the wave waits in PRE_ or POST_ACTIONS."""
        if self._automations is None:
            msg = "this runner has no SSM gateway for pre/post wave actions"
            raise UnsupportedWaveError(msg)
        runs = [r for r in wave.get("actionRuns", []) if r["phase"] != phase]
        for index, action in enumerate(wave[f"{phase}Actions"]):
            token = str(
                uuid.uuid5(
                    uuid.NAMESPACE_URL, f"{item['executionId']}/{wave['name']}/{phase}/{index}"
                )
            )
            run_id = self._automations.start(
                action["document"],
                {k: list(v) for k, v in (action.get("parameters") or {}).items()},
                token,
            )
            runs.append(
                {
                    "phase": phase,
                    "document": action["document"],
                    "automationExecutionId": run_id,
                    "status": "Pending",
                    "startedAt": now,
                    "maxWaitSeconds": int(action.get("maxWaitSeconds", 900)),
                }
            )
        wave["actionRuns"] = runs
        target = W.PRE_ACTIONS if phase == "pre" else W.POST_ACTIONS
        wave["status"] = transition(W(wave["status"]), target)

    def _follow_actions(
        self, item: dict[str, Any], wave: dict[str, Any], phase: str, now: str
    ) -> bool:
        """True once every action of ``phase`` succeeded; fails the wave on a failure or a
        wait longer than the action's max wait."""
        if self._automations is None:  # actions are started only with a gateway
            msg = "this runner has no SSM gateway for pre/post wave actions"
            raise UnsupportedWaveError(msg)
        from drs_orchestrator.adapters.ssm import ENDED, SUCCEEDED

        moment = parse_drs_timestamp(now)
        done = True
        for run in wave.get("actionRuns", []):
            if run["phase"] != phase or run["status"] in SUCCEEDED:
                continue
            run["status"], failure = self._automations.status(run["automationExecutionId"])
            if run["status"] in SUCCEEDED:
                continue
            waited = (moment - parse_drs_timestamp(run["startedAt"])).total_seconds()
            if run["status"] in ENDED or waited > run["maxWaitSeconds"]:
                reason = (
                    f"{phase}-wave action {run['document']} ended {run['status']}"
                    + (f": {failure}" if failure else "")
                    if run["status"] in ENDED
                    else f"{phase}-wave action {run['document']} still {run['status']} after "
                    f"its max wait of {run['maxWaitSeconds']} s"
                )
                wave["status"] = transition(W(wave["status"]), W.FAILED)
                wave["reason"] = reason
                wave["endedAt"] = now
                return False
            done = False
        if done and phase == "post":
            wave["status"] = transition(W(wave["status"]), W.COMPLETED)
            wave["endedAt"] = now
        return done

    def _skip_pending(self, waves: list[dict[str, Any]], now: str) -> None:
        for wave in waves:
            if wave["status"] in (W.PENDING, W.AWAITING_APPROVAL, W.PRE_ACTIONS):
                wave["status"] = transition(W(wave["status"]), W.SKIPPED)
                wave["endedAt"] = now

    def _start_ready(
        self,
        item: dict[str, Any],
        waves: list[dict[str, Any]],
        new_jobs: dict[str, dict[str, Any]],
        events: list,
        now: str,
    ) -> ExecutionStatus:
        status = E.RUNNING
        by_name = {w["name"]: w for w in waves}
        for wave in waves:
            ready = all(
                by_name[d]["status"] in WAVE_HAS_LAUNCHED for d in wave.get("dependsOn", [])
            )
            waiting = wave["status"] == W.PENDING or (
                wave["status"] == W.AWAITING_APPROVAL and wave.get("approved")
            )
            if not (ready and waiting):
                continue
            if wave.get("pauseBefore") and not wave.get("approved"):
                wave["status"] = transition(W(wave["status"]), W.AWAITING_APPROVAL)
                wave.setdefault("pausedAt", now)
                status = transition(status, E.PAUSED)
                events.append(("waiting for approval", {"wave": wave["name"]}))
                break
            if wave.get("preActions"):
                self._start_actions(item, wave, "pre", now)
                continue
            self._launch(item, wave, new_jobs, now)
        return status

    def _launch(
        self,
        item: dict[str, Any],
        wave: dict[str, Any],
        new_jobs: dict[str, dict[str, Any]],
        now: str,
    ) -> None:
        """Start a DRS job per batch of at most 100 servers not yet in a job of this wave."""
        jobs = {**(item.get("jobs") or {}), **new_jobs}
        covered = {
            s for job_id in wave["jobIds"] for s in (jobs.get(job_id) or {}).get("servers", [])
        }
        remaining = [s for s in wave["servers"] if s not in covered]
        tags = {
            "drs-orchestrator:deployment": self._deployment,
            "drs-orchestrator:execution": item["executionId"],
            "drs-orchestrator:wave": wave["name"],
        }
        for batch in job_batches(remaining):
            try:
                job = self._drs.start_recovery(batch, is_drill=item["mode"] == "DRILL", tags=tags)
            except DrsThrottledError:
                self._logger.warning(
                    "StartRecovery throttled; the next tick continues", extra={"wave": wave["name"]}
                )
                break
            except DrsError as exc:
                wave["status"] = transition(W(wave["status"]), W.FAILED)
                wave["reason"] = str(exc)
                wave["endedAt"] = now
                return
            new_jobs[job.job_id] = {
                "jobId": job.job_id,
                "waveName": wave["name"],
                "status": job.status,
                "type": job.job_type,
                "servers": batch,
                "createdAt": now,
            }
            wave["jobIds"] = [*wave["jobIds"], job.job_id]
            if wave["status"] != W.LAUNCHING:
                wave["status"] = transition(W(wave["status"]), W.LAUNCHING)
                wave["startedAt"] = now
