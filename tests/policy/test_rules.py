"""Every rule: a happy-path resource passes; each single change gives the exact message."""

from __future__ import annotations

import json

import pytest
from drs_policy import POLICIES, compute, identity, isolation, network, orchestration, storage

from tests.policy.helpers import (
    ACCOUNT,
    ARCHIVE,
    DEV,
    changed,
    messages,
    policy_document,
    resource,
    tags,
)

TABLE = "aws:dynamodb/table:Table"
FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"
BUCKET = "aws:s3/bucket:Bucket"


def by_name(name: str):
    return next(p for p in POLICIES if p.name == name)


def test_policy_names_are_unique_kebab_case_with_one_sentence() -> None:
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names)) == 31
    for policy in POLICIES:
        assert policy.name == policy.name.lower() and " " not in policy.name
        assert policy.description.endswith(".") and policy.description.count(". ") == 0
        assert policy.enforcement_level.value == "mandatory"


# -- factories ---------------------------------------------------------------------------


def table_props(deployment: str = DEV, stack: str = "dev") -> dict:
    return {
        "name": f"{deployment}-executions",
        "pointInTimeRecovery": {"enabled": True},
        "serverSideEncryption": {"enabled": True},
        "deletionProtectionEnabled": stack == "archive-test",
        "tags": tags(stack, deployment),
    }


def function_props() -> dict:
    return {
        "name": f"{DEV}-execution-finder",
        "runtime": "python3.12",
        "s3Bucket": f"{DEV}-bucket",
        "s3Key": "lambda/execution-finder/abc.zip",
        "environment": {"variables": {"EXECUTIONS_TABLE": f"{DEV}-executions"}},
        "loggingConfig": {"logGroup": f"{DEV}/lambda/execution-finder", "logFormat": "JSON"},
        "tags": tags(),
    }


def log_group_props() -> dict:
    return {"name": f"{DEV}/lambda/execution-finder", "retentionInDays": 30, "tags": tags()}


TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{DEV}-executions"


def role_policy_props(*statements: dict) -> dict:
    statements = statements or (
        {"Effect": "Allow", "Action": ["dynamodb:UpdateItem"], "Resource": [TABLE_ARN]},
        {
            "Effect": "Allow",
            "Action": ["dynamodb:Query"],
            "Resource": [f"{TABLE_ARN}/index/status-index"],
        },
        {"Effect": "Allow", "Action": ["drs:DescribeJobs"], "Resource": "*"},
    )
    return {
        "name": f"{DEV}-execution-finder-policy",
        "role": f"{DEV}-execution-finder-role",
        "policy": policy_document(*statements),
    }


# -- isolation ---------------------------------------------------------------------------


def test_physical_names() -> None:
    rule = isolation.physical_names
    assert messages(rule, resource(TABLE, "t", table_props())) == []
    assert messages(rule, resource(TABLE, "t", changed(table_props(), "name", "executions"))) == [
        f"physical name 'executions' does not start with deployment name '{DEV}'"
    ]
    assert messages(rule, resource(TABLE, "t", changed(table_props(), "name", None))) == [
        f"'name' is not set, so AWS or Pulumi would pick a name outside deployment '{DEV}'; "
        "derive it in infra/naming.py"
    ]
    assert messages(rule, resource(TABLE, "t", table_props(ARCHIVE), stack="archive-test")) == []
    assert messages(rule, resource(TABLE, "t", table_props(), stack="prod")) == [
        "stack 'prod' has no Pulumi.prod.yaml and is not in the policy config 'deployments'; "
        "the pack cannot tell which deployment it is"
    ]
    config = {rule.name: {"deployments": {"prod": "drs-prod"}}}
    prod = resource(TABLE, "t", changed(table_props(), "name", "drs-prod-executions"), stack="prod")
    assert messages(rule, prod, config=config) == []


def test_physical_names_include_the_bucket_of_a_package_object() -> None:
    rule = isolation.physical_names
    obj = {"bucket": f"{ARCHIVE}-bucket", "key": "lambda/x.zip", "tags": tags()}
    assert messages(rule, resource("aws:s3/bucketObjectv2:BucketObjectv2", "o", obj)) == [
        f"physical name '{ARCHIVE}-bucket/lambda/x.zip' does not start with deployment name '{DEV}'"
    ]


def test_deployment_tag() -> None:
    rule = isolation.deployment_tag
    assert messages(rule, resource(TABLE, "t", table_props())) == []
    missing = changed(
        table_props(), "tags", {"pulumi:project": "drs-orchestrator", "pulumi:stack": "dev"}
    )
    assert messages(rule, resource(TABLE, "t", missing)) == [
        f"tag 'drs-orchestrator:deployment' is missing (expected '{DEV}')"
    ]
    wrong = changed(table_props(), "tags.drs-orchestrator:deployment", ARCHIVE)
    assert messages(rule, resource(TABLE, "t", wrong)) == [
        f"tag 'drs-orchestrator:deployment' is '{ARCHIVE}', expected '{DEV}'"
    ]
    untaggable = {"function": f"{DEV}-x", "action": "lambda:InvokeFunction"}
    assert messages(rule, resource("aws:lambda/permission:Permission", "p", untaggable)) == []


def test_iam_scope() -> None:
    rule = isolation.iam_scope
    assert messages(rule, resource(ROLE_POLICY, "p", role_policy_props())) == []
    star = {"Effect": "Allow", "Action": ["dynamodb:PutItem"], "Resource": "*"}
    assert messages(rule, resource(ROLE_POLICY, "p", role_policy_props(star))) == [
        "statement 0 allows dynamodb:PutItem on '*'; only actions in infra/iam.py "
        "UNSCOPED_ACTIONS (with their reason) may use '*'"
    ]
    other = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{ARCHIVE}-executions"
    outside = {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": [other]}
    assert messages(rule, resource(ROLE_POLICY, "p", role_policy_props(outside))) == [
        f"statement 0 names '{other}', outside deployment '{DEV}'"
    ]
    # A name that merely contains the deployment name further in is still outside it.
    sneaky = f"arn:aws:s3:::shared-bucket/{DEV}-bucket/*"
    assert messages(
        rule,
        resource(
            ROLE_POLICY,
            "p",
            role_policy_props({"Effect": "Allow", "Action": "s3:GetObject", "Resource": sneaky}),
        ),
    ) == [f"statement 0 names '{sneaky}', outside deployment '{DEV}'"]
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*"}
    assert messages(rule, resource(ROLE_POLICY, "p", role_policy_props(deny))) == []


def test_no_cross_deployment_references() -> None:
    rule = isolation.no_cross_reference
    assert messages(rule, resource(FUNCTION, "f", function_props())) == []
    leaked = changed(
        function_props(), "environment.variables.EXECUTIONS_TABLE", f"{ARCHIVE}-executions"
    )
    assert messages(rule, resource(FUNCTION, "f", leaked)) == [
        f"property 'environment.variables.EXECUTIONS_TABLE' refers to deployment '{ARCHIVE}': "
        f"'{ARCHIVE}-executions'"
    ]
    in_document = role_policy_props(
        {
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": f"arn:aws:sns:us-east-1:{ACCOUNT}:{ARCHIVE}-topic",
        }
    )
    assert [m.split(":")[0] for m in messages(rule, resource(ROLE_POLICY, "p", in_document))] == [
        "property 'policy.Statement[0].Resource' refers to deployment 'aws-drs-orchestrator-archive-test'"
    ]
    config = {rule.name: {"otherDeployments": ["drs-legacy"]}}
    legacy = changed(function_props(), "environment.variables.OLD", "drs-legacy-table")
    assert messages(rule, resource(FUNCTION, "f", legacy), config=config) == [
        "property 'environment.variables.OLD' refers to deployment 'drs-legacy': 'drs-legacy-table'"
    ]


def test_lambda_code_from_own_bucket() -> None:
    rule = isolation.lambda_package_bucket
    assert messages(rule, resource(FUNCTION, "f", function_props())) == []
    assert messages(
        rule, resource(FUNCTION, "f", changed(function_props(), "s3Bucket", f"{ARCHIVE}-bucket"))
    ) == [
        f"code comes from bucket '{ARCHIVE}-bucket'; it must come from the deployment's own bucket '{DEV}-bucket'"
    ]
    inline = changed(changed(function_props(), "s3Bucket", None), "s3Key", None)
    assert messages(rule, resource(FUNCTION, "f", inline)) == [
        f"code comes from an inline archive or image; it must come from the deployment's own bucket '{DEV}-bucket'"
    ]


def test_unique_physical_names() -> None:
    rule = isolation.unique_names
    first = resource(TABLE, "a", table_props())
    assert (
        messages(rule, first, resource(TABLE, "b", changed(table_props(), "name", f"{DEV}-other")))
        == []
    )
    assert messages(rule, first, resource(TABLE, "b", table_props())) == [
        f"physical name {TABLE} {DEV}-executions is claimed by 2 resources: a, b"
    ]


def test_deployment_name_unique() -> None:
    rule = isolation.deployment_name_unique
    assert messages(rule, resource(TABLE, "a", table_props())) == []
    config = {rule.name: {"deployments": {"copy": DEV}}}
    assert messages(rule, resource(TABLE, "a", table_props()), config=config) == [
        f"stack 'dev' uses deployment name '{DEV}', which stack(s) copy also use; every stack "
        "needs its own"
    ]


# -- identity ----------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["*", "dynamodb:*"])
def test_no_wildcard_actions(action: str) -> None:
    rule = identity.no_wildcard_actions
    assert messages(rule, resource(ROLE_POLICY, "p", role_policy_props())) == []
    statement = {"Effect": "Allow", "Action": action, "Resource": TABLE_ARN}
    assert messages(rule, resource(ROLE_POLICY, "p", role_policy_props(statement))) == [
        f"statement 0 allows every action with '{action}'"
    ]


def test_no_passrole_on_wildcard() -> None:
    rule = identity.no_passrole_on_wildcard
    scoped = {
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": f"arn:aws:iam::{ACCOUNT}:role/{DEV}-x",
    }
    assert messages(rule, resource(ROLE_POLICY, "p", role_policy_props(scoped))) == []
    anywhere = {"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": "*"}
    assert messages(rule, resource(ROLE_POLICY, "p", role_policy_props(anywhere))) == [
        "statement 0 allows iam:PassRole on '*'"
    ]
    trust = {"name": f"{DEV}-r", "assumeRolePolicy": policy_document(anywhere), "tags": tags()}
    assert messages(rule, resource(ROLE, "r", trust)) == ["statement 0 allows iam:PassRole on '*'"]


# -- storage -----------------------------------------------------------------------------


def bucket_set(name: str = f"{DEV}-bucket", **drop: bool) -> list:
    parts = {
        "bucket": resource(BUCKET, "bucket", {"bucket": name, "tags": tags()}),
        "block": resource(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "block",
            {
                "bucket": name,
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        ),
        "sse": resource(
            storage.ENCRYPTION_TYPES[0],
            "sse",
            {
                "bucket": name,
                "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}],
            },
        ),
        "versioning": resource(
            storage.VERSIONING_TYPES[0],
            "versioning",
            {"bucket": name, "versioningConfiguration": {"status": "Enabled"}},
        ),
        "policy": resource(
            storage.BUCKET_POLICY,
            "policy",
            {
                "bucket": name,
                "policy": policy_document(
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ),
            },
        ),
    }
    return [r for key, r in parts.items() if not drop.get(key)]


S3_RULES = {p.name: p for p in storage.POLICIES}


@pytest.mark.parametrize(
    ("rule", "dropped", "expected"),
    [
        ("s3-public-access-blocked", "block", "has no public access block"),
        ("s3-encrypted", "sse", "has no server-side encryption configuration"),
        (
            "s3-artifact-buckets-versioned",
            "versioning",
            "holds artifacts or state and is not versioned",
        ),
        (
            "s3-deny-insecure-transport",
            "policy",
            "has no bucket policy denying requests without TLS (aws:SecureTransport false)",
        ),
    ],
)
def test_s3_rules(rule: str, dropped: str, expected: str) -> None:
    policy = S3_RULES[rule]
    assert messages(policy, *bucket_set()) == []
    assert messages(policy, *bucket_set(**{dropped: True})) == [f"bucket '{DEV}-bucket' {expected}"]


def test_public_access_block_must_set_all_four() -> None:
    resources = bucket_set()
    block = resources[1]
    weak = resource(
        block.type, "block", changed(dict(block.inputs), "restrictPublicBuckets", False)
    )
    assert messages(S3_RULES["s3-public-access-blocked"], resources[0], weak) == [
        f"bucket '{DEV}-bucket' public access block leaves restrictPublicBuckets off"
    ]


def test_only_artifact_and_state_buckets_must_be_versioned() -> None:
    console = bucket_set(f"{DEV}-console", versioning=True)
    assert messages(S3_RULES["s3-artifact-buckets-versioned"], *console) == []
    state = resource(
        BUCKET,
        "state",
        {"bucket": f"{DEV}-state", "tags": {**tags(), "drs-orchestrator:purpose": "state"}},
    )
    assert messages(S3_RULES["s3-artifact-buckets-versioned"], state) == [
        f"bucket '{DEV}-state' holds artifacts or state and is not versioned"
    ]


@pytest.mark.parametrize(
    ("rule", "path", "value", "expected"),
    [
        (
            "dynamodb-point-in-time-recovery",
            "pointInTimeRecovery",
            {"enabled": False},
            "point-in-time recovery is not enabled",
        ),
        (
            "dynamodb-encrypted",
            "serverSideEncryption",
            None,
            "server-side encryption with KMS is not enabled",
        ),
    ],
)
def test_dynamodb_rules(rule: str, path: str, value, expected: str) -> None:
    policy = by_name(rule)
    assert messages(policy, resource(TABLE, "t", table_props())) == []
    assert messages(policy, resource(TABLE, "t", changed(table_props(), path, value))) == [expected]


def test_deletion_protection_follows_protect_data() -> None:
    rule = by_name("dynamodb-deletion-protection")
    unprotected = changed(table_props(ARCHIVE, "archive-test"), "deletionProtectionEnabled", False)
    assert messages(rule, resource(TABLE, "t", table_props(), stack="dev")) == []
    assert (
        messages(
            rule,
            resource(
                TABLE, "t", table_props(ARCHIVE, "archive-test"), stack="archive-test", protect=True
            ),
        )
        == []
    )
    assert messages(rule, resource(TABLE, "t", unprotected, stack="archive-test")) == [
        "the stack sets protectData but deletion protection is off",
        "the stack sets protectData but the resource is not Pulumi-protected",
    ]


# -- compute -----------------------------------------------------------------------------


def test_supported_runtime() -> None:
    rule = compute.supported_runtime
    assert messages(rule, resource(FUNCTION, "f", function_props())) == []
    assert messages(
        rule, resource(FUNCTION, "f", changed(function_props(), "runtime", "python3.8"))
    ) == ["runtime 'python3.8' is not one of python3.12, python3.13"]
    config = {rule.name: {"allowedRuntimes": ["python3.13"]}}
    assert messages(rule, resource(FUNCTION, "f", function_props()), config=config) == [
        "runtime 'python3.12' is not one of python3.13"
    ]


def test_log_group_with_retention() -> None:
    rule = compute.log_group_with_retention
    function = resource(FUNCTION, "f", function_props())
    assert messages(rule, function, resource(LOG_GROUP, "l", log_group_props())) == []
    assert messages(rule, function) == [
        f"function '{DEV}-execution-finder' logs to '{DEV}/lambda/execution-finder', which this "
        "stack does not create (Lambda would create it without retention)"
    ]
    forever = resource(LOG_GROUP, "l", changed(log_group_props(), "retentionInDays", None))
    assert messages(rule, function, forever) == [
        f"log group '{DEV}/lambda/execution-finder' keeps logs forever; set retentionInDays"
    ]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (
            "DB_PASSWORD",
            "hunter2",
            "environment variable 'DB_PASSWORD' looks like a secret; keep it "
            "in Secrets Manager or SSM and pass its name",
        ),
        (
            "UPSTREAM",
            "AKIAABCDEFGHIJKLMNOP",
            "environment variable 'UPSTREAM' holds what looks like a credential",
        ),
    ],
)
def test_no_plaintext_secrets(name: str, value: str, expected: str) -> None:
    rule = compute.no_plaintext_secrets
    assert messages(rule, resource(FUNCTION, "f", function_props())) == []
    leaky = changed(function_props(), f"environment.variables.{name}", value)
    assert messages(rule, resource(FUNCTION, "f", leaky)) == [expected]


# -- network -----------------------------------------------------------------------------

METHOD = "aws:apigateway/method:Method"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"


def test_api_methods_have_authorizer() -> None:
    rule = by_name("api-methods-have-authorizer")
    method = {"httpMethod": "GET", "authorization": "COGNITO_USER_POOLS", "authorizerId": "a1"}
    assert messages(rule, resource(METHOD, "m", method)) == []
    assert (
        messages(rule, resource(METHOD, "m", {"httpMethod": "OPTIONS", "authorization": "NONE"}))
        == []
    )
    assert messages(rule, resource(METHOD, "m", changed(method, "authorization", "NONE"))) == [
        "GET method has no authorizer (authorization NONE); only CORS preflight (OPTIONS) may be open"
    ]


def test_an_imported_api_needs_an_authorizer_on_every_operation_but_preflight() -> None:
    rule = by_name("api-methods-have-authorizer")
    scheme = {"x-amazon-apigateway-authtype": "cognito_user_pools"}
    body = {
        "components": {"securitySchemes": {"cognito": scheme}},
        "paths": {
            "/executions": {
                "get": {"security": [{"cognito": []}]},
                "options": {"security": []},
            }
        },
    }
    api = "aws:apigateway/restApi:RestApi"
    assert messages(rule, resource(api, "api", {"body": json.dumps(body)})) == []
    open_get = json.loads(json.dumps(body))
    open_get["paths"]["/executions"]["get"]["security"] = []
    open_post = json.loads(json.dumps(body))
    open_post["paths"]["/executions"]["post"] = {}
    not_an_authorizer = json.loads(json.dumps(body))
    not_an_authorizer["components"]["securitySchemes"]["cognito"] = {"type": "apiKey"}
    expected = "{} /executions has no authorizer; only CORS preflight (OPTIONS) may be open"
    assert messages(rule, resource(api, "api", {"body": json.dumps(open_get)})) == [
        expected.format("GET")
    ]
    assert messages(rule, resource(api, "api", {"body": json.dumps(open_post)})) == [
        expected.format("POST")
    ]
    assert messages(rule, resource(api, "api", {"body": json.dumps(not_an_authorizer)})) == [
        expected.format("GET")
    ]


def distribution() -> dict:
    return {
        "defaultCacheBehavior": {"viewerProtocolPolicy": "redirect-to-https"},
        "orderedCacheBehaviors": [
            {"pathPattern": "/config.json", "viewerProtocolPolicy": "https-only"}
        ],
        "viewerCertificate": {
            "acmCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/x",
            "minimumProtocolVersion": "TLSv1.2_2021",
        },
        "origins": [
            {
                "originId": "console",
                "domainName": f"{DEV}-console.s3.us-east-1.amazonaws.com",
                "originAccessControlId": "oac-1",
            }
        ],
        "tags": tags(),
    }


@pytest.mark.parametrize(
    ("rule", "path", "value", "expected"),
    [
        (
            "cloudfront-https-only",
            "defaultCacheBehavior.viewerProtocolPolicy",
            "allow-all",
            "default cache behaviour allows 'allow-all'; use redirect-to-https or https-only",
        ),
        (
            "cloudfront-https-only",
            "orderedCacheBehaviors.0.viewerProtocolPolicy",
            "allow-all",
            "cache behaviour '/config.json' allows 'allow-all'; use redirect-to-https or https-only",
        ),
        (
            "cloudfront-current-tls",
            "viewerCertificate.minimumProtocolVersion",
            "TLSv1_2016",
            "minimum TLS version 'TLSv1_2016' is not one of TLSv1.2_2019, TLSv1.2_2021, TLSv1.3_2025",
        ),
        (
            "cloudfront-origin-access-control",
            "origins.0.originAccessControlId",
            None,
            "S3 origin 'console' has no origin access control",
        ),
    ],
)
def test_cloudfront_rules(rule: str, path: str, value, expected: str) -> None:
    policy = by_name(rule)
    assert messages(policy, resource(DISTRIBUTION, "d", distribution())) == []
    assert messages(policy, resource(DISTRIBUTION, "d", changed(distribution(), path, value))) == [
        expected
    ]


def test_default_certificate_is_allowed_unless_configured_otherwise() -> None:
    rule = network.POLICIES[2]
    default = changed(distribution(), "viewerCertificate", {"cloudfrontDefaultCertificate": True})
    assert messages(rule, resource(DISTRIBUTION, "d", default)) == []
    config = {rule.name: {"allowDefaultCertificate": False}}
    assert messages(rule, resource(DISTRIBUTION, "d", default), config=config) == [
        "uses the default *.cloudfront.net certificate, whose TLS floor is fixed"
    ]


# -- orchestration -----------------------------------------------------------------------


def test_state_machine_logging() -> None:
    rule = orchestration.POLICIES[0]
    machine = {
        "name": f"{DEV}-recovery",
        "loggingConfiguration": {
            "level": "ALL",
            "includeExecutionData": True,
            "logDestination": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{DEV}/states/recovery:*",
        },
    }
    state_machine = "aws:sfn/stateMachine:StateMachine"
    assert messages(rule, resource(state_machine, "s", machine)) == []
    assert messages(
        rule, resource(state_machine, "s", changed(machine, "loggingConfiguration", None))
    ) == ["logging is off; set loggingConfiguration.level (ALL, ERROR or FATAL)"]
    assert messages(
        rule,
        resource(state_machine, "s", changed(machine, "loggingConfiguration.logDestination", None)),
    ) == ["logging has no log destination"]


def test_a_rule_can_be_disabled_or_made_advisory_through_config() -> None:
    from drs_policy.offline import evaluate_policies

    table = resource(TABLE, "t", changed(table_props(), "pointInTimeRecovery", None))
    rule = by_name("dynamodb-point-in-time-recovery")
    assert evaluate_policies([table], [rule], {rule.name: "disabled"}) == []
    [advisory] = evaluate_policies([table], [rule], {rule.name: {"enforcementLevel": "advisory"}})
    assert not advisory.mandatory


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"auth": {"mode": "cognito", "userPoolId": "p", "userPoolClientId": "c"}}', []),
        (
            '{"auth": {"mode": "sandbox", "token": "sandbox-x"}}',
            ["console config.json signs in with 'sandbox'; a deployment must use 'cognito'"],
        ),
        ("{not json", ["console config.json is not JSON"]),
    ],
)
def test_a_deployed_console_signs_in_with_cognito(content: str, expected: list[str]) -> None:
    policy = by_name("console-cognito-sign-in")
    props = {"bucket": f"{DEV}-console", "key": "config.json", "content": content, "tags": tags()}
    assert (
        messages(policy, resource("aws:s3/bucketObjectv2:BucketObjectv2", "c", props)) == expected
    )
    other = {**props, "key": "index.html"}
    assert messages(policy, resource("aws:s3/bucketObjectv2:BucketObjectv2", "i", other)) == []
