"""The clock fires EventBridge schedules from moto's rules, in sandbox time."""

from __future__ import annotations

import io
from typing import Any

import pytest

from drsctl.sandbox.clock import Clock, ScheduledRule, rate_seconds
from drsctl.sandbox.deploy import Pacing


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
