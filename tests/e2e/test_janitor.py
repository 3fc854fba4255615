"""The janitor settles an ended execution's launches in doubt (``nothing-launched-is-lost``).

An execution can end with a batch INTENDED: its ``StartRecovery`` answer was lost, or the
function died after the call, and then the run ended (``Finalise``, the janitor, a stop by
hand) before a tick looked for the job by its tag. The janitor looks for it once the
execution ended: found, the job goes on the execution and is followed to its end, and the
report holds it; not found, the batch is refused, named as never launched. Mutation
testing found no test of it: a janitor that never reconciled kept every other test green.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drs_orchestrator.domain import runner as core
from drs_orchestrator.domain.plans import RecoveryPlan, Wave
from drs_orchestrator.services.executions import new_execution

from drsctl.invariants import report_violations, violations
from tests.e2e.conftest import now_iso

if TYPE_CHECKING:
    from tests.e2e.conftest import Harness

SERVERS = [f"s-j{n:016d}" for n in range(2)]
PLAN = RecoveryPlan("doubt", (Wave("A", ("db",)),))


def ended_with_a_launch_in_doubt(harness: Harness, execution_id: str) -> str:
    """Write an execution that ended FAILED while its one batch was INTENDED (as
    ``Finalise`` leaves it: an intended batch stays in doubt); returns the batch's id."""
    stamp = now_iso()
    item = new_execution(execution_id, "plan-1", PLAN, {"db": SERVERS}, "DRILL", stamp)
    batch_id = core.batch_id(execution_id, "A", 0)
    item["batches"] = {
        batch_id: {
            "batchId": batch_id,
            "wave": "A",
            "servers": SERVERS,
            "status": "INTENDED",
            "plannedAt": stamp,
            "intendedAt": stamp,
            "attempts": 1,
        }
    }
    item["waves"][0].update(
        status="FAILED",
        batchIds=[batch_id],
        startedAt=stamp,
        endedAt=stamp,
        reason=f"States.Timeout: the tick timed out; not launched: 2 servers: {', '.join(SERVERS)}",
    )
    item.update(status="FAILED", endedAt=stamp, reason="wave A: States.Timeout")
    harness.records.create(item)
    return batch_id


def launch_tagged(harness: Harness, execution_id: str, batch_id: str) -> str:
    """The launch DRS took before the answer was lost: its job carries the batch's tag."""
    answer = harness.drs.client().start_recovery(
        sourceServers=[{"sourceServerID": s} for s in SERVERS],
        isDrill=True,
        tags={core.BATCH_TAG: batch_id, "drs-orchestrator:execution": execution_id},
    )
    return str(answer["job"]["jobID"])


def settle(harness: Harness, execution_id: str) -> dict[str, Any]:
    for _ in range(6):
        harness.run_finder()
        item = harness.execution(execution_id)
        if "watch" not in item:
            return item
    return harness.execution(execution_id)


def test_a_launch_in_doubt_found_after_the_end_is_recorded_and_followed(
    harness: Harness,
) -> None:
    batch_id = ended_with_a_launch_in_doubt(harness, "exec-doubt-found")
    job_id = launch_tagged(harness, "exec-doubt-found", batch_id)

    item = settle(harness, "exec-doubt-found")

    assert item["batches"][batch_id]["status"] == "STARTED"
    assert item["batches"][batch_id]["jobId"] == job_id
    assert item["jobs"][job_id]["status"] == "COMPLETED", "followed to its end"
    assert item["waves"][0]["jobIds"] == [job_id]
    assert {item["servers"][s]["launchStatus"] for s in SERVERS} == {"LAUNCHED"}
    assert item["status"] == "FAILED", "terminal-is-final: the outcome stays"
    assert "watch" not in item
    assert violations(item, harness.drs_jobs()) == []
    stored = harness.stored_report("exec-doubt-found")
    events = len(harness.events("exec-doubt-found"))
    assert report_violations(item, stored, events) == []
    assert stored is not None and job_id in {j["jobId"] for j in stored[0]["jobs"]}


def test_a_launch_in_doubt_never_taken_is_named_never_launched(harness: Harness) -> None:
    batch_id = ended_with_a_launch_in_doubt(harness, "exec-doubt-none")

    item = settle(harness, "exec-doubt-none")

    batch = item["batches"][batch_id]
    assert batch["status"] == "REFUSED"
    assert batch["reason"] == "never launched: the execution had ended"
    assert item["jobs"] == {}
    assert "watch" not in item
    assert violations(item, harness.drs_jobs()) == []


def test_the_janitor_does_not_end_an_execution_handed_over_while_it_looked(
    harness: Harness, monkeypatch: Any
) -> None:
    """Found by the whole-life matrix: the janitor read the execution (its run r1), the
    runner then handed over to r2 and r1 ended SUCCEEDED; asked after r1, the janitor ended
    the execution as "its state machine run ended SUCCEEDED without ending it" while r2
    ran it. Its reason's premise is checked again on the record before it ends anything."""
    from drs_orchestrator.adapters.stepfunctions import StateMachines

    harness.drs.autopilot = False  # the wave stays launching: the execution stays live
    execution_id = harness.run(PLAN, {"db": SERVERS})
    from tests.e2e.conftest import wait_until

    wait_until(
        lambda: harness.execution(execution_id)["waves"][0]["status"] == "LAUNCHING",
        message="wave launching",
    )
    status = StateMachines.run_status

    def handed_over_meanwhile(machines: StateMachines, run: str) -> str:
        if run == execution_id:  # the run the janitor read: it hands over, then ends
            harness.records.mark(execution_id, {"machineRun": f"{execution_id}-r2"})
            return "SUCCEEDED"
        return status(machines, run)

    monkeypatch.setattr(StateMachines, "run_status", handed_over_meanwhile)
    harness.run_finder()
    item = harness.execution(execution_id)
    assert item["status"] == "RUNNING", item.get("reason")
    harness.drs.autopilot = True
    harness.records.mark(execution_id, {"machineRun": execution_id})
    monkeypatch.setattr(StateMachines, "run_status", status)
    assert harness.wait_for(execution_id, "COMPLETED", "FAILED")["status"] == "COMPLETED"
