"""``audit-trail-append-only`` over the whole program: the real stacks pass; a role allowed
to change or remove audit records, by name, wildcard action or ``*``, and an audit table
without its denying resource policy, are caught."""

from __future__ import annotations

import json
from typing import Any

import pytest
from drs_policy.offline import evaluate_stack

from infra.offline import evaluate
from tests.infra.conftest import STACKS, evaluated

RULE = "audit-trail-append-only"
TABLE = "aws-elasticdrs-orchestrator-dev-audit"


def found(stack: str = "dev") -> list[str]:
    return [v.message for v in evaluate_stack(evaluate(stack)) if v.policy == RULE]


@pytest.mark.parametrize("stack", STACKS)
def test_the_real_stacks_keep_the_trail_append_only(stack: str) -> None:
    assert [v for v in evaluate_stack(evaluated(stack)) if v.policy == RULE] == []


@pytest.mark.parametrize(
    ("extra", "resources", "named"),
    [
        (["dynamodb:UpdateItem"], None, "dynamodb:updateitem"),
        (["dynamodb:Delete*"], None, "dynamodb:deleteitem"),
        (["dynamodb:BatchWriteItem"], "*", "dynamodb:batchwriteitem"),
        (["dynamodb:PartiQL*"], "table-wildcard", "dynamodb:partiqldelete, dynamodb:partiqlupdate"),
    ],
)
def test_a_role_allowed_to_change_audit_records_is_caught(
    monkeypatch: pytest.MonkeyPatch, extra: list[str], resources: Any, named: str
) -> None:
    from infra import iam

    real = iam.statement

    def statement(actions: list[str], on: Any) -> dict[str, Any]:
        if actions == ["dynamodb:PutItem", "dynamodb:Query"]:  # the API's on the audit table
            actions = [*actions, *extra]
            if resources == "*":
                on = "*"
            elif resources == "table-wildcard":
                on = ["arn:aws:dynamodb:us-east-1:123456789012:table/aws-elasticdrs-*"]
        return real(actions, on)

    monkeypatch.setattr("infra.components.orchestrator.iam.statement", statement)
    [message] = [m for m in found() if "statement" in m]
    assert message.startswith("api-policy statement ")
    assert message.endswith(
        f"allows {named} on the audit table {TABLE}: its records may only be put and read"
    )


def test_an_audit_table_without_its_denying_resource_policy_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from infra.components import datastore

    strict = datastore.audit_table_policy

    def lenient(table_arn: str) -> str:
        document = json.loads(strict(table_arn))
        document["Statement"][0]["Action"].remove("dynamodb:UpdateItem")
        return json.dumps(document)

    monkeypatch.setattr(datastore, "audit_table_policy", lenient)
    assert found() == [
        f"the audit table {TABLE} has no resource policy denying every principal "
        "dynamodb:batchwriteitem, dynamodb:deleteitem, dynamodb:partiqldelete, "
        "dynamodb:partiqlupdate, dynamodb:updateitem"
    ]
