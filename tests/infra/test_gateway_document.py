"""The REST API's body: the API's OpenAPI document as API Gateway imports it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from drs_orchestrator.api import schemas
from openapi_spec_validator import validate

from infra.gateway_document import gateway_document
from infra.gateway_limits import import_problems

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


def test_the_api_document_itself_is_valid_openapi_3_0() -> None:
    """``openapi-spec-validator`` refused the document (``propertyNames`` is not part of
    OpenAPI 3.0's schema object): the rules it stated are now ``x-propertyNames``, which the
    API enforces as the JSON Schema keyword."""
    document = schemas.document()
    assert document["openapi"].startswith("3.0.")
    validate(document)
    text = json.dumps(document)
    assert '"propertyNames"' not in text and '"x-propertyNames"' in text
    validator_schema = schemas._resolved(document["components"]["schemas"]["ProtectionGroupInput"])[
        "properties"
    ]["tagSelectors"]
    assert validator_schema["propertyNames"]["pattern"] == "^(?!aws:)[\\w\\s.:/=+\\-@]+$"


def test_the_body_meets_api_gateways_documented_import_limits() -> None:
    assert import_problems(body()) == []
    # The source document is not what API Gateway imports: its parameters' bounds would be
    # dropped on import, which is why the body carries plain types and the function checks.
    assert any("ignored on import" in p for p in import_problems(schemas.document()))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.update(openapi="3.1.0"), "openapi 3.1.0: API Gateway imports OpenAPI 3.0.x"),
        (
            lambda d: d["paths"].update({"/items/prefix_{id}": {}}),
            "path /items/prefix_{id}: segment 'prefix_{id}' is not imported",
        ),
        (
            lambda d: d["paths"]["/audit"]["get"]["parameters"][0].update(example="a"),
            "GET /audit parameter user: example not supported on a parameter",
        ),
        (
            lambda d: d["paths"]["/audit"]["get"]["parameters"][0]["schema"].update(maxLength=5),
            "GET /audit parameter user: schema keyword(s) maxLength are ignored on import",
        ),
        (
            lambda d: d["components"].update(schemas={"Bad_Name": {"type": "object"}}),
            "model Bad_Name: a model name may hold letters and digits only",
        ),
        (
            lambda d: d["components"].update(
                schemas={"Body": {"oneOf": [{"type": "string"}], "additionalProperties": True}}
            ),
            "model Body: 'oneOf' is not supported by API Gateway's import",
        ),
        (
            lambda d: d["components"].update(
                schemas={"Body": {"type": "object", "additionalProperties": True}}
            ),
            "model Body: 'additionalProperties' is not supported in a model",
        ),
        (
            lambda d: d["components"].update(
                schemas={"Count": {"type": "integer", "format": "int64"}}
            ),
            "model Count: format int64 is not supported by API Gateway",
        ),
        (
            lambda d: d["components"]["securitySchemes"]["cognito"].update(type="http"),
            "security scheme cognito: type http is not imported",
        ),
        (
            lambda d: d["paths"]["/audit"].update(trace={}),
            "TRACE /audit: 'trace' is not a method API Gateway imports",
        ),
    ],
)
def test_each_import_limit_is_caught(change: Any, problem: str) -> None:
    document = body()
    change(document)
    assert any(p.startswith(problem) for p in import_problems(document)), import_problems(document)


def test_a_body_api_gateway_would_refuse_stops_the_program_before_the_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from infra.components import api
    from infra.offline import evaluate

    real = api.gateway_document

    def with_a_model(*args: Any) -> dict[str, Any]:
        document = real(*args)
        document["components"]["schemas"] = {"Plan": {"oneOf": [{"type": "object"}]}}
        return document

    monkeypatch.setattr(api, "gateway_document", with_a_model)
    with pytest.raises(ValueError, match="breaks API Gateway's import limits: model Plan: 'oneOf'"):
        evaluate("dev")
