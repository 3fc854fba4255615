"""API Gateway (REST) in front of the API function, imported from the OpenAPI document.

The REST API's body is ``lambdas/drs_orchestrator/api/openapi.json`` extended by
``infra/gateway_document.py``: every operation behind the Cognito authorizer with a proxy
integration to the API function, every path answering CORS preflight (OPTIONS, the only
method without an authorizer). A new deployment is made whenever the body changes; the
stage writes access logs and is throttled. A handful of resources instead of one per
path, method, integration and response.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws
from drs_orchestrator.api import schemas

from infra.gateway_document import gateway_document
from infra.gateway_limits import import_problems

#: Stands in for the function's and the user pool's ARNs when the body is checked.
PLACEHOLDER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:placeholder"

if TYPE_CHECKING:
    from infra.naming import Naming

STAGE = "v1"
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "user": "$context.authorizer.claims.sub",
        "time": "$context.requestTime",
        "method": "$context.httpMethod",
        "path": "$context.resourcePath",
        "status": "$context.status",
        "latencyMs": "$context.responseLatency",
    },
    separators=(",", ":"),
)


@dataclass
class RestApiArgs:
    naming: Naming
    """The deployment's names and tags."""
    log_retention_days: int
    """Retention of the access-log group."""
    function_name: pulumi.Input[str]
    """The API function API Gateway may invoke."""
    function_invoke_arn: pulumi.Input[str]
    """Its invoke ARN, for the proxy integrations."""
    user_pool_arn: pulumi.Input[str]
    """The Cognito user pool whose tokens the authorizer accepts."""
    throttle_rate: float = 50
    """Steady requests per second for the whole stage."""
    throttle_burst: int = 100
    """Burst of requests for the whole stage."""


class RestApi(pulumi.ComponentResource):
    def __init__(self, name: str, args: RestApiArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("drs-orchestrator:api:RestApi", name, None, opts)
        names = args.naming
        child = pulumi.ResourceOptions(parent=self)
        name = names.rest_api()
        # API Gateway's import limits, checked on the body as it will be (the ARNs aside)
        # before the API is declared: a body it would refuse or trim stops the program here.
        problems = import_problems(
            gateway_document(schemas.document(), name, PLACEHOLDER_ARN, PLACEHOLDER_ARN)
        )
        if problems:
            msg = "the REST API's OpenAPI body breaks API Gateway's import limits: " + "; ".join(
                problems
            )
            raise ValueError(msg)
        body = pulumi.Output.all(args.function_invoke_arn, args.user_pool_arn).apply(
            lambda arns: json.dumps(
                gateway_document(schemas.document(), name, arns[0], arns[1]), sort_keys=True
            )
        )
        self.api = aws.apigateway.RestApi(
            "rest-api",
            name=name,
            description="drs-orchestrator REST API (OpenAPI: lambdas/drs_orchestrator/api).",
            body=body,
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(
                types="REGIONAL"
            ),
            tags=names.tags(),
            opts=child,
        )
        self.deployment = aws.apigateway.Deployment(
            "deployment",
            rest_api=self.api.id,
            # A new deployment whenever the body changes, so the stage serves it.
            triggers={"openapi": body.apply(lambda b: hashlib.sha256(b.encode()).hexdigest())},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.api]),
        )
        self.access_logs = aws.cloudwatch.LogGroup(
            "api-access-logs",
            name=names.api_access_log_group(),
            retention_in_days=args.log_retention_days,
            tags=names.tags(),
            opts=child,
        )
        self.stage = aws.apigateway.Stage(
            "stage",
            rest_api=self.api.id,
            deployment=self.deployment.id,
            stage_name=STAGE,
            xray_tracing_enabled=True,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=self.access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            tags=names.tags(),
            opts=child,
        )
        aws.apigateway.MethodSettings(
            "throttling",
            rest_api=self.api.id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                throttling_rate_limit=args.throttle_rate,
                throttling_burst_limit=args.throttle_burst,
                metrics_enabled=True,
            ),
            opts=child,
        )
        aws.lambda_.Permission(
            "api-invoke-permission",
            action="lambda:InvokeFunction",
            function=args.function_name,
            principal="apigateway.amazonaws.com",
            source_arn=pulumi.Output.concat(self.api.execution_arn, "/*/*"),
            opts=child,
        )
        self.url = self.stage.invoke_url
        self.register_outputs({"apiUrl": self.url, "restApiId": self.api.id})
