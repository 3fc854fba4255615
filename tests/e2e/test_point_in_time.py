"""Point-in-time recovery (issue 16, item 3), end to end through the API: an execution
started at a point in time launches every server from its newest DRS snapshot taken at or
before it — in the server's own DRS target — and a server with none that old refuses the
start before anything is held or written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from drsctl.sandbox.drs_forms import zulu
from tests.e2e.conftest import STAGING, TARGETS

if TYPE_CHECKING:
    from tests.e2e.conftest import Harness

HOME_SERVERS = ["s-p0000000000000001", "s-p0000000000000002"]
STAGING_SERVER = "s-p0000000000000003"


def post(harness: Harness, resource: str, body: dict[str, Any], **path: str) -> tuple[int, Any]:
    return harness.api("POST", resource, groups="admin", body=json.dumps(body), **path)


def catalog_with_a_plan(harness: Harness) -> str:
    account, region = TARGETS[STAGING]
    assert (
        post(
            harness,
            "/protection-groups",
            {"name": "db", "region": "us-east-1", "sourceServerIds": HOME_SERVERS},
        )[0]
        == 201
    )
    harness.targets[STAGING].add_source_server(STAGING_SERVER)
    staging_group = {
        "name": "app",
        "accountId": account,
        "region": region,
        "sourceServerIds": [STAGING_SERVER],
    }
    assert post(harness, "/protection-groups", staging_group)[0] == 201
    status, plan = post(
        harness,
        "/recovery-plans",
        {"name": "pit", "waves": [{"name": "A", "protectionGroups": ["db", "app"]}]},
    )
    assert status == 201, plan
    return str(plan["planId"])


def newest_before(snapshots: list[dict[str, Any]], moment: datetime) -> dict[str, Any]:
    return max(
        (
            s
            for s in snapshots
            if datetime.fromisoformat(s["timestamp"].replace("Z", "+00:00")) <= moment
        ),
        key=lambda s: s["timestamp"],
    )


def test_an_execution_at_a_point_in_time_launches_each_server_from_its_snapshot(
    harness: Harness,
) -> None:
    plan_id = catalog_with_a_plan(harness)
    moment = datetime.now(UTC) - timedelta(hours=5, minutes=30)
    expected = {
        server: newest_before(harness.drs.snapshots[server], moment)["snapshotID"]
        for server in HOME_SERVERS
    } | {
        STAGING_SERVER: newest_before(harness.targets[STAGING].snapshots[STAGING_SERVER], moment)[
            "snapshotID"
        ]
    }

    status, started = post(
        harness,
        "/recovery-plans/{planId}/executions",
        {"mode": "DRILL", "pointInTime": zulu(moment)},
        planId=plan_id,
    )

    assert status == 202, started
    assert started["pointInTime"] == zulu(moment)
    assert started["snapshots"] == expected
    item = harness.wait_for(started["executionId"], "COMPLETED", "FAILED")
    assert item["status"] == "COMPLETED", item.get("reason")
    launched_from = {**harness.drs.recovered_from, **harness.targets[STAGING].recovered_from}
    assert launched_from == expected, "DRS was asked for exactly those snapshots"
    [home_call] = harness.drs.calls_to("StartRecovery")
    assert sorted(s["recoverySnapshotID"] for s in home_call["sourceServers"]) == sorted(
        expected[s] for s in HOME_SERVERS
    )


def test_a_server_without_a_snapshot_that_old_refuses_the_start_and_nothing_is_written(
    harness: Harness,
) -> None:
    plan_id = catalog_with_a_plan(harness)
    # Two days back: older than the simulator's day of hourly snapshots, except for one
    # server given an old snapshot of its own.
    moment = datetime.now(UTC) - timedelta(days=2)
    harness.drs.add_snapshot(HOME_SERVERS[0], moment - timedelta(hours=1))

    status, refused = post(
        harness,
        "/recovery-plans/{planId}/executions",
        {"mode": "RECOVERY", "pointInTime": zulu(moment)},
        planId=plan_id,
    )

    assert status == 400, refused
    assert {e["field"] for e in refused["errors"]} == {"pointInTime"}
    named = sorted(e["reason"].split()[2] for e in refused["errors"])
    assert named == sorted([HOME_SERVERS[1], STAGING_SERVER])
    assert harness.api("GET", "/executions")[1]["items"] == []
    assert harness.drs.calls_to("StartRecovery") == []
    # Nothing held: a start without a point in time goes through at once.
    status, started = post(
        harness, "/recovery-plans/{planId}/executions", {"mode": "DRILL"}, planId=plan_id
    )
    assert status == 202 and "pointInTime" not in started
    assert harness.wait_for(started["executionId"], "COMPLETED", "FAILED")["status"] == "COMPLETED"
    assert harness.drs.recovered_from == {}, "the latest snapshots: none named"


def test_a_point_in_time_must_be_utc_in_drs_form(harness: Harness) -> None:
    plan_id = catalog_with_a_plan(harness)
    # Saving the plan had it evaluated (readiness reads snapshots); the refused starts
    # below must ask DRS nothing more.
    before = harness.drs.calls_to("DescribeRecoverySnapshots")
    # Found by the API fuzzer: the pattern lets a 31 February through, DRS would not.
    for moment in ("2026-11-29 03:00", "4219-02-31T20:48:42.680900Z"):
        status, refused = post(
            harness,
            "/recovery-plans/{planId}/executions",
            {"mode": "DRILL", "pointInTime": moment},
            planId=plan_id,
        )
        assert status == 400, refused
        assert refused["errors"][0]["field"] == "pointInTime"
    assert harness.drs.calls_to("DescribeRecoverySnapshots") == before
