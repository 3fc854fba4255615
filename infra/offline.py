"""Run the Pulumi program for a stack under pulumi's mock runtime, with no CLI and no cloud.

This is what ``drsctl plan`` and the tests use: the stack's ``Pulumi.<stack>.yaml`` (with
the project's declared defaults) becomes the config, every resource the program registers
is recorded with its inputs, parent and options, and the mocks answer with realistic ids
and ARNs so that references between resources resolve as they would in AWS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings

from infra.naming import physical_name
from infra.project_config import Declaration
from infra.settings import partition_of
from infra.stacks import (
    REPO_ROOT,
    UnknownStackError,
    load_stack_config,
    project_name,
    stack_files,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

__all__ = [
    "REPO_ROOT",
    "Evaluation",
    "RegisteredResource",
    "UnknownStackError",
    "evaluate",
    "load_stack_config",
    "stack_files",
]
#: Placeholder account the mocks put in ARNs (AWS's documentation account).
MOCK_ACCOUNT = "123456789012"


@dataclass(frozen=True)
class RegisteredResource:
    """One resource as the program declared it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent_urn: str
    protect: bool
    inputs: Mapping[str, Any]
    state: Mapping[str, Any]
    retain_on_delete: bool = False

    @property
    def physical_name(self) -> str | None:
        return physical_name(self.type, self.inputs)

    @property
    def parent_type(self) -> str:
        """The type of the component this resource was declared in ('' at the root)."""
        if not self.parent_urn:
            return ""
        return self.parent_urn.split("::")[2].split("$")[-1]


@dataclass
class Evaluation:
    """Everything one mock run of the program produced."""

    stack: str
    config: dict[str, str]
    root: Path = REPO_ROOT
    #: Where the stack files that name each deployment live (the main project's folder,
    #: also for the bootstrap program, whose stacks are the same deployments).
    deployment_root: Path = REPO_ROOT
    resources: list[RegisteredResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def custom_resources(self) -> list[RegisteredResource]:
        return [r for r in self.resources if r.custom and r.type != "pulumi:pulumi:Stack"]

    def of_type(self, resource_type: str) -> list[RegisteredResource]:
        return [r for r in self.resources if r.type == resource_type]

    def one(self, resource_type: str, name: str | None = None) -> RegisteredResource:
        found = [r for r in self.of_type(resource_type) if name is None or r.name == name]
        if len(found) != 1:
            msg = f"expected one {resource_type} {name or ''}, found {len(found)}"
            raise LookupError(msg)
        return found[0]


class _Mocks(pulumi.runtime.Mocks):
    """Answers resource registrations with the ids and ARNs AWS would assign."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.partition = partition_of(region)

    def _arn(self, service: str, resource: str, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{MOCK_ACCOUNT}:{resource}"

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        """The id and state AWS would give: ids are names where pulumi-aws uses names."""
        inputs = dict(args.inputs)
        name = inputs.get("name") or args.name
        resource_id = f"{name}-id"
        computed: dict[str, Any] = {}
        match args.typ:
            case "aws:dynamodb/table:Table":
                computed["arn"] = self._arn("dynamodb", f"table/{name}")
                resource_id = name
            case "aws:lambda/function:Function":
                arn = self._arn("lambda", f"function:{name}")
                invoke = (
                    f"arn:{self.partition}:apigateway:{self.region}:lambda:path/"
                    f"2015-03-31/functions/{arn}/invocations"
                )
                computed.update(
                    arn=arn, qualified_arn=f"{arn}:$LATEST", version="$LATEST", invoke_arn=invoke
                )
                resource_id = name
            case "aws:iam/role:Role":
                computed["arn"] = self._arn("iam", f"role/{name}", regional=False)
                resource_id = name
            case "aws:cloudwatch/logGroup:LogGroup":
                computed["arn"] = self._arn("logs", f"log-group:{name}")
                resource_id = name
            case "aws:cloudwatch/eventRule:EventRule":
                # A rule on a custom bus is named under it: rule/<bus>/<rule>.
                bus = inputs.get("eventBusName")
                where = f"rule/{bus}/{name}" if bus and bus != "default" else f"rule/{name}"
                computed["arn"] = self._arn("events", where)
                resource_id = f"{bus}/{name}" if bus and bus != "default" else name
            case "aws:cloudwatch/eventBus:EventBus":
                computed["arn"] = self._arn("events", f"event-bus/{name}")
                resource_id = name
            case "aws:s3/bucket:Bucket":
                bucket = inputs.get("bucket", name)
                computed["arn"] = f"arn:{self.partition}:s3:::{bucket}"
                computed["bucket_regional_domain_name"] = f"{bucket}.s3.{self.region}.amazonaws.com"
                resource_id = bucket
            case "aws:cloudfront/distribution:Distribution":
                resource_id = "EMOCKDISTRIBUTION"
                computed.update(
                    arn=self._arn("cloudfront", f"distribution/{resource_id}", regional=False),
                    domain_name="dmock1234567890.cloudfront.net",
                )
            case "aws:s3/bucketObjectv2:BucketObjectv2":
                resource_id = f"{inputs.get('bucket')}/{inputs.get('key')}"
            case "aws:sfn/stateMachine:StateMachine":
                computed["arn"] = self._arn("states", f"stateMachine:{name}")
                resource_id = computed["arn"]
            case "aws:sqs/queue:Queue":
                computed["arn"] = self._arn("sqs", str(name))
                computed["url"] = f"https://sqs.{self.region}.amazonaws.com/{MOCK_ACCOUNT}/{name}"
                resource_id = computed["url"]
            case "aws:cloudwatch/metricAlarm:MetricAlarm":
                computed["arn"] = self._arn("cloudwatch", f"alarm:{name}")
                resource_id = name
            case "aws:cloudwatch/dashboard:Dashboard":
                dashboard = inputs.get("dashboardName", name)
                computed["dashboard_arn"] = self._arn(
                    "cloudwatch", f"dashboard/{dashboard}", regional=False
                )
                resource_id = dashboard
            case "aws:sns/topic:Topic":
                computed["arn"] = self._arn("sns", str(name))
                resource_id = computed["arn"]
            case "aws:cognito/userPool:UserPool":
                resource_id = f"{self.region}_mockpool1"
                computed.update(
                    arn=self._arn("cognito-idp", f"userpool/{resource_id}"),
                    endpoint=f"cognito-idp.{self.region}.amazonaws.com/{resource_id}",
                )
            case "aws:apigateway/restApi:RestApi":
                resource_id = "mockapi123"
                computed.update(
                    root_resource_id="mockroot1",
                    execution_arn=self._arn("execute-api", resource_id),
                    arn=f"arn:{self.partition}:apigateway:{self.region}::/restapis/{resource_id}",
                )
            case "aws:apigateway/stage:Stage":
                computed["invoke_url"] = (
                    f"https://mockapi123.execute-api.{self.region}.amazonaws.com/"
                    f"{inputs.get('stageName')}"
                )
            case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
                host = str(inputs.get("url", "")).removeprefix("https://")
                computed["arn"] = self._arn("iam", f"oidc-provider/{host}", regional=False)
        state = {**inputs, **computed}
        return (resource_id if args.custom else ""), state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        answers = {
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "accountId": MOCK_ACCOUNT,
                "arn": f"arn:{self.partition}:iam::{MOCK_ACCOUNT}:root",
                "userId": MOCK_ACCOUNT,
            },
            "aws:index/getRegion:getRegion": {"name": self.region, "region": self.region},
            "aws:index/getPartition:getPartition": {
                "partition": self.partition,
                "dnsSuffix": "amazonaws.com",
            },
        }
        if args.token not in answers:
            msg = f"the offline evaluator has no mock for invoke {args.token}"
            raise LookupError(msg)
        return answers[args.token], []


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that also keeps what the plain one drops: parent and protect."""

    def __init__(self, mocks: _Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[RegisteredResource] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            registration = self.resources[response.urn]
            inputs = pulumi.runtime.rpc.deserialize_properties(request.object)
            self.registrations.append(
                RegisteredResource(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    custom=bool(request.custom),
                    parent_urn=request.parent,
                    protect=bool(request.protect),
                    inputs=_plain(inputs),
                    state=_plain(registration.state),
                    retain_on_delete=bool(request.retainOnDelete),
                )
            )
        return response


def _plain(value: Any) -> Any:
    """Registered properties as plain data (JSON strings of documents left as strings)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def evaluate(
    stack: str,
    root: Path = REPO_ROOT,
    config_overrides: Mapping[str, str | None] | None = None,
    program: Callable[[], Any] | None = None,
    deployment_root: Path | None = None,
    stack_config: Mapping[str, str] | None = None,
) -> Evaluation:
    """Run a program for ``stack`` under mocks and return what it registered.

    ``root`` holds the project's ``Pulumi.yaml`` and stack files; ``program`` builds the
    resources and returns an object whose ``outputs`` dict is exported (default: the
    orchestrator, ``infra.program.build``). ``config_overrides`` replaces (or, with None,
    removes) keys of the stack's config; the tests use it to break one rule at a time.
    ``stack_config`` stands for a stack file that does not exist (a target account's stack
    planned before it is created): the project's declared defaults are applied under it.
    Exceptions from the program propagate, after the resources registered so far are
    attached to them as ``evaluation``.
    """
    if program is None:
        from infra.program import build as program

    if stack_config is None:
        config = load_stack_config(stack, root)
    else:
        config = {**Declaration.of(root / "Pulumi.yaml").defaults(), **stack_config}
    for key, value in (config_overrides or {}).items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    evaluation = Evaluation(
        stack=stack, config=config, root=root, deployment_root=deployment_root or root
    )
    region = config.get("aws:region") or "us-east-1"
    project = project_name(root)

    pulumi_settings.reset_options(project=project, stack=stack)
    monitor = _RecordingMonitor(_Mocks(region))
    pulumi_mocks.set_mocks(
        monitor.mocks, project=project, stack=stack, preview=False, monitor=monitor
    )
    pulumi.runtime.set_all_config(config, [])

    def run() -> pulumi.Output[Any]:
        built = program()
        return pulumi.Output.all(**built.outputs).apply(evaluation.outputs.update)

    try:
        pulumi_mocks.test(run)()
    except Exception as exc:
        exc.evaluation = evaluation  # type: ignore[attr-defined]
        evaluation.resources = list(monitor.registrations)
        raise
    evaluation.resources = list(monitor.registrations)
    return evaluation
