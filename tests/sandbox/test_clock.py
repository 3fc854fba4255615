"""The clock fires EventBridge schedules from moto's rules, in sandbox time."""

from __future__ import annotations

import io
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from drsctl.sandbox.clock import Clock, ScheduledRule, rate_seconds
from drsctl.sandbox.deploy import Pacing
from tests.patience import PATIENCE

if TYPE_CHECKING:
    from collections.abc import Callable


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(2 hours)", 7200)],
)
def test_rate_expressions(expression: str, seconds: int) -> None:
    assert rate_seconds(expression) == seconds


def test_cron_schedules_are_refused_by_name() -> None:
    with pytest.raises(
        ValueError, match=r"rate\(\.\.\.\) schedules only, not 'cron\(0 \* \* \* \? \*\)'"
    ):
        rate_seconds("cron(0 * * * ? *)")


class Events:
    def __init__(self, state: str) -> None:
        self.state = state

    def describe_rule(self, Name: str) -> dict[str, Any]:  # noqa: N803
        return {
            "Name": Name,
            "State": self.state,
            "ScheduleExpression": "rate(1 minute)",
            "Arn": f"arn:aws:events:us-east-1:123456789012:rule/{Name}",
        }

    def list_targets_by_rule(self, Rule: str) -> dict[str, Any]:  # noqa: N803
        return {"Targets": [{"Id": "finder", "Arn": "arn:aws:lambda:::function:finder"}]}


class Lambda:
    def __init__(self) -> None:
        self.invoked: list[str] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803
        self.invoked.append(FunctionName)
        return {"Payload": io.BytesIO(b"{}")}


def fire(state: str, now: float) -> tuple[ScheduledRule, Lambda]:
    target = Lambda()
    rule = ScheduledRule("finder-schedule", Events(state), target, "us-east-1")
    clock = Clock([rule], [], Pacing(time_scale=20), say=lambda _l: None)
    import drsctl.sandbox.clock as module

    original = module.time.monotonic
    try:
        for moment in (now, now + 1, now + 3):
            module.time.monotonic = lambda m=moment: m  # type: ignore[assignment]
            clock._maybe_fire(rule)
            if rule.running is not None:  # each firing runs in its own thread
                rule.running.join(timeout=PATIENCE)
    finally:
        module.time.monotonic = original  # type: ignore[assignment]
    return rule, target


def test_an_enabled_rule_fires_at_its_rate_scaled_to_sandbox_time() -> None:
    rule, target = fire("ENABLED", 1000.0)
    # rate(1 minute) / 20 = 3 s: fires at t=0 and t=3, not at t=1.
    assert target.invoked == ["arn:aws:lambda:::function:finder"] * 2
    assert rule.firings == 2


def test_a_disabled_rule_does_not_fire() -> None:
    rule, target = fire("DISABLED", 1000.0)
    assert target.invoked == [] and rule.firings == 0


class Simulator:
    """A DRS simulator whose step fails the first ``failures`` times."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.advanced = 0

    def advance_due(self) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("simulated step failed")
        self.advanced += 1


class SlowLambda(Lambda):
    """Every invocation waits until released, or fails as a read time-out would."""

    def __init__(self, error: Exception | None = None) -> None:
        super().__init__()
        self.release = threading.Event()
        self.error = error

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803
        self.invoked.append(FunctionName)
        if self.error is not None:
            raise self.error
        self.release.wait(timeout=30)
        return {"Payload": io.BytesIO(b"{}")}


def wait_for(condition: Callable[[], bool], seconds: float = PATIENCE) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the clock did not get there"
        time.sleep(0.01)


def test_a_slow_function_never_stops_the_clock() -> None:
    """A readiness run slower than botocore's read time-out once killed the clock: no
    schedule fired again and no simulated DRS job moved. Now a firing runs beside the
    clock, which keeps advancing the simulators; a firing due while the last still runs is
    counted, not queued."""
    target = SlowLambda()
    rule = ScheduledRule("readiness-schedule", Events("ENABLED"), target, "us-east-1")
    simulator = Simulator()
    clock = Clock(
        [rule], [simulator], Pacing(time_scale=600), say=lambda _l: None, tick_seconds=0.01
    )
    clock.start()
    try:
        wait_for(lambda: rule.overlapped >= 2 and simulator.advanced >= 20)
        assert target.invoked == ["arn:aws:lambda:::function:finder"], "one firing in flight"
        target.release.set()
        wait_for(lambda: len(target.invoked) >= 2)
    finally:
        target.release.set()
        clock.stop()
    assert rule.firings >= 2


def test_every_failure_is_recorded_and_the_clock_goes_on() -> None:
    timeout = ReadTimeoutError(endpoint_url="http://127.0.0.1/2015-03-31/functions/x/invocations")
    target = SlowLambda(error=timeout)
    rule = ScheduledRule("finder-schedule", Events("ENABLED"), target, "us-east-1")
    unreadable = ScheduledRule("broken-schedule", Unreadable(), Lambda(), "us-east-1")
    simulator = Simulator(failures=3)
    lines: list[str] = []
    clock = Clock(
        [rule, unreadable], [simulator], Pacing(time_scale=600), say=lines.append, tick_seconds=0.01
    )
    clock.start()
    try:
        wait_for(lambda: len(target.invoked) >= 3 and simulator.advanced >= 10)
        wait_for(lambda: len(unreadable.errors) >= 2)
    finally:
        clock.stop()
    assert clock.alive is False
    assert list(clock.errors) == ["DRS simulator: RuntimeError: simulated step failed"] * 3
    assert rule.errors[0] == (
        "finder-schedule -> arn:aws:lambda:::function:finder: ReadTimeoutError: Read timeout on "
        'endpoint URL: "http://127.0.0.1/2015-03-31/functions/x/invocations"'
    )
    assert unreadable.errors[0] == (
        "broken-schedule: ClientError: An error occurred (Throttling) when calling the X "
        "operation: events unreachable"
    )
    assert any(line.startswith("schedule error: DRS simulator:") for line in lines)


class Unreadable(Events):
    def __init__(self) -> None:
        super().__init__("ENABLED")

    def describe_rule(self, Name: str) -> dict[str, Any]:  # noqa: N803
        raise ClientError({"Error": {"Code": "Throttling", "Message": "events unreachable"}}, "X")
