"""Gateway to Step Functions: start an execution's state machine, and wake a paused one."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from drs_orchestrator.adapters.clients import client as make_client
from drs_orchestrator.adapters.clients import error_code
from drs_orchestrator.errors import OrchestratorError


class StateMachineError(OrchestratorError):
    """Raised when Step Functions refuses a call."""


class StateMachines:
    def __init__(self, state_machine_arn: str, client: Any = None) -> None:
        self._arn = state_machine_arn
        self._client = client or make_client("stepfunctions")

    def start(
        self,
        execution_id: str,
        extra: dict[str, Any] | None = None,
        *,
        name: str | None = None,
        already_started_ok: bool = False,
    ) -> str:
        """Run the recovery state machine for ``execution_id``. The run's name (the
        execution id, or ``name`` for a later run) makes a repeated start fail as
        ``ExecutionAlreadyExists`` instead of running twice; ``already_started_ok`` takes
        that answer as success (a start whose first answer was lost)."""
        run_name = name or execution_id
        try:
            response = self._client.start_execution(
                stateMachineArn=self._arn,
                name=run_name,
                input=json.dumps({"executionId": execution_id, **(extra or {})}),
            )
        except ClientError as exc:
            if already_started_ok and error_code(exc) == "ExecutionAlreadyExists":
                return self.run_arn(run_name)
            msg = f"StartExecution failed with {error_code(exc)}"
            raise StateMachineError(msg) from exc
        except BotoCoreError as exc:
            msg = f"StartExecution outcome unknown ({type(exc).__name__})"
            raise StateMachineError(msg) from exc
        return str(response["executionArn"])

    def run_arn(self, run_name: str) -> str:
        return self._arn.replace(":stateMachine:", ":execution:") + f":{run_name}"

    def run_status(self, run_name: str) -> str:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED (or PENDING_REDRIVE), or
        ``MISSING`` when no run has that name."""
        try:
            response = self._client.describe_execution(executionArn=self.run_arn(run_name))
        except ClientError as exc:
            if error_code(exc) == "ExecutionDoesNotExist":
                return "MISSING"
            msg = f"DescribeExecution failed with {error_code(exc)}"
            raise StateMachineError(msg) from exc
        except BotoCoreError as exc:
            msg = f"DescribeExecution failed ({type(exc).__name__})"
            raise StateMachineError(msg) from exc
        return str(response["status"])

    def wake(self, task_token: str) -> bool:
        """Let a machine waiting on ``task_token`` (for approval, or asleep between ticks)
        go on to its next tick. False when it no longer waits on that token."""
        try:
            self._client.send_task_success(taskToken=task_token, output="{}")
        except BotoCoreError as exc:
            msg = f"SendTaskSuccess outcome unknown ({type(exc).__name__})"
            raise StateMachineError(msg) from exc
        except ClientError as exc:
            if error_code(exc) in ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken"):
                return False  # the machine no longer waits on this token: nothing to wake
            msg = f"SendTaskSuccess failed with {error_code(exc)}"
            raise StateMachineError(msg) from exc
        return True
