"""The fault matrix: a drill of three waves (one over 100 servers with pre- and post-wave
actions, one paused for approval, one independent in another account and region, reached
through STS) run end to end on the real state machine, wave runner, finder and janitor,
with one fault injected at one AWS call site: a call point (``service:Operation``) as one
handler action makes it (a tick's save and the approval's save are two sites). For every
call site the drill reaches and every kind of fault, the drill must end COMPLETED and
keep every invariant of docs/RELIABILITY.md.

``test_the_matrix_covers_every_call_site_of_the_drill`` discovers the call sites by
running the drill and fails when the runtime reaches one the matrix does not list, so a
new AWS call cannot arrive without its row in the matrix.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
from drs_orchestrator.domain.plans import Action, RecoveryPlan, Wave

from drsctl.invariants import final_violations, holds_violations, report_violations, violations
from tests.e2e.conftest import FINDER_ACTION, STAGING
from tests.e2e.faults import API, FaultInjector, handler_action, site_cases, site_scope
from tests.patience import PATIENCE

if TYPE_CHECKING:
    from tests.e2e.conftest import Harness


pytestmark = pytest.mark.matrix


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

#: Every call site of the drill: (the handler's action, the AWS call point) with the
#: occurrences within that action to hit. ``api`` is the operator's approval through the
#: API (its audit records and the wake of the waiting machine). The tick's second
#: StartRecovery is the second batch of the 101-server wave; the start's StartRecovery
#: and AssumeRole launch the independent Web wave in its DRS target.
CALL_SITES: dict[tuple[str, str], tuple[int, ...]] = {
    ("start", "dynamodb:GetItem"): (1,),
    ("start", "dynamodb:UpdateItem"): (1,),
    ("start", "drs:StartRecovery"): (1,),
    ("start", "sts:AssumeRole"): (1,),
    ("start", "ssm:StartAutomationExecution"): (1,),
    ("start", "sns:Publish"): (1,),
    ("tick", "dynamodb:GetItem"): (1,),
    ("tick", "dynamodb:UpdateItem"): (1, 2),
    ("tick", "dynamodb:BatchWriteItem"): (1,),
    ("tick", "dynamodb:DeleteItem"): (1,),
    ("tick", "drs:StartRecovery"): (1, 2),
    ("tick", "drs:DescribeJobs"): (1,),
    ("tick", "drs:DescribeJobLogItems"): (1,),
    ("tick", "sts:AssumeRole"): (1,),
    ("tick", "ssm:StartAutomationExecution"): (1,),
    ("tick", "ssm:GetAutomationExecution"): (1,),
    ("tick", "sns:Publish"): (1, 2),
    ("awaitApproval", "dynamodb:GetItem"): (1,),
    ("awaitApproval", "dynamodb:UpdateItem"): (1,),
    ("finder-schedule", "dynamodb:GetItem"): (1,),
    ("finder-schedule", "dynamodb:Query"): (1,),
    ("finder-schedule", "dynamodb:UpdateItem"): (1,),
    ("finder-schedule", "dynamodb:BatchWriteItem"): (1,),
    ("finder-schedule", "drs:DescribeJobs"): (1,),
    ("finder-schedule", "drs:DescribeJobLogItems"): (1,),
    ("finder-schedule", "stepfunctions:DescribeExecution"): (1,),
    # The settled execution's report (every occurrence: tests/e2e/test_report_faults.py).
    ("finder-schedule", "s3:PutObject"): (1,),
    # The operator's approval: its audit intent and outcome, the record, the wake.
    (API, "dynamodb:GetItem"): (1,),
    (API, "dynamodb:PutItem"): (1, 2),
    (API, "dynamodb:UpdateItem"): (1,),
    (API, "stepfunctions:SendTaskSuccess"): (1,),
}
CASES = site_cases(CALL_SITES)
#: The phases of an execution's life the matrix's call sites lie in, as its summary line
#: names them (docs/RELIABILITY.md says what it does not reach yet).
PHASES = {
    "start": "the run's first tick",
    "tick": "ticks",
    "awaitApproval": "the approval's wait",
    API: "the operator's approval through the API",
    FINDER_ACTION: "the finder's schedule and janitor (settling, the report)",
}


def phases_covered() -> list[str]:
    """The phases, in the order of a drill's life, that some call site of the matrix is in."""
    actions = {action for action, _ in CALL_SITES}
    return [phase for action, phase in PHASES.items() if action in actions]


#: Call sites a drill reaches in some runs only, with why, and where their faults are
#: proven instead.
TIMING_SITES: dict[tuple[str, str], str] = {
    ("finder-schedule", "sts:AssumeRole"): (
        "the finder assumes the Web wave's target role only if it polls that job before "
        "the first tick's own poll recorded its end; its faults: tests/lambdas/test_targets"
        ".py::test_a_target_out_of_reach_costs_the_finder_only_its_own_jobs"
    ),
}


def finish_once_the_finder_saw(harness: Harness) -> None:
    """Home's launch jobs finish only once the finder's schedule has described them, and the
    Web wave's job in its target only once a tick has.

    DRS's fake on autopilot moves a job one phase on per DescribeJobs (PENDING, STARTED,
    COMPLETED), so a job lives two ticks. Idle, the finder's schedule (every pass of the
    drive loop) always polls a running job; on a loaded machine the ticks can start and end
    every job between two polls, and the finder's call sites (its DescribeJobLogItems, its
    events' BatchWriteItem) go unreached. The other way round, the schedule can poll the
    target's job (launched by the start) to its end before the first tick runs, and that
    tick then has no target in use to reach (its AssumeRole goes unreached: seen once, on a
    busy machine). Held like this, DRS simply takes as long as the schedule and the ticks
    need, and every case reaches its site however busy the machine is."""
    hold_launches_until_described(harness.drs, FINDER_ACTION)
    hold_launches_until_described(harness.targets[STAGING], "tick")


def hold_launches_until_described(drs: Any, action: str) -> None:
    """``drs``'s started launch jobs complete only once a call of ``action`` described them."""
    seen: set[str] = set()
    advance, describe = drs._advance, drs._op_DescribeJobs

    def held_until_seen(job_id: str) -> None:
        job = drs.jobs[job_id]
        running = job["type"] == "LAUNCH" and job["status"] == "STARTED"
        if running and job_id not in seen and handler_action.get() != action:
            return
        advance(job_id)

    def noting_the_describer(params: dict[str, Any]) -> dict[str, Any]:
        if handler_action.get() == action:
            seen.update((params.get("filters") or {}).get("jobIDs") or [])
        return describe(params)

    drs._advance = held_until_seen
    drs._op_DescribeJobs = noting_the_describer


def run_drill(harness: Harness, timeout: float = PATIENCE) -> dict[str, Any]:
    """The drill run and settled (``watch_the_drill``): the execution as it is then."""
    return watch_the_drill(harness, timeout)[1]


def watch_the_drill(
    harness: Harness, timeout: float = PATIENCE
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Start the drill, its servers held as the API's start holds them, and play operator
    and schedule until it ended and settled: the operator approves a paused wave once the
    machine waits for the approval (its task token is on the item, so the approval's wake
    is one of the API's calls, however the threads ran), the finder's schedule fires on
    every pass of the loop (home's jobs wait for it: ``finish_once_the_finder_saw``).
    Returns the execution as first seen ended (None if it never ended) and as settled."""
    harness.drs.brief_logs = True
    finish_once_the_finder_saw(harness)
    execution_id = harness.run(DRILL, GROUPS, targets=GROUP_TARGETS, hold=True)
    ended_as: dict[str, Any] | None = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.1)
        item = harness.execution(execution_id)
        harness.run_finder()
        waiting = "taskToken" in item and item["status"] == "PAUSED"
        if waiting and any(w["status"] == "AWAITING_APPROVAL" for w in item["waves"]):
            harness.api("POST", "/executions/{executionId}/resume", executionId=execution_id)
        ended = item["status"] in ("COMPLETED", "FAILED", "CANCELLED")
        ended_as = ended_as or (item if ended else None)
        if ended and harness.machine_status(execution_id, timeout=0.5) != "RUNNING":
            break
    # Settle: the schedule keeps following DRS jobs, the outbox and the holds.
    for _ in range(3):
        harness.run_finder()
    return ended_as, harness.execution(execution_id)


def assert_kept_every_invariant(
    harness: Harness, item: dict[str, Any], ended_as: dict[str, Any] | None
) -> None:
    drs_jobs = harness.drs_jobs()
    assert violations(item, drs_jobs) == []
    assert ended_as is not None, "the drill never ended"
    assert final_violations(ended_as, item) == []
    assert holds_violations([item], harness.holds()) == []
    assert item["status"] == "COMPLETED", item.get("reason")
    assert harness.machine_status(item["executionId"]) == "SUCCEEDED"
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
    ended_as, item = watch_the_drill(harness)
    assert_kept_every_invariant(harness, item, ended_as)


def test_the_matrix_covers_every_call_site_of_the_drill(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    injector = FaultInjector()
    injector.install(monkeypatch)
    run_drill(harness)
    reached = {(API if action is None else action, point) for action, point in injector.sites}
    unlisted = reached - set(CALL_SITES) - set(TIMING_SITES)
    assert unlisted == set(), "a call site without its row in the matrix"
    assert set(CALL_SITES) - reached == set(), "the matrix lists a call the drill never makes"
    for (action, point), occurrences in CALL_SITES.items():
        made = injector.sites[(None if action == API else action, point)]
        assert max(occurrences) <= made, f"{action} makes {point} {made} times"
    print(f"\nfault matrix: {len(CASES)} cases ({len(CALL_SITES)} call sites)")


@pytest.mark.parametrize(("action", "point", "occurrence", "kind"), CASES)
def test_one_fault_at_one_call_site(
    harness: Harness,
    monkeypatch: pytest.MonkeyPatch,
    action: str,
    point: str,
    occurrence: int,
    kind: str,
) -> None:
    injector = FaultInjector(
        point=point, kind=kind, occurrence=occurrence, scope=site_scope(action)
    )
    injector.install(monkeypatch)
    ended_as, item = watch_the_drill(harness)
    assert injector.injected == [(point, kind)], f"the fault was never reached: {injector.sites}"
    assert_kept_every_invariant(harness, item, ended_as)


def test_every_call_site_lies_in_a_named_phase() -> None:
    """The summary line names the phases the matrix covers: a call site of a new handler
    action must come with its phase's name, or the line would claim less than it runs."""
    assert {action for action, _ in CALL_SITES} <= set(PHASES)
    assert phases_covered() == list(PHASES.values())
