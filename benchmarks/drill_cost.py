"""Step Functions transitions, Lambda invocations and cost of one three-wave drill.

Runs a real three-wave drill (B after A, C alongside A) through moto's Step Functions
interpreter with the wave runner in-process (sleeping 1 s between ticks, no finder, no
DRS events), counts the state transitions and the wave runner invocations it took, then
projects them onto real drill durations at the default poll interval (30 s): every tick is
Sleep -> Tick -> Route, three transitions and two invocations (the sleep keeps its task
token, the tick decides). A DRS launch result that ends a sleep early adds at most one
such loop per launch job, and starts the next wave up to a tick sooner. Prices are AWS
list prices in us-east-1 (Standard workflows: USD 0.025 per 1,000 state transitions;
Lambda: USD 0.20 per million requests).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parents[1]), str(Path(__file__).parents[1] / "lambdas")]

import pytest  # noqa: E402

TRANSITION_PRICE = 0.025 / 1000
REQUEST_PRICE = 0.20 / 1_000_000
POLL_SECONDS = 30
TRANSITIONS_PER_TICK = 3


def measure() -> tuple[int, int, float]:
    """(state transitions, wave-runner invocations, seconds) of one simulated drill."""
    from drs_orchestrator.domain.plans import RecoveryPlan, Wave
    from moto.awslambda_simple.models import LambdaSimpleBackend

    from tests.e2e import conftest

    invocations = 0
    original = conftest.invoke_in_process

    def counting(*args, **kwargs):
        nonlocal invocations
        invocations += 1
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        fixture = conftest.harness.__wrapped__(patch)
        harness = next(fixture)
        patch.setattr(LambdaSimpleBackend, "invoke", counting)
        patch.setenv("POLL_SECONDS", "1")
        from drs_orchestrator.handlers import wave_runner

        wave_runner._runner.cache_clear()
        groups = {
            "db": ["s-a0000000000000000"],
            "app": ["s-b0000000000000000"],
            "web": ["s-c0000000000000000"],
        }
        plan = RecoveryPlan(
            "three",
            (Wave("A", ("db",)), Wave("B", ("app",), depends_on=("A",)), Wave("C", ("web",))),
        )
        started = time.perf_counter()
        execution_id = harness.run(plan, groups)
        harness.wait_for(execution_id, "COMPLETED", "FAILED")
        harness.machine_status(execution_id)
        seconds = time.perf_counter() - started
        arn = harness.machines._arn.replace(":stateMachine:", ":execution:") + f":{execution_id}"
        events = harness.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        transitions = sum(e["type"].endswith("StateEntered") for e in events)
        next(fixture, None)
    return transitions, invocations, seconds


def main() -> None:
    transitions, invocations, seconds = measure()
    print("simulated drill (DRS fake: every job done after two polls)")
    print(
        f"  state transitions {transitions}, wave-runner invocations {invocations}, "
        f"{seconds:.1f} s wall"
    )
    print(f"\nprojected at the default poll interval ({POLL_SECONDS} s), per drill:")
    header = ("drill minutes", "transitions", "invocations", "SFN USD", "Lambda USD")
    print("".join(f"{h:>{w}}" for h, w in zip(header, (14, 13, 13, 10, 12), strict=True)))
    for minutes in (20, 45, 90):
        ticks = minutes * 60 // POLL_SECONDS
        steps = TRANSITIONS_PER_TICK * ticks + 4  # Start, Route, the end state, approval
        print(
            f"{minutes:>14}{steps:>13}{2 * ticks + 1:>13}{steps * TRANSITION_PRICE:>10.4f}"
            f"{(2 * ticks + 1) * REQUEST_PRICE:>12.6f}"
        )


if __name__ == "__main__":
    main()
