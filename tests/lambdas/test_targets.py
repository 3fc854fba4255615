"""DRS targets at run time (issue 15): the list each function is given, and clients in a
target through STS with credentials cached until they near expiry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from drs_orchestrator.adapters.targets import RENEW_BEFORE, TargetSessions
from drs_orchestrator.domain.targets import HOME, Target, Targets, session_name
from drs_orchestrator.errors import ConfigurationError, TargetUnreachableError
from moto import mock_aws

STAGING = "111122223333"
ROLE = f"arn:aws:iam::{STAGING}:role/dep-a-drs-target"
TARGET = Target(STAGING, "us-west-2", ROLE, "dep-a-7f3a")
ENTRY = {"account": STAGING, "region": "us-west-2", "roleArn": ROLE, "externalId": "dep-a-7f3a"}


def test_the_list_is_read_with_home_first() -> None:
    assert Targets.from_json("us-east-1", "").all() == (Target(HOME, "us-east-1"),)
    targets = Targets.from_json("us-east-1", json.dumps([ENTRY]))
    assert targets.all() == (Target(HOME, "us-east-1"), TARGET)
    assert targets.get(f"{STAGING}/us-west-2") == TARGET
    assert targets.home.is_home and not TARGET.is_home
    with pytest.raises(ConfigurationError, match="no DRS target '444455556666/us-west-2'"):
        targets.get("444455556666/us-west-2")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[{", "DRS_TARGETS is not JSON"),
        ('{"account": "1"}', "DRS_TARGETS must be a JSON list"),
        ('["x"]', r"DRS_TARGETS\[0\] must be an object"),
        (json.dumps([{**ENTRY, "externalId": ""}]), r"DRS_TARGETS\[0\] lacks externalId"),
        (
            json.dumps([{**ENTRY, "account": "444455556666"}]),
            r"DRS_TARGETS\[0\].roleArn is not a role of account 444455556666",
        ),
    ],
)
def test_a_broken_list_stops_the_function_with_the_reason(text: str, expected: str) -> None:
    with pytest.raises(ConfigurationError, match=expected):
        Targets.from_json("us-east-1", text)


def test_session_names_carry_the_execution_in_what_sts_accepts() -> None:
    assert session_name("exec-1a2b", "wave-runner") == "drs-exec-1a2b"
    assert session_name(None, "execution-finder") == "drs-execution-finder"
    assert session_name("exec:1/2 3", "api") == "drs-exec-1-2-3"
    assert len(session_name("e" * 100, "api")) == 64


class RecordingSts:
    """STS answering AssumeRole with credentials valid for an hour from ``now``."""

    def __init__(self, clock: list[datetime], error: Exception | None = None) -> None:
        self.clock = clock
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def assume_role(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        if self.error:
            raise self.error
        return {
            "Credentials": {
                "AccessKeyId": f"ASIA{len(self.calls)}",
                "SecretAccessKey": "secret",
                "SessionToken": "token",
                "Expiration": self.clock[0] + timedelta(hours=1),
            }
        }


def test_a_role_is_assumed_once_per_session_until_its_credentials_near_expiry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    clock = [datetime(2026, 11, 30, 8, 0, tzinfo=UTC)]
    sts = RecordingSts(clock)
    sessions = TargetSessions(sts, now=lambda: clock[0])
    client = sessions.client("drs", TARGET, "drs-exec-1")
    assert client.meta.region_name == "us-west-2"
    assert sts.calls == [
        {
            "RoleArn": ROLE,
            "RoleSessionName": "drs-exec-1",
            "ExternalId": "dep-a-7f3a",
            "DurationSeconds": 3600,
        }
    ]
    sessions.client("ssm", TARGET, "drs-exec-1")
    clock[0] += timedelta(hours=1) - RENEW_BEFORE - timedelta(seconds=1)
    sessions.client("drs", TARGET, "drs-exec-1")
    assert len(sts.calls) == 1, "cached: the credentials are good for more than five minutes"
    clock[0] += timedelta(seconds=2)
    sessions.client("drs", TARGET, "drs-exec-1")
    sessions.client("drs", TARGET, "drs-exec-2")
    assert [c["RoleSessionName"] for c in sts.calls] == ["drs-exec-1", "drs-exec-1", "drs-exec-2"]
    home = sessions.client("drs", Target(HOME, "eu-west-1"), "drs-exec-1")
    assert home.meta.region_name == "eu-west-1"
    assert len(sts.calls) == 3, "home needs no role"


@mock_aws
def test_calls_in_a_target_are_made_as_the_assumed_role() -> None:
    sessions = TargetSessions(boto3.client("sts", region_name="us-east-1"))
    identity = sessions.client("sts", TARGET, "drs-exec-9").get_caller_identity()
    assert identity["Arn"] == (f"arn:aws:sts::{STAGING}:assumed-role/dep-a-drs-target/drs-exec-9")


def refused(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "no"}}, "AssumeRole")


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (refused("AccessDenied"), False),
        (refused("RegionDisabledException"), False),
        (refused("Throttling"), True),
        (EndpointConnectionError(endpoint_url="https://sts.amazonaws.com"), True),
    ],
)
def test_a_role_that_cannot_be_assumed_names_the_target(error: Exception, transient: bool) -> None:
    clock = [datetime(2026, 11, 30, tzinfo=UTC)]
    sessions = TargetSessions(RecordingSts(clock, error), now=lambda: clock[0])
    with pytest.raises(TargetUnreachableError) as caught:
        sessions.client("drs", TARGET, "drs-exec-1")
    assert caught.value.target == f"{STAGING}/us-west-2"
    assert caught.value.transient is transient
    assert str(caught.value).startswith(f"DRS target {STAGING}/us-west-2 cannot be reached")


# -- the pure domain across targets ------------------------------------------------------

STAGING_KEY = f"{STAGING}/us-west-2"
RECOVERY_KEY = "444455556666/eu-west-1"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def ids(prefix: str, count: int) -> list[str]:
    return [f"s-{prefix}{n:0{17 - len(prefix)}d}" for n in range(count)]


def test_a_group_is_bound_to_the_target_of_its_account_and_region() -> None:
    targets = Targets.from_json("us-east-1", json.dumps([ENTRY]))
    assert targets.for_group(None, "us-east-1") == targets.home
    assert targets.for_group(STAGING, "us-west-2") == TARGET
    assert targets.for_group(None, "us-west-2") is None, "home is one region"
    assert targets.for_group(STAGING, "us-east-1") is None, "a target is one region"
    assert targets.of_stored(None) == targets.home
    assert targets.of_stored(STAGING_KEY) == TARGET
    assert TARGET.stored_key == STAGING_KEY and targets.home.stored_key is None


def test_quotas_are_checked_per_account_and_region() -> None:
    from drs_orchestrator.domain.plans import Problem, RecoveryPlan, Wave, validate_plan

    groups = {f"g{i}": ids(f"q{i:02d}", 1) for i in range(30)}
    plan = RecoveryPlan("wide", tuple(Wave(f"w{i}", (f"g{i}",)) for i in range(30)))
    # 30 one-server waves at once: 30 jobs in one account-region is over DRS's 20 ...
    [problem] = validate_plan(plan, groups)
    assert "30 DRS jobs; DRS allows 20 concurrent jobs" in problem.reason
    # ... but 15 at home and 15 in a target is 15 in each.
    split = {f"g{i}": STAGING_KEY for i in range(15)}
    assert validate_plan(plan, groups, split) == []
    # 25 in the target and 5 at home: the target's share is over.
    crowded = {f"g{i}": STAGING_KEY for i in range(25)}
    problems = validate_plan(plan, groups, crowded)
    assert problems == [
        Problem(
            "waves",
            "waves "
            + ", ".join(sorted(f"w{i}" for i in range(25)))
            + f" can run at the same time with 25 DRS jobs in {STAGING_KEY}; DRS allows 20 "
            "concurrent jobs (a job holds at most 100 servers)",
        )
    ]


def test_a_wave_spanning_targets_launches_one_batch_per_target() -> None:
    from drs_orchestrator.domain import runner as core
    from drs_orchestrator.domain.plans import RecoveryPlan, Wave
    from drs_orchestrator.services.executions import new_execution

    groups = {"db": ids("h", 150), "app": ids("t", 2), "web": ids("r", 1)}
    plan = RecoveryPlan("span", (Wave("All", ("db", "app", "web")),))
    item = new_execution(
        "ex-1", "rp-1", plan, groups, "DRILL", "2026-11-30T09:00:00Z", 1,
        {"app": STAGING_KEY, "web": RECOVERY_KEY},
    )  # fmt: skip
    assert item["waves"][0]["targets"] == {STAGING_KEY: ids("t", 2), RECOVERY_KEY: ids("r", 1)}
    decision = core.decide(item, now=NOW)
    launches = [c for c in decision.commands if isinstance(c, core.StartRecovery)]
    assert [(c.target, len(c.servers)) for c in launches] == [
        (None, 100),
        (None, 50),
        (STAGING_KEY, 2),
        (RECOVERY_KEY, 1),
    ]
    batches = decision.changes["batches"]
    assert [b.get("target") for b in batches.values()] == [None, None, STAGING_KEY, RECOVERY_KEY]
    saved = {**item, **decision.changes}
    changes, jobs = core.record_started(
        saved, launches[2].batch_id, {"jobID": "drsjob-1", "status": "PENDING"}, "t"
    )
    assert jobs["drsjob-1"]["target"] == STAGING_KEY
    in_use = core.targets_in_use({**saved, **changes, "jobs": jobs})
    assert sorted(in_use) == sorted([STAGING_KEY, RECOVERY_KEY])


def running_in_target(wait: timedelta) -> tuple[dict[str, Any], Any]:
    from drs_orchestrator.domain import runner as core
    from drs_orchestrator.domain.plans import RecoveryPlan, Wave
    from drs_orchestrator.services.executions import new_execution

    item = new_execution(
        "ex-2", "rp-1", RecoveryPlan("p", (Wave("Away", ("app",)),)), {"app": ids("t", 1)},
        "DRILL", "2026-11-30T09:00:00Z", 1, {"app": STAGING_KEY},
    )  # fmt: skip
    decision = core.decide(item, now=NOW)
    item = {**item, **decision.changes}
    [launch] = decision.commands
    changes, jobs = core.record_started(item, launch.batch_id, {"jobID": "drsjob-9"}, "t")
    return {**item, **changes, "jobs": jobs}, core.Limits(target_wait=wait)


def test_a_target_out_of_reach_fails_its_wave_only_after_the_target_wait() -> None:
    from drs_orchestrator.domain import runner as core

    item, limits = running_in_target(timedelta(minutes=10))
    lost = core.Observations(unreachable={STAGING_KEY: "AccessDenied: no"})
    first = core.decide(item, lost, NOW, limits)
    assert first.changes["unreachableTargets"] == {
        STAGING_KEY: {"reason": "AccessDenied: no", "since": "2026-11-30T09:00:00.000000Z"}
    }
    assert first.changes["waves"][0]["status"] == "LAUNCHING"
    item = {**item, **first.changes}
    later = core.decide(item, lost, NOW + timedelta(minutes=5), limits)
    assert later.changes["waves"][0]["status"] == "LAUNCHING", "within the wait"
    assert (
        later.changes["unreachableTargets"][STAGING_KEY]["since"]
        == first.changes["unreachableTargets"][STAGING_KEY]["since"]
    ), "since when is kept"
    back = core.decide(item, core.Observations(reached=frozenset({STAGING_KEY})), NOW, limits)
    assert back.changes["unreachableTargets"] == {}, "reached again: forgotten"
    gone = core.decide(item, lost, NOW + timedelta(minutes=11), limits)
    wave = gone.changes["waves"][0]
    assert wave["status"] == "FAILED"
    assert wave["reason"] == (
        f"DRS target {STAGING_KEY} could not be reached for over 10 minutes "
        "(AccessDenied: no): 1 DRS job: drsjob-9 cannot be followed; "
        "not launched: 1 server: s-t0000000000000000"
    )
    assert gone.changes["status"] == "FAILED"


def test_a_launch_in_doubt_in_a_target_out_of_reach_ends_named_unknown() -> None:
    from drs_orchestrator.domain import runner as core
    from drs_orchestrator.domain.plans import RecoveryPlan, Wave
    from drs_orchestrator.services.executions import new_execution

    item = new_execution(
        "ex-3", "rp-1", RecoveryPlan("p", (Wave("Away", ("app",)),)), {"app": ids("t", 1)},
        "DRILL", "2026-11-30T09:00:00Z", 1, {"app": STAGING_KEY},
    )  # fmt: skip
    item = {**item, **core.decide(item, now=NOW).changes}  # the batch is INTENDED: in doubt
    limits = core.Limits(target_wait=timedelta(minutes=1))
    lost = core.Observations(unreachable={STAGING_KEY: "Throttling: slow down"})
    item = {**item, **core.decide(item, lost, NOW, limits).changes}
    [batch] = (
        core.decide(item, lost, NOW + timedelta(seconds=30), limits).changes["batches"].values()
    )
    assert batch["status"] == "INTENDED", "still in doubt within the wait"
    ended = core.decide(item, lost, NOW + timedelta(minutes=2), limits)
    [batch] = ended.changes["batches"].values()
    assert batch["status"] == "REFUSED"
    assert batch["reason"].startswith("launch outcome unknown: DRS target")
    assert ended.changes["status"] == "FAILED"


# -- the finder across targets ------------------------------------------------------------


def finder_across(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch, worlds: dict[str, Any]
) -> tuple[Any, list[str]]:
    """An execution finder over home and two targets, each its own DRS fake; the roles are
    assumed with moto's STS (the AssumeRole calls are counted)."""
    import logging

    from drs_orchestrator.adapters.drs import DrsGateway
    from drs_orchestrator.adapters.dynamodb import ExecutionsStore, JobEventsStore
    from drs_orchestrator.adapters.targets import DrsGateways
    from drs_orchestrator.services.execution_finder import ExecutionFinder

    from infra.naming import EXECUTIONS_STATUS_INDEX
    from tests.lambdas.conftest import EXECUTIONS_TABLE, JOB_EVENTS_TABLE

    assumed: list[str] = []
    monkeypatch.setattr(
        "drs_orchestrator.adapters.targets.assumed_client",
        lambda _service, target, _credentials: (
            assumed.append(target.key) or worlds[target.key].client()
        ),
    )
    entries = [
        {**ENTRY, "account": k.split("/")[0], "region": k.split("/")[1],
         "roleArn": f"arn:aws:iam::{k.split('/')[0]}:role/dep-a-drs-target"}
        for k in worlds if k != "home"
    ]  # fmt: skip
    gateways = DrsGateways(
        Targets.from_json("us-east-1", json.dumps(entries)),
        DrsGateway(client=worlds["home"].client()),
        TargetSessions(boto3.client("sts", region_name="us-east-1")),
    )
    finder = ExecutionFinder(
        executions=ExecutionsStore(EXECUTIONS_TABLE, EXECUTIONS_STATUS_INDEX, client=dynamodb),
        events=JobEventsStore(JOB_EVENTS_TABLE, retention_days=90, client=dynamodb),
        drs=gateways,
        logger=logging.getLogger("finder-targets"),
    )
    return finder, assumed


def three_worlds() -> dict[str, Any]:
    """The DRS of home and of two targets, each its own fake."""
    from tests.fakes.drs import FakeDrs

    return {
        "home": FakeDrs(),
        STAGING_KEY: FakeDrs(region="us-west-2", account=STAGING),
        RECOVERY_KEY: FakeDrs(region="eu-west-1", account="444455556666"),
    }


def put_jobs_across(dynamodb: Any, worlds: dict[str, Any], per_target: int) -> None:
    """Executions of 5 jobs each, ``per_target`` active jobs in every DRS."""
    from tests.lambdas.conftest import put_execution, to_item

    jobs: list[tuple[str, str | None]] = []
    for key, drs in worlds.items():
        for n in range(per_target):
            job_id = drs.add_job(ids(f"{key[:1]}{n:02d}", 2))
            drs.start(job_id)
            jobs.append((job_id, None if key == "home" else key))
    for start in range(0, len(jobs), 5):
        chunk = jobs[start : start + 5]
        execution_id = f"exec-{start // 5}"
        put_execution(dynamodb, execution_id, {j: "w" for j, _ in chunk})
        item = dynamodb.get_item(
            TableName="test-deployment-executions", Key={"executionId": {"S": execution_id}}
        )["Item"]
        for job_id, key in chunk:
            if key:
                item["jobs"]["M"][job_id]["M"]["target"] = to_item({"t": key})["t"]
        dynamodb.put_item(TableName="test-deployment-executions", Item=item)


def test_the_finder_describes_jobs_once_per_target_per_poll(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    worlds = three_worlds()
    put_jobs_across(dynamodb, worlds, per_target=20)
    finder, assumed = finder_across(dynamodb, monkeypatch, worlds)

    report = finder.poll()

    assert report.executions == 12 and report.jobs_polled == 60 and not report.failures
    for drs in worlds.values():
        assert len(drs.calls_to("DescribeJobs")) == 1, "one DescribeJobs per target"
        assert len(drs.calls_to("DescribeJobLogItems")) == 20
    assert sorted(assumed) == sorted([RECOVERY_KEY, STAGING_KEY]), "each role assumed once"
    finder.poll()
    assert len(assumed) == 2, "credentials kept for the hour"


def test_a_target_out_of_reach_costs_the_finder_only_its_own_jobs(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    worlds = three_worlds()
    put_jobs_across(dynamodb, worlds, per_target=2)
    worlds[RECOVERY_KEY].fail_next("DescribeJobs", "AccessDeniedException")
    finder, _ = finder_across(dynamodb, monkeypatch, worlds)

    report = finder.poll()

    # exec-0: two jobs at home, two in staging, one in recovery; exec-1: one in recovery.
    assert report.targets_unreachable == {
        RECOVERY_KEY: "AccessDeniedException: DRS describe_jobs failed with "
        "AccessDeniedException: fake AccessDeniedException"
    }
    assert report.jobs_polled == 4 and report.jobs_unreachable == 1
    assert report.executions_updated == 1, "exec-0 is polled for its other jobs"
    assert [f["executionId"] for f in report.failures] == ["exec-1"], "nothing to poll there"


def test_a_client_is_made_once_per_credentials_and_replaced_with_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    clock = [datetime(2026, 11, 30, 8, 0, tzinfo=UTC)]
    sessions = TargetSessions(RecordingSts(clock), now=lambda: clock[0])
    first = sessions.client("drs", TARGET, "drs-api")
    assert sessions.client("drs", TARGET, "drs-api") is first, "kept while the credentials are"
    fresh = sessions.client("drs", TARGET, "drs-api", fresh=True)
    assert fresh is not first, "new credentials, new client"
    assert sessions.client("drs", TARGET, "drs-api") is fresh, "the old one is not kept"
    assert fresh.meta.region_name == "us-west-2"
