"""Readiness for failback through the API, after a real recovery ran end to end: each
server's recovery instance, its failback client or origin, its failback replication, and
the data still to move (issue 19, part 2)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from drs_orchestrator.adapters.drs import DrsGateway
from drs_orchestrator.domain.failback_readiness import LaunchedServer, evaluate
from drs_orchestrator.domain.plans import RecoveryPlan, Wave

from tests.patience import PATIENCE

if TYPE_CHECKING:
    from tests.e2e.conftest import Harness

ON_PREMISES = ["s-00000000000000f01", "s-00000000000000f02"]
FROM_AWS = "s-00000000000000fa1"
#: An origin the deployment does not reach (not home, not a DRS target).
ELSEWHERE = ("ap-southeast-2", "444455556666")
GROUPS = {"db": ON_PREMISES, "web": [FROM_AWS]}
PLAN = RecoveryPlan("failback", (Wave("Db", ("db",)), Wave("Web", ("web",), depends_on=("Db",))))


def recovered(harness: Harness, mode: str = "RECOVERY") -> dict[str, Any]:
    """The plan run to its end (a recovery, unless told)."""
    for server in ON_PREMISES:
        harness.drs.add_source_server(server)
    harness.drs.add_source_server(FROM_AWS, origin=ELSEWHERE)
    execution_id = harness.run(PLAN, GROUPS, mode=mode, hold=True)
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        harness.run_finder()
        item = harness.execution(execution_id)
        if item["status"] == "COMPLETED":
            return item
        time.sleep(0.1)
    raise AssertionError(harness.execution(execution_id))


def readiness(harness: Harness, execution_id: str) -> dict[str, Any]:
    status, body = harness.api(
        "GET",
        "/executions/{executionId}/failback-readiness",
        groups="read-only",
        executionId=execution_id,
    )
    assert status == 200, body
    return body


def test_after_a_recovery_each_server_says_what_its_failback_needs(harness: Harness) -> None:
    item = recovered(harness)
    instance = {s: item["servers"][s]["recoveryInstanceId"] for s in [*ON_PREMISES, FROM_AWS]}

    first = readiness(harness, item["executionId"])
    assert first["state"] == "actionRequired" and first["servers"] == 3
    checks = {(f["sourceServerId"], f["check"], f["severity"]) for f in first["findings"]}
    assert checks == {
        (ON_PREMISES[0], "failback-client", "warning"),
        (ON_PREMISES[1], "failback-client", "warning"),
        (FROM_AWS, "failback-origin", "actionRequired"),
    }
    [origin] = [f for f in first["findings"] if f["check"] == "failback-origin"]
    assert "444455556666/ap-southeast-2" in origin["message"] and "drsTargets" in origin["fix"]

    # The operator boots the failback client of the first server; the second stalls.
    harness.drs.connect_failback_client(instance[ON_PREMISES[0]])
    harness.drs.connect_failback_client(instance[ON_PREMISES[1]])
    harness.drs.stall_failback(instance[ON_PREMISES[1]])
    later = readiness(harness, item["executionId"])
    by_server = {f["sourceServerId"]: f for f in later["findings"]}
    assert ON_PREMISES[0] not in by_server, "ready for launch: nothing to say"
    assert by_server[ON_PREMISES[1]]["check"] == "failback-replication"
    assert "FAILBACK_CLIENT_NOT_SEEN" in by_server[ON_PREMISES[1]]["message"]
    assert set(later["bytesToMove"]) == {*ON_PREMISES, FROM_AWS}

    # Instances terminated (by hand: the API terminates only a drill's) have nothing left.
    DrsGateway(harness.drs.client()).terminate_recovery_instances(list(instance.values()))
    gone = readiness(harness, item["executionId"])
    assert {f["check"] for f in gone["findings"]} == {"recovery-instance"}


def test_only_a_finished_recovery_fails_back(harness: Harness) -> None:
    drill = recovered(harness, mode="DRILL")["executionId"]
    status, body = harness.api(
        "GET", "/executions/{executionId}/failback-readiness", executionId=drill
    )
    assert status == 409 and body["message"].endswith("only a recovery fails back")


def test_data_to_move_is_the_disks_less_what_failback_replication_copied() -> None:
    launched = [LaunchedServer("s-1", "Db", "i-1")]
    instance = {
        "recoveryInstanceID": "i-1",
        "ec2InstanceState": "RUNNING",
        "originEnvironment": "ON_PREMISES",
        "failback": {"state": "FAILBACK_IN_PROGRESS", "failbackClientID": "fbc-1"},
        "recoveryInstanceProperties": {
            "disks": [
                {"internalDeviceName": "/dev/sda", "bytes": 100},
                {"internalDeviceName": "/dev/sdb", "bytes": 50},
            ]
        },
        "dataReplicationInfo": {
            "lagDuration": "PT5M",
            "replicatedDisks": [{"deviceName": "/dev/sda", "replicatedStorageBytes": 70}],
        },
    }
    result = evaluate(launched, {"i-1": instance}, set()).as_dict()
    assert (result["bytesToMove"], result["totalBytesToMove"]) == ({"s-1": 80}, 80)
    [finding] = result["findings"]
    assert finding["message"] == "its failback replication is not ready for launch yet (lag PT5M)"
    assert result["state"] == "warnings"
