"""Launch settings of a protection group: the DRS launch configuration every member server
should have, what to send DRS to give it to a server, and how a server's configuration has
drifted from it.

A group's ``launchSettings`` uses DRS's own field names (``UpdateLaunchConfiguration``):
``targetInstanceTypeRightSizingMethod`` (NONE, BASIC, IN_AWS), ``launchDisposition``
(STOPPED, STARTED), ``copyPrivateIp``, ``copyTags``, ``licensing.osByol`` and
``postLaunchEnabled``; each is optional, and one left out is left as DRS has it. The API's
schema takes its enumerations from botocore's DRS model (a test holds the two equal).

DRS launches each server from its own EC2 launch template (the launch configuration's
``ec2LaunchTemplateID``), at the template's default version. A group's ``launchTemplate``
overrides the instance type and the primary network interface's subnet and security groups:
applying them makes a new version (the current default with those fields replaced) the
default, the way DRS's console edits a template.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

#: The launch configuration fields a group may set (DRS's names).
FIELDS = (
    "targetInstanceTypeRightSizingMethod",
    "launchDisposition",
    "copyPrivateIp",
    "copyTags",
    "licensing",
    "postLaunchEnabled",
)


def update_request(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The UpdateLaunchConfiguration parameters (without the server) for ``settings``."""
    return {name: settings[name] for name in FIELDS if name in settings}


def drift(settings: Mapping[str, Any], configuration: Mapping[str, Any]) -> list[str]:
    """Each field where a server's launch configuration differs from its group's settings,
    as ``field: has X, the group wants Y`` (empty: the server is as the group wants)."""
    found = []
    for name, wanted in update_request(settings).items():
        has = configuration.get(name)
        if name == "licensing":
            wanted_byol = (wanted or {}).get("osByol")
            has_byol = (has or {}).get("osByol")
            if wanted_byol is not None and has_byol != wanted_byol:
                found.append(f"licensing.osByol: has {has_byol}, the group wants {wanted_byol}")
        elif has != wanted:
            found.append(f"{name}: has {has}, the group wants {wanted}")
    return found


#: The EC2 launch template fields a group may override (under ``launchTemplate``).
TEMPLATE_FIELDS = ("instanceType", "subnetId", "securityGroupIds")
#: The only right-sizing method under which DRS launches the template's instance type.
KEEPS_INSTANCE_TYPE = "NONE"


@dataclass(frozen=True)
class TemplateView:
    """What matters to recovery in a launch template version's ``LaunchTemplateData``: the
    instance type, and the subnet and security groups of the primary network interface
    (device 0, where DRS puts them)."""

    instance_type: str | None
    subnet_id: str | None
    security_group_ids: tuple[str, ...]

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> TemplateView:
        primary = _primary_interface(data.get("NetworkInterfaces") or [])
        return cls(
            data.get("InstanceType"),
            (primary or {}).get("SubnetId"),
            tuple((primary or {}).get("Groups") or ()),
        )


def _primary_interface(interfaces: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    return next((i for i in interfaces if int(i.get("DeviceIndex") or 0) == 0), None)


def template_overrides(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The group's launch template overrides (empty: the templates are left as they are)."""
    wanted = settings.get("launchTemplate") or {}
    return {name: wanted[name] for name in TEMPLATE_FIELDS if name in wanted}


def template_data(settings: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The whole ``LaunchTemplateData`` of the version to make the template's default so it
    has the group's overrides: ``data`` (the current default version's) with the instance
    type and the primary interface's subnet and security groups replaced, everything else
    kept. None: the template already is as the group wants (nothing to write)."""
    overrides = template_overrides(settings)
    if not template_drift(settings, data):
        return None
    updated = copy.deepcopy(dict(data))
    if "instanceType" in overrides:
        updated["InstanceType"] = overrides["instanceType"]
    if "subnetId" in overrides or "securityGroupIds" in overrides:
        interfaces = [dict(i) for i in updated.get("NetworkInterfaces") or []]
        primary = _primary_interface(interfaces)
        if primary is None:
            primary = {"DeviceIndex": 0}
            interfaces.insert(0, primary)
        if "subnetId" in overrides:
            primary["SubnetId"] = overrides["subnetId"]  # type: ignore[index]
        if "securityGroupIds" in overrides:
            primary["Groups"] = list(overrides["securityGroupIds"])  # type: ignore[index]
        updated["NetworkInterfaces"] = interfaces
    return updated


def template_drift(settings: Mapping[str, Any], data: Mapping[str, Any]) -> list[str]:
    """Each override the template's default version does not have, as ``launchTemplate.
    field: has X, the group wants Y`` (security groups compared as sets)."""
    overrides = template_overrides(settings)
    view = TemplateView.of(data)
    has = {
        "instanceType": view.instance_type,
        "subnetId": view.subnet_id,
        "securityGroupIds": sorted(view.security_group_ids),
    }
    found = []
    for name, wanted in overrides.items():
        comparable = sorted(wanted) if name == "securityGroupIds" else wanted
        if has[name] != comparable:
            found.append(f"launchTemplate.{name}: has {has[name]}, the group wants {comparable}")
    return found


def problems(settings: Mapping[str, Any], instance_types: frozenset[str]) -> list[tuple[str, str]]:
    """What is wrong with a group's launch settings beyond their schema, as (field, rule):
    an instance type EC2 does not have (``instance_types``: botocore's EC2 model), and an
    instance type DRS would not launch because right-sizing picks its own."""
    found = []
    overrides = template_overrides(settings)
    wanted_type = overrides.get("instanceType")
    if wanted_type is not None and wanted_type not in instance_types:
        found.append(
            (
                "launchSettings.launchTemplate.instanceType",
                f"'{wanted_type}' is not an EC2 instance type",
            )
        )
    method = settings.get("targetInstanceTypeRightSizingMethod")
    if wanted_type is not None and method != KEEPS_INSTANCE_TYPE:
        found.append(
            (
                "launchSettings.targetInstanceTypeRightSizingMethod",
                f"must be {KEEPS_INSTANCE_TYPE} when launchTemplate.instanceType is set: under "
                "BASIC or IN_AWS right-sizing DRS picks the instance type itself and replaces "
                "the template's",
            )
        )
    return found
