"""The bootstrap program under mocks, for both bootstrap stacks."""

from __future__ import annotations

import fnmatch
import json

import pytest
from drs_policy import identity
from drs_policy.offline import evaluate_across_stacks, evaluate_stack

from infra.bootstrap.program import build
from infra.iam import UNSCOPED_ACTIONS
from infra.offline import REPO_ROOT, Evaluation, evaluate, stack_files
from infra.settings import SettingsError
from tests.policy.helpers import ARCHIVE, DEV, messages, resource

BOOTSTRAP = REPO_ROOT / "bootstrap"
STACKS = sorted(stack_files(BOOTSTRAP))
DEPLOYMENTS = {"dev": DEV, "archive-test": ARCHIVE}
NS = "drs-orchestrator-bootstrap"
_CACHE: dict[str, Evaluation] = {}


def run(stack: str, overrides: dict | None = None) -> Evaluation:
    return evaluate(
        stack, root=BOOTSTRAP, program=build, deployment_root=REPO_ROOT, config_overrides=overrides
    )


def evaluated(stack: str) -> Evaluation:
    if stack not in _CACHE:
        _CACHE[stack] = run(stack)
    return _CACHE[stack]


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> Evaluation:
    return evaluated(request.param)


def statements(document: str) -> list[dict]:
    return json.loads(document)["Statement"]


def test_bootstrap_stacks_match_the_main_stacks() -> None:
    assert STACKS == sorted(stack_files(REPO_ROOT)) == ["archive-test", "dev"]


def test_deployment_bucket_is_private_versioned_encrypted_and_kept(stack: Evaluation) -> None:
    deployment = DEPLOYMENTS[stack.stack]
    name = f"{deployment}-bucket"
    bucket = stack.one("aws:s3/bucket:Bucket")
    assert bucket.inputs["bucket"] == name
    assert bucket.protect and bucket.retain_on_delete
    assert not bucket.inputs.get("forceDestroy")
    by_type = {r.type.split(":")[-1]: r.inputs for r in stack.custom_resources}
    assert by_type["BucketVersioning"]["versioningConfiguration"]["status"] == "Enabled"
    block = by_type["BucketPublicAccessBlock"]
    assert all(
        block[k] is True
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    sse = by_type["BucketServerSideEncryptionConfiguration"]["rules"][0]
    assert sse["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    rule = by_type["BucketLifecycleConfiguration"]["rules"][0]
    days = int(stack.config[f"{NS}:noncurrentVersionDays"])
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == days
    assert rule["status"] == "Enabled"
    assert by_type["BucketOwnershipControls"]["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    for companion in ("BucketVersioning", "BucketPublicAccessBlock", "BucketPolicy"):
        assert by_type[companion]["bucket"] == name


def test_bucket_policy_denies_plain_http_and_everyone_but_its_ci_roles(stack: Evaluation) -> None:
    deployment = DEPLOYMENTS[stack.stack]
    policy = statements(stack.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    tls, others, reports = policy
    assert tls["Effect"] == "Deny" and tls["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    ci = [
        f"arn:aws:iam::123456789012:role/{deployment}-ci-deploy",
        f"arn:aws:iam::123456789012:role/{deployment}-ci-preview",
    ]
    assert others["Effect"] == "Deny"
    assert others["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] == ci
    assert {"s3:GetObject", "s3:PutObject", "s3:ListBucket"} <= set(others["Action"])
    # Everything but the reports: the bucket itself (listing) and every other object.
    bucket_arn = f"arn:aws:s3:::{deployment}-bucket"
    assert others["NotResource"] == [f"{bucket_arn}/reports/*"] and "Resource" not in others


def test_only_the_deployments_finder_and_api_reach_its_reports(stack: Evaluation) -> None:
    """The finder's janitor writes each finished execution's report and the API signs its
    download links, under ``reports/`` only: the roles the deployment's stack declares."""
    deployment = DEPLOYMENTS[stack.stack]
    policy = statements(stack.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    reports = policy[2]
    assert reports["Effect"] == "Deny" and reports["Principal"] == "*"
    assert reports["Resource"] == [f"arn:aws:s3:::{deployment}-bucket/reports/*"]
    assert {"s3:GetObject", "s3:PutObject"} <= set(reports["Action"])
    role = "arn:aws:iam::123456789012:role/"
    assert reports["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] == sorted(
        [
            f"{role}{deployment}-api-role",
            f"{role}{deployment}-ci-deploy",
            f"{role}{deployment}-ci-preview",
            f"{role}{deployment}-execution-finder-role",
        ]
    )
    assert f"{role}{deployment}-api-role" not in str(policy[1]), "no function beyond reports/"


def _trust(stack: Evaluation, purpose: str) -> dict:
    role = stack.one("aws:iam/role:Role", f"ci-{purpose}-role")
    [statement] = statements(role.inputs["assumeRolePolicy"])
    return statement


def test_deploy_role_trusts_only_main_or_the_environment_of_one_repository(
    stack: Evaluation,
) -> None:
    statement = _trust(stack, "deploy")
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"]["Federated"] == (
        "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    )
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": [
                f"repo:example-org/drs-orchestrator:environment:{stack.stack}",
                "repo:example-org/drs-orchestrator:ref:refs/heads/main",
            ],
        }
    }


def test_preview_role_trusts_only_pull_requests_of_the_repository(stack: Evaluation) -> None:
    assert _trust(stack, "preview")["Condition"]["StringEquals"][
        "token.actions.githubusercontent.com:sub"
    ] == ["repo:example-org/drs-orchestrator:pull_request"]


def test_the_policy_pack_rejects_a_trust_any_repository_could_use(stack: Evaluation) -> None:
    """The check that guards the trust policies fails on a loosened one."""
    role = stack.one("aws:iam/role:Role", "ci-deploy-role")
    loose = json.loads(role.inputs["assumeRolePolicy"])
    loose["Statement"][0]["Condition"] = {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"},
    }
    props = {**role.inputs, "assumeRolePolicy": json.dumps(loose)}
    found = messages(
        identity.ci_trust_pinned, resource(role.type, role.name, props, stack=stack.stack)
    )
    assert found == [
        "statement 0 matches GitHub token claims with StringLike; only StringEquals keeps "
        "wildcards out",
        "statement 0 does not pin token.actions.githubusercontent.com:sub; any repository and "
        "branch could assume the role",
    ]
    any_branch = json.loads(role.inputs["assumeRolePolicy"])
    any_branch["Statement"][0]["Condition"]["StringEquals"][
        "token.actions.githubusercontent.com:sub"
    ] = "repo:example-org/drs-orchestrator:*"
    props = {**role.inputs, "assumeRolePolicy": json.dumps(any_branch)}
    assert messages(identity.ci_trust_pinned, resource(role.type, role.name, props)) == [
        "statement 0 trusts 'repo:example-org/drs-orchestrator:*', which is not one "
        "repository's branch, environment or pull requests"
    ]
    config = {"ci-role-trust-pinned": {"repository": "another-org/fork"}}
    assert messages(
        identity.ci_trust_pinned, resource(role.type, role.name, role.inputs), config=config
    )[0].endswith("outside repository 'another-org/fork'")


def test_roles_act_only_on_their_own_deployment(stack: Evaluation) -> None:
    own = DEPLOYMENTS[stack.stack]
    other = next(d for s, d in DEPLOYMENTS.items() if s != stack.stack)
    for policy in stack.of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in statements(policy.inputs["policy"]):
            resources = statement["Resource"]
            for arn in [resources] if isinstance(resources, str) else resources:
                assert other not in arn
                if arn == "*":
                    assert set(statement["Action"]) <= set(UNSCOPED_ACTIONS)
                    assert all(
                        a.startswith(("logs:", "apigateway:", "cognito-idp:", "cloudfront:"))
                        for a in statement["Action"]
                    )
                else:
                    assert f":{own}" in arn or f"/{own}" in arn, arn
    deploy = statements(
        stack.one("aws:iam/rolePolicy:RolePolicy", "ci-deploy-policy").inputs["policy"]
    )
    passrole = next(s for s in deploy if s["Action"] == ["iam:PassRole"])
    assert passrole["Resource"] == [f"arn:aws:iam::123456789012:role/{own}-*"]
    assert passrole["Condition"]["StringEquals"]["iam:PassedToService"] == [
        "lambda.amazonaws.com",
        "states.amazonaws.com",
    ]
    preview = statements(
        stack.one("aws:iam/rolePolicy:RolePolicy", "ci-preview-policy").inputs["policy"]
    )
    writes = [s for s in preview if "s3:PutObject" in s["Action"]]
    assert [s["Resource"] for s in writes] == [
        [f"arn:aws:s3:::{own}-bucket/pulumi-state/.pulumi/locks/*"]
    ]


def test_only_the_first_deployment_creates_the_oidc_provider() -> None:
    assert len(evaluated("dev").of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")) == 1
    assert (
        evaluated("archive-test").of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
        == []
    )
    provider = evaluated("dev").one("aws:iam/openIdConnectProvider:OpenIdConnectProvider").inputs
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["clientIdLists"] == ["sts.amazonaws.com"]


def test_outputs_give_the_exact_github_secrets(stack: Evaluation) -> None:
    deployment = DEPLOYMENTS[stack.stack]
    backend = f"s3://{deployment}-bucket/pulumi-state?region=us-east-1"
    suffix = stack.stack.upper().replace("-", "_")
    assert stack.outputs["githubEnvironmentSecrets"] == {
        "AWS_DEPLOY_ROLE_ARN": f"arn:aws:iam::123456789012:role/{deployment}-ci-deploy",
        "PULUMI_BACKEND_URL": backend,
    }
    assert stack.outputs["githubRepositorySecrets"] == {
        f"AWS_PREVIEW_ROLE_ARN_{suffix}": f"arn:aws:iam::123456789012:role/{deployment}-ci-preview",
        f"PULUMI_BACKEND_URL_{suffix}": backend,
    }
    assert stack.outputs["bucketName"] == f"{deployment}-bucket"
    assert stack.outputs["githubEnvironment"] == stack.stack


def test_bootstrap_deployments_share_nothing() -> None:
    names = {
        s: {r.physical_name for r in evaluated(s).custom_resources if r.physical_name}
        for s in STACKS
    }
    assert names["dev"].isdisjoint(names["archive-test"])
    assert len(names["dev"]) == 6 and len(names["archive-test"]) == 5


def test_policy_pack_passes_on_both_bootstrap_stacks() -> None:
    evaluations = {s: evaluated(s) for s in STACKS}
    for evaluation in evaluations.values():
        assert evaluate_stack(evaluation) == []
    assert evaluate_across_stacks(evaluations) == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {f"{NS}:githubRepository": None},
            f"'{NS}:githubRepository': required (owner/name of the repository whose workflows may "
            "assume the CI roles)",
        ),
        (
            {f"{NS}:githubRepository": "example-org/*"},
            f"'{NS}:githubRepository': 'example-org/*' must be 'owner/name' with no wildcard",
        ),
        (
            {f"{NS}:deployBranch": "release/*"},
            f"'{NS}:deployBranch': 'release/*' must be one branch name, no wildcard",
        ),
        (
            {f"{NS}:oidcProvider": "arn:aws:iam::123456789012:oidc-provider/example.com"},
            f"'{NS}:oidcProvider': 'arn:aws:iam::123456789012:oidc-provider/example.com' must be "
            "'create', 'existing' or the ARN of the account's token.actions.githubusercontent.com "
            "provider",
        ),
        (
            {f"{NS}:noncurrentVersionDays": "0"},
            f"'{NS}:noncurrentVersionDays': must be a whole number of days >= 1, got '0'",
        ),
        (
            {f"{NS}:adminPrincipalArns": '["root"]'},
            f"'{NS}:adminPrincipalArns': 'root' is not an IAM role or user ARN",
        ),
        (
            {f"{NS}:githubRepo": "x/y"},
            f"'{NS}:githubRepo': unknown configuration key (did you mean '{NS}:githubRepository'?)",
        ),
    ],
)
def test_bad_bootstrap_config_fails_before_any_resource(overrides: dict, expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        run("dev", overrides)
    assert expected in caught.value.problems
    assert caught.value.evaluation.resources == []


def test_admins_may_read_the_bucket_too() -> None:
    admin = "arn:aws:iam::123456789012:role/platform-admins"
    evaluation = run("archive-test", {f"{NS}:adminPrincipalArns": json.dumps([admin])})
    policy = statements(evaluation.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    assert admin in policy[1]["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]


def test_drsctl_plans_the_bootstrap_program(capsys: pytest.CaptureFixture[str]) -> None:
    from drsctl.cli import main

    assert main(["plan", "--bootstrap", "archive-test", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["deploymentName"] == ARCHIVE
    assert document["violations"] == []
    assert {r["physicalName"] for r in document["resources"]} >= {
        f"{ARCHIVE}-bucket",
        f"{ARCHIVE}-ci-deploy",
        f"{ARCHIVE}-ci-preview",
    }


def test_one_stack_sets_the_api_gateway_cloudwatch_role() -> None:
    account = evaluated("dev").one("aws:apigateway/account:Account").inputs
    role = evaluated("dev").one("aws:iam/role:Role", "apigateway-logs-role")
    assert account["cloudwatchRoleArn"] == role.state["arn"]
    assert "apigateway.amazonaws.com" in role.inputs["assumeRolePolicy"]
    attachment = evaluated("dev").one("aws:iam/rolePolicyAttachment:RolePolicyAttachment").inputs
    assert attachment["policyArn"].endswith("service-role/AmazonAPIGatewayPushToCloudWatchLogs")
    assert evaluated("archive-test").of_type("aws:apigateway/account:Account") == []


def test_the_deploy_role_manages_its_own_console_bucket_and_distribution(
    stack: Evaluation,
) -> None:
    own = DEPLOYMENTS[stack.stack]
    deploy = statements(
        stack.one("aws:iam/rolePolicy:RolePolicy", "ci-deploy-policy").inputs["policy"]
    )
    console = f"arn:aws:s3:::{own}-console"
    bucket = next(s for s in deploy if s["Resource"] == [console])
    assert {"s3:CreateBucket", "s3:PutBucketPolicy", "s3:GetBucketPolicy"} <= set(bucket["Action"])
    objects = next(s for s in deploy if s["Resource"] == [f"{console}/*"])
    assert "s3:PutObject" in objects["Action"]
    cloudfront = next(s for s in deploy if any(a.startswith("cloudfront:") for a in s["Action"]))
    assert "cloudfront:CreateDistributionWithTags" in cloudfront["Action"]


def test_the_deploy_role_manages_its_own_event_bus_and_the_rules_on_it(stack: Evaluation) -> None:
    """A deployment with DRS targets declares a bus for their events (``<d>-drs-events``)
    and rules on it (``rule/<d>-drs-events/<rule>``): the deploy role may manage both, for
    its own deployment only."""
    own = DEPLOYMENTS[stack.stack]
    deploy = statements(
        stack.one("aws:iam/rolePolicy:RolePolicy", "ci-deploy-policy").inputs["policy"]
    )
    bus = next(s for s in deploy if "events:CreateEventBus" in s["Action"])
    assert bus["Resource"] == [f"arn:aws:events:us-east-1:123456789012:event-bus/{own}-*"]
    assert {"events:PutPermission", "events:RemovePermission", "events:DeleteEventBus"} <= set(
        bus["Action"]
    )
    rules = next(s for s in deploy if "events:PutRule" in s["Action"])
    [pattern] = rules["Resource"]
    rule_on_bus = f"arn:aws:events:us-east-1:123456789012:rule/{own}-drs-events/{own}-x"
    assert fnmatch.fnmatchcase(rule_on_bus, pattern)
