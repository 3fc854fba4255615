"""The Pulumi program under mocks, for every Pulumi.<stack>.yaml in the repository."""

from __future__ import annotations

import inspect
import json
from collections import Counter
from importlib import import_module

import pulumi_aws

from infra.iam import UNSCOPED_ACTIONS
from infra.naming import DEPLOYMENT_TAG_KEY, PROJECT_TAG_KEY, STACK_TAG_KEY
from infra.offline import Evaluation, RegisteredResource
from tests.infra.conftest import STACKS

EXPECTED_RESOURCES = {
    "aws:dynamodb/table:Table": 4,
    "aws:lambda/function:Function": 3,
    "aws:iam/role:Role": 4,
    "aws:iam/rolePolicy:RolePolicy": 4,
    "aws:cloudwatch/logGroup:LogGroup": 4,
    "aws:cloudwatch/eventRule:EventRule": 1,
    "aws:cloudwatch/eventTarget:EventTarget": 1,
    "aws:lambda/permission:Permission": 1,
    "aws:s3/bucketObjectv2:BucketObjectv2": 3,
    "aws:sfn/stateMachine:StateMachine": 1,
    "aws:sns/topic:Topic": 1,
    "aws:sns/topicSubscription:TopicSubscription": 1,
}
NAMED_RESOURCES = 25


def finder(stack: Evaluation, resource_type: str = "aws:lambda/function:Function"):
    """The execution finder's resource of ``resource_type``."""
    suffix = {
        "aws:lambda/function:Function": "function",
        "aws:cloudwatch/logGroup:LogGroup": "logs",
        "aws:iam/rolePolicy:RolePolicy": "policy",
        "aws:s3/bucketObjectv2:BucketObjectv2": "package",
        "aws:iam/role:Role": "role",
    }[resource_type]
    return stack.one(resource_type, f"execution-finder-{suffix}")


def test_both_design_stacks_exist() -> None:
    assert {"dev", "archive-test"} <= set(STACKS)


def test_stack_declares_the_expected_resources(stack: Evaluation) -> None:
    assert Counter(r.type for r in stack.custom_resources) == EXPECTED_RESOURCES
    components = {r.type for r in stack.resources if not r.custom}
    assert components == {
        "drs-orchestrator:orchestrator:Orchestrator",
        "drs-orchestrator:datastore:Datastore",
        "drs-orchestrator:functions:LambdaFunction",
        "drs-orchestrator:schedule:PollSchedule",
        "drs-orchestrator:notifications:Notifications",
        "drs-orchestrator:orchestration:RecoveryStateMachine",
    }
    assert all(r.parent_urn for r in stack.custom_resources), "every resource has a component"


def test_every_physical_name_starts_with_the_deployment_name(stack: Evaluation) -> None:
    deployment = stack.config["drs-orchestrator:deploymentName"]
    named = [r for r in stack.custom_resources if r.physical_name]
    assert len(named) == NAMED_RESOURCES
    for resource in named:
        assert resource.physical_name.startswith(
            f"{deployment}-"
        ) or resource.physical_name.startswith(f"{deployment}/"), (
            f"{resource.type} {resource.name}: {resource.physical_name}"
        )


def _resource_class(resource_type: str) -> type:
    """The pulumi_aws class registered for a type token like aws:lambda/function:Function."""
    _, module_path, class_name = resource_type.split(":")
    module_name = module_path.split("/")[0]
    module = import_module(f"pulumi_aws.{module_name}" + ("_" if module_name == "lambda" else ""))
    return getattr(module, class_name)


def _taggable(resource: RegisteredResource) -> bool:
    cls = _resource_class(resource.type)
    return "tags" in inspect.signature(cls._internal_init).parameters


def test_every_taggable_resource_carries_the_deployment_tags(stack: Evaluation) -> None:
    taggable = [r for r in stack.custom_resources if _taggable(r)]
    assert {r.type for r in taggable} >= {
        "aws:dynamodb/table:Table",
        "aws:lambda/function:Function",
        "aws:iam/role:Role",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:cloudwatch/eventRule:EventRule",
        "aws:s3/bucketObjectv2:BucketObjectv2",
    }
    for resource in taggable:
        tags = resource.inputs.get("tags") or {}
        assert tags.get(DEPLOYMENT_TAG_KEY) == stack.config["drs-orchestrator:deploymentName"], (
            resource.urn
        )
        assert tags.get(PROJECT_TAG_KEY) == "drs-orchestrator"
        assert tags.get(STACK_TAG_KEY) == stack.stack


def test_resource_type_lookup_knows_untaggable_types() -> None:
    assert _resource_class("aws:lambda/permission:Permission") is pulumi_aws.lambda_.Permission
    assert not _taggable(
        RegisteredResource("u", "aws:lambda/permission:Permission", "p", True, "", False, {}, {})
    )


def test_schedule_targets_the_execution_finder(stack: Evaluation) -> None:
    function = finder(stack)
    rule = stack.one("aws:cloudwatch/eventRule:EventRule")
    target = stack.one("aws:cloudwatch/eventTarget:EventTarget")
    permission = stack.one("aws:lambda/permission:Permission")
    assert target.inputs["arn"] == function.state["arn"]
    assert target.inputs["rule"] == rule.inputs["name"]
    assert rule.inputs["scheduleExpression"] == stack.config["drs-orchestrator:pollSchedule"]
    assert rule.inputs["state"] == "ENABLED"
    assert permission.inputs["function"] == function.inputs["name"]
    assert permission.inputs["sourceArn"] == rule.state["arn"]
    assert permission.inputs["principal"] == "events.amazonaws.com"


def test_finder_environment_points_at_its_own_tables(stack: Evaluation) -> None:
    tables = {r.name: r.inputs["name"] for r in stack.of_type("aws:dynamodb/table:Table")}
    variables = finder(stack).inputs["environment"]["variables"]
    assert variables["EXECUTIONS_TABLE"] == tables["executions-table"]
    assert variables["JOB_EVENTS_TABLE"] == tables["job-events-table"]
    assert variables["EXECUTIONS_STATUS_INDEX"] == "status-index"
    assert variables["DEPLOYMENT_NAME"] == stack.config["drs-orchestrator:deploymentName"]


def test_finder_package_comes_from_its_own_bucket(stack: Evaluation) -> None:
    function = finder(stack).inputs
    package = finder(stack, "aws:s3/bucketObjectv2:BucketObjectv2").inputs
    assert function["s3Bucket"] == stack.config["drs-orchestrator:deploymentBucket"]
    assert function["s3Key"] == package["key"]
    sha = stack.outputs["executionFinderPackageSha256"]
    assert package["key"] == f"lambda/execution-finder/{sha}.zip"
    assert function["handler"] == "drs_orchestrator.handlers.execution_finder.handler"
    assert function["runtime"] == "python3.12"
    assert (
        function["loggingConfig"]["logGroup"]
        == finder(stack, "aws:cloudwatch/logGroup:LogGroup").inputs["name"]
    )


def test_finder_role_allows_only_its_own_tables_and_drs_reads(stack: Evaluation) -> None:
    tables = {r.name: r.state["arn"] for r in stack.of_type("aws:dynamodb/table:Table")}
    log_group = finder(stack, "aws:cloudwatch/logGroup:LogGroup").state["arn"]
    policy = json.loads(finder(stack, "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    granted = {
        (action, resource)
        for s in policy["Statement"]
        for action in s["Action"]
        for resource in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
    }
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])
    assert granted == {
        ("dynamodb:Query", f"{tables['executions-table']}/index/status-index"),
        ("dynamodb:UpdateItem", tables["executions-table"]),
        ("dynamodb:PutItem", tables["job-events-table"]),
        ("dynamodb:BatchWriteItem", tables["job-events-table"]),
        ("drs:DescribeJobs", "*"),
        ("drs:DescribeJobLogItems", "*"),
        ("logs:CreateLogStream", f"{log_group}:*"),
        ("logs:PutLogEvents", f"{log_group}:*"),
    }
    assert {a for a, r in granted if r == "*"} <= set(UNSCOPED_ACTIONS)


def test_tables_have_pitr_sse_and_protection_as_configured(stack: Evaluation) -> None:
    protect = stack.config["drs-orchestrator:protectData"] == "true"
    for table in stack.of_type("aws:dynamodb/table:Table"):
        assert table.inputs["pointInTimeRecovery"] == {"enabled": True}
        assert table.inputs["serverSideEncryption"] == {"enabled": True}
        assert table.inputs["billingMode"] == "PAY_PER_REQUEST"
        assert table.inputs["deletionProtectionEnabled"] is protect
        assert table.protect is protect
    executions = stack.one("aws:dynamodb/table:Table", "executions-table").inputs
    index = executions["globalSecondaryIndexes"][0]
    assert index["name"] == "status-index"
    assert [k["attributeName"] for k in index["keySchemas"]] == ["status", "startedAt"]
    events = stack.one("aws:dynamodb/table:Table", "job-events-table").inputs
    assert events["ttl"] == {"attributeName": "expiresAt", "enabled": True}
    assert (events["hashKey"], events["rangeKey"]) == ("executionId", "eventKey")


def test_log_group_retention_comes_from_the_stack(stack: Evaluation) -> None:
    retention = int(stack.config["drs-orchestrator:logRetentionDays"])
    for log_group in stack.of_type("aws:cloudwatch/logGroup:LogGroup"):
        assert log_group.inputs["retentionInDays"] == retention, log_group.name


def test_outputs_name_everything_an_operator_needs(stack: Evaluation) -> None:
    function = finder(stack)
    assert stack.outputs["executionFinderFunctionArn"] == function.state["arn"]
    assert stack.outputs["deploymentName"] == stack.config["drs-orchestrator:deploymentName"]
    for key in (
        "executionsTableName",
        "jobEventsTableName",
        "pollScheduleRuleName",
        "executionFinderRoleArn",
        "executionFinderLogGroup",
        "deploymentBucket",
    ):
        assert stack.outputs[key], key


def test_stacks_share_no_physical_name(all_stacks: dict[str, Evaluation]) -> None:
    owners: dict[str, set[str]] = {}
    for name, evaluation in all_stacks.items():
        for resource in evaluation.custom_resources:
            if resource.physical_name:
                owners.setdefault(resource.physical_name, set()).add(name)
    shared = {n: s for n, s in owners.items() if len(s) > 1}
    assert shared == {}
    assert len(owners) == NAMED_RESOURCES * len(all_stacks)


def test_unchanged_build_gives_identical_package_keys(all_stacks: dict[str, Evaluation]) -> None:
    """Both stacks build the same code: the same content-addressed key, so no diff."""
    keys = {
        tuple(sorted(r.inputs["key"] for r in e.of_type("aws:s3/bucketObjectv2:BucketObjectv2")))
        for e in all_stacks.values()
    }
    assert len(keys) == 1 and len(next(iter(keys))) == 3
