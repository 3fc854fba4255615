"""The wave runner: the imperative shell around the decisions of ``domain/runner.py``.

One tick: load the execution; observe (bring DRS progress up to date with the finder's code
while a wave launches, find again by their tag the launches whose outcome is in doubt,
ask SSM how running actions are doing); ``decide``; save the decision, conditional on the
version read; only then carry out its commands (``StartRecovery``, SSM starts), recording
each outcome as soon as it is known; publish the outbox; free the servers once ended.

A fault in any AWS call does not end a tick with an error: what could not be observed is
observed next tick, a save that failed changed nothing, a command whose outcome is unknown
stays INTENDED and is reconciled by its tag. Only an error the runner does not expect (a
bug) escapes, and the state machine retries the tick, then hands the execution to the
``finalise`` action, which writes the reason down.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from drs_orchestrator.adapters.dynamodb import StaleExecutionError
from drs_orchestrator.adapters.targets import as_gateways
from drs_orchestrator.domain import actions
from drs_orchestrator.domain import failback as failback_core
from drs_orchestrator.domain import runner as core
from drs_orchestrator.domain.states import TERMINAL_EXECUTION, ExecutionStatus
from drs_orchestrator.domain.targets import session_name
from drs_orchestrator.domain.timestamps import parse_drs_timestamp, to_iso
from drs_orchestrator.domain.wakeups import UNSEEN, woken_meanwhile
from drs_orchestrator.errors import (
    DrsAccessDeniedError,
    DrsError,
    DrsThrottledError,
    OrchestratorError,
    OutcomeUnknownError,
    StoreError,
    TargetUnreachableError,
)
from drs_orchestrator.services import executions
from drs_orchestrator.services.failback import FailbackShell

if TYPE_CHECKING:
    from collections.abc import Callable

    from drs_orchestrator.adapters.drs import DrsGateway
    from drs_orchestrator.adapters.dynamodb import ExecutionRecords, ServerHolds
    from drs_orchestrator.adapters.notifications import Notifier
    from drs_orchestrator.adapters.ssm import Automations
    from drs_orchestrator.adapters.stepfunctions import StateMachines
    from drs_orchestrator.adapters.targets import DrsGateways
    from drs_orchestrator.services.execution_finder import ExecutionFinder

E = ExecutionStatus
SAVE_ATTEMPTS = 8
#: How far before a batch's intent DescribeJobs looks for its job (clock skew margin).
RECONCILE_MARGIN_SECONDS = 300
#: Codes with which DRS refuses a launch for good (the request can never succeed as is).
REFUSAL_CODES = frozenset(
    {
        "ValidationException",
        "ResourceNotFoundException",
        "AccessDeniedException",
        "UninitializedAccountException",
    }
)


class UnsupportedWaveError(OrchestratorError):
    """Raised for a wave feature this runner cannot carry out (actions without SSM)."""


@dataclass
class TickResult:
    """What the state machine reads: the execution's status, where to go next, and how
    long to wait."""

    status: str
    route: str
    waitSeconds: int  # noqa: N815 - the state machine reads these names
    approvalTimeoutSeconds: int  # noqa: N815
    #: Ticks this state machine run has made (the machine counts; echoed back to it).
    ticks: int = 0
    #: Wake requests counted on the execution when this tick loaded it: the sleep that
    #: follows wakes itself at once if more came meanwhile (``domain/wakeups.py``).
    wakes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class WaveRunner:
    def __init__(
        self,
        records: ExecutionRecords,
        drs: DrsGateway | DrsGateways,
        notifier: Notifier,
        finder: ExecutionFinder,
        deployment: str,
        automations: Automations | None = None,
        holds: ServerHolds | None = None,
        machines: Callable[[str], StateMachines] | None = None,
        poll_seconds: int = 30,
        limits: core.Limits | None = None,
        logger: logging.Logger | Any = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_ended: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self._records = records
        #: Told once of each execution this runner ended (its metrics).
        self._on_ended = on_ended or (lambda _item: None)
        self._drs = as_gateways(drs)
        #: Failback executions (mode FAILBACK) tick through their own core.
        self._failback = FailbackShell(records, self._drs, clock, logger, automations)
        self._notifier = notifier
        self._finder = finder
        self._automations = automations
        self._holds = holds
        self._machines = machines
        self._deployment = deployment
        self._poll_seconds = poll_seconds
        self._limits = limits or core.Limits()
        self._logger = logger or logging.getLogger(__name__)
        self._clock = clock

    # -- entry points ------------------------------------------------------------------

    def start(self, execution_id: str, run: dict[str, Any] | None = None) -> dict[str, Any]:
        """The first tick of a state machine run (PENDING becomes RUNNING in the core)."""
        return self.tick(execution_id, run)

    def tick(self, execution_id: str, run: dict[str, Any] | None = None) -> dict[str, Any]:
        for _ in range(SAVE_ATTEMPTS):
            try:
                return self._tick_once(execution_id, run or {}).as_dict()
            except StaleExecutionError:
                self._logger.info("execution changed during the tick; deciding again")
                time.sleep(0.02)
            except StoreError as exc:
                # The table could not be read or written: nothing this tick decided took
                # effect before its save, so the next tick simply decides again.
                self._logger.warning(
                    "execution store unavailable; trying next tick", extra={"error": str(exc)}
                )
                break
        return TickResult(
            "UNKNOWN",
            core.Route.WAIT.value,
            self._poll_seconds,
            int(self._limits.approval_timeout.total_seconds()),
            int((run or {}).get("ticks", 0)),
            UNSEEN,
        ).as_dict()

    def await_approval(self, execution_id: str, task_token: str) -> dict[str, Any]:
        """Keep the token that resumes the machine. A resume that came first (the item is
        no longer PAUSED) is answered here by waking the machine at once, so no resume is
        lost whichever of the two writes lands first (``approval-exactly-once``). If that
        wake fails, the token is on the item and the janitor wakes the machine."""
        for _ in range(SAVE_ATTEMPTS):
            item = self._load(execution_id)
            try:
                self._records.save(execution_id, item["version"], {"taskToken": task_token})
            except StaleExecutionError:
                continue
            if item["status"] != E.PAUSED:
                woken = self._machines is not None and executions.wake_waiting_machine(
                    self._records, self._machines(""), execution_id, task_token
                )
                return {"status": item["status"], "woken": woken}
            return {"status": item["status"]}
        msg = f"execution {execution_id} kept changing; could not store the task token"
        raise OrchestratorError(msg)

    def sleep(self, execution_id: str, task_token: str, wakes_seen: int) -> dict[str, Any]:
        """Keep the token of the machine's sleep between ticks, so that a DRS launch result
        can end the sleep at once (``services/wakeups.py``); if a wake was requested since
        the last tick loaded the execution, end it now. Never fails for an AWS fault: a
        sleep that could not be recorded or ended simply lasts its poll interval."""
        try:
            wakes = self._records.sleeping(execution_id, task_token, to_iso(self._clock()))
        except OrchestratorError as exc:
            self._logger.warning(
                "could not record the sleep; it lasts the poll interval",
                extra={"error": str(exc)},
            )
            return {"asleep": False}
        if not woken_meanwhile(wakes, wakes_seen):
            return {"asleep": True, "wakes": wakes}
        woken = False
        if self._machines is not None:
            try:
                woken = self._machines("").wake(task_token)
            except OrchestratorError as exc:
                self._logger.warning(
                    "a wake came during the tick but the sleep could not be ended; it lasts "
                    "the poll interval",
                    extra={"error": str(exc)},
                )
        return {"asleep": not woken, "wakes": wakes}

    def finalise(self, execution_id: str, error: dict[str, Any] | None) -> dict[str, Any]:
        """End an execution whose state machine failed (``Catch`` on every task), writing
        the reason; then publish, and free its servers. Idempotent."""
        reason = finalise_reason(error)
        item, by_us = executions.end_with_reason(self._records, execution_id, reason, self._clock())
        if by_us:
            self._on_ended(item)
        self._after_end(item)
        return {"status": item["status"], "reason": item.get("reason", reason)}

    # -- one tick ----------------------------------------------------------------------

    def _load(self, execution_id: str) -> dict[str, Any]:
        item = self._records.get(execution_id)
        if item is None:
            msg = f"execution {execution_id} does not exist"
            raise OrchestratorError(msg)
        return item

    def _tick_once(self, execution_id: str, run: dict[str, Any]) -> TickResult:
        item = self._load(execution_id)
        # Wakes requested from here on are not covered by what this tick observes.
        run = {**run, "wakes": int(item.get("wakeRequests", 0))}
        if item.get("mode") == failback_core.MODE:
            return self._failback_tick(item, run)
        if E(item["status"]) in TERMINAL_EXECUTION:
            self._after_end(item)
            return self._result(item, core.decide(item, now=self._clock()).route, run)
        if item.get("taskToken"):
            # The machine is ticking, so the wait this token belonged to is over.
            self._records.mark(execution_id, remove_paths=(("taskToken",),))
        item = self._fresh(item)
        observations = self._observe(item)
        now = self._clock()
        decision = core.decide(item, observations, now, self._limits)
        changes = dict(decision.changes)
        if run.get("name"):
            changes["machineRun"] = run["name"]
        if core.is_quiet(item, decision, changes):
            # Nothing moved: a heartbeat only, leaving the version alone so that the
            # finder's versioned writes are not made stale by ticks that decide nothing.
            self._records.mark(execution_id, {"tickedAt": changes["tickedAt"]})
            self._flush_outbox(item)
            return self._result(item, decision.route, run)
        version = self._records.save(
            execution_id,
            item["version"],
            changes,
            decision.new_jobs,
            notifications=decision.notifications,
        )
        was_live = E(item["status"]) not in TERMINAL_EXECUTION
        item = merged(item, changes, decision.new_jobs, decision.notifications, version)
        for command in decision.commands:
            item = self._carry_out(item, command)
        if E(item["status"]) in TERMINAL_EXECUTION:
            if was_live:
                self._on_ended(item)  # this tick's versioned save ended it: once
            self._after_end(item)  # publishes the outbox, then frees the servers
        else:
            self._flush_outbox(item)
        route = decision.route
        if route == core.Route.WAIT and int(run.get("ticks", 0)) >= self._limits.ticks_per_run:
            route = self._continue_as_new(item, run)
        return self._result(item, route, run)

    def _failback_tick(self, item: dict[str, Any], run: dict[str, Any]) -> TickResult:
        was_live = E(item["status"]) not in TERMINAL_EXECUTION
        item, route = self._failback.tick(item)
        if E(item["status"]) in TERMINAL_EXECUTION:
            if was_live:
                self._on_ended(item)
            self._after_end(item)  # publishes the outbox, then frees the servers
        else:
            self._flush_outbox(item)
        return self._result(item, route, run)

    def _result(self, item: dict[str, Any], route: core.Route, run: dict[str, Any]) -> TickResult:
        return TickResult(
            status=item["status"],
            route=route.value,
            waitSeconds=self._poll_seconds,
            approvalTimeoutSeconds=core.approval_seconds_left(item, self._clock(), self._limits),
            ticks=int(run.get("ticks", 0)),
            wakes=int(run.get("wakes", 0)),
        )

    # -- observing ---------------------------------------------------------------------

    def _fresh(self, item: dict[str, Any]) -> dict[str, Any]:
        """The item, with DRS progress polled now (the finder's code, for this execution
        only) while a wave is launching and one of its jobs has not ended: the runner
        follows its own launches each tick, so a launch-result event that never arrives
        costs at most one sleep, not a finder poll plus a tick."""
        launching = any(w["status"] == "LAUNCHING" for w in item["waves"])
        unfinished = any(
            job.get("status") != "COMPLETED" for job in (item.get("jobs") or {}).values()
        )
        if not (launching and unfinished):
            return item
        try:
            self._finder.poll_one(item)
        except (OrchestratorError, StaleExecutionError) as exc:
            self._logger.warning(
                "could not poll DRS now; deciding on what is recorded", extra={"error": str(exc)}
            )
            return item
        return self._load(item["executionId"])

    def _observe(self, item: dict[str, Any]) -> core.Observations:
        session = session_name(item["executionId"], "wave-runner")
        reached: set[str] = set()
        unreachable: dict[str, str] = {}
        for key in core.targets_in_use(item):
            try:
                self._probe(item, key, session)
            except TargetUnreachableError as exc:
                unreachable[key] = exc.reason
            except DrsAccessDeniedError as exc:
                unreachable[key] = f"{exc.code}: {exc}"
            except OrchestratorError as exc:  # throttled, no answer: nothing learnt
                self._logger.warning(
                    "could not check a DRS target this tick",
                    extra={"target": key, "error": str(exc)},
                )
            else:
                reached.add(key)
        observations = core.Observations(reached=frozenset(reached), unreachable=unreachable)
        doubts_by_target: dict[str | None, list[dict[str, Any]]] = {}
        for batch in core.batches_in_doubt(item):
            doubts_by_target.setdefault(batch.get("target"), []).append(batch)
        for key, doubts in doubts_by_target.items():
            if key in unreachable:
                continue
            since = min(parse_drs_timestamp(b["intendedAt"]) for b in doubts)
            try:
                found = self._drs.of(key, session).jobs_tagged(
                    core.BATCH_TAG,
                    [b["batchId"] for b in doubts],
                    to_iso(since.fromtimestamp(since.timestamp() - RECONCILE_MARGIN_SECONDS, UTC)),
                )
            except OrchestratorError as exc:
                self._logger.warning(
                    "could not reconcile launches in doubt this tick",
                    extra={"target": key, "error": str(exc)},
                )
            else:
                observations.found_batches.update(
                    {b["batchId"]: found.get(b["batchId"]) for b in doubts}
                )
        observations.automations.update(
            executions.action_statuses(self._automations, item, self._logger)
        )
        return observations

    def _probe(self, item: dict[str, Any], key: str, session: str) -> None:
        """Check that target ``key`` can be reached: its role assumed (credentials are
        cached for the hour) and, while a job of the execution runs there, DRS answering
        for one of those jobs, so a role whose trust or permissions were taken away after
        the launch is noticed while the credentials last."""
        gateway = self._drs.of(key, session)
        running = [
            job_id
            for job_id, job in (item.get("jobs") or {}).items()
            if job.get("target") == key and job.get("status") != "COMPLETED"
        ]
        if running:
            gateway.describe_jobs(running[:1])

    # -- acting ------------------------------------------------------------------------

    def _carry_out(self, item: dict[str, Any], command: core.Command) -> dict[str, Any]:
        """Carry out one command; returns the item as it is after its outcome is recorded.
        (ReleaseHolds is done once the execution is known to have ended: _after_end.)"""
        if isinstance(command, core.StartRecovery):
            return self._start_recovery(item, command)
        if isinstance(command, actions.StartAutomation):
            return self._start_automation(item, command)
        return item

    def _start_recovery(self, item: dict[str, Any], command: core.StartRecovery) -> dict[str, Any]:
        tags = {
            "drs-orchestrator:deployment": self._deployment,
            "drs-orchestrator:execution": item["executionId"],
            "drs-orchestrator:wave": command.wave,
            core.BATCH_TAG: command.batch_id,
        }
        stamp = to_iso(self._clock())
        session = session_name(item["executionId"], "wave-runner")
        try:
            job = self._drs.of(command.target, session).start_recovery(
                list(command.servers),
                is_drill=command.is_drill,
                tags=tags,
                snapshots=dict(command.snapshots),
            )
        except TargetUnreachableError as exc:
            # No role, so DRS was never asked: certainly not launched.
            outcome = "deferred" if exc.transient else "refused"
            error = str(exc)
        except OutcomeUnknownError as exc:
            self._logger.warning(
                "StartRecovery outcome unknown; reconciled next tick",
                extra={"batch": command.batch_id, "error": str(exc)},
            )
            return item
        except DrsError as exc:
            outcome = launch_outcome(exc)
            error = str(exc)
        else:
            return self._record(
                item, lambda i: core.record_started(i, command.batch_id, job, stamp)
            )
        if outcome in ("deferred", "refused"):
            refused = outcome == "refused"
            return self._record(
                item,
                lambda i: (
                    core.record_not_started(
                        i, command.batch_id, error, refused=refused, stamp=stamp
                    ),
                    {},
                ),
            )
        conflict = outcome == "conflict"
        return self._record(
            item,
            lambda i: (core.record_in_doubt(i, command.batch_id, error, conflict=conflict), {}),
        )

    def _start_automation(
        self, item: dict[str, Any], command: actions.StartAutomation
    ) -> dict[str, Any]:
        if self._automations is None:
            msg = "this runner has no SSM gateway for pre/post wave actions"
            raise UnsupportedWaveError(msg)
        try:
            run_id = self._automations.start(command.document, command.parameters, command.token)
        except OrchestratorError as exc:
            self._logger.warning(
                "could not start an action; the next tick starts it again",
                extra={"document": command.document, "error": str(exc)},
            )
            return item
        return self._record(
            item,
            lambda i: (
                actions.record_automation_started(
                    i, command.wave, command.phase, command.index, run_id
                ),
                {},
            ),
        )

    def _record(
        self,
        item: dict[str, Any],
        change: Callable[[dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]],
    ) -> dict[str, Any]:
        """Apply an outcome to the item (read again if another writer came first) and
        return the item as saved. If it cannot be saved, the batch stays INTENDED and the
        next tick reconciles it: nothing is lost."""
        for _ in range(SAVE_ATTEMPTS):
            try:
                changes, new_jobs = change(item)
                version = self._records.save(
                    item["executionId"], item["version"], changes, new_jobs
                )
            except StaleExecutionError:
                item = self._load(item["executionId"])
                continue
            except OrchestratorError as exc:
                self._logger.warning(
                    "could not record an outcome; reconciled next tick", extra={"error": str(exc)}
                )
                return item
            return merged(item, changes, new_jobs, {}, version)
        return item

    def _flush_outbox(self, item: dict[str, Any]) -> None:
        """Publish what the outbox holds; what SNS refuses now is sent by a later tick or
        the janitor."""
        try:
            executions.publish_outbox(self._records, self._notifier, item)
        except OrchestratorError as exc:
            self._logger.warning(
                "notifications not all sent yet; sent again later", extra={"error": str(exc)}
            )

    def _after_end(self, item: dict[str, Any]) -> None:
        """An ended execution: publish what is queued and free its servers (again, if an
        earlier attempt died half-way; both are idempotent)."""
        self._flush_outbox(item)
        if self._holds is None:
            return
        try:
            executions.free_servers(self._records, self._holds, item)
        except OrchestratorError as exc:
            self._logger.warning(
                "servers not freed yet; the janitor frees them", extra={"error": str(exc)}
            )

    def _continue_as_new(self, item: dict[str, Any], run: dict[str, Any]) -> core.Route:
        """Hand the execution to a fresh state machine run before this one's history grows
        long (``long-runs-fit``). The successor's name is derived from this run's, so a
        repeated start is refused as already existing, never run twice."""
        if self._machines is None or not run.get("stateMachineArn") or not run.get("name"):
            return core.Route.WAIT
        successor = next_run_name(item["executionId"], run["name"])
        try:
            self._machines(run["stateMachineArn"]).start(
                item["executionId"], name=successor, already_started_ok=True
            )
            self._records.mark(item["executionId"], {"machineRun": successor})
        except OrchestratorError as exc:
            self._logger.warning(
                "could not hand over to a fresh run; trying next tick", extra={"error": str(exc)}
            )
            return core.Route.WAIT
        return core.Route.CONTINUE_AS_NEW


def merged(
    item: dict[str, Any],
    changes: dict[str, Any],
    new_jobs: dict[str, Any],
    notifications: dict[str, Any],
    version: int,
) -> dict[str, Any]:
    """The item as a successful save left it, without reading it back."""
    return {
        **item,
        **changes,
        "jobs": {**(item.get("jobs") or {}), **new_jobs},
        "outbox": {**(item.get("outbox") or {}), **notifications},
        "version": version,
    }


def launch_outcome(exc: DrsError) -> str:
    """What a StartRecovery error says about the launch, by its code: ``deferred``
    (throttled or quota full: certainly not launched, ask again), ``refused`` (can never
    succeed as asked), ``conflict`` (the servers are in a job: ours if an earlier answer
    was lost) or ``doubt`` (anything else: it may have launched)."""
    if isinstance(exc, DrsThrottledError):
        return "deferred"
    if exc.code == "ConflictException":
        return "conflict"
    if exc.code in REFUSAL_CODES or isinstance(exc, DrsAccessDeniedError):
        return "refused"
    return "doubt"


def next_run_name(execution_id: str, current: str) -> str:
    """``<execution>-r<n+1>`` after ``<execution>-r<n>`` (the first run is ``<execution>``)."""
    match = re.fullmatch(re.escape(execution_id) + r"-r(\d+)", current)
    number = int(match.group(1)) if match else 1
    return f"{execution_id}-r{number + 1}"


def finalise_reason(error: dict[str, Any] | None) -> str:
    """The reason ``Finalise`` records from the error its ``Catch`` passed on: the error's
    name and the start of its cause (``the state machine failed: Lambda.Unknown: ...``)."""
    error = error or {}
    if error.get("Error") == "States.Timeout":
        return "the state machine timed out waiting"
    named = f"{error.get('Error', 'error')}: {_cause(error.get('Cause'))}".strip(": ")
    return f"the state machine failed: {named}"


def _cause(cause: Any) -> str:
    text = str(cause or "")
    return text[:500]
