"""Readiness asks IAM whether the roles acting for a plan may launch it (issue 16, item 1:
"the function roles can do what the plan needs"): the wave runner at home, and the
deployment's role in each other target account, simulated there by itself, in the region
it would act in, with the organization's SCPs counted."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
from drs_orchestrator.domain.permissions import AUTOMATION_ACTIONS, RECOVERY_ACTIONS

from tests.e2e.conftest import DEPLOYMENT, RUNNER_POLICY, STAGING, TARGETS, iam_in, role_arn
from tests.e2e.faults import refused_in_targets
from tests.e2e.test_readiness import plan, readiness, with_pre_action

if TYPE_CHECKING:
    import pytest

    from tests.e2e.conftest import Harness

STAGING_ACCOUNT, STAGING_REGION = TARGETS[STAGING]
RUNNER_ROLE = f"arn:aws:iam::123456789012:role/{DEPLOYMENT}-wave-runner-role"


def permission_findings(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in answer["findings"] if f["check"] == "permissions"]


def test_every_role_acting_for_the_plan_is_simulated_where_it_acts(harness: Harness) -> None:
    plan_id = plan(harness)

    answer = readiness(harness, plan_id)

    assert answer["state"] == "passed", answer["findings"]
    by_role = {
        (c["role"], tuple(c["actions"]), tuple(c["resources"])) for c in harness.policies.calls
    }
    assert (RUNNER_ROLE, RECOVERY_ACTIONS, ("*",)) in by_role, "the runner launches at home"
    assert (RUNNER_ROLE, ("sts:AssumeRole",), (role_arn(STAGING_ACCOUNT),)) in by_role
    assert (role_arn(STAGING_ACCOUNT), RECOVERY_ACTIONS, ("*",)) in by_role
    assert not any(AUTOMATION_ACTIONS[0] in c["actions"] for c in harness.policies.calls), (
        "a plan without actions needs no Automation"
    )


def test_an_scp_denying_launches_in_a_target_needs_action(harness: Harness) -> None:
    plan_id = plan(harness)
    harness.policies.organization_denies.add((STAGING_ACCOUNT, "drs:StartRecovery"))

    answer = readiness(harness, plan_id)

    assert answer["state"] == "actionRequired"
    (finding,) = permission_findings(answer)
    assert finding["severity"] == "actionRequired"
    assert finding["message"] == (
        f"the role in the target may not call drs:StartRecovery in {STAGING_REGION} "
        f"(DRS target {STAGING}): an SCP of the organization denies it"
    )
    assert "organization's administrators" in finding["fix"]


def test_a_runner_role_without_automation_or_the_target_needs_action(harness: Harness) -> None:
    plan_id = plan(harness)
    with_pre_action(harness, plan_id)
    # Someone trimmed the wave runner's policy by hand: no Automation, no target role.
    trimmed = {**RUNNER_POLICY, "Statement": RUNNER_POLICY["Statement"][:1]}
    boto3.client("iam").put_role_policy(
        RoleName=RUNNER_ROLE.rsplit("/", 1)[-1],
        PolicyName="runtime",
        PolicyDocument=json.dumps(trimmed),
    )

    answer = readiness(harness, plan_id)

    messages = sorted(f["message"] for f in permission_findings(answer))
    assert messages == sorted(
        [
            "the wave runner's role may not call ssm:StartAutomationExecution in us-east-1 "
            "(DRS target home/us-east-1): no policy of the role allows it",
            "the wave runner's role may not call ssm:GetAutomationExecution in us-east-1 "
            "(DRS target home/us-east-1): no policy of the role allows it",
            f"the wave runner's role may not call sts:AssumeRole on {role_arn(STAGING_ACCOUNT)} "
            "in us-east-1 (DRS target home/us-east-1): no policy of the role allows it",
        ]
    )
    assert all("deploy this stack again" in f["fix"] for f in permission_findings(answer))


def test_a_target_role_limited_to_another_region_needs_action(harness: Harness) -> None:
    plan_id = plan(harness)
    name = role_arn(STAGING_ACCOUNT).rsplit("/", 1)[-1]
    target_iam = iam_in(STAGING_ACCOUNT)
    document = target_iam.get_role_policy(RoleName=name, PolicyName="runtime")["PolicyDocument"]
    document["Statement"][0]["Condition"] = {"StringEquals": {"aws:RequestedRegion": ["eu-west-1"]}}
    target_iam.put_role_policy(
        RoleName=name, PolicyName="runtime", PolicyDocument=json.dumps(document)
    )

    answer = readiness(harness, plan_id)

    denied = {
        f["message"].split(" may not call ")[1].split(" ")[0] for f in permission_findings(answer)
    }
    assert denied == set(RECOVERY_ACTIONS)
    assert all("infra/target" in f["fix"] for f in permission_findings(answer))


def test_a_target_role_that_may_not_simulate_itself_is_a_warning(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target stack deployed before readiness simulated the role: said, not failed."""
    plan_id = plan(harness)
    refused_in_targets(monkeypatch, "iam", "SimulatePrincipalPolicy", "AccessDenied")

    answer = readiness(harness, plan_id)

    assert answer["state"] == "warnings", answer["findings"]
    (finding,) = permission_findings(answer)
    assert finding["severity"] == "warning"
    assert f"DRS target {STAGING} may not call iam:SimulatePrincipalPolicy" in finding["message"]


def test_a_wave_runner_role_deleted_by_hand_is_one_finding_not_a_failed_evaluation(
    harness: Harness,
) -> None:
    plan_id = plan(harness)
    iam = boto3.client("iam")
    name = RUNNER_ROLE.rsplit("/", 1)[-1]
    iam.delete_role_policy(RoleName=name, PolicyName="runtime")
    iam.delete_role(RoleName=name)

    answer = readiness(harness, plan_id)

    assert answer["state"] == "actionRequired"
    messages = [f["message"] for f in permission_findings(answer)]
    assert len(messages) == 2  # the recovery at home, and reaching the target's role
    assert all(m.endswith("(DRS target home/us-east-1): the role does not exist") for m in messages)
    assert f"may not call {', '.join(RECOVERY_ACTIONS)} in us-east-1" in messages[0] + messages[1]
