"""Gateway to SSM Automation: the pre- and post-wave actions."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from drs_orchestrator.adapters.clients import client as make_client
from drs_orchestrator.adapters.clients import error_code
from drs_orchestrator.domain.actions import ENDED_AUTOMATION, SUCCEEDED_AUTOMATION
from drs_orchestrator.errors import OrchestratorError

#: Automation statuses that end an action, and those that mean it succeeded (the core
#: decides on them; named here too for callers of this gateway).
SUCCEEDED, ENDED = SUCCEEDED_AUTOMATION, ENDED_AUTOMATION


class AutomationError(OrchestratorError):
    """Raised when SSM refuses to start or describe an automation."""


class Automations:
    def __init__(self, client: Any = None) -> None:
        self._client = client or make_client("ssm")

    def start(self, document: str, parameters: dict[str, list[str]], token: str) -> str:
        """Start ``document``; ``token`` makes a retried start return the same execution."""
        try:
            response = self._client.start_automation_execution(
                DocumentName=document, Parameters=parameters, ClientToken=token
            )
        except (ClientError, BotoCoreError) as exc:
            msg = f"StartAutomationExecution of {document} failed with {error_code(exc)}"
            raise AutomationError(msg) from exc
        return str(response["AutomationExecutionId"])

    def document_type(self, name: str) -> str | None:
        """The type of SSM document ``name`` (``Automation``, ``Command``...), or None when
        there is no such document."""
        try:
            document = self._client.describe_document(Name=name)["Document"]
        except ClientError as exc:
            if error_code(exc) == "InvalidDocument":
                return None
            msg = f"DescribeDocument {name} failed with {error_code(exc)}"
            raise AutomationError(msg) from exc
        except BotoCoreError as exc:
            msg = f"DescribeDocument {name} failed with {error_code(exc)}"
            raise AutomationError(msg) from exc
        return str(document.get("DocumentType", ""))

    def status(self, execution_id: str) -> tuple[str, str]:
        """(status, failure message) of an automation execution."""
        try:
            execution = self._client.get_automation_execution(AutomationExecutionId=execution_id)[
                "AutomationExecution"
            ]
        except (ClientError, BotoCoreError) as exc:
            msg = f"GetAutomationExecution {execution_id} failed with {error_code(exc)}"
            raise AutomationError(msg) from exc
        return str(execution.get("AutomationExecutionStatus", "Pending")), str(
            execution.get("FailureMessage", "")
        )
