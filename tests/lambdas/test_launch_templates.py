"""A group's EC2 launch template overrides: the version data applying writes, the drift
readiness reports, the rules a save checks (``domain/launch.py``), and the request shape
a response's data is fitted to before it is sent back (``adapters/ec2.py``)."""

from __future__ import annotations

import botocore.session
from drs_orchestrator.adapters.ec2 import conform, known_instance_types
from drs_orchestrator.domain import launch

DRS_TEMPLATE = {
    "InstanceType": "t3.small",
    "NetworkInterfaces": [
        {"DeviceIndex": 1, "SubnetId": "subnet-00000000000000002", "Groups": ["sg-2"]},
        {
            "DeviceIndex": 0,
            "SubnetId": "subnet-00000000000000001",
            "Groups": ["sg-1"],
            "AssociatePublicIpAddress": False,
        },
    ],
    "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "a"}]}],
}


def test_the_new_version_replaces_only_the_overridden_fields_of_the_primary_interface() -> None:
    settings = {
        "launchTemplate": {"subnetId": "subnet-0000000000000000f", "securityGroupIds": ["sg-9"]}
    }
    data = launch.template_data(settings, DRS_TEMPLATE)
    assert data is not None
    assert data["InstanceType"] == "t3.small"
    secondary, primary = data["NetworkInterfaces"]
    assert primary == {
        "DeviceIndex": 0,
        "SubnetId": "subnet-0000000000000000f",
        "Groups": ["sg-9"],
        "AssociatePublicIpAddress": False,
    }
    assert secondary == DRS_TEMPLATE["NetworkInterfaces"][0], "other interfaces are kept"
    assert data["TagSpecifications"] == DRS_TEMPLATE["TagSpecifications"]
    assert DRS_TEMPLATE["NetworkInterfaces"][1]["SubnetId"] == "subnet-00000000000000001", (
        "the current data is not changed in place"
    )


def test_a_template_already_as_wanted_needs_no_version_and_shows_no_drift() -> None:
    settings = {"launchTemplate": {"instanceType": "t3.small", "securityGroupIds": ["sg-1"]}}
    assert launch.template_data(settings, DRS_TEMPLATE) is None
    assert launch.template_drift(settings, DRS_TEMPLATE) == []
    assert launch.template_data({"copyTags": True}, DRS_TEMPLATE) is None


def test_drift_names_each_overridden_field_and_compares_groups_as_sets() -> None:
    settings = {
        "launchTemplate": {
            "instanceType": "m5.large",
            "subnetId": "subnet-00000000000000001",
            "securityGroupIds": ["sg-b", "sg-a"],
        }
    }
    current = {
        **DRS_TEMPLATE,
        "NetworkInterfaces": [
            {"DeviceIndex": 0, "SubnetId": "subnet-00000000000000001", "Groups": ["sg-a", "sg-b"]}
        ],
    }
    assert launch.template_drift(settings, current) == [
        "launchTemplate.instanceType: has t3.small, the group wants m5.large"
    ]


def test_a_template_without_interfaces_gets_a_primary_one() -> None:
    data = launch.template_data({"launchTemplate": {"subnetId": "subnet-0000000000000000a"}}, {})
    assert data == {
        "NetworkInterfaces": [{"DeviceIndex": 0, "SubnetId": "subnet-0000000000000000a"}]
    }


def test_an_instance_type_must_be_known_and_needs_right_sizing_off() -> None:
    known = known_instance_types()
    assert "m5.large" in known and len(known) > 500
    assert launch.problems({"launchTemplate": {"instanceType": "m5.large"}}, known) == [
        (
            "launchSettings.targetInstanceTypeRightSizingMethod",
            "must be NONE when launchTemplate.instanceType is set: under BASIC or IN_AWS "
            "right-sizing DRS picks the instance type itself and replaces the template's",
        )
    ]
    fields = [
        field
        for field, _rule in launch.problems(
            {
                "targetInstanceTypeRightSizingMethod": "NONE",
                "launchTemplate": {"instanceType": "m5.huge"},
            },
            known,
        )
    ]
    assert fields == ["launchSettings.launchTemplate.instanceType"]
    assert (
        launch.problems(
            {
                "targetInstanceTypeRightSizingMethod": "NONE",
                "launchTemplate": {"instanceType": "m5.large"},
            },
            known,
        )
        == []
    )
    assert (
        launch.problems({"launchTemplate": {"subnetId": "subnet-0000000000000000a"}}, known) == []
    )


def test_response_only_fields_are_dropped_before_the_data_is_sent_back() -> None:
    model = botocore.session.get_session().get_service_model("ec2")
    shape = model.operation_model("CreateLaunchTemplateVersion").input_shape.members[
        "LaunchTemplateData"
    ]
    response_data = {
        "InstanceType": "t3.small",
        "MetadataOptions": {"State": "applied", "HttpTokens": "required"},
        "NetworkInterfaces": [
            {
                "DeviceIndex": 0,
                "Ipv6Addresses": [{"Ipv6Address": "2001:db8::1", "IsPrimaryIpv6": True}],
            }
        ],
    }
    assert conform(response_data, shape) == {
        "InstanceType": "t3.small",
        "MetadataOptions": {"HttpTokens": "required"},
        "NetworkInterfaces": [
            {"DeviceIndex": 0, "Ipv6Addresses": [{"Ipv6Address": "2001:db8::1"}]}
        ],
    }
