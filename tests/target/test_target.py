"""The target-account program (issue 15): the one role a deployment assumes in a DRS target
account, its least privilege, the policy rule that pins its trust, and ``drsctl plan
--target-account``."""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from drs_orchestrator.domain.permissions import RECOVERY_ACTIONS, RUNNER, needs
from drs_policy import identity
from drs_policy.offline import evaluate_stack

from drsctl.cli import main
from drsctl.sandbox.iam import decide
from infra.iam import LAUNCH_TEMPLATE_WRITES, TARGET_ROLE_ACTIONS
from infra.offline import REPO_ROOT, Evaluation, evaluate
from infra.project_config import Declaration
from infra.settings import SettingsError
from infra.target import settings as target_settings
from infra.target.program import build
from tests.policy.helpers import DEV, messages, policy_document, resource

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

TARGET = REPO_ROOT / "target"
ORCHESTRATOR = "123456789012"
STAGING = "111122223333"
TARGETS = [
    {"account": STAGING, "region": "us-west-2", "externalId": "dev-drs-7f3a"},
    {"account": STAGING, "region": "us-east-1", "externalId": "dev-drs-7f3a"},
    {"account": "444455556666", "region": "eu-west-1", "externalId": "dev-drs-9c1e"},
]
ORCHESTRATOR_KEY = "drs-orchestrator-target:orchestratorAccount"


@pytest.fixture
def main_root(tmp_path: Path) -> Iterator[Path]:
    """The main project with stack dev listing three targets in two accounts."""
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path)
    document = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())
    document["config"]["drs-orchestrator:drsTargets"] = TARGETS
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(document))
    token = target_settings.MAIN_ROOT.set(tmp_path)
    yield tmp_path
    target_settings.MAIN_ROOT.reset(token)


def run(stack: str = f"dev.{STAGING}", account: str | None = ORCHESTRATOR) -> Evaluation:
    config = {} if account is None else {ORCHESTRATOR_KEY: account}
    main_root = target_settings.MAIN_ROOT.get()
    return evaluate(
        stack, root=TARGET, program=build, deployment_root=main_root, stack_config=config
    )


def test_the_role_trusts_the_deployments_functions_only_with_the_external_id(
    main_root: Path,
) -> None:
    evaluation = run()
    # The role, and the forwarding of DRS's events in each of the account's two regions.
    assert sorted(r.type for r in evaluation.custom_resources) == [
        *["aws:cloudwatch/eventRule:EventRule"] * 2,
        *["aws:cloudwatch/eventTarget:EventTarget"] * 2,
        *["aws:iam/role:Role"] * 2,
        *["aws:iam/rolePolicy:RolePolicy"] * 2,
        *["pulumi:providers:aws"] * 2,
    ]
    role = evaluation.one("aws:iam/role:Role", "role")
    assert role.inputs["name"] == f"{DEV}-drs-target"
    assert role.inputs["tags"]["drs-orchestrator:deployment"] == DEV
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Principal"] == {
        "AWS": [
            f"arn:aws:iam::{ORCHESTRATOR}:role/{DEV}-{short}-role"
            for short in ("execution-finder", "wave-runner", "api", "readiness")
        ]
    }
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": "dev-drs-7f3a"}}
    assert evaluation.outputs["regions"] == "us-east-1, us-west-2"
    assert evaluate_stack(evaluation) == []


def test_the_role_may_call_what_the_runtime_calls_in_the_listed_regions_only(
    main_root: Path,
) -> None:
    policy = run().one("aws:iam/rolePolicy:RolePolicy", "policy")
    assert policy.inputs["name"] == f"{DEV}-drs-target-policy"
    statement, writes, simulate = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Action"] == TARGET_ROLE_ACTIONS
    assert statement["Condition"] == {
        "StringEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]}
    }
    # Launch template writes: DRS's own templates only, in the same regions.
    assert writes["Action"] == sorted(LAUNCH_TEMPLATE_WRITES)
    assert writes["Condition"] == {
        "StringEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]},
        "Null": {"aws:ResourceTag/AWSElasticDisasterRecoveryManaged": "false"},
    }
    # Readiness simulates the role's own permissions (SCPs included), on the role only.
    assert simulate["Action"] == ["iam:SimulatePrincipalPolicy"]
    assert simulate["Resource"] == f"arn:aws:iam::111122223333:role/{DEV}-drs-target"
    other = run(stack="dev.444455556666").one("aws:iam/rolePolicy:RolePolicy", "policy")
    condition = json.loads(other.inputs["policy"])["Statement"][0]["Condition"]
    assert condition == {"StringEquals": {"aws:RequestedRegion": ["eu-west-1"]}}


def test_the_target_role_grants_no_more_than_the_functions_hold() -> None:
    # The DRS and EC2 actions of the function roles (stack dev's plan) are exactly what the
    # role in a target account grants: a new runtime call in DRS or EC2 needs both, or
    # neither. SSM (the pre- and post-wave actions, their documents) is only ever called at
    # home.
    granted: set[str] = set()
    for policy in evaluate("dev").of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            actions = statement["Action"]
            granted |= {actions} if isinstance(actions, str) else set(actions)
    in_targets = {a for a in granted if a.startswith(("drs:", "ec2:"))}
    assert in_targets == set(TARGET_ROLE_ACTIONS) | set(LAUNCH_TEMPLATE_WRITES)
    assert {a for a in granted if a.startswith("ssm:")}, "the functions do call SSM, at home"
    assert not any(a.startswith("ssm:") for a in TARGET_ROLE_ACTIONS)


@pytest.mark.parametrize(
    ("stack", "account", "expected"),
    [
        ("dev-111122223333", ORCHESTRATOR, "stack name 'dev-111122223333' must be named"),
        ("dev.777788889999", ORCHESTRATOR, "account 777788889999 is not a target of stack 'dev'"),
        (f"dev.{STAGING}", "12345", f"'{ORCHESTRATOR_KEY}': '12345' is not an AWS account id"),
        (f"dev.{STAGING}", None, f"'{ORCHESTRATOR_KEY}': required"),
    ],
)
def test_a_bad_target_stack_fails_before_any_resource(
    main_root: Path, stack: str, account: str | None, expected: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        run(stack, account)
    assert caught.value.evaluation.resources == []  # type: ignore[attr-defined]
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems


def test_a_broken_main_stack_is_named_as_such(main_root: Path) -> None:
    document = yaml.safe_load((main_root / "Pulumi.dev.yaml").read_text())
    document["config"]["drs-orchestrator:drsTargets"][0]["region"] = "us-wset-2"
    (main_root / "Pulumi.dev.yaml").write_text(yaml.safe_dump(document))
    with pytest.raises(SettingsError) as caught:
        run()
    assert caught.value.problems[0].startswith(
        "main stack file: 'drs-orchestrator:drsTargets[0].region': 'us-wset-2'"
    )


def trusting(principal: Any, condition: dict | None = None) -> Any:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal}
    statement["Action"] = "sts:AssumeRole"
    if condition is not None:
        statement["Condition"] = condition
    return resource(
        "aws:iam/role:Role",
        "role",
        {"name": f"{DEV}-drs-target", "assumeRolePolicy": policy_document(statement)},
        stack=f"dev.{STAGING}",
    )


EXTERNAL_ID = {"StringEquals": {"sts:ExternalId": "dev-drs-7f3a"}}
OWN_ROLE = f"arn:aws:iam::{ORCHESTRATOR}:role/{DEV}-wave-runner-role"


@pytest.mark.parametrize(
    ("principal", "condition", "expected"),
    [
        ({"AWS": [OWN_ROLE]}, EXTERNAL_ID, []),
        ("*", EXTERNAL_ID, ["statement 0 trusts every principal ('*')"]),
        (
            {"AWS": "*"},
            EXTERNAL_ID,
            [
                "statement 0 trusts '*': not one role (an account, its root or '*' lets any of "
                "its principals in)"
            ],
        ),
        (
            {"AWS": f"arn:aws:iam::{ORCHESTRATOR}:root"},
            EXTERNAL_ID,
            [
                f"statement 0 trusts 'arn:aws:iam::{ORCHESTRATOR}:root': not one role (an "
                "account, its root or '*' lets any of its principals in)"
            ],
        ),
        (
            {
                "AWS": [
                    f"arn:aws:iam::{ORCHESTRATOR}:role/aws-drs-orchestrator-archive-test-api-role"
                ]
            },
            EXTERNAL_ID,
            [
                f"statement 0 trusts 'arn:aws:iam::{ORCHESTRATOR}:role/aws-drs-orchestrator-"
                f"archive-test-api-role', a role of another deployment than '{DEV}'"
            ],
        ),
        (
            {"AWS": [OWN_ROLE]},
            None,
            ["statement 0 lets AWS principals in without an sts:ExternalId"],
        ),
        ({"Service": "lambda.amazonaws.com"}, None, []),
    ],
)
def test_the_policy_pins_a_trust_of_aws_principals(
    principal: Any, condition: dict | None, expected: list[str]
) -> None:
    found = messages(identity.aws_principal_trust_pinned, trusting(principal, condition))
    assert found == expected


def test_drsctl_plans_a_target_account_offline(
    main_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["plan", "dev", "--project-dir", str(main_root), "--target-account", STAGING]
    assert main([*arguments, "--orchestrator-account", ORCHESTRATOR]) == 0
    captured = capsys.readouterr()
    assert f"{DEV}-drs-target-policy" in captured.out
    assert "0 policy violation(s), 0 mandatory, in 1 stack" in captured.err
    assert main(arguments) == 2
    assert "give --orchestrator-account" in capsys.readouterr().err
    assert main(["plan", "--all", "--target-account", STAGING]) == 2
    assert "--target-account takes one STACK" in capsys.readouterr().err


def test_the_planned_roles_allow_everything_readiness_simulates(main_root: Path) -> None:
    """What readiness asks IAM about (``domain/permissions.py``) is what the stacks grant:
    the wave runner's planned policies allow every action it needs at home, and the target
    role's allow the recovery in each of its regions, not in another, and its own
    simulation. Judged by the tests' IAM evaluator (``drsctl/sandbox/iam.py``)."""
    key = Declaration.of(REPO_ROOT / "Pulumi.yaml").key("drsTargets").full_name
    main = evaluate("dev", config_overrides={key: json.dumps(TARGETS)})
    runner_documents = [
        json.loads(p.inputs["policy"])
        for p in main.of_type("aws:iam/rolePolicy:RolePolicy")
        if str(p.inputs["role"]).endswith(f"{DEV}-wave-runner-role")
    ]
    assert len(runner_documents) >= 1
    target_roles = [
        (t["account"], t["region"], f"arn:aws:iam::{t['account']}:role/{DEV}-drs-target")
        for t in TARGETS
    ]
    wanted = needs(
        ("home/us-east-1", "us-east-1"),
        [(f"{a}/{r}", r, arn) for a, r, arn in target_roles],
        launches_at_home=True,
        has_actions=True,
    )
    for need in wanted:
        if need.principal != RUNNER:
            continue
        for action in need.actions:
            context = {"aws:requestedregion": [need.region]}
            assert decide(runner_documents, action, need.resource, context) == "allowed", (
                action,
                need.resource,
            )

    target = json.loads(run().one("aws:iam/rolePolicy:RolePolicy", "policy").inputs["policy"])
    own = f"arn:aws:iam::{STAGING}:role/{DEV}-drs-target"
    for region, expected in (
        ("us-west-2", "allowed"),
        ("us-east-1", "allowed"),
        ("eu-west-1", "implicitDeny"),
    ):
        for action in RECOVERY_ACTIONS:
            assert decide([target], action, "*", {"aws:requestedregion": [region]}) == expected, (
                action,
                region,
            )
    assert decide([target], "iam:SimulatePrincipalPolicy", own, {}) == "allowed"
    assert decide([target], "iam:SimulatePrincipalPolicy", f"{own}-other", {}) == "implicitDeny"


def test_each_target_region_forwards_drs_events_to_the_deployments_bus(main_root: Path) -> None:
    """Issue 30: DRS sends its events in the source server's account and region only. In
    each region the account is a target in, a rule on the default bus (where DRS sends)
    puts DRS's launch results and replication stalls on the deployment's bus, through a
    role EventBridge alone may assume, in this account alone, that may do that alone."""
    evaluation = run()
    bus = f"arn:aws:events:us-east-1:{ORCHESTRATOR}:event-bus/{DEV}-drs-events"
    assert evaluation.outputs["eventBusArn"] == bus
    rules = {r.name: r for r in evaluation.of_type("aws:cloudwatch/eventRule:EventRule")}
    assert sorted(rules) == ["forward-us-east-1", "forward-us-west-2"]
    for region in ("us-east-1", "us-west-2"):
        rule = rules[f"forward-{region}"]
        assert rule.inputs["name"] == f"{DEV}-drs-events-{region}"
        assert "eventBusName" not in rule.inputs, "the default bus, where DRS sends"
        assert json.loads(rule.inputs["eventPattern"]) == {
            "source": ["aws.drs"],
            "detail-type": [
                "DRS Source Server Data Replication Stalled Change",
                "DRS Source Server Launch Result",
            ],
        }
        assert rule.inputs["tags"]["drs-orchestrator:deployment"] == DEV
    regions = {p.name: p.inputs["region"] for p in evaluation.of_type("pulumi:providers:aws")}
    assert regions == {"us-east-1": "us-east-1", "us-west-2": "us-west-2"}
    role = evaluation.one("aws:iam/role:Role", "forwarder-role")
    assert role.inputs["name"] == f"{DEV}-drs-events-forwarder"
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": STAGING}}
    policy = evaluation.one("aws:iam/rolePolicy:RolePolicy", "forwarder-policy")
    (allowed,) = json.loads(policy.inputs["policy"])["Statement"]
    assert (allowed["Action"], allowed["Resource"]) == (["events:PutEvents"], [bus])
    targets = evaluation.of_type("aws:cloudwatch/eventTarget:EventTarget")
    # (the mocks give every ARN their one account; in AWS this role is in the target's)
    assert {(t.inputs["arn"], t.inputs["roleArn"]) for t in targets} == {(bus, role.state["arn"])}
    assert role.state["arn"].endswith(f":role/{DEV}-drs-events-forwarder")
    # The bus the main stack declares accepts exactly this role (and the other account's).
    key = Declaration.of(REPO_ROOT / "Pulumi.yaml").key("drsTargets").full_name
    main = evaluate("dev", config_overrides={key: json.dumps(TARGETS)})
    bus_policy = main.one("aws:cloudwatch/eventBusPolicy:EventBusPolicy")
    (statement,) = json.loads(bus_policy.inputs["policy"])["Statement"]
    assert role_arn(STAGING) in statement["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    assert evaluate_stack(evaluation) == []


def role_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:role/{DEV}-drs-events-forwarder"


def test_a_target_region_whose_forwarding_rule_name_is_too_long_is_refused(
    tmp_path: Path,
) -> None:
    from infra.settings import load_settings

    config = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())["config"]
    config = {k: (json.dumps(v) if not isinstance(v, str) else v) for k, v in config.items()}
    long_name = "drs-orchestrator-with-a-very-long-deployment-name"
    config["drs-orchestrator:deploymentName"] = long_name
    config["drs-orchestrator:drsTargets"] = json.dumps(TARGETS[:1])
    with pytest.raises(SettingsError) as caught:
        load_settings("dev", config)
    assert any(
        p.startswith("'drs-orchestrator:drsTargets[0].region': derives EventBridge rule")
        or "drs-events-us-west-2" in p
        for p in caught.value.problems
    ), caught.value.problems
