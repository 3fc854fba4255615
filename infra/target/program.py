"""The target-account program, as a function: the one role a deployment assumes in a DRS
target account, and the forwarding of DRS's events there to the deployment's bus
(evaluated per stack by tests and ``drsctl plan --target-account``).

Run it in the target account after the main stack is up: IAM refuses a trust policy naming
roles that do not exist yet, and the trust names the deployment's function roles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from infra import iam
from infra.components.forwarded_events import FORWARDED_PATTERN, bus_arn
from infra.target import settings as target_settings

if TYPE_CHECKING:
    from infra.target.settings import TargetSettings


@dataclass
class Target:
    """What the program built, with the outputs it exports."""

    outputs: dict[str, Any] = field(default_factory=dict)


def trust_document(trusted_role_arns: list[str], external_id: str) -> dict[str, Any]:
    """The target role's trust: the given roles only, and only with the external id (the
    sandbox's STS holds an assume-role to the same document)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": trusted_role_arns},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }


def trust_policy(settings: TargetSettings) -> str:
    """Only this deployment's function roles, and only with the external id."""
    return json.dumps(trust_document(settings.trusted_role_arns(), settings.external_id))


def permissions(settings: TargetSettings) -> dict[str, Any]:
    """The DRS and EC2 actions the runtime calls, in the regions the stack lists only; the
    launch template writes on DRS's own templates only; the role's own simulation."""
    partition = settings.deployment.partition
    role_arn = f"arn:{partition}:iam::{settings.account_id}:role/{settings.role_name}"
    return iam.target_role_policy(list(settings.regions), role_arn)


class TargetRole(pulumi.ComponentResource):
    """The role in a target account that one deployment assumes to orchestrate DRS there."""

    role: aws.iam.Role

    def __init__(
        self, name: str, settings: TargetSettings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("drs-orchestrator:target:TargetRole", name, None, opts)
        deployment = settings.deployment.deployment_name
        # The deployment's tags (its project and stack), as the bootstrap's resources carry:
        # they say which deployment the role serves; the purpose says why it exists.
        naming = settings.deployment.naming
        self.role = aws.iam.Role(
            "role",
            name=settings.role_name,
            description=f"Assumed by deployment {deployment} to orchestrate AWS DRS here.",
            assume_role_policy=trust_policy(settings),
            max_session_duration=3600,
            tags=naming.tags({"drs-orchestrator:purpose": "drs-target"}),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicy(
            "policy",
            name=naming.target_role_policy(settings.role_name),
            role=self.role.id,
            policy=json.dumps(permissions(settings)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"roleArn": self.role.arn})


def forwarder_trust(settings: TargetSettings) -> str:
    """EventBridge, acting for this account's rules only."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": settings.account_id}},
                }
            ],
        }
    )


def deployment_bus(settings: TargetSettings) -> str:
    """The deployment's bus for its targets' DRS events (``ForwardedDrsEvents``)."""
    deployment = settings.deployment
    return bus_arn(
        deployment.partition, deployment.region, settings.orchestrator_account, deployment.naming
    )


class EventForwarding(pulumi.ComponentResource):
    """DRS's events of this account's target regions, put on the deployment's bus.

    DRS sends a launch result or a replication stall to EventBridge in the source server's
    own account and region only; without this, the deployment heard its home target alone
    (a wave here waited for the next tick; readiness did not react to a stall here). One
    rule per region, on the default bus where DRS sends, matching the two events the
    deployment acts on; EventBridge puts them on the deployment's bus through a role that
    may do that and nothing else."""

    def __init__(
        self, name: str, settings: TargetSettings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("drs-orchestrator:target:EventForwarding", name, None, opts)
        naming = settings.deployment.naming
        child = pulumi.ResourceOptions(parent=self)
        target_bus = deployment_bus(settings)
        tags = naming.tags({"drs-orchestrator:purpose": "drs-events-forwarding"})
        self.role = aws.iam.Role(
            "forwarder-role",
            name=naming.event_forwarder_role(),
            description=f"Puts this account's DRS events on deployment "
            f"{settings.deployment.deployment_name}'s event bus.",
            assume_role_policy=forwarder_trust(settings),
            tags=tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            "forwarder-policy",
            name=naming.target_role_policy(naming.event_forwarder_role()),
            role=self.role.id,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [iam.statement(["events:PutEvents"], [target_bus])],
                }
            ),
            opts=child,
        )
        for region in settings.regions:
            provider = aws.Provider(f"{region}", region=region, opts=child)
            where = pulumi.ResourceOptions(parent=self, provider=provider)
            rule = aws.cloudwatch.EventRule(
                f"forward-{region}",
                name=naming.event_forward_rule(region),
                description=f"Forwards DRS's launch results and replication stalls of {region} "
                f"to deployment {settings.deployment.deployment_name}.",
                event_pattern=json.dumps(FORWARDED_PATTERN, sort_keys=True),
                state="ENABLED",
                tags=tags,
                opts=where,
            )
            aws.cloudwatch.EventTarget(
                f"forward-{region}-target",
                rule=rule.name,
                target_id="deployment-bus",
                arn=target_bus,
                role_arn=self.role.arn,
                opts=where,
            )
        self.register_outputs({"forwarderRoleArn": self.role.arn, "busArn": target_bus})


def build() -> Target:
    settings = target_settings.from_pulumi()  # raises before any resource is declared
    role = TargetRole("drs-target", settings)
    forwarding = EventForwarding("drs-events", settings)
    built = Target(
        outputs={
            "deploymentName": settings.deployment.deployment_name,
            "account": settings.account_id,
            "regions": ", ".join(settings.regions),
            "roleArn": role.role.arn,
            "roleName": settings.role_name,
            "eventBusArn": deployment_bus(settings),
            "forwarderRoleArn": forwarding.role.arn,
        }
    )
    for name, value in built.outputs.items():
        pulumi.export(name, value)
    return built
