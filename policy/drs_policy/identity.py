"""Identity rules: no IAM statement grants every action, or passes any role."""

from __future__ import annotations

import re

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from drs_policy.context import (
    DEPLOYMENTS_SCHEMA,
    as_list,
    facts_for,
    policy_statements,
    unknown_stack_message,
)
from drs_policy.isolation import IAM_POLICY_PROPERTIES

#: Roles carry their trust policy in ``assumeRolePolicy``; it is checked like the others.
_DOCUMENT_PROPERTIES = {**IAM_POLICY_PROPERTIES, "aws:iam/role:Role": "assumeRolePolicy"}


def _allow_statements(args: ResourceValidationArgs) -> list[tuple[int, dict]]:
    prop = _DOCUMENT_PROPERTIES.get(args.resource_type)
    if prop is None:
        return []
    return [
        (index, statement)
        for index, statement in enumerate(policy_statements(args.props.get(prop)))
        if statement.get("Effect") == "Allow"
    ]


def validate_no_wildcard_actions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for index, statement in _allow_statements(args):
        for action in (str(a) for a in as_list(statement.get("Action"))):
            if action == "*" or action.endswith(":*"):
                report(f"statement {index} allows every action with '{action}'", None)


def validate_no_passrole_on_wildcard(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for index, statement in _allow_statements(args):
        actions = {str(a).lower() for a in as_list(statement.get("Action"))}
        passes_role = actions & {"iam:passrole", "iam:*", "*"}
        if passes_role and "*" in [str(r) for r in as_list(statement.get("Resource"))]:
            report(f"statement {index} allows iam:PassRole on '*'", None)


GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
SUBJECT_PATTERN = re.compile(
    r"^repo:[A-Za-z0-9-]+/[A-Za-z0-9._-]+:(ref:refs/heads/[^*?]+|environment:[^*?]+|pull_request)$"
)


def validate_ci_trust(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "aws:iam/role:Role":
        return
    repository = args.get_config().get("repository")
    for index, statement in enumerate(policy_statements(args.props.get("assumeRolePolicy"))):
        principal = statement.get("Principal") or {}
        federated = as_list(principal.get("Federated") if isinstance(principal, dict) else None)
        if statement.get("Effect") != "Allow" or not any(
            GITHUB_OIDC_HOST in str(f) for f in federated
        ):
            continue
        condition = statement.get("Condition") or {}
        equals = condition.get("StringEquals") or {}
        if equals.get(f"{GITHUB_OIDC_HOST}:aud") != "sts.amazonaws.com":
            report(
                f"statement {index} does not pin {GITHUB_OIDC_HOST}:aud to sts.amazonaws.com", None
            )
        for operator, claims in sorted(condition.items()):
            if operator != "StringEquals" and any(GITHUB_OIDC_HOST in k for k in claims):
                report(
                    f"statement {index} matches GitHub token claims with {operator}; only "
                    "StringEquals keeps wildcards out",
                    None,
                )
        subjects = [str(s) for s in as_list(equals.get(f"{GITHUB_OIDC_HOST}:sub"))]
        if not subjects:
            report(
                f"statement {index} does not pin {GITHUB_OIDC_HOST}:sub; any repository "
                "and branch could assume the role",
                None,
            )
        for subject in subjects:
            if not SUBJECT_PATTERN.fullmatch(subject):
                report(
                    f"statement {index} trusts '{subject}', which is not one repository's "
                    "branch, environment or pull requests",
                    None,
                )
            elif repository and not subject.startswith(f"repo:{repository}:"):
                report(
                    f"statement {index} trusts '{subject}', outside repository '{repository}'", None
                )


ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/(?P<name>[\w+=,.@/-]+)$")


def validate_aws_principal_trust(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A role that AWS principals may assume (a DRS target account's role) trusts named
    roles of its own deployment only, and only with an external id."""
    if args.resource_type != "aws:iam/role:Role":
        return
    for index, statement in enumerate(policy_statements(args.props.get("assumeRolePolicy"))):
        principal = statement.get("Principal")
        if statement.get("Effect") != "Allow":
            continue
        if principal == "*":
            report(f"statement {index} trusts every principal ('*')", None)
            continue
        trusted = [
            str(p) for p in as_list(principal.get("AWS") if isinstance(principal, dict) else None)
        ]
        if not trusted:
            continue
        facts = facts_for(args.urn, args.get_config())
        if facts is None:
            report(unknown_stack_message(args.urn), None)
            return
        for arn in trusted:
            match = ROLE_ARN.fullmatch(arn)
            if match is None:
                report(
                    f"statement {index} trusts '{arn}': not one role (an account, its root or "
                    "'*' lets any of its principals in)",
                    None,
                )
            elif not match["name"].startswith(f"{facts.deployment_name}-"):
                report(
                    f"statement {index} trusts '{arn}', a role of another deployment than "
                    f"'{facts.deployment_name}'",
                    None,
                )
        equals = (statement.get("Condition") or {}).get("StringEquals") or {}
        if not str(equals.get("sts:ExternalId") or ""):
            report(f"statement {index} lets AWS principals in without an sts:ExternalId", None)


no_wildcard_actions = ResourceValidationPolicy(
    name="iam-no-wildcard-actions",
    description="No IAM statement allows '*' or a whole service ('service:*').",
    validate=validate_no_wildcard_actions,
    enforcement_level=EnforcementLevel.MANDATORY,
)
no_passrole_on_wildcard = ResourceValidationPolicy(
    name="iam-no-passrole-on-wildcard",
    description="No IAM statement allows iam:PassRole on every role.",
    validate=validate_no_passrole_on_wildcard,
    enforcement_level=EnforcementLevel.MANDATORY,
)

ci_trust_pinned = ResourceValidationPolicy(
    name="ci-role-trust-pinned",
    description="Roles trusting GitHub's OIDC tokens pin the audience and exact subjects.",
    validate=validate_ci_trust,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "repository": {"type": "string", "description": "owner/name every subject must name"},
        }
    ),
)

aws_principal_trust_pinned = ResourceValidationPolicy(
    name="target-role-trust-pinned",
    description=(
        "A role AWS principals may assume trusts named roles of its own deployment only, "
        "never '*' or an account, and requires an external id."
    ),
    validate=validate_aws_principal_trust,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(properties=DEPLOYMENTS_SCHEMA),
)

POLICIES = [
    no_wildcard_actions,
    no_passrole_on_wildcard,
    ci_trust_pinned,
    aws_principal_trust_pinned,
]
