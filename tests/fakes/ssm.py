"""SSM Automation for the tests: the sandbox's simulator (``drsctl/sandbox/ssm.py``, held to
botocore's SSM model) behind a real botocore SSM client, so the adapter's requests and the
answers it parses are SSM's own shapes."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from drs_orchestrator.adapters.clients import RETRY_CONFIG

from drsctl.sandbox.ssm import AutomationSimulator
from tests.fakes.drs import _RawBody


class FakeSsm(AutomationSimulator):
    def __init__(self, region: str = "us-east-1") -> None:
        super().__init__()
        self.region = region

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
        status, body = self.serve(target.split(".", 1)[1], request.body)
        raw = json.dumps(body).encode()
        return AWSResponse(
            request.url, status, {"Content-Type": "application/x-amz-json-1.1"}, _RawBody(raw)
        )
