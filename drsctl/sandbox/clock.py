"""The sandbox's clock: EventBridge schedules fire and simulated DRS jobs move on.

moto keeps EventBridge rules but never fires them. The clock reads each schedule rule from
moto whenever it is due, so a rule disabled (or re-scheduled) through the EventBridge API
takes effect at its next due time, as in AWS, and invokes the rule's Lambda targets at the
rule's rate in sandbox time.

The clock never waits for a function and never stops for an error: each firing runs in a
thread of its own (one at a time per rule: a firing due while the last still runs is
counted as ``overlapped``, since the sandbox runs one environment per function and the
next would only queue behind it), and whatever fails — reading a rule, invoking a target,
advancing a simulator — is recorded in the sandbox's state (``errors``) and the clock goes
on. A readiness run slower than botocore's read timeout once killed the clock, after which
no schedule fired and no simulated DRS job moved.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.config import Config

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from drsctl.sandbox.deploy import Pacing
    from drsctl.sandbox.drs import DrsSimulator

#: How the clock invokes a schedule's targets: once (a retried read time-out would run the
#: function again), waiting as long as Lambda's longest time-out.
SCHEDULE_INVOKE_CONFIG = Config(read_timeout=905, retries={"total_max_attempts": 1})
#: Errors kept for the sandbox's state, per rule and for the clock (the newest).
KEPT_ERRORS = 20
#: How soon a rule whose read failed is read again (wall seconds).
RETRY_READ_SECONDS = 1.0

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int:
    """Seconds between firings of an EventBridge ``rate(...)`` expression."""
    match = _RATE.match(expression.strip())
    if not match:
        msg = f"the sandbox fires rate(...) schedules only, not {expression!r}"
        raise ValueError(msg)
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def _errors() -> deque[str]:
    return deque(maxlen=KEPT_ERRORS)


@dataclass
class ScheduledRule:
    """One schedule rule of one deployment, and when it is next due."""

    name: str
    events: Any
    lambda_client: Any
    region: str
    due_at: float = 0.0
    firings: int = 0
    #: Firings due while the previous one still ran (not started: it would only queue).
    overlapped: int = 0
    errors: deque[str] = field(default_factory=_errors)
    running: threading.Thread | None = None


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
        #: What failed outside any one rule (a simulator's step), newest last.
        self.errors: deque[str] = _errors()
        #: Clock steps taken: moves on as long as the clock runs.
        self.steps = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-clock", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        for rule in self.rules:
            if rule.running is not None:
                rule.running.join(timeout=5)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.wait(self._tick):
            self.step()

    def step(self) -> None:
        """One turn: every simulator advances and every due rule fires; any failure is
        recorded and the rest of the turn goes on."""
        self.steps += 1
        for simulator in self._simulators:
            try:
                simulator.advance_due()
            except Exception as exc:  # noqa: BLE001 - the clock must keep going
                self._record(self.errors, f"DRS simulator: {type(exc).__name__}: {exc}")
        for rule in self.rules:
            try:
                self._maybe_fire(rule)
            except Exception as exc:  # noqa: BLE001 - the clock must keep going
                rule.due_at = time.monotonic() + RETRY_READ_SECONDS
                self._record(rule.errors, f"{rule.name}: {type(exc).__name__}: {exc}")

    def _record(self, errors: deque[str], problem: str) -> None:
        errors.append(problem)
        with contextlib.suppress(Exception):  # saying it is best effort
            self._say(f"schedule error: {problem}")

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
        if rule.running is not None and rule.running.is_alive():
            rule.overlapped += 1
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
        rule.running = threading.Thread(
            target=self._invoke_targets, args=(rule, event), name=f"fire-{rule.name}", daemon=True
        )
        rule.running.start()

    def _invoke_targets(self, rule: ScheduledRule, event: dict[str, Any]) -> None:
        try:
            targets = rule.events.list_targets_by_rule(Rule=rule.name)["Targets"]
        except Exception as exc:  # noqa: BLE001 - recorded; the next firing tries again
            self._record(rule.errors, f"{rule.name}: {type(exc).__name__}: {exc}")
            return
        for target in targets:
            try:
                answer = rule.lambda_client.invoke(
                    FunctionName=target["Arn"], Payload=json.dumps(event).encode()
                )
                if answer.get("FunctionError"):
                    payload = answer["Payload"].read().decode()
                    self._record(rule.errors, f"{rule.name} -> {target['Arn']}: {payload}")
            except Exception as exc:  # noqa: BLE001 - recorded; the other targets still fire
                problem = f"{rule.name} -> {target['Arn']}: {type(exc).__name__}: {exc}"
                self._record(rule.errors, problem)
