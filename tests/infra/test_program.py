"""The Pulumi program under mocks, for every Pulumi.<stack>.yaml in the repository."""

from __future__ import annotations

import inspect
import json
from collections import Counter
from importlib import import_module

import pulumi_aws
import pytest

from infra.console import build_console, console_files
from infra.iam import UNSCOPED_ACTIONS
from infra.naming import DEPLOYMENT_TAG_KEY, PROJECT_TAG_KEY, STACK_TAG_KEY
from infra.offline import Evaluation, RegisteredResource
from tests.infra.conftest import STACKS

#: The console's built files plus config.json (the build's file count is the build's own).
CONSOLE_OBJECTS = len(console_files(build_console())) + 1
EXPECTED_RESOURCES = {
    "aws:apigateway/deployment:Deployment": 1,
    "aws:apigateway/methodSettings:MethodSettings": 1,
    "aws:apigateway/restApi:RestApi": 1,
    "aws:apigateway/stage:Stage": 1,
    "aws:cloudwatch/eventRule:EventRule": 4,
    "aws:cloudwatch/eventTarget:EventTarget": 4,
    "aws:cloudwatch/logGroup:LogGroup": 6,
    "aws:cognito/user:User": 1,
    "aws:cognito/userGroup:UserGroup": 3,
    "aws:cognito/userInGroup:UserInGroup": 1,
    "aws:cognito/userPool:UserPool": 1,
    "aws:cognito/userPoolClient:UserPoolClient": 1,
    "aws:dynamodb/table:Table": 7,
    # The audit table's: append-only for every principal.
    "aws:dynamodb/resourcePolicy:ResourcePolicy": 1,
    "aws:iam/role:Role": 5,
    "aws:iam/rolePolicy:RolePolicy": 6,
    "aws:lambda/function:Function": 4,
    "aws:lambda/permission:Permission": 5,
    # Four Lambda packages, the console's build output and its config.json.
    "aws:s3/bucketObjectv2:BucketObjectv2": 4 + CONSOLE_OBJECTS,
    "aws:s3/bucket:Bucket": 1,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 1,
    "aws:s3/bucketPolicy:BucketPolicy": 1,
    "aws:cloudfront/originAccessControl:OriginAccessControl": 1,
    "aws:cloudfront/distribution:Distribution": 1,
    "aws:sfn/stateMachine:StateMachine": 1,
    "aws:sns/topic:Topic": 1,
    "aws:sns/topicSubscription:TopicSubscription": 1,
    # What tells people the orchestrator itself fails (infra/components/observability.py).
    "aws:cloudwatch/metricAlarm:MetricAlarm": 12,
    "aws:cloudwatch/dashboard:Dashboard": 1,
    "aws:sqs/queue:Queue": 1,
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": 4,
}
# 41 of the orchestrator, 12 alarms, the dashboard and the failed-invocations queue, the
# console bucket, its access control and its objects.
NAMED_RESOURCES = 41 + 14 + 2 + CONSOLE_OBJECTS


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
        "drs-orchestrator:schedule:EventTrigger",
        "drs-orchestrator:notifications:Notifications",
        "drs-orchestrator:orchestration:RecoveryStateMachine",
        "drs-orchestrator:api:RestApi",
        "drs-orchestrator:identity:Identity",
        "drs-orchestrator:frontend:Frontend",
        "drs-orchestrator:observability:FailedInvocations",
        "drs-orchestrator:observability:Monitoring",
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
    rule = stack.one("aws:cloudwatch/eventRule:EventRule", "execution-finder-schedule")
    target = stack.one("aws:cloudwatch/eventTarget:EventTarget", "execution-finder-schedule-target")
    permission = stack.one(
        "aws:lambda/permission:Permission", "execution-finder-schedule-permission"
    )
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


BUCKET_KEY = "drs-orchestrator:deploymentBucket"


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
    machine = stack.one("aws:sfn/stateMachine:StateMachine")
    runs = machine.state["arn"].replace(":stateMachine:", ":execution:") + ":*"
    topic = stack.one("aws:sns/topic:Topic").state["arn"]
    queue = stack.one("aws:sqs/queue:Queue").state["arn"]
    assert granted == {
        ("dynamodb:Query", f"{tables['executions-table']}/index/status-index"),
        ("dynamodb:Query", f"{tables['executions-table']}/index/watch-index"),
        ("dynamodb:GetItem", tables["executions-table"]),
        ("dynamodb:UpdateItem", tables["executions-table"]),
        ("dynamodb:PutItem", tables["job-events-table"]),
        ("dynamodb:BatchWriteItem", tables["job-events-table"]),
        # the janitor: frees the servers of an ended execution, publishes what it queued,
        # and asks whether an execution's state machine run is still alive
        ("dynamodb:DeleteItem", tables["server-holds-table"]),
        # ... and stores a settled execution's report, its job events with it, under
        # reports/ of the deployment bucket and nowhere else
        ("dynamodb:Query", tables["job-events-table"]),
        ("s3:PutObject", f"arn:aws:s3:::{stack.config[BUCKET_KEY]}/reports/*"),
        ("sns:Publish", topic),
        ("states:DescribeExecution", runs),
        ("drs:DescribeJobs", "*"),
        ("drs:DescribeJobLogItems", "*"),
        ("logs:CreateLogStream", f"{log_group}:*"),
        ("logs:PutLogEvents", f"{log_group}:*"),
        # active tracing, and a failed asynchronous invocation kept in the queue
        ("xray:PutTraceSegments", "*"),
        ("xray:PutTelemetryRecords", "*"),
        ("sqs:SendMessage", queue),
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
    # Sleep items expire; executions carry no expiresAt (tests/lambdas/test_wakeups.py).
    assert executions["ttl"] == {"attributeName": "expiresAt", "enabled": True}
    index = executions["globalSecondaryIndexes"][0]
    assert index["name"] == "status-index"
    assert [k["attributeName"] for k in index["keySchemas"]] == ["status", "startedAt"]
    events = stack.one("aws:dynamodb/table:Table", "job-events-table").inputs
    assert events["ttl"] == {"attributeName": "expiresAt", "enabled": True}
    assert (events["hashKey"], events["rangeKey"]) == ("executionId", "eventKey")


def test_a_plans_history_is_an_index_of_summaries_only_the_api_queries(
    stack: Evaluation,
) -> None:
    from drs_orchestrator.adapters import dynamodb as runtime

    from infra.naming import EXECUTIONS_PLAN_INDEX, EXECUTIONS_WATCH_INDEX

    assert runtime.EXECUTIONS_PLAN_INDEX == EXECUTIONS_PLAN_INDEX
    assert runtime.EXECUTIONS_WATCH_INDEX == EXECUTIONS_WATCH_INDEX
    table = stack.one("aws:dynamodb/table:Table", "executions-table")
    index = next(
        i for i in table.inputs["globalSecondaryIndexes"] if i["name"] == EXECUTIONS_PLAN_INDEX
    )
    assert [k["attributeName"] for k in index["keySchemas"]] == ["planId", "startedAt"]
    assert index["projectionType"] == "INCLUDE"
    assert "recoveryTime" in index["nonKeyAttributes"]
    assert "waves" not in index["nonKeyAttributes"]
    arn = f"{table.state['arn']}/index/{EXECUTIONS_PLAN_INDEX}"
    for function in ("api", "wave-runner", "execution-finder", "readiness"):
        policy = json.loads(
            stack.one("aws:iam/rolePolicy:RolePolicy", f"{function}-policy").inputs["policy"]
        )
        readers = {a for a, r in _granted(policy) if r == arn}
        assert readers == ({"dynamodb:Query"} if function == "api" else set()), function


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
                owners.setdefault((resource.type, resource.physical_name), set()).add(name)
    shared = {n: s for n, s in owners.items() if len(s) > 1}
    assert shared == {}
    assert len(owners) == NAMED_RESOURCES * len(all_stacks)


def test_unchanged_build_gives_identical_package_keys(all_stacks: dict[str, Evaluation]) -> None:
    """Both stacks build the same code: the same content-addressed key, so no diff."""
    keys = {
        tuple(sorted(r.inputs["key"] for r in e.of_type("aws:s3/bucketObjectv2:BucketObjectv2")))
        for e in all_stacks.values()
    }
    assert len(keys) == 1
    [same] = keys
    assert len([k for k in same if k.startswith("lambda/")]) == 4
    assert len(same) == 4 + CONSOLE_OBJECTS


def _gateway_body(stack: Evaluation) -> dict:
    return json.loads(stack.one("aws:apigateway/restApi:RestApi").inputs["body"])


def test_every_api_method_but_preflight_has_the_cognito_authorizer(stack: Evaluation) -> None:
    from drs_orchestrator.api import schemas

    body = _gateway_body(stack)
    pool = stack.one("aws:cognito/userPool:UserPool")
    [(scheme, definition)] = body["components"]["securitySchemes"].items()
    assert definition["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    assert definition["x-amazon-apigateway-authorizer"]["providerARNs"] == [pool.state["arn"]]
    served = {(m.upper(), p): op for p, ops in body["paths"].items() for m, op in ops.items()}
    assert {k for k in served if k[0] != "OPTIONS"} == schemas.routes()
    assert {p for m, p in served if m == "OPTIONS"} == set(body["paths"])
    for (method, path), operation in served.items():
        if method == "OPTIONS":
            assert operation["security"] == [], path
            assert operation["x-amazon-apigateway-integration"]["type"] == "mock"
        else:
            assert operation["security"] == [{scheme: []}], (method, path)


def test_api_integrations_proxy_to_the_api_function_only(stack: Evaluation) -> None:
    api = stack.one("aws:lambda/function:Function", "api-function")
    for path, operations in _gateway_body(stack)["paths"].items():
        for method, operation in operations.items():
            integration = operation["x-amazon-apigateway-integration"]
            if method != "options":
                assert integration["type"] == "aws_proxy", (method, path)
                assert integration["uri"] == api.state["invoke_arn"]
    permission = stack.one("aws:lambda/permission:Permission", "api-invoke-permission")
    assert permission.inputs["function"] == api.inputs["name"]
    assert permission.inputs["sourceArn"].endswith("/*/*")


def test_a_changed_document_makes_a_new_deployment(stack: Evaluation) -> None:
    import hashlib

    body = stack.one("aws:apigateway/restApi:RestApi").inputs["body"]
    deployment = stack.one("aws:apigateway/deployment:Deployment").inputs
    assert deployment["triggers"] == {"openapi": hashlib.sha256(body.encode()).hexdigest()}


def test_stage_logs_access_and_is_throttled(stack: Evaluation) -> None:
    stage = stack.one("aws:apigateway/stage:Stage").inputs
    logs = stack.one("aws:cloudwatch/logGroup:LogGroup", "api-access-logs")
    assert stage["accessLogSettings"]["destinationArn"] == logs.state["arn"]
    assert json.loads(stage["accessLogSettings"]["format"])["requestId"] == "$context.requestId"
    settings = stack.one("aws:apigateway/methodSettings:MethodSettings").inputs["settings"]
    assert settings["throttlingRateLimit"] == 50 and settings["throttlingBurstLimit"] == 100


def test_cognito_groups_and_the_first_admin(stack: Evaluation) -> None:
    groups = {g.inputs["name"] for g in stack.of_type("aws:cognito/userGroup:UserGroup")}
    assert groups == {"admin", "operator", "read-only"}
    admin = stack.one("aws:cognito/user:User").inputs
    assert admin["username"] == stack.config["drs-orchestrator:adminEmail"]
    membership = stack.one("aws:cognito/userInGroup:UserInGroup").inputs
    assert membership["groupName"] == "admin" and membership["username"] == admin["username"]
    pool = stack.one("aws:cognito/userPool:UserPool").inputs
    assert pool["adminCreateUserConfig"]["allowAdminCreateUserOnly"] is True
    subscription = stack.one("aws:sns/topicSubscription:TopicSubscription").inputs
    assert subscription["endpoint"] == admin["username"] and subscription["protocol"] == "email"


def test_state_machine_invokes_only_its_wave_runner_and_logs(stack: Evaluation) -> None:
    runner = stack.one("aws:lambda/function:Function", "wave-runner-function").state["arn"]
    machine = stack.one("aws:sfn/stateMachine:StateMachine").inputs
    definition = json.loads(machine["definition"])
    functions = {
        s["Parameters"]["FunctionName"]
        for s in definition["States"].values()
        if s["Type"] == "Task"
    }
    assert functions == {runner}
    assert machine["loggingConfiguration"]["level"] == "ALL"
    assert machine["tracingConfiguration"] == {"enabled": True}
    policy = json.loads(
        stack.one("aws:iam/rolePolicy:RolePolicy", "recovery-states-policy").inputs["policy"]
    )
    invoke = next(s for s in policy["Statement"] if s["Action"] == ["lambda:InvokeFunction"])
    assert invoke["Resource"] == [runner, f"{runner}:*"]


def test_api_and_runner_environments_point_at_their_own_resources(stack: Evaluation) -> None:
    tables = {r.name: r.inputs["name"] for r in stack.of_type("aws:dynamodb/table:Table")}
    api = stack.one("aws:lambda/function:Function", "api-function").inputs["environment"][
        "variables"
    ]
    assert api["PROTECTION_GROUPS_TABLE"] == tables["protection-groups-table"]
    assert api["RECOVERY_PLANS_TABLE"] == tables["recovery-plans-table"]
    assert api["STATE_MACHINE_ARN"] == stack.outputs["stateMachineArn"]
    runner = stack.one("aws:lambda/function:Function", "wave-runner-function").inputs[
        "environment"
    ]["variables"]
    assert runner["TOPIC_ARN"] == stack.outputs["topicArn"]
    assert runner["EXECUTIONS_TABLE"] == tables["executions-table"]


def test_reports_are_written_by_the_finder_and_read_by_the_api_in_the_deployment_bucket(
    stack: Evaluation,
) -> None:
    """Both know the bucket; only the finder writes and only the API reads, and only under
    ``reports/`` (the bootstrap's bucket policy lets them nowhere else)."""
    bucket = stack.config[BUCKET_KEY]
    reports = f"arn:aws:s3:::{bucket}/reports/*"
    grants = {}
    for short in ("execution-finder", "api", "wave-runner", "readiness"):
        function = stack.one("aws:lambda/function:Function", f"{short}-function").inputs
        variables = function["environment"]["variables"]
        policy = stack.one("aws:iam/rolePolicy:RolePolicy", f"{short}-policy").inputs["policy"]
        grants[short] = {(a, r) for a, r in _granted(json.loads(policy)) if a.startswith("s3:")}
        assert variables.get("REPORTS_BUCKET") == (
            bucket if short in ("execution-finder", "api") else None
        )
    assert grants == {
        "execution-finder": {("s3:PutObject", reports)},
        "api": {("s3:GetObject", reports)},
        "wave-runner": set(),
        "readiness": set(),
    }


def test_the_audit_trail_is_put_and_read_by_the_api_only_and_append_only_for_all(
    stack: Evaluation,
) -> None:
    from drs_orchestrator.adapters import audit as runtime

    from infra import naming

    for index in ("AUDIT_ACTOR_INDEX", "AUDIT_OBJECT_INDEX", "AUDIT_PLAN_INDEX"):
        assert getattr(runtime, index) == getattr(naming, index)
    table = stack.one("aws:dynamodb/table:Table", "audit-table")
    arn = table.state["arn"]
    assert table.inputs["ttl"] == {"attributeName": "expiresAt", "enabled": True}
    assert (table.inputs["hashKey"], table.inputs["rangeKey"]) == ("trail", "sk")
    grants = {}
    for short in ("execution-finder", "api", "wave-runner", "readiness"):
        policy = stack.one("aws:iam/rolePolicy:RolePolicy", f"{short}-policy").inputs["policy"]
        grants[short] = {(a, r) for a, r in _granted(json.loads(policy)) if r.startswith(arn)}
    indexes = {f"{arn}/index/{i}" for i in ("actor-index", "object-index", "plan-index")}
    assert grants["api"] == {
        ("dynamodb:PutItem", arn),
        ("dynamodb:Query", arn),
        ("dynamodb:GetItem", arn),  # an outcome read by key (adapters/audit.py _completed)
        *(("dynamodb:Query", i) for i in indexes),
    }
    assert grants["execution-finder"] == grants["wave-runner"] == grants["readiness"] == set()
    variables = stack.one("aws:lambda/function:Function", "api-function").inputs["environment"][
        "variables"
    ]
    assert variables["AUDIT_TABLE"] == table.inputs["name"]
    assert variables["AUDIT_RETENTION_DAYS"] == str(
        stack.config.get("drs-orchestrator:auditRetentionDays", 400)
    )
    [policy] = stack.of_type("aws:dynamodb/resourcePolicy:ResourcePolicy")
    [statement] = json.loads(policy.inputs["policy"])["Statement"]
    assert (statement["Effect"], statement["Principal"], statement["Resource"]) == (
        "Deny",
        "*",
        arn,
    )
    assert {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} <= set(
        statement["Action"]
    )


def test_api_role_may_update_groups_but_only_put_and_delete_plans(stack: Evaluation) -> None:
    """A plan's save updates the groups it uses (``usedBy``) in its transaction; nothing
    else in the API updates a catalog item in place."""
    tables = {r.name: r.state["arn"] for r in stack.of_type("aws:dynamodb/table:Table")}
    policy = json.loads(stack.one("aws:iam/rolePolicy:RolePolicy", "api-policy").inputs["policy"])
    granted = {
        (action, resource)
        for s in policy["Statement"]
        for action in s["Action"]
        for resource in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
    }
    catalog = {
        (action, name)
        for action, resource in granted
        for name in ("protection-groups-table", "recovery-plans-table")
        if resource == tables[name]
    }
    assert catalog == {
        *(
            (a, t)
            for a in (
                "dynamodb:DeleteItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:Scan",
            )
            for t in ("protection-groups-table", "recovery-plans-table")
        ),
        ("dynamodb:UpdateItem", "protection-groups-table"),
    }


def _granted(policy: dict) -> set[tuple[str, str]]:
    return {
        (action, resource)
        for s in policy["Statement"]
        for action in s["Action"]
        for resource in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
    }


def test_drs_launch_results_wake_the_wave_runner_which_may_find_the_holder_and_wake(
    stack: Evaluation,
) -> None:
    """Event-driven waves: DRS's launch results reach the wave runner, whose role may read
    the server holds (which execution holds the server) and hand a task token back."""
    function = stack.one("aws:lambda/function:Function", "wave-runner-function")
    rule = stack.one("aws:cloudwatch/eventRule:EventRule", "wave-runner-launch-events")
    assert rule.inputs["name"].endswith("-wave-runner-launch-events")
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["aws.drs"],
        "detail-type": ["DRS Source Server Launch Result"],
    }
    target = next(
        t
        for t in stack.of_type("aws:cloudwatch/eventTarget:EventTarget")
        if t.inputs["rule"] == rule.inputs["name"]
    )
    assert target.inputs["arn"] == function.state["arn"]
    assert target.inputs["retryPolicy"]["maximumEventAgeInSeconds"] == 60
    permission = next(
        p
        for p in stack.of_type("aws:lambda/permission:Permission")
        if p.inputs.get("sourceArn") == rule.state["arn"]
    )
    assert permission.inputs["function"] == function.inputs["name"]
    tables = {r.name: r.state["arn"] for r in stack.of_type("aws:dynamodb/table:Table")}
    policy = json.loads(
        stack.one("aws:iam/rolePolicy:RolePolicy", "wave-runner-policy").inputs["policy"]
    )
    granted = _granted(policy)
    assert {a for a, r in granted if r == tables["server-holds-table"]} == {
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
    }
    assert ("states:SendTaskSuccess", "*") in granted
    # The sleep keeps its token in a sleep item beside the execution (PutItem).
    assert {a for a, r in granted if r == tables["executions-table"]} == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    }


def test_readiness_runs_on_its_schedule_on_drs_stall_events_and_when_the_api_asks(
    stack: Evaluation,
) -> None:
    function = stack.one("aws:lambda/function:Function", "readiness-function")
    schedule = stack.one("aws:cloudwatch/eventRule:EventRule", "readiness-schedule")
    assert schedule.inputs["scheduleExpression"] == "rate(30 minutes)"  # the default
    events = stack.one("aws:cloudwatch/eventRule:EventRule", "readiness-drs-events")
    assert json.loads(events.inputs["eventPattern"]) == {
        "source": ["aws.drs"],
        "detail-type": ["DRS Source Server Data Replication Stalled Change"],
    }
    for rule in (schedule, events):
        target = next(
            t
            for t in stack.of_type("aws:cloudwatch/eventTarget:EventTarget")
            if t.inputs["rule"] == rule.inputs["name"]
        )
        assert target.inputs["arn"] == function.state["arn"]
        permission = next(
            p
            for p in stack.of_type("aws:lambda/permission:Permission")
            if p.inputs.get("sourceArn") == rule.state["arn"]
        )
        assert permission.inputs["function"] == function.inputs["name"]
    api = stack.one("aws:lambda/function:Function", "api-function")
    variables = api.inputs["environment"]["variables"]
    assert variables["READINESS_FUNCTION"] == function.inputs["name"]
    tables = {r.name: r.state["arn"] for r in stack.of_type("aws:dynamodb/table:Table")}
    api_policy = json.loads(
        stack.one("aws:iam/rolePolicy:RolePolicy", "api-policy").inputs["policy"]
    )
    granted = _granted(api_policy)
    assert {r for a, r in granted if a == "lambda:InvokeFunction"} == {function.state["arn"]}
    assert {a for a, r in granted if r == tables["readiness-table"]} == {"dynamodb:Query"}


def test_readiness_role_reads_the_catalog_and_drs_and_writes_only_its_history(
    stack: Evaluation,
) -> None:
    tables = {r.name: r.state["arn"] for r in stack.of_type("aws:dynamodb/table:Table")}
    policy = json.loads(
        stack.one("aws:iam/rolePolicy:RolePolicy", "readiness-policy").inputs["policy"]
    )
    granted = {(a, r) for a, r in _granted(policy) if not a.startswith("logs:")}
    topic = stack.one("aws:sns/topic:Topic").state["arn"]
    runner = stack.one("aws:iam/role:Role", "wave-runner-role").state["arn"]
    assert granted == {
        ("dynamodb:GetItem", tables["protection-groups-table"]),
        ("dynamodb:Scan", tables["protection-groups-table"]),
        ("dynamodb:GetItem", tables["recovery-plans-table"]),
        ("dynamodb:Scan", tables["recovery-plans-table"]),
        ("dynamodb:PutItem", tables["readiness-table"]),
        ("dynamodb:Query", tables["readiness-table"]),
        ("dynamodb:UpdateItem", tables["readiness-table"]),
        ("sns:Publish", topic),
        ("drs:DescribeJobs", "*"),
        ("drs:DescribeRecoverySnapshots", "*"),
        ("drs:DescribeSourceServers", "*"),
        ("drs:GetLaunchConfiguration", "*"),
        ("ec2:DescribeInstanceTypeOfferings", "*"),
        ("ec2:DescribeLaunchTemplateVersions", "*"),
        ("ec2:DescribeSubnets", "*"),
        ("ssm:DescribeDocument", "*"),
        # The wave runner's permissions are simulated, not the readiness role's own.
        ("iam:SimulatePrincipalPolicy", runner),
        # What every function has: active tracing, its failed async invocations kept.
        ("xray:PutTraceSegments", "*"),
        ("xray:PutTelemetryRecords", "*"),
        ("sqs:SendMessage", stack.one("aws:sqs/queue:Queue").state["arn"]),
    }
    environment = stack.one("aws:lambda/function:Function", "readiness-function").inputs
    assert environment["environment"]["variables"]["WAVE_RUNNER_ROLE_ARN"] == runner
    readiness = stack.one("aws:dynamodb/table:Table", "readiness-table")
    assert readiness.inputs["ttl"]["attributeName"] == "expiresAt"


def test_a_bad_readiness_schedule_fails_before_anything_is_declared() -> None:
    from infra.settings import SettingsError, load_settings

    with pytest.raises(SettingsError) as raised:
        load_settings(
            "dev",
            {
                "aws:region": "us-east-1",
                "drs-orchestrator:deploymentName": "demo",
                "drs-orchestrator:adminEmail": "ops@example.com",
                "drs-orchestrator:readinessSchedule": "every 30 minutes",
            },
        )
    assert any("readinessSchedule" in p and "rate(" in p for p in raised.value.problems)
