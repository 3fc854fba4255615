"""drsctl verify against a deployment made in moto from the program's own outputs."""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from drsctl.cli import main
from drsctl.verify import FAIL, PASS, SKIP, WAIT, AwsClients, Check, Verifier, run_verify
from infra.functions import EXECUTION_FINDER
from infra.packaging import build_and_prove, build_package
from tests.infra.conftest import evaluated

if TYPE_CHECKING:
    from pathlib import Path

REGION = "us-east-1"


class Deployment:
    """The dev stack's resources, created in moto with the names its outputs give."""

    def __init__(self) -> None:
        # This deployment runs the execution finder only; the wave runner, API, readiness and state
        # machine rows are covered by the stubbed tests below.
        self.outputs = {
            k: v
            for k, v in evaluated("dev").outputs.items()
            if not k.startswith(("waveRunner", "api", "stateMachine", "console", "readiness"))
        }
        self.lambda_ = boto3.client("lambda", region_name=REGION)
        self.events = boto3.client("events", region_name=REGION)
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.s3 = boto3.client("s3", region_name=REGION)
        self.cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        self.bucket = self.outputs["deploymentBucket"]
        self.s3.create_bucket(Bucket=self.bucket)
        role = boto3.client("iam").create_role(
            RoleName="aws-elasticdrs-orchestrator-dev-execution-finder-role",
            AssumeRolePolicyDocument="{}",
        )["Role"]["Arn"]
        package = build_and_prove(EXECUTION_FINDER)
        key = self.outputs["executionFinderPackageKey"]
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=package.path.read_bytes())
        self.lambda_.create_function(
            FunctionName=self.outputs["executionFinderFunctionName"],
            Runtime="python3.12",
            Role=role,
            Handler=self.outputs["executionFinderHandler"],
            Code={"S3Bucket": self.bucket, "S3Key": key},
        )
        self.events.put_rule(
            Name=self.outputs["pollScheduleRuleName"],
            ScheduleExpression="rate(1 minute)",
            State="ENABLED",
        )
        self.events.put_targets(
            Rule=self.outputs["pollScheduleRuleName"],
            Targets=[{"Id": "execution-finder", "Arn": self.outputs["executionFinderFunctionArn"]}],
        )
        for key, name in self.outputs.items():
            if not key.endswith("TableName"):
                continue
            self.dynamodb.create_table(
                TableName=name,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            )
            self.dynamodb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        # The alarms and dashboard the stack declares, as the program names them.
        self.topic = boto3.client("sns", region_name=REGION).create_topic(
            Name="aws-elasticdrs-orchestrator-dev-notifications"
        )["TopicArn"]
        self.outputs["topicArn"] = self.topic
        for alarm in json.loads(self.outputs["alarmNames"]):
            self.put_alarm(alarm, [self.topic])
        self.cloudwatch.put_dashboard(
            DashboardName=self.outputs["dashboardName"],
            DashboardBody=json.dumps(
                {"widgets": [{"type": "text", "properties": {"markdown": "x"}}]}
            ),
        )

    def put_alarm(self, name: str, actions: list[str]) -> None:
        """An alarm of that name notifying ``actions`` (what it watches does not matter)."""
        self.cloudwatch.put_metric_alarm(
            AlarmName=name,
            MetricName="Errors",
            Namespace="AWS/Lambda",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=actions,
        )

    def fetch(self, url: str) -> tuple[int, bytes]:
        """Lambda's code location, served from the bucket moto stores the code in."""
        key = url.split(".amazonaws.com/", 1)[1]
        body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return 200, body

    def clients(self) -> AwsClients:
        return AwsClients(
            self.lambda_,
            self.events,
            self.cloudwatch,
            self.dynamodb,
            boto3.client("stepfunctions", region_name=REGION),
        )

    def verify(self, now: datetime | None = None) -> dict[str, Check]:
        moment = now or datetime.now(UTC)
        checks = Verifier(self.outputs, self.clients(), self.fetch, lambda: moment).run()
        return {c.name: c for c in checks}


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield Deployment()


FUNCTION = "function aws-elasticdrs-orchestrator-dev-execution-finder"
CODE = "deployed code of aws-elasticdrs-orchestrator-dev-execution-finder imports its handler"
SCHEDULE = "schedule aws-elasticdrs-orchestrator-dev-execution-finder-schedule"
FINDER_RAN = "execution finder ran recently without errors"
EXECUTIONS = "table aws-elasticdrs-orchestrator-dev-executions"


def test_a_healthy_deployment_passes(deployment: Deployment) -> None:
    checks = deployment.verify()
    statuses = {name: check.status for name, check in checks.items()}
    assert statuses == {
        FUNCTION: PASS,
        CODE: PASS,
        SCHEDULE: PASS,
        FINDER_RAN: WAIT,
        EXECUTIONS: PASS,
        "table aws-elasticdrs-orchestrator-dev-job-events": PASS,
        "table aws-elasticdrs-orchestrator-dev-protection-groups": PASS,
        "table aws-elasticdrs-orchestrator-dev-recovery-plans": PASS,
        "table aws-elasticdrs-orchestrator-dev-server-holds": PASS,
        "table aws-elasticdrs-orchestrator-dev-audit": PASS,
        "state machine": SKIP,
        "alarms": PASS,
        "dashboard": PASS,
        "API": SKIP,
        "console": SKIP,
        "console config": SKIP,
    }
    assert checks[FINDER_RAN].detail.startswith("not yet: deployed 0 min ago")


def test_the_cli_prints_a_row_per_check_and_exits_0(deployment: Deployment, tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(deployment.outputs))
    out = io.StringIO()
    assert run_verify("dev", outputs, out, deployment.clients(), deployment.fetch) == 0
    text = out.getvalue()
    assert f"PASS  {CODE}" in text
    assert text.rstrip().endswith("11 pass, 0 fail, 1 wait, 4 skip")


def deploy_finder_without_its_handler(deployment: Deployment, tmp_path: Path) -> None:
    """Deploy a finder package whose handler module is missing, as a bad build would."""
    source = tmp_path / "src"
    shutil.copytree("lambdas", source, ignore=shutil.ignore_patterns("__pycache__"))
    (source / "drs_orchestrator" / "handlers" / "execution_finder.py").unlink()
    broken = build_package(replace(EXECUTION_FINDER, source_root=source), tmp_path / "build")
    deployment.lambda_.update_function_code(
        FunctionName=deployment.outputs["executionFinderFunctionName"],
        ZipFile=broken.path.read_bytes(),
    )
    deployment.fetch = lambda _url: (200, broken.path.read_bytes())  # type: ignore[method-assign]


def test_a_deployed_zip_without_its_handler_module_fails(
    deployment: Deployment, tmp_path: Path
) -> None:
    deploy_finder_without_its_handler(deployment, tmp_path)
    check = deployment.verify()[CODE]
    assert check.status == FAIL
    assert "No module named 'drs_orchestrator.handlers.execution_finder'" in check.detail


def test_the_same_deployed_bytes_are_proven_once_a_broken_archive_every_time(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra import packaging

    proofs: list[str] = []
    real = packaging.prove_archive

    def counted(path: Path, *args: Any, **kwargs: Any) -> None:
        proofs.append(path.name)
        real(path, *args, **kwargs)

    monkeypatch.setattr(packaging, "prove_archive", counted)
    monkeypatch.setattr(packaging, "_PROVEN_ARCHIVES", set())
    assert [deployment.verify()[CODE].status for _ in range(3)] == [PASS, PASS, PASS]
    assert len(proofs) == 1

    deploy_finder_without_its_handler(deployment, tmp_path)
    assert [deployment.verify()[CODE].status for _ in range(2)] == [FAIL, FAIL]
    assert len(proofs) == 3


def test_code_that_does_not_match_its_hash_fails(deployment: Deployment) -> None:
    deployment.fetch = lambda _url: (200, b"not the deployed bytes")  # type: ignore[method-assign]
    assert "downloaded code hashes to" in deployment.verify()[CODE].detail


def test_a_disabled_rule_fails(deployment: Deployment) -> None:
    deployment.events.disable_rule(Name=deployment.outputs["pollScheduleRuleName"])
    check = deployment.verify()[SCHEDULE]
    assert (check.status, check.detail) == (FAIL, "rule is DISABLED")


def test_a_rule_targeting_another_function_fails(deployment: Deployment) -> None:
    rule = deployment.outputs["pollScheduleRuleName"]
    other = "arn:aws:lambda:us-east-1:123456789012:function:aws-drs-orchestrator-archive-test-execution-finder"
    deployment.events.put_targets(Rule=rule, Targets=[{"Id": "execution-finder", "Arn": other}])
    check = deployment.verify()[SCHEDULE]
    assert check.status == FAIL and check.detail.startswith(f"targets ['{other}']")


def test_a_table_without_pitr_fails(deployment: Deployment) -> None:
    deployment.dynamodb.update_continuous_backups(
        TableName=deployment.outputs["executionsTableName"],
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )
    check = deployment.verify()[EXECUTIONS]
    assert (check.status, check.detail) == (FAIL, "point-in-time recovery DISABLED")


def test_a_wrong_handler_fails(deployment: Deployment) -> None:
    deployment.lambda_.update_function_configuration(
        FunctionName=deployment.outputs["executionFinderFunctionName"],
        Handler="execution_finder.handler",
    )
    check = deployment.verify()[FUNCTION]
    assert check.status == FAIL
    assert check.detail == (
        "handler is 'execution_finder.handler', expected "
        "'drs_orchestrator.handlers.execution_finder.handler'"
    )


class StubCloudWatch:
    """Lambda metrics as CloudWatch reports them. (moto's get_metric_statistics returns
    nothing once S3 holds an object, which this deployment needs, so metrics are stubbed.)"""

    def __init__(self, **sums: float) -> None:
        self.sums = sums
        self.asked: list[dict] = []

    def get_metric_statistics(self, **request: Any) -> dict:
        self.asked.append(request)
        value = self.sums.get(request["MetricName"])
        return {"Datapoints": [] if value is None else [{"Sum": value, "Unit": "Count"}]}


@pytest.mark.parametrize(
    ("sums", "expected"),
    [
        ({"Invocations": 5}, (PASS, "5 invocations, no errors, last 15 minutes")),
        ({"Invocations": 5, "Errors": 2}, (FAIL, "2 errors in the last 15 minutes")),
    ],
)
def test_finder_invocations_pass_and_errors_fail(
    deployment: Deployment, sums: dict, expected: tuple
) -> None:
    clients = deployment.clients()
    clients.cloudwatch = StubCloudWatch(**sums)
    checks = {c.name: c for c in Verifier(deployment.outputs, clients, deployment.fetch).run()}
    assert (checks[FINDER_RAN].status, checks[FINDER_RAN].detail) == expected
    asked = clients.cloudwatch.asked[0]
    assert asked["Namespace"] == "AWS/Lambda"
    assert asked["Dimensions"] == [
        {"Name": "FunctionName", "Value": deployment.outputs["executionFinderFunctionName"]}
    ]


def test_a_finder_silent_long_after_deploy_fails(deployment: Deployment) -> None:
    check = deployment.verify(now=datetime.now(UTC) + timedelta(hours=1))[FINDER_RAN]
    assert (check.status, check.detail) == (FAIL, "no invocation in the last 15 minutes")


class StubStepFunctions:
    def __init__(self, status: str) -> None:
        self.status = status

    def describe_state_machine(self, stateMachineArn: str) -> dict:  # noqa: N803
        return {"stateMachineArn": stateMachineArn, "status": self.status}


@pytest.mark.parametrize(("status", "expected"), [("ACTIVE", PASS), ("DELETING", FAIL)])
def test_state_machine_must_be_active(deployment: Deployment, status: str, expected: str) -> None:
    deployment.outputs["stateMachineArn"] = "arn:aws:states:us-east-1:123456789012:stateMachine:x"
    clients = deployment.clients()
    clients.stepfunctions = StubStepFunctions(status)
    checks = Verifier(deployment.outputs, clients, deployment.fetch).run()
    [check] = [c for c in checks if c.name.startswith("state machine")]
    assert check.status == expected


@pytest.mark.parametrize(
    ("api_status", "console", "expected"),
    [
        (401, (200, b"<!doctype html><html></html>"), (PASS, PASS)),
        (200, (404, b"missing"), (FAIL, FAIL)),
        (401, (200, b"{}"), (PASS, FAIL)),
    ],
)
def test_api_must_demand_a_token_and_console_must_serve_html(
    deployment: Deployment, api_status: int, console: tuple[int, bytes], expected: tuple
) -> None:
    deployment.outputs.update(
        apiUrl="https://api.example.com/prod", consoleUrl="https://console.example.com"
    )
    seen: list[str] = []

    def fetch(url: str) -> tuple[int, bytes]:
        seen.append(url)
        if url.startswith("https://api.example.com"):
            return api_status, b'{"message":"Unauthorized"}'
        if url.startswith("https://console.example.com"):
            return console
        return deployment.fetch(url)

    checks = {
        c.name.split(" ")[0]: c
        for c in Verifier(deployment.outputs, deployment.clients(), fetch).run()
        if c.name != "console config"  # its own test below
    }
    assert (checks["API"].status, checks["console"].status) == expected
    assert "https://api.example.com/prod/executions" in seen
    assert "https://console.example.com/index.html" in seen


def test_verify_without_outputs_or_cli_says_how(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["verify", "dev"]) == 2
    assert "pass the outputs with --outputs FILE" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("config", "expected", "message"),
    [
        (
            {
                "apiUrl": "https://api.example.com/prod",
                "auth": {"mode": "cognito", "userPoolId": "pool", "userPoolClientId": "client"},
            },
            PASS,
            "Cognito sign-in against this stack's API",
        ),
        (
            {
                "apiUrl": "https://api.example.com/prod",
                "auth": {"mode": "sandbox", "userPoolId": "pool", "userPoolClientId": "client"},
            },
            FAIL,
            "auth.mode is 'sandbox', not 'cognito'",
        ),
        (
            {
                "apiUrl": "https://other.example.com/prod",
                "auth": {"mode": "cognito", "userPoolId": "pool", "userPoolClientId": "client"},
            },
            FAIL,
            "apiUrl is 'https://other.example.com/prod', not 'https://api.example.com/prod'",
        ),
        (None, FAIL, "config.json answered 200, not JSON"),
    ],
)
def test_the_deployed_console_config_asks_for_cognito_against_its_own_api(
    deployment: Deployment, config: dict | None, expected: str, message: str
) -> None:
    deployment.outputs.update(
        apiUrl="https://api.example.com/prod",
        consoleUrl="https://console.example.com",
        userPoolId="pool",
        userPoolClientId="client",
    )

    def fetch(url: str) -> tuple[int, bytes]:
        if url == "https://console.example.com/config.json":
            return 200, json.dumps(config).encode() if config is not None else b"<html>"
        if url.startswith("https://api.example.com"):
            return 401, b"{}"
        if url.startswith("https://console.example.com"):
            return 200, b"<html></html>"
        return deployment.fetch(url)

    [check] = [
        c
        for c in Verifier(deployment.outputs, deployment.clients(), fetch).run()
        if c.name == "console config"
    ]
    assert (check.status, check.detail) == (expected, message)


def test_a_missing_or_silent_alarm_and_a_missing_dashboard_fail(deployment: Deployment) -> None:
    alarms = json.loads(deployment.outputs["alarmNames"])
    assert len(alarms) == 12
    assert deployment.verify()["alarms"].detail == "12 alarms notify the topic"
    deployment.cloudwatch.delete_alarms(AlarmNames=[alarms[0]])
    check = deployment.verify()["alarms"]
    assert (check.status, check.detail) == (FAIL, f"missing: {alarms[0]}")
    deployment.put_alarm(alarms[0], [])
    check = deployment.verify()["alarms"]
    assert check.status == FAIL and check.detail.endswith(f": {alarms[0]}")
    assert check.detail.startswith("not notifying")
    deployment.cloudwatch.delete_dashboards(DashboardNames=[deployment.outputs["dashboardName"]])
    assert deployment.verify()["dashboard"].status == FAIL
