"""A fake of SSM Automation behind a real botocore SSM client, held to botocore's SSM model.

Each GetAutomationExecution moves an execution one step on (Pending -> InProgress ->
Success), unless its document is listed in ``failing`` (it ends Failed) or ``stuck`` (it
stays InProgress, for max-wait tests). ``documents`` holds each document's type: AWS's
Command documents are there as ``Command``, and StartAutomationExecution refuses them as SSM
does; a name not listed is an Automation document of the account (tests make them up).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import botocore.session
from botocore.awsrequest import AWSResponse
from drs_orchestrator.adapters.clients import RETRY_CONFIG

from drsctl.sandbox.shapes import violations
from tests.fakes.drs import _RawBody

MODEL = botocore.session.get_session().get_service_model("ssm")


class FakeSsm:
    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region
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

    def client(self) -> Any:
        ssm = boto3.client(
            "ssm",
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=RETRY_CONFIG,
        )  # noqa: S106
        # moto has an SSM backend of its own; this client must reach the fake, not moto.
        from moto.core.models import botocore_stubber

        ssm.meta.events.unregister("before-send", botocore_stubber)
        ssm.meta.events.register_first("before-send.ssm", self._answer)
        return ssm

    def _answer(self, request: Any, **_: Any) -> AWSResponse:
        target = request.headers["X-Amz-Target"]
        target = target.decode() if isinstance(target, bytes) else target
        operation = target.split(".", 1)[1]
        params = json.loads(request.body or b"{}")
        self.calls.append((operation, params))
        model = MODEL.operation_model(operation)
        problems = violations(params, model.input_shape, request=True)
        if problems:
            self.violations += problems
            return self._respond(
                request, 400, {"__type": "ValidationException", "message": "; ".join(problems)}
            )
        try:
            result = getattr(self, f"_op_{operation}")(params)
        except LookupError as refused:
            code, message = refused.args
            return self._respond(request, 400, {"__type": code, "Message": message})
        problems = violations(result, model.output_shape, request=False)
        if problems:
            raise AssertionError(f"fake SSM {operation} response breaks the model: {problems}")
        return self._respond(request, 200, result)

    @staticmethod
    def _respond(request: Any, status: int, body: dict[str, Any]) -> AWSResponse:
        raw = json.dumps(body).encode()
        return AWSResponse(
            request.url, status, {"Content-Type": "application/x-amz-json-1.1"}, _RawBody(raw)
        )

    def _document_type(self, name: str) -> str:
        kind = self.documents.get(name, "Automation")
        if kind is None:
            raise LookupError("InvalidDocument", f"document {name} does not exist")
        return kind

    def _op_DescribeDocument(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        name = params["Name"]
        kind = self._document_type(name)
        return {"Document": {"Name": name, "DocumentType": kind, "Status": "Active"}}

    def _op_StartAutomationExecution(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        if self._document_type(params["DocumentName"]) != "Automation":
            name = params["DocumentName"]
            raise LookupError(
                "AutomationDefinitionNotFoundException", f"{name} is not an Automation document"
            )
        for execution_id, execution in self.executions.items():
            if execution["token"] == params.get("ClientToken"):
                return {"AutomationExecutionId": execution_id}
        execution_id = str(uuid.uuid4())
        self.executions[execution_id] = {
            "document": params["DocumentName"],
            "parameters": params.get("Parameters", {}),
            "token": params.get("ClientToken"),
            "status": "Pending",
        }
        return {"AutomationExecutionId": execution_id}

    def _op_GetAutomationExecution(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        execution = self.executions[params["AutomationExecutionId"]]
        document = execution["document"]
        if execution["status"] == "Pending":
            execution["status"] = "InProgress"
        elif execution["status"] == "InProgress" and document not in self.stuck:
            execution["status"] = "Failed" if document in self.failing else "Success"
        answer = {
            "AutomationExecutionId": params["AutomationExecutionId"],
            "DocumentName": document,
            "AutomationExecutionStatus": execution["status"],
        }
        if execution["status"] == "Failed":
            answer["FailureMessage"] = f"step 1 of {document} failed"
        return {"AutomationExecution": answer}
