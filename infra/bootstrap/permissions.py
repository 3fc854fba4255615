"""What the CI roles may do: the main program's resources, by this deployment's name only.

Every statement names ARN patterns that start with the deployment name (or its bucket);
the only statements on ``"*"`` are actions listed in ``infra/iam.py`` ``UNSCOPED_ACTIONS``.
The action lists are what pulumi-aws calls to create, read, update and delete each
resource type the main program declares.
"""

from __future__ import annotations

from typing import Any

from infra import iam
from infra.naming import console_bucket_name

DEPLOY_ACTIONS: dict[str, list[str]] = {
    "dynamodb": [
        "dynamodb:CreateTable",
        "dynamodb:DeleteTable",
        "dynamodb:DescribeTable",
        "dynamodb:UpdateTable",
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:UpdateContinuousBackups",
        "dynamodb:DescribeTimeToLive",
        "dynamodb:UpdateTimeToLive",
        "dynamodb:TagResource",
        "dynamodb:UntagResource",
        "dynamodb:ListTagsOfResource",
        # The audit table's append-only resource policy.
        "dynamodb:GetResourcePolicy",
        "dynamodb:PutResourcePolicy",
        "dynamodb:DeleteResourcePolicy",
    ],
    "lambda": [
        "lambda:CreateFunction",
        "lambda:DeleteFunction",
        "lambda:GetFunction",
        "lambda:GetFunctionConfiguration",
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
        "lambda:ListVersionsByFunction",
        "lambda:GetFunctionCodeSigningConfig",
        "lambda:GetRuntimeManagementConfig",
        "lambda:AddPermission",
        "lambda:RemovePermission",
        "lambda:GetPolicy",
        "lambda:TagResource",
        "lambda:UntagResource",
        "lambda:ListTags",
        # Each function's on-failure destination for asynchronous invocations.
        "lambda:PutFunctionEventInvokeConfig",
        "lambda:GetFunctionEventInvokeConfig",
        "lambda:UpdateFunctionEventInvokeConfig",
        "lambda:DeleteFunctionEventInvokeConfig",
    ],
    "iam": [
        "iam:CreateRole",
        "iam:DeleteRole",
        "iam:GetRole",
        "iam:UpdateRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:ListRoleTags",
        "iam:PutRolePolicy",
        "iam:GetRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
    ],
    "logs": [
        "logs:CreateLogGroup",
        "logs:DeleteLogGroup",
        "logs:PutRetentionPolicy",
        "logs:DeleteRetentionPolicy",
        "logs:TagResource",
        "logs:UntagResource",
        "logs:ListTagsForResource",
    ],
    "events": [
        "events:PutRule",
        "events:DeleteRule",
        "events:DescribeRule",
        "events:EnableRule",
        "events:DisableRule",
        "events:PutTargets",
        "events:RemoveTargets",
        "events:ListTargetsByRule",
        "events:TagResource",
        "events:UntagResource",
        "events:ListTagsForResource",
    ],
    # The bus a deployment with DRS targets receives their forwarded events on, and its
    # policy (PutPermission / RemovePermission carry it).
    "event-bus": [
        "events:CreateEventBus",
        "events:DeleteEventBus",
        "events:DescribeEventBus",
        "events:UpdateEventBus",
        "events:PutPermission",
        "events:RemovePermission",
        "events:TagResource",
        "events:UntagResource",
        "events:ListTagsForResource",
    ],
    "states": [
        "states:CreateStateMachine",
        "states:DeleteStateMachine",
        "states:DescribeStateMachine",
        "states:UpdateStateMachine",
        "states:TagResource",
        "states:UntagResource",
        "states:ListTagsForResource",
        "states:ListStateMachineVersions",
    ],
    "cloudwatch": [
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:DeleteAlarms",
        "cloudwatch:TagResource",
        "cloudwatch:UntagResource",
        "cloudwatch:ListTagsForResource",
    ],
    "dashboard": [
        "cloudwatch:PutDashboard",
        "cloudwatch:GetDashboard",
        "cloudwatch:DeleteDashboards",
    ],
    "sqs": [
        "sqs:CreateQueue",
        "sqs:DeleteQueue",
        "sqs:GetQueueAttributes",
        "sqs:SetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:TagQueue",
        "sqs:UntagQueue",
        "sqs:ListQueueTags",
    ],
    "sns": [
        "sns:CreateTopic",
        "sns:DeleteTopic",
        "sns:GetTopicAttributes",
        "sns:SetTopicAttributes",
        "sns:Subscribe",
        "sns:Unsubscribe",
        "sns:ListSubscriptionsByTopic",
        "sns:TagResource",
        "sns:UntagResource",
        "sns:ListTagsForResource",
    ],
}
OBJECT_WRITE_ACTIONS = [
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:GetObjectTagging",
    "s3:PutObjectTagging",
]
BUCKET_READ_ACTIONS = ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation"]
#: API Gateway's control plane is one set of HTTP verbs on /restapis/<generated id>.
API_GATEWAY_ACTIONS = [
    "apigateway:GET",
    "apigateway:POST",
    "apigateway:PUT",
    "apigateway:PATCH",
    "apigateway:DELETE",
]
#: What pulumi-aws calls to manage the console bucket (its configuration is read back in
#: full on every refresh) and the objects in it.
CONSOLE_BUCKET_ACTIONS = [
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:ListBucket",
    "s3:GetBucketLocation",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketWebsite",
    "s3:GetBucketVersioning",
    "s3:GetAccelerateConfiguration",
    "s3:GetBucketRequestPayment",
    "s3:GetBucketLogging",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:GetEncryptionConfiguration",
    "s3:PutEncryptionConfiguration",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:GetBucketTagging",
    "s3:PutBucketTagging",
    "s3:GetBucketOwnershipControls",
    "s3:PutBucketOwnershipControls",
    "s3:GetBucketPublicAccessBlock",
    "s3:PutBucketPublicAccessBlock",
]
CLOUDFRONT_ACTIONS = sorted(a for a in iam.UNSCOPED_ACTIONS if a.startswith("cloudfront:"))
#: What pulumi-aws calls to manage the user pool, its client, groups and first admin.
COGNITO_ACTIONS = sorted(a for a in iam.UNSCOPED_ACTIONS if a.startswith("cognito-idp:"))
#: Services a role of this deployment may be passed to.
PASSED_TO_SERVICES = ["lambda.amazonaws.com", "states.amazonaws.com"]
STATE_PREFIX = "pulumi-state"


def _arns(partition: str, region: str, account: str, deployment: str) -> dict[str, list[str]]:
    regional = f"{region}:{account}"
    return {
        "dynamodb": [f"arn:{partition}:dynamodb:{regional}:table/{deployment}-*"],
        "lambda": [f"arn:{partition}:lambda:{regional}:function:{deployment}-*"],
        "iam": [f"arn:{partition}:iam::{account}:role/{deployment}-*"],
        "logs": [
            f"arn:{partition}:logs:{regional}:log-group:{deployment}/*",
            f"arn:{partition}:logs:{regional}:log-group:{deployment}/*:*",
        ],
        # Rules on the default bus (rule/<name>) and on the deployment's own (rule/<bus>/<name>).
        "events": [f"arn:{partition}:events:{regional}:rule/{deployment}-*"],
        "event-bus": [f"arn:{partition}:events:{regional}:event-bus/{deployment}-*"],
        "states": [f"arn:{partition}:states:{regional}:stateMachine:{deployment}-*"],
        "sns": [f"arn:{partition}:sns:{regional}:{deployment}-*"],
        "cloudwatch": [f"arn:{partition}:cloudwatch:{regional}:alarm:{deployment}-*"],
        # Dashboards are global: no region in their ARN.
        "dashboard": [f"arn:{partition}:cloudwatch::{account}:dashboard/{deployment}-*"],
        "sqs": [f"arn:{partition}:sqs:{regional}:{deployment}-*"],
    }


def deploy_statements(
    partition: str, region: str, account: str, deployment: str, bucket: str
) -> list[dict[str, Any]]:
    """Everything ``pulumi up`` of the main program needs, for this deployment only."""
    arns = _arns(partition, region, account, deployment)
    statements = [
        iam.statement(actions, arns[service]) for service, actions in DEPLOY_ACTIONS.items()
    ]
    passrole = iam.statement(["iam:PassRole"], arns["iam"])
    passrole["Condition"] = {"StringEquals": {"iam:PassedToService": PASSED_TO_SERVICES}}
    statements.append(passrole)
    statements += _bucket_statements(partition, bucket, OBJECT_WRITE_ACTIONS, f"{bucket}/*")
    statements.append(iam.unscoped_statement(["logs:DescribeLogGroups", *iam.LOG_DELIVERY_ACTIONS]))
    statements.append(iam.unscoped_statement(API_GATEWAY_ACTIONS))
    statements.append(iam.unscoped_statement(COGNITO_ACTIONS))
    console = f"arn:{partition}:s3:::{console_bucket_name(deployment)}"
    statements.append(iam.statement(CONSOLE_BUCKET_ACTIONS, [console]))
    statements.append(iam.statement(OBJECT_WRITE_ACTIONS, [f"{console}/*"]))
    statements.append(iam.unscoped_statement(CLOUDFRONT_ACTIONS))
    return statements


def preview_statements(partition: str, bucket: str) -> list[dict[str, Any]]:
    """``pulumi preview`` reads state and packages, and takes the state lock; nothing more."""
    statements = _bucket_statements(
        partition, bucket, ["s3:GetObject", "s3:GetObjectVersion"], f"{bucket}/*"
    )
    statements.append(
        iam.statement(
            ["s3:PutObject", "s3:DeleteObject"],
            [f"arn:{partition}:s3:::{bucket}/{STATE_PREFIX}/.pulumi/locks/*"],
        )
    )
    return statements


def _bucket_statements(
    partition: str, bucket: str, object_actions: list[str], objects: str
) -> list[dict[str, Any]]:
    return [
        iam.statement(BUCKET_READ_ACTIONS, [f"arn:{partition}:s3:::{bucket}"]),
        iam.statement(object_actions, [f"arn:{partition}:s3:::{objects}"]),
    ]
