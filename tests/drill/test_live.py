"""Against deployed stacks the comparison signs in with Cognito (SRP) and calls HTTPS only."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from drsctl.api_client import ApiCallError, ApiClient
from drsctl.drill.api import credentials_for
from drsctl.drill.run import live_target, sandbox_targets


def test_credentials_come_from_the_stacks_variables_then_the_shared_pair() -> None:
    environ = {
        "DRS_ORCHESTRATOR_ARCHIVE_TEST_USERNAME": "a@example.com",
        "DRS_ORCHESTRATOR_ARCHIVE_TEST_PASSWORD": "pw-a",
        "DRS_ORCHESTRATOR_USERNAME": "shared@example.com",
        "DRS_ORCHESTRATOR_PASSWORD": "pw-s",
    }
    assert credentials_for("archive-test", environ) == ("a@example.com", "pw-a")
    assert credentials_for("dev", environ) == ("shared@example.com", "pw-s")
    with pytest.raises(ApiCallError, match="set DRS_ORCHESTRATOR_DEV_USERNAME"):
        credentials_for("dev", {})


def test_a_token_is_never_sent_over_plain_http_to_another_host() -> None:
    client = ApiClient("http://api.example.com/v1", lambda: "secret-token")
    with pytest.raises(ApiCallError, match="not HTTPS"):
        client.call("GET", "/executions")
    assert client.calls == 0


def test_live_target_signs_in_with_srp_and_needs_the_stacks_outputs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        pool = cognito.create_user_pool(PoolName="p")["UserPool"]["Id"]
        client = cognito.create_user_pool_client(
            UserPoolId=pool, ClientName="console", ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH"]
        )["UserPoolClient"]["ClientId"]
        cognito.admin_create_user(
            UserPoolId=pool, Username="op@example.com", MessageAction="SUPPRESS"
        )
        cognito.admin_set_user_password(
            UserPoolId=pool, Username="op@example.com", Password="Op-Passw0rd!", Permanent=True
        )
        cognito.create_group(UserPoolId=pool, GroupName="operator")
        cognito.admin_add_user_to_group(
            UserPoolId=pool, Username="op@example.com", GroupName="operator"
        )
        monkeypatch.setenv("DRS_ORCHESTRATOR_DEV_USERNAME", "op@example.com")
        monkeypatch.setenv("DRS_ORCHESTRATOR_DEV_PASSWORD", "Op-Passw0rd!")
        outputs = {
            "apiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com/v1/",
            "userPoolId": pool,
            "userPoolClientId": client,
            "region": "us-east-1",
            "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:x",
        }
        target = live_target("dev", outputs)
        token = target.api.token()
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        assert claims["cognito:groups"] == ["operator"]
        assert target.api.base_url == "https://abc123.execute-api.us-east-1.amazonaws.com/v1"
        # The history of an execution the state machine never ran cannot be read: None.
        assert target.history("ex-unknown") is None
        with pytest.raises(RuntimeError, match="the outputs of dev lack apiUrl"):
            live_target("dev", {**outputs, "apiUrl": ""})


def test_a_sandbox_killed_without_cleaning_up_is_named_not_a_raw_url_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sandbox killed with SIGKILL leaves its ``sandbox.json``; the next command that
    reads it says the sandbox is gone (``URLError`` came through raw)."""
    import socket

    from drsctl.cli import main

    with socket.socket() as closed:  # a port nothing listens on once closed
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    site = f"http://127.0.0.1:{port}"
    (tmp_path / "sandbox.json").write_text(json.dumps({"dev": site, "archive-test": site}))
    with pytest.raises(RuntimeError) as caught:
        sandbox_targets(("dev",), tmp_path)
    assert str(caught.value).startswith(
        f"the sandbox in {tmp_path} is not running: its sandbox.json names {site} for dev, "
        "which does not answer ("
    )
    assert str(caught.value).endswith("Start one: drsctl sandbox dev")
    plan = Path(__file__).parents[2] / "drills" / "orders-three-tier.yaml"
    code = main(
        ["compare", "dev", "archive-test", "--drill", str(plan), "--sandbox", str(tmp_path)]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "is not running: its sandbox.json names" in err and "Traceback" not in err
