"""A failback end to end (issue 19): a real recovery of a three-wave plan, then its failback
started through the API and run by the real state machine and wave runner against the DRS
simulator: on-premises servers wait for their failback client, an AWS source is reversed
and launched in its origin, the cut-over waits for approval, the workload comes home."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from drs_orchestrator.domain.plans import Action, RecoveryPlan, Wave

from tests.e2e.conftest import STAGING
from tests.patience import PATIENCE

if TYPE_CHECKING:
    from tests.e2e.conftest import Harness

DB = ["s-0000000000000fb01", "s-0000000000000fb02"]
APP = ["s-0000000000000fba1"]
WEB = ["s-0000000000000fbw1"]
GROUPS = {"db": DB, "app": APP, "web": WEB}
PLAN = RecoveryPlan(
    "failback",
    (
        # After its recovery Db runs DR-DnsToRecovery; after its failback, DR-DnsHome.
        Wave(
            "Db",
            ("db",),
            post_actions=(Action("DR-DnsToRecovery"),),
            failback_actions=(Action("DR-DnsHome"),),
        ),
        # App's post action (a health check) runs after either.
        Wave("App", ("app",), depends_on=("Db",), post_actions=(Action("DR-AppCheck"),)),
        Wave("Web", ("web",), depends_on=("App",), pause_before=True),
    ),
)


def drive(
    harness: Harness, execution_id: str, until: tuple[str, ...], timeout: float = PATIENCE
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        harness.run_finder()
        item = harness.execution(execution_id)
        if item["status"] in until:
            return item
        time.sleep(0.1)
    raise AssertionError(harness.execution(execution_id))


def recovered(harness: Harness) -> dict[str, Any]:
    for server in (*DB, *WEB):
        harness.drs.add_source_server(server)
    # The App server is an EC2 instance of the staging target's account and region.
    account, region = STAGING.split("/")
    harness.drs.add_source_server(APP[0], origin=(region, account))
    execution_id = harness.run(PLAN, GROUPS, mode="RECOVERY")
    drive(harness, execution_id, ("PAUSED",))  # the recovery's own cut-over before Web
    harness.api("POST", "/executions/{executionId}/resume", executionId=execution_id)
    return drive(harness, execution_id, ("COMPLETED",))


#: The actions a failback of PLAN runs once each wave is home, in order.
FAILBACK_ACTIONS = ["DR-DnsHome", "DR-AppCheck"]


def started_actions(harness: Harness, since: int = 0) -> list[str]:
    """The documents started (StartAutomationExecution asked) from SSM call ``since`` on."""
    return [
        p["DocumentName"] for op, p in harness.ssm.calls[since:] if op == "StartAutomationExecution"
    ]


def start_failback(harness: Harness, recovery: dict[str, Any]) -> dict[str, Any]:
    """An admin's failback of ``recovery``, restarting replication and terminating the
    recovery instances once home (202 asserted)."""
    status, started = harness.api(
        "POST",
        "/executions/{executionId}/failback",
        groups="admin",
        body=json.dumps({"restartReplication": True, "terminateRecoveryInstances": True}),
        executionId=recovery["executionId"],
    )
    assert status == 202, started
    return dict(started)


def test_a_recovery_fails_back_wave_by_wave_through_the_cut_over(harness: Harness) -> None:
    recovery = recovered(harness)
    assert started_actions(harness) == ["DR-DnsToRecovery", "DR-AppCheck"]
    calls_before = len(harness.ssm.calls)
    started = start_failback(harness, recovery)
    failback_id = started["executionId"]
    assert (started["mode"], started["recoveryExecutionId"]) == (
        "FAILBACK",
        recovery["executionId"],
    )

    # The operator boots the failback clients of the on-premises servers.
    item = harness.execution(failback_id)
    for server in (*DB, *WEB):
        harness.drs.connect_failback_client(item["failback"][server]["instance"])
    paused = drive(harness, failback_id, ("PAUSED", "FAILED", "COMPLETED"))
    assert paused["status"] == "PAUSED", paused.get("reason")
    assert [w["status"] for w in paused["waves"]] == ["COMPLETED", "COMPLETED", "AWAITING_APPROVAL"]
    # Each wave ran its actions once home, before the next wave began.
    assert started_actions(harness, calls_before) == FAILBACK_ACTIONS
    assert [(r["document"], r["status"]) for r in paused["waves"][0]["actionRuns"]] == [
        ("DR-DnsHome", "Success")
    ]
    assert paused["waves"][1]["startedAt"] >= paused["waves"][0]["endedAt"]
    app = paused["failback"][APP[0]]
    assert app["origin"] == STAGING and app["step"] == "HOME"
    staging = harness.targets[STAGING]
    assert (
        app["reversedServer"]
        in staging.jobs[app["jobId"]]["participatingServers"][0]["sourceServerID"]
    )
    reversed_server = next(
        s for s in staging.source_servers if s["sourceServerID"] == app["reversedServer"]
    )
    assert reversed_server["replicationDirection"] == "FAILBACK", "made by the reverse"
    assert reversed_server["reversedDirectionSourceServerArn"].endswith(APP[0])

    status, _ = harness.api("POST", "/executions/{executionId}/resume", executionId=failback_id)
    assert status == 200
    done = drive(harness, failback_id, ("COMPLETED", "FAILED"))
    assert done["status"] == "COMPLETED", done
    assert {s["step"] for s in done["failback"].values()} == {"HOME"}
    # Once home, as asked: forward protection restarted, the recovery instances gone.
    assert all(s["protected"] for s in done["failback"].values())
    assert harness.drs.recovery_instances == {}
    assert harness.machine_status(failback_id) == "SUCCEEDED"
    status, trail = harness.api(
        "GET", "/audit", groups="read-only", query={"action": "startFailback"}
    )
    assert [e["objectId"] for e in trail["items"]] == [failback_id]
    # The recovery's own page lists the start by the recovery it named, with its outcome
    # (read by key: the outcome names the failback it made, another index partition).
    status, on_recovery = harness.api(
        "GET", "/audit", groups="read-only", query={"object": recovery["executionId"]}
    )
    start = next(e for e in on_recovery["items"] if e["action"] == "startFailback")
    assert (start["outcome"], start["status"], start["objectId"]) == ("succeeded", 202, failback_id)
    told = [n["event"] for n in harness.notifications() if n["executionId"] == failback_id]
    assert told == [
        "failback started",
        "failback waiting for cut-over approval",
        "failback completed",
    ]
    assert harness.execution(failback_id)["outbox"] == {}, "every notification published"
    # Its report, stored once it settled, says where each server went back to.
    for _ in range(3):
        harness.run_finder()
    stored = harness.stored_report(failback_id)
    assert stored is not None
    document, html = stored
    assert {f["sourceServerId"]: f["step"] for f in document["failback"]} == {
        s: "HOME" for s in (*DB, *APP, *WEB)
    }
    assert "<h2>Failback</h2>" in html and STAGING in html
    assert [(a["wave"], a["document"], a["status"]) for a in document["waveActions"]] == [
        ("Db", "DR-DnsHome", "Success"),
        ("App", "DR-AppCheck", "Success"),
    ]
    assert "<h2>Wave actions</h2>" in html
    # Its launch jobs and their logs, at home and in the origin target (issue 30: a
    # failback's report listed no job and no event although it launched every server).
    settled = harness.execution(failback_id)
    launched = {j for w in settled["waves"] for j in w["jobIds"]}
    assert launched == {s["jobId"] for s in settled["failback"].values()}
    assert {(j["jobId"], j["type"], j["status"]) for j in document["jobs"]} == {
        (j, "FAILBACK", "COMPLETED") for j in launched
    }
    assert {j["target"] for j in document["jobs"] if j["waveName"] == "App"} == {STAGING}
    assert {e["jobId"] for e in document["jobEvents"]} == launched
    logged = sum(len(harness.job_log(j)) for j in launched)
    assert len(document["jobEvents"]) == logged > 0
    assert settled["servers"] == {}, "a failback's servers are its own, by step"
    assert f"<h2>DRS job events ({logged})</h2>" in html


def test_a_drill_or_a_running_failback_refuses_another(harness: Harness) -> None:
    recovery = recovered(harness)
    route = "/executions/{executionId}/failback"
    status, first = harness.api("POST", route, groups="admin", executionId=recovery["executionId"])
    assert status == 202
    status, again = harness.api("POST", route, groups="admin", executionId=recovery["executionId"])
    assert status == 409 and again["message"].startswith(f"failback {first['executionId']}")
    status, body = harness.api(
        "POST", route, groups="operator", executionId=recovery["executionId"]
    )
    assert status == 403, "only an admin brings a workload home"
    status, body = harness.api(
        "POST",
        route,
        groups="admin",
        body='{"terminate": true}',
        executionId=recovery["executionId"],
    )
    assert status == 400 and "terminate" in body["errors"][0]["reason"], body
    status, _ = harness.api(
        "POST", "/executions/{executionId}/cancel", executionId=first["executionId"]
    )
    assert status == 200
    ended = drive(harness, first["executionId"], ("CANCELLED", "FAILED"))
    assert ended["status"] == "CANCELLED"


def test_a_failed_action_once_home_fails_the_failback_naming_it(harness: Harness) -> None:
    recovery = recovered(harness)
    harness.ssm.failing.add("DR-DnsHome")
    failback_id = start_failback(harness, recovery)["executionId"]
    item = harness.execution(failback_id)
    for server in (*DB, *WEB):
        harness.drs.connect_failback_client(item["failback"][server]["instance"])
    ended = drive(harness, failback_id, ("FAILED", "COMPLETED", "PAUSED"))
    assert ended["status"] == "FAILED"
    db = ended["waves"][0]
    assert db["reason"] == (
        "home, but post-wave action DR-DnsHome ended Failed: step 1 of DR-DnsHome failed"
    )
    assert {ended["failback"][s]["step"] for s in DB} == {"HOME"}, "Db is home all the same"
    assert [w["status"] for w in ended["waves"][1:]] == ["SKIPPED", "SKIPPED"]
    assert harness.machine_status(failback_id) == "FAILED"
    told = [n for n in harness.notifications() if n["executionId"] == failback_id]
    assert told[-1]["event"] == "failback failed"
    assert "DR-DnsHome" in json.dumps(told[-1]), told[-1]


def test_a_reverse_replication_that_stalls_fails_its_wave_naming_the_server(
    harness: Harness,
) -> None:
    """The App server's replication back to its origin fails (DRS: FAILBACK_ERROR): its
    wave fails naming it and DRS's reason, Web (after it) is skipped, Db stays home."""
    recovery = recovered(harness)
    failback_id = start_failback(harness, recovery)["executionId"]
    item = harness.execution(failback_id)
    for server in (*DB, *WEB):
        harness.drs.connect_failback_client(item["failback"][server]["instance"])
    harness.drs.stall_failback(item["failback"][APP[0]]["instance"])
    ended = drive(harness, failback_id, ("FAILED", "COMPLETED", "PAUSED"))
    assert ended["status"] == "FAILED"
    db, app, web = ended["waves"]
    assert db["status"] == "COMPLETED"
    assert app["status"] == "FAILED"
    assert APP[0] in app["reason"] and "failback replication failed" in app["reason"]
    assert web["status"] == "SKIPPED"
    assert ended["failback"][APP[0]]["step"] == "FAILED"
    assert {ended["failback"][s]["step"] for s in DB} == {"HOME"}
    assert harness.machine_status(failback_id) == "FAILED"
    told = [n for n in harness.notifications() if n["executionId"] == failback_id]
    assert told[-1]["event"] == "failback failed" and APP[0] in json.dumps(told[-1])
    staging = harness.targets[STAGING]
    launched_at_origin = [
        j
        for j in staging.jobs.values()
        if (j.get("tags") or {}).get("drs-orchestrator:execution") == failback_id
    ]
    assert launched_at_origin == [], "nothing launched from a replication that failed"


def test_a_running_failback_holds_its_servers_against_a_drill(harness: Harness) -> None:
    """Issue 32's second defect: while a failback ran, a drill of the same servers was
    accepted and launched DRS jobs on the servers being brought home. A failback holds its
    servers as any start does (409 naming it), and frees them when it ends."""
    recovery = recovered(harness)
    plan_id = harness.one_wave_plan(DB, "db", "Db")["planId"]

    failback_id = start_failback(harness, recovery)["executionId"]
    jobs_before = set(harness.drs.jobs)
    status, refused = harness.start_plan(plan_id)
    assert status == 409, refused
    assert refused["message"].startswith(f"execution {failback_id} (")
    assert "already uses source server(s) " in refused["message"]
    launched = [j for j, job in harness.drs.jobs.items() if job.get("type") == "LAUNCH"]
    assert not [j for j in launched if j not in jobs_before], "the refused drill launched"

    status, _ = harness.api("POST", "/executions/{executionId}/cancel", executionId=failback_id)
    assert status == 200
    ended = drive(harness, failback_id, ("CANCELLED", "FAILED"))
    assert ended["holdsReleased"] is True
    status, started = harness.start_plan(plan_id)
    assert status == 202, started
