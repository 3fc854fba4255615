"""What the API and the readiness evaluation both read: the deployment's protection groups
and recovery plans, and each DRS target's inventory and snapshots.

A protection group is bound to one DRS target: its ``region``, and its ``accountId`` when
the servers replicate in another account than the deployment's own (``drsTargets``). Its
tag selectors are resolved in that target's inventory.
"""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from drs_orchestrator.adapters.ssm import Automations
from drs_orchestrator.adapters.targets import as_gateways
from drs_orchestrator.domain.groups import ProtectionGroup, resolve
from drs_orchestrator.domain.plans import Action, RecoveryPlan, Wave
from drs_orchestrator.domain.targets import session_name
from drs_orchestrator.errors import (
    NotFoundError,
    ServiceUnavailableError,
    TargetUnreachableError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from drs_orchestrator.adapters.drs import DrsGateway
    from drs_orchestrator.adapters.dynamodb import VersionedRecords
    from drs_orchestrator.adapters.ec2 import LaunchTemplates
    from drs_orchestrator.adapters.targets import DrsGateways
    from drs_orchestrator.domain.targets import Target

T = TypeVar("T")
R = TypeVar("R")
G = TypeVar("G")
#: Per-server DRS and EC2 calls made at once (snapshots, launch configurations, launch
#: templates: a plan of 500 servers is 500 of each).
DRS_CALLS_AT_ONCE = 8
#: The role session name the API's calls in a target carry (CloudTrail: who acted).
API_SESSION = session_name(None, "api")


def in_threads(work: Callable[[T], R], items: Sequence[T], threads: int) -> list[R]:
    """``work`` of each item, ``threads`` at a time, in order; each call runs in a copy of
    the caller's context (its context variables: logging keys, the tests' fault injector)."""
    if not items:
        return []
    caller = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(lambda item: caller.copy().run(work, item), items))


def group_from(record: dict[str, Any]) -> ProtectionGroup:
    return ProtectionGroup(
        name=record["name"],
        region=record["region"],
        description=record.get("description", ""),
        source_server_ids=tuple(record.get("sourceServerIds", [])),
        tag_selectors=record.get("tagSelectors") or {},
    )


def plan_from(record: dict[str, Any]) -> RecoveryPlan:
    def actions(items: list[dict[str, Any]]) -> tuple[Action, ...]:
        return tuple(
            Action(a["document"], a.get("parameters") or {}, a.get("maxWaitSeconds", 900))
            for a in items
        )

    return RecoveryPlan(
        name=record["name"],
        description=record.get("description", ""),
        waves=tuple(
            Wave(
                w["name"],
                tuple(w["protectionGroups"]),
                tuple(w.get("dependsOn", [])),
                bool(w.get("pauseBefore", False)),
                actions(w.get("preActions", [])),
                actions(w.get("postActions", [])),
                None if w.get("failbackActions") is None else actions(w["failbackActions"]),
            )
            for w in record["waves"]
        ),
    )


def groups_of(plan: RecoveryPlan) -> set[str]:
    """The names of the protection groups a plan's waves use."""
    return {name for wave in plan.waves for name in wave.protection_groups}


class Inventory:
    """The groups and plans tables, the DRS gateway of every target, and SSM: what is
    protected, how it is planned, and what DRS says about it now."""

    def __init__(
        self,
        groups: VersionedRecords,
        plans: VersionedRecords,
        drs: DrsGateway | DrsGateways,
        clock: Callable[[], str],
        automations: Automations | None = None,
        session: str = API_SESSION,
    ) -> None:
        self.groups = groups
        self.plans = plans
        #: The DRS gateway of every target; a group outside them is refused.
        self.drs = as_gateways(drs)
        self.clock = clock
        self._automations = automations
        #: The role session name this function's calls in a target carry.
        self.session = session

    @property
    def automations(self) -> Automations:
        """SSM, where the pre- and post-wave actions run (the deployment's own account)."""
        if self._automations is None:
            self._automations = Automations()
        return self._automations

    # -- targets -------------------------------------------------------------------------

    def target_of(self, record: dict[str, Any]) -> Target | None:
        """The DRS target a group is bound to, or None if the deployment has none such."""
        return self.drs.targets.for_group(record.get("accountId"), record["region"])

    def inventory(self, target: Target) -> list[dict[str, Any]]:
        """Every source server DRS has in ``target``; 503 naming it when unreachable."""
        try:
            return self.drs.of(target.stored_key, self.session).source_servers()
        except TargetUnreachableError as exc:
            raise ServiceUnavailableError(str(exc)) from exc

    def targets(self, home_account: str) -> list[dict[str, Any]]:
        """Every DRS target of the deployment and whether it can be reached now (its role
        assumed afresh; home always can)."""
        listed = []
        for target in self.drs.targets.all():
            entry: dict[str, Any] = {
                "key": target.key,
                "accountId": home_account if target.is_home else target.account_id,
                "region": target.region,
                "home": target.is_home,
                "reachable": True,
            }
            if not target.is_home:
                entry["roleArn"] = target.role_arn
                try:
                    self.drs.reachable(target.stored_key, self.session)
                except TargetUnreachableError as exc:
                    entry.update(reachable=False, reason=exc.reason)
            listed.append(entry)
        return listed

    def servers_by_group(
        self,
        inventories: dict[str | None, list[dict[str, Any]]] | None = None,
        groups: list[dict] | None = None,
        *,
        needed: set[str] | None = None,
    ) -> dict[str, list[str]]:
        """Each group's servers; tag selectors resolved in the inventory of the group's own
        target, read once per target. Only the groups ``needed`` (default: all) have their
        tag selectors resolved, and, given ``inventories`` without ``needed``, only in the
        targets already read: a target out of reach holds up only what needs it."""
        records = self.groups.all() if groups is None else groups
        read_more = inventories is None or needed is not None
        inventories = {} if inventories is None else inventories
        resolved = {}
        for record in records:
            target = self.target_of(record)
            inventory: list[dict[str, Any]] = []
            wanted = needed is None or record["name"] in needed
            if record.get("tagSelectors") and target is not None and wanted:
                if target.stored_key not in inventories and read_more:
                    inventories[target.stored_key] = self.inventory(target)
                inventory = inventories.get(target.stored_key, [])
            resolved[record["name"]] = resolve(group_from(record), inventory)
        return resolved

    def group_targets(self, records: list[dict[str, Any]]) -> dict[str, str | None]:
        """Each group's target as executions store it (None at home); a group whose
        target the stack no longer lists keeps its account/region key, which no run can
        reach (plan validation names it first)."""
        found = {}
        for record in records:
            target = self.target_of(record)
            fallback = f"{record.get('accountId') or 'home'}/{record['region']}"
            found[record["name"]] = target.stored_key if target else fallback
        return found

    def per_server(
        self,
        servers: Sequence[str],
        target_of: Mapping[str, str | None],
        call: Callable[[DrsGateway, str], R],
    ) -> dict[str, R]:
        """``call(gateway, server)`` for each server, with the DRS gateway of the server's
        own target (``target_of``; home when absent), ``DRS_CALLS_AT_ONCE`` at a time;
        503 naming a target out of reach."""
        return self._each(servers, target_of, call, self.drs.of)

    def per_server_templates(
        self,
        servers: Sequence[str],
        target_of: Mapping[str, str | None],
        call: Callable[[LaunchTemplates, str], R],
    ) -> dict[str, R]:
        """``call(templates, server)`` for each server, with the EC2 launch templates of the
        server's own target, as ``per_server``."""
        return self._each(servers, target_of, call, self.drs.templates)

    def _each(
        self,
        servers: Sequence[str],
        target_of: Mapping[str, str | None],
        call: Callable[[G, str], R],
        gateway_of: Callable[[str | None, str], G],
    ) -> dict[str, R]:
        def one(server: str) -> R:
            try:
                gateway = gateway_of(target_of.get(server), self.session)
            except TargetUnreachableError as exc:
                raise ServiceUnavailableError(str(exc)) from exc
            return call(gateway, server)

        return dict(zip(servers, in_threads(one, servers, DRS_CALLS_AT_ONCE), strict=True))

    def newest_snapshots(
        self, servers: list[str], target_of: dict[str, str | None], moment: str
    ) -> dict[str, dict[str, Any] | None]:
        """Each server's newest snapshot at or before ``moment`` (None: none that old),
        read in its own target."""
        return self.per_server(servers, target_of, lambda drs, s: drs.snapshot_before(s, moment))

    def get_plan(self, plan_id: str) -> dict[str, Any]:
        record = self.plans.get(plan_id)
        if record is None:
            msg = f"recovery plan {plan_id} does not exist"
            raise NotFoundError(msg)
        return record
