"""A failback's start through the API under faults: a finished recovery brought home, one
fault at one call of ``POST /executions/{id}/failback`` (the recovery and the plan read,
the audit's intent and outcome, each server's hold, the failback written, DRS's source
servers described, its state machine started), of one of the whole-life matrix's seven
kinds. The admin asks again after a 5xx, a 502 or a 409 from a start that died, as a
person would (a 409 naming a failback that runs: the start went through unheard, and
that one is followed). The failback must then bring every server home as the failback
matrix requires, every execution a start made must be settled and consistent, and no
server may stay held.

Every call and occurrence × kind is a case (91); a run takes ``SAMPLE`` of them drawn
with the run's seed (``DRS_FAULT_SEED``, printed in the life matrix's summary line;
``DRS_FAILBACK_START_SAMPLE=all`` runs every case): a case costs a recovery and a
failback, three seconds.
"""

from __future__ import annotations

import json
import os
import random
from typing import TYPE_CHECKING

import pytest

from drsctl.invariants import holds_violations, violations
from tests.e2e.conftest import drop_warm_objects
from tests.e2e.faults import LIFE_KINDS, FaultInjector
from tests.e2e.test_failback import recovered
from tests.e2e.test_failback_faults import assert_home, bring_home
from tests.e2e.test_life_matrix import fault_seed

if TYPE_CHECKING:
    from tests.e2e.conftest import Harness

pytestmark = pytest.mark.matrix

ACTION = "api-failback"
#: Every call of the failback's start, with how many times a start makes it.
START_POINTS = {
    "dynamodb:GetItem": 4,
    "dynamodb:PutItem": 7,
    "drs:DescribeSourceServers": 1,
    "stepfunctions:StartExecution": 1,
}
ALL_CASES = [
    (point, occurrence, kind)
    for point, made in START_POINTS.items()
    for occurrence in range(1, made + 1)
    for kind in LIFE_KINDS
]
SAMPLE = os.environ.get("DRS_FAILBACK_START_SAMPLE", "4")
CASES = (
    ALL_CASES
    if SAMPLE == "all"
    else sorted(
        random.Random(fault_seed()).sample(ALL_CASES, int(SAMPLE)),  # noqa: S311 - a sample
        key=ALL_CASES.index,
    )
)


def start_until_accepted(harness: Harness, recovery_id: str) -> tuple[str, list[str]]:
    """The admin's failback start, asked again until accepted; the failback that runs and
    every execution a start made."""
    made: list[str] = []
    for _ in range(6):
        status, body = harness.api(
            "POST",
            "/executions/{executionId}/failback",
            groups="admin",
            body=json.dumps({"restartReplication": True, "terminateRecoveryInstances": True}),
            executionId=recovery_id,
            action=ACTION,
        )
        words = str((body or {}).get("message", "")).split()
        named = [w.rstrip(":") for w in words if w.startswith(("fb-", "ex-"))]
        if status == 202:
            made.append(body["executionId"])
            return body["executionId"], made
        assert status in (409, 500, 502, 503), (status, body)
        made.extend(n for n in named if n != recovery_id and harness.records.get(n))
        live = [n for n in named if n != recovery_id and _live(harness, n)]
        if status == 409 and live:  # the start went through unheard: follow it
            return live[0], made
        harness.run_finder()
    msg = "the failback's start never went through"
    raise AssertionError(msg)


def _live(harness: Harness, execution_id: str) -> bool:
    item = harness.records.get(execution_id)
    return bool(item) and item["status"] not in ("COMPLETED", "FAILED", "CANCELLED")


def test_the_matrix_lists_every_call_of_a_failback_start(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    recovery = recovered(harness)
    injector = FaultInjector(scope=frozenset({ACTION}))
    injector.install(monkeypatch)
    failback_id, _ = start_until_accepted(harness, recovery["executionId"])
    assert dict(injector.calls) == START_POINTS
    assert_home(harness, bring_home(harness, failback_id))


@pytest.mark.parametrize(("point", "occurrence", "kind"), CASES)
def test_one_fault_in_a_failback_start_loses_nothing(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, point: str, occurrence: int, kind: str
) -> None:
    from drs_orchestrator.handlers import api

    monkeypatch.setenv("HOLDS_ABANDONED_AFTER_SECONDS", "0")  # the admin asks again at once
    api._catalog.cache_clear()
    recovery = recovered(harness)
    injector = FaultInjector(
        point, kind, occurrence, scope=frozenset({ACTION}), drop_warm=drop_warm_objects
    )
    injector.install(monkeypatch)
    failback_id, made = start_until_accepted(harness, recovery["executionId"])
    assert injector.injected == [(point, kind)], f"never reached: {injector.calls}"
    assert_home(harness, bring_home(harness, failback_id))
    for _ in range(3):
        harness.run_finder()
    items = [harness.execution(e) for e in {*made, failback_id}]
    for item in items:
        assert violations(item, harness.drs_jobs()) == [], item["executionId"]
        assert "watch" not in item, item["executionId"]
        if item["executionId"] != failback_id:
            assert item["status"] == "FAILED", item["status"]
    assert holds_violations(items, harness.holds()) == []
    assert harness.holds() == {}
