"""Clients in each DRS target, through STS.

At home a client is the function's own. In a target, ``AssumeRole`` with the external id
gives credentials for an hour; they are kept per role and session name until five minutes
before they expire, so a warm function assumes a role once per execution it acts for, not
once per call. STS throttling is retried by the shared client configuration; what is left
is ``TargetUnreachableError`` naming the target and the reason, ``transient`` unless the code
says the role cannot be assumed as configured (access denied, the region disabled), so the
caller retries a passing failure and fails only what needs a target it cannot reach.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from drs_orchestrator.adapters.clients import RETRY_CONFIG, error_code
from drs_orchestrator.adapters.clients import client as make_client
from drs_orchestrator.errors import TargetUnreachableError

if TYPE_CHECKING:
    from collections.abc import Callable

    from drs_orchestrator.domain.targets import Target

#: Credentials are renewed this long before STS says they expire.
RENEW_BEFORE = timedelta(minutes=5)
SESSION_SECONDS = 3600
#: Codes that mean the role cannot be assumed as configured: retrying will not help.
UNREACHABLE_CODES = frozenset({"AccessDenied", "AccessDeniedException", "RegionDisabledException"})


class TargetSessions:
    """Clients for ``service`` in a target, credentials cached until they near expiry."""

    def __init__(self, sts: Any = None, now: Callable[[], datetime] | None = None) -> None:
        self._sts = sts
        self._now = now or (lambda: datetime.now(UTC))
        self._credentials: dict[tuple[str, str], dict[str, Any]] = {}

    def client(self, service: str, target: Target, session: str) -> Any:
        """A client for ``service`` acting in ``target`` (home: the function's own)."""
        if target.is_home:
            return make_client(service, region_name=target.region)
        credentials = self._assumed(target, session)
        return boto3.client(
            service,
            region_name=target.region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            config=RETRY_CONFIG,
        )

    def _assumed(self, target: Target, session: str) -> dict[str, Any]:
        key = (str(target.role_arn), session)
        cached = self._credentials.get(key)
        if cached and cached["Expiration"] - RENEW_BEFORE > self._now():
            return cached
        sts = self._sts or make_client("sts")
        self._sts = sts
        try:
            answer = sts.assume_role(
                RoleArn=key[0],
                RoleSessionName=session,
                ExternalId=target.external_id,
                DurationSeconds=SESSION_SECONDS,
            )
        except ClientError as exc:
            code = error_code(exc)
            message = str(exc.response.get("Error", {}).get("Message", ""))
            transient = code not in UNREACHABLE_CODES
            raise TargetUnreachableError(target.key, f"{code}: {message}", transient) from exc
        except BotoCoreError as exc:  # no answer: nothing was changed, try again later
            raise TargetUnreachableError(target.key, type(exc).__name__, transient=True) from exc
        credentials = answer["Credentials"]
        self._credentials[key] = credentials
        return credentials
