"""The OpenAPI document API Gateway imports: ``api/openapi.json`` plus how to serve it.

One document describes the API (``lambdas/drs_orchestrator/api/openapi.json``: routes,
roles, request and response schemas); this module derives from it the body of the REST API
resource, so API Gateway is built by importing it instead of one Pulumi resource per
path, method, integration and response. Added per operation: the Cognito authorizer
(``securitySchemes`` with ``x-amazon-apigateway-authorizer``) and the proxy integration to the
API function; per path: a CORS preflight (OPTIONS) answered by API Gateway itself, with no
authorizer; gateway responses carrying the CORS headers so a browser can read a 401 or 403.

What API Gateway does not need is left out of the body: the request and response schemas
(bodies are validated by the function, which names every field and reason — API Gateway's
draft-4 models would answer a bare "Invalid request body"), the roles (``x-roles``, enforced
by the function) and links. Path and query parameters stay, with plain types, and API
Gateway validates that required parameters are present.
"""

from __future__ import annotations

import copy
from typing import Any

AUTHORIZER = "cognito"
#: The CORS headers of every answer: preflights, gateway responses, the sandbox's site.
CORS_HEADERS = {
    "Access-Control-Allow-Headers": "Authorization,Content-Type",
    "Access-Control-Allow-Methods": "DELETE,GET,OPTIONS,POST,PUT",
    "Access-Control-Allow-Origin": "*",
}
PARAMETER_VALIDATOR = "parameters"
#: Gateway responses (API Gateway's own answers) that carry CORS headers.
GATEWAY_RESPONSES = ("DEFAULT_4XX", "DEFAULT_5XX", "UNAUTHORIZED", "ACCESS_DENIED")


def _plain_parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    kind = (parameter.get("schema") or {}).get("type", "string")
    return {
        "name": parameter["name"],
        "in": parameter["in"],
        "required": bool(parameter.get("required", parameter["in"] == "path")),
        "schema": {"type": kind},
    }


def _cors(prefix: str) -> dict[str, str]:
    """``CORS_HEADERS`` as API Gateway's parameter mappings (quoted static values)."""
    return {f"{prefix}.{name}": f"'{value}'" for name, value in CORS_HEADERS.items()}


def _preflight(path: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    headers = {name: {"schema": {"type": "string"}} for name in CORS_HEADERS}
    return {
        "operationId": f"preflight{''.join(word.title() for word in _words(path))}",
        "summary": "CORS preflight, answered by API Gateway",
        "parameters": parameters,
        "security": [],
        "responses": {"200": {"description": "CORS preflight", "headers": headers}},
        "x-amazon-apigateway-integration": {
            "type": "mock",
            "requestTemplates": {"application/json": '{"statusCode": 200}'},
            "passthroughBehavior": "when_no_match",
            "responses": {
                "default": {
                    "statusCode": "200",
                    "responseParameters": _cors("method.response.header"),
                }
            },
        },
    }


def gateway_document(
    document: dict[str, Any], title: str, invoke_arn: str, user_pool_arn: str
) -> dict[str, Any]:
    """The body of the REST API: ``document``'s routes, each behind the Cognito authorizer
    of ``user_pool_arn`` and proxied to the function of ``invoke_arn``."""
    paths: dict[str, Any] = {}
    for path, operations in sorted(document["paths"].items()):
        served: dict[str, Any] = {}
        path_parameters: list[dict[str, Any]] = []
        for method, operation in sorted(operations.items()):
            parameters = [_plain_parameter(p) for p in operation.get("parameters", [])]
            path_parameters = [p for p in parameters if p["in"] == "path"] or path_parameters
            served[method] = {
                "operationId": operation["operationId"],
                "summary": operation.get("summary", operation["operationId"]),
                "parameters": parameters,
                "security": [{AUTHORIZER: []}],
                "x-amazon-apigateway-request-validator": PARAMETER_VALIDATOR,
                "responses": {
                    status: {"description": answer.get("description", status)}
                    for status, answer in operation.get("responses", {}).items()
                },
                "x-amazon-apigateway-integration": {
                    "type": "aws_proxy",
                    "httpMethod": "POST",
                    "uri": invoke_arn,
                    "passthroughBehavior": "when_no_match",
                },
            }
        served["options"] = _preflight(path, path_parameters)
        paths[path] = served
    return {
        "openapi": document["openapi"],
        "info": {**copy.deepcopy(document["info"]), "title": title},
        "paths": paths,
        "components": {
            "securitySchemes": {
                AUTHORIZER: {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authtype": "cognito_user_pools",
                    "x-amazon-apigateway-authorizer": {
                        "type": "cognito_user_pools",
                        "providerARNs": [user_pool_arn],
                    },
                }
            }
        },
        "x-amazon-apigateway-request-validators": {
            PARAMETER_VALIDATOR: {"validateRequestBody": False, "validateRequestParameters": True}
        },
        "x-amazon-apigateway-gateway-responses": {
            kind: {"responseParameters": _cors("gatewayresponse.header")}
            for kind in GATEWAY_RESPONSES
        },
    }


def _words(path: str) -> list[str]:
    return [w.strip("{}") for w in path.strip("/").replace("-", "/").split("/") if w] or ["root"]


def operations(body: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (METHOD, path, operation) of a gateway body, preflights included."""
    return [
        (method.upper(), path, operation)
        for path, methods in body.get("paths", {}).items()
        for method, operation in methods.items()
    ]


def authorizers(body: dict[str, Any]) -> set[str]:
    """The security schemes of a gateway body that are API Gateway authorizers."""
    schemes = (body.get("components") or {}).get("securitySchemes") or {}
    return {
        name
        for name, scheme in schemes.items()
        if isinstance(scheme, dict) and scheme.get("x-amazon-apigateway-authtype")
    }
