"""Storage rules: S3 buckets and DynamoDB tables are private, encrypted and recoverable.

S3 settings live in companion resources (public access block, encryption, versioning,
bucket policy) that name their bucket, so the bucket rules look at the whole stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from drs_policy.context import DEPLOYMENTS_SCHEMA, facts_for, policy_statements

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
VERSIONING_TYPES = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
#: Tag that marks a bucket as holding artifacts or state, which must be versioned.
PURPOSE_TAG_KEY = "drs-orchestrator:purpose"
VERSIONED_PURPOSES = ("artifacts", "state")
PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


def _buckets(args: StackValidationArgs) -> list[PolicyResource]:
    return [r for r in args.resources if r.resource_type in BUCKET_TYPES]


def _companions(
    args: StackValidationArgs, types: Iterable[str], bucket: Any
) -> list[PolicyResource]:
    types = tuple(types)
    return [
        r for r in args.resources if r.resource_type in types and r.props.get("bucket") == bucket
    ]


def _bucket_rule(check: Callable[[StackValidationArgs, PolicyResource], str | None]):
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        for bucket in _buckets(args):
            problem = check(args, bucket)
            if problem:
                report(f"bucket '{bucket.props.get('bucket')}' {problem}", bucket.urn)

    return validate


def _public_access_blocked(args: StackValidationArgs, bucket: PolicyResource) -> str | None:
    blocks = _companions(args, [PUBLIC_ACCESS_BLOCK], bucket.props.get("bucket"))
    if not blocks:
        return "has no public access block"
    missing = [f for f in PUBLIC_ACCESS_FLAGS if blocks[0].props.get(f) is not True]
    return f"public access block leaves {', '.join(missing)} off" if missing else None


def _encrypted(args: StackValidationArgs, bucket: PolicyResource) -> str | None:
    if bucket.props.get("serverSideEncryptionConfiguration"):
        return None
    if _companions(args, ENCRYPTION_TYPES, bucket.props.get("bucket")):
        return None
    return "has no server-side encryption configuration"


def _must_be_versioned(args: StackValidationArgs, bucket: PolicyResource) -> bool:
    tags = bucket.props.get("tags") or {}
    if tags.get(PURPOSE_TAG_KEY) in VERSIONED_PURPOSES:
        return True
    facts = facts_for(bucket.urn, {})
    return bool(facts) and bucket.props.get("bucket") == facts.deployment_bucket


def _versioned(args: StackValidationArgs, bucket: PolicyResource) -> str | None:
    if not _must_be_versioned(args, bucket):
        return None
    for versioning in _companions(args, VERSIONING_TYPES, bucket.props.get("bucket")):
        configuration = versioning.props.get("versioningConfiguration") or {}
        if configuration.get("status") == "Enabled":
            return None
    return "holds artifacts or state and is not versioned"


def _denies_insecure_transport(args: StackValidationArgs, bucket: PolicyResource) -> str | None:
    for policy in _companions(args, [BUCKET_POLICY], bucket.props.get("bucket")):
        for statement in policy_statements(policy.props.get("policy")):
            condition = statement.get("Condition") or {}
            secure = (condition.get("Bool") or {}).get("aws:SecureTransport")
            if statement.get("Effect") == "Deny" and str(secure).lower() == "false":
                return None
    return "has no bucket policy denying requests without TLS (aws:SecureTransport false)"


def validate_table_recoverable(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "aws:dynamodb/table:Table":
        return
    pitr = args.props.get("pointInTimeRecovery") or {}
    if pitr.get("enabled") is not True:
        report("point-in-time recovery is not enabled", None)


def validate_table_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "aws:dynamodb/table:Table":
        return
    sse = args.props.get("serverSideEncryption") or {}
    if sse.get("enabled") is not True:
        report("server-side encryption with KMS is not enabled", None)


def validate_table_protected(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "aws:dynamodb/table:Table":
        return
    facts = facts_for(args.urn, args.get_config())
    if facts is None or not facts.protect_data:
        return
    if args.props.get("deletionProtectionEnabled") is not True:
        report("the stack sets protectData but deletion protection is off", None)
    if not args.opts.protect:
        report("the stack sets protectData but the resource is not Pulumi-protected", None)


def _stack_policy(name: str, description: str, check) -> StackValidationPolicy:
    return StackValidationPolicy(
        name=name,
        description=description,
        validate=_bucket_rule(check),
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def _table_policy(name: str, description: str, validate, schema=None) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=schema,
    )


POLICIES = [
    _stack_policy(
        "s3-public-access-blocked",
        "Every S3 bucket has a public access block with all four settings on.",
        _public_access_blocked,
    ),
    _stack_policy(
        "s3-encrypted", "Every S3 bucket has server-side encryption configured.", _encrypted
    ),
    _stack_policy(
        "s3-artifact-buckets-versioned",
        "S3 buckets that hold artifacts or state are versioned.",
        _versioned,
    ),
    _stack_policy(
        "s3-deny-insecure-transport",
        "Every S3 bucket's policy denies requests made without TLS.",
        _denies_insecure_transport,
    ),
    _table_policy(
        "dynamodb-point-in-time-recovery",
        "Every DynamoDB table has point-in-time recovery.",
        validate_table_recoverable,
    ),
    _table_policy(
        "dynamodb-encrypted",
        "Every DynamoDB table has server-side encryption on.",
        validate_table_encrypted,
    ),
    _table_policy(
        "dynamodb-deletion-protection",
        "With protectData, tables have deletion protection and Pulumi protect.",
        validate_table_protected,
        PolicyConfigSchema(properties=DEPLOYMENTS_SCHEMA),
    ),
]
