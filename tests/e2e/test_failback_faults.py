"""The failback matrix: a finished three-wave recovery brought home (on-premises clients,
an AWS source reversed and launched in its origin target, the cut-over approved, forward
replication restarted, the recovery instances terminated, each wave's actions run once
home) with one fault at one AWS call of the failback's ticks, of every kind. Each case must
still bring every server home, launch each batch once, run each action once, and end
COMPLETED.

``test_the_failback_matrix_covers_every_call_of_its_ticks`` discovers the calls by running
the failback and fails when the ticks reach one the matrix does not list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from drs_orchestrator.domain.actions import action_token
from drs_orchestrator.domain.failback import BATCH_TAG

from drsctl.invariants import report_violations, violations
from tests.e2e.faults import FaultInjector, cases
from tests.e2e.test_failback import (
    APP,
    DB,
    FAILBACK_ACTIONS,
    WEB,
    drive,
    recovered,
    start_failback,
)

if TYPE_CHECKING:
    from tests.e2e.conftest import Harness

pytestmark = pytest.mark.matrix

#: The wave runner's actions that tick a failback.
SCOPE = frozenset({"start", "tick"})
#: Every AWS call of the failback's ticks, with the occurrences to hit (the first of each,
#: and the second save and read, which land in later waves).
FAILBACK_POINTS: dict[str, tuple[int, ...]] = {
    "dynamodb:GetItem": (1, 2),
    "dynamodb:UpdateItem": (1, 2),
    "drs:DescribeRecoveryInstances": (1,),
    "drs:ReverseReplication": (1,),
    "drs:StartFailbackLaunch": (1, 2),  # Db's, then Web's after the cut-over
    "drs:DescribeJobs": (1,),
    "drs:StartRecovery": (1,),
    "drs:StartReplication": (1,),
    "drs:TerminateRecoveryInstances": (1,),
    "sts:AssumeRole": (1,),
    # Each wave's actions once home: Db's, then App's.
    "ssm:StartAutomationExecution": (1, 2),
    "ssm:GetAutomationExecution": (1,),
    # Its notifications: started, waiting for the cut-over, completed.
    "sns:Publish": (1, 2),
    # The ended failback frees its servers (it holds none: a conditional delete per server).
    "dynamodb:DeleteItem": (1,),
}
CASES = cases(FAILBACK_POINTS)


def failback(
    harness: Harness, injector: FaultInjector, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """Recover, then fail back with ``injector`` armed for the failback's ticks only."""
    recovery = recovered(harness)
    injector.install(monkeypatch)
    return bring_home(harness, start_failback(harness, recovery)["executionId"])


def bring_home(harness: Harness, failback_id: str) -> dict[str, Any]:
    """Play a started failback to its end: the failback clients connect, the cut-over is
    approved; the failback as it ended."""
    item = harness.execution(failback_id)
    for server in (*DB, *WEB):
        harness.drs.connect_failback_client(item["failback"][server]["instance"])
    drive(harness, failback_id, ("PAUSED",))
    harness.api("POST", "/executions/{executionId}/resume", executionId=failback_id)
    return drive(harness, failback_id, ("COMPLETED", "FAILED"))


def assert_home(harness: Harness, item: dict[str, Any]) -> None:
    assert item["status"] == "COMPLETED", item.get("reason") or item["waves"]
    assert violations(item, harness.drs_jobs()) == []
    for _ in range(3):  # the finder settles the ended failback and stores its report
        harness.run_finder()
    settled = harness.execution(item["executionId"])
    assert "watch" not in settled, "settled: nothing left for the finder to follow"
    stored = harness.stored_report(item["executionId"])
    assert report_violations(settled, stored, len(harness.events(item["executionId"]))) == []
    assert stored is not None
    assert {f["step"] for f in stored[0]["failback"]} == {"HOME"}
    assert {s["step"] for s in item["failback"].values()} == {"HOME"}
    assert all(s.get("protected") for s in item["failback"].values())
    assert harness.drs.recovery_instances == {}, "every recovery instance terminated"
    launched: dict[str, int] = {}
    for drs in harness.all_drs():
        for job in drs.jobs.values():
            batch = (job.get("tags") or {}).get(BATCH_TAG, "")
            if batch.startswith(item["executionId"]):
                launched[batch] = launched.get(batch, 0) + 1
    assert sorted(launched.values()) == [1, 1, 1], f"each failback batch launched once: {launched}"
    assert {s.get("jobId") for s in item["failback"].values()} <= {
        j for drs in harness.all_drs() for j in drs.jobs
    }
    assert APP[0] in item["failback"] and item["failback"][APP[0]]["reversedServer"]
    # Each wave's action ran once (a repeated start is the same automation), and passed.
    tokens = {action_token(item["executionId"], w, "post", 0) for w in ("Db", "App")}
    ran = [e for e in harness.ssm.executions.values() if e["token"] in tokens]
    assert sorted(e["document"] for e in ran) == sorted(FAILBACK_ACTIONS)
    assert {e["status"] for e in ran} == {"Success"}
    assert [r["status"] for w in item["waves"] for r in w.get("actionRuns", [])] == [
        "Success",
        "Success",
    ]
    assert item.get("outbox") == {}, "every notification published"
    told = {n["event"] for n in harness.notifications() if n["executionId"] == item["executionId"]}
    assert {"failback waiting for cut-over approval", "failback completed"} <= told


def test_the_failback_matrix_covers_every_call_of_its_ticks(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    injector = FaultInjector(scope=SCOPE)
    item = failback(harness, injector, monkeypatch)
    assert_home(harness, item)
    reached = set(injector.calls)
    assert reached - set(FAILBACK_POINTS) == set(), "a call of the failback without its row"
    assert set(FAILBACK_POINTS) - reached == set(), "the matrix lists a call never made"
    print(f"\nfailback matrix: {len(CASES)} cases ({len(FAILBACK_POINTS)} call points)")


@pytest.mark.parametrize(("point", "occurrence", "kind"), CASES)
def test_one_fault_in_a_failback_costs_time_not_the_workload(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, point: str, occurrence: int, kind: str
) -> None:
    injector = FaultInjector(point, kind, occurrence, scope=SCOPE)
    item = failback(harness, injector, monkeypatch)
    assert injector.injected == [(point, kind)], "the fault met its call"
    assert_home(harness, item)
