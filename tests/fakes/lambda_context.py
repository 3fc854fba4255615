"""The Lambda context object handlers receive (Powertools' logger reads these attributes)."""

from __future__ import annotations

import uuid


class LambdaContext:
    def __init__(self, function_name: str = "test-function", remaining_ms: int = 55_000) -> None:
        self.function_name = function_name
        self.memory_limit_in_mb = 256
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        )
        self.aws_request_id = str(uuid.uuid4())
        self._remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining_ms
