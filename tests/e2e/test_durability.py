"""Executions that never get stuck: a run that dies is healed by the janitor, a state
machine that never starts frees its servers, an approval nobody gives ends the execution,
and a long execution hands over to fresh runs before its history grows long."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from drs_orchestrator.domain.plans import RecoveryPlan, Wave

from drsctl.invariants import history_violations, violations
from tests.e2e.conftest import wait_until
from tests.e2e.faults import FaultInjector

if TYPE_CHECKING:
    from tests.e2e.conftest import Harness


def servers(prefix: str, count: int) -> list[str]:
    return [f"s-{prefix}{n:0{17 - len(prefix)}d}" for n in range(count)]


GROUPS = {"db": servers("a", 2), "app": servers("b", 3)}


def run_arn(harness: Harness, name: str) -> str:
    return harness.machines.run_arn(name)


def test_a_run_stopped_by_hand_is_ended_by_the_janitor_with_the_reason(
    harness: Harness,
) -> None:
    harness.drs.autopilot = False  # hold the wave in LAUNCHING
    execution_id = harness.run(RecoveryPlan("one", (Wave("A", ("db",)),)), GROUPS)
    wait_until(
        lambda: harness.execution(execution_id)["waves"][0]["status"] == "LAUNCHING",
        message="wave launching",
    )
    harness.sfn.stop_execution(executionArn=run_arn(harness, execution_id))
    harness.drs.autopilot = True

    def ended() -> bool:
        harness.run_finder()
        return harness.execution(execution_id)["status"] == "FAILED"

    wait_until(ended, message="janitor ends the orphaned execution")
    item = harness.execution(execution_id)
    # Stopped by hand the run is ABORTED; moto's interpreter, stopped in the middle of a
    # task, sometimes records FAILED instead. Either way the reason names what it was.
    run = harness.sfn.describe_execution(executionArn=run_arn(harness, execution_id))
    assert run["status"] in {"ABORTED", "FAILED"}
    assert item["reason"] == (
        f"its state machine run {execution_id} ended {run['status']} without ending it"
    )
    assert item["waves"][0]["status"] == "FAILED"
    # The launch it left running is still followed to its end, and nothing is lost.
    wait_until(
        lambda: (
            not harness.run_finder().get("error") and "watch" not in harness.execution(execution_id)
        ),
        message="the janitor settles the execution once its DRS job ended",
    )
    item = harness.execution(execution_id)
    assert violations(item, list(harness.drs.jobs.values())) == []
    assert item["holdsReleased"] is True
    assert harness.notifications()[-1]["event"] == "failed"


def test_a_state_machine_that_does_not_start_frees_the_servers(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = harness.one_wave_plan(GROUPS["db"], "g", "A")
    injector = FaultInjector(point="stepfunctions:StartExecution", kind="throttle")
    injector.install(monkeypatch)

    status, answer = harness.start_plan(created["planId"])

    assert status == 503
    assert "nothing was launched" in answer["message"]
    [execution_id] = [w for w in answer["message"].split() if w.startswith("ex-")]
    item = harness.execution(execution_id)
    assert item["status"] == "FAILED"
    assert item["reason"].startswith("its state machine did not start: StartExecution failed")
    assert item["holdsReleased"] is True
    # The servers are free: the next start goes through.
    status, started = harness.start_plan(created["planId"])
    assert status == 202, started
    assert started["planVersion"] == created["version"]
    harness.wait_for(started["executionId"], "COMPLETED", "FAILED")


def test_a_start_whose_answer_was_lost_after_its_run_began_is_answered_as_started(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 32's third defect: StartExecution took effect and its answer was lost; the
    start was recorded as "its state machine did not start", its servers freed and 503
    "nothing was launched" answered, while its run launched DRS jobs. The run is asked
    for before anything is ended: it began, so the start stands."""
    created = harness.one_wave_plan(GROUPS["db"], "g", "A")
    injector = FaultInjector(point="stepfunctions:StartExecution", kind="lost")
    injector.install(monkeypatch)

    status, started = harness.start_plan(created["planId"])

    assert injector.injected, "the fault was met"
    assert status == 202, started
    execution_id = started["executionId"]
    item = harness.wait_for(execution_id, "COMPLETED", "FAILED")
    assert item["status"] == "COMPLETED", item.get("reason")
    assert violations(item, list(harness.drs.jobs.values())) == []


def test_a_start_step_functions_cannot_confirm_is_not_ended_and_says_so(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer of StartExecution lost, and DescribeExecution failing too: whether the run
    began is unknown, so nothing is ended or freed (503 saying so); the run that did begin
    goes on, and the execution ends as it would have."""
    from drs_orchestrator.adapters.stepfunctions import StateMachineError, StateMachines

    created = harness.one_wave_plan(GROUPS["db"], "g", "A")
    FaultInjector(point="stepfunctions:StartExecution", kind="lost").install(monkeypatch)

    def unanswered(_self: object, _run: str) -> str:
        raise StateMachineError("DescribeExecution failed (ReadTimeoutError)")

    with monkeypatch.context() as during:
        during.setattr(StateMachines, "run_status", unanswered)
        status, answer = harness.start_plan(created["planId"])
    assert status == 503, answer
    assert "whether its state machine started is unknown" in answer["message"]
    assert "nothing was launched" not in answer["message"]
    [execution_id] = [w.rstrip(":") for w in answer["message"].split() if w.startswith("ex-")]
    item = harness.wait_for(execution_id, "COMPLETED", "FAILED")
    assert item["status"] == "COMPLETED", item.get("reason")
    assert item["holdsReleased"] is True
    assert violations(item, list(harness.drs.jobs.values())) == []


def test_an_approval_nobody_gives_ends_the_execution_with_that_reason(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APPROVAL_TIMEOUT_SECONDS", "2")
    from drs_orchestrator.handlers import wave_runner

    wave_runner._runner.cache_clear()
    plan = RecoveryPlan(
        "gated", (Wave("A", ("db",)), Wave("B", ("app",), depends_on=("A",), pause_before=True))
    )
    execution_id = harness.run(plan, GROUPS)
    item = harness.wait_for(execution_id, "FAILED", "COMPLETED")
    assert item["status"] == "FAILED"
    b = item["waves"][1]
    assert b["status"] == "FAILED"
    assert b["reason"] == (
        "approval timed out: nobody approved it within 2 s; not launched: 3 servers: "
        "s-b0000000000000000, s-b0000000000000001, s-b0000000000000002"
    )
    assert item["reason"] == f"wave B: {b['reason']}"
    assert harness.machine_status(execution_id) == "FAILED"
    assert not b.get("jobIds"), "nothing launched for the wave nobody approved"


def last_state(harness: Harness, run_arn: str) -> str:
    """The name of the last state a state machine run entered."""
    pages = harness.sfn.get_paginator("get_execution_history").paginate(executionArn=run_arn)
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for page in pages
        for e in page["events"]
        if "stateEnteredEventDetails" in e
    ]
    return entered[-1]


def test_a_long_execution_hands_over_to_fresh_runs(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """long-runs-fit: with three ticks per run, a drill needs several runs; each hands over
    to the next and the last one ends it. Events per tick (with the sleep between ticks)
    are measured from the histories and projected to the deployed 300 ticks per run."""
    monkeypatch.setenv("TICKS_PER_RUN", "3")
    monkeypatch.setenv("POLL_SECONDS", "1")
    from drs_orchestrator.handlers import wave_runner

    wave_runner._runner.cache_clear()
    plan = RecoveryPlan("chain", (Wave("A", ("db",)), Wave("B", ("app",), depends_on=("A",))))
    execution_id = harness.run(plan, GROUPS)
    item = harness.wait_for(execution_id, "COMPLETED", "FAILED")
    assert item["status"] == "COMPLETED"
    runs = sorted(
        (
            e
            for e in harness.sfn.list_executions(stateMachineArn=harness.machines._arn)[
                "executions"
            ]
            if e["name"].startswith(execution_id)
        ),
        key=lambda e: (len(e["name"]), e["name"]),
    )
    assert len(runs) >= 2, [r["name"] for r in runs]
    assert runs[1]["name"] == f"{execution_id}-r2"
    wait_until(
        lambda: all(
            harness.sfn.describe_execution(executionArn=r["executionArn"])["status"] != "RUNNING"
            for r in runs
        ),
        message="every run ended",
    )
    assert {
        harness.sfn.describe_execution(executionArn=r["executionArn"])["status"] for r in runs
    } == {"SUCCEEDED"}
    assert harness.execution(execution_id)["machineRun"] == runs[-1]["name"]
    # Each run but the last ended by handing over (it stopped ticking once its successor
    # was started and named on the record), the last by ending the execution.
    last_states = [last_state(harness, r["executionArn"]) for r in runs]
    assert last_states == ["HandedOver"] * (len(runs) - 1) + ["Completed"], last_states
    per_run = [
        len(harness.sfn.get_execution_history(executionArn=r["executionArn"])["events"])
        for r in runs
    ]
    # A run of three ticks: Start + two Ticks, their Sleeps and Routes, and the ending.
    assert max(per_run) < 60, per_run
    # Deployed: 300 ticks per run, each at most the measured events plus the tick's 12
    # retries and the sleep's 6, of 3 events each (docs/RELIABILITY.md): still under Step
    # Functions' 25,000.
    from drs_orchestrator.domain.runner import Limits

    per_tick = max(per_run) / 3
    assert Limits().ticks_per_run == 300
    assert history_violations({r["name"]: n for r, n in zip(runs, per_run, strict=True)}) == []
    deployed = int(300 * (per_tick + (12 + 6) * 3))
    assert history_violations({"a deployed run of 300 ticks": deployed}) == [], per_tick
    print(f"\nlong runs: {per_tick:.1f} history events per tick, its sleep included")


def test_a_start_refused_while_holding_frees_what_it_held(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the whole-life matrix: a start whose second hold was throttled answered 503
    and kept its first hold, so every start of the plan was refused (409) until the hold
    was abandoned, five minutes later. A hold that fails frees what the start took."""
    created = harness.one_wave_plan(GROUPS["db"], "g", "A")
    # The start's PutItems: the audit's intent, then one hold per server.
    FaultInjector(point="dynamodb:PutItem", kind="throttle", occurrence=3).install(monkeypatch)
    status, answer = harness.start_plan(created["planId"])
    assert status == 503, answer
    assert harness.holds() == {}, "nothing held by a start that was refused"
    status, started = harness.start_plan(created["planId"])
    assert status == 202, started
    item = harness.wait_for(started["executionId"], "COMPLETED", "FAILED")
    assert item["status"] == "COMPLETED", item.get("reason")


def test_the_holds_of_a_start_that_died_are_abandoned_after_their_time(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A start that died between its holds and its record leaves holds no execution owns:
    the next start is refused with how long they stand (HOLDS_ABANDONED_AFTER_SECONDS),
    and once that time passed takes them over and goes through."""
    from drs_orchestrator.handlers import api

    created = harness.one_wave_plan(GROUPS["db"], "g", "A")
    with monkeypatch.context() as dying:
        FaultInjector(point="dynamodb:PutItem", kind="crash-after", occurrence=3).install(dying)
        status, _ = harness.start_plan(created["planId"])
    assert status == 502
    assert len(harness.holds()) == 2, "its holds taken, then it died before its record"
    status, refused = harness.start_plan(created["planId"])
    assert status == 409, refused
    assert "a start that died leaves its holds for 300 s" in refused["message"]
    monkeypatch.setenv("HOLDS_ABANDONED_AFTER_SECONDS", "0")  # as if the time had passed
    api._catalog.cache_clear()
    status, started = harness.start_plan(created["planId"])
    assert status == 202, started
    item = harness.wait_for(started["executionId"], "COMPLETED", "FAILED")
    assert item["status"] == "COMPLETED", item.get("reason")
    assert harness.holds() == {}


@pytest.mark.parametrize(
    ("point", "kind", "occurrence"),
    [("dynamodb:UpdateItem", "lost-retried", 1), ("dynamodb:GetItem", "throttle", 4)],
)
def test_an_approval_that_took_effect_is_answered_and_audited_as_done(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, point: str, kind: str, occurrence: int
) -> None:
    """Found by the whole-life matrix: an approval whose save took effect but whose answer
    was lost (botocore's retry refused as stale), or whose last read (the execution to
    answer with) was throttled, was answered 409 or 503 and audited as failed, though the
    wave was approved; the operator's second try was refused as "not paused". The change
    is read back and stands: answered 200, the machine woken, audited as succeeded."""
    plan = RecoveryPlan("gated", (Wave("A", ("db",), pause_before=True),))
    execution_id = harness.run(plan, GROUPS)
    wait_until(
        lambda: "taskToken" in harness.execution(execution_id), message="waiting for approval"
    )
    injector = FaultInjector(point=point, kind=kind, occurrence=occurrence)
    injector.scope = frozenset({"resume"})
    injector.install(monkeypatch)
    status, answer = harness.api(
        "POST", "/executions/{executionId}/resume", executionId=execution_id, action="resume"
    )
    assert injector.injected == [(point, kind)]
    assert status == 200, answer
    assert harness.wait_for(execution_id, "COMPLETED", "FAILED")["status"] == "COMPLETED"
    status, trail = harness.api("GET", "/audit", groups="read-only", query={"object": execution_id})
    assert [e["outcome"] for e in trail["items"] if e["action"] == "resumeExecution"] == [
        "succeeded"
    ]
