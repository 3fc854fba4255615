"""Gateway to the EC2 side of a DRS launch: each source server's launch template, and the
subnets and instance types the templates name.

DRS launches a recovery instance from the server's EC2 launch template at its default
version. Changing the template is two calls: CreateLaunchTemplateVersion (the whole
``LaunchTemplateData``, the current default's with the group's overrides, so the result
does not depend on how ``SourceVersion`` merges) and ModifyLaunchTemplate to make it the
default. Either may fail or lose its answer; ``apply`` is written to be repeated: a new
version already made with the same data (its answer lost, or the function stopped before
making it the default) is made the default instead of a second copy, and the client token
makes AWS answer a retried create with the version it made.

Listing calls go through botocore's paginators; throttling (``RequestLimitExceeded``) is
retried by the shared client configuration; what is left is mapped by code.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import TYPE_CHECKING, Any

import botocore.session
from botocore.exceptions import BotoCoreError, ClientError

from drs_orchestrator.adapters.clients import client as make_client
from drs_orchestrator.adapters.clients import error_code, pages
from drs_orchestrator.errors import Ec2Error, OutcomeUnknownError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

#: The codes that say a launch template (or the version asked for) does not exist.
TEMPLATE_MISSING_CODES = frozenset(
    {
        "InvalidLaunchTemplateId.NotFound",
        "InvalidLaunchTemplateId.Malformed",
        "InvalidLaunchTemplateId.VersionNotFound",
        "InvalidLaunchTemplateName.NotFoundException",
    }
)
#: Codes after which a call may have taken effect (the answer is lost, not refused).
OUTCOME_UNKNOWN_CODES = frozenset({"InternalError", "InternalFailure", "Unavailable"})
#: Values in one filter of a Describe call (EC2 accepts up to 200).
FILTER_VALUES = 200


def map_ec2_error(operation: str, exc: Exception) -> Exception:
    """A ClientError by its code; a lost answer (no answer, or EC2's side failed: a 5xx) as
    ``OutcomeUnknownError``."""
    response = getattr(exc, "response", None) or {}
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    if (
        isinstance(exc, ClientError)
        and error_code(exc) not in OUTCOME_UNKNOWN_CODES
        and status < 500  # noqa: PLR2004
    ):
        message = str(exc.response.get("Error", {}).get("Message", ""))
        return Ec2Error(operation, error_code(exc), message)
    return OutcomeUnknownError(operation, error_code(exc))


def conform(value: Any, shape: Any) -> Any:
    """``value`` (a response's launch template data) with only what ``shape`` (the request's
    shape in botocore's model) has: a few response fields (``MetadataOptions.State``,
    ``Ipv6Addresses[].IsPrimaryIpv6``...) cannot be sent back."""
    if shape.type_name == "structure" and isinstance(value, dict):
        return {
            name: conform(item, shape.members[name])
            for name, item in value.items()
            if name in shape.members
        }
    if shape.type_name == "list" and isinstance(value, list):
        return [conform(item, shape.member) for item in value]
    return value


@functools.cache
def known_instance_types() -> frozenset[str]:
    """Every EC2 instance type botocore's EC2 model knows (its ``InstanceType`` enum): what
    a group's launch template override is checked against when it is saved."""
    model = botocore.session.get_session().get_service_model("ec2")
    return frozenset(model.shape_for("InstanceType").enum)


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), FILTER_VALUES):
        yield ordered[start : start + FILTER_VALUES]


class LaunchTemplates:
    """Reads and changes EC2 launch templates in one account and region; the client is
    injected for a DRS target (the target role's credentials)."""

    def __init__(self, client: Any = None) -> None:
        self._client = client or make_client("ec2")

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            return dict(getattr(self._client, operation)(**params))
        except (ClientError, BotoCoreError) as exc:
            raise map_ec2_error(operation, exc) from exc

    def _pages(self, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
        return pages(self._client, operation, map_ec2_error, **params)

    def versions(self, template_id: str) -> dict[str, Any] | None:
        """The template's default and latest versions (DescribeLaunchTemplateVersions items,
        ``{"default": ..., "latest": ...}``), or None when the template does not exist."""
        try:
            response = self._call(
                "describe_launch_template_versions",
                LaunchTemplateId=template_id,
                Versions=["$Default", "$Latest"],
            )
        except Ec2Error as exc:
            if exc.code in TEMPLATE_MISSING_CODES:
                return None
            raise
        items = response.get("LaunchTemplateVersions") or []
        if not items:
            return None
        default = next((v for v in items if v.get("DefaultVersion")), items[0])
        latest = max(items, key=lambda v: int(v.get("VersionNumber") or 0))
        return {"default": default, "latest": latest}

    def default_data(self, template_id: str) -> dict[str, Any] | None:
        """The ``LaunchTemplateData`` of the template's default version (None: no template)."""
        found = self.versions(template_id)
        return dict(found["default"].get("LaunchTemplateData") or {}) if found else None

    def apply(
        self, template_id: str, found: dict[str, Any], data: dict[str, Any], description: str
    ) -> int:
        """Make ``data`` the template's default version, ``found`` being its ``versions``
        as just read; returns the version's number. Safe to repeat: a latest version that
        already has ``data`` is made the default rather than copied again."""
        request_shape = self._client.meta.service_model.operation_model(
            "CreateLaunchTemplateVersion"
        ).input_shape.members["LaunchTemplateData"]
        wanted = conform(data, request_shape)
        latest = found["latest"]
        if conform(latest.get("LaunchTemplateData") or {}, request_shape) == wanted:
            number = int(latest["VersionNumber"])
        else:
            digest = hashlib.sha256(
                json.dumps([template_id, latest["VersionNumber"], wanted], sort_keys=True).encode()
            ).hexdigest()[:32]
            created = self._call(
                "create_launch_template_version",
                LaunchTemplateId=template_id,
                LaunchTemplateData=wanted,
                VersionDescription=description[:255],
                ClientToken=digest,
            )
            number = int(created["LaunchTemplateVersion"]["VersionNumber"])
        if int(found["default"]["VersionNumber"]) != number:
            self._call(
                "modify_launch_template", LaunchTemplateId=template_id, DefaultVersion=str(number)
            )
        return number

    def existing_subnets(self, subnet_ids: Iterable[str]) -> set[str]:
        """Which of ``subnet_ids`` exist (a filter, so a missing one is simply absent)."""
        found: set[str] = set()
        for chunk in _chunks(subnet_ids):
            for page in self._pages(
                "describe_subnets", Filters=[{"Name": "subnet-id", "Values": chunk}]
            ):
                found.update(s["SubnetId"] for s in page.get("Subnets", []))
        return found

    def offered_instance_types(self, instance_types: Iterable[str]) -> set[str]:
        """Which of ``instance_types`` EC2 offers in this region."""
        found: set[str] = set()
        for chunk in _chunks(instance_types):
            for page in self._pages(
                "describe_instance_type_offerings",
                LocationType="region",
                Filters=[{"Name": "instance-type", "Values": chunk}],
            ):
                found.update(o["InstanceType"] for o in page.get("InstanceTypeOfferings", []))
        return found
