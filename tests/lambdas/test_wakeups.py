"""Event-driven waves: a DRS launch result wakes the sleeping execution holding the server,
and no wake is lost between a tick and the sleep that follows it."""

from __future__ import annotations

import copy
import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from drs_orchestrator.adapters.drs import DrsGateway
from drs_orchestrator.adapters.dynamodb import (
    SLEEP_ITEM_SECONDS,
    SLEEP_SUFFIX,
    ExecutionRecords,
    ServerHolds,
    to_item,
)
from drs_orchestrator.adapters.targets import DrsGateways
from drs_orchestrator.domain.targets import HOME, Target, Targets
from drs_orchestrator.domain.wakeups import (
    LAUNCH_FAILED,
    UNSEEN,
    LaunchResult,
    launch_result,
    woken_meanwhile,
)
from drs_orchestrator.services.wakeups import Waker

from infra.tables import SERVER_HOLDS, create_table_request
from tests.fakes.drs import FakeDrs
from tests.fakes.stepfunctions import FakeMachines as Machines
from tests.lambdas.conftest import EXECUTIONS_TABLE, shell_runner

if TYPE_CHECKING:
    from drs_orchestrator.services.wave_runner import WaveRunner

EVENT = json.loads(
    (Path(__file__).parents[1] / "fixtures/events/drs_source_server_launch_result.json").read_text()
)
SERVER = "s-12345678901234567"
HOLDS_TABLE = "test-deployment-server-holds"


class Unreadable:
    """A table that answers nothing (throttled past the client's retries)."""

    def __getattr__(self, _name: str) -> Any:
        def refuse(*_args: Any, **_kwargs: Any) -> Any:
            from drs_orchestrator.errors import StoreError

            raise StoreError("UpdateItem", "ProvisionedThroughputExceededException", "slow down")

        return refuse


@pytest.fixture
def tables(dynamodb: Any) -> tuple[ExecutionRecords, ServerHolds]:
    dynamodb.create_table(**create_table_request(SERVER_HOLDS, HOLDS_TABLE))
    dynamodb.put_item(
        TableName=EXECUTIONS_TABLE,
        Item=to_item({"executionId": "ex-1", "status": "RUNNING", "version": 3, "waves": []}),
    )
    holds = ServerHolds(HOLDS_TABLE, client=dynamodb)
    assert holds.take("ex-1", SERVER, "2026-11-30T12:00:00.000000Z")
    return ExecutionRecords(EXECUTIONS_TABLE, client=dynamodb), holds


def runner(records: Any, machines: Machines) -> WaveRunner:
    return shell_runner(records, machines, "wakeups-test")


JOB = "drsjob-04ca7d0d3fb6afa3e"


def ended_job(*, finished: bool = True) -> FakeDrs:
    """DRS in which the event's job launched its one server (or is still launching it)."""
    drs = FakeDrs(region="us-west-2", account="111122223333")
    drs.add_job([SERVER, "s-22222222222222222"], job_id=JOB)
    drs.start(JOB)
    if finished:
        drs.finish(JOB)
    return drs


def waker(records: Any, holds: Any, machines: Machines, drs: FakeDrs | None = None) -> Waker:
    return Waker(
        records,
        holds,
        machines,  # type: ignore[arg-type]
        DrsGateways.home_only(DrsGateway(client=(drs or ended_job()).client())),
        logging.getLogger("wakeups-test"),
    )


class TargetSessions:
    """Each target's DRS client, as the target's role would give it."""

    def __init__(self, clients: dict[str, Any]) -> None:
        self.clients = clients
        self.asked: list[tuple[str, str]] = []

    def client(self, service: str, target: Target, session: str, *, fresh: bool = False) -> Any:
        self.asked.append((target.key, session))
        return self.clients[target.key]


# -- the domain: reading DRS's event ------------------------------------------------------


def test_the_documented_launch_result_names_its_server_job_and_outcome() -> None:
    assert launch_result(EVENT) == LaunchResult(
        server_id=SERVER,
        account="111122223333",
        region="us-west-2",
        state="RECOVERY_LAUNCH_SUCCEEDED",
        job_id="drsjob-04ca7d0d3fb6afa3e",
        at="2016-08-22T20:12:19Z",
    )
    failed = copy.deepcopy(EVENT)
    failed["detail"]["state"] = LAUNCH_FAILED
    result = launch_result(failed)
    assert result is not None
    assert not result.succeeded


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"source": "aws.events"}, "another source"),
        ({"detail-type": "DRS Source Server Data Replication Stalled Change"}, "another event"),
        ({"resources": []}, "no resource"),
        (
            {"resources": ["arn:aws:drs:us-west-2:111122223333:job/drsjob-04ca7d0d3fb6afa3e"]},
            "a job",
        ),
        ({"resources": ["arn:aws:drs:us-west-2:111122223333:source-server/s-1"]}, "a short id"),
    ],
)
def test_anything_but_a_launch_result_of_a_source_server_is_not_one(
    change: dict[str, Any], why: str
) -> None:
    assert launch_result({**EVENT, **change}) is None, why


def test_a_sleep_wakes_itself_only_for_wakes_its_tick_did_not_see() -> None:
    assert woken_meanwhile(3, 2)
    assert not woken_meanwhile(2, 2)
    assert not woken_meanwhile(5, UNSEEN), "a tick that read nothing sleeps its interval"


# -- the waker ----------------------------------------------------------------------------


def test_a_launch_result_wakes_the_sleeping_execution_holding_the_server(
    tables: tuple[ExecutionRecords, ServerHolds],
) -> None:
    records, holds = tables
    machines = Machines()
    runner(records, machines).sleep("ex-1", "sleep-token-1", wakes_seen=0)
    assert machines.woken == [], "nothing asked for a wake yet: the machine sleeps"

    answer = waker(records, holds, machines).on_event(EVENT)

    assert answer == {"woken": True, "executionId": "ex-1", "sourceServerId": SERVER}
    assert machines.woken == ["sleep-token-1"]
    item = records.get("ex-1")
    assert item["wakeRequests"] == 1
    assert item["version"] == 3, "a wake decides nothing: the version stays"
    # The sleep item expires a day after its last sleep (the table's TTL); the execution
    # itself never carries the TTL attribute.
    asleep = records.get(f"ex-1{SLEEP_SUFFIX}")
    assert asleep is not None
    assert 0 < asleep["expiresAt"] - time.time() <= SLEEP_ITEM_SECONDS
    assert "expiresAt" not in item


def test_a_launch_result_before_the_last_of_its_job_wakes_nothing(
    tables: tuple[ExecutionRecords, ServerHolds],
) -> None:
    """One result per server: only the job's last can move a wave on, so earlier ones do
    not cost the machine a loop."""
    records, holds = tables
    machines = Machines()
    runner(records, machines).sleep("ex-1", "sleep-token-1", wakes_seen=0)

    answer = waker(records, holds, machines, ended_job(finished=False)).on_event(EVENT)

    assert answer["woken"] is False
    assert "still launching" in answer["why"]
    assert machines.woken == []
    assert records.get("ex-1").get("wakeRequests", 0) == 0


def test_a_job_drs_cannot_describe_now_wakes_anyway(
    tables: tuple[ExecutionRecords, ServerHolds], no_retry_sleep: list[float]
) -> None:
    records, holds = tables
    machines = Machines()
    runner(records, machines).sleep("ex-1", "sleep-token-1", wakes_seen=0)
    drs = ended_job(finished=False)
    drs.fail_next("DescribeJobs", "InternalServerException", times=20)

    assert waker(records, holds, machines, drs).on_event(EVENT)["woken"] is True
    assert machines.woken == ["sleep-token-1"]


def test_a_server_no_execution_holds_wakes_nothing_and_writes_nothing(
    tables: tuple[ExecutionRecords, ServerHolds], dynamodb: Any
) -> None:
    records, holds = tables
    holds.release("ex-1", [SERVER])
    machines = Machines()
    runner(records, machines).sleep("ex-1", "sleep-token-1", wakes_seen=0)
    before = records.get("ex-1")

    answer = waker(records, holds, machines).on_event(EVENT)

    assert answer["woken"] is False
    assert SERVER in answer["why"]
    assert machines.woken == []
    assert records.get("ex-1") == before


def test_a_wake_during_a_tick_ends_the_sleep_that_follows_at_once(
    tables: tuple[ExecutionRecords, ServerHolds],
) -> None:
    """The tick loaded the execution with no wake requested; the launch result arrives
    while it runs (no sleep in progress: nothing to hand back); the sleep after the tick
    sees the request its tick did not and wakes itself."""
    records, holds = tables
    machines = Machines()
    seen = int(records.get("ex-1").get("wakeRequests", 0))

    assert waker(records, holds, machines).on_event(EVENT)["woken"] is False
    answer = runner(records, machines).sleep("ex-1", "sleep-token-2", wakes_seen=seen)

    assert answer == {"asleep": False, "wakes": 1}
    assert machines.woken == ["sleep-token-2"]


def test_a_spent_token_left_on_the_item_is_not_a_wake(
    tables: tuple[ExecutionRecords, ServerHolds],
) -> None:
    records, holds = tables
    machines = Machines()
    runner(records, machines).sleep("ex-1", "sleep-token-1", wakes_seen=0)
    assert waker(records, holds, machines).on_event(EVENT)["woken"] is True
    # The machine ticks: the token it slept on is spent, yet still on the item.
    assert waker(records, holds, machines).on_event(EVENT)["woken"] is False
    assert machines.woken == ["sleep-token-1"]
    assert records.get("ex-1")["wakeRequests"] == 2


def test_an_ended_execution_is_not_woken(tables: tuple[ExecutionRecords, ServerHolds]) -> None:
    records, holds = tables
    machines = Machines()
    runner(records, machines).sleep("ex-1", "sleep-token-1", wakes_seen=0)
    records.mark("ex-1", {"status": "COMPLETED"})

    assert waker(records, holds, machines).on_event(EVENT)["woken"] is False
    assert machines.woken == []
    assert "wakeRequests" not in records.get("ex-1"), "an ended execution is not written"


def test_the_sleep_token_stays_beside_the_execution_and_is_never_listed(
    tables: tuple[ExecutionRecords, ServerHolds], dynamodb: Any
) -> None:
    """A task token can be 2 KB and an execution item of 500 servers is near DynamoDB's
    limit: the token lives in the execution's sleep item, which no listing shows."""
    records, _ = tables
    dynamodb.put_item(
        TableName=EXECUTIONS_TABLE,
        Item=to_item({"executionId": "ex-2", "planId": "rp-1", "status": "RUNNING"}),
    )
    runner(records, Machines()).sleep("ex-2", "t" * 2048, wakes_seen=0)
    assert "sleepToken" not in records.get("ex-2")
    listed, _ = records.page(None, "status-index", 100, None)
    assert sorted(i["executionId"] for i in listed) == ["ex-1", "ex-2"], "no sleep item"


def test_a_wake_step_functions_refuses_is_not_raised_and_the_sleep_just_lasts(
    tables: tuple[ExecutionRecords, ServerHolds],
) -> None:
    records, holds = tables
    machines = Machines(failures=1)
    runner(records, Machines()).sleep("ex-1", "sleep-token-1", wakes_seen=0)

    assert waker(records, holds, machines).on_event(EVENT)["woken"] is False
    assert records.get("ex-1")["wakeRequests"] == 1, "counted: the next sleep ends at once"


def test_unreadable_tables_are_logged_not_raised(
    tables: tuple[ExecutionRecords, ServerHolds],
) -> None:
    records, holds = tables
    machines = Machines()
    assert waker(records, Unreadable(), machines).on_event(EVENT)["woken"] is False
    assert waker(Unreadable(), holds, machines).on_event(EVENT)["woken"] is False
    assert runner(Unreadable(), machines).sleep("ex-1", "t", wakes_seen=0) == {"asleep": False}
    assert machines.woken == []


def test_the_handler_routes_drs_events_to_the_waker(
    tables: tuple[ExecutionRecords, ServerHolds],
    monkeypatch: pytest.MonkeyPatch,
    no_retry_sleep: list[float],
) -> None:
    from drs_orchestrator.handlers import wave_runner

    from tests.fakes.lambda_context import LambdaContext

    for name, value in {
        "DEPLOYMENT_NAME": "test-deployment",
        "EXECUTIONS_TABLE": EXECUTIONS_TABLE,
        "EXECUTIONS_STATUS_INDEX": "status-index",
        "JOB_EVENTS_TABLE": "test-deployment-job-events",
        "JOB_EVENTS_RETENTION_DAYS": "30",
        "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t",
        "SERVER_HOLDS_TABLE": HOLDS_TABLE,
    }.items():
        monkeypatch.setenv(name, value)
    machines = Machines()
    monkeypatch.setattr(wave_runner, "_machines", lambda _arn: machines)
    wave_runner._waker.cache_clear()
    records, _ = tables
    records.sleeping("ex-1", "sleep-token-9", "2026-11-30T12:00:00.000000Z")
    try:
        answer = wave_runner.handler(EVENT, LambdaContext("wave-runner"))
    finally:
        wave_runner._waker.cache_clear()
    assert answer["woken"] is True
    assert machines.woken == ["sleep-token-9"]


def test_a_launch_result_forwarded_from_a_target_is_checked_in_that_target(
    tables: tuple[ExecutionRecords, ServerHolds],
) -> None:
    """Issue 30: the target program forwards its DRS events to the deployment's bus. The
    event's source server is in 111122223333/us-west-2: its job is described there, through
    the target's role, not in the deployment's own DRS (which has no such job)."""
    records, holds = tables
    machines = Machines()
    runner(records, machines).sleep("ex-1", "sleep-token-1", wakes_seen=0)
    home = FakeDrs(region="us-east-1")  # knows nothing of the job
    there = ended_job(finished=False)
    target = Target("111122223333", "us-west-2", "arn:aws:iam::111122223333:role/t", "x-1")
    sessions = TargetSessions({target.key: there.client()})
    gateways = DrsGateways(
        Targets(Target(HOME, "us-east-1"), (target,)),
        DrsGateway(client=home.client()),
        sessions,  # type: ignore[arg-type]
    )
    waker_there = Waker(records, holds, machines, gateways, logging.getLogger("wakeups-test"))  # type: ignore[arg-type]

    assert "still launching" in waker_there.on_event(EVENT)["why"], "the target's job, read"
    assert sessions.asked == [(target.key, "drs-wave-runner")]
    there.finish(JOB)
    assert waker_there.on_event(EVENT)["woken"] is True
    assert machines.woken == ["sleep-token-1"]


def test_a_target_that_cannot_be_reached_still_wakes_the_drill(
    tables: tuple[ExecutionRecords, ServerHolds],
) -> None:
    """The waker's new call point (DescribeJobs in a target, through its role): when the
    role cannot be assumed, the job cannot be told and the wake goes ahead, as at home."""
    from drs_orchestrator.errors import TargetUnreachableError

    records, holds = tables
    machines = Machines()
    runner(records, machines).sleep("ex-1", "sleep-token-1", wakes_seen=0)
    target = Target("111122223333", "us-west-2", "arn:aws:iam::111122223333:role/t", "x-1")

    class Refusing(TargetSessions):
        def client(self, service: str, target: Target, session: str, *, fresh: bool = False) -> Any:
            raise TargetUnreachableError(target.key, "AccessDenied: not trusted", transient=False)

    gateways = DrsGateways(
        Targets(Target(HOME, "us-east-1"), (target,)),
        DrsGateway(client=FakeDrs(region="us-east-1").client()),
        Refusing({}),  # type: ignore[arg-type]
    )
    waking = Waker(records, holds, machines, gateways, logging.getLogger("wakeups-test"))  # type: ignore[arg-type]
    assert waking.on_event(EVENT)["woken"] is True
    assert machines.woken == ["sleep-token-1"]
