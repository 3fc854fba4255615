"""The recovery state machine and the SNS topic its runs notify."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from infra import iam
from infra.statemachine import definition

if TYPE_CHECKING:
    from infra.naming import Naming

STATE_MACHINE = "recovery"
TOPIC = "notifications"


@dataclass
class NotificationsArgs:
    naming: Naming
    """The deployment's names and tags."""
    admin_email: str
    """The first administrator, subscribed by e-mail."""


class Notifications(pulumi.ComponentResource):
    """The topic executions publish to, with the first administrator subscribed."""

    def __init__(
        self, name: str, args: NotificationsArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("drs-orchestrator:notifications:Notifications", name, None, opts)
        self.topic = aws.sns.Topic(
            "notifications-topic",
            name=args.naming.topic(TOPIC),
            kms_master_key_id="alias/aws/sns",
            tags=args.naming.tags(),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.sns.TopicSubscription(
            "notifications-admin-email",
            topic=self.topic.arn,
            protocol="email",
            endpoint=args.admin_email,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"topicArn": self.topic.arn})


@dataclass
class RecoveryStateMachineArgs:
    naming: Naming
    """The deployment's names and tags."""
    log_retention_days: int
    """Retention of the machine's log group."""
    wave_runner_arn: pulumi.Input[str]
    """The only function the machine may invoke."""


class RecoveryStateMachine(pulumi.ComponentResource):
    """The ASL in infra/statemachine, logged and traced, allowed to invoke the wave runner only."""

    def __init__(
        self, name: str, args: RecoveryStateMachineArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("drs-orchestrator:orchestration:RecoveryStateMachine", name, None, opts)
        names = args.naming
        child = pulumi.ResourceOptions(parent=self)
        self.log_group = aws.cloudwatch.LogGroup(
            "recovery-states-logs",
            name=names.state_machine_log_group(STATE_MACHINE),
            retention_in_days=args.log_retention_days,
            tags=names.tags(),
            opts=child,
        )
        self.role = aws.iam.Role(
            "recovery-states-role",
            name=names.state_machine_role(STATE_MACHINE),
            assume_role_policy=iam.assume_role_policy("states.amazonaws.com"),
            description=f"Runs {names.state_machine(STATE_MACHINE)}: invokes its wave runner.",
            tags=names.tags(),
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            "recovery-states-policy",
            name=names.state_machine_policy(STATE_MACHINE),
            role=self.role.id,
            policy=iam.document(
                [
                    iam.statement(
                        ["lambda:InvokeFunction"],
                        [args.wave_runner_arn, pulumi.Output.concat(args.wave_runner_arn, ":*")],
                    ),
                    iam.unscoped_statement([*iam.LOG_DELIVERY_ACTIONS, "logs:DescribeLogGroups"]),
                    iam.unscoped_statement(
                        [
                            "xray:PutTraceSegments",
                            "xray:PutTelemetryRecords",
                            "xray:GetSamplingRules",
                            "xray:GetSamplingTargets",
                        ]
                    ),
                ]
            ),
            opts=child,
        )
        self.state_machine = aws.sfn.StateMachine(
            "recovery-state-machine",
            name=names.state_machine(STATE_MACHINE),
            role_arn=self.role.arn,
            definition=pulumi.Output.from_input(args.wave_runner_arn).apply(definition),
            logging_configuration=aws.sfn.StateMachineLoggingConfigurationArgs(
                level="ALL",
                include_execution_data=True,
                log_destination=pulumi.Output.concat(self.log_group.arn, ":*"),
            ),
            tracing_configuration=aws.sfn.StateMachineTracingConfigurationArgs(enabled=True),
            tags=names.tags(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.register_outputs({"stateMachineArn": self.state_machine.arn})
