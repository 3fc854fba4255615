"""moto's DynamoDB answers sent as they are: they are already in wire form.

moto builds every DynamoDB answer (items as ``{"S": ...}`` maps, pages, descriptions) and
then hands it to its generic response serializer, which walks each nested attribute value
through botocore's model to write the same JSON again: in the sandbox, that walk was a third
of the gateway's time during a drill (an execution item is a map of maps of a hundred
servers). Here an answer that is plain JSON is written by ``json.dumps``; one that is not (a
table description carries datetimes) still goes through moto's serializer.

``tests/sandbox/test_dynamodb_wire.py`` holds the answers to moto's own, request by request.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


def send_dynamodb_results_as_json() -> Callable[[], None]:
    """Install the shortcut; returns what puts moto's serializer back."""
    from moto.dynamodb.responses import DynamoResult

    serialize = DynamoResult.execute_result

    def as_json(self: DynamoResult, context: Any) -> Any:
        try:
            body = json.dumps(self.result)
        except TypeError:  # not plain JSON (datetimes): moto's own serializer
            return serialize(self, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    DynamoResult.execute_result = as_json  # type: ignore[method-assign]

    def restore() -> None:
        DynamoResult.execute_result = serialize  # type: ignore[method-assign]

    return restore
