"""Identity rules: no IAM statement grants every action, or passes any role."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from drs_policy.context import as_list, policy_statements
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

POLICIES = [no_wildcard_actions, no_passrole_on_wildcard]
