"""The fault matrix on moto as shipped and as the suite runs it: the same sample of cases,
every outcome compared.

The suite's harness answers DynamoDB from the stand-in (``tests/fakes/dynamodb.py``) and
runs moto's Step Functions interpreter with the quick helpers (``tests/fakes/quick_moto.py``).
Here each sampled case runs twice, in two worlds built in turn: first on moto alone, as
shipped (its DynamoDB, its own helpers put back), then as the suite runs it. Run to
run, a drill's timing varies (how many finder polls fall within a wave), so what is compared
is what the matrix asserts and what the runtime decided: the ending, each wave's ending and
its DRS jobs, the servers launched, the fault met, the notifications, the outbox, the
invariants' violations, the events recorded and the report's findings.
"""

from __future__ import annotations

from typing import Any

import pytest

from drsctl.invariants import report_violations, violations
from tests.e2e.conftest import harness_world
from tests.e2e.faults import FaultInjector, site_scope
from tests.e2e.test_fault_matrix import CASES, GROUPS, run_drill
from tests.fakes import quick_moto

#: Every eighteenth case of the matrix: each kind of fault, each handler, each service.
pytestmark = pytest.mark.matrix

SAMPLE = CASES[::18]


def outcome(harness: Any, item: dict[str, Any], injector: FaultInjector) -> dict[str, Any]:
    jobs = harness.drs_jobs()
    return {
        "status": item["status"],
        "machine": harness.machine_status(item["executionId"]),
        "waves": [(w["name"], w["status"], len(w.get("jobIds", []))) for w in item["waves"]],
        "launched": sorted(
            s["sourceServerID"] for job in jobs for s in job.get("participatingServers", [])
        ),
        "injected": injector.injected,
        "notifications": sorted({n["event"] for n in harness.notifications()}),
        "outbox": item.get("outbox"),
        "watch": item.get("watch"),
        "violations": violations(item, jobs),
        "report": report_violations(
            item,
            harness.stored_report(item["executionId"]),
            len(harness.events(item["executionId"])),
        ),
        "events": len(harness.events(item["executionId"])),
    }


def test_the_sample_spans_every_kind_and_handler() -> None:
    assert {kind for *_, kind in SAMPLE} == {
        "throttle",
        "failure",
        "lost",
        "crash-before",
        "crash-after",
    }
    assert {action for action, *_ in SAMPLE} >= {"start", "tick", "finder-schedule", "api"}


@pytest.mark.parametrize(("action", "point", "occurrence", "kind"), SAMPLE)
def test_a_case_ends_the_same_on_moto_as_shipped_and_as_the_suite_runs_it(
    action: str, point: str, occurrence: int, kind: str
) -> None:
    outcomes = []
    for shipped in (True, False):
        with pytest.MonkeyPatch.context() as monkeypatch:
            if shipped:
                quick_moto.uninstall(monkeypatch)
            with harness_world(monkeypatch, on_moto=shipped) as harness:
                injector = FaultInjector(
                    point=point, kind=kind, occurrence=occurrence, scope=site_scope(action)
                )
                injector.install(monkeypatch)
                outcomes.append(outcome(harness, run_drill(harness), injector))
    on_moto, as_run = outcomes
    assert as_run == on_moto
    assert on_moto["status"] == "COMPLETED" and on_moto["violations"] == []
    assert len(set(on_moto["launched"])) == sum(len(servers) for servers in GROUPS.values())
