"""API Gateway (REST) in front of the API function, built from the OpenAPI document.

Every operation of ``lambdas/drs_orchestrator/api/openapi.json`` becomes a method with the
Cognito authorizer and a proxy integration to the API function; every path also answers
CORS preflight (OPTIONS, the only method without an authorizer). The stage writes access
logs and is throttled.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws
from drs_orchestrator.api import schemas

if TYPE_CHECKING:
    from infra.settings import Settings

STAGE = "v1"
CORS_HEADERS = {
    "method.response.header.Access-Control-Allow-Headers": "'Authorization,Content-Type'",
    "method.response.header.Access-Control-Allow-Methods": "'DELETE,GET,OPTIONS,POST,PUT'",
    "method.response.header.Access-Control-Allow-Origin": "'*'",
}
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


def _logical(path: str) -> str:
    """``/executions/{executionId}/cancel`` -> ``executions-executionid-cancel``."""
    return path.strip("/").replace("{", "").replace("}", "").replace("/", "-").lower() or "root"


@dataclass
class RestApiArgs:
    settings: Settings
    """Validated stack settings: names, tags, log retention."""
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
        settings, names = args.settings, args.settings.naming
        child = pulumi.ResourceOptions(parent=self)
        self.api = aws.apigateway.RestApi(
            "rest-api",
            name=f"{settings.deployment_name}-api",
            description="drs-orchestrator REST API (OpenAPI: lambdas/drs_orchestrator/api).",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(
                types="REGIONAL"
            ),
            tags=names.tags(),
            opts=child,
        )
        authorizer = aws.apigateway.Authorizer(
            "cognito-authorizer",
            name=f"{settings.deployment_name}-cognito",
            rest_api=self.api.id,
            type="COGNITO_USER_POOLS",
            provider_arns=[args.user_pool_arn],
            identity_source="method.request.header.Authorization",
            opts=child,
        )
        resources: dict[str, pulumi.Input[str]] = {"/": self.api.root_resource_id}
        depends: list[pulumi.Resource] = []
        document = schemas.document()
        for path in sorted(document["paths"]):
            parent = "/"
            for part in path.strip("/").split("/"):
                current = parent.rstrip("/") + "/" + part
                if current not in resources:
                    resources[current] = aws.apigateway.Resource(
                        f"resource-{_logical(current)}",
                        rest_api=self.api.id,
                        parent_id=resources[parent],
                        path_part=part,
                        opts=child,
                    ).id
                parent = current
            resource_id = resources[path]
            for method in sorted(document["paths"][path]):
                logical = f"{method}-{_logical(path)}"
                created = aws.apigateway.Method(
                    f"method-{logical}",
                    rest_api=self.api.id,
                    resource_id=resource_id,
                    http_method=method.upper(),
                    authorization="COGNITO_USER_POOLS",
                    authorizer_id=authorizer.id,
                    opts=child,
                )
                depends.append(
                    aws.apigateway.Integration(
                        f"integration-{logical}",
                        rest_api=self.api.id,
                        resource_id=resource_id,
                        http_method=created.http_method,
                        type="AWS_PROXY",
                        integration_http_method="POST",
                        uri=args.function_invoke_arn,
                        opts=child,
                    )
                )
            depends += self._preflight(path, resource_id, child)
        self.deployment = aws.apigateway.Deployment(
            "deployment",
            rest_api=self.api.id,
            # A new deployment whenever the document changes, so the stage serves it.
            triggers={
                "openapi": hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )
        self.access_logs = aws.cloudwatch.LogGroup(
            "api-access-logs",
            name=f"{settings.deployment_name}/api/access",
            retention_in_days=settings.log_retention_days,
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

    def _preflight(
        self, path: str, resource_id: pulumi.Input[str], child: pulumi.ResourceOptions
    ) -> list[pulumi.Resource]:
        """OPTIONS answered by API Gateway itself, so browsers may call the API."""
        logical = f"options-{_logical(path)}"
        method = aws.apigateway.Method(
            f"method-{logical}",
            rest_api=self.api.id,
            resource_id=resource_id,
            http_method="OPTIONS",
            authorization="NONE",
            opts=child,
        )
        integration = aws.apigateway.Integration(
            f"integration-{logical}",
            rest_api=self.api.id,
            resource_id=resource_id,
            http_method=method.http_method,
            type="MOCK",
            request_templates={"application/json": '{"statusCode": 200}'},
            opts=child,
        )
        response = aws.apigateway.MethodResponse(
            f"response-{logical}",
            rest_api=self.api.id,
            resource_id=resource_id,
            http_method=method.http_method,
            status_code="200",
            response_parameters=dict.fromkeys(CORS_HEADERS, True),
            opts=child,
        )
        answer = aws.apigateway.IntegrationResponse(
            f"integration-response-{logical}",
            rest_api=self.api.id,
            resource_id=resource_id,
            http_method=method.http_method,
            status_code=response.status_code,
            response_parameters=CORS_HEADERS,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[integration]),
        )
        return [integration, answer]
