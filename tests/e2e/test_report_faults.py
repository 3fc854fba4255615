"""The settle matrix: once an execution has ended, the finder's janitor stores its report
(its job events read back, the JSON and the HTML written to the deployment bucket) and
takes it out of the watch index. One fault at every call the finder makes in that phase,
of every kind, must cost time only: the next schedules store a complete report and leave
nothing watched (``every-finished-execution-has-a-report``, docs/RELIABILITY.md).

``test_the_settle_matrix_covers_every_call_of_the_phase`` discovers the calls by running
the phase and fails when the finder reaches one the matrix does not list.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
from drs_orchestrator.domain.plans import RecoveryPlan, Wave

from drsctl.invariants import report_violations
from tests.e2e.conftest import FINDER_ACTION
from tests.e2e.faults import API, KINDS, FaultInjector, cases, site_scope
from tests.patience import PATIENCE

if TYPE_CHECKING:
    from tests.e2e.conftest import Harness

pytestmark = pytest.mark.matrix

GROUPS = {"db": ["s-0000000000000r001", "s-0000000000000r002"]}
PLAN = RecoveryPlan("reported", (Wave("Db", ("db",)),))

#: Every call of the finder's first schedule after the execution ended, with its
#: occurrences. The poll: the status index for each active status, the watch index, the
#: heartbeat on the execution it found watched; then the janitor: its read of the
#: execution, the query of the job events, the JSON and the HTML, the watch taken off.
SETTLE_POINTS: dict[str, tuple[int, ...]] = {
    "dynamodb:Query": (1, 2, 3, 4, 5),
    "dynamodb:GetItem": (1,),
    "dynamodb:UpdateItem": (1, 2),
    "s3:PutObject": (1, 2),
}
CASES = cases(SETTLE_POINTS)


def ended_drill(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> str:
    """A drill run to its end with the schedule playing every tenth of a second, its
    janitor held back from settling (nothing stored, still watched) so that the next
    schedule is the first to settle it."""
    from drs_orchestrator.services.janitor import Janitor

    execution_id = harness.run(PLAN, GROUPS, hold=True)
    with monkeypatch.context() as held:
        held.setattr(Janitor, "_settle", lambda *_: None)
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            time.sleep(0.1)
            harness.run_finder()
            item = harness.execution(execution_id)
            if item["status"] == "COMPLETED" and all(
                j["status"] == "COMPLETED" for j in item["jobs"].values()
            ):
                break
    assert harness.machine_status(execution_id) == "SUCCEEDED"
    item = harness.execution(execution_id)
    assert item["status"] == "COMPLETED", item.get("reason")
    assert item.get("watch"), "still watched: the schedule has not settled it"
    assert harness.stored_report(execution_id) is None
    return execution_id


def settle(harness: Harness, execution_id: str, schedules: int = 4) -> dict[str, Any]:
    for _ in range(schedules):
        harness.run_finder()
    return harness.execution(execution_id)


def assert_reported_and_settled(harness: Harness, execution_id: str) -> None:
    item = harness.execution(execution_id)
    stored = harness.stored_report(execution_id)
    events = harness.events(execution_id)
    assert report_violations(item, stored, len(events)) == []
    assert stored is not None
    document, html = stored
    assert document["execution"]["status"] == "COMPLETED"
    assert {s["sourceServerId"] for s in document["servers"]} == set(GROUPS["db"])
    assert all(s["launchStatus"] == "LAUNCHED" for s in document["servers"])
    assert "reported" in html and "<svg" in html
    assert "watch" not in item, "settled: nothing left for the finder to follow"


def test_the_settle_matrix_covers_every_call_of_the_phase(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    execution_id = ended_drill(harness, monkeypatch)
    injector = FaultInjector(scope=frozenset({FINDER_ACTION}))
    injector.install(monkeypatch)
    harness.run_finder()
    assert_reported_and_settled(harness, execution_id)
    reached = {point: tuple(range(1, n + 1)) for point, n in injector.calls.items()}
    assert reached == SETTLE_POINTS, "a call of the settle phase without its row"
    print(f"\nsettle matrix: {len(CASES)} cases ({sum(map(len, reached.values()))} calls)")


@pytest.mark.parametrize(("point", "occurrence", "kind"), CASES)
def test_one_fault_while_settling_costs_time_not_the_report(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, point: str, occurrence: int, kind: str
) -> None:
    execution_id = ended_drill(harness, monkeypatch)
    injector = FaultInjector(point, kind, occurrence, scope=frozenset({FINDER_ACTION}))
    injector.install(monkeypatch)
    settle(harness, execution_id)
    assert injector.injected == [(point, kind)], "the fault met its call"
    assert_reported_and_settled(harness, execution_id)


def test_a_termination_while_the_report_is_written_keeps_the_execution_watched(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request that lands between the janitor's read and its taking the execution off the
    watch (here: terminating the drill's instances, whose TERMINATE jobs the finder must
    follow) keeps it watched; the report is written again once those jobs ended, with the
    termination in it."""
    from drs_orchestrator.adapters.reports import ReportStore

    execution_id = ended_drill(harness, monkeypatch)
    put = ReportStore.put

    def put_then_terminate(store: ReportStore, *args: Any, **kwargs: Any) -> None:
        put(store, *args, **kwargs)
        if not harness.execution(execution_id).get("terminations"):
            status, _ = harness.api(
                "POST", "/executions/{executionId}/terminate-instances", executionId=execution_id
            )
            assert status == 202

    monkeypatch.setattr(ReportStore, "put", put_then_terminate)
    harness.run_finder()
    item = harness.execution(execution_id)
    assert item.get("watch"), "the termination's jobs are still followed"
    item = settle(harness, execution_id)
    assert "watch" not in item
    stored = harness.stored_report(execution_id)
    assert stored is not None
    actions = [a["action"] for a in stored[0]["operatorActions"]]
    assert "asked to terminate 2 recovery instance(s)" in actions
    assert any(j["type"] == "TERMINATE" for j in stored[0]["jobs"])


def test_a_schedule_between_a_termination_asked_and_its_jobs_recorded_keeps_them_followed(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 32's fourth defect: the schedule ran after the API wrote a termination down
    (REQUESTED) and before it recorded the TERMINATE job; it found nothing open, stored the
    report and took the execution off the watch without moving its version, so the job was
    recorded afterwards but never followed (PENDING on the record for ever) and the report
    lacked it. A termination asked for holds the execution watched until its jobs end."""
    from drs_orchestrator.adapters.drs import DrsGateway

    execution_id = ended_drill(harness, monkeypatch)
    ask = DrsGateway.terminate_recovery_instances

    def schedule_then_ask(gateway: DrsGateway, instance_ids: list[str]) -> Any:
        harness.run_finder()  # the schedule, between the request written and DRS asked
        return ask(gateway, instance_ids)

    monkeypatch.setattr(DrsGateway, "terminate_recovery_instances", schedule_then_ask)
    status, asked = harness.api(
        "POST", "/executions/{executionId}/terminate-instances", executionId=execution_id
    )
    assert status == 202, asked
    [job_id] = [t["jobId"] for t in asked["terminations"]]
    assert harness.execution(execution_id).get("watch"), "its TERMINATE job is followed"
    item = settle(harness, execution_id)
    assert item["jobs"][job_id]["status"] == "COMPLETED"
    assert "watch" not in item
    stored = harness.stored_report(execution_id)
    assert stored is not None
    assert job_id in {j["jobId"] for j in stored[0]["jobs"] if j["type"] == "TERMINATE"}


@pytest.mark.parametrize("kind", ["lost", "lost-retried", "crash-after", "crash-cold"])
def test_a_termination_drs_started_unheard_is_found_recorded_and_followed(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Found by the whole-life matrix: DRS started the TERMINATE job but the API never
    heard (its answer lost, even after botocore asked again; the function died once DRS
    was asked). Once recorded as FAILED and asked again, or left REQUESTED for ever, the
    job was on no record, never followed, and missing from the report. Now a lost answer
    is checked at once (DRS lists the job it started); a function that died leaves the
    request asked for, the operator's second request is refused (409: already asked), and
    the janitor finds the job by its instances and records it; it is followed to its end."""
    from tests.e2e.conftest import drop_warm_objects

    execution_id = ended_drill(harness, monkeypatch)
    injector = FaultInjector(point="drs:TerminateRecoveryInstances", kind=kind)
    injector.drop_warm = drop_warm_objects
    injector.install(monkeypatch)
    status, answer = harness.api(
        "POST", "/executions/{executionId}/terminate-instances", executionId=execution_id
    )
    assert injector.injected == [("drs:TerminateRecoveryInstances", kind)]
    if kind.startswith("lost"):  # heard: botocore's second answer, or the job looked up
        assert status == 202, answer
    else:  # the function died: the janitor finds the job
        assert status == 502, answer
        again, refused = harness.api(
            "POST", "/executions/{executionId}/terminate-instances", executionId=execution_id
        )
        assert again == 409, refused
    item = settle(harness, execution_id)
    terminating = {j for j, job in harness.drs.jobs.items() if job["type"] == "TERMINATE"}
    assert terminating, "DRS was asked"
    assert terminating <= set(item["jobs"]), "every TERMINATE job on the record"
    assert {item["jobs"][j]["status"] for j in terminating} == {"COMPLETED"}, "followed"
    started = {t["jobId"] for t in item["terminations"] if t["status"] == "STARTED"}
    assert started, item["terminations"]
    assert started <= terminating
    assert "watch" not in item
    stored = harness.stored_report(execution_id)
    assert stored is not None
    reported = {j["jobId"] for j in stored[0]["jobs"] if j["type"] == "TERMINATE"}
    assert reported == terminating


@pytest.mark.parametrize("kind", ["lost", "lost-retried"])
def test_a_termination_written_down_unheard_goes_on_to_drs(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Found by the whole-life matrix: the save writing a termination down took effect and
    its answer was lost (or botocore's retry of it was refused as stale): the API answered
    503 or 409 "already asked" and never asked DRS, and the request stood, unasked, for
    five minutes. The API reads its request back and goes on."""
    execution_id = ended_drill(harness, monkeypatch)
    # The API's UpdateItems: the request written down, then its job recorded.
    FaultInjector(point="dynamodb:UpdateItem", kind=kind, occurrence=1).install(monkeypatch)
    status, answer = harness.api(
        "POST", "/executions/{executionId}/terminate-instances", executionId=execution_id
    )
    assert status == 202, answer
    [termination] = answer["terminations"]
    assert termination["status"] == "STARTED"
    assert harness.drs.terminated == set(termination["recoveryInstanceIds"])
    item = settle(harness, execution_id)
    assert item["jobs"][termination["jobId"]]["status"] == "COMPLETED"
    assert "watch" not in item


def test_a_termination_drs_answered_with_a_5xx_and_did_not_start_is_asked_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 5xx leaves the outcome unknown: DRS is asked what it started, lists no TERMINATE
    job of the instances, so none was: the request fails (503 saying so) and the operator's
    next one goes through, with one TERMINATE job in all."""
    execution_id = ended_drill(harness, monkeypatch)
    injector = FaultInjector(point="drs:TerminateRecoveryInstances", kind="failure")
    injector.install(monkeypatch)
    path = "/executions/{executionId}/terminate-instances"
    status, answer = harness.api("POST", path, executionId=execution_id)
    assert status == 503, answer
    assert "none was started" in answer["message"]
    [failed] = harness.execution(execution_id)["terminations"]
    assert failed["status"] == "FAILED"
    status, answer = harness.api("POST", path, executionId=execution_id)
    assert status == 202, answer
    item = settle(harness, execution_id)
    terminating = [j for j, job in harness.drs.jobs.items() if job["type"] == "TERMINATE"]
    assert len(terminating) == 1
    assert item["jobs"][terminating[0]]["status"] == "COMPLETED"
    assert "watch" not in item


@pytest.mark.parametrize("kind", KINDS)
def test_a_termination_unheard_whose_look_up_also_fails_is_found_by_the_janitor(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Two faults in one request: DRS started the TERMINATE job and its answer was lost,
    and the API's look-up of what DRS started (``DescribeJobs``) met a fault too. The
    outcome stays unknown: the request stays asked for (503 naming the lost answer, or 502
    when the function died), a second request is refused while it is in flight (409), and
    the janitor finds the job by its instances, records it and follows it to its end."""
    execution_id = ended_drill(harness, monkeypatch)
    api_only = site_scope(API)
    terminate = FaultInjector(point="drs:TerminateRecoveryInstances", kind="lost", scope=api_only)
    look_up = FaultInjector(point="drs:DescribeJobs", kind=kind, scope=api_only)
    terminate.install(monkeypatch)
    look_up.install(monkeypatch)
    path = "/executions/{executionId}/terminate-instances"
    status, answer = harness.api("POST", path, executionId=execution_id)
    assert terminate.injected == [("drs:TerminateRecoveryInstances", "lost")]
    assert look_up.injected == [("drs:DescribeJobs", kind)]
    if kind.startswith("crash"):
        assert status == 502, answer
    else:
        assert status == 503, answer
        assert "DRS's answer was lost" in answer["message"]
    [asked] = harness.execution(execution_id)["terminations"]
    assert asked["status"] == "REQUESTED", "unknown: neither failed nor started"
    again, refused = harness.api("POST", path, executionId=execution_id)
    assert again == 409, refused
    item = settle(harness, execution_id)
    [job_id] = [j for j, job in harness.drs.jobs.items() if job["type"] == "TERMINATE"]
    assert item["jobs"][job_id]["status"] == "COMPLETED", "recorded and followed"
    [termination] = item["terminations"]
    assert (termination["status"], termination["jobId"]) == ("STARTED", job_id)
    assert "watch" not in item
    stored = harness.stored_report(execution_id)
    assert stored is not None
    assert job_id in {j["jobId"] for j in stored[0]["jobs"] if j["type"] == "TERMINATE"}
