"""Launch settings per protection group (issue 16, item 2, DRS launch configuration): set on
the group, validated against botocore's model, applied to every member server in the
group's own DRS target, and drift reported by readiness."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from drs_orchestrator.adapters.ec2 import known_instance_types
from drs_orchestrator.api import schemas
from drs_orchestrator.domain import launch
from drs_orchestrator.domain.readiness import CHECKS

from tests.e2e.conftest import STAGING, TARGETS
from tests.e2e.faults import refused_in_targets
from tests.e2e.test_readiness import AWAY, HOME, plan, readiness

if TYPE_CHECKING:
    import pytest

    from tests.e2e.conftest import Harness

WANTED = {
    "targetInstanceTypeRightSizingMethod": "NONE",
    "launchDisposition": "STOPPED",
    "copyPrivateIp": True,
    "copyTags": True,
    "licensing": {"osByol": False},
}


def groups(harness: Harness) -> dict[str, dict[str, Any]]:
    status, answer = harness.api("GET", "/protection-groups", groups="read-only")
    assert status == 200
    return {g["name"]: g for g in answer["items"]}


def set_settings(harness: Harness, name: str, settings: dict[str, Any]) -> tuple[int, Any]:
    group = groups(harness)[name]
    body = {
        k: group[k]
        for k in ("name", "region", "accountId", "sourceServerIds", "tagSelectors", "version")
        if k in group
    }
    return harness.api(
        "PUT",
        "/protection-groups/{groupId}",
        groups="admin",
        body=json.dumps({**body, "launchSettings": settings}),
        groupId=group["groupId"],
    )


def apply(harness: Harness, name: str) -> tuple[int, Any]:
    return harness.api(
        "POST",
        "/protection-groups/{groupId}/launch-settings/apply",
        groups="operator",
        groupId=groups(harness)[name]["groupId"],
    )


def test_the_schema_takes_drs_enumerations_from_botocore() -> None:
    model = botocore.session.get_session().get_service_model("drs")
    members = model.operation_model("UpdateLaunchConfiguration").input_shape.members
    settings = schemas.document()["components"]["schemas"]["LaunchSettings"]["properties"]
    for name in ("targetInstanceTypeRightSizingMethod", "launchDisposition"):
        assert settings[name]["enum"] == list(members[name].enum)
    drs_fields = set(settings) - {"launchTemplate"}
    assert drs_fields <= set(members) and drs_fields == set(launch.FIELDS)
    assert set(settings["launchTemplate"]["properties"]) == set(launch.TEMPLATE_FIELDS)
    pattern = re.compile(settings["launchTemplate"]["properties"]["instanceType"]["pattern"])
    assert all(pattern.fullmatch(t) for t in known_instance_types()), "no real type refused"


def test_readiness_checks_names_the_schema_lists() -> None:
    finding = schemas.document()["components"]["schemas"]["ReadinessFinding"]["properties"]
    assert tuple(finding["check"]["enum"]) == CHECKS


def test_a_bad_launch_setting_is_refused_naming_the_field_and_changes_nothing(
    harness: Harness,
) -> None:
    plan(harness)
    before = groups(harness)["db"]
    status, answer = set_settings(harness, "db", {"launchDisposition": "RUNNING"})
    assert status == 400
    assert any(e["field"].startswith("launchSettings") for e in answer["errors"]), answer
    assert groups(harness)["db"]["version"] == before["version"]


def test_drift_is_reported_then_applied_in_each_groups_own_target(harness: Harness) -> None:
    plan_id = plan(harness)
    for name in ("db", "app"):
        status, answer = set_settings(harness, name, WANTED)
        assert status == 200, answer

    drifted = [
        f for f in readiness(harness, plan_id)["findings"] if f["check"] == "launch-settings"
    ]
    assert sorted(f["sourceServerId"] for f in drifted) == sorted([*HOME, AWAY])
    assert all(f["severity"] == "warning" for f in drifted)
    assert "launchDisposition: has STARTED, the group wants STOPPED" in drifted[0]["message"]

    for name, servers in (("db", HOME), ("app", [AWAY])):
        status, answer = apply(harness, name)
        assert status == 200, answer
        assert (sorted(answer["applied"]), answer["failed"]) == (sorted(servers), [])
    away = harness.targets[STAGING].launch_configurations[AWAY]
    assert (away["launchDisposition"], away["licensing"]) == ("STOPPED", {"osByol": False})
    assert harness.drs.launch_configurations[HOME[0]]["copyTags"] is True
    assert AWAY not in harness.drs.launch_configurations, "applied in the group's target only"

    answer = readiness(harness, plan_id)
    assert answer["state"] == "passed", answer["findings"]
    assert TARGETS[STAGING]


def test_a_server_drs_refuses_is_named_and_applying_again_finishes(harness: Harness) -> None:
    plan(harness)
    status, answer = set_settings(harness, "db", WANTED)
    assert status == 200, answer
    harness.drs.fail_next("UpdateLaunchConfiguration", "ConflictException")  # not retried

    status, answer = apply(harness, "db")

    assert status == 200
    assert len(answer["failed"]) == 1 and answer["failed"][0]["sourceServerId"] in HOME
    assert len(answer["applied"]) == 1
    status, answer = apply(harness, "db")
    assert (sorted(answer["applied"]), answer["failed"]) == (sorted(HOME), [])


def test_a_group_without_launch_settings_has_nothing_to_apply(harness: Harness) -> None:
    plan(harness)
    status, answer = apply(harness, "db")
    assert status == 400 and answer["errors"][0]["field"] == "launchSettings"
    status, answer = harness.api(
        "POST",
        "/protection-groups/{groupId}/launch-settings/apply",
        groups="read-only",
        groupId=groups(harness)["db"]["groupId"],
    )
    assert status == 403


TEMPLATE = {
    "targetInstanceTypeRightSizingMethod": "NONE",
    "launchTemplate": {"instanceType": "m5.large"},
}


def subnet_in(account: str, region: str) -> str:
    """A subnet of the account and region that is not the one DRS's templates start in."""
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account][region]
    vpc = backend.create_vpc("10.9.0.0/16")
    return str(backend.create_subnet(vpc.id, "10.9.1.0/24").id)


def template_of(drs: Any, server: str) -> dict[str, Any]:
    template_id = drs.launch_configurations[server]["ec2LaunchTemplateID"]
    return dict(drs.templates.default_data(template_id))


def test_launch_template_overrides_are_applied_as_a_new_default_version(
    harness: Harness,
) -> None:
    plan_id = plan(harness)
    account, region = TARGETS[STAGING]
    subnet = subnet_in(account, region)
    before = template_of(harness.targets[STAGING], AWAY)
    wanted = {**TEMPLATE, "launchTemplate": {"instanceType": "m5.large", "subnetId": subnet}}
    assert set_settings(harness, "app", wanted)[0] == 200

    drifted = [
        f for f in readiness(harness, plan_id)["findings"] if f["check"] == "launch-settings"
    ]
    assert [f["sourceServerId"] for f in drifted] == [AWAY]
    assert (
        "launchTemplate.instanceType: has t3.small, the group wants m5.large"
        in (drifted[0]["message"])
    )
    assert (
        f"launchTemplate.subnetId: has {before['NetworkInterfaces'][0]['SubnetId']}"
        in (drifted[0]["message"])
    )

    status, answer = apply(harness, "app")
    assert (status, answer["applied"], answer["failed"]) == (200, [AWAY], []), answer

    after = template_of(harness.targets[STAGING], AWAY)
    assert after["InstanceType"] == "m5.large"
    assert after["NetworkInterfaces"][0]["SubnetId"] == subnet
    # The rest of DRS's template is kept: security groups, tags, the public-IP choice.
    assert after["NetworkInterfaces"][0]["Groups"] == before["NetworkInterfaces"][0]["Groups"]
    assert after["TagSpecifications"] == before["TagSpecifications"]
    assert (
        harness.targets[STAGING].launch_configurations[AWAY]["targetInstanceTypeRightSizingMethod"]
        == "NONE"
    )
    assert readiness(harness, plan_id)["state"] == "passed"

    template_id = harness.targets[STAGING].launch_configurations[AWAY]["ec2LaunchTemplateID"]
    versions = len(_backend(account, region).launch_templates[template_id].versions)
    assert apply(harness, "app")[1]["applied"] == [AWAY]
    assert len(_backend(account, region).launch_templates[template_id].versions) == versions, (
        "applying again writes no new version"
    )


def _backend(account: str, region: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account][region]


def test_an_instance_type_needs_right_sizing_off_and_must_be_a_real_type(
    harness: Harness,
) -> None:
    plan(harness)
    before = groups(harness)["db"]["version"]
    status, answer = set_settings(harness, "db", {"launchTemplate": {"instanceType": "m5.large"}})
    assert status == 400
    assert [e["field"] for e in answer["errors"]] == [
        "launchSettings.targetInstanceTypeRightSizingMethod"
    ]
    assert "must be NONE" in answer["errors"][0]["reason"]
    status, answer = set_settings(
        harness, "db", {**TEMPLATE, "launchTemplate": {"instanceType": "m5.huge"}}
    )
    assert status == 400
    assert answer["errors"][0]["field"] == "launchSettings.launchTemplate.instanceType"
    status, answer = set_settings(harness, "db", {"launchTemplate": {"subnetId": "vpc-1234"}})
    assert status == 400 and "launchTemplate" in answer["errors"][0]["field"], answer
    assert groups(harness)["db"]["version"] == before


def test_a_lost_template_a_gone_subnet_and_an_unoffered_type_need_action(
    harness: Harness,
) -> None:
    plan_id = plan(harness)
    lost = harness.drs.lose_template(HOME[0])
    # The other home server's template points at a subnet since deleted, and a type EC2 does
    # not offer in the region, with right-sizing off (DRS would launch that type).
    # (cc2.8xlarge: retired, not offered in us-east-1 by EC2, nor by moto's copy of its data)
    template_id = harness.drs.launch_configurations[HOME[1]]["ec2LaunchTemplateID"]
    ec2 = boto3.client("ec2", region_name=harness.drs.region)
    current = template_of(harness.drs, HOME[1])
    interface = {k: v for k, v in current["NetworkInterfaces"][0].items() if k != "SubnetId"}
    version = ec2.create_launch_template_version(
        LaunchTemplateId=template_id,
        LaunchTemplateData={
            "InstanceType": "cc2.8xlarge",
            "NetworkInterfaces": [{**interface, "SubnetId": "subnet-0deadbeef"}],
        },
    )["LaunchTemplateVersion"]["VersionNumber"]
    ec2.modify_launch_template(LaunchTemplateId=template_id, DefaultVersion=str(version))
    harness.drs.launch_configurations[HOME[1]]["targetInstanceTypeRightSizingMethod"] = "NONE"

    answer = readiness(harness, plan_id)

    templates = [f for f in answer["findings"] if f["check"] == "launch-template"]
    assert answer["state"] == "actionRequired"
    assert {(f["sourceServerId"], f["severity"]) for f in templates} == {
        (HOME[0], "actionRequired"),
        (HOME[1], "actionRequired"),
    }
    messages = " | ".join(f["message"] for f in templates)
    assert f"EC2 launch template {lost} of {HOME[0]} (wave Data) does not exist" in messages
    assert "subnet subnet-0deadbeef, which does not exist" in messages
    assert "instance type cc2.8xlarge, which EC2 does not offer" in messages
    assert len(templates) == 3

    # Right-sizing on: DRS picks the type itself, the template's does not matter.
    harness.drs.launch_configurations[HOME[1]]["targetInstanceTypeRightSizingMethod"] = "BASIC"
    messages = " | ".join(f["message"] for f in readiness(harness, plan_id)["findings"])
    assert "cc2.8xlarge" not in messages and "subnet-0deadbeef" in messages


def test_applying_to_a_server_whose_template_is_gone_names_it_and_applies_the_rest(
    harness: Harness,
) -> None:
    plan(harness)
    assert set_settings(harness, "db", TEMPLATE)[0] == 200
    lost = harness.drs.lose_template(HOME[0])

    status, answer = apply(harness, "db")

    assert status == 200 and answer["applied"] == [HOME[1]]
    assert answer["failed"][0]["sourceServerId"] == HOME[0]
    assert f"launch template {lost} of {HOME[0]} does not exist" in answer["failed"][0]["error"]
    assert template_of(harness.drs, HOME[1])["InstanceType"] == "m5.large"


def test_a_target_role_older_than_the_deployment_is_a_permissions_warning_not_a_failure(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target stack deployed before the deployment learnt a call (its role lacks
    GetLaunchConfiguration, or the EC2 reads): readiness says so, and checks the rest."""
    plan_id = plan(harness)
    refused_in_targets(monkeypatch, "ec2", "*", "UnauthorizedOperation")
    harness.targets[STAGING].stall(AWAY)

    answer = readiness(harness, plan_id)

    permissions = [f for f in answer["findings"] if f["check"] == "permissions"]
    assert [(f["severity"], f["sourceServerId"]) for f in permissions] == [("warning", "")]
    assert (
        f"DRS target {STAGING} may not call ec2:DescribeLaunchTemplateVersions"
        in (permissions[0]["message"])
    )
    assert "infra/target" in permissions[0]["fix"]
    # The rest of the target is still checked: its stalled server needs action.
    assert ("replication", AWAY) in {(f["check"], f["sourceServerId"]) for f in answer["findings"]}
    assert answer["state"] == "actionRequired"

    harness.targets[STAGING].replicate(AWAY)
    harness.targets[STAGING].fail_next("GetLaunchConfiguration", "AccessDeniedException", 5)
    answer = readiness(harness, plan_id)
    assert answer["state"] == "warnings", answer["findings"]
    assert [f["message"].split(" (")[0] for f in answer["findings"]] == [
        f"the role in DRS target {STAGING} may not call drs:GetLaunchConfiguration"
    ]


def test_the_template_readiness_warned_about_fails_the_drill_when_it_is_run(
    harness: Harness,
) -> None:
    """What readiness reports is what the day would bring: DRS cannot launch a server whose
    launch template is gone (the simulator, like DRS, fails that launch)."""
    plan_id = plan(harness)
    harness.drs.lose_template(HOME[0])
    assert readiness(harness, plan_id)["state"] == "actionRequired"

    status, started = harness.api(
        "POST",
        "/recovery-plans/{planId}/executions",
        groups="operator",
        body=json.dumps({"mode": "DRILL"}),
        planId=plan_id,
    )
    assert status == 202, started
    item = harness.wait_for(started["executionId"], "COMPLETED", "FAILED")

    assert item["status"] == "FAILED"
    waves = {w["name"]: w for w in item["waves"]}
    assert waves["Data"]["reason"] == f"servers did not launch: 1 server: {HOME[0]} (FAILED)"
    assert item["servers"][HOME[0]]["launchStatus"] == "FAILED"
    assert item["servers"][HOME[1]]["launchStatus"] == "LAUNCHED"
    assert waves["Apps"]["status"] == "SKIPPED", "no later wave after a failed one"
