"""Where DRS is orchestrated: the deployment's own account and region (home), and the targets
its stack lists (``drsTargets``), each reached through a role assumed with an external id.

The infrastructure hands the targets to every function as JSON (``DRS_TARGETS``: a list of
``{account, region, roleArn, externalId}``); ``Targets.from_json`` reads them back and names
what is wrong, so a function with a broken list fails at start with the reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from drs_orchestrator.errors import ConfigurationError

#: The deployment's own account and region: no role to assume.
HOME = "home"
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/[\w+=,.@/-]{1,64}$")
#: STS RoleSessionName: 2 to 64 of these characters.
SESSION_NAME_UNSAFE = re.compile(r"[^\w+=,.@-]")
SESSION_NAME_MAX = 64


@dataclass(frozen=True)
class Target:
    """One account and region, and the role that reaches it (None at home)."""

    account_id: str
    region: str
    role_arn: str | None = None
    external_id: str | None = None

    @property
    def key(self) -> str:
        """``<account>/<region>`` (``home/<region>`` at home): the unit DRS quotas count in."""
        return f"{self.account_id}/{self.region}"

    @property
    def is_home(self) -> bool:
        return self.role_arn is None

    @property
    def stored_key(self) -> str | None:
        """The key as executions store it: None at home (so items written before targets
        existed read as home), ``<account>/<region>`` elsewhere."""
        return None if self.is_home else self.key

    def describe(self) -> str:
        """For messages: 'us-east-1' at home, 'eu-west-1 of account 111122223333'."""
        return self.region if self.is_home else f"{self.region} of account {self.account_id}"


def session_name(execution_id: str | None, function: str) -> str:
    """The role session name CloudTrail shows for calls made in a target: the execution
    that acted (or the function, outside one), in the characters STS accepts."""
    name = SESSION_NAME_UNSAFE.sub("-", f"drs-{execution_id or function}")
    return name[:SESSION_NAME_MAX]


@dataclass(frozen=True)
class Targets:
    """Every target of the deployment, home first, by key."""

    home: Target
    others: tuple[Target, ...] = ()

    @classmethod
    def from_json(cls, home_region: str, text: str) -> Targets:
        """Read ``DRS_TARGETS``; an empty value means home only."""
        home = Target(HOME, home_region)
        if not text.strip():
            return cls(home)
        try:
            entries = json.loads(text)
        except ValueError as exc:
            msg = f"DRS_TARGETS is not JSON: {exc}"
            raise ConfigurationError(msg) from exc
        if not isinstance(entries, list):
            msg = "DRS_TARGETS must be a JSON list of {account, region, roleArn, externalId}"
            raise ConfigurationError(msg)
        return cls(home, tuple(_target(i, e) for i, e in enumerate(entries)))

    def all(self) -> tuple[Target, ...]:
        return (self.home, *self.others)

    def for_group(self, account_id: str | None, region: str) -> Target | None:
        """The target a protection group in ``account_id`` (None: this deployment's own)
        and ``region`` is bound to, or None when the deployment has no such target."""
        for target in self.all():
            mine = target.is_home if account_id is None else target.account_id == account_id
            if mine and target.region == region:
                return target
        return None

    def of_event(self, account_id: str, region: str) -> Target:
        """The target a DRS event came from (its source server's account and region, as
        the target's forwarding rule delivers it to the deployment's bus); home for any
        other (DRS's own events of the deployment's account and region)."""
        for target in self.others:
            if (target.account_id, target.region) == (account_id, region):
                return target
        return self.home

    def of_stored(self, key: str | None) -> Target:
        """The target an execution's batch or job names (``Target.stored_key``)."""
        return self.home if key is None else self.get(key)

    def get(self, key: str) -> Target:
        """The target ``key`` names; an unknown key is a ConfigurationError naming the known."""
        for target in self.all():
            if target.key == key:
                return target
        known = ", ".join(t.key for t in self.all())
        msg = f"no DRS target '{key}' (this deployment's: {known})"
        raise ConfigurationError(msg)


def _target(index: int, entry: object) -> Target:
    if not isinstance(entry, dict):
        msg = f"DRS_TARGETS[{index}] must be an object, got {entry!r}"
        raise ConfigurationError(msg)
    missing = [f for f in ("account", "region", "roleArn", "externalId") if not entry.get(f)]
    if missing:
        msg = f"DRS_TARGETS[{index}] lacks {', '.join(missing)}"
        raise ConfigurationError(msg)
    match = ROLE_ARN.fullmatch(str(entry["roleArn"]))
    if match is None or match["account"] != str(entry["account"]):
        msg = f"DRS_TARGETS[{index}].roleArn is not a role of account {entry['account']}"
        raise ConfigurationError(msg)
    return Target(
        str(entry["account"]), str(entry["region"]), str(entry["roleArn"]), str(entry["externalId"])
    )
