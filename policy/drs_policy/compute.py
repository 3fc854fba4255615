"""Compute rules: Lambda functions run a supported runtime, log with retention, hold no secrets."""

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

POLICIES = [supported_runtime, log_group_with_retention, no_plaintext_secrets]
