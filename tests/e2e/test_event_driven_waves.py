"""Event-driven waves on the real state machine, wave runner and finder: DRS's launch
results wake a sleeping execution, so a dependent wave starts without waiting for the next
tick; with every event lost, the runner's own ticks follow the launching jobs; and a fault
at any call point of the sleep or the wake costs time, never the execution."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
from drs_orchestrator.domain.plans import RecoveryPlan, Wave

from drsctl.invariants import violations
from tests.e2e.faults import KINDS, FaultInjector
from tests.patience import PATIENCE

if TYPE_CHECKING:
    from tests.e2e.conftest import Harness


def servers(prefix: str, count: int) -> list[str]:
    return [f"s-{prefix}{n:0{17 - len(prefix)}d}" for n in range(count)]


GROUPS = {"db": servers("e", 2), "app": servers("f", 3)}
CHAIN = RecoveryPlan("chain", (Wave("A", ("db",)), Wave("B", ("app",), depends_on=("A",))))


def pace(monkeypatch: pytest.MonkeyPatch, poll_seconds: int) -> None:
    """Deploy the wave runner with this poll interval (its sleep between ticks)."""
    monkeypatch.setenv("POLL_SECONDS", str(poll_seconds))
    from drs_orchestrator.handlers import wave_runner

    wave_runner._runner.cache_clear()
    wave_runner._waker.cache_clear()
    monkeypatch.setattr(wave_runner._runner, "cache_clear", wave_runner._runner.cache_clear)


def drive(
    harness: Harness, execution_id: str, *, finder: bool, events: bool, timeout: float = PATIENCE
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Play the schedule (the finder, if ``finder``) and EventBridge (DRS's events, if
    ``events``) until the execution ended; returns it and the wave runner's answers to the
    events."""
    answers: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if finder:
            harness.run_finder()
        if events:
            answers += harness.deliver_drs_events()
        item = harness.execution(execution_id)
        ended = item["status"] in ("COMPLETED", "FAILED", "CANCELLED")
        if ended and harness.machine_status(execution_id, timeout=0.5) != "RUNNING":
            break
    for _ in range(3 if finder else 0):  # settle: the schedule follows the jobs to the end
        harness.run_finder()
    return harness.execution(execution_id), answers


def test_launch_results_wake_the_sleeping_execution_so_the_next_wave_starts_at_once(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The machine sleeps ten minutes between ticks; the drill still ends within a minute
    because each wave's last launch result wakes it."""
    pace(monkeypatch, 600)
    execution_id = harness.run(CHAIN, GROUPS, hold=True)

    item, answers = drive(harness, execution_id, finder=True, events=True)

    assert item["status"] == "COMPLETED", item.get("reason")
    assert harness.machine_status(execution_id) == "SUCCEEDED"
    woken = [a for a in answers if a.get("woken")]
    assert len(woken) >= 2, answers  # A's job ended, then B's
    assert {a["executionId"] for a in woken} == {execution_id}
    assert item["wakeRequests"] >= 2
    assert violations(item, harness.drs_jobs()) == []


def test_with_every_event_lost_and_no_finder_the_ticks_follow_the_launches(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DRS's delivery is best effort: with no event and no schedule at all, each tick
    polls the launching wave's own jobs, so the execution still ends and every job event
    is recorded once."""
    pace(monkeypatch, 1)
    execution_id = harness.run(CHAIN, GROUPS, hold=True)

    item, _ = drive(harness, execution_id, finder=False, events=False)

    assert item["status"] == "COMPLETED", item.get("reason")
    assert item["waveRunnerPolls"] >= 2
    assert not item.get("schedulePolls")
    assert harness.drs_events, "DRS sent its launch results; none was delivered"
    assert "wakeRequests" not in item
    assert "sleepToken" not in item, "the token is kept beside the execution, not on it"
    stored = harness.events(execution_id)
    assert (
        len({e["eventKey"] for e in stored})
        == len(stored)
        == sum(len(harness.job_log(j)) for j in item["jobs"])
    )
    assert violations(item, harness.drs_jobs()) == []


#: Every AWS call point of the sleep and the wake, as the drill reaches them.
CALL_POINTS = (
    "dynamodb:PutItem",  # the sleep keeps its token beside the execution
    "dynamodb:UpdateItem",  # the wake is counted on the execution
    "dynamodb:GetItem",  # the sleep reads the count; the waker finds the holder and token
    "drs:DescribeJobs",  # the waker: has the launch result's job ended?
    "stepfunctions:SendTaskSuccess",  # the wake, or the sleep ending itself
)
SCOPE = frozenset({"sleep", "drs-event"})
CASES = [(point, kind) for point in CALL_POINTS for kind in KINDS]


def wake_drill(harness: Harness) -> dict[str, Any]:
    execution_id = harness.run(CHAIN, GROUPS, hold=True)
    item, _ = drive(harness, execution_id, finder=True, events=True)
    return item


def test_the_wake_matrix_covers_every_call_point_of_the_sleep_and_the_wake(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    pace(monkeypatch, 1)
    injector = FaultInjector(scope=SCOPE)
    injector.install(monkeypatch)
    item = wake_drill(harness)
    assert item["status"] == "COMPLETED"
    assert set(injector.calls) == set(CALL_POINTS), injector.calls


@pytest.mark.parametrize(("point", "kind"), CASES)
def test_one_fault_in_the_sleep_or_the_wake_costs_time_not_the_execution(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, point: str, kind: str
) -> None:
    pace(monkeypatch, 1)
    injector = FaultInjector(point=point, kind=kind, scope=SCOPE)
    injector.install(monkeypatch)
    item = wake_drill(harness)
    assert injector.injected == [(point, kind)], f"the fault was never reached: {injector.calls}"
    assert item["status"] == "COMPLETED", item.get("reason")
    assert harness.machine_status(item["executionId"]) == "SUCCEEDED"
    assert violations(item, harness.drs_jobs()) == []
    assert [w["status"] for w in item["waves"]] == ["COMPLETED", "COMPLETED"]
    assert all(len(w["jobIds"]) == 1 for w in item["waves"]), "each wave launched once"


def test_the_drill_tells_its_end_once_and_how_long_its_dependent_wave_waited(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The metrics the deployment's alarms and dashboard read: one ExecutionsEnded however
    many ticks and schedules ran, and B's start delay, seconds with events delivered."""
    from tests.lambdas.test_telemetry import emf

    pace(monkeypatch, 600)
    execution_id = harness.run(CHAIN, GROUPS, hold=True)
    item, _ = drive(harness, execution_id, finder=True, events=True)
    assert item["status"] == "COMPLETED", item.get("reason")

    printed = emf(capsys.readouterr().out)
    ended = [m for m in printed if "ExecutionsEnded" in m]
    assert [(m["Status"], m["Mode"], m["service"]) for m in ended] == [
        ("COMPLETED", "DRILL", "wave-runner")
    ]
    [delay] = [m["WaveStartDelay"] for m in printed if "WaveStartDelay" in m]
    assert 0 <= delay[0] < 5
    assert any(m.get("Service") == "dynamodb" and m["AwsCalls"][0] > 0 for m in printed)
