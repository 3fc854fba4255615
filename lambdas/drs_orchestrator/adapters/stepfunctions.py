"""Gateway to Step Functions: start an execution's state machine, and wake a paused one."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from drs_orchestrator.adapters.clients import client as make_client
from drs_orchestrator.adapters.clients import error_code
from drs_orchestrator.errors import OrchestratorError


class StateMachineError(OrchestratorError):
    """Raised when Step Functions refuses a call."""


class StateMachines:
    def __init__(self, state_machine_arn: str, client: Any = None) -> None:
        self._arn = state_machine_arn
        self._client = client or make_client("stepfunctions")

    def start(self, execution_id: str, extra: dict[str, Any] | None = None) -> str:
        """Run the recovery state machine for ``execution_id`` (its name, so it runs once)."""
        try:
            response = self._client.start_execution(
                stateMachineArn=self._arn,
                name=execution_id,
                input=json.dumps({"executionId": execution_id, **(extra or {})}),
            )
        except ClientError as exc:
            msg = f"StartExecution failed with {error_code(exc)}"
            raise StateMachineError(msg) from exc
        return str(response["executionArn"])

    def wake(self, task_token: str) -> None:
        """Let a machine waiting for approval go on to its next tick."""
        try:
            self._client.send_task_success(taskToken=task_token, output="{}")
        except ClientError as exc:
            if error_code(exc) in ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken"):
                return  # the machine no longer waits on this token: nothing to wake
            msg = f"SendTaskSuccess failed with {error_code(exc)}"
            raise StateMachineError(msg) from exc
