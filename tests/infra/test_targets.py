"""DRS targets as stack configuration (``drsTargets``): every rule checked before a resource
is declared, each problem naming the entry and field; valid targets reach the program."""

from __future__ import annotations

import json
from typing import Any

import pytest
from drs_orchestrator.domain.targets import Targets
from drs_policy.offline import evaluate_stack

from infra.offline import evaluate
from infra.settings import drs_regions
from infra.targets import DrsTarget, parse_targets
from tests.infra.test_settings import NS, failing

KEY = f"{NS}:drsTargets"
DEPLOYMENT = "aws-elasticdrs-orchestrator-dev"  # stack dev's
GOOD = {"account": "111122223333", "region": "us-west-2", "externalId": "dev-drs-7f3a"}


def targets(*entries: Any) -> dict[str, str]:
    return {KEY: json.dumps(list(entries))}


def test_targets_reach_the_program_with_the_deployments_role() -> None:
    second = {**GOOD, "account": "444455556666", "region": "eu-west-1"}
    evaluation = evaluate("dev", config_overrides=targets(GOOD, second))
    assert evaluation.outputs["drsTargets"] == "111122223333/us-west-2, 444455556666/eu-west-1"
    parsed, problems = parse_targets([GOOD], DEPLOYMENT, "us-east-1", drs_regions())
    assert problems == []
    assert parsed == (
        DrsTarget("111122223333", "us-west-2", f"{DEPLOYMENT}-drs-target", "dev-drs-7f3a"),
    )
    assert parsed[0].role_arn("aws") == (f"arn:aws:iam::111122223333:role/{DEPLOYMENT}-drs-target")


def assume_role_resources(evaluation: Any) -> dict[str, list[str]]:
    """Per function role policy: the resources its sts:AssumeRole statements name."""
    found: dict[str, list[str]] = {}
    for policy in evaluation.of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            if "sts:AssumeRole" in statement["Action"]:
                found.setdefault(policy.inputs["name"], []).extend(statement["Resource"])
    return found


@pytest.mark.parametrize(
    ("stack", "deployment"),
    [("dev", DEPLOYMENT), ("archive-test", "aws-drs-orchestrator-archive-test")],
)
def test_each_function_is_told_its_targets_and_may_assume_their_roles_only(
    stack: str, deployment: str
) -> None:
    # Both stacks plan clean with targets configured (issue 15's "done when").
    second = {**GOOD, "account": "444455556666", "region": "eu-west-1"}
    evaluation = evaluate(stack, config_overrides=targets(GOOD, second))
    roles = [
        f"arn:aws:iam::{account}:role/{deployment}-drs-target"
        for account in ("111122223333", "444455556666")
    ]
    assert assume_role_resources(evaluation) == {
        f"{deployment}-{short}-policy": roles
        for short in ("execution-finder", "wave-runner", "api", "readiness")
    }
    for function in evaluation.of_type("aws:lambda/function:Function"):
        listed = json.loads(function.inputs["environment"]["variables"]["DRS_TARGETS"])
        assert listed == [
            {
                "account": "111122223333",
                "region": "us-west-2",
                "roleArn": roles[0],
                "externalId": "dev-drs-7f3a",
            },
            {
                "account": "444455556666",
                "region": "eu-west-1",
                "roleArn": roles[1],
                "externalId": "dev-drs-7f3a",
            },
        ]
        # The runtime reads what the program hands it (one contract, DRS_TARGETS).
        runtime = Targets.from_json(
            "us-east-1", function.inputs["environment"]["variables"]["DRS_TARGETS"]
        )
        assert [(t.key, t.role_arn) for t in runtime.others] == [
            ("111122223333/us-west-2", roles[0]),
            ("444455556666/eu-west-1", roles[1]),
        ]
    assert evaluate_stack(evaluation) == []


def test_no_targets_is_the_deployments_own_account_and_region_only() -> None:
    evaluation = evaluate("dev")
    assert evaluation.outputs["drsTargets"] == ""
    assert assume_role_resources(evaluation) == {}
    for function in evaluation.of_type("aws:lambda/function:Function"):
        assert "DRS_TARGETS" not in function.inputs["environment"]["variables"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"region": "us-west-2"}, f"'{KEY}': must be a list of targets"),
        (["111122223333"], f"'{KEY}[0]': must be a map {{account, region, externalId"),
        (
            [{"region": "us-west-2", "externalId": "abc"}],
            f"'{KEY}[0].account': required",
        ),
        (
            [{**GOOD, "account": 11112222333}],
            f"'{KEY}[0].account': quote the account id ('011112222333'?)",
        ),
        ([{**GOOD, "account": "1111-2222-3333"}], f"'{KEY}[0].account': '1111-2222-3333' is not"),
        (
            [{**GOOD, "region": "us-wset-2"}],
            f"'{KEY}[0].region': 'us-wset-2' is not a region where AWS DRS is available "
            "(did you mean 'us-west-2'?)",
        ),
        (
            [{**GOOD, "region": "us-gov-west-1"}],
            f"'{KEY}[0].region': 'us-gov-west-1' is in partition aws-us-gov, the deployment in "
            "aws: no role can be assumed across partitions",
        ),
        ([{**GOOD, "externalId": "x"}], f"'{KEY}[0].externalId': must be 2 to 1224 characters"),
        ([{**GOOD, "externalId": "has space"}], f"'{KEY}[0].externalId': must be 2 to 1224"),
        (
            [{**GOOD, "roleName": "aws-drs-orchestrator-archive-test-drs-target"}],
            f"'{KEY}[0].roleName': 'aws-drs-orchestrator-archive-test-drs-target' must start "
            f"with the deployment name '{DEPLOYMENT}-'",
        ),
        (
            [{**GOOD, "roleName": f"{DEPLOYMENT}-{'r' * 40}"}],
            f"'{KEY}[0].roleName': IAM role name '{DEPLOYMENT}-{'r' * 40}' is 72 characters",
        ),
        (
            [{**GOOD, "extrnalId": "abc"}],
            f"'{KEY}[0].extrnalId': unknown field (did you mean 'externalId'?)",
        ),
        (
            [GOOD, {**GOOD, "externalId": "another-id"}],
            f"'{KEY}[1]': account 111122223333 in us-west-2 is already [0]; one role per "
            "account and region",
        ),
        (
            [GOOD, {**GOOD, "region": "eu-west-1", "externalId": "another-id"}],
            f"'{KEY}[1]': account 111122223333 is listed with another roleName or externalId "
            "before: one role per account serves all its regions",
        ),
    ],
)
def test_a_bad_target_fails_before_any_resource(value: Any, expected: str) -> None:
    error = failing({KEY: json.dumps(value)})
    assert any(problem.startswith(expected) for problem in error.problems), error.problems


def test_a_value_that_is_no_structure_is_named() -> None:
    error = failing({KEY: "111122223333/us-west-2"})
    assert error.problems == [f"'{KEY}': must be a YAML list or map, got '111122223333/us-west-2'"]


def test_every_bad_target_is_reported_at_once() -> None:
    error = failing(targets({"account": "1", "region": "mars-1"}, {**GOOD, "externalId": "?"}))
    assert sorted(error.problems) == sorted(
        [
            f"'{KEY}[0].externalId': required",
            f"'{KEY}[0].account': '1' is not an AWS account id (12 digits)",
            f"'{KEY}[0].region': 'mars-1' is not a region where AWS DRS is available",
            f"'{KEY}[1].externalId': must be 2 to 1224 characters of letters, digits and "
            "+=,.@:/-_ (what STS accepts)",
        ]
    )


def test_targets_forward_their_drs_events_to_a_bus_that_accepts_exactly_them() -> None:
    """Issue 30: DRS sends its events in the source server's own account and region. A
    deployment with targets has a bus of its own for what they forward: its policy lets in
    each target account's forwarder role with DRS's events only, and its rules route launch
    results to the wave runner and stalls to readiness, as the default bus's rules do."""
    second = {**GOOD, "account": "444455556666", "region": "eu-west-1"}
    third = {**GOOD, "region": "eu-west-1"}  # the first account again, another region
    evaluation = evaluate("dev", config_overrides=targets(GOOD, second, third))
    [bus] = evaluation.of_type("aws:cloudwatch/eventBus:EventBus")
    assert bus.inputs["name"] == f"{DEPLOYMENT}-drs-events"
    assert bus.inputs["tags"]["drs-orchestrator:deployment"] == DEPLOYMENT
    arn = bus.state["arn"]
    assert evaluation.outputs["drsEventBusArn"] == arn
    [policy] = evaluation.of_type("aws:cloudwatch/eventBusPolicy:EventBusPolicy")
    [statement] = json.loads(policy.inputs["policy"])["Statement"]
    accounts = ["111122223333", "444455556666"]
    assert statement["Principal"] == {"AWS": [f"arn:aws:iam::{a}:root" for a in accounts]}
    assert (statement["Action"], statement["Resource"]) == ("events:PutEvents", arn)
    assert statement["Condition"] == {
        "ArnEquals": {
            "aws:PrincipalArn": [
                f"arn:aws:iam::{a}:role/{DEPLOYMENT}-drs-events-forwarder" for a in accounts
            ]
        },
        "ForAllValues:StringEquals": {"events:source": ["aws.drs"]},
    }
    on_bus = {
        rule.inputs["name"]: rule
        for rule in evaluation.of_type("aws:cloudwatch/eventRule:EventRule")
        if rule.inputs.get("eventBusName") == bus.inputs["name"]
    }
    assert sorted(on_bus) == [
        f"{DEPLOYMENT}-readiness-target-stalls",
        f"{DEPLOYMENT}-wave-runner-target-launches",
    ]
    patterns = {n: json.loads(r.inputs["eventPattern"]) for n, r in on_bus.items()}
    assert patterns[f"{DEPLOYMENT}-wave-runner-target-launches"]["detail-type"] == [
        "DRS Source Server Launch Result"
    ]
    assert patterns[f"{DEPLOYMENT}-readiness-target-stalls"]["detail-type"] == [
        "DRS Source Server Data Replication Stalled Change"
    ]
    functions = {
        f.inputs["name"]: f.state["arn"] for f in evaluation.of_type("aws:lambda/function:Function")
    }
    routed = {
        t.inputs["rule"]: t.inputs["arn"]
        for t in evaluation.of_type("aws:cloudwatch/eventTarget:EventTarget")
        if t.inputs.get("eventBusName") == bus.inputs["name"]
    }
    assert routed == {
        f"{DEPLOYMENT}-readiness-target-stalls": functions[f"{DEPLOYMENT}-readiness"],
        f"{DEPLOYMENT}-wave-runner-target-launches": functions[f"{DEPLOYMENT}-wave-runner"],
    }
    assert evaluate_stack(evaluation) == []
    # Nothing to forward without targets: no bus, no policy, no rules on it.
    alone = evaluate("dev")
    assert alone.of_type("aws:cloudwatch/eventBus:EventBus") == []
    assert "drsEventBusArn" not in alone.outputs
