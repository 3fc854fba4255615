"""SSM Automation in the sandbox: the gateway sends a deployment's Automation requests to
that deployment's simulator (moto has none), by the caller's access key, over HTTP."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from drsctl.sandbox.gateway import AwsGateway, GatewayServer
from drsctl.sandbox.ssm import AutomationSimulator

TOKEN = "6f1c1f2e-0000-4000-8000-000000000001"


def ssm(url: str, access_key: str) -> Any:
    return boto3.client(
        "ssm",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key="sandbox",  # noqa: S106 - the sandbox takes any secret
    )


@pytest.fixture
def served() -> Any:
    simulators = {"SANDBOX0DEV": AutomationSimulator(), "SANDBOX1TEST": AutomationSimulator()}
    server = GatewayServer(AwsGateway({}, automations=simulators))
    server.start()
    yield server.url, simulators
    server.stop()


def test_each_deployment_s_automations_run_in_its_own_simulator(served: Any) -> None:
    url, simulators = served
    dev = ssm(url, "SANDBOX0DEV")
    started = dev.start_automation_execution(
        DocumentName="DR-Check", Parameters={"Tier": ["db"]}, ClientToken=TOKEN
    )["AutomationExecutionId"]
    again = dev.start_automation_execution(DocumentName="DR-Check", ClientToken=TOKEN)
    assert again["AutomationExecutionId"] == started, "a repeated token is the same run"
    statuses = [
        dev.get_automation_execution(AutomationExecutionId=started)["AutomationExecution"][
            "AutomationExecutionStatus"
        ]
        for _ in range(3)
    ]
    assert statuses == ["InProgress", "Success", "Success"]
    assert list(simulators["SANDBOX0DEV"].executions) == [started]
    assert simulators["SANDBOX1TEST"].executions == {}, "the other deployment sees nothing"
    with pytest.raises(ClientError) as unknown:
        ssm(url, "SANDBOX1TEST").get_automation_execution(AutomationExecutionId=started)
    assert unknown.value.response["Error"]["Code"] == "AutomationExecutionNotFoundException"


def test_a_refused_start_and_a_failing_document_answer_as_ssm_does(served: Any) -> None:
    url, simulators = served
    dev = ssm(url, "SANDBOX0DEV")
    with pytest.raises(ClientError) as refused:
        dev.start_automation_execution(DocumentName="AWS-RunShellScript")
    assert refused.value.response["Error"]["Code"] == "AutomationDefinitionNotFoundException"
    simulators["SANDBOX0DEV"].failing.add("DR-Broken")
    run = dev.start_automation_execution(DocumentName="DR-Broken")["AutomationExecutionId"]
    for _ in range(2):
        answer = dev.get_automation_execution(AutomationExecutionId=run)["AutomationExecution"]
    assert answer["AutomationExecutionStatus"] == "Failed"
    assert answer["FailureMessage"] == "step 1 of DR-Broken failed"
    kind = dev.describe_document(Name="AWS-RunShellScript")["Document"]["DocumentType"]
    assert kind == "Command"
    assert simulators["SANDBOX0DEV"].violations == []
