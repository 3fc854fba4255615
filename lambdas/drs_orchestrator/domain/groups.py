"""Protection groups: which source servers they hold, and the one-group-per-server rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from drs_orchestrator.domain.plans import Problem

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence


@dataclass(frozen=True)
class ProtectionGroup:
    """Source servers named explicitly, or selected by tags (every key must match)."""

    name: str
    region: str
    description: str = ""
    source_server_ids: tuple[str, ...] = ()
    tag_selectors: Mapping[str, Sequence[str]] = field(default_factory=dict)


def matches(selectors: Mapping[str, Sequence[str]], tags: Mapping[str, str]) -> bool:
    """A server matches when, for every selector key, its tag has one of the values."""
    return bool(selectors) and all(tags.get(key) in values for key, values in selectors.items())


def resolve(group: ProtectionGroup, inventory: Iterable[Mapping]) -> list[str]:
    """The group's source server ids, from ``inventory`` (DescribeSourceServers items).

    Explicit ids are kept in the order given; tag selectors add every matching server.
    """
    servers = list(group.source_server_ids)
    if group.tag_selectors:
        for item in inventory:
            server_id = item.get("sourceServerID")
            if matches(group.tag_selectors, item.get("tags") or {}) and server_id not in servers:
                servers.append(server_id)
    return servers


def membership_conflicts(
    group_name: str, servers: Iterable[str], others: Mapping[str, Iterable[str]]
) -> list[Problem]:
    """A server may belong to one protection group: name each server another group holds."""
    owner = {
        server: other for other, held in others.items() if other != group_name for server in held
    }
    return [
        Problem(
            "sourceServerIds",
            f"source server {server} already belongs to protection group '{owner[server]}'",
        )
        for server in servers
        if server in owner
    ]
