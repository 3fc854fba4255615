"""SSM Automation, simulated: the three operations the orchestrator calls for a wave's
actions (``StartAutomationExecution``, ``GetAutomationExecution``, ``DescribeDocument``),
every request and answer held to botocore's SSM model. moto has no Automation, so the
sandbox's gateway sends these here, and the tests' fake (``tests/fakes/ssm.py``) answers
through the same simulator.

What it assumes of SSM:
- A start with a ClientToken already used returns the same execution (SSM's idempotency).
- Each GetAutomationExecution moves an execution one step on, Pending -> InProgress ->
  Success, so an action takes two reads (two ticks of the wave runner); a document listed
  in ``failing`` ends Failed with a failure message, one in ``stuck`` stays InProgress.
- ``documents`` holds each document's type: AWS's Command documents are ``Command``, and a
  start of one is refused as SSM refuses it; ``None`` is a document that does not exist; a
  name not listed is an Automation document of the account.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import botocore.session

from drsctl.sandbox.shapes import violations

MODEL = botocore.session.get_session().get_service_model("ssm")
#: The operations answered here; any other SSM request is not the simulator's.
OPERATIONS = frozenset({"StartAutomationExecution", "GetAutomationExecution", "DescribeDocument"})


class _Refused(Exception):
    """SSM refuses the request with ``code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class AutomationSimulator:
    def __init__(self) -> None:
        self.executions: dict[str, dict[str, Any]] = {}
        self.failing: set[str] = set()
        self.stuck: set[str] = set()
        self.violations: list[str] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        #: Document name -> type; absent: an Automation document. ``None``: no such document.
        self.documents: dict[str, str | None] = {
            "AWS-RunShellScript": "Command",
            "AWS-RunPowerShellScript": "Command",
            "AWS-RestartEC2Instance": "Automation",
        }
        self._lock = threading.Lock()

    def serve(self, operation: str, body: bytes | str | None) -> tuple[int, dict[str, Any]]:
        """Answer one request (``operation`` from its ``X-Amz-Target``): status and JSON
        body, an error as ``{"__type": code, "message": ...}`` as SSM sends it."""
        raw = body.decode() if isinstance(body, bytes) else body
        params = json.loads(raw or "{}")
        with self._lock:
            self.calls.append((operation, params))
            if operation not in OPERATIONS:
                return 400, {"__type": "InvalidAction", "message": f"{operation} is not simulated"}
            model = MODEL.operation_model(operation)
            problems = violations(params, model.input_shape, request=True)
            if problems:
                self.violations += problems
                return 400, {"__type": "ValidationException", "message": "; ".join(problems)}
            try:
                result = getattr(self, f"_op_{operation}")(params)
            except _Refused as refused:
                return 400, {"__type": refused.code, "message": str(refused)}
        problems = violations(result, model.output_shape, request=False)
        if problems:
            msg = f"simulated SSM {operation} answer breaks the model: {problems}"
            raise AssertionError(msg)
        return 200, result

    def _document_type(self, name: str) -> str:
        kind = self.documents.get(name, "Automation")
        if kind is None:
            raise _Refused(code="InvalidDocument", message=f"document {name} does not exist")
        return kind

    def _op_DescribeDocument(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        name = params["Name"]
        kind = self._document_type(name)
        return {"Document": {"Name": name, "DocumentType": kind, "Status": "Active"}}

    def _op_StartAutomationExecution(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        name = params["DocumentName"]
        if self._document_type(name) != "Automation":
            raise _Refused(
                code="AutomationDefinitionNotFoundException",
                message=f"{name} is not an Automation document",
            )
        for execution_id, execution in self.executions.items():
            if execution["token"] == params.get("ClientToken"):
                return {"AutomationExecutionId": execution_id}
        execution_id = str(uuid.uuid4())
        self.executions[execution_id] = {
            "document": name,
            "parameters": params.get("Parameters", {}),
            "token": params.get("ClientToken"),
            "status": "Pending",
        }
        return {"AutomationExecutionId": execution_id}

    def _op_GetAutomationExecution(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        execution_id = params["AutomationExecutionId"]
        execution = self.executions.get(execution_id)
        if execution is None:
            raise _Refused(
                code="AutomationExecutionNotFoundException",
                message=f"no automation execution {execution_id}",
            )
        document = execution["document"]
        if execution["status"] == "Pending":
            execution["status"] = "InProgress"
        elif execution["status"] == "InProgress" and document not in self.stuck:
            execution["status"] = "Failed" if document in self.failing else "Success"
        answer = {
            "AutomationExecutionId": execution_id,
            "DocumentName": document,
            "AutomationExecutionStatus": execution["status"],
        }
        if execution["status"] == "Failed":
            answer["FailureMessage"] = f"step 1 of {document} failed"
        return {"AutomationExecution": answer}
