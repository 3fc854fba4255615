"""What one drill did, observed through the API, and put in a form two runs can be compared
in: names and order kept, ids and clock times dropped (times become seconds from start)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from drsctl.api_client import ApiClient

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}
#: Wave timestamps the runner writes, as the milestone each one marks.
WAVE_MILESTONES = (
    ("pausedAt", "paused for approval"),
    ("approvedAt", "approved"),
    ("startedAt", "started"),
    ("launchedAt", "launched"),
    ("endedAt", "ended"),
)


def _seconds(moment: str | None, origin: datetime) -> float | None:
    if not moment:
        return None
    return round(
        (datetime.fromisoformat(moment.replace("Z", "+00:00")) - origin).total_seconds(), 3
    )


@dataclass
class Trace:
    """One deployment's drill, normalised."""

    deployment: str
    execution_id: str
    status: str
    waves: dict[str, dict[str, Any]]
    wave_order: list[str]
    #: Every pair of waves that overlapped (one started before the other launched).
    overlaps: list[list[str]]
    #: Those of them the plan orders (one depends on the other, directly or through
    #: others): an overlap there broke a promise. Waves the plan leaves unordered may
    #: overlap or not by timing alone, so only these are compared.
    overlaps_out_of_order: list[list[str]]
    servers: dict[str, str]
    event_types: dict[str, list[str]]
    jobs_per_wave: dict[str, int]
    pauses: list[str]
    state_path: list[str] | None
    polling: list[str]
    durations: dict[str, float | None]
    milestones: list[tuple[float, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Observation:
    """What following an execution saw: the last item, its job events, and when each way of
    recording progress (``lastPolledBy``) was first seen, in seconds from the start."""

    item: dict[str, Any]
    events: list[dict[str, Any]]
    polled_by: list[tuple[float, str]]


def events_recorded(item: dict[str, Any]) -> int:
    """Job events recorded so far, as the execution counts them (no read of the events)."""
    return sum(int(job.get("eventCount", 0)) for job in item.get("jobs", {}).values())


def follow(
    api: ApiClient,
    execution_id: str,
    *,
    approve: bool = True,
    timeout: float = 1800,
    interval: float = 0.5,
    progress: Callable[[dict[str, Any]], None] = lambda _item: None,
) -> Observation:
    """Poll the execution until it and its DRS jobs are done, approving paused waves; read
    its job events once, at the end."""
    path = f"/executions/{execution_id}"
    started = time.monotonic()
    polled_by: list[tuple[float, str]] = []
    while True:
        item = api.call("GET", path)
        elapsed = round(time.monotonic() - started, 3)
        source = item.get("lastPolledBy")
        if source and source not in {s for _t, s in polled_by}:
            polled_by.append((elapsed, source))
        progress(item)
        waiting = any(w["status"] == "AWAITING_APPROVAL" for w in item["waves"])
        if item["status"] == "PAUSED" and waiting and approve:
            api.call("POST", f"{path}/resume")
            continue
        jobs_active = any(j.get("status") != "COMPLETED" for j in item.get("jobs", {}).values())
        if item["status"] in TERMINAL and not jobs_active:
            return Observation(item, api.all(f"{path}/job-events"), polled_by)
        if time.monotonic() - started > timeout:
            msg = f"{execution_id} still {item['status']} after {timeout:.0f} s"
            raise TimeoutError(msg)
        time.sleep(interval)


def collapse_loops(states: list[str]) -> list[str]:
    """A state path with each repeated cycle kept once (Wait, Tick, Route, Wait, Tick, Route
    -> Wait, Tick, Route): how many times a loop turns depends on timing, its shape does not."""
    path = list(states)
    changed = True
    while changed:
        changed = False
        for size in range(1, len(path) // 2 + 1):
            i = 0
            while i + 2 * size <= len(path):
                if path[i : i + size] == path[i + size : i + 2 * size]:
                    del path[i + size : i + 2 * size]
                    changed = True
                else:
                    i += 1
    return path


def ordered_pairs(waves: list[dict[str, Any]]) -> set[frozenset[str]]:
    """The pairs of waves the plan orders: one depends on the other, directly or through
    other waves (``dependsOn``)."""
    depends = {w["name"]: set(w.get("dependsOn") or ()) for w in waves}
    pairs: set[frozenset[str]] = set()
    for name in depends:
        seen: set[str] = set()
        todo = list(depends[name])
        while todo:
            before = todo.pop()
            if before in seen or before == name:
                continue
            seen.add(before)
            pairs.add(frozenset((name, before)))
            todo += depends.get(before, ())
    return pairs


def build_trace(deployment: str, observation: Observation, state_path: list[str] | None) -> Trace:
    item, events = observation.item, observation.events
    origin = datetime.fromisoformat(item["startedAt"].replace("Z", "+00:00"))
    waves = {
        w["name"]: {"status": w["status"], "servers": len(w["servers"]), "reason": w.get("reason")}
        for w in item["waves"]
    }
    started = [w for w in item["waves"] if w.get("startedAt")]
    paused = [w for w in item["waves"] if w.get("pausedAt")]
    order = [w["name"] for w in sorted(started, key=lambda w: (w["startedAt"], w["name"]))]
    overlaps = []
    for a in started:
        for b in started:
            if a["name"] < b["name"]:
                a_end = a.get("launchedAt") or a.get("endedAt") or item["updatedAt"]
                b_end = b.get("launchedAt") or b.get("endedAt") or item["updatedAt"]
                if a["startedAt"] < b_end and b["startedAt"] < a_end:
                    overlaps.append([a["name"], b["name"]])
    ordered = ordered_pairs(item["waves"])
    job_wave = {j["jobId"]: j.get("waveName", "") for j in item.get("jobs", {}).values()}
    types: dict[str, list[str]] = {}
    for event in sorted(events, key=lambda e: (e["logDateTime"], e["eventKey"])):
        wave = job_wave.get(event["jobId"], "")
        subject = event.get("sourceServerId") or f"job of wave {wave or '(terminate)'}"
        types.setdefault(subject, []).append(event["event"])
    polling = sorted(
        source
        for source, count in (
            ("schedule", item.get("schedulePolls", 0)),
            ("wave-runner", item.get("waveRunnerPolls", 0)),
        )
        if count
    )
    milestones: list[tuple[float, str]] = []
    for wave in item["waves"]:
        for key, label in WAVE_MILESTONES:
            at = _seconds(wave.get(key), origin)
            if at is not None:
                suffix = f" {wave['status']}" if label == "ended" else ""
                milestones.append((at, f"wave '{wave['name']}' {label}{suffix}"))
    milestones += [(t, f"progress first recorded by the {s}") for t, s in observation.polled_by]
    ended = _seconds(item.get("endedAt"), origin)
    if ended is not None:
        milestones.append((ended, f"execution ended {item['status']}"))
    milestones.sort(key=lambda m: (m[0], m[1]))
    durations = {"execution": _seconds(item.get("endedAt"), origin)}
    for wave in item["waves"]:
        start = _seconds(wave.get("startedAt"), origin)
        end = _seconds(wave.get("endedAt"), origin)
        durations[f"wave {wave['name']}"] = (
            round(end - start, 3) if start is not None and end is not None else None
        )
    return Trace(
        deployment=deployment,
        execution_id=item["executionId"],
        status=item["status"],
        waves=waves,
        wave_order=order,
        overlaps=overlaps,
        overlaps_out_of_order=[pair for pair in overlaps if frozenset(pair) in ordered],
        servers={s: v["launchStatus"] for s, v in sorted(item.get("servers", {}).items())},
        event_types=dict(sorted(types.items())),
        jobs_per_wave={w["name"]: len(w["jobIds"]) for w in item["waves"]},
        pauses=[w["name"] for w in sorted(paused, key=lambda w: (w["pausedAt"], w["name"]))],
        state_path=collapse_loops(state_path) if state_path is not None else None,
        polling=polling,
        durations=durations,
        milestones=milestones,
    )
