"""The target-account program, as a function: the one role a deployment assumes in a DRS
target account (evaluated per stack by tests and ``drsctl plan --target-account``).

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
from infra.target import settings as target_settings

if TYPE_CHECKING:
    from infra.target.settings import TargetSettings


@dataclass
class Target:
    """What the program built, with the outputs it exports."""

    outputs: dict[str, Any] = field(default_factory=dict)


def trust_policy(settings: TargetSettings) -> str:
    """Only this deployment's function roles, and only with the external id."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": settings.trusted_role_arns()},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": settings.external_id}},
                }
            ],
        }
    )


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


def build() -> Target:
    settings = target_settings.from_pulumi()  # raises before any resource is declared
    role = TargetRole("drs-target", settings)
    built = Target(
        outputs={
            "deploymentName": settings.deployment.deployment_name,
            "account": settings.account_id,
            "regions": ", ".join(settings.regions),
            "roleArn": role.role.arn,
            "roleName": settings.role_name,
        }
    )
    for name, value in built.outputs.items():
        pulumi.export(name, value)
    return built
