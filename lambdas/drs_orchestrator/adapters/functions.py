"""Asking the readiness function to evaluate plans, from the API, without waiting for it.

An asynchronous invocation (``InvocationType=Event``) is queued by Lambda, which retries
the function on its own; the API answers as soon as Lambda has the request. A request
Lambda refuses is not retried here: the evaluation schedule evaluates every plan at
least once per period, so a lost request makes a plan's readiness at most one period
late, and the save that asked for it stands.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from drs_orchestrator.adapters.clients import client as make_client
from drs_orchestrator.adapters.clients import error_code

if TYPE_CHECKING:
    from collections.abc import Sequence


class ReadinessRequests:
    """Queues evaluations of plans with the deployment's readiness function."""

    def __init__(self, function_name: str, client: Any = None) -> None:
        self._function_name = function_name
        self._client = client

    def request(self, plan_ids: Sequence[str], trigger: str) -> str | None:
        """Queue an evaluation of ``plan_ids``; the error code when Lambda refused (the
        schedule then catches up), None when queued or when there was nothing to ask."""
        if not plan_ids:
            return None
        payload = {"planIds": sorted(set(plan_ids)), "trigger": trigger}
        try:
            if self._client is None:
                self._client = make_client("lambda")
            self._client.invoke(
                FunctionName=self._function_name,
                InvocationType="Event",
                Payload=json.dumps(payload).encode(),
            )
        except (ClientError, BotoCoreError) as exc:
            return error_code(exc)
        return None
