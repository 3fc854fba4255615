"""The invariant checker (``drsctl/invariants.py``) reports a record that breaks a rule.

Each test builds the smallest execution record that breaks one rule and shows the checker
names it, beside the same record kept whole, which it passes: every invariant of
docs/RELIABILITY.md has at least one (``test_every_invariant_has_a_breaking_record_here``)."""

from __future__ import annotations

import copy
import re
from typing import Any

from drsctl.invariants import (
    final_violations,
    history_violations,
    holds_violations,
    report_violations,
    violations,
)

SERVERS = [f"s-{n:017d}" for n in range(7)]


def failed_wave_record() -> dict[str, Any]:
    """A wave of seven servers: two launched, five in a batch DRS refused for good."""
    return {
        "executionId": "ex-1",
        "status": "FAILED",
        "waves": [
            {
                "name": "W",
                "status": "FAILED",
                "servers": SERVERS,
                "reason": (
                    "servers did not launch: 5 servers: s-00000000000000002, "
                    "s-00000000000000003, s-00000000000000004, s-00000000000000005, "
                    "s-00000000000000006 (not launched: AccessDeniedException: denied)"
                ),
            }
        ],
        "batches": {
            "b1": {"wave": "W", "status": "STARTED", "servers": SERVERS[:2], "jobId": "j1"},
            "b2": {
                "wave": "W",
                "status": "REFUSED",
                "servers": SERVERS[2:],
                "reason": "AccessDeniedException: denied",
            },
        },
        "jobs": {"j1": {"status": "COMPLETED"}},
        "servers": {s: {"launchStatus": "LAUNCHED"} for s in SERVERS[:2]},
    }


def test_a_failed_wave_that_accounts_for_every_server_is_kept() -> None:
    assert violations(failed_wave_record(), []) == []


def test_a_failed_wave_the_record_says_nothing_of_a_server_of_is_reported() -> None:
    record = copy.deepcopy(failed_wave_record())
    record["batches"]["b2"]["servers"] = SERVERS[2:6]  # the last server: in no batch
    found = violations(record, [])
    assert f"no-partial-wave: wave W fails without accounting for ['{SERVERS[6]}']" in found


def test_a_server_known_failed_by_drs_is_accounted_for() -> None:
    record = copy.deepcopy(failed_wave_record())
    record["batches"]["b2"]["servers"] = SERVERS[2:6]
    record["servers"][SERVERS[6]] = {"launchStatus": "FAILED"}
    assert violations(record, []) == []


def test_a_failed_wave_that_miscounts_its_servers_is_reported() -> None:
    record = copy.deepcopy(failed_wave_record())
    record["waves"][0]["reason"] = record["waves"][0]["reason"].replace("5 servers", "4 servers")
    found = violations(record, [])
    assert "no-partial-wave: wave W fails without counting its 5 servers not launched" in found


def drs_job(job_id: str, launched: dict[str, str], execution: str = "ex-1") -> dict[str, Any]:
    """A launch job DRS holds for ``execution``, ended, with each server's launch status."""
    return {
        "jobID": job_id,
        "type": "LAUNCH",
        "status": "COMPLETED",
        "tags": {"drs-orchestrator:execution": execution},
        "participatingServers": [
            {"sourceServerID": s, "launchStatus": status} for s, status in launched.items()
        ],
    }


def completed_record() -> dict[str, Any]:
    """Two waves, the second paused for approval and approved, both completed by one job."""
    return {
        "executionId": "ex-1",
        "status": "COMPLETED",
        "reason": None,
        "endedAt": "2026-12-07T10:05:00.000000Z",
        "waves": [
            {
                "name": "A",
                "status": "COMPLETED",
                "servers": SERVERS[:2],
                "startedAt": "2026-12-07T10:00:00.000000Z",
                "endedAt": "2026-12-07T10:02:00.000000Z",
                "batchIds": ["b1"],
            },
            {
                "name": "B",
                "status": "COMPLETED",
                "servers": SERVERS[2:3],
                "dependsOn": ["A"],
                "pauseBefore": True,
                "approved": True,
                "startedAt": "2026-12-07T10:03:00.000000Z",
                "endedAt": "2026-12-07T10:05:00.000000Z",
                "batchIds": ["b2"],
            },
        ],
        "batches": {
            "b1": {"wave": "A", "status": "STARTED", "servers": SERVERS[:2], "jobId": "j1"},
            "b2": {"wave": "B", "status": "STARTED", "servers": SERVERS[2:3], "jobId": "j2"},
        },
        "jobs": {"j1": {"status": "COMPLETED"}, "j2": {"status": "COMPLETED"}},
        "servers": {s: {"launchStatus": "LAUNCHED"} for s in SERVERS[:3]},
    }


def completed_jobs() -> list[dict[str, Any]]:
    return [
        drs_job("j1", dict.fromkeys(SERVERS[:2], "LAUNCHED")),
        drs_job("j2", {SERVERS[2]: "LAUNCHED"}),
    ]


def test_a_completed_execution_that_keeps_every_rule_is_kept() -> None:
    assert violations(completed_record(), completed_jobs()) == []
    assert final_violations(completed_record(), completed_record()) == []
    assert holds_violations([completed_record()], {}) == []


def test_an_ended_execution_with_a_wave_still_launching_is_reported() -> None:
    """every-execution-ends: the end of an execution ends each of its waves."""
    record = failed_wave_record()
    record["waves"][0]["status"] = "LAUNCHING"
    found = violations(record, [])
    assert "every-execution-ends: ended FAILED with wave W still LAUNCHING" in found


def test_a_server_recorded_launched_that_drs_says_failed_is_reported() -> None:
    """nothing-launched-is-lost: what DRS says of a server once its job ended is what the
    record says."""
    jobs = completed_jobs()
    jobs[0]["participatingServers"][1]["launchStatus"] = "FAILED"
    found = violations(completed_record(), jobs)
    assert (
        f"nothing-launched-is-lost: server {SERVERS[1]} recorded LAUNCHED, DRS says FAILED (job j1)"
    ) in found


def test_a_job_of_the_execution_missing_from_its_record_is_reported() -> None:
    """nothing-launched-is-lost: a DRS job tagged with the execution is on it."""
    jobs = [*completed_jobs(), drs_job("j9", {SERVERS[4]: "LAUNCHED"})]
    assert "nothing-launched-is-lost: DRS job j9 is not recorded" in violations(
        completed_record(), jobs
    )


def finalised_record() -> dict[str, Any]:
    """A wave in flight when its state machine failed, ended by ``Finalise``: one server
    launched, two not yet, their job followed after."""
    record = completed_record()
    record.update(status="FAILED", reason="States.TaskFailed: the tick failed")
    record["waves"] = [record["waves"][0]]
    record["waves"][0].update(
        status="FAILED",
        reason=(
            "States.TaskFailed: the tick failed; not launched: 2 servers: "
            f"{SERVERS[0]}, {SERVERS[1]}"
        ),
    )
    record["batches"] = {"b1": record["batches"]["b1"]}
    record["jobs"] = {"j1": {"status": "COMPLETED"}}
    record["servers"] = {
        SERVERS[0]: {"launchStatus": "LAUNCHED"},
        SERVERS[1]: {"launchStatus": "FAILED"},
    }
    return record


def test_a_wave_failed_by_finalise_counting_its_servers_is_kept() -> None:
    jobs = [drs_job("j1", {SERVERS[0]: "LAUNCHED", SERVERS[1]: "FAILED"})]
    assert violations(finalised_record(), jobs) == []


def test_a_wave_failed_by_finalise_or_the_janitor_that_names_no_server_is_reported() -> None:
    """no-partial-wave: whatever failed the wave, its reason counts the servers it had not
    launched."""
    record = finalised_record()
    record["waves"][0]["reason"] = "States.TaskFailed: the tick failed"
    jobs = [drs_job("j1", {SERVERS[0]: "LAUNCHED", SERVERS[1]: "FAILED"})]
    found = violations(record, jobs)
    assert "no-partial-wave: wave A fails without counting its 1 servers not launched" in found


def test_a_wave_failed_before_its_launch_is_accounted_for_by_its_reason() -> None:
    """A wave whose pre-wave action failed launched nothing: its reason counts them all,
    and no batch need say why."""
    record = failed_wave_record()
    record["batches"] = {}
    record["servers"] = {}
    record["waves"][0]["reason"] = "DR-Prepare failed; not launched: 7 servers: …"
    assert violations(record, []) == []
    record["waves"][0]["reason"] = "DR-Prepare failed"
    assert violations(record, []) == [
        "no-partial-wave: wave W fails without counting its 7 servers not launched"
    ]


def test_a_server_launched_twice_is_reported() -> None:
    """no-partial-wave: no server is launched by two jobs of one execution."""
    jobs = [*completed_jobs(), drs_job("j3", {SERVERS[0]: "LAUNCHED"})]
    record = completed_record()
    record["jobs"]["j3"] = {"status": "COMPLETED"}
    assert violations(record, jobs) == [f"no-partial-wave: server {SERVERS[0]} launched 2 times"]


def test_a_completed_wave_with_a_server_not_launched_is_reported() -> None:
    record = completed_record()
    record["servers"][SERVERS[1]] = {"launchStatus": "FAILED"}
    jobs = completed_jobs()
    jobs[0]["participatingServers"][1]["launchStatus"] = "FAILED"
    assert violations(record, jobs) == [
        f"no-partial-wave: wave A COMPLETED without ['{SERVERS[1]}']"
    ]


def test_an_ended_execution_that_changes_afterwards_is_reported() -> None:
    """terminal-is-final: a later write adds only jobs, launch statuses and reports."""
    before = finalised_record()
    after = copy.deepcopy(before)
    after["jobs"]["j1"]["events"] = 3  # a late event: allowed
    assert final_violations(before, after) == []
    after["status"] = "COMPLETED"
    after["waves"][0]["status"] = "COMPLETED"
    assert final_violations(before, after) == [
        "terminal-is-final: its status changed from 'FAILED' to 'COMPLETED'",
        "terminal-is-final: wave A's status changed from 'FAILED' to 'COMPLETED'",
    ]


def test_an_ended_execution_still_holding_servers_is_reported() -> None:
    """servers-held-atomically: an execution frees its servers when it ends."""
    holds = {SERVERS[0]: "ex-1"}
    assert holds_violations([completed_record()], holds) == [
        f"servers-held-atomically: ex-1 ended COMPLETED and still holds ['{SERVERS[0]}']"
    ]


def test_a_live_execution_holding_part_of_its_servers_is_reported() -> None:
    """servers-held-atomically: a start holds every server before its record is written."""
    record = completed_record()
    record["status"] = "RUNNING"
    holds = {SERVERS[0]: "ex-1", SERVERS[1]: "ex-1"}
    assert holds_violations([record], holds) == [
        f"servers-held-atomically: ex-1 runs without holding ['{SERVERS[2]}']"
    ]
    holds[SERVERS[2]] = "ex-1"
    assert holds_violations([record], holds) == []


def test_two_live_executions_holding_a_shared_server_are_reported() -> None:
    """servers-held-atomically: of two starts sharing a server, exactly one wins."""
    first, second = completed_record(), completed_record()
    first["status"] = second["status"] = "RUNNING"
    second["executionId"] = "ex-2"
    second["waves"][1]["servers"] = [SERVERS[2], SERVERS[5]]  # shares SERVERS[2] only
    second["waves"][0]["servers"] = [SERVERS[6]]
    holds = dict.fromkeys(SERVERS[:3], "ex-1") | {SERVERS[5]: "ex-2", SERVERS[6]: "ex-2"}
    found = holds_violations([first, second], holds)
    assert f"servers-held-atomically: ex-1 and ex-2 both run with ['{SERVERS[2]}']" in found


def test_a_wave_that_went_on_without_its_approval_is_reported() -> None:
    """approval-exactly-once: a wave paused for approval starts only once approved."""
    record = completed_record()
    record["waves"][1]["approved"] = False
    assert violations(record, completed_jobs()) == [
        "approval-exactly-once: wave B went on to COMPLETED without its approval"
    ]


def test_a_wave_started_before_its_dependency_was_ready_is_reported() -> None:
    """dependencies-mean-ready: a dependent starts once its dependency COMPLETED."""
    record = completed_record()
    record["waves"][1]["startedAt"] = "2026-12-07T10:01:00.000000Z"
    assert violations(record, completed_jobs()) == [
        "dependencies-mean-ready: B started before A was ready"
    ]


def test_a_run_over_the_history_limit_is_reported() -> None:
    """long-runs-fit: no run holds more history events than Step Functions keeps."""
    assert history_violations({"ex-1": 19_800, "ex-1-r2": 120}) == []
    assert history_violations({"ex-1": 25_001}) == [
        "long-runs-fit: run ex-1 holds 25001 history events, over 25000"
    ]


def stored_report(record: dict[str, Any], events: int) -> tuple[dict[str, Any], str]:
    """The report the janitor stores for ``record`` (JSON document, HTML page)."""
    document = {
        "execution": {"status": record["status"]},
        "servers": [{"sourceServerId": s} for s in record["servers"]],
        "jobs": [{"jobId": j} for j in record["jobs"]],
        "jobEvents": [{"n": n} for n in range(events)],
    }
    return document, f"<h1>{record['executionId']}</h1>"


def test_a_settled_execution_without_its_whole_report_is_reported() -> None:
    """every-finished-execution-has-a-report: once off the watch, its report is stored
    and is the whole execution."""
    record = completed_record()
    assert report_violations(record, stored_report(record, 4), 4) == []
    assert report_violations(record, None, 4) == [
        "every-finished-execution-has-a-report: settled without a stored report"
    ]
    document, html = stored_report(record, 3)
    document["jobs"] = document["jobs"][:1]
    assert report_violations(record, (document, html), 4) == [
        "every-finished-execution-has-a-report: the report's DRS jobs are not the execution's",
        "every-finished-execution-has-a-report: the report holds 3 of 4 job events",
    ]
    record["watch"] = "WATCHED"  # still followed: its report may come later
    assert report_violations(record, None, 4) == []


def test_every_invariant_has_a_breaking_record_here() -> None:
    """The runtime's list of invariants (``domain.runner.INVARIANTS``) against the rules the
    tests of this module break: a new invariant without its checker and test fails here."""
    from pathlib import Path

    from drs_orchestrator.domain.runner import INVARIANTS

    text = Path(__file__).read_text(encoding="utf-8")
    here = set(re.findall(r'"([a-z-]+): ', text))
    assert set(INVARIANTS) - here == set()
