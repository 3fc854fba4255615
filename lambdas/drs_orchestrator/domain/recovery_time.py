"""Recovery time: what an execution took against the objective its plan states.

A plan may state a recovery time objective (``recoveryTimeObjectiveMinutes``); an
execution copies it when it starts. When the execution completes, the core records its
actual recovery time — from its start to its last wave ready (``COMPLETED``: launched and
its post-wave actions passed) — as ``recoveryTime`` on the item: a few numbers, because an
execution item of 500 servers is already near DynamoDB's limit. Per-wave timings are not
stored again: they follow from the stamps every wave already carries (``startedAt``,
``pausedAt``, ``approvedAt``, ``launchedAt``, ``endedAt``) and are worked out here for the
API and the report. A run over its objective is flagged and notified.

Pure: times in, numbers out.
"""

from __future__ import annotations

from typing import Any

from drs_orchestrator.domain.states import WaveStatus
from drs_orchestrator.domain.timestamps import parse_drs_timestamp

#: The notification queued when a completed execution took longer than its objective.
OVER_OBJECTIVE = "over recovery time objective"


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return round((parse_drs_timestamp(end) - parse_drs_timestamp(start)).total_seconds(), 3)


def recovery_time(item: dict[str, Any], waves: list[dict[str, Any]], ended_at: str) -> dict:
    """The ``recoveryTime`` of an execution completing at ``ended_at``: its seconds from
    start to the last wave ready, and, when its plan states an objective, the objective in
    seconds and whether it was exceeded."""
    ready = [w["endedAt"] for w in waves if w.get("endedAt")] or [ended_at]
    last = max(ready, key=parse_drs_timestamp)
    measured: dict[str, Any] = {"seconds": _seconds(item["startedAt"], last) or 0.0}
    objective = item.get("recoveryTimeObjectiveMinutes")
    if objective:
        measured["objectiveSeconds"] = int(objective) * 60
        measured["overObjective"] = measured["seconds"] > measured["objectiveSeconds"]
    return measured


def wave_timings(item: dict[str, Any]) -> list[dict[str, Any]]:
    """Per wave, in seconds: when it started after the execution did (``startedAfter``),
    how long it waited for approval, how long its launch took (start to every server
    launched), and when it was ready after the execution started (``readyAfter``). A
    figure whose stamps are not there yet (the wave has not got that far) is left out."""
    started = item["startedAt"]
    timings = []
    for wave in item["waves"]:
        figures = {
            "startedAfter": _seconds(started, wave.get("startedAt")),
            "awaitingApproval": _seconds(wave.get("pausedAt"), wave.get("approvedAt")),
            "launch": _seconds(wave.get("startedAt"), wave.get("launchedAt")),
            "readyAfter": _seconds(started, wave.get("endedAt"))
            if wave.get("status") == WaveStatus.COMPLETED
            else None,
        }
        timings.append(
            {"wave": wave["name"], **{k: v for k, v in figures.items() if v is not None}}
        )
    return timings
