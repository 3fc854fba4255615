"""Check payloads against botocore's service model, so fakes cannot drift from the real API.

Structure and types are always strict: unknown members, missing required members, nulls
and wrong types are violations. Enum values are strict for requests (botocore would reject
them) and lenient for responses, because the live service sends values the model's enums do
not list (job log event ``LAUNCH_END``). Length and pattern rules apply to requests only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.model import Shape


def violations(value: Any, shape: Shape, *, request: bool, path: str = "$") -> list[str]:
    problems: list[str] = []
    _walk(value, shape, request, path, problems)
    return problems


def _walk(value: Any, shape: Shape, request: bool, path: str, problems: list[str]) -> None:
    kind = shape.type_name
    if value is None:
        problems.append(f"{path}: null (the service omits absent members)")
        return
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected object for {shape.name}")
            return
        for name in shape.required_members:
            if name not in value:
                problems.append(f"{path}: missing required member {name!r} of {shape.name}")
        for name, member in value.items():
            if name not in shape.members:
                problems.append(f"{path}.{name}: unknown member of {shape.name}")
            else:
                _walk(member, shape.members[name], request, f"{path}.{name}", problems)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: expected array for {shape.name}")
            return
        if request:
            _check_range(len(value), shape.metadata, f"{path}: list length", problems)
        for index, item in enumerate(value):
            _walk(item, shape.member, request, f"{path}[{index}]", problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected object for map {shape.name}")
            return
        for key, item in value.items():
            _walk(key, shape.key, request, f"{path}.<key>", problems)
            _walk(item, shape.value, request, f"{path}.{key}", problems)
    elif kind == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: expected string ({shape.name}), got {type(value).__name__}")
            return
        if request and shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} not in enum {shape.name}")
        if request:
            _check_range(len(value), shape.metadata, f"{path}: string length", problems)
            pattern = shape.metadata.get("pattern")
            if pattern and not re.search(pattern, value):
                problems.append(f"{path}: {value!r} does not match {shape.name} pattern {pattern}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected integer ({shape.name})")
        elif request:
            _check_range(value, shape.metadata, f"{path}: value", problems)
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected boolean ({shape.name})")
    elif kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{path}: expected number ({shape.name})")
    elif kind == "timestamp" and not isinstance(value, str | int | float):
        problems.append(f"{path}: expected timestamp ({shape.name})")


def _check_range(number: int, metadata: dict[str, Any], label: str, problems: list[str]) -> None:
    if "min" in metadata and number < metadata["min"]:
        problems.append(f"{label} {number} below min {metadata['min']}")
    if "max" in metadata and number > metadata["max"]:
        problems.append(f"{label} {number} above max {metadata['max']}")
