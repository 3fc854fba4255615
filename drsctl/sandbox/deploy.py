"""Deploy a stack's program into the sandbox: what ``pulumi up`` would create, in moto.

The program is evaluated offline (``infra/offline.py``, the same run ``drsctl plan`` and
the policy pack see), and each resource the orchestrator needs at run time is created in
moto from the inputs the program gave it: tables with their keys and indexes, the Lambda
packages uploaded to the deployment bucket and the functions made from them, the topic, the
state machine with its definition, the schedule rule and its target. What the sandbox plays
itself is listed, not created: API Gateway (``site.py`` serves the same OpenAPI document)
and Cognito (a local sandbox user).

Sandbox time runs faster than AWS time: ``Pacing`` scales the wave runner's wait and
staleness settings and the schedule's rate, and says so.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from drs_orchestrator import environment as env

if TYPE_CHECKING:
    from collections.abc import Callable

    from infra.offline import Evaluation, RegisteredResource

#: Resource types the sandbox plays itself instead of creating them in moto.
PLAYED_BY_SANDBOX = {
    "aws:apigateway/": "served by the sandbox from the same OpenAPI document",
    "aws:cognito/": "replaced by the local sandbox user",
}
CONSOLE_REASON = "the sandbox serves the console's build with a config.json of its own"
#: Resource types with no part in running the orchestrator locally.
NOT_NEEDED = {
    "aws:cloudwatch/logGroup:LogGroup": "function output goes to the sandbox's log files",
    "aws:sns/topicSubscription:TopicSubscription": "no e-mail leaves the sandbox",
    "aws:dynamodb/resourcePolicy:ResourcePolicy": "moto enforces no resource policy (the "
    "policy pack's audit-trail-append-only rule checks the audit table's)",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "moto evaluates no alarm: /sandbox/state "
    "shows the metrics the functions emit instead",
    "aws:cloudwatch/dashboard:Dashboard": "/sandbox/state shows the metrics it would plot",
    "aws:sqs/queue:Queue": "the sandbox's Lambda runs an asynchronous invocation once and "
    "logs its failure: no retries, no on-failure destination",
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": "the sandbox's Lambda "
    "runs an asynchronous invocation once and logs its failure",
}


class UnsupportedResourceError(RuntimeError):
    """Raised when the program declares a resource type the sandbox can neither create in
    moto nor play itself; nothing has been created when it is raised."""


@dataclass(frozen=True)
class Pacing:
    """How much faster than AWS time the sandbox runs."""

    time_scale: float = 20.0

    def seconds(self, aws_seconds: float) -> int:
        return max(1, math.ceil(aws_seconds / self.time_scale))


@dataclass
class Deployment:
    """What one stack's deployment in the sandbox is made of."""

    stack: str
    deployment_name: str
    region: str
    functions: dict[str, str] = field(default_factory=dict)  # short name -> function name
    schedule_rules: list[str] = field(default_factory=list)
    event_rules: list[str] = field(default_factory=list)
    #: The deployment's own buses (its targets' forwarded DRS events): name -> its rules.
    bus_rules: dict[str, list[str]] = field(default_factory=dict)
    #: Each own bus's resource policy, as declared (who may put events on it).
    bus_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    state_machine_arn: str = ""
    topic_arn: str = ""
    created: Counter[str] = field(default_factory=Counter)
    skipped: dict[str, str] = field(default_factory=dict)
    overrides: list[str] = field(default_factory=list)

    @property
    def api_function(self) -> str:
        return self.functions["api"]


def deploy(
    evaluation: Evaluation,
    clients: Callable[[str], Any],
    pacing: Pacing,
    say: Callable[[str], None] = print,
) -> Deployment:
    """Create the evaluated stack's run-time resources through ``clients(service)``."""
    config = evaluation.config
    deployment = Deployment(
        stack=evaluation.stack,
        deployment_name=str(config["drs-orchestrator:deploymentName"]),
        region=str(config["aws:region"]),
    )
    by_type: dict[str, list[RegisteredResource]] = {}
    for resource in evaluation.resources:
        if resource.parent_type.endswith(":Frontend"):
            # The console's bucket, distribution and files: the site serves frontend/dist.
            deployment.skipped[resource.type.split(":")[-1]] = CONSOLE_REASON
        elif resource.custom:
            by_type.setdefault(resource.type, []).append(resource)
    creators: list[tuple[str, Callable[[RegisteredResource], None]]] = [
        ("aws:iam/role:Role", lambda r: _role(clients, r)),
        ("aws:iam/rolePolicy:RolePolicy", lambda r: _role_policy(clients, r)),
        ("aws:dynamodb/table:Table", lambda r: _table(clients, r)),
        ("aws:sns/topic:Topic", lambda r: _topic(clients, r, deployment)),
        ("aws:s3/bucketObjectv2:BucketObjectv2", lambda r: _package(clients, r)),
        ("aws:lambda/function:Function", lambda r: _function(clients, r, deployment, pacing)),
        ("aws:lambda/permission:Permission", lambda r: _permission(clients, r)),
        ("aws:sfn/stateMachine:StateMachine", lambda r: _state_machine(clients, r, deployment)),
        ("aws:cloudwatch/eventBus:EventBus", lambda r: _bus(clients, r, deployment)),
        ("aws:cloudwatch/eventBusPolicy:EventBusPolicy", lambda r: _bus_policy(r, deployment)),
        ("aws:cloudwatch/eventRule:EventRule", lambda r: _rule(clients, r, deployment)),
        ("aws:cloudwatch/eventTarget:EventTarget", lambda r: _target(clients, r)),
    ]
    handled = {kind for kind, _ in creators}
    # Every type is accounted for before anything is created: an unknown one stops here.
    for kind, resources in by_type.items():
        if kind in handled:
            continue
        reason = NOT_NEEDED.get(kind) or next(
            (why for prefix, why in PLAYED_BY_SANDBOX.items() if kind.startswith(prefix)), None
        )
        if reason is None:
            msg = f"the sandbox does not know how to run {kind} ({resources[0].name})"
            raise UnsupportedResourceError(msg)
        deployment.skipped[kind.split(":")[-1]] = reason
    for kind, create in creators:
        for resource in by_type.get(kind, []):
            create(resource)
            deployment.created[kind.split(":")[-1]] += 1
    total = sum(deployment.created.values())
    say(
        f"  {evaluation.stack}: created {total} resources in the sandbox "
        f"({', '.join(f'{n} {k}' for k, n in sorted(deployment.created.items()))})"
    )
    for line in deployment.overrides:
        say(f"  {evaluation.stack}: sandbox pacing: {line}")
    return deployment


def _role(clients: Callable[[str], Any], r: RegisteredResource) -> None:
    clients("iam").create_role(
        RoleName=r.inputs["name"], AssumeRolePolicyDocument=_text(r.inputs["assumeRolePolicy"])
    )


def _role_policy(clients: Callable[[str], Any], r: RegisteredResource) -> None:
    clients("iam").put_role_policy(
        RoleName=r.inputs["role"].rsplit("/", 1)[-1],
        PolicyName=r.inputs["name"],
        PolicyDocument=_text(r.inputs["policy"]),
    )


def _table(clients: Callable[[str], Any], r: RegisteredResource) -> None:
    inputs = r.inputs
    keys = [{"AttributeName": inputs["hashKey"], "KeyType": "HASH"}]
    if inputs.get("rangeKey"):
        keys.append({"AttributeName": inputs["rangeKey"], "KeyType": "RANGE"})
    request: dict[str, Any] = {
        "TableName": inputs["name"],
        "KeySchema": keys,
        "AttributeDefinitions": [
            {"AttributeName": a["name"], "AttributeType": a["type"]} for a in inputs["attributes"]
        ],
        "BillingMode": inputs.get("billingMode", "PAY_PER_REQUEST"),
    }
    indexes = inputs.get("globalSecondaryIndexes") or []
    if indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index["name"],
                "KeySchema": [
                    {"AttributeName": k["attributeName"], "KeyType": k["keyType"]}
                    for k in index["keySchemas"]
                ],
                "Projection": {"ProjectionType": index.get("projectionType", "ALL")}
                | (
                    {"NonKeyAttributes": list(index["nonKeyAttributes"])}
                    if index.get("nonKeyAttributes")
                    else {}
                ),
            }
            for index in indexes
        ]
    dynamodb = clients("dynamodb")
    dynamodb.create_table(**request)
    ttl = inputs.get("ttl") or {}
    if ttl.get("enabled"):
        dynamodb.update_time_to_live(
            TableName=inputs["name"],
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["attributeName"]},
        )


def _topic(clients: Callable[[str], Any], r: RegisteredResource, d: Deployment) -> None:
    d.topic_arn = clients("sns").create_topic(Name=r.inputs["name"])["TopicArn"]


def _package(clients: Callable[[str], Any], r: RegisteredResource) -> None:
    s3, bucket = clients("s3"), r.inputs["bucket"]
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)
    with open(r.inputs["source"].path, "rb") as package:
        s3.put_object(Bucket=bucket, Key=r.inputs["key"], Body=package.read())


#: Wave-runner settings in AWS seconds that the sandbox scales to its own time.
_SCALED_VARIABLES = (env.POLL_SECONDS,)


def _function(
    clients: Callable[[str], Any], r: RegisteredResource, d: Deployment, pacing: Pacing
) -> None:
    inputs = r.inputs
    variables = dict((inputs.get("environment") or {}).get("variables") or {})
    for name in _SCALED_VARIABLES:
        if name in variables:
            scaled = str(pacing.seconds(float(variables[name])))
            d.overrides.append(f"{inputs['name']} {name} {variables[name]} -> {scaled}")
            variables[name] = scaled
    clients("lambda").create_function(
        FunctionName=inputs["name"],
        Runtime=inputs["runtime"],
        Role=inputs["role"],
        Handler=inputs["handler"],
        Code={"S3Bucket": inputs["s3Bucket"], "S3Key": inputs["s3Key"]},
        Timeout=int(inputs.get("timeout", 3)),
        MemorySize=int(inputs.get("memorySize", 128)),
        Environment={"Variables": variables},
    )
    short = inputs["name"].removeprefix(d.deployment_name + "-")
    d.functions[short] = inputs["name"]


def _permission(clients: Callable[[str], Any], r: RegisteredResource) -> None:
    clients("lambda").add_permission(
        FunctionName=r.inputs["function"],
        StatementId=r.name,
        Action=r.inputs["action"],
        Principal=r.inputs["principal"],
        SourceArn=r.inputs["sourceArn"],
    )


def _state_machine(clients: Callable[[str], Any], r: RegisteredResource, d: Deployment) -> None:
    created = clients("stepfunctions").create_state_machine(
        name=r.inputs["name"], definition=r.inputs["definition"], roleArn=r.inputs["roleArn"]
    )
    d.state_machine_arn = created["stateMachineArn"]


def _bus(clients: Callable[[str], Any], r: RegisteredResource, d: Deployment) -> None:
    """The deployment's own bus (its DRS targets' forwarded events), delivered by the
    sandbox's ``EventBus`` as the default bus is."""
    clients("events").create_event_bus(Name=r.inputs["name"])
    d.bus_rules.setdefault(r.inputs["name"], [])


def _bus_policy(r: RegisteredResource, d: Deployment) -> None:
    """Kept for the sandbox's forwarding, which puts a target's event on the bus only if
    the policy lets that target's forwarder role in (moto enforces no bus policy)."""
    policy = r.inputs["policy"]
    d.bus_policies[r.inputs["eventBusName"]] = (
        json.loads(policy) if isinstance(policy, str) else policy
    )


def _rule(clients: Callable[[str], Any], r: RegisteredResource, d: Deployment) -> None:
    """A schedule rule, fired by the sandbox's clock; or a rule on events (DRS's) on the
    default bus or the deployment's own, delivered by the sandbox's ``EventBus``."""
    if "eventPattern" in r.inputs:
        bus = r.inputs.get("eventBusName")
        clients("events").put_rule(
            Name=r.inputs["name"],
            EventPattern=r.inputs["eventPattern"],
            State=r.inputs.get("state", "ENABLED"),
            **({"EventBusName": bus} if bus else {}),
        )
        if bus:
            d.bus_rules.setdefault(bus, []).append(r.inputs["name"])
        else:
            d.event_rules.append(r.inputs["name"])
        return
    clients("events").put_rule(
        Name=r.inputs["name"],
        ScheduleExpression=r.inputs["scheduleExpression"],
        State=r.inputs.get("state", "ENABLED"),
    )
    d.schedule_rules.append(r.inputs["name"])


def _target(clients: Callable[[str], Any], r: RegisteredResource) -> None:
    bus = r.inputs.get("eventBusName")
    clients("events").put_targets(
        Rule=r.inputs["rule"],
        Targets=[{"Id": r.inputs["targetId"], "Arn": r.inputs["arn"]}],
        **({"EventBusName": bus} if bus else {}),
    )


def _text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)
