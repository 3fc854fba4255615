"""The operator console: its build output in a private bucket, served by CloudFront.

CloudFront reads the bucket through origin access control (the bucket stays private and
refuses requests without TLS); viewers are redirected to HTTPS and get AWS's managed
security headers. One build serves every stack: ``config.json`` beside it tells the console
its API URL and user pool, and always asks for Cognito sign-in (the sandbox's local sign-in
exists only in ``drsctl sandbox``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from infra.components.storage import deny_insecure_transport, private_bucket
from infra.console import CONFIG_FILE, REVALIDATE, console_files

if TYPE_CHECKING:
    from pathlib import Path

    from infra.naming import Naming

#: AWS managed policies (ids are global constants): cache by content for hashed assets,
#: and the standard security headers (HSTS, nosniff, frame options, referrer policy).
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
SECURITY_HEADERS_POLICY_ID = "67f7725c-6f97-4210-82d7-5512b31e9d03"
ORIGIN_ID = "console-bucket"


@dataclass
class FrontendArgs:
    naming: Naming
    """The deployment's names, tags, stack and deployment name."""
    region: str
    """Where the API and the user pool the console signs in to live."""
    partition: str
    """The region's partition, for the bucket's ARN."""
    build_dir: Path
    """The console's build output (``infra.console.build_console``)."""
    api_url: pulumi.Input[str]
    user_pool_id: pulumi.Input[str]
    user_pool_client_id: pulumi.Input[str]


def console_config(
    naming: Naming, region: str, api_url: str, user_pool_id: str, client_id: str
) -> dict[str, object]:
    """What the deployed console reads from ``config.json``: Cognito sign-in, always."""
    return {
        "stack": naming.stack,
        "deploymentName": naming.deployment,
        "region": region,
        "apiUrl": api_url,
        "auth": {"mode": "cognito", "userPoolId": user_pool_id, "userPoolClientId": client_id},
    }


class Frontend(pulumi.ComponentResource):
    """Console bucket, origin access control, distribution, bucket policy, files, config."""

    bucket: aws.s3.Bucket
    distribution: aws.cloudfront.Distribution
    url: pulumi.Output[str]

    def __init__(self, name: str, args: FrontendArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("drs-orchestrator:frontend:Frontend", name, None, opts)
        naming = args.naming
        child = pulumi.ResourceOptions(parent=self)
        bucket_name = naming.console_bucket()
        self.bucket = aws.s3.Bucket(
            "console-bucket",
            bucket=bucket_name,
            # Build output only: everything in it is rebuilt from the repository.
            force_destroy=True,
            tags=naming.tags({"drs-orchestrator:purpose": "console"}),
            opts=child,
        )
        bucket_id = self.bucket.bucket
        private_bucket("console-bucket", bucket_id, child, sse_algorithm="AES256")
        access = aws.cloudfront.OriginAccessControl(
            "console-access-control",
            name=naming.console_access_control(),
            description=f"CloudFront reads the console of {naming.deployment}",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=child,
        )
        self.distribution = aws.cloudfront.Distribution(
            "console-distribution",
            comment=f"{naming.deployment} operator console",
            enabled=True,
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class="PriceClass_100",
            default_root_object="index.html",
            origins=[
                aws.cloudfront.DistributionOriginArgs(
                    origin_id=ORIGIN_ID,
                    domain_name=self.bucket.bucket_regional_domain_name,
                    origin_access_control_id=access.id,
                )
            ],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=ORIGIN_ID,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=["GET", "HEAD"],
                cached_methods=["GET", "HEAD"],
                compress=True,
                cache_policy_id=CACHING_OPTIMIZED_POLICY_ID,
                response_headers_policy_id=SECURITY_HEADERS_POLICY_ID,
            ),
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(
                    restriction_type="none"
                )
            ),
            viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
                cloudfront_default_certificate=True
            ),
            tags=naming.tags(),
            opts=child,
        )
        bucket_arn = f"arn:{args.partition}:s3:::{bucket_name}"
        aws.s3.BucketPolicy(
            "console-bucket-policy",
            bucket=bucket_id,
            policy=self.distribution.arn.apply(
                lambda distribution_arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            deny_insecure_transport(bucket_arn),
                            {
                                "Sid": "OnlyThisConsolesDistributionReads",
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudfront.amazonaws.com"},
                                "Action": "s3:GetObject",
                                "Resource": f"{bucket_arn}/*",
                                "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
                            },
                        ],
                    }
                )
            ),
            opts=child,
        )
        for item in console_files(args.build_dir):
            aws.s3.BucketObjectv2(
                f"console-{item.key}",
                bucket=bucket_id,
                key=item.key,
                source=pulumi.FileAsset(str(item.path)),
                content_type=item.content_type,
                cache_control=item.cache_control,
                tags=naming.tags(),
                opts=child,
            )
        config = pulumi.Output.all(args.api_url, args.user_pool_id, args.user_pool_client_id).apply(
            lambda values: json.dumps(console_config(naming, args.region, *values), indent=2)
        )
        aws.s3.BucketObjectv2(
            "console-config",
            bucket=bucket_id,
            key=CONFIG_FILE,
            content=config,
            content_type="application/json",
            cache_control=REVALIDATE,
            tags=naming.tags(),
            opts=child,
        )
        self.url = pulumi.Output.concat("https://", self.distribution.domain_name)
        self.register_outputs({"consoleUrl": self.url, "consoleBucket": bucket_id})
