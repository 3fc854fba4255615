"""IAM documents as dicts, and the one allow-list of actions that cannot be scoped.

Every other statement names ARNs of the deployment's own resources. The policy pack reads
``UNSCOPED_ACTIONS`` to tell a documented exception from a mistake.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi

_API_GATEWAY_REASON = (
    "API Gateway names REST APIs by generated ids (/restapis/<id>), so no ARN pattern holds "
    "the deployment name; only the CI deploy role has it, and the policy pack checks what it "
    "creates."
)
_COGNITO_REASON = (
    "Cognito names user pools by generated ids (userpool/<region>_<id>), so no ARN pattern "
    "holds the deployment name; only the CI deploy role has it."
)

_CLOUDFRONT_REASON = (
    "CloudFront names distributions and origin access controls by generated ids "
    "(distribution/<id>), so no ARN pattern holds the deployment name; only the CI deploy "
    "role has it, and the distribution carries the deployment tag."
)

#: Actions granted on ``"*"``, each with the reason no narrower resource works.
UNSCOPED_ACTIONS: dict[str, str] = {
    **{
        f"cloudfront:{action}": _CLOUDFRONT_REASON
        for action in (
            "CreateDistribution",
            "CreateDistributionWithTags",
            "GetDistribution",
            "GetDistributionConfig",
            "UpdateDistribution",
            "DeleteDistribution",
            "TagResource",
            "UntagResource",
            "ListTagsForResource",
            "CreateOriginAccessControl",
            "GetOriginAccessControl",
            "GetOriginAccessControlConfig",
            "UpdateOriginAccessControl",
            "DeleteOriginAccessControl",
        )
    },
    "apigateway:GET": _API_GATEWAY_REASON,
    "apigateway:POST": _API_GATEWAY_REASON,
    "apigateway:PUT": _API_GATEWAY_REASON,
    "apigateway:PATCH": _API_GATEWAY_REASON,
    "apigateway:DELETE": _API_GATEWAY_REASON,
    "cognito-idp:CreateUserPool": _COGNITO_REASON,
    "cognito-idp:DeleteUserPool": _COGNITO_REASON,
    "cognito-idp:DescribeUserPool": _COGNITO_REASON,
    "cognito-idp:UpdateUserPool": _COGNITO_REASON,
    "cognito-idp:GetUserPoolMfaConfig": _COGNITO_REASON,
    "cognito-idp:SetUserPoolMfaConfig": _COGNITO_REASON,
    "cognito-idp:CreateUserPoolClient": _COGNITO_REASON,
    "cognito-idp:DescribeUserPoolClient": _COGNITO_REASON,
    "cognito-idp:UpdateUserPoolClient": _COGNITO_REASON,
    "cognito-idp:DeleteUserPoolClient": _COGNITO_REASON,
    "cognito-idp:CreateGroup": _COGNITO_REASON,
    "cognito-idp:GetGroup": _COGNITO_REASON,
    "cognito-idp:UpdateGroup": _COGNITO_REASON,
    "cognito-idp:DeleteGroup": _COGNITO_REASON,
    "cognito-idp:AdminCreateUser": _COGNITO_REASON,
    "cognito-idp:AdminGetUser": _COGNITO_REASON,
    "cognito-idp:AdminDeleteUser": _COGNITO_REASON,
    "cognito-idp:AdminUpdateUserAttributes": _COGNITO_REASON,
    "cognito-idp:AdminAddUserToGroup": _COGNITO_REASON,
    "cognito-idp:AdminRemoveUserFromGroup": _COGNITO_REASON,
    "cognito-idp:AdminListGroupsForUser": _COGNITO_REASON,
    "cognito-idp:ListUsersInGroup": _COGNITO_REASON,
    "cognito-idp:TagResource": _COGNITO_REASON,
    "cognito-idp:UntagResource": _COGNITO_REASON,
    "cognito-idp:ListTagsForResource": _COGNITO_REASON,
    "drs:DescribeJobs": (
        "DescribeJobs is a list action with no resource-level permissions; the finder "
        "filters it to the job ids recorded on its own executions."
    ),
    "drs:DescribeJobLogItems": (
        "DRS job ids are assigned by the service and carry no deployment name, so no ARN "
        "pattern can single out this deployment's jobs; the finder asks only for its own."
    ),
    "drs:StartRecovery": (
        "The wave runner launches the source servers of its own execution; source servers are "
        "replicated machines shared by the account and carry no deployment name."
    ),
    "drs:CreateRecoveryInstanceForDrs": (
        "Dependent action of StartRecovery, authorised on the recovery instance DRS creates."
    ),
    "drs:ListTagsForResource": (
        "Dependent action of StartRecovery and TerminateRecoveryInstances (tag propagation)."
    ),
    "drs:TagResource": (
        "StartRecovery tags the job with the deployment and execution it belongs to; the job "
        "does not exist before the call, so no ARN can name it."
    ),
    "drs:DescribeSourceServers": (
        "A list action with no resource-level permissions; the API shows the inventory and "
        "resolves tag selectors with it."
    ),
    "drs:DescribeRecoveryInstances": (
        "A list action with no resource-level permissions; the API reads the recovery "
        "instances a recovery launched to tell whether they can fail back."
    ),
    "drs:DescribeRecoverySnapshots": (
        "Source servers are the account's replicated machines and carry no deployment name; "
        "the API reads the snapshots of the servers of the plan it starts at a point in time."
    ),
    "drs:GetLaunchConfiguration": (
        "Source servers are the account's replicated machines and carry no deployment name; "
        "readiness compares each server's launch configuration with its group's settings."
    ),
    "drs:UpdateLaunchConfiguration": (
        "Source servers carry no deployment name; the API sets only the servers of a "
        "protection group to that group's launch settings, on an operator's request."
    ),
    "ec2:DescribeLaunchTemplateVersions": (
        "A describe action with no resource-level permissions; DRS names each source server's "
        "launch template (created by DRS, no deployment name) in its launch configuration."
    ),
    "ec2:DescribeSubnets": (
        "A describe action with no resource-level permissions; readiness checks that the "
        "subnet each launch template names still exists."
    ),
    "ec2:DescribeInstanceTypeOfferings": (
        "A describe action with no resource-level permissions; readiness checks that EC2 "
        "offers each launch template's instance type in the region."
    ),
    "ec2:CreateLaunchTemplateVersion": (
        "DRS creates one launch template per source server, named and tagged by DRS, not the "
        "deployment; granted only on templates tagged AWSElasticDisasterRecoveryManaged "
        "(DRS_TEMPLATES_CONDITION), to apply a group's launch template overrides."
    ),
    "ec2:ModifyLaunchTemplate": (
        "Makes the version the API just created the default of a DRS-managed launch template; "
        "granted only on templates tagged AWSElasticDisasterRecoveryManaged."
    ),
    "ssm:DescribeDocument": (
        "Plan readiness reads the type of each action's document, AWS's own (no account in "
        "their ARN) and the account's; the plan names them, not the deployment."
    ),
    "drs:TerminateRecoveryInstances": (
        "Recovery instances are created by DRS with ids the deployment cannot predict; the API "
        "terminates only those recorded on its own drill executions."
    ),
    "states:SendTaskSuccess": (
        "Step Functions authorises task tokens, not state machine ARNs; the API sends only "
        "tokens stored on its own executions."
    ),
    "logs:CreateLogDelivery": (
        "Step Functions logging: CloudWatch Logs vended-log deliveries support only '*'."
    ),
    "logs:GetLogDelivery": "Step Functions logging: vended-log deliveries support only '*'.",
    "logs:UpdateLogDelivery": "Step Functions logging: vended-log deliveries support only '*'.",
    "logs:DeleteLogDelivery": "Step Functions logging: vended-log deliveries support only '*'.",
    "logs:ListLogDeliveries": "Step Functions logging: vended-log deliveries support only '*'.",
    "logs:PutResourcePolicy": (
        "Step Functions logging writes the log group's resource policy; the action has no "
        "resource-level permissions."
    ),
    "logs:DescribeResourcePolicies": "Step Functions logging: no resource-level permissions.",
    "xray:PutTraceSegments": "X-Ray tracing of the state machine: no resource-level permissions.",
    "xray:PutTelemetryRecords": "X-Ray tracing: no resource-level permissions.",
    "xray:GetSamplingRules": "X-Ray tracing: no resource-level permissions.",
    "xray:GetSamplingTargets": "X-Ray tracing: no resource-level permissions.",
    "ssm:StartAutomationExecution": (
        "Pre/post wave actions run Automation documents the plan names (AWS-owned or the "
        "account's); their ARNs carry no deployment name."
    ),
    "ssm:GetAutomationExecution": (
        "Automation execution ids are generated by SSM; the runner reads only those it started."
    ),
    "logs:DescribeLogGroups": (
        "A list action: CloudWatch Logs authorises it only on log-group:*; pulumi-aws calls "
        "it to read a log group back, and it returns names, not log data."
    ),
}


#: Actions that change an EC2 launch template: only DRS's own (``DRS_TEMPLATES_CONDITION``).
LAUNCH_TEMPLATE_WRITES: list[str] = ["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"]
#: The launch templates DRS creates for its source servers carry this tag; a template
#: without it is none of DRS's, and the functions may not change it.
DRS_TEMPLATES_CONDITION: dict[str, Any] = {
    "Null": {"aws:ResourceTag/AWSElasticDisasterRecoveryManaged": "false"}
}
#: What readiness and the API read of the EC2 side of a launch.
LAUNCH_TEMPLATE_READS: list[str] = [
    "ec2:DescribeInstanceTypeOfferings",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:DescribeSubnets",
]

#: What the deployment's functions call in a DRS target account, through the role they
#: assume there (``infra/target``): the DRS actions of their own policies and the launch
#: template reads, no more (the launch template writes are a statement of their own, with
#: ``DRS_TEMPLATES_CONDITION``). SSM (the pre- and post-wave actions) is called only in the
#: deployment's own account; DRS launches recovery instances with its own role.
TARGET_ROLE_ACTIONS: list[str] = sorted(
    [
        "drs:DescribeJobs",
        "drs:DescribeJobLogItems",
        "drs:DescribeRecoveryInstances",
        "drs:DescribeRecoverySnapshots",
        "drs:DescribeSourceServers",
        "drs:GetLaunchConfiguration",
        "drs:UpdateLaunchConfiguration",
        "drs:StartRecovery",
        "drs:CreateRecoveryInstanceForDrs",
        "drs:ListTagsForResource",
        "drs:TagResource",
        "drs:TerminateRecoveryInstances",
        *LAUNCH_TEMPLATE_READS,
    ]
)


#: What a state machine with logging needs (its role, and whoever creates it):
#: CloudWatch Logs vended-log deliveries, authorised on "*" only.
LOG_DELIVERY_ACTIONS: list[str] = [
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
]


def statement(actions: list[str], resources: list[Any] | str) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": resources,
    }


def unscoped_statement(actions: list[str]) -> dict[str, Any]:
    """A statement on ``"*"`` for actions in the allow-list, and only those."""
    unknown = sorted(set(actions) - set(UNSCOPED_ACTIONS))
    if unknown:
        msg = f"{unknown} are not in UNSCOPED_ACTIONS; scope them to this deployment's ARNs"
        raise ValueError(msg)
    return statement(actions, "*")


def drs_templates_statement() -> dict[str, Any]:
    """The launch template writes, on DRS-managed templates only (``"*"`` with the tag
    condition: DRS names its templates, the deployment does not)."""
    return {**unscoped_statement(LAUNCH_TEMPLATE_WRITES), "Condition": DRS_TEMPLATES_CONDITION}


def target_role_policy(regions: list[str], role_arn: str) -> dict[str, Any]:
    """The policy of a deployment's role in a DRS target account: the runtime's calls there
    (``TARGET_ROLE_ACTIONS``), the launch template writes on DRS's own templates, both in
    ``regions`` only; and IAM's simulation of the role itself (readiness asks whether it may
    launch, with the account's SCPs counted). IAM is global: no region condition there."""
    in_regions = {"StringEquals": {"aws:RequestedRegion": list(regions)}}
    calls = {**unscoped_statement(TARGET_ROLE_ACTIONS), "Condition": in_regions}
    writes = drs_templates_statement()
    writes["Condition"] = {**in_regions, **writes["Condition"]}
    simulate = statement(["iam:SimulatePrincipalPolicy"], role_arn)
    return {"Version": "2012-10-17", "Statement": [calls, writes, simulate]}


def document(statements: list[dict[str, Any]]) -> pulumi.Output[str]:
    """A policy document as JSON; ARNs inside may still be Outputs."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements})


def assume_role_policy(service: str) -> str:
    """Trust policy letting one AWS service principal assume the role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
