"""The bounds of a plan keep the execution that runs it on one DynamoDB item.

The worst case is built from the largest plan the API accepts: 500 servers (the most a plan
may hold) over 50 waves with 128-character names, a 32 KiB plan copied onto the execution,
every server launched and terminated with all its fields, every batch and job recorded.
DynamoDB's limit is 400 KB; the item must stay well under it."""

from __future__ import annotations

from typing import Any

from drs_orchestrator.domain.executions import TrackedServer
from drs_orchestrator.domain.plans import (
    MAX_PLAN_BYTES,
    MAX_SERVERS_PER_PLAN,
    MAX_WAVES,
    RecoveryPlan,
    Wave,
    job_batches,
)
from drs_orchestrator.services.executions import new_execution

from tests.lambdas.runner_world import World

ITEM_LIMIT = 400 * 1024
STAMP = "2026-11-30T01:00:00.000000+00:00"


def dynamodb_size(value: Any) -> int:
    """An item's size as DynamoDB counts it: UTF-8 strings, numbers up to 21 bytes, 3 bytes
    per map or list and 1 per element, attribute names included."""
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, int | float):
        return 21
    if isinstance(value, dict):
        return 3 + sum(len(k.encode()) + dynamodb_size(v) + 1 for k, v in value.items())
    return 3 + sum(dynamodb_size(v) + 1 for v in value)


def worst_case_execution() -> dict[str, Any]:
    names = [f"wave {i:02d} ".ljust(128, "x") for i in range(MAX_WAVES)]
    servers = [f"s-{i:017d}" for i in range(MAX_SERVERS_PER_PLAN)]
    per_wave = MAX_SERVERS_PER_PLAN // MAX_WAVES
    groups = {f"g{i:02d}": servers[i * per_wave : (i + 1) * per_wave] for i in range(MAX_WAVES)}
    waves = tuple(
        Wave(name, (f"g{i:02d}",), (names[i - 1],) if i else ()) for i, name in enumerate(names)
    )
    item = new_execution(
        "ex-" + "e" * 16, "rp-" + "p" * 12, RecoveryPlan("p", waves), groups, "DRILL", STAMP, 7
    )
    item["plan"] = {"name": "p", "description": "d" * MAX_PLAN_BYTES, "version": 7}
    item["protectionGroups"] = {
        g: {
            "groupId": "pg-" + "g" * 12,
            "version": 9,
            "region": "us-east-1",
            "sourceServerIds": ids,
        }
        for g, ids in groups.items()
    }
    for index, wave in enumerate(item["waves"]):
        for ordinal, batch in enumerate(job_batches(wave["servers"])):
            batch_id = f"batch-{index:032d}{ordinal:032d}"
            job_id = f"drsjob-{index:015d}{ordinal:02d}"
            item["batches"][batch_id] = {
                "batchId": batch_id,
                "wave": wave["name"],
                "servers": batch,
                "status": "STARTED",
                "jobId": job_id,
                "plannedAt": STAMP,
            }
            item["jobs"][job_id] = {
                "jobId": job_id,
                "waveName": wave["name"],
                "batchId": batch_id,
                "status": "COMPLETED",
                "type": "LAUNCH",
                "servers": batch,
                "createdAt": STAMP,
            }
            wave.update(jobIds=[*wave["jobIds"], job_id], status="COMPLETED", startedAt=STAMP)
            for server in batch:
                item["servers"][server] = TrackedServer(
                    server,
                    wave["name"],
                    job_id,
                    "LAUNCHED",
                    "i-" + "0" * 17,
                    "drsjob-" + "t" * 17,
                    "COMPLETED",
                ).as_item()
    # Started at a point in time: every server's snapshot id is on the item too.
    item["pointInTime"] = "2026-11-29T03:00:00.000000Z"
    item["snapshots"] = {server: "pit-" + "p" * 17 for server in servers}
    # Every server launched in a DRS target of another account (the longest key).
    for wave in item["waves"]:
        wave["targets"] = {"111122223333/ap-southeast-2": list(wave["servers"])}
    for record in (*item["batches"].values(), *item["jobs"].values()):
        record["target"] = "111122223333/ap-southeast-2"
    # Completed over its objective, woken many times (the sleep's token is kept apart).
    item["recoveryTimeObjectiveMinutes"] = 10_080
    item["recoveryTime"] = {
        "seconds": 604_800.125,
        "objectiveSeconds": 604_800,
        "overObjective": True,
    }
    item.update(wakeRequests=999_999, wakeRequestedAt=STAMP)
    return item


def test_the_largest_plan_runs_on_an_execution_item_well_under_400_kb() -> None:
    size = dynamodb_size(worst_case_execution())
    assert size < 0.85 * ITEM_LIMIT, f"worst-case execution item is {size} bytes"


def test_the_bound_is_tight_enough_to_matter() -> None:
    # Twice the servers would not fit: the bound is what keeps the item under the limit.
    item = worst_case_execution()
    per_server = dynamodb_size(item["servers"]) / MAX_SERVERS_PER_PLAN
    assert dynamodb_size(item) + per_server * MAX_SERVERS_PER_PLAN > ITEM_LIMIT


#: An explicit deny of a service control policy as DRS words it: about 300 characters.
SCP_DENY = (
    "AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/"
    "aws-elasticdrs-orchestrator-dev-wave-runner-role/aws-elasticdrs-orchestrator-dev-wave-"
    "runner is not authorized to perform: drs:StartRecovery on resource: arn:aws:drs:us-east-"
    "1:111122223333:source-server/* with an explicit deny in a service control policy"
)
#: No reason or message the runtime stores may be longer (issue 32).
LONGEST_REASON = 2_000


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_a_refused_wave_of_the_most_servers_records_its_failure_in_bounded_reasons() -> None:
    """Issue 32's first defect: DRS refusing every StartRecovery of a 500-server wave (an
    SCP's deny) made a reason naming every server with the error copied for each, stored on
    the wave, the execution and the notification: the save that records the failure was
    over DynamoDB's 400 KB on every tick, so the execution never ended. Each reason counts
    the servers, names the first few and keeps the error's code with a bounded message;
    which servers did not launch stays on the item, batch by batch."""
    servers = [f"s-{i:017d}" for i in range(MAX_SERVERS_PER_PLAN)]
    world = World(RecoveryPlan("p", (Wave("all", ("all",)),)), {"all": servers})
    world.refusal = SCP_DENY
    world.run_to_end()
    item = world.item
    assert item["status"] == "FAILED"
    assert dynamodb_size(item) < 0.85 * ITEM_LIMIT
    assert max(len(s) for s in _strings(item)) <= LONGEST_REASON
    [wave] = item["waves"]
    for reason in (wave["reason"], item["reason"]):
        assert f"{MAX_SERVERS_PER_PLAN} servers" in reason
        assert "AccessDeniedException: User: arn:aws:sts::111122223333" in reason
        assert servers[0] in reason
    [failed] = [m for m in item["outbox"].values() if m["event"] == "failed"]
    assert failed["details"]["reason"] == item["reason"].removeprefix("wave all: ")
    refused = [b for b in item["batches"].values() if b["status"] == "REFUSED"]
    assert sorted(s for b in refused for s in b["servers"]) == servers
    assert all(b["reason"].startswith("AccessDeniedException: ") for b in refused)


def test_a_failback_wave_of_the_most_servers_failing_records_bounded_reasons() -> None:
    """The same for a failback: every server of a 500-server wave failing its replication
    back with a long DRS error once made a wave reason naming each with the error copied,
    and a notification joining it. The wave's reason counts the servers by why and names
    the first few; each server's own reason (bounded) stays on its record."""
    from drs_orchestrator.domain import failback

    servers = [f"s-{i:017d}" for i in range(MAX_SERVERS_PER_PLAN)]
    recovery = {
        "executionId": "rec-1",
        "waves": [{"name": "all", "servers": servers}],
        "servers": {
            s: {"launchStatus": "LAUNCHED", "recoveryInstanceId": f"i-{n:017x}"}
            for n, s in enumerate(servers)
        },
    }
    item = failback.new_failback("fb-1", recovery, {}, STAMP)
    error = "FAILED_TO_PAIR_AGENT_WITH_REPLICATION_SOFTWARE: " + "x" * 600
    seen = failback.Observations(
        instances={
            s["instance"]: failback.InstanceView(failback.FAILBACK_ERROR, error)
            for s in item["failback"].values()
        }
    )
    for _ in range(2):  # PENDING -> REPLICATING, then DRS's errors fail it
        decision = failback.decide(item, seen, STAMP)
        item = {**item, **decision.changes}
    [wave] = item["waves"]
    assert wave["status"] == "FAILED"
    assert item["status"] == "FAILED"
    assert f"{MAX_SERVERS_PER_PLAN} servers: {servers[0]}" in wave["reason"]
    assert "FAILED_TO_PAIR_AGENT_WITH_REPLICATION_SOFTWARE" in wave["reason"]
    assert len(wave["reason"]) <= LONGEST_REASON
    assert dynamodb_size(item) < 0.85 * ITEM_LIMIT
    assert max(len(s) for s in _strings(item)) <= LONGEST_REASON
    assert all("FAILED_TO_PAIR" in s["reason"] for s in item["failback"].values())
