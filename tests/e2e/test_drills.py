"""Drills and recoveries run end to end by the real state machine and wave runner."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from drs_orchestrator.domain.plans import RecoveryPlan, Wave

if TYPE_CHECKING:
    from tests.e2e.conftest import Harness


def servers(prefix: str, count: int) -> list[str]:
    return [f"s-{prefix}{n:0{17 - len(prefix)}d}" for n in range(count)]


GROUPS = {"db": servers("a", 2), "app": servers("b", 3), "web": servers("c", 2)}


def test_three_wave_drill_respects_dependencies(harness: Harness) -> None:
    plan = RecoveryPlan(
        "three-tier",
        (Wave("A", ("db",)), Wave("B", ("app",), depends_on=("A",)), Wave("C", ("web",))),
    )
    execution_id = harness.run(plan, GROUPS)
    item = harness.wait_for(execution_id, "COMPLETED", "FAILED")
    assert item["status"] == "COMPLETED"
    assert harness.machine_status(execution_id) == "SUCCEEDED"
    waves = {w["name"]: w for w in item["waves"]}
    assert {w["status"] for w in waves.values()} == {"COMPLETED"}
    assert waves["B"]["startedAt"] >= waves["A"]["launchedAt"], "B waits for A to launch"
    assert waves["C"]["startedAt"] < waves["A"]["launchedAt"], "C overlaps A"
    assert all(s["launchStatus"] == "LAUNCHED" for s in item["servers"].values())
    assert len(item["servers"]) == 7
    events = harness.events(execution_id)
    assert len(events) == sum(len(log) for log in harness.drs.logs.values())
    assert len({e["eventKey"] for e in events}) == len(events), "every job event recorded once"
    jobs = harness.drs.jobs.values()
    assert all(j["initiatedBy"] == "START_DRILL" for j in jobs)
    assert {j["tags"]["drs-orchestrator:execution"] for j in jobs} == {execution_id}
    assert [n["event"] for n in harness.notifications()] == ["started", "completed"]
    assert harness.drs.violations == []


def test_a_failed_launch_fails_the_wave_and_no_later_wave_starts(harness: Harness) -> None:
    harness.drs.failing_servers = {GROUPS["db"][1]}
    plan = RecoveryPlan("fails", (Wave("A", ("db",)), Wave("B", ("app",), depends_on=("A",))))
    execution_id = harness.run(plan, GROUPS, mode="RECOVERY")
    item = harness.wait_for(execution_id, "COMPLETED", "FAILED")
    assert item["status"] == "FAILED"
    assert harness.machine_status(execution_id) == "FAILED"
    waves = {w["name"]: w for w in item["waves"]}
    assert waves["A"]["status"] == "FAILED"
    assert waves["A"]["reason"] == f"servers did not launch: 1 server: {GROUPS['db'][1]} (FAILED)"
    assert waves["B"]["status"] == "SKIPPED" and not waves["B"]["jobIds"]
    assert {j["initiatedBy"] for j in harness.drs.jobs.values()} == {"START_RECOVERY"}
    assert len(harness.drs.jobs) == 1
    assert harness.notifications()[-1]["event"] == "failed"


def test_a_250_server_wave_is_launched_as_three_jobs(harness: Harness) -> None:
    groups = {"big": servers("d", 250)}
    execution_id = harness.run(RecoveryPlan("big", (Wave("all", ("big",)),)), groups)
    item = harness.wait_for(execution_id, "COMPLETED", "FAILED")
    assert item["status"] == "COMPLETED"
    sizes = sorted(len(j["participatingServers"]) for j in harness.drs.jobs.values())
    assert sizes == [50, 100, 100]
    assert Counter(s["launchStatus"] for s in item["servers"].values()) == {"LAUNCHED": 250}


def test_pause_before_a_wave_then_resume(harness: Harness) -> None:

    from tests.e2e.conftest import wait_until

    plan = RecoveryPlan(
        "gated", (Wave("A", ("db",)), Wave("B", ("app",), depends_on=("A",), pause_before=True))
    )
    execution_id = harness.run(plan, GROUPS)
    paused = harness.wait_for(execution_id, "PAUSED")
    waves = {w["name"]: w for w in paused["waves"]}
    assert waves["A"]["status"] == "COMPLETED"
    assert waves["B"]["status"] == "AWAITING_APPROVAL" and not waves["B"]["jobIds"]
    wait_until(lambda: "taskToken" in harness.execution(execution_id), message="task token")
    assert harness.notifications()[-1] == {
        "event": "waiting for approval",
        "executionId": execution_id,
        "planName": "gated",
        "mode": "DRILL",
        "status": "PAUSED",
        "wave": "B",
    }

    assert (
        harness.api(
            "POST", "/executions/{executionId}/resume", groups="read-only", executionId=execution_id
        )[0]
        == 403
    )
    status, resumed = harness.api(
        "POST", "/executions/{executionId}/resume", executionId=execution_id
    )
    assert status == 200 and resumed["status"] == "RUNNING"

    item = harness.wait_for(execution_id, "COMPLETED", "FAILED")
    assert item["status"] == "COMPLETED"
    b = next(w for w in item["waves"] if w["name"] == "B")
    assert b["approved"] is True and b["startedAt"] >= b["approvedAt"]
    assert "taskToken" not in item
    assert harness.machine_status(execution_id) == "SUCCEEDED"


def test_cancel_while_paused_skips_the_rest(harness: Harness) -> None:
    from drs_orchestrator.services import executions

    from tests.e2e.conftest import now_iso, wait_until

    plan = RecoveryPlan(
        "gated",
        (
            Wave("A", ("db",)),
            Wave("B", ("app",), depends_on=("A",), pause_before=True),
            Wave("C", ("web",), depends_on=("B",)),
        ),
    )
    execution_id = harness.run(plan, GROUPS)
    harness.wait_for(execution_id, "PAUSED")
    wait_until(lambda: "taskToken" in harness.execution(execution_id), message="task token")

    executions.cancel(harness.records, harness.machines, execution_id, now_iso())

    item = harness.wait_for(execution_id, "CANCELLED", "FAILED", "COMPLETED")
    assert item["status"] == "CANCELLED"
    assert [w["status"] for w in item["waves"]] == ["COMPLETED", "SKIPPED", "SKIPPED"]
    assert harness.machine_status(execution_id) == "SUCCEEDED"
    assert harness.notifications()[-1]["event"] == "cancelled"


def test_cancel_mid_launch_lets_the_wave_finish_and_starts_nothing_more(harness: Harness) -> None:
    from drs_orchestrator.services import executions

    from tests.e2e.conftest import now_iso, wait_until

    harness.drs.autopilot = False  # hold wave A in LAUNCHING
    plan = RecoveryPlan("chain", (Wave("A", ("db",)), Wave("B", ("app",), depends_on=("A",))))
    execution_id = harness.run(plan, GROUPS)
    wait_until(
        lambda: harness.execution(execution_id)["waves"][0]["status"] == "LAUNCHING",
        message="wave A launching",
    )
    executions.cancel(harness.records, harness.machines, execution_id, now_iso())
    harness.drs.autopilot = True

    item = harness.wait_for(execution_id, "CANCELLED", "FAILED", "COMPLETED")
    assert item["status"] == "CANCELLED"
    assert [w["status"] for w in item["waves"]] == ["COMPLETED", "SKIPPED"]
    assert len(harness.drs.jobs) == 1
    events = harness.events(execution_id)
    assert len(events) == len(next(iter(harness.drs.logs.values()))), "A's job events recorded"


def test_throttled_start_recovery_is_retried_by_the_next_tick(harness: Harness) -> None:
    harness.drs.fail_next("StartRecovery", "ThrottlingException", times=8)
    execution_id = harness.run(RecoveryPlan("one", (Wave("A", ("db",)),)), GROUPS)
    item = harness.wait_for(execution_id, "COMPLETED", "FAILED")
    assert item["status"] == "COMPLETED"
    assert len(harness.drs.calls_to("StartRecovery")) == 9
    assert len(harness.drs.jobs) == 1


def test_pre_and_post_wave_actions_run_around_the_launch(harness: Harness) -> None:
    from drs_orchestrator.domain.plans import Action

    plan = RecoveryPlan(
        "actions",
        (
            Wave(
                "A",
                ("db",),
                pre_actions=(Action("DR-PrepareNetwork", {"Vpc": ["vpc-0abc"]}),),
                post_actions=(Action("DR-SmokeTest"), Action("DR-NotifyTeams")),
            ),
        ),
    )
    execution_id = harness.run(plan, GROUPS)
    item = harness.wait_for(execution_id, "COMPLETED", "FAILED")
    assert item["status"] == "COMPLETED"
    [wave] = item["waves"]
    runs = wave["actionRuns"]
    assert [(r["phase"], r["document"], r["status"]) for r in runs] == [
        ("pre", "DR-PrepareNetwork", "Success"),
        ("post", "DR-SmokeTest", "Success"),
        ("post", "DR-NotifyTeams", "Success"),
    ]
    assert runs[0]["startedAt"] <= wave["startedAt"] <= wave["launchedAt"] <= runs[1]["startedAt"]
    started = [p for op, p in harness.ssm.calls if op == "StartAutomationExecution"]
    assert started[0]["Parameters"] == {"Vpc": ["vpc-0abc"]}
    assert harness.ssm.violations == []


def test_a_failed_post_action_fails_the_wave(harness: Harness) -> None:
    from drs_orchestrator.domain.plans import Action

    harness.ssm.failing.add("DR-SmokeTest")
    plan = RecoveryPlan(
        "actions",
        (
            Wave("A", ("db",), post_actions=(Action("DR-SmokeTest"),)),
            Wave("B", ("app",), depends_on=("A",)),
        ),
    )
    execution_id = harness.run(plan, GROUPS)
    item = harness.wait_for(execution_id, "COMPLETED", "FAILED")
    assert item["status"] == "FAILED"
    a, b = item["waves"]
    assert a["status"] == "FAILED"
    assert (
        a["reason"] == "post-wave action DR-SmokeTest ended Failed: step 1 of DR-SmokeTest failed"
    )
    # Dependencies mean ready: B waits for A's post-wave actions, which failed, so B never
    # launched (it used to start as soon as A's servers launched).
    assert b["status"] == "SKIPPED" and not b.get("jobIds")
    assert {j["tags"]["drs-orchestrator:wave"] for j in harness.drs.jobs.values()} == {"A"}
    assert harness.notifications()[-1]["event"] == "failed"


def test_a_pre_action_past_its_max_wait_fails_the_wave_before_launch(harness: Harness) -> None:
    from drs_orchestrator.domain.plans import Action

    harness.ssm.stuck.add("DR-Slow")
    plan = RecoveryPlan(
        "slow", (Wave("A", ("db",), pre_actions=(Action("DR-Slow", max_wait_seconds=1),)),)
    )
    execution_id = harness.run(plan, GROUPS)
    item = harness.wait_for(execution_id, "COMPLETED", "FAILED")
    assert item["status"] == "FAILED"
    assert item["waves"][0]["reason"] == (
        "pre-wave action DR-Slow still InProgress after its max wait of 1 s; "
        "not launched: 2 servers: s-a0000000000000000, s-a0000000000000001"
    )
    assert harness.drs.jobs == {}, "nothing launched"


def test_terminate_the_drill_instances_afterwards(harness: Harness) -> None:
    execution_id = harness.run(RecoveryPlan("one", (Wave("A", ("app",)),)), GROUPS)
    item = harness.wait_for(execution_id, "COMPLETED", "FAILED")
    instances = {s["recoveryInstanceId"] for s in item["servers"].values()}
    assert len(instances) == 3

    status, body = harness.api(
        "POST", "/executions/{executionId}/terminate-instances", executionId=execution_id
    )

    assert status == 202
    [termination] = body["terminations"]
    assert set(termination["recoveryInstanceIds"]) == instances
    job = harness.drs.jobs[termination["jobId"]]
    assert job["type"] == "TERMINATE"
    assert body["jobs"][termination["jobId"]]["type"] == "TERMINATE"
    assert harness.drs.terminated == instances
    assert (
        harness.api(
            "POST", "/executions/{executionId}/terminate-instances", executionId=execution_id
        )[0]
        == 409
    )
