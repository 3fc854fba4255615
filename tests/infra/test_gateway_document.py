"""The REST API's body: the API's OpenAPI document as API Gateway imports it."""

from __future__ import annotations

import json
import re

from drs_orchestrator.api import schemas
from openapi_spec_validator import validate

from infra.gateway_document import gateway_document

INVOKE_ARN = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:123456789012:function:example-api/invocations"
)
POOL_ARN = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_example"


def body() -> dict:
    return gateway_document(schemas.document(), "example-api", INVOKE_ARN, POOL_ARN)


def test_the_body_is_a_valid_openapi_document_api_gateway_can_import() -> None:
    document = body()
    validate(document)
    text = json.dumps(document)
    # Left to the function: schemas (draft-4 models would hide the field names), roles.
    for absent in ('"$ref"', '"x-roles"', '"x-roles-by-mode"', '"links"', '"requestBody"'):
        assert absent not in text, absent
    assert document["info"]["title"] == "example-api"


def test_every_route_of_the_document_is_served_with_its_path_parameters() -> None:
    document = body()
    served = {
        (method.upper(), path)
        for path, methods in document["paths"].items()
        for method in methods
        if method != "options"
    }
    assert served == schemas.routes()
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    for path, methods in document["paths"].items():
        needed = set(re.findall(r"\{(\w+)\}", path))
        for method, operation in methods.items():
            declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert declared == needed, (method, path)
            assert all(p["required"] for p in operation["parameters"] if p["in"] == "path")


def test_browsers_can_read_api_gateways_own_refusals() -> None:
    responses = body()["x-amazon-apigateway-gateway-responses"]
    for kind in ("UNAUTHORIZED", "ACCESS_DENIED", "DEFAULT_4XX", "DEFAULT_5XX"):
        headers = responses[kind]["responseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"
