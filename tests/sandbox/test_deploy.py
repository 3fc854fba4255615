"""Each stack's program deploys into moto with what the program declared."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from drsctl.sandbox.deploy import Pacing, UnsupportedResourceError, deploy
from tests.infra.conftest import STACKS, evaluated

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_deploys_what_its_program_declares(aws: None, stack: str) -> None:
    evaluation = evaluated(stack)
    region = evaluation.config["aws:region"]
    lines: list[str] = []
    deployment = deploy(
        evaluation, lambda s: boto3.client(s, region_name=region), Pacing(20), lines.append
    )
    name = evaluation.config["drs-orchestrator:deploymentName"]

    declared = {
        r.inputs["name"]: r.inputs
        for r in evaluation.resources
        if r.type == "aws:dynamodb/table:Table"
    }
    dynamodb = boto3.client("dynamodb", region_name=region)
    assert sorted(dynamodb.list_tables()["TableNames"]) == sorted(declared)
    executions = dynamodb.describe_table(TableName=f"{name}-executions")["Table"]
    indexes = {i["IndexName"]: i for i in executions["GlobalSecondaryIndexes"]}
    assert list(indexes) == ["status-index", "watch-index", "plan-index"]
    # Created as declared: the plan's history projects a summary, not the whole item.
    assert indexes["plan-index"]["Projection"]["ProjectionType"] == "INCLUDE"
    assert "recoveryTime" in indexes["plan-index"]["Projection"]["NonKeyAttributes"]

    lambda_ = boto3.client("lambda", region_name=region)
    functions = {f["FunctionName"]: f for f in lambda_.list_functions()["Functions"]}
    assert sorted(deployment.functions) == ["api", "execution-finder", "readiness", "wave-runner"]
    # The clock fires both schedules; the rule on DRS events exists but nothing sends any.
    assert sorted(deployment.schedule_rules) == [
        f"{name}-execution-finder-schedule",
        f"{name}-readiness-schedule",
    ]
    assert sorted(deployment.event_rules) == [
        f"{name}-readiness-drs-events",
        f"{name}-wave-runner-launch-events",
    ]
    runner = functions[f"{name}-wave-runner"]
    assert runner["Handler"] == "drs_orchestrator.handlers.wave_runner.handler"
    variables = runner["Environment"]["Variables"]
    assert variables["POLL_SECONDS"] == "2"
    assert "STALE_AFTER_SECONDS" not in variables, "the runner follows its launches every tick"
    assert variables["TOPIC_ARN"] == deployment.topic_arn
    assert f"{name}-wave-runner POLL_SECONDS 30 -> 2" in deployment.overrides
    # The code is the package the program uploads: the same bytes, from the same bucket key.
    declared_function = next(
        r.inputs for r in evaluation.resources if r.inputs.get("name") == f"{name}-wave-runner"
    )
    package = next(
        r.inputs for r in evaluation.resources if r.inputs.get("key") == declared_function["s3Key"]
    )
    with open(package["source"].path, "rb") as built:
        body = (
            boto3.client("s3", region_name=region)
            .get_object(Bucket=declared_function["s3Bucket"], Key=declared_function["s3Key"])[
                "Body"
            ]
            .read()
        )
        assert body == built.read()

    sfn = boto3.client("stepfunctions", region_name=region)
    machine = sfn.describe_state_machine(stateMachineArn=deployment.state_machine_arn)
    declared_machine = next(
        r for r in evaluation.resources if r.type == "aws:sfn/stateMachine:StateMachine"
    )
    assert json.loads(machine["definition"]) == json.loads(declared_machine.inputs["definition"])

    events = boto3.client("events", region_name=region)
    for short in ("execution-finder", "readiness"):
        rule = f"{name}-{short}-schedule"
        assert rule in deployment.schedule_rules
        assert events.describe_rule(Name=rule)["State"] == "ENABLED"
        [target] = events.list_targets_by_rule(Rule=rule)["Targets"]
        assert target["Arn"] == functions[f"{name}-{short}"]["FunctionArn"]
    for rule, short in (
        (f"{name}-readiness-drs-events", "readiness"),
        (f"{name}-wave-runner-launch-events", "wave-runner"),
    ):
        assert "aws.drs" in events.describe_rule(Name=rule)["EventPattern"]
        [target] = events.list_targets_by_rule(Rule=rule)["Targets"]
        assert target["Arn"] == functions[f"{name}-{short}"]["FunctionArn"]
    assert any(line.startswith(f"  {stack}: created ") for line in lines)
    assert set(deployment.skipped) >= {"RestApi", "UserPool"}


def test_a_resource_type_the_sandbox_cannot_run_is_named(aws: None) -> None:
    evaluation = evaluated("dev")
    table = next(r for r in evaluation.resources if r.type == "aws:dynamodb/table:Table")
    odd = replace(table, type="aws:rds/instance:Instance", name="surprise-db")
    broken = replace(evaluation, resources=[*evaluation.resources, odd])
    with pytest.raises(
        UnsupportedResourceError,
        match=r"the sandbox does not know how to run aws:rds/instance:Instance \(surprise-db\)",
    ):
        deploy(
            broken, lambda s: boto3.client(s, region_name="us-east-1"), Pacing(), lambda _l: None
        )
    # Nothing was created before the refusal.
    assert boto3.client("dynamodb", region_name="us-east-1").list_tables()["TableNames"] == []
