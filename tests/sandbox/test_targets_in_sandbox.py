"""``drsctl sandbox`` with its two simulated DRS targets (issue 15): every function runs in
its own process against the sandbox's endpoint, assumes the target roles through moto's
STS, and reaches each target's DRS by the assumed role's account and the request's region."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest

from drsctl.sandbox.seed import AWS_SOURCES, TARGETS
from tests.console.conftest import ROOT, start_sandbox
from tests.patience import PATIENCE

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from tests.console.conftest import RunningSandbox

pytestmark = pytest.mark.sandbox

KEYS = [f"{account}/{region}" for account, region, _servers in TARGETS]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    running = start_sandbox(
        tmp_path_factory.mktemp("targets-sandbox"),
        "--no-console",
        "--time-scale",
        "60",
        "--drs-phase-seconds",
        "0.5",
    )
    yield running
    running.stop()


def post(sandbox: RunningSandbox, path: str, body: dict[str, Any], api: str = "/api") -> Any:
    """POST to the deployment's API (or, with ``api=""``, to the sandbox's controls)."""
    request = Request(  # noqa: S310 - http://127.0.0.1
        sandbox.url + api + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": sandbox.token(), "Content-Type": "application/json"},
        method="POST",
    )
    with urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())


def drill(sandbox: RunningSandbox, plan_id: str, timeout: float = PATIENCE) -> dict[str, Any]:
    """Start a drill of the plan and wait until it ended (or the timeout passed)."""
    started = post(sandbox, f"/recovery-plans/{plan_id}/executions", {"mode": "DRILL"})
    path = f"/api/executions/{started['executionId']}"
    deadline = time.monotonic() + timeout
    execution = sandbox.get(path, sandbox.token())
    while execution["status"] not in ("COMPLETED", "FAILED") and time.monotonic() < deadline:
        time.sleep(0.5)
        execution = sandbox.get(path, sandbox.token())
    return dict(execution)


def test_the_sandbox_seeds_two_reachable_targets_with_their_inventories(
    sandbox: RunningSandbox,
) -> None:
    assert any("DRS target 111122223333/us-west-2 (simulated)" in line for line in sandbox.output)
    targets = sandbox.get("/api/targets", sandbox.token())["items"]
    assert [t["key"] for t in targets] == ["home/us-east-1", *KEYS]
    assert all(t["reachable"] for t in targets)
    servers = sandbox.get("/api/source-servers", sandbox.token())["items"]
    where = {(s["accountId"], s["region"]) for s in servers}
    assert where == {("123456789012", "us-east-1"), *((a, r) for a, r, _s in TARGETS)}
    groups = sandbox.get("/api/protection-groups", sandbox.token())["items"]
    assert {(g.get("accountId"), g["region"]) for g in groups if g.get("accountId")} == {
        (a, r) for a, r, _s in TARGETS
    }


def test_the_sandboxs_collector_leaves_what_starting_made_alone(sandbox: RunningSandbox) -> None:
    from drsctl.collector import THRESHOLDS

    collector = sandbox.get("/sandbox/state")["collector"]
    assert collector["thresholds"] == list(THRESHOLDS)
    assert collector["frozen"] > 100_000  # moto, botocore's models, every module: frozen


def test_a_drill_across_both_targets_in_the_sandbox(sandbox: RunningSandbox) -> None:
    groups = sandbox.get("/api/protection-groups", sandbox.token())["items"]
    in_targets = [g["name"] for g in groups if g.get("accountId")]
    plan = post(
        sandbox,
        "/recovery-plans",
        {
            "name": "Across accounts",
            "waves": [
                {"name": "First", "protectionGroups": in_targets[:1]},
                {"name": "Second", "protectionGroups": in_targets[1:], "dependsOn": ["First"]},
            ],
        },
    )
    # Readiness reads each target's launch templates (moto's EC2 of that account) and asks
    # IAM, in each account, whether the role there may launch (its policy as the target
    # stack writes it): a plan nothing is wrong with passes.
    ready = sandbox.get(f"/api/recovery-plans/{plan['planId']}/readiness", sandbox.token())
    assert ready["state"] == "passed", ready["findings"]
    execution = drill(sandbox, plan["planId"])
    assert execution["status"] == "COMPLETED", execution.get("reason")
    assert sorted(j["target"] for j in execution["jobs"].values()) == sorted(KEYS)
    state = sandbox.get("/sandbox/state")
    for key in KEYS:
        assert len(state["targets"][key]["jobs"]) == 1, f"one job launched in {key}"
        assert state["targets"][key]["violations"] == []
    assert state["drs"]["jobs"] == [] or all(
        j["jobID"] not in execution["jobs"] for j in state["drs"]["jobs"]
    ), "nothing of this drill launched at home"


def test_readiness_of_a_plan_with_actions_reads_their_documents(
    sandbox: RunningSandbox,
) -> None:
    """Issue 30: the API's package lacked SSM's model, so readiness answered 500 for every
    plan with an action and ``drsctl readiness`` exited 2. Both now read the documents."""
    groups = sandbox.get("/api/protection-groups", sandbox.token())["items"]
    at_home = [g["name"] for g in groups if not g.get("accountId")]
    wave = {
        "name": "Only",
        "protectionGroups": at_home[:1],
        "preActions": [{"document": "AWS-RunShellScript"}],
        "postActions": [{"document": "DR-DnsToRecovery"}],
    }
    plan = post(sandbox, "/recovery-plans", {"name": "With actions", "waves": [wave]})
    ready = sandbox.get(f"/api/recovery-plans/{plan['planId']}/readiness", sandbox.token())
    documents = [f for f in ready["findings"] if f["check"] == "ssm-document"]
    assert [f["message"] for f in documents] == [
        "pre-wave action 1 of wave Only: SSM document AWS-RunShellScript is a Command "
        "document, not an Automation document"
    ], ready["findings"]
    assert ready["state"] == "actionRequired"
    every = drsctl("readiness", "dev", "--sandbox", str(sandbox.workdir))
    assert every.returncode == 1, every.stdout + every.stderr  # a plan needs action
    assert "With actions: actionRequired" in every.stdout
    assert "AWS-RunShellScript is a Command document" in every.stdout


def events_once(
    sandbox: RunningSandbox, reached: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The sandbox's event counts once ``reached`` holds of them, or an error was recorded
    (home's or the targets'), within ``PATIENCE``. The bus sends, forwards and delivers on
    a thread of its own: counts read the moment a drill ended, or its last event was sent,
    once showed 4 of 5 delivered, so a test waits on the counts themselves."""
    deadline = time.monotonic() + PATIENCE
    while True:
        events = sandbox.get("/sandbox/state")["events"]
        if reached(events) or events["errors"] or events["fromTargets"]["errors"]:
            return events
        assert time.monotonic() < deadline, events
        time.sleep(0.5)


def test_launch_results_in_a_target_are_forwarded_and_wake_the_drill(
    sandbox: RunningSandbox,
) -> None:
    """Issue 30: a target's DRS sends its launch results in its own account and region;
    the target program's rule forwards them to the deployment's bus, whose policy lets
    the target's forwarder role in, and its rule wakes the wave runner. A plan of two waves
    in one target is woken as a home one is, not left to the next tick."""
    groups = sandbox.get("/api/protection-groups", sandbox.token())["items"]
    in_targets = [g["name"] for g in groups if g.get("accountId")]
    plan = post(
        sandbox,
        "/recovery-plans",
        {
            "name": "Woken in targets",
            "waves": [
                {"name": "First", "protectionGroups": in_targets[:1]},
                {"name": "Second", "protectionGroups": in_targets[1:], "dependsOn": ["First"]},
            ],
        },
    )
    before = sandbox.get("/sandbox/state")["events"]["fromTargets"]
    execution = drill(sandbox, plan["planId"])
    assert execution["status"] == "COMPLETED", execution.get("reason")
    assert sorted(j["target"] for j in execution["jobs"].values()) == sorted(KEYS)
    servers = len(execution["servers"])

    def forwarded_and_delivered(events: dict[str, Any]) -> bool:
        counts = events["fromTargets"]
        return counts.get("forwarded", 0) - before.get("forwarded", 0) >= servers and counts.get(
            "delivered", 0
        ) > before.get("delivered", 0)

    forwarded = events_once(sandbox, forwarded_and_delivered)["fromTargets"]
    assert forwarded.get("forwarded", 0) - before.get("forwarded", 0) >= servers
    assert forwarded.get("delivered", 0) > before.get("delivered", 0)
    assert forwarded.get("refused", 0) == 0 and forwarded["errors"] == []
    assert execution["wakeRequests"] >= 1, "the first wave's last launch result woke it"


def test_drs_launch_results_wake_the_drill_at_home(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """Event-driven waves in the sandbox: the simulated DRS at home sends a launch result
    per server as its job ends, the bus delivers each to the wave runner through the
    deployment's rule, and the drill's execution counts the wakes."""
    groups = sandbox.get("/api/protection-groups", sandbox.token())["items"]
    at_home = [g["name"] for g in groups if not g.get("accountId")]
    plan = post(
        sandbox,
        "/recovery-plans",
        {
            "name": "Woken",
            "waves": [
                {"name": "First", "protectionGroups": at_home[:1]},
                {"name": "Second", "protectionGroups": at_home[1:2], "dependsOn": ["First"]},
            ],
        },
    )
    before = sandbox.get("/sandbox/state")["events"]
    execution = drill(sandbox, plan["planId"])
    assert execution["status"] == "COMPLETED", execution.get("reason")
    servers = len(execution["servers"])

    def delivered(events: dict[str, Any]) -> int:
        return int(events.get("delivered", 0)) - int(before.get("delivered", 0))

    def sent_and_delivered(events: dict[str, Any]) -> bool:
        return events["sent"] - before["sent"] >= servers and delivered(events) >= servers

    events = events_once(sandbox, sent_and_delivered)
    assert events["errors"] == []
    assert delivered(events) >= servers
    assert execution["wakeRequests"] >= 1, "the first wave's last launch result woke it"

    # The metrics the deployment's alarms and dashboard would read, from the functions' logs.
    def series(metric: str, **dimensions: str) -> list[dict[str, Any]]:
        return [
            s
            for s in sandbox.get("/sandbox/state")["metrics"]
            if s["metric"] == metric and dimensions.items() <= s["dimensions"].items()
        ]

    ended = series("ExecutionsEnded", Status="COMPLETED", Mode="DRILL", service="wave-runner")
    assert ended and ended[0]["sum"] >= 1
    [delay] = series("WaveStartDelay", service="wave-runner")
    assert delay["count"] >= 1
    assert series("AwsCalls", Service="drs", service="wave-runner")[0]["sum"] > 0

    # The finder's janitor stores the report in the deployment bucket once the drill has
    # settled; the API links it, and the links fetch it from the sandbox's S3.
    links = stored_report_links(sandbox, execution["executionId"])
    with urlopen(links["html"], timeout=30) as answer:  # noqa: S310 - the sandbox's S3
        assert answer.headers["Content-Type"].startswith("text/html")
        assert execution["executionId"] in answer.read().decode()

    # drsctl report: the stored report, downloaded through the API's links.
    result = report_of(sandbox, execution["executionId"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"stored at {links['storedAt']}" in result.stdout
    document = json.loads((tmp_path / f"{execution['executionId']}.json").read_text())
    assert [w["name"] for w in document["waves"]] == ["First", "Second"]
    assert len(document["servers"]) == servers
    assert all(s["recoveryInstanceId"] for s in document["servers"])
    assert {e["event"] for e in document["jobEvents"]} >= {"JOB_START", "LAUNCH_END"}
    page = (tmp_path / f"{execution['executionId']}.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert page.count("<line") >= servers, "a tick per server launch on the timeline"
    live = report_of(sandbox, execution["executionId"], tmp_path / "live", "--live")
    assert live.returncode == 0 and "built from the execution as it is now" in live.stdout
    rebuilt = json.loads((tmp_path / "live" / f"{execution['executionId']}.json").read_text())
    assert rebuilt["servers"] == document["servers"] and rebuilt["jobs"] == document["jobs"]
    missing = drsctl("report", "dev", "ex-missing", "--sandbox", str(sandbox.workdir))
    assert missing.returncode == 2
    assert "404" in missing.stderr


def test_a_recovery_fails_back_in_the_sandbox(sandbox: RunningSandbox) -> None:
    """Issue 19 in the sandbox: a real recovery of a home group, then ``drsctl failback``;
    the operator boots the failback clients (the sandbox's control); the workload comes
    home, runs its wave's failback action (SSM Automation, simulated) and is protected
    again."""
    groups = sandbox.get("/api/protection-groups", sandbox.token())["items"]
    at_home = [g["name"] for g in groups if not g.get("accountId")]
    # The seeded EC2 instance of the first target (AWS to AWS) fails back by reversing.
    [(erp, _host, _tags, (origin_region, origin_account))] = AWS_SOURCES
    post(
        sandbox,
        "/protection-groups",
        {"name": "ERP", "region": "us-east-1", "sourceServerIds": [erp]},
    )
    wave = {
        "name": "Only",
        "protectionGroups": [*at_home[-1:], "ERP"],
        "postActions": [{"document": "DR-DnsToRecovery"}],
        "failbackActions": [{"document": "DR-DnsHome", "parameters": {"Zone": ["example.com"]}}],
    }
    plan = post(sandbox, "/recovery-plans", {"name": "Home again", "waves": [wave]})
    started = post(sandbox, f"/recovery-plans/{plan['planId']}/executions", {"mode": "RECOVERY"})
    recovery = wait_until_ended(sandbox, started["executionId"])
    assert recovery["status"] == "COMPLETED", recovery.get("reason")
    assert [(r["document"], r["status"]) for r in recovery["waves"][0]["actionRuns"]] == [
        ("DR-DnsToRecovery", "Success")
    ]

    result = drsctl(
        "failback",
        "dev",
        recovery["executionId"],
        "--sandbox",
        str(sandbox.workdir),
        "--restart-replication",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    failback_id = result.stdout.split()[1]
    item = sandbox.get(f"/api/executions/{failback_id}", sandbox.token())
    assert item["mode"] == "FAILBACK" and item["recoveryExecutionId"] == recovery["executionId"]
    assert item["failback"][erp]["origin"] == f"{origin_account}/{origin_region}"
    on_premises = [s["instance"] for s in item["failback"].values() if not s.get("origin")]
    connected = post(
        sandbox, "/sandbox/failback-clients", {"recoveryInstanceIds": on_premises}, api=""
    )
    assert connected["connected"] == on_premises
    home = wait_until_ended(sandbox, failback_id)
    assert home["status"] == "COMPLETED", home
    assert {s["step"] for s in home["failback"].values()} == {"HOME"}
    # The reversed server was made in the origin target's DRS and launched there.
    reversed_id = home["failback"][erp]["reversedServer"]
    target = sandbox.get("/sandbox/state")["targets"][f"{origin_account}/{origin_region}"]
    assert target["sourceServers"].get(reversed_id) == "FAILBACK", target["sourceServers"]
    launched = [
        j
        for j in target["jobs"]
        if reversed_id in {s["sourceServerID"] for s in j["participatingServers"]}
    ]
    assert [j["status"] for j in launched] == ["COMPLETED"]
    assert all(s["protected"] for s in home["failback"].values())
    assert [(r["document"], r["status"]) for r in home["waves"][0]["actionRuns"]] == [
        ("DR-DnsHome", "Success")
    ], "the wave's own failback action, not its post action"


def wait_until_ended(
    sandbox: RunningSandbox, execution_id: str, timeout: float = PATIENCE
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = dict(sandbox.get(f"/api/executions/{execution_id}", sandbox.token()))
        if item["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
            return item
        time.sleep(0.5)
    raise AssertionError(sandbox.get(f"/api/executions/{execution_id}", sandbox.token()))


def stored_report_links(
    sandbox: RunningSandbox, execution_id: str, timeout: float = PATIENCE
) -> dict[str, Any]:
    """The API's links to the execution's stored report, once the finder stored it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return dict(sandbox.get(f"/api/executions/{execution_id}/report", sandbox.token()))
        except HTTPError as error:
            assert error.code == 404, error
            assert time.monotonic() < deadline, "the settled drill's report was never stored"
            time.sleep(0.5)


def report_of(
    sandbox: RunningSandbox, execution_id: str, out: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    """``drsctl report`` of the sandbox's dev deployment, written to ``out``."""
    return drsctl(
        "report",
        "dev",
        execution_id,
        "--sandbox",
        str(sandbox.workdir),
        "--out",
        str(out),
        *options,
    )


def drsctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "drsctl", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=False,
    )


def test_drsctl_readiness_evaluates_the_seeded_plan_in_the_sandbox(
    sandbox: RunningSandbox,
) -> None:
    result = drsctl(
        "readiness", "dev", "--plan", "Orders three-tier", "--sandbox", str(sandbox.workdir)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Orders three-tier: passed (7 servers, evaluated ")
    # Seeding saved the plan, and the API asked the readiness function (asynchronously) to
    # evaluate it: the history has that evaluation.
    deadline = time.monotonic() + PATIENCE
    while True:
        recorded = drsctl(
            "readiness",
            "dev",
            "--plan",
            "Orders three-tier",
            "--history",
            "5",
            "--sandbox",
            str(sandbox.workdir),
        )
        lines = [line for line in recorded.stdout.splitlines() if "recorded " in line]
        if lines or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert lines, recorded.stdout + recorded.stderr
    assert lines[-1].endswith("passed (0 findings; plan-changed)"), lines
    missing = drsctl("readiness", "dev", "--plan", "Nope", "--sandbox", str(sandbox.workdir))
    assert missing.returncode == 2
    assert "dev has no recovery plan named 'Nope' (its plans: " in missing.stderr


def test_the_sandboxs_sts_holds_an_assume_role_to_the_targets_trust(
    sandbox: RunningSandbox,
) -> None:
    """Issue 30: moto's STS gives any role to anyone. The sandbox's holds each AssumeRole
    to the target role's trust, as IAM would: the deployment's functions with the target's
    external id may; a wrong external id, or a principal the role does not trust (the
    deployment's own operator key here), may not."""
    import boto3
    from botocore.exceptions import ClientError

    from drsctl.sandbox.accounts import function_key

    state = sandbox.get("/sandbox/state")
    aws = state["aws"]
    deployment = state["deploymentName"]
    account, _region = KEYS[0].split("/")
    role = f"arn:aws:iam::{account}:role/{deployment}-drs-target"
    external_id = next(t["externalId"] for t in _stack_targets() if t["account"] == account)

    def assume(key: str, external: str) -> str:
        sts = boto3.client(
            "sts",
            region_name=aws["region"],
            endpoint_url=aws["endpoint"],
            aws_access_key_id=key,
            aws_secret_access_key="sandbox",  # noqa: S106 - the sandbox accepts any secret
        )
        try:
            answer = sts.assume_role(
                RoleArn=role, RoleSessionName="trust-test", ExternalId=external
            )
        except ClientError as exc:
            return f"{exc.response['Error']['Code']}: {exc.response['Error']['Message']}"
        return "assumed" if answer["Credentials"]["AccessKeyId"] else "no credentials"

    runner_key = function_key(aws["accessKeyId"], "wave-runner")
    assert assume(runner_key, external_id) == "assumed"
    assert assume(runner_key, "not-the-external-id").startswith("AccessDenied: User: arn:aws")
    refused = assume(aws["accessKeyId"], external_id)
    assert refused == (
        f"AccessDenied: User: access key {aws['accessKeyId']} is not authorized to perform: "
        f"sts:AssumeRole on resource: {role}"
    )
    assert sandbox.get("/sandbox/state")["assumeRoleRefused"][-1] == refused.removeprefix(
        "AccessDenied: "
    )
    # And the functions themselves still reach every target (their trust holds).
    targets = sandbox.get("/api/targets", sandbox.token())["items"]
    assert all(t["reachable"] for t in targets), targets


def _stack_targets() -> list[dict[str, Any]]:
    from drsctl.sandbox.seed import targets_config

    return list(json.loads(targets_config("dev")))
