"""approval-exactly-once: a resume that lands before, while or after the state machine
enters its approval wait continues the run once, and a wake that fails is retried."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from drs_orchestrator.adapters.dynamodb import ExecutionRecords, to_item
from drs_orchestrator.domain.plans import RecoveryPlan, Wave
from drs_orchestrator.services import executions

from tests.fakes.stepfunctions import FakeMachines as Machines
from tests.lambdas.conftest import EXECUTIONS_TABLE, shell_runner

if TYPE_CHECKING:
    from drs_orchestrator.services.wave_runner import WaveRunner


@pytest.fixture
def records(dynamodb: Any) -> ExecutionRecords:
    item = executions.new_execution(
        "ex-1",
        "plan-1",
        RecoveryPlan("p", (Wave("A", ("g",), pause_before=True),)),
        {"g": ["s-1111111111aaaaaaa"]},
        "DRILL",
        "2026-11-01T12:00:00.000000Z",
    )
    item["status"] = "PAUSED"
    item["waves"][0].update(status="AWAITING_APPROVAL", pausedAt="2026-11-01T12:00:00.000000Z")
    dynamodb.put_item(TableName=EXECUTIONS_TABLE, Item=to_item({**item, "version": 1}))
    return ExecutionRecords(EXECUTIONS_TABLE, client=dynamodb)


def runner(records: ExecutionRecords, machines: Machines) -> WaveRunner:
    return shell_runner(records, machines, "approval-test")


def test_a_resume_before_the_wait_is_answered_by_the_wait_itself(records: ExecutionRecords) -> None:
    machines = Machines()
    executions.resume(records, machines, "ex-1", "2026-11-01T12:01:00.000000Z")  # type: ignore[arg-type]
    assert machines.woken == [], "no token yet: nothing to wake"

    answer = runner(records, machines).await_approval("ex-1", "token-1")

    assert answer == {"status": "RUNNING", "woken": True}
    assert machines.woken == ["token-1"]
    assert "taskToken" not in records.get("ex-1")


def test_a_resume_after_the_wait_wakes_the_machine_once(records: ExecutionRecords) -> None:
    machines = Machines()
    runner(records, machines).await_approval("ex-1", "token-1")
    executions.resume(records, machines, "ex-1", "2026-11-01T12:01:00.000000Z")  # type: ignore[arg-type]
    executions.cancel(records, machines, "ex-1", "2026-11-01T12:01:01.000000Z")  # type: ignore[arg-type]
    assert machines.woken == ["token-1"] and machines.refused == []


def test_a_wake_that_fails_keeps_the_token_for_the_janitor(records: ExecutionRecords) -> None:
    from drs_orchestrator.services.janitor import Janitor, JanitorReport

    machines = Machines(failures=1)
    runner(records, machines).await_approval("ex-1", "token-1")
    executions.resume(records, machines, "ex-1", "2026-11-01T12:01:00.000000Z")  # type: ignore[arg-type]
    item = records.get("ex-1")
    assert item["status"] == "RUNNING", "the approval itself is never lost"
    assert item["taskToken"] == "token-1", "kept until the machine is woken"

    report = JanitorReport()
    Janitor(records, machines, None, None, None, None, None)._examine("ex-1", report)  # type: ignore[arg-type]

    assert machines.woken == ["token-1"] and report.woken == 1
    assert "taskToken" not in records.get("ex-1")
