"""Gateway to IAM's policy simulation: may a role take these actions, in this region?

``SimulatePrincipalPolicy`` evaluates the role's identity policies, its permissions
boundary and the SCPs of the organization the account belongs to. The region the role
would act in is given as the ``aws:RequestedRegion`` context, so a policy or SCP that
allows only some regions is evaluated as AWS would evaluate the call. The results are
paginated (botocore's paginator follows ``Marker``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from drs_orchestrator.adapters.clients import client as make_client
from drs_orchestrator.adapters.clients import error_code, pages
from drs_orchestrator.errors import IamError, OutcomeUnknownError

if TYPE_CHECKING:
    from collections.abc import Iterable


def map_iam_error(operation: str, exc: Exception) -> Exception:
    """A ClientError by its code (a 5xx: the answer is lost); anything else: no answer."""
    if isinstance(exc, ClientError):
        status = int((exc.response or {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        if status < 500:  # noqa: PLR2004
            message = str(exc.response.get("Error", {}).get("Message", ""))
            return IamError(operation, error_code(exc), message)
    return OutcomeUnknownError(operation, error_code(exc))


class PermissionSimulator:
    """Simulates a role's permissions in one account; the client is injected for a DRS
    target (the target role simulates itself there)."""

    def __init__(self, client: Any = None) -> None:
        self._client = client or make_client("iam")

    def evaluate(
        self, role_arn: str, actions: Iterable[str], resource: str, region: str
    ) -> list[dict[str, Any]]:
        """IAM's ``EvaluationResults`` for each action on ``resource`` as ``role_arn`` in
        ``region``."""
        params: dict[str, Any] = {
            "PolicySourceArn": role_arn,
            "ActionNames": list(actions),
            "ContextEntries": [
                {
                    "ContextKeyName": "aws:RequestedRegion",
                    "ContextKeyValues": [region],
                    "ContextKeyType": "string",
                }
            ],
        }
        if resource != "*":
            params["ResourceArns"] = [resource]
        return [
            result
            for page in pages(self._client, "simulate_principal_policy", map_iam_error, **params)
            for result in page.get("EvaluationResults", [])
        ]
