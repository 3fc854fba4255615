"""A Lambda function with its own role, log group and content-addressed package.

Reusable for every function of the orchestrator: the caller gives the package spec, the
environment and the statements the code needs; this component adds only what every
function needs (writing its own log group) and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from infra import iam
from infra.packaging import PackageSpec, build_and_prove
from infra.runtime_python import LAMBDA_RUNTIME

if TYPE_CHECKING:
    from infra.naming import Naming


@dataclass
class LambdaFunctionArgs:
    naming: Naming
    """The deployment's names and tags."""
    log_retention_days: int
    """Retention of the function's log group."""
    deployment_bucket: str
    """The bucket (made by the bootstrap) the package is uploaded to."""
    package: PackageSpec
    """What goes into the zip, and the handler proven to import from it."""
    environment: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Environment variables; names come from ``drs_orchestrator.environment``."""
    statements: list[dict[str, Any]] = field(default_factory=list)
    """IAM statements for what the code calls, scoped to this deployment's ARNs."""
    memory_mb: int = 256
    """Memory size; the finder is I/O bound, more buys nothing."""
    timeout_seconds: int = 60
    """Upper bound of one invocation."""
    description: str = ""
    """Shown in the Lambda console."""
    failure_queue_arn: pulumi.Input[str] | None = None
    """Where an asynchronous invocation that failed for good (after Lambda's retries) goes:
    the deployment's failed-invocations queue, watched by an alarm."""


class LambdaFunction(pulumi.ComponentResource):
    """One function: package object, log group, role with an inline policy, function."""

    function: aws.lambda_.Function
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    package_object: aws.s3.BucketObjectv2

    def __init__(
        self, name: str, args: LambdaFunctionArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("drs-orchestrator:functions:LambdaFunction", name, None, opts)
        short = args.package.function
        names, tags = args.naming, args.naming.tags()
        child = pulumi.ResourceOptions(parent=self)

        # Build and prove before declaring anything: a package that cannot import its
        # handler stops the program here, with the function and the import error named.
        package = build_and_prove(args.package)

        self.log_group = aws.cloudwatch.LogGroup(
            f"{short}-logs",
            name=names.function_log_group(short),
            retention_in_days=args.log_retention_days,
            tags=tags,
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{short}-role",
            name=names.function_role(short),
            assume_role_policy=iam.assume_role_policy("lambda.amazonaws.com"),
            description=f"Runs {names.function(short)}; may touch only its own resources.",
            tags=tags,
            opts=child,
        )
        log_statement = iam.statement(
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [pulumi.Output.concat(self.log_group.arn, ":*")],
        )
        # Active tracing: Lambda sends the segments with the function's role.
        tracing = iam.unscoped_statement(["xray:PutTraceSegments", "xray:PutTelemetryRecords"])
        own = [log_statement, tracing]
        if args.failure_queue_arn is not None:
            # Lambda delivers a failed asynchronous invocation with the function's role.
            own.append(iam.statement(["sqs:SendMessage"], [args.failure_queue_arn]))
        self.policy = aws.iam.RolePolicy(
            f"{short}-policy",
            name=names.function_policy(short),
            role=self.role.id,
            policy=iam.document([*own, *args.statements]),
            opts=child,
        )
        self.package_object = aws.s3.BucketObjectv2(
            f"{short}-package",
            bucket=args.deployment_bucket,
            key=names.package_key(short, package.sha256),
            source=pulumi.FileAsset(str(package.path)),
            content_type="application/zip",
            checksum_algorithm="SHA256",
            tags=tags,
            opts=child,
        )
        self.function = aws.lambda_.Function(
            f"{short}-function",
            name=names.function(short),
            description=args.description,
            runtime=LAMBDA_RUNTIME,
            architectures=["arm64"],
            handler=args.package.handler,
            s3_bucket=self.package_object.bucket,
            s3_key=self.package_object.key,
            source_code_hash=package.base64_sha256,
            role=self.role.arn,
            memory_size=args.memory_mb,
            timeout=args.timeout_seconds,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=args.environment),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="JSON",
                log_group=self.log_group.name,
                application_log_level="INFO",
                system_log_level="WARN",
            ),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            tags=tags,
            # The role's policy must exist before the first invocation can log.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.policy]),
        )
        if args.failure_queue_arn is not None:
            # Every asynchronous invocation (EventBridge's, the API's readiness requests)
            # that still fails after Lambda's two retries is kept, never dropped.
            aws.lambda_.FunctionEventInvokeConfig(
                f"{short}-async",
                function_name=self.function.name,
                maximum_retry_attempts=2,
                destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                    on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                        destination=args.failure_queue_arn
                    )
                ),
                opts=child,
            )
        self.package_sha256 = package.sha256
        self.register_outputs(
            {
                "functionName": self.function.name,
                "functionArn": self.function.arn,
                "roleArn": self.role.arn,
                "logGroupName": self.log_group.name,
                "packageKey": self.package_object.key,
            }
        )
