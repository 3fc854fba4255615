"""Cognito: the deployment's user pool, its console client, the role groups and the first admin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

if TYPE_CHECKING:
    from infra.naming import Naming

#: Cognito groups, highest precedence first; the API's x-roles name the same groups.
ROLE_GROUPS = {
    "admin": "Everything: protection groups, recovery plans, executions; the only group "
    "that may start a real recovery.",
    "operator": "Run drills; approve, cancel and terminate executions; read everything.",
    "read-only": "Read everything, change nothing.",
}


#: Units of the client's token validities (durations, not secrets).
TOKEN_VALIDITY_UNITS = {
    f"{kind}_token": unit
    for kind, unit in (("access", "minutes"), ("id", "minutes"), ("refresh", "hours"))
}


@dataclass
class IdentityArgs:
    naming: Naming
    """The deployment's names and tags."""
    admin_email: str
    """The first administrator, created in the pool."""
    protect_data: bool
    """Deletion protection on the user pool."""


class Identity(pulumi.ComponentResource):
    """Users sign in with their e-mail; only administrators create users."""

    def __init__(self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("drs-orchestrator:identity:Identity", name, None, opts)
        names = args.naming
        child = pulumi.ResourceOptions(parent=self)
        self.user_pool = aws.cognito.UserPool(
            "user-pool",
            name=names.user_pool(),
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            admin_create_user_config=aws.cognito.UserPoolAdminCreateUserConfigArgs(
                allow_admin_create_user_only=True
            ),
            password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
                minimum_length=14,
                require_lowercase=True,
                require_uppercase=True,
                require_numbers=True,
                require_symbols=True,
                temporary_password_validity_days=3,
            ),
            mfa_configuration="OPTIONAL",
            software_token_mfa_configuration=aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(
                enabled=True
            ),
            account_recovery_setting=aws.cognito.UserPoolAccountRecoverySettingArgs(
                recovery_mechanisms=[
                    aws.cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs(
                        name="verified_email", priority=1
                    )
                ]
            ),
            deletion_protection="ACTIVE" if args.protect_data else "INACTIVE",
            tags=names.tags(),
            opts=child,
        )
        self.client = aws.cognito.UserPoolClient(
            "console-client",
            name=names.user_pool_client(),
            user_pool_id=self.user_pool.id,
            generate_secret=False,
            explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            access_token_validity=60,
            id_token_validity=60,
            refresh_token_validity=12,
            # Units of the validities above, not secrets.
            token_validity_units=aws.cognito.UserPoolClientTokenValidityUnitsArgs(
                **TOKEN_VALIDITY_UNITS
            ),
            opts=child,
        )
        self.groups = {
            group: aws.cognito.UserGroup(
                f"group-{group}",
                name=group,
                description=description,
                precedence=precedence,
                user_pool_id=self.user_pool.id,
                opts=child,
            )
            for precedence, (group, description) in enumerate(ROLE_GROUPS.items())
        }
        admin = aws.cognito.User(
            "first-admin",
            user_pool_id=self.user_pool.id,
            username=args.admin_email,
            attributes={"email": args.admin_email, "email_verified": "true"},
            desired_delivery_mediums=["EMAIL"],
            opts=child,
        )
        aws.cognito.UserInGroup(
            "first-admin-in-admin",
            user_pool_id=self.user_pool.id,
            group_name=self.groups["admin"].name,
            username=admin.username,
            opts=child,
        )
        self.register_outputs({"userPoolId": self.user_pool.id, "clientId": self.client.id})
