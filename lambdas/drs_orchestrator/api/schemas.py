"""Request validation against the OpenAPI document, with errors that name the field.

The document (``openapi.json``) is the single source of truth for routes and request
bodies: the handler validates every body against the schema the document gives for its
method and path, and the tests check that the document and the handler's routes agree.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema

from drs_orchestrator.domain.plans import Problem

OPENAPI_PATH = Path(__file__).with_name("openapi.json")


@cache
def document() -> dict[str, Any]:
    return json.loads(OPENAPI_PATH.read_text())


#: JSON Schema keywords OpenAPI 3.0's schema object lacks, written in the document as these
#: extensions (so the document stays valid 3.0) and enforced by the API as the keyword.
SCHEMA_EXTENSIONS = {"x-propertyNames": "propertyNames"}


def _resolved(schema: Any) -> Any:
    """The schema with every ``$ref`` to components inlined (fastjsonschema needs no
    resolver) and ``SCHEMA_EXTENSIONS`` made the JSON Schema keywords they stand for."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return _resolved(document()["components"]["schemas"][name])
        return {
            SCHEMA_EXTENSIONS.get(k, k): _resolved(v)
            for k, v in schema.items()
            if k in SCHEMA_EXTENSIONS or not k.startswith("x-")
        }
    if isinstance(schema, list):
        return [_resolved(v) for v in schema]
    return schema


@cache
def _validator(method: str, path: str) -> Any:
    operation = document()["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    return fastjsonschema.compile(_resolved(content["schema"]))


def routes() -> set[tuple[str, str]]:
    """Every (METHOD, path) the document declares."""
    return {
        (method.upper(), path)
        for path, operations in document()["paths"].items()
        for method in operations
    }


@cache
def query_parameters(method: str, path: str) -> frozenset[str]:
    """The query parameters the operation takes (its own and its path's)."""
    operations = document()["paths"][path]
    declared = [
        *operations.get("parameters", []),
        *operations[method.lower()].get("parameters", []),
    ]
    return frozenset(p["name"] for p in declared if p.get("in") == "query")


def roles(method: str, path: str) -> list[str]:
    return list(document()["paths"][path][method.lower()].get("x-roles", []))


def operation_id(method: str, path: str) -> str:
    return str(document()["paths"][path][method.lower()]["operationId"])


def audited(method: str, path: str) -> bool:
    """Whether requests to the operation go in the audit trail (``x-audit``)."""
    operations = document()["paths"].get(path) or {}
    return bool((operations.get(method.lower()) or {}).get("x-audit"))


def roles_for_mode(method: str, path: str, mode: str) -> list[str] | None:
    """The groups that may ask for ``mode`` (``x-roles-by-mode``: a real recovery is
    narrower than a drill), or None where the operation does not narrow its roles so."""
    by_mode = document()["paths"][path][method.lower()].get("x-roles-by-mode")
    return None if by_mode is None else list(by_mode.get(mode, []))


def validate_body(method: str, path: str, body: Any) -> list[Problem]:
    """Problems of ``body`` for the operation, or [] when it is valid (or takes no body)."""
    validator = _validator(method, path)
    if validator is None:
        return []
    try:
        validator(body)
    except fastjsonschema.JsonSchemaValueException as exc:
        where = re.sub(r"^data\.?", "", exc.name or "data")
        if exc.rule == "required" and isinstance(exc.value, dict):
            # Name the missing member itself, so a form can show the error on that field.
            missing = next(m for m in exc.rule_definition or () if m not in exc.value)
            return [Problem(f"{where}.{missing}" if where else missing, "is required")]
        field = where or "body"
        return [Problem(field, exc.message.replace(exc.name or "", field, 1).strip())]
    return []
