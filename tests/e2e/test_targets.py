"""Executions across DRS targets (issue 15), end to end: the deployment's own account and
region plus two targets, each another account in another region with its own DRS (its own
inventory, jobs and quotas), reached through roles assumed with STS.

Drills whose waves span two accounts and two regions, a target whose role cannot be
assumed, a target that stops answering after its launch, and quota exhaustion in one
account-region while the other proceeds: every execution ends, with the reason on it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError
from drs_orchestrator.domain.plans import RecoveryPlan, Wave

from drsctl.invariants import violations
from tests.e2e.conftest import DEPLOYMENT, RECOVERY, STAGING, TARGETS, role_arn

if TYPE_CHECKING:
    import pytest

    from tests.e2e.conftest import Harness

HOME_ACCOUNT = "123456789012"


def servers(prefix: str, count: int) -> list[str]:
    return [f"s-{prefix}{n:0{17 - len(prefix)}d}" for n in range(count)]


def account_of(key: str) -> str:
    return TARGETS[key][0]


def region_of(key: str) -> str:
    return TARGETS[key][1]


def create(harness: Harness, resource: str, body: dict[str, Any], **path: str) -> dict[str, Any]:
    status, created = harness.api("POST", resource, groups="admin", body=json.dumps(body), **path)
    assert status in (201, 202), created
    return created


def group_in(name: str, key: str | None, ids: list[str] | None = None, **extra: Any) -> dict:
    body: dict[str, Any] = {"name": name, "region": "us-east-1" if key is None else region_of(key)}
    if key is not None:
        body["accountId"] = account_of(key)
    if ids:
        body["sourceServerIds"] = ids
    return {**body, **extra}


def refuse_role(monkeypatch: pytest.MonkeyPatch, account: str) -> None:
    """STS refuses to let anyone assume ``account``'s target role (its trust no longer
    names this deployment)."""
    original = BaseClient._make_api_call

    def make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "AssumeRole" and params.get("RoleArn") == role_arn(account):
            raise ClientError(
                {
                    "Error": {"Code": "AccessDenied", "Message": "not authorized to assume"},
                    "ResponseMetadata": {"HTTPStatusCode": 403},
                },
                operation,
            )
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", make_api_call)


def test_a_drill_spanning_two_accounts_and_two_regions(harness: Harness) -> None:
    for index, server in enumerate(servers("t", 3)):
        harness.targets[STAGING].add_source_server(server, {"Tier": "app", "n": str(index)})
    create(harness, "/protection-groups", group_in("db", None, servers("h", 2)))
    create(harness, "/protection-groups", group_in("app", STAGING, tagSelectors={"Tier": ["app"]}))
    # One of the recovery account's servers is an extended source server (the staging
    # account replicates it): it is grouped and launched like any other.
    harness.targets[RECOVERY].add_source_server(
        servers("x", 1)[0], {}, staging_account=account_of(STAGING)
    )
    create(
        harness,
        "/protection-groups",
        group_in("web", RECOVERY, [*servers("r", 2), *servers("x", 1)]),
    )
    create(harness, "/protection-groups", group_in("cache", STAGING, servers("c", 1)))
    plan = create(
        harness,
        "/recovery-plans",
        {
            "name": "estate",
            "waves": [
                {"name": "Data", "protectionGroups": ["db"]},
                {"name": "Apps", "protectionGroups": ["app"], "dependsOn": ["Data"]},
                {"name": "Front", "protectionGroups": ["web", "cache"], "dependsOn": ["Data"]},
            ],
        },
    )
    started = create(
        harness,
        "/recovery-plans/{planId}/executions",
        {"mode": "DRILL"},
        planId=plan["planId"],
    )
    execution_id = started["executionId"]

    item = harness.wait_for(execution_id, "COMPLETED", "FAILED")

    assert item["status"] == "COMPLETED", item.get("reason")
    assert violations(item, harness.drs_jobs()) == []
    waves = {w["name"]: w for w in item["waves"]}
    where = {job_id: job.get("target") for job_id, job in item["jobs"].items()}
    assert [where[j] for j in waves["Data"]["jobIds"]] == [None]
    assert [where[j] for j in waves["Apps"]["jobIds"]] == [STAGING]
    assert sorted(where[j] or "" for j in waves["Front"]["jobIds"]) == sorted([RECOVERY, STAGING])
    for job_id, key in where.items():
        assert job_id in harness.drs_of(key).jobs, f"{job_id} launched in {key or 'home'}"
    staging_servers = {
        s["sourceServerID"]
        for job in harness.targets[STAGING].jobs.values()
        for s in job["participatingServers"]
    }
    assert staging_servers == {*servers("t", 3), *servers("c", 1)}, "tags resolved there"
    assert len(item["servers"]) == 9
    assert item["servers"][servers("x", 1)[0]]["launchStatus"] == "LAUNCHED", "extended, too"
    assert all(s["launchStatus"] == "LAUNCHED" for s in item["servers"].values())
    events = harness.events(execution_id)
    assert len(events) == sum(len(harness.job_log(j)) for j in item["jobs"])
    # CloudTrail in each target says which execution acted.
    for key in (STAGING, RECOVERY):
        session = f"arn:aws:sts::{account_of(key)}:assumed-role/{DEPLOYMENT}-drs-target"
        assert f"{session}/drs-{execution_id}" in harness.identities
    assert item["protectionGroups"]["web"]["accountId"] == account_of(RECOVERY)
    assert item["targets"] == sorted(["home/us-east-1", STAGING, RECOVERY])
    for key in (STAGING, "home/us-east-1"):
        status, page = harness.api("GET", "/executions", query={"target": key})
        assert status == 200 and [e["executionId"] for e in page["items"]] == [execution_id]
    status, page = harness.api("GET", "/executions", query={"target": "999988887777/us-east-1"})
    assert status == 200 and page["items"] == []
    status, bad = harness.api("GET", "/executions", query={"target": "staging"})
    assert status == 400 and bad["errors"][0]["field"] == "target"
    status, page = harness.api(
        "GET", "/protection-groups", query={"accountId": account_of(STAGING)}
    )
    assert sorted(g["name"] for g in page["items"]) == ["app", "cache"]
    status, page = harness.api("GET", "/protection-groups", query={"accountId": HOME_ACCOUNT})
    assert [g["name"] for g in page["items"]] == ["db"]
    status, page = harness.api("GET", "/protection-groups", query={"region": region_of(RECOVERY)})
    assert [g["name"] for g in page["items"]] == ["web"]

    status, body = harness.api(
        "POST", "/executions/{executionId}/terminate-instances", executionId=execution_id
    )
    assert status == 202, body
    by_target = {t.get("target"): t for t in body["terminations"]}
    assert set(by_target) == {None, STAGING, RECOVERY}
    for key, termination in by_target.items():
        drs = harness.drs_of(key)
        assert termination["jobId"] in drs.jobs
        assert drs.terminated == set(termination["recoveryInstanceIds"])


def test_the_inventory_and_the_targets_are_listed_with_account_and_region(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.drs.add_source_server(servers("h", 1)[0], {})
    harness.targets[STAGING].add_source_server(servers("t", 1)[0], {})
    harness.targets[RECOVERY].add_source_server(servers("r", 1)[0], {})
    harness.targets[RECOVERY].add_source_server(
        servers("x", 1)[0], {}, staging_account=account_of(STAGING)
    )

    status, page = harness.api("GET", "/source-servers")
    assert status == 200, page
    listed = {s["sourceServerID"]: s for s in page["items"]}
    assert {(s["accountId"], s["region"]) for s in listed.values()} == {
        (HOME_ACCOUNT, "us-east-1"),
        (account_of(STAGING), region_of(STAGING)),
        (account_of(RECOVERY), region_of(RECOVERY)),
    }
    assert listed[servers("x", 1)[0]]["extended"] is True
    assert listed[servers("x", 1)[0]]["stagingAccountId"] == account_of(STAGING)
    assert listed[servers("r", 1)[0]]["extended"] is False
    status, only = harness.api("GET", "/source-servers", query={"accountId": account_of(STAGING)})
    assert [s["sourceServerID"] for s in only["items"]] == servers("t", 1)
    status, only = harness.api("GET", "/source-servers", query={"region": "us-east-1"})
    assert [s["sourceServerID"] for s in only["items"]] == servers("h", 1)
    status, bad = harness.api("GET", "/source-servers", query={"accountId": "12"})
    assert status == 400 and bad["errors"][0]["field"] == "accountId"

    # An extended source server is a group member like any other.
    create(harness, "/protection-groups", group_in("ext", RECOVERY, servers("x", 1)))
    status, bad = harness.api(
        "POST",
        "/protection-groups",
        groups="admin",
        body=json.dumps(
            group_in("elsewhere", None, servers("h", 1)) | {"accountId": "999988887777"}
        ),
    )
    assert status == 400, bad
    assert bad["errors"][0]["field"] == "accountId"
    assert "not one of this deployment's DRS targets" in bad["errors"][0]["reason"]

    refuse_role(monkeypatch, account_of(RECOVERY))
    status, answer = harness.api("GET", "/targets")
    assert status == 200, answer
    targets = {t["key"]: t for t in answer["items"]}
    assert targets["home/us-east-1"] == {
        "key": "home/us-east-1",
        "accountId": HOME_ACCOUNT,
        "region": "us-east-1",
        "home": True,
        "reachable": True,
    }
    assert targets[STAGING]["reachable"] is True
    assert targets[STAGING]["roleArn"] == role_arn(account_of(STAGING))
    assert targets[RECOVERY]["reachable"] is False
    assert targets[RECOVERY]["reason"].startswith("AccessDenied")


def test_a_target_out_of_reach_holds_up_only_the_requests_that_need_it(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.targets[RECOVERY].add_source_server(servers("r", 1)[0], {"Tier": "crm"})
    create(harness, "/protection-groups", group_in("crm", RECOVERY, tagSelectors={"Tier": ["crm"]}))
    create(harness, "/protection-groups", group_in("db", None, servers("h", 1)))
    refuse_role(monkeypatch, account_of(RECOVERY))
    from drs_orchestrator.handlers import api

    api._catalog.cache_clear()  # a fresh API container: no credentials kept from before

    # A group or plan at home is checked without the recovery account's inventory ...
    create(harness, "/protection-groups", group_in("app", None, servers("h", 2)[1:]))
    create(
        harness,
        "/recovery-plans",
        {"name": "home", "waves": [{"name": "W", "protectionGroups": ["db"]}]},
    )
    # ... one that needs it is answered 503 naming the target, and nothing is written.
    status, answer = harness.api(
        "POST",
        "/recovery-plans",
        groups="admin",
        body=json.dumps({"name": "away", "waves": [{"name": "W", "protectionGroups": ["crm"]}]}),
    )
    assert status == 503, answer
    assert f"DRS target {RECOVERY} cannot be reached: AccessDenied" in answer["message"]
    status, plans = harness.api("GET", "/recovery-plans")
    assert [p["name"] for p in plans["items"]] == ["home"]


def test_a_target_whose_role_cannot_be_assumed_fails_only_its_waves(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_role(monkeypatch, account_of(RECOVERY))
    groups = {"db": servers("h", 2), "web": servers("r", 2), "edge": servers("e", 1)}
    plan = RecoveryPlan(
        "split",
        (
            Wave("Home", ("db",)),
            Wave("Away", ("web",)),
            Wave("After", ("edge",), depends_on=("Away",)),
        ),
    )
    execution_id = harness.run(plan, groups, targets={"web": RECOVERY, "edge": RECOVERY})

    item = harness.wait_for(execution_id, "COMPLETED", "FAILED")

    assert item["status"] == "FAILED"
    assert harness.machine_status(execution_id) == "FAILED"
    waves = {w["name"]: w for w in item["waves"]}
    assert waves["Home"]["status"] == "COMPLETED", "the home wave is not held back"
    assert waves["Away"]["status"] == "FAILED"
    assert f"DRS target {RECOVERY} cannot be reached: AccessDenied" in waves["Away"]["reason"]
    assert waves["After"]["status"] == "SKIPPED"
    assert item["reason"].startswith("wave Away: servers did not launch")
    assert harness.targets[RECOVERY].jobs == {}, "nothing was launched there"
    assert violations(item, harness.drs_jobs()) == []


def test_a_target_lost_after_its_launch_fails_the_wave_after_the_target_wait(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TARGET_WAIT_SECONDS", "0")
    # The role's permissions are taken away once the job is launched: DRS refuses every
    # DescribeJobs there from now on.
    harness.targets[STAGING].fail_next("DescribeJobs", "AccessDeniedException", times=10_000)
    groups = {"db": servers("h", 1), "app": servers("t", 2)}
    plan = RecoveryPlan("lost", (Wave("Home", ("db",)), Wave("Away", ("app",))))
    execution_id = harness.run(plan, groups, targets={"app": STAGING})

    item = harness.wait_for(execution_id, "COMPLETED", "FAILED")

    assert item["status"] == "FAILED"
    waves = {w["name"]: w for w in item["waves"]}
    assert waves["Home"]["status"] == "COMPLETED"
    [job_id] = waves["Away"]["jobIds"]
    assert job_id in harness.targets[STAGING].jobs, "the launch itself went through"
    assert waves["Away"]["reason"].startswith(f"DRS target {STAGING} could not be reached")
    assert f"1 DRS job: {job_id} cannot be followed" in waves["Away"]["reason"]
    assert "AccessDeniedException" in item["unreachableTargets"][STAGING]["reason"]
    assert violations(item, harness.drs_jobs()) == []


def test_quota_exhaustion_in_one_account_region_does_not_hold_back_another(
    harness: Harness,
) -> None:
    from tests.e2e.conftest import wait_until

    # The staging account's DRS allows one job at a time, and another execution's (or
    # another tool's) job holds it.
    staging = harness.targets[STAGING]
    staging.max_concurrent_jobs = 1
    foreign = staging.add_job(servers("z", 1))
    staging.start(foreign)
    groups = {"app": servers("t", 2), "web": servers("r", 2)}
    plan = RecoveryPlan("busy", (Wave("Staging", ("app",)), Wave("Recovery", ("web",))))
    execution_id = harness.run(plan, groups, targets={"app": STAGING, "web": RECOVERY})

    def recovery_done_staging_waiting() -> bool:
        item = harness.execution(execution_id)
        waves = {w["name"]: w for w in item["waves"]}
        batches = [b for b in item["batches"].values() if b.get("target") == STAGING]
        return (
            waves["Recovery"]["status"] == "COMPLETED"
            and len(batches) == 1
            and batches[0]["status"] == "DEFERRED"
            and "ServiceQuotaExceededException" in batches[0]["lastError"]
        )

    wait_until(recovery_done_staging_waiting, message="Recovery done, Staging deferred")
    assert len(staging.calls_to("StartRecovery")) >= 1
    assert set(staging.jobs) == {foreign}, "nothing launched over the quota"

    staging.finish(foreign)  # the quota frees up
    item = harness.wait_for(execution_id, "COMPLETED", "FAILED")

    assert item["status"] == "COMPLETED", item.get("reason")
    waves = {w["name"]: w for w in item["waves"]}
    assert waves["Recovery"]["launchedAt"] < waves["Staging"]["launchedAt"]
    [job_id] = waves["Staging"]["jobIds"]
    assert job_id in staging.jobs and job_id != foreign
    assert violations(item, harness.drs_jobs()) == []


def test_quota_exhausted_past_the_quota_wait_fails_only_that_targets_wave(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUOTA_WAIT_SECONDS", "0")
    # The staging account's DRS is full for as long as the drill lasts.
    staging = harness.targets[STAGING]
    staging.max_servers_in_active_jobs = 1
    staging.start(staging.add_job(servers("z", 1)))
    groups = {"app": servers("t", 2), "web": servers("r", 2)}
    plan = RecoveryPlan("full", (Wave("Staging", ("app",)), Wave("Recovery", ("web",))))
    execution_id = harness.run(plan, groups, targets={"app": STAGING, "web": RECOVERY})

    item = harness.wait_for(execution_id, "COMPLETED", "FAILED")

    assert item["status"] == "FAILED"
    waves = {w["name"]: w for w in item["waves"]}
    assert waves["Recovery"]["status"] == "COMPLETED"
    assert waves["Staging"]["status"] == "FAILED"
    assert "DRS did not accept it within 0 s" in waves["Staging"]["reason"]
    assert "ServiceQuotaExceededException" in waves["Staging"]["reason"]
    assert len(staging.jobs) == 1, "only the job that filled the quota"
