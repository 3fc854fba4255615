"""The fault matrix: a drill of three waves (one over 100 servers with pre- and post-wave
actions, one paused for approval, one independent in another account and region, reached
through STS) run end to end on the real state machine, wave runner, finder and janitor,
with one fault injected at one AWS call point.
For every call point the drill reaches and every kind of fault, the drill must end
COMPLETED and keep every invariant of docs/RELIABILITY.md.

``test_the_matrix_covers_every_call_point_of_the_drill`` discovers the call points by
running the drill and fails when the runtime reaches one the matrix does not list, so a
new AWS call cannot arrive without its row in the matrix.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
from drs_orchestrator.domain.plans import Action, RecoveryPlan, Wave

from drsctl.invariants import report_violations, violations
from tests.e2e.conftest import STAGING
from tests.e2e.faults import FaultInjector, cases

if TYPE_CHECKING:
    from tests.e2e.conftest import Harness


def servers(prefix: str, count: int) -> list[str]:
    return [f"s-{prefix}{n:0{17 - len(prefix)}d}" for n in range(count)]


GROUPS = {"data": servers("d", 101), "app": servers("a", 2), "web": servers("w", 2)}
#: The Web wave's servers replicate in another account and region (a DRS target).
GROUP_TARGETS = {"web": STAGING}
DRILL = RecoveryPlan(
    "fault-matrix",
    (
        Wave(
            "Data",
            ("data",),
            pre_actions=(Action("DR-Prepare"),),
            post_actions=(Action("DR-Check"),),
        ),
        Wave("App", ("app",), depends_on=("Data",), pause_before=True),
        Wave("Web", ("web",)),
    ),
)

#: Every AWS call point the runtime reaches in the drill, with the occurrences to hit
#: (the second StartRecovery is the second batch of the 101-server wave; the first
#: AssumeRole is the wave runner's for the Web wave, the second the finder's).
CALL_POINTS: dict[str, tuple[int, ...]] = {
    "sts:AssumeRole": (1, 2),
    "drs:StartRecovery": (1, 2),
    "drs:DescribeJobs": (1, 3),
    "drs:DescribeJobLogItems": (1,),
    "dynamodb:GetItem": (1, 5),
    "dynamodb:UpdateItem": (1, 4),
    "dynamodb:BatchWriteItem": (1,),
    "dynamodb:Query": (1,),
    "dynamodb:DeleteItem": (1,),
    "ssm:StartAutomationExecution": (1, 2),
    "ssm:GetAutomationExecution": (1,),
    "sns:Publish": (1, 2),
    "stepfunctions:SendTaskSuccess": (1,),
    "stepfunctions:DescribeExecution": (1,),
    # The audit trail of the operator's approval: its intent, then its outcome.
    "dynamodb:PutItem": (1, 2),
    # The settled execution's report (every occurrence: tests/e2e/test_report_faults.py).
    "s3:PutObject": (1,),
}
CASES = cases(CALL_POINTS)


def run_drill(harness: Harness, timeout: float = 90) -> dict[str, Any]:
    """Start the drill and play operator and schedule until it ended and settled: the
    operator approves a paused wave, the finder's schedule fires every half second."""
    harness.drs.brief_logs = True
    execution_id = harness.run(DRILL, GROUPS, targets=GROUP_TARGETS)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.1)
        item = harness.execution(execution_id)
        harness.run_finder()
        if item["status"] == "PAUSED" and any(
            w["status"] == "AWAITING_APPROVAL" for w in item["waves"]
        ):
            harness.api("POST", "/executions/{executionId}/resume", executionId=execution_id)
        ended = item["status"] in ("COMPLETED", "FAILED", "CANCELLED")
        if ended and harness.machine_status(execution_id, timeout=0.5) != "RUNNING":
            break
    # Settle: the schedule keeps following DRS jobs, the outbox and the holds.
    for _ in range(3):
        harness.run_finder()
    return harness.execution(execution_id)


def assert_kept_every_invariant(harness: Harness, item: dict[str, Any]) -> None:
    drs_jobs = harness.drs_jobs()
    assert violations(item, drs_jobs) == []
    assert item["status"] == "COMPLETED", item.get("reason")
    assert harness.machine_status(item["executionId"], timeout=5) == "SUCCEEDED"
    app = next(w for w in item["waves"] if w["name"] == "App")
    assert len(app["jobIds"]) == 1, "approval exactly once: App launched once"
    assert item.get("outbox") == {}, "every notification was published"
    events = [n["event"] for n in harness.notifications()]
    assert {"started", "waiting for approval", "completed"} <= set(events)
    assert "watch" not in item, "settled: nothing left for the finder to follow"
    status, trail = harness.api(
        "GET", "/audit", groups="read-only", query={"object": item["executionId"]}
    )
    assert status == 200, trail
    approvals = [e for e in trail["items"] if e["action"] == "resumeExecution"]
    assert any(e["outcome"] in ("succeeded", "unknown") for e in approvals), (
        "the approval is audited"
    )
    stored = harness.stored_report(item["executionId"])
    assert report_violations(item, stored, len(harness.events(item["executionId"]))) == []
    web = next(w for w in item["waves"] if w["name"] == "Web")
    assert all(item["jobs"][j].get("target") == STAGING for j in web["jobIds"])
    assert set(web["jobIds"]) <= set(harness.targets[STAGING].jobs), "launched in the target"
    stored = harness.events(item["executionId"])
    assert (
        len({e["eventKey"] for e in stored})
        == len(stored)
        == sum(len(harness.job_log(j)) for j in item["jobs"])
    ), "every job event recorded once"


def test_the_drill_without_faults_keeps_every_invariant(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    FaultInjector().install(monkeypatch)
    assert_kept_every_invariant(harness, run_drill(harness))


def test_the_matrix_covers_every_call_point_of_the_drill(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    injector = FaultInjector()
    injector.install(monkeypatch)
    run_drill(harness)
    reached = set(injector.calls)
    assert reached - set(CALL_POINTS) == set(), "a call point without its row in the matrix"
    assert set(CALL_POINTS) - reached == set(), "the matrix lists a call the drill never makes"
    print(f"\nfault matrix: {len(CASES)} cases ({len(CALL_POINTS)} call points)")


@pytest.mark.parametrize(("point", "occurrence", "kind"), CASES)
def test_one_fault_at_one_call_point(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, point: str, occurrence: int, kind: str
) -> None:
    injector = FaultInjector(point=point, kind=kind, occurrence=occurrence)
    injector.install(monkeypatch)
    item = run_drill(harness)
    assert injector.injected == [(point, kind)], f"the fault was never reached: {injector.calls}"
    assert_kept_every_invariant(harness, item)
