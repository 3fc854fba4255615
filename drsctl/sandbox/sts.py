"""The sandbox's STS holds every AssumeRole to the role's trust policy, as IAM does.

moto's STS hands out credentials for any role to anyone. In AWS a DRS target's role is
assumed only by the deployment's function roles, and only with the target's external id
(``infra/target/program.py`` ``trust_document``); a wrong external id, or a principal the
role does not trust (another deployment's function, an operator's own key), is refused
with ``AccessDenied``. Here each function calls AWS with an access key of its own
(``principal_of``), so the sandbox knows which role is asking, and this check answers the
AssumeRole before moto does.

The trust policy is read by the sandbox's one IAM evaluator (``drsctl/sandbox/iam.py``
``resource_policy_allows``): an allow on ``sts:AssumeRole`` whose ``Principal.AWS`` names
the caller's role (or its account's root) and whose conditions (``sts:ExternalId``) hold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from drsctl.sandbox.iam import resource_policy_allows


def trusts(document: dict[str, Any], principal: str, context: dict[str, str]) -> bool:
    """Whether the trust policy ``document`` lets ``principal`` assume the role with the
    request's ``context`` (``sts:ExternalId``), as IAM reads it (``resource_policy_allows``)."""
    given = {key.lower(): [value] for key, value in context.items()}
    return resource_policy_allows(document, "sts:AssumeRole", principal, given)


@dataclass
class TrustChecker:
    """Every AssumeRole through the gateway, held to the role's trust policy."""

    #: Access key id -> the role ARN it acts as (each function's own).
    principals: dict[str, str] = field(default_factory=dict)
    #: What was refused, newest last (``/sandbox/state`` shows it).
    refused: list[str] = field(default_factory=list)

    def refusal(self, access_key: str, body: str) -> str | None:
        """Why an AssumeRole request must be refused, or None to let moto answer it."""
        params = {k: v[0] for k, v in parse_qs(body).items()}
        if params.get("Action") != "AssumeRole":
            return None
        role_arn = unquote(params.get("RoleArn", ""))
        principal = self.principals.get(access_key, f"access key {access_key}")
        document = _trust_of(role_arn)
        if document is None:
            return None  # no such role: moto answers as AWS would
        context = {"sts:ExternalId": params.get("ExternalId", "")}
        if trusts(document, principal, context):
            return None
        reason = (
            f"User: {principal} is not authorized to perform: sts:AssumeRole on resource: "
            f"{role_arn}"
        )
        self.refused.append(reason)
        return reason


def _trust_of(role_arn: str) -> dict[str, Any] | None:
    """The trust policy of ``role_arn`` as moto's IAM holds it."""
    from moto.iam.models import iam_backends

    parts = role_arn.split(":")
    if len(parts) < 6:
        return None
    backend = iam_backends[parts[4]]["global"]
    name = role_arn.rsplit("/", 1)[-1]
    for role in backend.get_roles():
        if role.name == name:
            document = role.assume_role_policy_document
            return json.loads(unquote(document)) if isinstance(document, str) else document
    return None


def access_denied(message: str) -> bytes:
    """STS's refusal (query protocol, XML), as botocore reads it."""
    return (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
        "<Type>Sender</Type><Code>AccessDenied</Code>"
        f"<Message>{message}</Message></Error><RequestId>sandbox</RequestId></ErrorResponse>"
    ).encode()
