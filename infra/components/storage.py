"""Guards every bucket of the project carries: owner-enforced objects, no public access,
encryption at rest. Shared by the deployment bucket (bootstrap) and the console bucket."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi_aws as aws

if TYPE_CHECKING:
    import pulumi


def private_bucket(
    prefix: str, bucket: pulumi.Input[str], opts: pulumi.ResourceOptions, sse_algorithm: str
) -> None:
    """Ownership controls, public access block and default encryption for ``bucket``.

    ``sse_algorithm`` is ``aws:kms`` where only IAM principals read (the deployment bucket),
    ``AES256`` where CloudFront reads through origin access control (the console bucket:
    SSE-KMS would need CloudFront in a key policy for files that are public anyway).
    """
    aws.s3.BucketOwnershipControls(
        f"{prefix}-ownership",
        bucket=bucket,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=opts,
    )
    aws.s3.BucketPublicAccessBlock(
        f"{prefix}-public-access",
        bucket=bucket,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{prefix}-encryption",
        bucket=bucket,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm=sse_algorithm
                ),
                bucket_key_enabled=sse_algorithm == "aws:kms",
            )
        ],
        opts=opts,
    )


def deny_insecure_transport(bucket_arn: str) -> dict[str, object]:
    """The bucket policy statement refusing any request made without TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
