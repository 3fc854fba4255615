"""API Gateway's documented limits on importing an OpenAPI document as a REST API.

API Gateway imports OpenAPI 2.0 and 3.0 documents "with exceptions" (the developer guide's
*Amazon API Gateway important notes for REST APIs*): some of them make the import fail,
others are dropped silently, which would leave a document that validates and an API that
does not do what it says. The body the program gives the REST API
(``infra/gateway_document.py``) is checked against them before the API is declared, so a
change that breaks an import stops ``pulumi preview`` here, offline, naming the rule,
instead of the first real ``pulumi up``.
"""

from __future__ import annotations

import re
from typing import Any

#: OpenAPI versions API Gateway imports (3.1 is not among them).
IMPORTED_VERSIONS = re.compile(r"3\.0\.\d+")
#: "Path segments can only contain alphanumeric characters, hyphens, periods, commas, colons
#: and curly braces"; a path parameter is a whole segment (``{name}`` or greedy ``{name+}``).
SEGMENT = re.compile(r"[A-Za-z0-9.,:-]+|\{[A-Za-z0-9_]+\+?\}")
#: "Model names can only contain alphanumeric characters."
MODEL_NAME = re.compile(r"[A-Za-z0-9]+")
#: "For input parameters, only the following attributes are supported: name, in, required,
#: type, description" (in 3.0 the type is in ``schema``).
PARAMETER_FIELDS = frozenset({"name", "in", "required", "schema", "description"})
PARAMETER_SCHEMA_FIELDS = frozenset({"type"})
#: Keywords no schema object may use (dropped or refused on import).
UNSUPPORTED_KEYWORDS = frozenset(
    {
        "discriminator",
        "example",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "readOnly",
        "oneOf",
        "anyOf",
        "deprecated",
    }
)
#: "Numbers of the Int32 or Int64 type are not supported."
UNSUPPORTED_FORMATS = frozenset({"int32", "int64"})
#: Methods an operation may be imported under.
METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch"})


def _schemas(value: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    """Every dict under ``value`` (a schema tree) with where it is."""
    found, stack = [], [(value, where)]
    while stack:
        node, at = stack.pop()
        if isinstance(node, dict):
            found.append((at, node))
            stack.extend((child, f"{at}.{key}") for key, child in node.items())
        elif isinstance(node, list):
            stack.extend((child, f"{at}[{i}]") for i, child in enumerate(node))
    return found


def _path_problems(path: str) -> list[str]:
    segments = path.strip("/").split("/") if path != "/" else []
    return [
        f"path {path}: segment '{segment}' is not imported (only letters, digits and - . , : "
        "in a segment; a path parameter must be a whole segment, '{name}')"
        for segment in segments
        if not SEGMENT.fullmatch(segment)
    ]


def _operation_problems(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    where = f"{method.upper()} {path}"
    if method.startswith("x-amazon-apigateway-"):
        return []
    if method not in METHODS:
        return [f"{where}: '{method}' is not a method API Gateway imports"]
    problems = []
    for parameter in operation.get("parameters", []):
        name = parameter.get("name", "?")
        extra = sorted(set(parameter) - PARAMETER_FIELDS)
        if extra:
            problems.append(
                f"{where} parameter {name}: {', '.join(extra)} not supported on a parameter "
                "(only name, in, required, schema.type, description)"
            )
        schema_extra = sorted(set(parameter.get("schema") or {}) - PARAMETER_SCHEMA_FIELDS)
        if schema_extra:
            problems.append(
                f"{where} parameter {name}: schema keyword(s) {', '.join(schema_extra)} are "
                "ignored on import (only type)"
            )
    for at, schema in _schemas(operation, where):
        problems += _keyword_problems(at, schema)
    return problems


def _keyword_problems(at: str, schema: dict[str, Any]) -> list[str]:
    problems = [
        f"{at}: '{keyword}' is not supported by API Gateway's import"
        for keyword in sorted(UNSUPPORTED_KEYWORDS & set(schema))
    ]
    if schema.get("type") in ("number", "integer") and schema.get("format") in UNSUPPORTED_FORMATS:
        problems.append(f"{at}: format {schema['format']} is not supported by API Gateway")
    return problems


def import_problems(body: dict[str, Any]) -> list[str]:
    """Every way ``body`` breaks API Gateway's documented import limits ([] when none)."""
    problems = []
    version = str(body.get("openapi", body.get("swagger", "")))
    if not IMPORTED_VERSIONS.fullmatch(version):
        problems.append(f"openapi {version}: API Gateway imports OpenAPI 3.0.x (and 2.0), not this")
    for path, operations in sorted((body.get("paths") or {}).items()):
        problems += _path_problems(path)
        for method, operation in sorted(operations.items()):
            problems += _operation_problems(path, method, operation)
    components = body.get("components") or {}
    for name, schema in sorted((components.get("schemas") or {}).items()):
        if not MODEL_NAME.fullmatch(name):
            problems.append(f"model {name}: a model name may hold letters and digits only")
        for at, node in _schemas(schema, f"model {name}"):
            problems += _keyword_problems(at, node)
            if "additionalProperties" in node:
                problems.append(f"{at}: 'additionalProperties' is not supported in a model")
    for name, scheme in sorted((components.get("securitySchemes") or {}).items()):
        if scheme.get("type") != "apiKey":
            problems.append(
                f"security scheme {name}: type {scheme.get('type')} is not imported (apiKey "
                "only; a Cognito or Lambda authorizer is an apiKey scheme with "
                "x-amazon-apigateway-authorizer)"
            )
    return problems
