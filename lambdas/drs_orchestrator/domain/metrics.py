"""The orchestrator's own metrics: what each function tells CloudWatch about itself, in the
namespace the deployment's alarms and dashboard read (``infra/components/observability.py``
uses these names, so the two cannot disagree about a spelling).

Pure: an ended execution or a finder's counts in, metrics out. The handlers emit them in
CloudWatch's embedded metric format through Powertools (``adapters/telemetry.py``), with
the deployment and the function's service as dimensions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drs_orchestrator.domain.timestamps import parse_drs_timestamp

NAMESPACE = "DRSOrchestrator"

#: An execution ended (dimensions: Status, Mode).
EXECUTIONS_ENDED = "ExecutionsEnded"
#: A completed execution's recovery time, start to last wave ready.
RECOVERY_TIME = "RecoveryTime"
#: How long a dependent wave waited to start once it could (its dependencies ready and,
#: if paused before, approved): what event-driven waves keep to seconds.
WAVE_START_DELAY = "WaveStartDelay"
#: Executions the janitor had to end because their state machine could not.
EXECUTIONS_HEALED = "ExecutionsHealed"
#: Executions a finder poll could not bring up to date.
POLL_FAILURES = "PollFailures"
#: Finished executions whose report was stored.
REPORTS_STORED = "ReportsStored"
#: AWS calls made, and answers throttled (each attempt), per service (dimension Service).
AWS_CALLS = "AwsCalls"
AWS_THROTTLED = "AwsThrottled"


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: str = "Count"  # or "Seconds"
    dimensions: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def _seconds(later: str, earlier: str) -> float:
    return max(0.0, (parse_drs_timestamp(later) - parse_drs_timestamp(earlier)).total_seconds())


def wave_start_delays(item: dict[str, Any]) -> list[float]:
    """Per dependent wave that started: seconds from when it could start (its last
    dependency ready; its approval, if it waited for one) to its start."""
    waves = {w["name"]: w for w in item.get("waves") or ()}
    delays = []
    for wave in waves.values():
        dependencies = [waves[d] for d in wave.get("dependsOn") or () if d in waves]
        if not wave.get("startedAt") or not dependencies:
            continue
        ready = [d.get("endedAt") for d in dependencies]
        if not all(ready):
            continue
        could = max(str(r) for r in ready)
        if wave.get("approvedAt"):
            could = max(could, str(wave["approvedAt"]))
        delays.append(_seconds(str(wave["startedAt"]), could))
    return delays


def execution_ended(item: dict[str, Any]) -> list[Metric]:
    """What an execution's end tells: that it ended and how, its recovery time, and how
    long each dependent wave waited to start."""
    found = [
        Metric(
            EXECUTIONS_ENDED,
            1,
            dimensions=(("Status", str(item["status"])), ("Mode", str(item.get("mode", "")))),
        )
    ]
    measured = item.get("recoveryTime") or {}
    if measured.get("seconds") is not None:
        found.append(Metric(RECOVERY_TIME, float(measured["seconds"]), "Seconds"))
    found += [Metric(WAVE_START_DELAY, d, "Seconds") for d in wave_start_delays(item)]
    return found


def finder_counts(poll: dict[str, Any], janitor: dict[str, Any]) -> list[Metric]:
    """What a finder invocation tells: polls that failed, executions healed, reports."""
    return [
        Metric(POLL_FAILURES, float(poll.get("executions_failed", 0))),
        Metric(EXECUTIONS_HEALED, float(janitor.get("ended", 0))),
        Metric(REPORTS_STORED, float(janitor.get("reports_stored", 0))),
    ]


def aws_calls(counts: dict[str, dict[str, int]]) -> list[Metric]:
    """Calls and throttled answers per service, from ``adapters/telemetry.drain``."""
    found = []
    for service, counted in sorted(counts.items()):
        found.append(Metric(AWS_CALLS, counted.get("calls", 0), dimensions=(("Service", service),)))
        found.append(
            Metric(AWS_THROTTLED, counted.get("throttled", 0), dimensions=(("Service", service),))
        )
    return found
