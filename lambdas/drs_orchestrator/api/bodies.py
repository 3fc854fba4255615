"""A request's JSON body, read as the API accepts it: bounded in size and depth, and
valid Unicode text, or a 400 naming what is wrong before anything runs."""

from __future__ import annotations

import json
import re
from typing import Any

from drs_orchestrator.domain.plans import Problem
from drs_orchestrator.errors import BadRequestError

#: Far above any valid request (a plan is at most 32 KiB stored), far below Lambda's 6 MB.
MAX_BODY_BYTES = 256 * 1024
#: A valid body nests at most 5 levels (plan, waves, wave, actions, parameters, values).
MAX_BODY_DEPTH = 32
#: A UTF-16 surrogate, which JSON's ``\ud800`` escapes can put in a Python string but no
#: UTF-8 text (and so no DynamoDB attribute) can hold.
SURROGATE = re.compile("[\ud800-\udfff]")


def read_json_body(raw: str | None) -> Any:
    """The request body as JSON, or a 400 saying why not: too large, not JSON, too deep."""
    if not raw:
        return {}
    size = len(raw.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        msg = "the body is too large"
        raise BadRequestError(msg, [Problem("body", f"{size} bytes; at most {MAX_BODY_BYTES}")])
    try:
        body = json.loads(raw)
    except RecursionError as exc:
        raise _too_deep() from exc
    except ValueError as exc:
        msg = "the body is not JSON"
        raise BadRequestError(msg, [Problem("body", str(exc))]) from exc
    if _depth(body) > MAX_BODY_DEPTH:
        raise _too_deep()
    surrogates = [Problem(where, SURROGATE_REASON) for where in _surrogates(body)]
    if surrogates:
        msg = "the body is not valid Unicode text"
        raise BadRequestError(msg, surrogates[:10])
    return body


SURROGATE_REASON = "holds a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape)"


def _surrogates(value: Any) -> list[str]:
    """Where in ``value`` a string (a member's name or a value) holds a lone surrogate:
    ``waves[0].name``, ``body`` for a top-level string."""
    found, stack = [], [(value, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            if SURROGATE.search(node):
                found.append(where or "body")
        elif isinstance(node, dict):
            for key, child in node.items():
                inner = f"{where}.{key}" if where else str(key)
                if SURROGATE.search(str(key)):
                    found.append(where or "body")
                else:
                    stack.append((child, inner))
        elif isinstance(node, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(node))
    return sorted(found)


def _too_deep() -> BadRequestError:
    msg = "the body is nested too deeply"
    return BadRequestError(msg, [Problem("body", f"nested deeper than {MAX_BODY_DEPTH} levels")])


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (iteratively: no recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        )
        if children is None:
            continue
        deepest = max(deepest, depth)
        if depth <= MAX_BODY_DEPTH:
            stack.extend((child, depth + 1) for child in children)
    return deepest
