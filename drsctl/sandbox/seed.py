"""Seed data for a fresh sandbox: simulated source servers, three protection groups and a
three-wave plan, the groups and plan created through the deployment's own API so they pass
the same validation an operator's would."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from drsctl.api_client import ApiClient

if TYPE_CHECKING:
    from drsctl.sandbox.drs import DrsSimulator

#: (server id, hostname, tags) of the simulated source servers.
SOURCE_SERVERS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("s-0db00000000000001", "db-01.corp.example.com", {"Tier": "database", "App": "orders"}),
    ("s-0db00000000000002", "db-02.corp.example.com", {"Tier": "database", "App": "orders"}),
    ("s-0a000000000000001", "app-01.corp.example.com", {"Tier": "app", "App": "orders"}),
    ("s-0a000000000000002", "app-02.corp.example.com", {"Tier": "app", "App": "orders"}),
    ("s-0a000000000000003", "app-03.corp.example.com", {"Tier": "app", "App": "orders"}),
    ("s-0eb00000000000001", "web-01.corp.example.com", {"Tier": "web", "App": "orders"}),
    ("s-0eb00000000000002", "web-02.corp.example.com", {"Tier": "web", "App": "orders"}),
    ("s-0ba00000000000001", "batch-01.corp.example.com", {"Tier": "batch", "App": "reports"}),
    ("s-0ba00000000000002", "batch-02.corp.example.com", {"Tier": "batch", "App": "reports"}),
    ("s-0ba00000000000003", "batch-03.corp.example.com", {"Tier": "batch", "App": "reports"}),
)

#: (server id, hostname, tags, (origin region, account)) of the simulated source servers
#: that are EC2 instances in another account and region (AWS-to-AWS replication): their
#: failback reverses replication toward that origin, the first seeded DRS target.
AWS_SOURCES: tuple[tuple[str, str, dict[str, str], tuple[str, str]], ...] = (
    (
        "s-0ec00000000000001",
        "erp-01.west.example.com",
        {"Tier": "erp", "App": "erp"},
        ("us-west-2", "111122223333"),
    ),
)

PLAN_NAME = "Orders three-tier"

#: The DRS targets a sandbox deployment has besides its own account and region (unless
#: its stack lists its own): (account, region, the servers replicating there).
TARGETS: tuple[tuple[str, str, tuple[tuple[str, str, dict[str, str]], ...]], ...] = (
    (
        "111122223333",
        "us-west-2",
        (
            ("s-1f000000000000001", "files-01.west.example.com", {"Tier": "files", "App": "share"}),
            ("s-1f000000000000002", "files-02.west.example.com", {"Tier": "files", "App": "share"}),
        ),
    ),
    (
        "444455556666",
        "eu-west-1",
        (
            ("s-2c000000000000001", "crm-01.eu.example.com", {"Tier": "crm", "App": "crm"}),
            ("s-2c000000000000002", "crm-02.eu.example.com", {"Tier": "crm", "App": "crm"}),
        ),
    ),
)


def seed_source_servers(simulator: DrsSimulator) -> None:
    for server_id, hostname, tags in SOURCE_SERVERS:
        simulator.add_source_server(server_id, tags, hostname=hostname)
    for server_id, hostname, tags, origin in AWS_SOURCES:
        simulator.add_source_server(server_id, tags, hostname=hostname, origin=origin)


def targets_config(stack: str) -> str:
    """``drsTargets`` for a sandbox deployment: the two seeded targets."""
    return json.dumps(
        [
            {"account": account, "region": region, "externalId": f"sandbox-{stack}"}
            for account, region, _servers in TARGETS
        ]
    )


def seed_target(simulator: DrsSimulator, account: str, region: str) -> None:
    for seeded_account, seeded_region, servers in TARGETS:
        if (seeded_account, seeded_region) == (account, region):
            for server_id, hostname, tags in servers:
                simulator.add_source_server(server_id, tags, hostname=hostname)


def seed_target_groups(api_url: str, token: str, targets: list[tuple[str, str]]) -> None:
    """One protection group per seeded target the deployment has, by tag."""
    api = ApiClient(api_url, lambda: token)
    for account, region, servers in TARGETS:
        if (account, region) not in targets:
            continue
        tier = servers[0][2]["Tier"]
        api.call(
            "POST",
            "/protection-groups",
            {
                "name": f"{tier.capitalize()} servers in {region}",
                "accountId": account,
                "region": region,
                "tagSelectors": {"Tier": [tier]},
            },
        )


def seed_catalog(api_url: str, token: str, region: str) -> None:
    """Three groups (explicit ids and tag selectors) and a plan with dependent waves."""
    api = ApiClient(api_url, lambda: token)
    databases = [s for s, _h, t in SOURCE_SERVERS if t["Tier"] == "database"]
    for group in (
        {"name": "Orders databases", "region": region, "sourceServerIds": databases},
        {"name": "Orders app servers", "region": region, "tagSelectors": {"Tier": ["app"]}},
        {"name": "Orders web servers", "region": region, "tagSelectors": {"Tier": ["web"]}},
    ):
        api.call("POST", "/protection-groups", group)
    api.call(
        "POST",
        "/recovery-plans",
        {
            "name": PLAN_NAME,
            "description": "Databases first, then the app tier, then web after approval.",
            "waves": [
                {"name": "Databases", "protectionGroups": ["Orders databases"]},
                {
                    "name": "App tier",
                    "protectionGroups": ["Orders app servers"],
                    "dependsOn": ["Databases"],
                },
                {
                    "name": "Web tier",
                    "protectionGroups": ["Orders web servers"],
                    "dependsOn": ["App tier"],
                    "pauseBefore": True,
                },
            ],
        },
    )
