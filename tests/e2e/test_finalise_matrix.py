"""The Finalise matrix: a drill whose ticks fail for good once its first wave launched (a
bug, say: every tick raises), so the state machine spends the tick's retries and its
``Catch`` runs ``Finalise``, which ends the execution with the error as its reason, frees
its servers and notifies. One fault at each call ``Finalise`` makes, of every kind of the
whole-life matrix: the execution must still end FAILED with the state machine's reason
(``Finalise`` retried, or the janitor ending it once the run failed), its launched job
followed to its end, its servers free, its notification published, its report stored.

``test_the_finalise_matrix_covers_every_call_of_finalise`` discovers the calls and fails
when ``Finalise`` makes one the matrix does not list.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
from drs_orchestrator.domain.plans import RecoveryPlan, Wave

from drsctl.invariants import final_violations, holds_violations, report_violations, violations
from tests.e2e.conftest import drop_warm_objects
from tests.e2e.faults import LIFE_KINDS, FaultInjector
from tests.patience import PATIENCE

if TYPE_CHECKING:
    from tests.e2e.conftest import Harness

pytestmark = pytest.mark.matrix

SERVERS = [f"s-f1na1{n:012d}" for n in range(2)]
PLAN = RecoveryPlan("finalised", (Wave("Db", ("db",)), Wave("App", ("app",), depends_on=("Db",))))
GROUPS = {"db": SERVERS, "app": ["s-f1na1a00000000000"]}
#: What a tick raises once the first wave launched: an error nobody foresaw.
BUG = "a bug in the tick"
SCOPE = frozenset({"finalise"})
#: Every call Finalise makes, with every occurrence: the execution read and ended (a
#: version-checked save), read again, the notification published and taken off the
#: outbox, the holds deleted (one per server), the holds marked released.
FINALISE_POINTS: dict[str, tuple[int, ...]] = {
    "dynamodb:GetItem": (1, 2),
    "dynamodb:UpdateItem": (1, 2, 3),
    "dynamodb:DeleteItem": (1, 2, 3),
    "sns:Publish": (1,),
}
CASES = [
    (point, occurrence, kind)
    for point, occurrences in FINALISE_POINTS.items()
    for occurrence in occurrences
    for kind in LIFE_KINDS
]


def failing_for_good(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run the drill with every tick raising once Db launched; play the schedule until
    the execution ended and settled. Returns the execution as first seen ended."""
    from drs_orchestrator.services.wave_runner import WaveRunner

    tick = WaveRunner.tick

    def buggy(runner: WaveRunner, execution_id: str, run: dict[str, Any]) -> dict[str, Any]:
        item = harness.records.get(execution_id) or {}
        if item.get("jobs"):
            raise RuntimeError(BUG)
        return tick(runner, execution_id, run)

    monkeypatch.setattr(WaveRunner, "tick", buggy)
    execution_id = harness.run(PLAN, GROUPS, hold=True)
    ended_as: dict[str, Any] | None = None
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        harness.run_finder()
        item = harness.execution(execution_id)
        ended = item["status"] in ("COMPLETED", "FAILED", "CANCELLED")
        ended_as = ended_as or (item if ended else None)
        if ended and "watch" not in item:
            break
        time.sleep(0.05)
    assert ended_as is not None, harness.execution(execution_id)["status"]
    return ended_as


def assert_finalised(harness: Harness, ended_as: dict[str, Any]) -> None:
    execution_id = ended_as["executionId"]
    item = harness.execution(execution_id)
    assert "watch" not in item, "settled"
    assert violations(item, harness.drs_jobs()) == []
    assert final_violations(ended_as, item) == []
    assert holds_violations([item], harness.holds()) == []
    assert harness.holds() == {}
    assert item["status"] == "FAILED"
    assert BUG in item["reason"] or "without ending it" in item["reason"], item["reason"]
    assert [w["status"] for w in item["waves"]] == ["FAILED", "SKIPPED"]
    [job] = item["jobs"].values()
    assert job["status"] == "COMPLETED", "the launch it left is followed to its end"
    assert item.get("outbox") == {}, "every notification published"
    told = [n["event"] for n in harness.notifications() if n["executionId"] == execution_id]
    assert "failed" in told, told
    stored = harness.stored_report(execution_id)
    assert report_violations(item, stored, len(harness.events(execution_id))) == []


def test_the_finalise_matrix_covers_every_call_of_finalise(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    injector = FaultInjector(scope=SCOPE)
    injector.install(monkeypatch)
    ended_as = failing_for_good(harness, monkeypatch)
    assert_finalised(harness, ended_as)
    assert BUG in harness.execution(ended_as["executionId"])["reason"], "Finalise ended it"
    assert set(injector.calls) == set(FINALISE_POINTS), injector.calls
    # Each call as often as one Finalise makes it: it answered the first time (a Finalise
    # that failed after recording the end would be retried by the state machine).
    assert {p: max(o) for p, o in FINALISE_POINTS.items()} == dict(injector.calls)


@pytest.mark.parametrize(("point", "occurrence", "kind"), CASES)
def test_one_fault_in_finalise_still_ends_the_execution(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, point: str, occurrence: int, kind: str
) -> None:
    injector = FaultInjector(point, kind, occurrence, scope=SCOPE, drop_warm=drop_warm_objects)
    injector.install(monkeypatch)
    ended_as = failing_for_good(harness, monkeypatch)
    assert injector.injected == [(point, kind)], f"never reached: {injector.calls}"
    assert_finalised(harness, ended_as)
