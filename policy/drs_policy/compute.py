"""Compute rules: Lambda functions run a supported runtime, log with retention, hold no
secrets, are traced and keep their failed asynchronous invocations; alarms tell someone."""

from __future__ import annotations

import re

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SUPPORTED_RUNTIMES = ["python3.12", "python3.13"]

#: Environment variable names that suggest a secret, and values that look like one.
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)", re.I)
SECRET_VALUE = re.compile(
    r"(AKIA|ASIA)[A-Z0-9]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|\bgh[pousr]_[A-Za-z0-9]{36}\b"
)


def validate_runtime(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != FUNCTION:
        return
    allowed = args.get_config().get("allowedRuntimes") or SUPPORTED_RUNTIMES
    runtime = args.props.get("runtime")
    if runtime not in allowed:
        report(f"runtime '{runtime}' is not one of {', '.join(allowed)}", None)


def validate_no_plaintext_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != FUNCTION:
        return
    variables = (args.props.get("environment") or {}).get("variables") or {}
    for name, value in sorted(variables.items()):
        if SECRET_NAME.search(name) and value:
            report(
                f"environment variable '{name}' looks like a secret; keep it in Secrets Manager "
                "or SSM and pass its name",
                None,
            )
        elif isinstance(value, str) and SECRET_VALUE.search(value):
            report(f"environment variable '{name}' holds what looks like a credential", None)


def validate_log_group(args: StackValidationArgs, report: ReportViolation) -> None:
    groups = {r.props.get("name"): r for r in args.resources if r.resource_type == LOG_GROUP}
    for function in (r for r in args.resources if r.resource_type == FUNCTION):
        configured = (function.props.get("loggingConfig") or {}).get("logGroup")
        group_name = configured or f"/aws/lambda/{function.props.get('name')}"
        group = groups.get(group_name)
        if group is None:
            report(
                f"function '{function.props.get('name')}' logs to '{group_name}', which this "
                "stack does not create (Lambda would create it without retention)",
                function.urn,
            )
        elif not group.props.get("retentionInDays"):
            report(f"log group '{group_name}' keeps logs forever; set retentionInDays", group.urn)


EVENT_INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def validate_tracing(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != FUNCTION:
        return
    mode = (args.props.get("tracingConfig") or {}).get("mode")
    if mode != "Active":
        report(f"tracing is '{mode or 'off'}', not Active: its calls would not be traced", None)


def validate_failure_destination(args: StackValidationArgs, report: ReportViolation) -> None:
    """Every function's asynchronous invocations that fail for good go somewhere."""
    kept = {
        r.props.get("functionName")
        for r in args.resources
        if r.resource_type == EVENT_INVOKE_CONFIG
        and ((r.props.get("destinationConfig") or {}).get("onFailure") or {}).get("destination")
    }
    for function in (r for r in args.resources if r.resource_type == FUNCTION):
        name = function.props.get("name")
        if name not in kept:
            report(
                f"function '{name}' has no on-failure destination: an asynchronous invocation "
                "that fails after Lambda's retries would be dropped unseen",
                function.urn,
            )


def validate_alarm_action(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ALARM:
        return
    if not args.props.get("alarmActions"):
        report(f"alarm '{args.props.get('name')}' notifies no one: it has no alarm action", None)


lambda_tracing = ResourceValidationPolicy(
    name="lambda-tracing-active",
    description="Every Lambda function has active X-Ray tracing.",
    validate=validate_tracing,
    enforcement_level=EnforcementLevel.MANDATORY,
)
lambda_failure_destination = StackValidationPolicy(
    name="lambda-async-failure-destination",
    description=(
        "Every Lambda function sends asynchronous invocations that fail for good to an "
        "on-failure destination."
    ),
    validate=validate_failure_destination,
    enforcement_level=EnforcementLevel.MANDATORY,
)
alarm_has_action = ResourceValidationPolicy(
    name="cloudwatch-alarm-has-action",
    description="Every CloudWatch alarm has an alarm action, so someone is told.",
    validate=validate_alarm_action,
    enforcement_level=EnforcementLevel.MANDATORY,
)
supported_runtime = ResourceValidationPolicy(
    name="lambda-supported-runtime",
    description="Every Lambda function uses a supported runtime.",
    validate=validate_runtime,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "allowedRuntimes": {
                "type": "array",
                "items": {"type": "string"},
                "default": SUPPORTED_RUNTIMES,
            },
        }
    ),
)
log_group_with_retention = StackValidationPolicy(
    name="lambda-log-group-with-retention",
    description="Every Lambda function logs to a log group of this stack that has retention.",
    validate=validate_log_group,
    enforcement_level=EnforcementLevel.MANDATORY,
)
no_plaintext_secrets = ResourceValidationPolicy(
    name="lambda-no-plaintext-secrets",
    description="No Lambda environment variable holds a secret in plain text.",
    validate=validate_no_plaintext_secrets,
    enforcement_level=EnforcementLevel.MANDATORY,
)

POLICIES = [
    supported_runtime,
    log_group_with_retention,
    no_plaintext_secrets,
    lambda_tracing,
    lambda_failure_destination,
    alarm_has_action,
]
