"""A wave's actions: the SSM Automation documents a wave runs before its launch (``pre``)
or once it has launched (``post``), as runs recorded on the wave and followed to their end.

One model for every kind of execution: a drill or a recovery runs its plan's pre- and
post-wave actions (``domain/runner.py``); a failback runs each wave's actions once the wave
is home (``domain/failback.py``). Each run is started with a ClientToken derived from the
execution, the wave, the phase and the action's index, so a start whose answer was lost,
or a function that died after it, starts the same automation again rather than a second
one; a run is followed until SSM says it ended, and a run that outlives its max wait fails
the wave, naming the document.

Pure: the wave (a dict as stored) is changed in place, commands come out.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drs_orchestrator.domain.reasons import bounded
from drs_orchestrator.domain.states import WaveStatus
from drs_orchestrator.domain.timestamps import parse_drs_timestamp

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

W = WaveStatus

SUCCEEDED_AUTOMATION = frozenset({"Success", "CompletedWithSuccess"})
ENDED_AUTOMATION = SUCCEEDED_AUTOMATION | {
    "TimedOut",
    "Cancelled",
    "Failed",
    "Rejected",
    "CompletedWithFailure",
    "Exited",
}
#: How long an action may run when the plan does not say.
DEFAULT_MAX_WAIT_SECONDS = 900
#: The wave statuses whose runs are still followed.
_FOLLOWED = (W.PRE_ACTIONS, W.POST_ACTIONS)


@dataclass(frozen=True)
class StartAutomation:
    """Start one action; ``token`` makes a repeated start the same run."""

    wave: str
    phase: str
    index: int
    document: str
    parameters: dict[str, list[str]]
    token: str


def action_token(execution_id: str, wave: str, phase: str, index: int) -> str:
    """The SSM ClientToken of one action: a retried start returns the same automation."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{execution_id}/{wave}/{phase}/{index}"))


def automations_to_check(item: Mapping[str, Any]) -> list[str]:
    """Automation runs started and not yet ended: the shell asks SSM for their status."""
    return [
        run["automationExecutionId"]
        for wave in item.get("waves", [])
        if wave["status"] in _FOLLOWED
        for run in wave.get("actionRuns", [])
        if run.get("automationExecutionId") and run["status"] not in ENDED_AUTOMATION
    ]


def start_runs(wave: dict[str, Any], phase: str, stamp: str) -> None:
    """Record a run, not yet started, for each of the wave's ``phase`` actions (runs of the
    other phase are kept); ``follow_runs`` starts them."""
    runs = [r for r in wave.get("actionRuns", []) if r["phase"] != phase]
    for index, action in enumerate(wave.get(f"{phase}Actions") or ()):
        runs.append(
            {
                "phase": phase,
                "index": index,
                "document": action["document"],
                "status": "Starting",
                "startedAt": stamp,
                "maxWaitSeconds": int(action.get("maxWaitSeconds", DEFAULT_MAX_WAIT_SECONDS)),
            }
        )
    wave["actionRuns"] = runs


def apply_statuses(waves: list[dict[str, Any]], automations: Mapping[str, tuple[str, str]]) -> None:
    """What SSM said of each run (automation id -> (status, failure message))."""
    for wave in waves:
        for run in wave.get("actionRuns", []):
            seen = automations.get(run.get("automationExecutionId", ""))
            if seen:
                run["status"], failure = seen
                if failure:
                    run["failure"] = bounded(failure)


@dataclass(frozen=True)
class Progress:
    """Where a wave's runs of one phase stand after ``follow_runs``."""

    #: Every run of the phase succeeded.
    done: bool
    #: Why the wave fails (a run ended badly, or outlived its max wait); None otherwise.
    failure: str | None
    #: Runs to start (again): their token makes a repeat the same automation.
    commands: tuple[StartAutomation, ...]


def follow_runs(wave: dict[str, Any], phase: str, now: datetime, execution_id: str) -> Progress:
    """The wave's ``phase`` runs as SSM last said: done, failed (the first run that ended
    badly or waited past its max wait, by document), or still going, with the runs not yet
    started to (re)start."""
    commands: list[StartAutomation] = []
    done = True
    for run in wave.get("actionRuns", []):
        if run["phase"] != phase or run["status"] in SUCCEEDED_AUTOMATION:
            continue
        label = f"{phase}-wave action {run['document']}"
        if run["status"] in ENDED_AUTOMATION:
            failure = f": {run['failure']}" if run.get("failure") else ""
            return Progress(False, f"{label} ended {run['status']}{failure}", ())
        waited = (now - parse_drs_timestamp(run["startedAt"])).total_seconds()
        if waited > run["maxWaitSeconds"]:
            return Progress(
                False,
                f"{label} still {run['status']} after its max wait of {run['maxWaitSeconds']} s",
                (),
            )
        if not run.get("automationExecutionId"):
            action = wave[f"{phase}Actions"][run["index"]]
            commands.append(
                StartAutomation(
                    wave["name"],
                    phase,
                    run["index"],
                    action["document"],
                    {k: list(v) for k, v in (action.get("parameters") or {}).items()},
                    action_token(execution_id, wave["name"], phase, run["index"]),
                )
            )
        done = False
    return Progress(done, None, tuple(commands))


def record_automation_started(
    item: Mapping[str, Any], wave_name: str, phase: str, index: int, run_id: str
) -> dict[str, Any]:
    """The automation SSM started for one run (the changes to save)."""
    waves = copy.deepcopy(list(item["waves"]))
    for wave in waves:
        if wave["name"] != wave_name:
            continue
        for run in wave.get("actionRuns", []):
            if run["phase"] == phase and run.get("index") == index:
                run["automationExecutionId"] = run_id
                if run["status"] == "Starting":
                    run["status"] = "Pending"
    return {"waves": waves}
