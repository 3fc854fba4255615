"""Launch settings per protection group (issue 16, item 2, DRS launch configuration): set on
the group, validated against botocore's model, applied to every member server in the
group's own DRS target, and drift reported by readiness."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import botocore.session
from drs_orchestrator.api import schemas

from tests.e2e.conftest import STAGING, TARGETS
from tests.e2e.test_readiness import AWAY, HOME, plan, readiness

if TYPE_CHECKING:
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
    assert set(settings) <= set(members)


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
