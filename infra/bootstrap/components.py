"""Bootstrap components: the deployment bucket, and the CI roles GitHub Actions assumes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra import iam
from infra.bootstrap import permissions
from infra.bootstrap.settings import (
    GITHUB_OIDC_HOST,
    GITHUB_OIDC_URL,
    OIDC_AUDIENCE,
    BootstrapSettings,
)
from infra.components.storage import deny_insecure_transport, private_bucket
from infra.naming import REPORTS_PREFIX

#: Object actions the bucket policy denies to every principal but the CI roles and admins.
DATA_ACTIONS = [
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:ListBucket",
    "s3:ListBucketVersions",
]


@dataclass
class DeploymentBucketArgs:
    settings: BootstrapSettings
    """Validated bootstrap settings of the deployment."""
    reader_arns: list[pulumi.Input[str]]
    """Principals that may read and write objects (the CI roles, then the admins)."""
    report_arns: list[pulumi.Input[str]] = field(default_factory=list)
    """The deployment's function roles that keep execution reports under ``reports/``
    (there and nowhere else; their own policies say which of them writes and which reads)."""


class DeploymentBucket(pulumi.ComponentResource):
    """Versioned, encrypted, private bucket for packages and state; survives ``destroy``."""

    bucket: aws.s3.Bucket

    def __init__(
        self, name: str, args: DeploymentBucketArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("drs-orchestrator:bootstrap:DeploymentBucket", name, None, opts)
        settings = args.settings.deployment
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(
            "deployment-bucket",
            bucket=settings.deployment_bucket,
            tags=settings.naming.tags({"drs-orchestrator:purpose": "artifacts"}),
            # The bucket holds every package and, optionally, the state: neither a destroy nor
            # a replacement may take that history with it.
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
        )
        # The name, not the id: it is known at preview, so the policy pack can match it.
        bucket_id = self.bucket.bucket
        private_bucket("deployment-bucket", bucket_id, child, sse_algorithm="aws:kms")
        versioning = aws.s3.BucketVersioning(
            "deployment-bucket-versioning",
            bucket=bucket_id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            "deployment-bucket-lifecycle",
            bucket=bucket_id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-noncurrent-versions",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=args.settings.noncurrent_version_days
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                ),
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        partition = settings.partition
        bucket_arn = f"arn:{partition}:s3:::{settings.deployment_bucket}"
        reports_arn = f"{bucket_arn}/{REPORTS_PREFIX}*"
        readers_count = len(args.reader_arns)
        policy = pulumi.Output.all(*args.reader_arns, *args.report_arns).apply(
            lambda arns: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        deny_insecure_transport(bucket_arn),
                        {
                            "Sid": "OnlyThisDeploymentsCiAndAdmins",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": DATA_ACTIONS,
                            # The bucket and every object but the reports.
                            "NotResource": [reports_arn],
                            "Condition": {
                                "ArnNotEquals": {"aws:PrincipalArn": sorted(arns[:readers_count])}
                            },
                        },
                        {
                            "Sid": "ReportsOnlyToThisDeploymentsFunctions",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": DATA_ACTIONS,
                            "Resource": [reports_arn],
                            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": sorted(arns)}},
                        },
                    ],
                }
            )
        )
        aws.s3.BucketPolicy("deployment-bucket-policy", bucket=bucket_id, policy=policy, opts=child)
        self.register_outputs({"bucketName": self.bucket.bucket})


@dataclass
class CiRolesArgs:
    settings: BootstrapSettings
    """Validated bootstrap settings: repository, branch, environment, OIDC provider."""
    account_id: pulumi.Input[str]
    """The account the roles live in (for ARNs of this deployment's resources)."""


class CiRoles(pulumi.ComponentResource):
    """GitHub's OIDC provider (created or referenced) and the deploy and preview roles."""

    def __init__(self, name: str, args: CiRolesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("drs-orchestrator:bootstrap:CiRoles", name, None, opts)
        settings = args.settings
        deployment = settings.deployment
        names, tags = deployment.naming, deployment.naming.tags()
        child = pulumi.ResourceOptions(parent=self)
        partition = deployment.partition

        if settings.oidc_provider == "create":
            provider = aws.iam.OpenIdConnectProvider(
                "github-oidc-provider",
                url=GITHUB_OIDC_URL,
                client_id_lists=[OIDC_AUDIENCE],
                tags=tags,
                opts=child,
            )
            self.oidc_provider_arn: pulumi.Output[str] = provider.arn
        elif settings.oidc_provider == "existing":
            self.oidc_provider_arn = pulumi.Output.concat(
                "arn:", partition, ":iam::", args.account_id, ":oidc-provider/", GITHUB_OIDC_HOST
            )
        else:
            self.oidc_provider_arn = pulumi.Output.from_input(settings.oidc_provider)

        def role(purpose: str, subjects: list[str], statements) -> aws.iam.Role:
            created = aws.iam.Role(
                f"ci-{purpose}-role",
                name=names.ci_role(purpose),
                description=f"GitHub Actions {purpose} of {deployment.deployment_name} only.",
                assume_role_policy=self.oidc_provider_arn.apply(
                    lambda arn: trust_policy(arn, subjects)
                ),
                max_session_duration=3600,
                tags=tags,
                opts=child,
            )
            aws.iam.RolePolicy(
                f"ci-{purpose}-policy",
                name=names.ci_role_policy(purpose),
                role=created.id,
                policy=statements,
                opts=child,
            )
            return created

        bucket = deployment.deployment_bucket
        self.deploy_role = role(
            "deploy",
            settings.deploy_subjects,
            pulumi.Output.from_input(args.account_id).apply(
                lambda account: iam.document(
                    permissions.deploy_statements(
                        partition, deployment.region, account, deployment.deployment_name, bucket
                    )
                )
            ),
        )
        self.preview_role = role(
            "preview",
            settings.preview_subjects,
            iam.document(permissions.preview_statements(partition, bucket)),
        )
        self.register_outputs(
            {
                "deployRoleArn": self.deploy_role.arn,
                "previewRoleArn": self.preview_role.arn,
                "oidcProviderArn": self.oidc_provider_arn,
            }
        )


def trust_policy(provider_arn: str, subjects: list[str]) -> str:
    """Trust for GitHub's OIDC tokens of exactly these subjects, for STS as audience."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{GITHUB_OIDC_HOST}:aud": OIDC_AUDIENCE,
                            f"{GITHUB_OIDC_HOST}:sub": sorted(subjects),
                        }
                    },
                }
            ],
        }
    )


#: AWS's managed policy for the account-level role API Gateway writes access logs with.
API_GATEWAY_LOGS_POLICY = (
    "arn:{partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
)


class ApiGatewayAccount(pulumi.ComponentResource):
    """The account's API Gateway CloudWatch role, without which no stage can write access
    logs. One setting per account and region: one bootstrap stack manages it."""

    def __init__(
        self, name: str, settings: BootstrapSettings, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("drs-orchestrator:bootstrap:ApiGatewayAccount", name, None, opts)
        deployment = settings.deployment
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            "apigateway-logs-role",
            name=deployment.naming.apigateway_logs_role(),
            assume_role_policy=iam.assume_role_policy("apigateway.amazonaws.com"),
            description="API Gateway's account-level role for writing access logs.",
            tags=deployment.naming.tags(),
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            "apigateway-logs-policy",
            role=role.name,
            policy_arn=API_GATEWAY_LOGS_POLICY.format(partition=deployment.partition),
            opts=child,
        )
        aws.apigateway.Account("apigateway-account", cloudwatch_role_arn=role.arn, opts=child)
        self.register_outputs({"roleArn": role.arn})
