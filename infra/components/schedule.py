"""EventBridge rules that run a function: on a schedule, or on events of a kind."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

if TYPE_CHECKING:
    from infra.naming import Naming


def _invoke(
    name: str,
    rule: aws.cloudwatch.EventRule,
    target_id: str,
    function_arn: pulumi.Input[str],
    function_name: pulumi.Input[str],
    retry_policy: aws.cloudwatch.EventTargetRetryPolicyArgs,
    opts: pulumi.ResourceOptions,
    event_bus_name: pulumi.Input[str] | None = None,
) -> tuple[aws.cloudwatch.EventTarget, aws.lambda_.Permission]:
    """The rule's function target (``<name>-target``) and the one permission that lets this
    rule, and no other, invoke it (``<name>-permission``)."""
    target = aws.cloudwatch.EventTarget(
        f"{name}-target",
        rule=rule.name,
        event_bus_name=event_bus_name,
        target_id=target_id,
        arn=function_arn,
        retry_policy=retry_policy,
        opts=opts,
    )
    permission = aws.lambda_.Permission(
        f"{name}-permission",
        action="lambda:InvokeFunction",
        function=function_name,
        principal="events.amazonaws.com",
        source_arn=rule.arn,
        opts=opts,
    )
    return target, permission


@dataclass
class PollScheduleArgs:
    naming: Naming
    """The deployment's names and tags."""
    schedule: str
    """The EventBridge schedule expression (validated with the stack's settings)."""
    function_short_name: str
    """Short name of the function the schedule runs (for names and logical names)."""
    function_arn: pulumi.Input[str]
    """ARN of the function the rule targets."""
    function_name: pulumi.Input[str]
    """Name of the function EventBridge is allowed to invoke."""


class PollSchedule(pulumi.ComponentResource):
    """A schedule rule, its target, and the one permission that lets the rule invoke."""

    rule: aws.cloudwatch.EventRule
    target: aws.cloudwatch.EventTarget
    permission: aws.lambda_.Permission

    def __init__(
        self, name: str, args: PollScheduleArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("drs-orchestrator:schedule:PollSchedule", name, None, opts)
        names, short = args.naming, args.function_short_name
        child = pulumi.ResourceOptions(parent=self)
        self.rule = aws.cloudwatch.EventRule(
            f"{short}-schedule",
            name=names.schedule_rule(short),
            description=f"Runs {names.function(short)} on {args.schedule}.",
            schedule_expression=args.schedule,
            state="ENABLED",
            tags=names.tags(),
            opts=child,
        )
        # A missed poll is made up by the next one; retrying a stale one only piles up.
        self.target, self.permission = _invoke(
            f"{short}-schedule",
            self.rule,
            short,
            args.function_arn,
            args.function_name,
            aws.cloudwatch.EventTargetRetryPolicyArgs(
                maximum_event_age_in_seconds=60, maximum_retry_attempts=0
            ),
            child,
        )
        self.register_outputs({"ruleName": self.rule.name, "ruleArn": self.rule.arn})


@dataclass
class EventTriggerArgs:
    naming: Naming
    """The deployment's names and tags."""
    function_short_name: str
    """Short name of the function the rule runs."""
    purpose: str
    """What kind of events (for names, e.g. ``drs-events``)."""
    description: str
    event_pattern: dict
    """The EventBridge event pattern the rule matches."""
    function_arn: pulumi.Input[str]
    function_name: pulumi.Input[str]
    maximum_event_age_seconds: int = 3600
    event_bus_name: pulumi.Input[str] | None = None
    """The bus the rule is on (None: the account's default bus, where AWS services send)."""


class EventTrigger(pulumi.ComponentResource):
    """A rule on events of one kind, its target, and the permission that lets it invoke.

    Unlike the schedule, an event missed is not made up by the next one: EventBridge
    retries its delivery (``maximum_retry_attempts``) for up to an hour."""

    rule: aws.cloudwatch.EventRule
    target: aws.cloudwatch.EventTarget
    permission: aws.lambda_.Permission

    def __init__(
        self, name: str, args: EventTriggerArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("drs-orchestrator:schedule:EventTrigger", name, None, opts)
        names, short, purpose = args.naming, args.function_short_name, args.purpose
        child = pulumi.ResourceOptions(parent=self)
        self.rule = aws.cloudwatch.EventRule(
            f"{short}-{purpose}",
            name=names.event_rule(short, purpose),
            event_bus_name=args.event_bus_name,
            description=args.description,
            event_pattern=json.dumps(args.event_pattern, sort_keys=True),
            state="ENABLED",
            tags=names.tags(),
            opts=child,
        )
        self.target, self.permission = _invoke(
            f"{short}-{purpose}",
            self.rule,
            short,
            args.function_arn,
            args.function_name,
            aws.cloudwatch.EventTargetRetryPolicyArgs(
                maximum_event_age_in_seconds=args.maximum_event_age_seconds,
                maximum_retry_attempts=8,
            ),
            child,
            args.event_bus_name,
        )
        self.register_outputs({"ruleName": self.rule.name, "ruleArn": self.rule.arn})
