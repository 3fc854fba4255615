"""Isolation rules: what proves two deployments in one account cannot touch each other."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from drs_policy.context import (
    DEPLOYMENTS_SCHEMA,
    as_list,
    facts_for,
    is_taggable,
    known_stacks,
    mentions_other,
    other_deployment_names,
    policy_statements,
    stack_of,
    stacks_sharing_deployment,
    strings_in,
    unknown_stack_message,
)
from infra.iam import UNSCOPED_ACTIONS
from infra.naming import (
    DEPLOYMENT_TAG_KEY,
    PHYSICAL_NAME_INPUTS,
    PROJECT_TAG_KEY,
    SHORT_FORMS,
    STACK_TAG_KEY,
    physical_name,
)
from infra.stacks import PROJECT

_SCHEMA = PolicyConfigSchema(properties=DEPLOYMENTS_SCHEMA)
IAM_POLICY_PROPERTIES = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}


def _starts_with_deployment(name: str, deployment: str) -> bool:
    prefixes = [deployment, SHORT_FORMS.get(deployment)]
    return any(p and (name == p or name.startswith((f"{p}-", f"{p}/"))) for p in prefixes)


def validate_physical_names(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in PHYSICAL_NAME_INPUTS and not args.resource_type.startswith(
        "aws:s3/bucketObjectv2"
    ):
        return
    facts = facts_for(args.urn, args.get_config())
    if facts is None:
        report(unknown_stack_message(args.urn), None)
        return
    name = physical_name(args.resource_type, args.props)
    if not name:
        prop = PHYSICAL_NAME_INPUTS.get(args.resource_type, "name")
        report(
            f"'{prop}' is not set, so AWS or Pulumi would pick a name outside deployment "
            f"'{facts.deployment_name}'; derive it in infra/naming.py",
            None,
        )
    elif not _starts_with_deployment(name, facts.deployment_name):
        report(
            f"physical name '{name}' does not start with deployment name '{facts.deployment_name}'",
            None,
        )


def arn_resource_name(arn: str) -> str:
    """The name part of an ARN: ``arn:aws:dynamodb:r:a:table/NAME/index/x`` -> ``NAME/index/x``.

    S3 ARNs have no resource-type prefix (``arn:aws:s3:::BUCKET/key``).
    """
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return ""
    service, resource = parts[2], parts[5]
    if service == "s3":
        return resource
    return re.sub(r"^[A-Za-z-]+[/:]", "", resource, count=1)


def validate_deployment_tag(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_taggable(args.resource_type):
        return
    facts = facts_for(args.urn, args.get_config())
    if facts is None:
        report(unknown_stack_message(args.urn), None)
        return
    tags = args.props.get("tags") or {}
    expected = {
        DEPLOYMENT_TAG_KEY: facts.deployment_name,
        PROJECT_TAG_KEY: PROJECT,
        STACK_TAG_KEY: facts.stack,
    }
    for key, value in expected.items():
        if key not in tags:
            report(f"tag '{key}' is missing (expected '{value}')", None)
        elif tags[key] != value:
            report(f"tag '{key}' is '{tags[key]}', expected '{value}'", None)


def validate_iam_scope(args: ResourceValidationArgs, report: ReportViolation) -> None:
    prop = IAM_POLICY_PROPERTIES.get(args.resource_type)
    if prop is None:
        return
    facts = facts_for(args.urn, args.get_config())
    if facts is None:
        report(unknown_stack_message(args.urn), None)
        return
    for index, statement in enumerate(policy_statements(args.props.get(prop))):
        if statement.get("Effect") != "Allow":
            continue
        actions = [str(a) for a in as_list(statement.get("Action"))]
        for resource in (str(r) for r in as_list(statement.get("Resource"))):
            if resource == "*":
                unlisted = sorted(a for a in actions if a not in UNSCOPED_ACTIONS)
                if unlisted:
                    report(
                        f"statement {index} allows {', '.join(unlisted)} on '*'; only actions "
                        "in infra/iam.py UNSCOPED_ACTIONS (with their reason) may use '*'",
                        None,
                    )
            elif not _starts_with_deployment(arn_resource_name(resource), facts.deployment_name):
                report(
                    f"statement {index} names '{resource}', outside deployment "
                    f"'{facts.deployment_name}'",
                    None,
                )


def validate_no_cross_deployment_reference(
    args: ResourceValidationArgs, report: ReportViolation
) -> None:
    config = args.get_config()
    facts = facts_for(args.urn, config)
    own = facts.deployment_name if facts else ""
    others = other_deployment_names(own, config)
    for path, text in strings_in(args.props):
        other = mentions_other(text, own, others)
        if other:
            report(f"property '{path}' refers to deployment '{other}': '{text}'", None)


def validate_lambda_package_bucket(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "aws:lambda/function:Function":
        return
    facts = facts_for(args.urn, args.get_config())
    if facts is None:
        report(unknown_stack_message(args.urn), None)
        return
    bucket = args.props.get("s3Bucket")
    if bucket != facts.deployment_bucket:
        where = f"bucket '{bucket}'" if bucket else "an inline archive or image"
        report(
            f"code comes from {where}; it must come from the deployment's own bucket "
            f"'{facts.deployment_bucket}'",
            None,
        )


def validate_unique_names(args: StackValidationArgs, report: ReportViolation) -> None:
    claimed: dict[str, list[Any]] = defaultdict(list)
    for resource in args.resources:
        name = physical_name(resource.resource_type, resource.props)
        if name:
            claimed[f"{resource.resource_type} {name}"].append(resource)
    for key, resources in sorted(claimed.items()):
        if len(resources) > 1:
            names = ", ".join(r.name for r in resources)
            report(
                f"physical name {key} is claimed by {len(resources)} resources: {names}",
                resources[1].urn,
            )


def validate_deployment_name_unique(args: StackValidationArgs, report: ReportViolation) -> None:
    if not args.resources:
        return
    stack = stack_of(args.resources[0].urn)
    shared = stacks_sharing_deployment(stack, args.get_config())
    if shared:
        name = known_stacks(args.get_config())[stack].deployment_name
        report(
            f"stack '{stack}' uses deployment name '{name}', which stack(s) "
            f"{', '.join(shared)} also use; every stack needs its own",
            None,
        )


physical_names = ResourceValidationPolicy(
    name="physical-names-start-with-deployment",
    description="Every physical name starts with the deployment name of its stack.",
    validate=validate_physical_names,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=_SCHEMA,
)
deployment_tag = ResourceValidationPolicy(
    name="deployment-tag-on-taggable-resources",
    description="Every taggable resource carries the deployment, project and stack tags.",
    validate=validate_deployment_tag,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=_SCHEMA,
)
iam_scope = ResourceValidationPolicy(
    name="iam-resources-in-deployment-namespace",
    description="IAM statements name only this deployment's ARNs or allow-listed unscoped actions.",
    validate=validate_iam_scope,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=_SCHEMA,
)
no_cross_reference = ResourceValidationPolicy(
    name="no-cross-deployment-references",
    description="No property of any resource mentions another deployment's name or ARN.",
    validate=validate_no_cross_deployment_reference,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=_SCHEMA,
)
lambda_package_bucket = ResourceValidationPolicy(
    name="lambda-code-from-own-bucket",
    description="Lambda code is deployed from this deployment's own bucket.",
    validate=validate_lambda_package_bucket,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=_SCHEMA,
)
deployment_name_unique = StackValidationPolicy(
    name="deployment-name-unique",
    description="No two stacks of the project share a deployment name.",
    validate=validate_deployment_name_unique,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=_SCHEMA,
)
unique_names = StackValidationPolicy(
    name="unique-physical-names",
    description="Within one stack, no two resources claim the same physical name.",
    validate=validate_unique_names,
    enforcement_level=EnforcementLevel.MANDATORY,
)

POLICIES = [
    physical_names,
    deployment_tag,
    iam_scope,
    no_cross_reference,
    lambda_package_bucket,
    unique_names,
    deployment_name_unique,
]
