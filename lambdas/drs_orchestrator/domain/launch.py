"""Launch settings of a protection group: the DRS launch configuration every member server
should have, what to send DRS to give it to a server, and how a server's configuration has
drifted from it.

A group's ``launchSettings`` uses DRS's own field names (``UpdateLaunchConfiguration``):
``targetInstanceTypeRightSizingMethod`` (NONE, BASIC, IN_AWS), ``launchDisposition``
(STOPPED, STARTED), ``copyPrivateIp``, ``copyTags``, ``licensing.osByol`` and
``postLaunchEnabled``; each is optional, and one left out is left as DRS has it. The API's
schema takes its enumerations from botocore's DRS model (a test holds the two equal).
"""

from __future__ import annotations

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
