"""The DRS targets a deployment may act in besides its own account and region.

Large estates spread source servers over several staging accounts and recover into target
accounts, often in another region. A stack lists those targets in ``drsTargets``; for each,
the orchestrator assumes a role the target account holds for this deployment alone
(``infra/naming.py`` names it; an external id is required to assume it). The deployment's
own account and region is always a target and is never listed.

Every rule is checked here before a resource is declared, and each problem names the entry
and field (``drsTargets[1].region``) with the rule it breaks: problems are ``(path, rule)``
pairs, the path relative to the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from infra import naming
from infra.project_config import did_you_mean

if TYPE_CHECKING:
    from collections.abc import Mapping

ACCOUNT_ID_PATTERN = re.compile(r"\d{12}")
#: STS AssumeRole's ExternalId: 2 to 1224 of these characters.
EXTERNAL_ID_PATTERN = re.compile(r"[\w+=,.@:/-]{2,1224}")

REQUIRED_FIELDS = ("account", "region", "externalId")
OPTIONAL_FIELDS = ("roleName",)
SHAPE = "{account, region, externalId[, roleName]}"


@dataclass(frozen=True)
class DrsTarget:
    """One account and region the deployment orchestrates DRS in, and how it gets there."""

    account_id: str
    region: str
    role_name: str
    external_id: str

    @property
    def key(self) -> str:
        """``<account>/<region>``: the unit DRS quotas count in, and one role each."""
        return f"{self.account_id}/{self.region}"

    def role_arn(self, partition: str) -> str:
        return f"arn:{partition}:iam::{self.account_id}:role/{self.role_name}"


Problem = tuple[str, str]


def parse_targets(
    value: Any, deployment: str, home_region: str, regions: Mapping[str, str]
) -> tuple[tuple[DrsTarget, ...], list[Problem]]:
    """The targets ``value`` (the parsed config value) lists, and every problem in it.

    ``regions`` maps each region where DRS has an endpoint to its partition: a target must
    be in the deployment's partition, as no role can be assumed across partitions."""
    if not isinstance(value, list):
        return (), [("", f"must be a list of targets, each {SHAPE}")]
    targets: list[DrsTarget] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    accounts: dict[str, DrsTarget] = {}
    for index, entry in enumerate(value):
        where = f"[{index}]"
        target, found = _parse_entry(entry, where, deployment, home_region, regions)
        problems += found
        if target is None:
            continue
        if target.key in seen:
            problems.append(
                (
                    where,
                    f"account {target.account_id} in {target.region} is already "
                    f"[{seen[target.key]}]; one role per account and region",
                )
            )
            continue
        first = accounts.setdefault(target.account_id, target)
        if (first.role_name, first.external_id) != (target.role_name, target.external_id):
            problems.append(
                (
                    where,
                    f"account {target.account_id} is listed with another roleName or "
                    "externalId before: one role per account serves all its regions",
                )
            )
            continue
        seen[target.key] = index
        targets.append(target)
    return tuple(targets), problems


def _parse_entry(
    entry: Any, where: str, deployment: str, home_region: str, regions: Mapping[str, str]
) -> tuple[DrsTarget | None, list[Problem]]:
    if not isinstance(entry, dict):
        return None, [(where, f"must be a map {SHAPE}, got {entry!r}")]
    problems: list[Problem] = []
    for field in entry:
        if field not in (*REQUIRED_FIELDS, *OPTIONAL_FIELDS):
            hint = did_you_mean(str(field), (*REQUIRED_FIELDS, *OPTIONAL_FIELDS))
            problems.append((f"{where}.{field}", f"unknown field{hint}"))
    problems += [(f"{where}.{f}", "required") for f in REQUIRED_FIELDS if f not in entry]

    account = entry.get("account")
    if isinstance(account, int):
        problems.append(
            (
                f"{where}.account",
                f"quote the account id ('{account:012d}'?): YAML reads an unquoted number "
                "and drops its leading zeros",
            )
        )
    elif account is not None and not ACCOUNT_ID_PATTERN.fullmatch(str(account)):
        problems.append((f"{where}.account", f"'{account}' is not an AWS account id (12 digits)"))

    region = entry.get("region")
    if region is not None:
        found = _region_problems(str(region), home_region, regions)
        problems += [(f"{where}.region", p) for p in found]

    external_id = entry.get("externalId")
    if external_id is not None and not EXTERNAL_ID_PATTERN.fullmatch(str(external_id)):
        problems.append(
            (
                f"{where}.externalId",
                "must be 2 to 1224 characters of letters, digits and +=,.@:/-_ (what STS accepts)",
            )
        )

    default_role = naming.Naming(deployment).target_role() if deployment else ""
    role = str(entry.get("roleName") or default_role)
    if "roleName" in entry:
        problems += [(f"{where}.roleName", p) for p in naming.IAM_ROLE.violations(role)]
        if deployment and not role.startswith(f"{deployment}-"):
            problems.append(
                (
                    f"{where}.roleName",
                    f"'{role}' must start with the deployment name '{deployment}-': a "
                    "deployment acts only through roles made for it",
                )
            )
    if problems:
        return None, problems
    return DrsTarget(str(account), str(region), role, str(external_id)), []


def _region_problems(region: str, home_region: str, regions: Mapping[str, str]) -> list[str]:
    if region not in regions:
        hint = did_you_mean(region, regions)
        return [f"'{region}' is not a region where AWS DRS is available{hint}"]
    home = regions.get(home_region)
    if home and regions[region] != home:
        return [
            f"'{region}' is in partition {regions[region]}, the deployment in {home}: "
            "no role can be assumed across partitions"
        ]
    return []
