"""The audit trail is append-only: no role of the stack may change or remove a record, and
the table's own resource policy denies that to every principal.

A record is only ever put (``dynamodb:PutItem``, conditional on the key being new) and read.
Every IAM policy of the stack is read for an Allow of a write that could change or remove
one — ``UpdateItem``, ``DeleteItem``, ``BatchWriteItem`` (which deletes too), PartiQL's
``UPDATE``/``DELETE`` — on the audit table, whether named, matched by a wildcard or ``*``;
and the table must carry a resource policy denying those same actions to ``*``. A put over
an existing record is the one change IAM cannot tell from an append (no condition key sees
the request's condition expression): the runtime's put is conditional, and point-in-time
recovery keeps every earlier state.

Policy documents built from outputs are unknown at preview; the rule checks what it can
read then, and everything when the stack policy runs after ``pulumi up``.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from drs_policy.context import as_list, policy_statements
from drs_policy.isolation import IAM_POLICY_PROPERTIES

TABLE = "aws:dynamodb/table:Table"
RESOURCE_POLICY = "aws:dynamodb/resourcePolicy:ResourcePolicy"
#: The audit table's short name (``infra/tables.py`` AUDIT): its name ends with it.
AUDIT_SUFFIX = "-audit"
#: Writes that change or remove an existing item (lower case, as matched).
CHANGING_WRITES = (
    "dynamodb:batchwriteitem",
    "dynamodb:deleteitem",
    "dynamodb:partiqldelete",
    "dynamodb:partiqlupdate",
    "dynamodb:updateitem",
)


def _audit_tables(args: StackValidationArgs) -> list[PolicyResource]:
    return [
        r
        for r in args.resources
        if r.resource_type == TABLE and str(r.props.get("name") or "").endswith(AUDIT_SUFFIX)
    ]


def _arn(table: PolicyResource) -> str:
    """The table's ARN once known; before that, one with a stand-in region and account
    (a statement naming this table's region and account is matched by its table part)."""
    return str(table.props.get("arn") or f"arn:aws:dynamodb:*:*:table/{table.props.get('name')}")


def _covers(pattern: str, table: PolicyResource) -> bool:
    """Whether an IAM resource pattern covers the table itself (its indexes are not the
    table: nothing is written through an index ARN)."""
    if pattern == "*":
        return True
    name = str(table.props.get("name"))
    if ":table/" in pattern:
        return fnmatchcase(name, pattern.split(":table/", 1)[1])
    return fnmatchcase(_arn(table), pattern)


def _names(arn: Any, table: PolicyResource) -> bool:
    """Whether a resource policy's ARN is the table's (unknown at preview: assumed)."""
    return arn is None or str(arn).endswith(f":table/{table.props.get('name')}")


def _changing(actions: list[Any]) -> list[str]:
    """The changing writes an Allow's actions grant (wildcards expanded)."""
    granted = [str(a).lower() for a in actions]
    return sorted(w for w in CHANGING_WRITES if any(fnmatchcase(w, g) for g in granted))


def _denies_changes(policy: Any) -> bool:
    for statement in policy_statements(policy):
        principal = statement.get("Principal")
        everyone = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*")
        denied = {str(a).lower() for a in as_list(statement.get("Action"))}
        if statement.get("Effect") == "Deny" and everyone and set(CHANGING_WRITES) <= denied:
            return True
    return False


def validate_audit_trail_append_only(args: StackValidationArgs, report: ReportViolation) -> None:
    for table in _audit_tables(args):
        name = table.props.get("name")
        for resource in args.resources:
            prop = IAM_POLICY_PROPERTIES.get(resource.resource_type)
            if prop is None:
                continue
            for index, statement in enumerate(policy_statements(resource.props.get(prop))):
                if statement.get("Effect") != "Allow":
                    continue
                writes = _changing(as_list(statement.get("Action")))
                patterns = [str(r) for r in as_list(statement.get("Resource"))]
                if writes and any(_covers(p, table) for p in patterns):
                    report(
                        f"{resource.name} statement {index} allows {', '.join(writes)} on the "
                        f"audit table {name}: its records may only be put and read",
                        resource.urn,
                    )
        guarded = [
            r
            for r in args.resources
            if r.resource_type == RESOURCE_POLICY
            and _names(r.props.get("resourceArn"), table)
            and _denies_changes(r.props.get("policy"))
        ]
        if not guarded:
            report(
                f"the audit table {name} has no resource policy denying every principal "
                f"{', '.join(CHANGING_WRITES)}",
                table.urn,
            )


POLICIES = [
    StackValidationPolicy(
        name="audit-trail-append-only",
        description=(
            "No IAM policy of the stack allows changing or removing an audit record, and the "
            "audit table's resource policy denies it to every principal."
        ),
        validate=validate_audit_trail_append_only,
        enforcement_level=EnforcementLevel.MANDATORY,
    )
]
