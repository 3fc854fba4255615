"""The DRS simulator's sandbox behaviour: paced jobs, simulated throttling, HTTP serving."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from drsctl.sandbox.drs import DrsSimulator


def test_paced_jobs_move_one_phase_per_period_with_real_timestamps() -> None:
    drs = DrsSimulator(pace_seconds=5)
    job_id = drs.client().start_recovery(
        sourceServers=[{"sourceServerID": "s-0db00000000000001"}], isDrill=True
    )["job"]["jobID"]
    due = drs._due[job_id]
    assert drs.advance_due(due - 0.1) == 0
    assert drs.jobs[job_id]["status"] == "PENDING"
    assert drs.advance_due(due) == 1
    assert drs.jobs[job_id]["status"] == "STARTED"
    assert drs.advance_due(due + 5) == 1
    job = drs.jobs[job_id]
    assert job["status"] == "COMPLETED"
    assert [e["event"] for e in drs.logs[job_id]][-2:] == ["LAUNCH_END", "JOB_END"]
    assert job["endDateTime"].startswith("20") and job["endDateTime"] >= "2026-11-25"
    assert drs.live_instances() == [job["participatingServers"][0]["recoveryInstanceID"]]


def test_simulated_throttling_reaches_the_caller_after_its_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _s: None)
    drs = DrsSimulator(throttle_rate=1.0, seed=1)
    with pytest.raises(ClientError) as raised:
        drs.client().describe_jobs(filters={})
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert drs.throttled == 8  # every attempt of botocore's standard retry mode


def test_serve_checks_requests_against_the_model() -> None:
    drs = DrsSimulator()
    status, headers, body = drs.serve("/StartRecovery", b'{"sourceServers": [], "colour": 1}')
    assert status == 400
    assert headers["x-amzn-ErrorType"] == "ValidationException"
    assert "colour: unknown member" in json.loads(body)["message"]
    assert drs.snapshot()["violations"]
    status, headers, _body = drs.serve("/NoSuchOperation", b"{}")
    assert (status, headers["x-amzn-ErrorType"]) == (404, "ResourceNotFoundException")


def test_each_account_and_region_has_its_own_drs_quotas() -> None:
    staging = DrsSimulator(region="us-west-2", account="111122223333")
    recovery = DrsSimulator(region="eu-west-1", account="444455556666")
    staging.max_concurrent_jobs = 1
    for drs in (staging, recovery):
        for server in ("s-a0000000000000001", "s-a0000000000000002"):
            drs.add_source_server(server)
    launch = {"sourceServers": [{"sourceServerID": "s-a0000000000000001"}], "isDrill": True}
    job = staging.client().start_recovery(**launch)["job"]
    assert job["arn"].startswith("arn:aws:drs:us-west-2:111122223333:job/")
    second = {"sourceServers": [{"sourceServerID": "s-a0000000000000002"}], "isDrill": True}
    with pytest.raises(ClientError) as refused:
        staging.client().start_recovery(**second)
    assert refused.value.response["Error"]["Code"] == "ServiceQuotaExceededException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 402
    recovery.client().start_recovery(**launch)
    recovery.client().start_recovery(**second)
    assert len(recovery.jobs) == 2, "another account-region's quota is its own"
    staging.finish(job["jobID"])
    staging.client().start_recovery(**second)
    recovery.max_servers_in_active_jobs = 2
    recovery.add_source_server("s-a0000000000000003")
    with pytest.raises(ClientError) as full:
        recovery.client().start_recovery(
            sourceServers=[{"sourceServerID": "s-a0000000000000003"}], isDrill=True
        )
    assert "servers are in active jobs" in full.value.response["Error"]["Message"]


def test_snapshots_and_their_ids_have_drs_forms_and_stay_in_time_order() -> None:
    import re
    from datetime import UTC, datetime, timedelta, timezone

    from drsctl.sandbox.drs_forms import SNAPSHOT_HOURS, random_id, zulu

    for moment in (
        datetime(2026, 12, 7, 8, 1, 2, tzinfo=UTC),
        datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 1, 1, 3, tzinfo=timezone(timedelta(hours=5))),
    ):
        assert zulu(moment) == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    ids = {random_id("pit-", 17, "abc123") for _ in range(200)}
    assert all(re.fullmatch(r"pit-[abc123]{17}", i) for i in ids) and len(ids) == 200
    assert {c for i in ids for c in i[4:]} == set("abc123"), "every character is drawn"

    drs = DrsSimulator()
    drs.add_source_server("s-1")
    taken = [s["timestamp"] for s in drs.snapshots["s-1"]]
    assert len(taken) == SNAPSHOT_HOURS and taken == sorted(taken)
    assert all(
        re.fullmatch(r"snap-[a-z0-9]{17}", s["ebsSnapshots"][0]) for s in drs.snapshots["s-1"]
    )
    earliest = datetime.fromisoformat(taken[0].replace("Z", "+00:00"))
    older = drs.add_snapshot("s-1", earliest - timedelta(minutes=5))
    assert drs.snapshots["s-1"][0] is older
    assert [s["timestamp"] for s in drs.snapshots["s-1"]] == sorted([older["timestamp"], *taken])


def test_a_servers_hourly_snapshots_are_drawn_when_read_and_read_the_same_every_way() -> None:
    """The hourly history of an added server is drawn lazily; every way of reading the
    simulator's snapshots sees it, as if it had been drawn when the server was added."""
    from datetime import timedelta

    from drsctl.sandbox.drs_forms import SNAPSHOT_HOURS, zulu

    drs = DrsSimulator()
    added_at = drs.tick(0)
    for server in (
        "s-10000000000000001",
        "s-20000000000000002",
        "s-30000000000000003",
        "s-40000000000000004",
    ):
        drs.add_source_server(server)
    drs.tick(3600 * 5)  # drawn later, still stamped from the moment each was added
    assert "s-10000000000000001" in drs.snapshots and "s-90000000000000009" not in drs.snapshots
    assert len(drs.snapshots) == 4
    [newest] = drs.snapshots.get("s-10000000000000001", [])[-1:]
    assert newest["timestamp"] == zulu(added_at - timedelta(hours=1))
    assert len(drs.snapshots.get("s-20000000000000002", [])) == SNAPSHOT_HOURS
    assert (
        drs.snapshots.get("s-90000000000000009") is None
        and drs.snapshots["s-90000000000000009"] == []
    )
    # A snapshot a job takes goes after the server's history, not instead of it.
    taken = drs.add_snapshot("s-30000000000000003", drs.tick(0))
    assert (
        len(drs.snapshots["s-30000000000000003"]) == SNAPSHOT_HOURS + 1
        and drs.snapshots["s-30000000000000003"][-1] is taken
    )
    # Replacing a server's snapshots (a test emptying them) leaves no history to draw.
    drs.snapshots["s-40000000000000004"] = []
    assert (
        drs.snapshots["s-40000000000000004"] == []
        and drs.snapshots.get("s-40000000000000004") == []
    )
    assert {k: len(v) for k, v in drs.snapshots.items()} == {
        "s-10000000000000001": SNAPSHOT_HOURS,
        "s-20000000000000002": SNAPSHOT_HOURS,
        "s-30000000000000003": SNAPSHOT_HOURS + 1,
        "s-40000000000000004": 0,
        "s-90000000000000009": 0,
    }
    pages = drs.client().get_paginator("describe_recovery_snapshots")
    listed = [s for p in pages.paginate(sourceServerID="s-20000000000000002") for s in p["items"]]
    assert [s["snapshotID"] for s in listed] == [
        s["snapshotID"] for s in drs.snapshots["s-20000000000000002"]
    ]
