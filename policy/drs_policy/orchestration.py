"""Orchestration rules: the recovery state machine leaves a log of every execution."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"


def validate_state_machine_logging(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != STATE_MACHINE:
        return
    logging = args.props.get("loggingConfiguration") or {}
    if logging.get("level", "OFF") == "OFF":
        report("logging is off; set loggingConfiguration.level (ALL, ERROR or FATAL)", None)
    elif not logging.get("logDestination"):
        report("logging has no log destination", None)


POLICIES = [
    ResourceValidationPolicy(
        name="state-machine-logging",
        description="Every Step Functions state machine logs to CloudWatch Logs.",
        validate=validate_state_machine_logging,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
]
