"""The bootstrap Pulumi program, as a function (evaluated per stack by tests and drsctl)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.bootstrap import permissions
from infra.bootstrap import settings as bootstrap_settings
from infra.bootstrap.components import (
    ApiGatewayAccount,
    CiRoles,
    CiRolesArgs,
    DeploymentBucket,
    DeploymentBucketArgs,
)
from infra.functions import API, EXECUTION_FINDER

#: The functions that keep execution reports in the bucket: the finder's janitor writes
#: them, the API signs their download links.
REPORT_FUNCTIONS = (EXECUTION_FINDER, API)


@dataclass
class Bootstrap:
    """What the program built, with the outputs it exports."""

    outputs: dict[str, Any] = field(default_factory=dict)


def secret_suffix(stack: str) -> str:
    """``archive-test`` -> ``ARCHIVE_TEST``: how a stack is named in repository secrets."""
    return stack.upper().replace("-", "_")


def build() -> Bootstrap:
    settings = bootstrap_settings.from_pulumi()  # raises before any resource is declared
    deployment = settings.deployment
    account = aws.get_caller_identity_output().account_id
    roles = CiRoles("ci", CiRolesArgs(settings=settings, account_id=account))
    bucket = DeploymentBucket(
        "deployment",
        DeploymentBucketArgs(
            settings=settings,
            reader_arns=[
                roles.deploy_role.arn,
                roles.preview_role.arn,
                *settings.admin_principal_arns,
            ],
            # The deployment's stack declares these roles; their names are known now.
            report_arns=[
                pulumi.Output.concat(
                    "arn:",
                    deployment.partition,
                    ":iam::",
                    account,
                    ":role/",
                    deployment.naming.function_role(spec.function),
                )
                for spec in REPORT_FUNCTIONS
            ],
        ),
    )
    if settings.manage_api_gateway_account:
        ApiGatewayAccount("apigateway-account", settings)
    backend = (
        f"s3://{deployment.deployment_bucket}/{permissions.STATE_PREFIX}?region={deployment.region}"
    )
    suffix = secret_suffix(deployment.stack)
    # Deploy jobs run in the stack's GitHub environment and read its secrets; pull-request
    # previews run in no environment (their OIDC subject is pull_request), so their values
    # are repository secrets named per stack.
    environment_secrets: dict[str, Any] = {"AWS_DEPLOY_ROLE_ARN": roles.deploy_role.arn}
    repository_secrets: dict[str, Any] = {f"AWS_PREVIEW_ROLE_ARN_{suffix}": roles.preview_role.arn}
    if settings.store_pulumi_state:
        environment_secrets["PULUMI_BACKEND_URL"] = backend
        repository_secrets[f"PULUMI_BACKEND_URL_{suffix}"] = backend
    built = Bootstrap(
        outputs={
            "deploymentName": deployment.deployment_name,
            "region": deployment.region,
            "bucketName": bucket.bucket.bucket,
            "deployRoleArn": roles.deploy_role.arn,
            "previewRoleArn": roles.preview_role.arn,
            "oidcProviderArn": roles.oidc_provider_arn,
            "githubEnvironment": settings.environment,
            "githubEnvironmentSecrets": pulumi.Output.all(**environment_secrets),
            "githubRepositorySecrets": pulumi.Output.all(**repository_secrets),
        }
    )
    for name, value in built.outputs.items():
        pulumi.export(name, value)
    return built
