"""The sandbox's clock: EventBridge schedules fire and simulated DRS jobs move on.

moto keeps EventBridge rules but never fires them. The clock reads each schedule rule from
moto whenever it is due, so a rule disabled (or re-scheduled) through the EventBridge API
takes effect at its next due time, as in AWS, and invokes the rule's Lambda targets at the
rule's rate in sandbox time.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from drsctl.sandbox.deploy import Pacing
    from drsctl.sandbox.drs import DrsSimulator

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int:
    """Seconds between firings of an EventBridge ``rate(...)`` expression."""
    match = _RATE.match(expression.strip())
    if not match:
        msg = f"the sandbox fires rate(...) schedules only, not {expression!r}"
        raise ValueError(msg)
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


@dataclass
class ScheduledRule:
    """One schedule rule of one deployment, and when it is next due."""

    name: str
    events: Any
    lambda_client: Any
    region: str
    due_at: float = 0.0
    firings: int = 0
    errors: list[str] = field(default_factory=list)


class Clock:
    """A thread that fires schedules and paces the DRS simulators until stopped."""

    def __init__(
        self,
        rules: Iterable[ScheduledRule],
        simulators: Iterable[DrsSimulator],
        pacing: Pacing,
        say: Callable[[str], None] = print,
        tick_seconds: float = 0.25,
    ) -> None:
        self.rules = list(rules)
        self._simulators = list(simulators)
        self._pacing = pacing
        self._say = say
        self._tick = tick_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-clock", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self._tick):
            for simulator in self._simulators:
                simulator.advance_due()
            for rule in self.rules:
                self._maybe_fire(rule)

    def _maybe_fire(self, rule: ScheduledRule) -> None:
        """Fire ``rule`` if it is due and enabled. The rule is read from moto only when due,
        once a period, so a disabled rule stops at its next due time, as in AWS."""
        now = time.monotonic()
        if now < rule.due_at:
            return
        described = rule.events.describe_rule(Name=rule.name)
        rule.due_at = now + self._pacing.seconds(rate_seconds(described["ScheduleExpression"]))
        if described.get("State") != "ENABLED":
            return
        rule.firings += 1
        event = {
            "version": "0",
            "id": f"sandbox-{rule.firings}",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": rule.region,
            "resources": [described["Arn"]],
            "detail": {},
        }
        for target in rule.events.list_targets_by_rule(Rule=rule.name)["Targets"]:
            answer = rule.lambda_client.invoke(
                FunctionName=target["Arn"], Payload=json.dumps(event).encode()
            )
            if answer.get("FunctionError"):
                problem = f"{rule.name} -> {target['Arn']}: {answer['Payload'].read().decode()}"
                rule.errors.append(problem)
                self._say(f"schedule error: {problem}")
