"""The EC2 launch templates the DRS simulator makes for its source servers, as real
templates in moto's EC2 of the simulator's account and region.

DRS creates one EC2 launch template per source server when the server is added (its launch
configuration's ``ec2LaunchTemplateID``) and launches the recovery instance from the
template's default version. The simulator does the same through moto's EC2 backend, so the
orchestrator reads and changes them through EC2's real API (moto), and a test can take a
template away as an operator might.
"""

from __future__ import annotations

import uuid
from typing import Any

#: DRS's instance type in a new server's template, before right-sizing picks one.
DEFAULT_INSTANCE_TYPE = "t3.small"


class MotoLaunchTemplates:
    """Launch templates of one account and region in moto's EC2 (mock or server mode:
    the backends are the same objects in this process)."""

    def __init__(self, account: str, region: str) -> None:
        self.account = account
        self.region = region

    def _backend(self) -> Any:
        from moto.ec2.models import ec2_backends

        return ec2_backends[self.account][self.region]

    def create(self, server_id: str) -> str:
        """A template as DRS makes one for ``server_id``: its instance type, and the primary
        interface in a default subnet with the default VPC's default security group."""
        backend = self._backend()
        subnets = sorted(backend.get_default_subnets().items())
        interface: dict[str, Any] = {"DeviceIndex": 0, "AssociatePublicIpAddress": False}
        if subnets:
            interface["SubnetId"] = subnets[0][1].id
        group = backend.get_default_security_group()
        if group is not None:
            interface["Groups"] = [group.id]
        data = {
            "InstanceType": DEFAULT_INSTANCE_TYPE,
            "NetworkInterfaces": [interface],
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": server_id}]}
            ],
        }
        tags = {"launch-template": {"AWSElasticDisasterRecoveryManaged": "drs.amazonaws.com"}}
        # Names are unique per account and region: two simulators may seed the same ids.
        name = f"drs-launch-template-{server_id}-{uuid.uuid4().hex[:8]}"
        template = backend.create_launch_template(name, "Created by DRS", data, tags)
        return str(template.id)

    def exists(self, template_id: str) -> bool:
        return template_id in self._backend().launch_templates

    def delete(self, template_id: str) -> None:
        """Delete the template (an operator's cleanup DRS did not expect)."""
        self._backend().delete_launch_template("", template_id)

    def default_data(self, template_id: str) -> dict[str, Any]:
        """The default version's data (a test's look behind the API)."""
        return dict(self._backend().get_launch_template(template_id).default_version().data)
