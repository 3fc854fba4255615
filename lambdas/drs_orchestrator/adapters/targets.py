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
from drs_orchestrator.adapters.drs import DrsGateway
from drs_orchestrator.adapters.ec2 import LaunchTemplates
from drs_orchestrator.adapters.iam import PermissionSimulator
from drs_orchestrator.adapters.telemetry import instrument
from drs_orchestrator.domain.targets import HOME, Target, Targets
from drs_orchestrator.errors import ConfigurationError, TargetUnreachableError

if TYPE_CHECKING:
    from collections.abc import Callable

#: Credentials are renewed this long before STS says they expire.
RENEW_BEFORE = timedelta(minutes=5)
SESSION_SECONDS = 3600
#: Codes that mean the role cannot be assumed as configured: retrying will not help.
UNREACHABLE_CODES = frozenset({"AccessDenied", "AccessDeniedException", "RegionDisabledException"})


def assumed_client(service: str, target: Target, credentials: dict[str, Any]) -> Any:
    """A boto3 client for ``service`` in ``target``'s region, as the assumed role."""
    return instrument(
        boto3.client(
            service,
            region_name=target.region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            config=RETRY_CONFIG,
        )
    )


class TargetSessions:
    """Clients for ``service`` in a target, credentials cached until they near expiry."""

    def __init__(self, sts: Any = None, now: Callable[[], datetime] | None = None) -> None:
        self._sts = sts
        self._now = now or (lambda: datetime.now(UTC))
        self._credentials: dict[tuple[str, str], dict[str, Any]] = {}
        #: (service, target, session) -> (the access key it was made with, the client).
        self._clients: dict[tuple[str, str, str], tuple[str, Any]] = {}

    def client(self, service: str, target: Target, session: str, *, fresh: bool = False) -> Any:
        """A client for ``service`` acting in ``target`` (home: the function's own).
        ``fresh`` assumes the role again even if credentials are cached (reachability:
        can the role be assumed *now*)."""
        if target.is_home:
            return make_client(service, region_name=target.region)
        credentials = self._assumed(target, session, fresh=fresh)
        key, access_key = (service, target.key, session), str(credentials["AccessKeyId"])
        made = self._clients.get(key)
        if made is None or made[0] != access_key:  # clients are not cheap: one per credentials
            made = (access_key, assumed_client(service, target, credentials))
            self._clients[key] = made
        return made[1]

    def check(self, target: Target, session: str) -> None:
        """Assume ``target``'s role now (no client made): ``TargetUnreachableError`` when
        it cannot be."""
        if not target.is_home:
            self._assumed(target, session, fresh=True)

    def _assumed(self, target: Target, session: str, *, fresh: bool = False) -> dict[str, Any]:
        key = (str(target.role_arn), session)
        cached = self._credentials.get(key)
        if not fresh and cached and cached["Expiration"] - RENEW_BEFORE > self._now():
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


class DrsGateways:
    """The DRS gateway of each target of the deployment: at home the function's own, in
    another account or region one acting through the target's role (``TargetSessions``).
    Every call names the session, so CloudTrail in the target says which execution (or
    which function) acted."""

    def __init__(
        self,
        targets: Targets,
        home: DrsGateway | None = None,
        sessions: TargetSessions | None = None,
        home_templates: LaunchTemplates | None = None,
    ) -> None:
        self.targets = targets
        self._home = home
        self._home_templates = home_templates
        self._home_permissions: PermissionSimulator | None = None
        self._sessions = sessions or TargetSessions()

    @classmethod
    def home_only(
        cls, gateway: DrsGateway, region: str = "", templates: LaunchTemplates | None = None
    ) -> DrsGateways:
        """Gateways for a deployment with no target besides home."""
        return cls(Targets(Target(HOME, region)), gateway, home_templates=templates)

    @property
    def home(self) -> DrsGateway:
        if self._home is None:
            self._home = DrsGateway()
        return self._home

    def reachable(self, key: str | None, session: str) -> None:
        """Whether target ``key``'s role can be assumed now (no client made): raises
        ``TargetUnreachableError`` when not."""
        self._sessions.check(self._target(key), session)

    def of(self, key: str | None, session: str) -> DrsGateway:
        """The gateway of the target an execution stores as ``key`` (None: home); raises
        ``TargetUnreachableError`` when its role cannot be assumed."""
        target = self._target(key)
        if target.is_home:
            return self.home
        return DrsGateway(self._sessions.client("drs", target, session))

    def templates(self, key: str | None, session: str) -> LaunchTemplates:
        """The EC2 launch templates (and subnets, instance types) of the target stored as
        ``key``, where DRS launches its servers: the same role as ``of``."""
        target = self._target(key)
        if target.is_home:
            if self._home_templates is None:  # one client for the function's life
                self._home_templates = LaunchTemplates(
                    make_client("ec2", region_name=target.region or None)
                )
            return self._home_templates
        return LaunchTemplates(self._sessions.client("ec2", target, session))

    def permissions(self, key: str | None, session: str) -> PermissionSimulator:
        """IAM's policy simulation in the account of the target stored as ``key``, as that
        target's role (home: the function's own)."""
        target = self._target(key)
        if target.is_home:
            if self._home_permissions is None:  # one client for the function's life
                self._home_permissions = PermissionSimulator()
            return self._home_permissions
        return PermissionSimulator(self._sessions.client("iam", target, session))

    def _target(self, key: str | None) -> Target:
        try:
            return self.targets.of_stored(key)
        except ConfigurationError as exc:  # the stack dropped a target an execution uses
            reason = "no longer one of this deployment's DRS targets"
            raise TargetUnreachableError(str(key), reason, transient=False) from exc


def as_gateways(drs: DrsGateway | DrsGateways) -> DrsGateways:
    """Services take the gateways of every target; one gateway means home only."""
    return drs if isinstance(drs, DrsGateways) else DrsGateways.home_only(drs)
