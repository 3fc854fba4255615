"""IAM's policy simulation (``SimulatePrincipalPolicy``) for the sandbox and the tests, which
moto does not implement.

It evaluates the roles moto holds — their inline policies and attached managed policies —
as IAM evaluates identity policies: an explicit deny wins, else an allow that matches the
action, the resource and its conditions, else an implicit deny. Conditions support the
operators the deployment's policies use (``StringEquals``, ``StringLike``, ``ArnLike``,
``ArnEquals``, ``Null``, ``Bool``, ``ForAllValues:StringEquals``) against the simulation's
context entries; any other operator does not match (a deny by omission, never a false
allow). An organization's SCP is modelled by ``organization_denies``: (account, action)
pairs an SCP denies. The same
evaluation reads resource policies (``resource_policy_allows``: a target role's trust for
the sandbox's STS, an event bus's policy for its forwarding).

It answers in IAM's own XML, parsed by botocore's parser as AWS's would be: before the
call on a client (``install``: the tests, where moto refuses the operation), or over HTTP
in the sandbox's gateway (``serve``).
"""

from __future__ import annotations

import fnmatch
import html
import json
import threading
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode

from botocore.awsrequest import AWSResponse
from botocore.parsers import create_parser


def escape(text: str) -> str:
    """``text`` as XML character data (the simulator writes XML, it never parses any)."""
    return html.escape(text, quote=False)


_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/"


def _listed(form: dict[str, list[str]], prefix: str) -> list[str]:
    """``prefix.member.N`` values in order."""
    found = []
    index = 1
    while f"{prefix}.member.{index}" in form:
        found.append(form[f"{prefix}.member.{index}"][0])
        index += 1
    return found


def _context(form: dict[str, list[str]]) -> dict[str, list[str]]:
    context: dict[str, list[str]] = {}
    index = 1
    while f"ContextEntries.member.{index}.ContextKeyName" in form:
        name = form[f"ContextEntries.member.{index}.ContextKeyName"][0]
        context[name.lower()] = _listed(form, f"ContextEntries.member.{index}.ContextKeyValues")
        index += 1
    return context


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: dict[str, Any], context: dict[str, list[str]]) -> bool:
    for operator, tests in condition.items():
        for key, wanted in tests.items():
            given = context.get(key.lower())
            values = [str(v) for v in _as_list(wanted)]
            if operator == "ForAllValues:StringEquals":
                # Every value the request carries is one of these (none carried: holds).
                if not all(g in values for g in given or []):
                    return False
            elif operator == "Null":
                if (given is None) != (values[0].lower() == "true"):
                    return False
            elif given is None:
                return False
            elif operator in ("StringEquals", "ArnEquals", "Bool"):
                if not any(g in values for g in given):
                    return False
            elif operator in ("StringLike", "ArnLike"):
                if not any(fnmatch.fnmatchcase(g, v) for g in given for v in values):
                    return False
            else:
                return False
    return True


def _statement_matches(
    statement: dict[str, Any], action: str, resource: str, context: dict[str, list[str]]
) -> bool:
    if "Action" not in statement or "Resource" not in statement:
        return False  # NotAction / NotResource: not used by the deployment
    actions = [str(a).lower() for a in _as_list(statement["Action"])]
    if not any(fnmatch.fnmatchcase(action.lower(), a) for a in actions):
        return False
    resources = [str(r) for r in _as_list(statement["Resource"])]
    if not any(r == "*" or fnmatch.fnmatchcase(resource, r) for r in resources):
        return False
    return _condition_holds(statement.get("Condition") or {}, context)


def decide(
    documents: list[dict[str, Any]], action: str, resource: str, context: dict[str, list[str]]
) -> str:
    """IAM's decision for one action on one resource under these identity policies."""
    allowed = False
    for document in documents:
        for statement in _as_list(document.get("Statement") or []):
            if _statement_matches(statement, action, resource, context):
                if statement.get("Effect") == "Deny":
                    return "explicitDeny"
                allowed = allowed or statement.get("Effect") == "Allow"
    return "allowed" if allowed else "implicitDeny"


def resource_policy_allows(
    document: dict[str, Any], action: str, principal: str, context: dict[str, list[str]]
) -> bool:
    """Whether a resource policy (a role's trust, an event bus's policy) lets ``principal``
    (a role ARN) do ``action``: an explicit deny wins, else an allow whose ``Principal.AWS``
    names the role or its account's root and whose conditions hold (``_condition_holds``,
    as for identity policies), else no."""
    parts = principal.split(":")
    root = f"arn:{parts[1]}:iam::{parts[4]}:root" if len(parts) > 4 else ""
    allowed = False
    for statement in _as_list(document.get("Statement") or []):
        actions = [str(a).lower() for a in _as_list(statement.get("Action") or [])]
        if not any(fnmatch.fnmatchcase(action.lower(), a) for a in actions):
            continue
        named = [str(p) for p in _as_list((statement.get("Principal") or {}).get("AWS") or [])]
        if principal not in named and root not in named:
            continue
        if not _condition_holds(statement.get("Condition") or {}, context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


class PolicySimulator:
    """Answers SimulatePrincipalPolicy for the roles moto holds."""

    def __init__(self) -> None:
        #: (account, action) pairs an SCP of the organization denies.
        self.organization_denies: set[tuple[str, str]] = set()
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def install(self, client: Any) -> Any:
        """Make ``client`` (an IAM client) have its simulations answered here; every other
        IAM request goes on to moto. The answer is IAM's XML, parsed by botocore's own
        parser (moto would refuse the request, so it must never see it)."""
        client.meta.events.register_first("before-call.iam.SimulatePrincipalPolicy", self._answer)
        return client

    def _answer(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[Any, Any]:
        status, raw = self.serve(urlencode(params["body"]))
        http = AWSResponse(params.get("url", ""), status, {"Content-Type": "text/xml"}, None)
        http._content = raw  # noqa: SLF001 - a response already read, as botocore keeps it
        parsed = create_parser("query").parse(
            {"body": raw, "headers": {}, "status_code": status}, model.output_shape
        )
        return http, parsed

    def serve(self, body: str) -> tuple[int, bytes]:
        """Answer one form-encoded SimulatePrincipalPolicy request: (status, XML)."""
        form = parse_qs(body, keep_blank_values=True)
        role_arn = form.get("PolicySourceArn", [""])[0]
        actions = _listed(form, "ActionNames")
        resources = _listed(form, "ResourceArns") or ["*"]
        context = _context(form)
        with self._lock:
            self.calls.append({"role": role_arn, "actions": actions, "resources": resources})
            documents = self._documents(role_arn)
        if documents is None:
            return 404, self._error("NoSuchEntity", f"The role {role_arn} cannot be found.")
        account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""  # noqa: PLR2004
        members = []
        for action in actions:
            for resource in resources:
                decision = decide(documents, action, resource, context)
                by_organization = (account, action) in self.organization_denies
                if by_organization:
                    decision = "explicitDeny"
                members.append(
                    "<member>"
                    f"<EvalActionName>{escape(action)}</EvalActionName>"
                    f"<EvalResourceName>{escape(resource)}</EvalResourceName>"
                    f"<EvalDecision>{decision}</EvalDecision>"
                    "<MatchedStatements/><MissingContextValues/>"
                    "<OrganizationsDecisionDetail><AllowedByOrganizations>"
                    f"{'false' if by_organization else 'true'}"
                    "</AllowedByOrganizations></OrganizationsDecisionDetail>"
                    "</member>"
                )
        xml = (
            f'<SimulatePrincipalPolicyResponse xmlns="{_NAMESPACE}">'
            "<SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated>"
            f"<EvaluationResults>{''.join(members)}</EvaluationResults>"
            "</SimulatePrincipalPolicyResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            "</SimulatePrincipalPolicyResponse>"
        )
        return 200, xml.encode()

    @staticmethod
    def _error(code: str, message: str) -> bytes:
        return (
            f'<ErrorResponse xmlns="{_NAMESPACE}"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        ).encode()

    @staticmethod
    def _documents(role_arn: str) -> list[dict[str, Any]] | None:
        """The role's inline and attached managed policies (None: no such role)."""
        from moto.iam.models import iam_backends

        parts = role_arn.split(":")
        if len(parts) < 6:  # noqa: PLR2004
            return None
        backend = iam_backends[parts[4]]["global"]
        role = next((r for r in backend.get_roles() if r.arn == role_arn), None)
        if role is None:
            return None
        documents = [json.loads(d) if isinstance(d, str) else d for d in role.policies.values()]
        for policy in role.managed_policies.values():
            default = next((v for v in policy.versions if v.is_default), None)
            if default is not None:
                documents.append(json.loads(default.document))
        return documents
