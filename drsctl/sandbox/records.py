"""What a deployment has stored, as digests: ``GET /sandbox/records`` on its site.

Each of the deployment's tables (named ``<deployment name>-...``) is listed item by item: the
item's key and a digest of the whole item. Whoever wants to know whether something was
written compares two readings; the items themselves stay in the sandbox. The fuzz run's
check that a refused write changed nothing reads it before and after each write
(``tests/api_fuzz/hooks.py``): over DynamoDB's API, each reading was a paginated Scan of
every table, serialised by moto, sent over HTTP and parsed by botocore, a third of the
fuzzing client's CPU; here it is a walk of moto's own items, under the gateway's lock like
every request moto answers.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Collection

Rows = dict[str, list[dict[str, Any]]]


def stored_items(
    account: str, region: str, deployment_name: str, tables: Collection[str] = ()
) -> Rows:
    """``{table: [{"key": the item's key, as DynamoDB writes it, "digest": sha256 of the
    item}]}`` for the deployment's tables in moto's DynamoDB of the account and region,
    items in key order: those ``tables`` names by what follows the deployment's name
    (``recovery-plans``), or every one. Call it while no request changes moto (the
    gateway's ``read_moto``)."""
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[account][region]
    found: Rows = {}
    for name, table in sorted(backend.tables.items()):
        short = name.removeprefix(f"{deployment_name}-")
        if short == name or (tables and short not in tables):
            continue
        key_names = [n for n in (table.hash_key_attr, table.range_key_attr) if n]
        rows = []
        for item in table.all_items():
            attributes = item.to_json()["Attributes"]
            text = json.dumps(attributes, sort_keys=True, default=str)
            rows.append(
                {
                    "key": {n: attributes[n] for n in key_names},
                    "digest": hashlib.sha256(text.encode()).hexdigest(),
                }
            )
        found[name] = rows
    return found
