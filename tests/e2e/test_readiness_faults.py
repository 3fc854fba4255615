"""The readiness fault matrix: one fault at one AWS call point of the readiness function
(each kind of docs/RELIABILITY.md's fault model), in a scheduled evaluation that finds a
plan's state changed. Whatever the fault, once the schedule has run again: the change is
recorded, its notice was published at least once, and no evaluation still holds a notice.

``test_the_readiness_matrix_covers_every_call_point`` discovers the call points by
running the evaluation, so a new AWS call cannot arrive without its row here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.conftest import READINESS_TABLE
from tests.e2e.faults import FaultInjector, SimulatedCrash, cases, in_handler
from tests.e2e.test_launch_settings import set_settings
from tests.e2e.test_readiness import HOME, with_pre_action
from tests.e2e.test_readiness import plan as two_target_plan
from tests.e2e.test_readiness_history import SCHEDULED, readiness_notices, run

if TYPE_CHECKING:
    from tests.e2e.conftest import Harness

pytestmark = pytest.mark.matrix

#: Every call point of a scheduled evaluation of the plan, with the occurrences to hit
#: (Query: the latest evaluation read to order the plans, then again before recording).
CALL_POINTS: dict[str, tuple[int, ...]] = {
    "dynamodb:Scan": (1, 2),
    "dynamodb:GetItem": (1,),
    "dynamodb:Query": (1, 2),
    "drs:DescribeSourceServers": (1, 2),
    "drs:DescribeRecoverySnapshots": (1, 3),
    "drs:DescribeJobs": (1, 2),
    "ssm:DescribeDocument": (1,),
    "drs:GetLaunchConfiguration": (1, 3),
    "ec2:DescribeLaunchTemplateVersions": (1, 3),
    "ec2:DescribeSubnets": (1, 2),
    "ec2:DescribeInstanceTypeOfferings": (1, 2),
    "iam:SimulatePrincipalPolicy": (1, 4),
    "dynamodb:PutItem": (1,),
    "sns:Publish": (1,),
    "dynamodb:UpdateItem": (1,),
}
CASES = cases(CALL_POINTS)


def scheduled_run() -> dict[str, Any] | None:
    """One firing of the schedule; None when the function failed or died (the schedule
    does not retry: the next firing is the retry)."""
    token = in_handler.set(True)
    try:
        return run(SCHEDULED)
    except (Exception, SimulatedCrash):  # noqa: BLE001 - the invocation failed, as on Lambda
        return None
    finally:
        in_handler.reset(token)


def prepared(harness: Harness) -> str:
    """A plan with a pre-wave action and a group with launch settings, recorded ``passed``;
    then one of its servers stalls."""
    plan_id = two_target_plan(harness)
    with_pre_action(harness, plan_id)
    # Launch settings DRS's defaults already meet: readiness reads each launch configuration.
    status, answer = set_settings(harness, "db", {"launchDisposition": "STARTED"})
    assert status == 200, answer
    harness.drs.stall(HOME[0])
    return plan_id


def assert_change_recorded_and_notified(harness: Harness, plan_id: str) -> None:
    items = harness.dynamodb.scan(TableName=READINESS_TABLE)["Items"]
    mine = sorted(
        (i for i in items if i["planId"]["S"] == plan_id), key=lambda i: i["evaluatedAt"]["S"]
    )
    assert mine[-1]["state"]["S"] == "actionRequired"
    assert not [i for i in mine if "notices" in i], "a notice still waits to be published"
    changes = [n for n in readiness_notices(harness) if n["planId"] == plan_id]
    assert 1 <= len(changes) <= 2, changes  # at least once; twice only if an answer was lost
    assert {(n["previousState"], n["state"]) for n in changes} == {("passed", "actionRequired")}


def test_the_readiness_matrix_covers_every_call_point(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan_id = prepared(harness)
    injector = FaultInjector()
    injector.install(monkeypatch)
    assert scheduled_run() is not None
    reached = set(injector.calls)
    assert reached - set(CALL_POINTS) == set(), "a call point without its row in the matrix"
    assert set(CALL_POINTS) - reached == set(), "the matrix lists a call never made"
    for point, occurrences in CALL_POINTS.items():
        assert injector.calls[point] >= max(occurrences), (point, injector.calls)
    assert_change_recorded_and_notified(harness, plan_id)
    print(f"\nreadiness fault matrix: {len(CASES)} cases ({len(CALL_POINTS)} call points)")


@pytest.mark.parametrize(("point", "occurrence", "kind"), CASES)
def test_one_fault_in_a_scheduled_evaluation(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, point: str, occurrence: int, kind: str
) -> None:
    plan_id = prepared(harness)
    injector = FaultInjector(point=point, kind=kind, occurrence=occurrence)
    injector.install(monkeypatch)
    scheduled_run()
    assert injector.injected == [(point, kind)], f"the fault was never reached: {injector.calls}"
    scheduled_run()  # the next firing
    assert_change_recorded_and_notified(harness, plan_id)
