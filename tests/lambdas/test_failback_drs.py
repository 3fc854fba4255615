"""Failback in the DRS simulator, through the runtime's DRS adapter and botocore's model
(issue 19's first part): recovery instances from launches, AWS-to-AWS reverse replication,
the on-premises failback client and its launch, a stalled failback, forward protection
restored. Every request and answer is held to botocore's DRS model."""

from __future__ import annotations

import pytest
from drs_orchestrator.adapters.drs import DrsGateway
from drs_orchestrator.errors import DrsError

from tests.fakes.drs import FakeDrs

ORIGIN = ("us-west-2", "444455556666")


def recovered(drs: FakeDrs, servers: list[str], *, drill: bool = False) -> list[str]:
    """A recovery (or drill) of ``servers`` run to its end; their recovery instances."""
    job = DrsGateway(drs.client()).start_recovery(
        servers, is_drill=drill, tags={"drs-orchestrator:batch": "b"}
    )
    drs.start(job["jobID"])
    drs.finish(job["jobID"])
    return [i["recoveryInstanceID"] for i in DrsGateway(drs.client()).recovery_instances()]


@pytest.fixture
def drs() -> FakeDrs:
    simulated = FakeDrs(region="us-east-1")
    simulated.autopilot = True
    for server in ("s-00000000000000aw1", "s-00000000000000op1", "s-00000000000000op2"):
        simulated.add_source_server(server)
    simulated.origins["s-00000000000000aw1"] = ORIGIN  # an EC2 instance in another region
    return simulated


def test_launches_make_recovery_instances_that_terminating_removes(drs: FakeDrs) -> None:
    gateway = DrsGateway(drs.client())
    instances = recovered(drs, ["s-00000000000000aw1", "s-00000000000000op1"])
    found = {i["sourceServerID"]: i for i in gateway.recovery_instances()}
    assert found["s-00000000000000aw1"]["originEnvironment"] == "AWS"
    assert found["s-00000000000000op1"]["originEnvironment"] == "ON_PREMISES"
    assert {i["failback"]["state"] for i in found.values()} == {"FAILBACK_NOT_STARTED"}
    assert (
        gateway.recovery_instances(server_ids=["s-00000000000000op1"])[0]["recoveryInstanceID"]
        in instances
    )
    gateway.terminate_recovery_instances(instances[:1])
    assert [i["recoveryInstanceID"] for i in gateway.recovery_instances()] == instances[1:]
    assert drs.violations == []


def test_aws_to_aws_reverse_replication_is_idempotent_and_becomes_ready(drs: FakeDrs) -> None:
    gateway = DrsGateway(drs.client())
    recovered(drs, ["s-00000000000000aw1"])
    [instance] = gateway.recovery_instances()
    arn = gateway.reverse_replication(instance["recoveryInstanceID"])
    assert arn.startswith(f"arn:aws:drs:{ORIGIN[0]}:{ORIGIN[1]}:source-server/s-")
    assert gateway.reverse_replication(instance["recoveryInstanceID"]) == arn, "asked again"
    [ready] = gateway.recovery_instances()  # one read: replication caught up
    assert ready["failback"]["state"] == "FAILBACK_READY_FOR_LAUNCH"
    assert ready["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS"
    assert drs.violations == []


def test_a_drill_or_an_on_premises_instance_does_not_reverse(drs: FakeDrs) -> None:
    gateway = DrsGateway(drs.client())
    recovered(drs, ["s-00000000000000op1"])
    [on_premises] = gateway.recovery_instances()
    with pytest.raises(DrsError, match="AWS source"):
        gateway.reverse_replication(on_premises["recoveryInstanceID"])
    drill = FakeDrs(region="us-east-1")
    drill.add_source_server("s-00000000000000aw1")
    drill.origins["s-00000000000000aw1"] = ORIGIN
    recovered(drill, ["s-00000000000000aw1"], drill=True)
    [instance] = DrsGateway(drill.client()).recovery_instances()
    with pytest.raises(DrsError, match="drill instance"):
        DrsGateway(drill.client()).reverse_replication(instance["recoveryInstanceID"])


def test_on_premises_failback_client_then_failback_launch_completes_it(drs: FakeDrs) -> None:
    gateway = DrsGateway(drs.client())
    recovered(drs, ["s-00000000000000op1", "s-00000000000000op2"])
    first, second = (i["recoveryInstanceID"] for i in gateway.recovery_instances())
    drs.connect_failback_client(first)
    gateway.recovery_instances()  # the client replicated: ready
    with pytest.raises(DrsError) as refused:
        gateway.start_failback_launch([first, second], {"drs-orchestrator:execution": "fb-1"})
    assert second in str(refused.value), "a server without its client connected is named"
    job = gateway.start_failback_launch([first], {"drs-orchestrator:execution": "fb-1"})
    assert [s.source_server_id for s in job.servers] == ["s-00000000000000op1"]
    gateway.describe_jobs([job.job_id])
    gateway.describe_jobs([job.job_id])  # autopilot: PENDING -> STARTED -> COMPLETED
    states = {i["recoveryInstanceID"]: i["failback"]["state"] for i in gateway.recovery_instances()}
    assert states == {first: "FAILBACK_COMPLETED", second: "FAILBACK_NOT_STARTED"}
    assert len(gateway.recovery_instances()) == 2, "a failback launch makes no new instance"
    assert drs.violations == []


def test_a_stalled_failback_errs_and_stopping_resets_it(drs: FakeDrs) -> None:
    gateway = DrsGateway(drs.client())
    recovered(drs, ["s-00000000000000aw1"])
    [instance] = gateway.recovery_instances()
    drs.stall_failback(instance["recoveryInstanceID"])
    gateway.reverse_replication(instance["recoveryInstanceID"])
    [stalled] = gateway.recovery_instances()
    assert stalled["failback"]["state"] == "FAILBACK_ERROR"
    assert stalled["dataReplicationInfo"]["dataReplicationError"]["error"] == (
        "FAILBACK_CLIENT_NOT_SEEN"
    )
    gateway.stop_failback(instance["recoveryInstanceID"])
    [stopped] = gateway.recovery_instances()
    assert stopped["failback"] == {"state": "FAILBACK_NOT_STARTED"}
    assert drs.violations == []


def test_forward_replication_is_started_again(drs: FakeDrs) -> None:
    gateway = DrsGateway(drs.client())
    drs.stall("s-00000000000000op1")
    answer = gateway.start_replication("s-00000000000000op1")
    assert answer["dataReplicationInfo"]["dataReplicationState"] == "INITIATING"
    [server] = [s for s in gateway.source_servers() if s["sourceServerID"] == "s-00000000000000op1"]
    assert server["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS"
    assert drs.violations == []


def test_paced_failback_replication_moves_on_with_the_clock() -> None:
    """The sandbox's DRS is paced, not read-driven: a failback under way is ready for
    launch once its pace has passed."""
    paced = FakeDrs(region="us-east-1", pace_seconds=5)
    paced.add_source_server("s-00000000000000op1")
    job = DrsGateway(paced.client()).start_recovery(
        ["s-00000000000000op1"], is_drill=False, tags={}
    )
    paced.start(job["jobID"])
    paced.finish(job["jobID"])
    [instance] = DrsGateway(paced.client()).recovery_instances()
    paced.connect_failback_client(instance["recoveryInstanceID"])
    assert paced.advance_due(now=100.0) == 0, "its pace starts now"
    assert paced.advance_due(now=104.0) == 0
    assert paced.advance_due(now=105.0) == 1
    [ready] = DrsGateway(paced.client()).recovery_instances()
    assert ready["failback"]["state"] == "FAILBACK_READY_FOR_LAUNCH"
