"""The sandbox plays API Gateway as the deployed REST API behaves."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from drsctl.sandbox.deploy import Deployment
from drsctl.sandbox.drs import DrsSimulator
from drsctl.sandbox.site import SandboxUser, Site

USER = SandboxUser("sandbox-user", "sandbox-user@example.com", ("operator",), "sandbox-token")


class FakeLambda:
    def __init__(self, answer: Any, error: bool = False) -> None:
        self.answer, self.error = answer, error
        self.events: list[dict[str, Any]] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803
        self.events.append({"function": FunctionName, **json.loads(Payload)})
        answer = {"Payload": io.BytesIO(json.dumps(self.answer).encode())}
        if self.error:
            answer["FunctionError"] = "Unhandled"
        return answer


def site(function: FakeLambda, simulator: DrsSimulator | None = None) -> Site:
    deployment = Deployment("dev", "aws-elasticdrs-orchestrator-dev", "us-east-1")
    deployment.functions["api"] = "aws-elasticdrs-orchestrator-dev-api"
    built = Site(deployment, function, simulator or DrsSimulator(), USER, None, dict)
    built.stop()  # only its request logic is exercised here
    return built


OK = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"items": []}'}


def test_a_route_becomes_the_proxy_event_api_gateway_sends() -> None:
    function = FakeLambda(OK)
    status, headers, body = site(function).api(
        "GET", "/executions/ex-1/job-events", "limit=5", {"authorization": USER.token}, b""
    )
    assert (status, json.loads(body)) == (200, {"items": []})
    assert headers["Access-Control-Allow-Origin"] == "*"
    [event] = function.events
    assert event["function"] == "aws-elasticdrs-orchestrator-dev-api"
    assert event["resource"] == "/executions/{executionId}/job-events"
    assert event["pathParameters"] == {"executionId": "ex-1"}
    assert event["queryStringParameters"] == {"limit": "5"}
    assert event["requestContext"]["authorizer"]["claims"]["cognito:groups"] == "operator"


@pytest.mark.parametrize(
    ("method", "path", "token", "status", "message"),
    [
        ("GET", "/nowhere", USER.token, 403, "Missing Authentication Token"),
        ("PATCH", "/executions", USER.token, 403, "Missing Authentication Token"),
        ("TRACE", "/executions", USER.token, 403, "Missing Authentication Token"),
        ("GET", "/executions", None, 401, "Unauthorized"),
        ("GET", "/executions", "someone-else", 401, "Unauthorized"),
    ],
)
def test_what_api_gateway_refuses_never_reaches_the_function(
    method: str, path: str, token: str | None, status: int, message: str
) -> None:
    function = FakeLambda(OK)
    headers = {"authorization": token} if token else {}
    answer, _headers, body = site(function).api(method, path, "", headers, b"")
    assert (answer, json.loads(body)) == (status, {"message": message})
    assert function.events == []


def test_a_function_error_is_a_502() -> None:
    function = FakeLambda({"errorType": "KeyError", "errorMessage": "boom"}, error=True)
    status, _headers, body = site(function).api(
        "GET", "/executions", "", {"authorization": USER.token}, b""
    )
    assert (status, json.loads(body)) == (502, {"message": "Internal server error"})


def test_preflight_is_answered_without_the_function() -> None:
    function = FakeLambda(OK)
    status, headers, _body = site(function).api("OPTIONS", "/executions", "", {}, b"")
    assert status == 204 and "Authorization" in headers["Access-Control-Allow-Headers"]
    assert function.events == []


def test_console_config_signs_in_the_sandbox_user() -> None:
    config = site(FakeLambda(OK)).console_config()
    first = {
        "token": USER.token,
        "username": "sandbox-user",
        "email": "sandbox-user@example.com",
        "groups": ["operator"],
    }
    assert config["auth"] == {"mode": "sandbox", **first, "users": [first]}
    assert config["apiUrl"].endswith("/api")


def test_the_console_may_sign_in_as_each_sandbox_user_and_the_api_sees_who() -> None:
    """One user per role besides the first: each token is let in as its own user (its
    claims reach the function), any other token is 401."""
    reader = SandboxUser("sandbox-read-only", "ro@example.com", ("read-only",), "sandbox-token")
    function = FakeLambda(OK)
    deployment = Deployment("dev", "aws-elasticdrs-orchestrator-dev", "us-east-1")
    deployment.functions["api"] = "aws-elasticdrs-orchestrator-dev-api"
    both = Site(deployment, function, DrsSimulator(), USER, None, dict, others=[reader])
    both.stop()
    users = both.console_config()["auth"]["users"]
    assert [u["username"] for u in users] == ["sandbox-user", "sandbox-read-only"]
    for user in (USER, reader):
        status, _h, _b = both.api(
            "GET", "/protection-groups", "", {"authorization": user.token}, b""
        )
        assert status == 200
        claims = function.events[-1]["requestContext"]["authorizer"]["claims"]
        assert claims["cognito:username"] == user.username
        assert claims["cognito:groups"] == ",".join(user.groups)
    status, _h, _b = both.api("GET", "/protection-groups", "", {"authorization": "nope"}, b"")
    assert status == 401


def test_controls_steer_the_drs_simulator_and_refuse_nonsense() -> None:
    simulator = DrsSimulator()
    controls = site(FakeLambda(OK), simulator)
    status, _h, _b = controls.control(
        "POST", "/sandbox/drs", b'{"failingServers": ["s-1"], "throttleRate": 0.5}'
    )
    assert status == 200
    assert (simulator.failing_servers, simulator.throttle_rate) == ({"s-1"}, 0.5)
    status, _h, body = controls.control("POST", "/sandbox/drs", b'{"throttleRate": 3}')
    assert (status, json.loads(body)) == (400, {"message": "throttleRate must be between 0 and 1"})
    assert simulator.throttle_rate == 0.5
    status, _h, _b = controls.control("POST", "/sandbox/drs", b"not json")
    assert status == 400


def test_a_second_sandbox_on_the_same_workdir_is_refused_before_anything_is_wiped(
    tmp_path: Any,
) -> None:
    from drsctl.sandbox.app import Sandbox, SandboxBusyError, SandboxOptions, running_sandbox

    first = site(FakeLambda(OK))
    live = Site(first.deployment, FakeLambda(OK), DrsSimulator(), USER, None, dict)
    live.start()
    try:
        (tmp_path / "sandbox.json").write_text(json.dumps({"dev": live.url}))
        (tmp_path / "logs").mkdir()
        assert running_sandbox(tmp_path) == live.url
        with pytest.raises(SandboxBusyError, match="still answers at http://127.0.0.1:"):
            Sandbox(SandboxOptions(workdir=tmp_path, console=False)).start()
        assert (tmp_path / "logs").exists(), "the running sandbox's logs were kept"
    finally:
        live.stop()
    assert running_sandbox(tmp_path) is None  # a state file nobody answers for is stale


def test_the_token_carries_the_groups_as_the_api_reads_them() -> None:
    from drs_orchestrator.handlers.api import token_payload

    user = SandboxUser("u", "u@example.com", ("ops,admin", "read-only"), "secret")
    payload = token_payload(user.token)
    assert payload is not None and payload["cognito:groups"] == ["ops,admin", "read-only"]
    claims = user.claims()
    assert claims["cognito:groups"] == "ops,admin,read-only"
    assert claims["sub"] == payload["sub"] and claims["iat"] == str(payload["iat"])


def test_blank_and_repeated_query_values_and_both_header_maps_reach_the_function() -> None:
    function = FakeLambda(OK)
    site(function).api(
        "GET", "/executions", "limit=&status=A&status=B", {"authorization": USER.token}, b""
    )
    [event] = function.events
    assert event["queryStringParameters"] == {"limit": "", "status": "B"}
    assert event["multiValueQueryStringParameters"] == {"limit": [""], "status": ["A", "B"]}
    assert event["multiValueHeaders"]["Authorization"] == [USER.token]


def test_a_body_that_is_not_utf8_reaches_the_function_instead_of_failing() -> None:
    function = FakeLambda(OK)
    status, _headers, _body = site(function).api(
        "POST", "/protection-groups", "", {"authorization": USER.token}, b'{"name": "\xff"}'
    )
    assert status == 200
    assert function.events[0]["body"] == '{"name": "\ufffd"}'


def test_multi_value_response_headers_are_sent() -> None:
    answer = {
        "statusCode": 200,
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "body": "{}",
    }
    _status, headers, _body = site(FakeLambda(answer)).api(
        "GET", "/executions", "", {"authorization": USER.token}, b""
    )
    assert headers["Content-Type"] == "application/json"


def test_the_operator_boots_failback_clients_through_a_control() -> None:
    from drs_orchestrator.adapters.drs import DrsGateway

    simulator = DrsSimulator()
    simulator.add_source_server("s-0000000000000fb01")
    gateway = DrsGateway(simulator.client())
    job = gateway.start_recovery(["s-0000000000000fb01"], is_drill=False, tags={})
    simulator.start(job["jobID"])
    simulator.finish(job["jobID"])
    [instance] = gateway.recovery_instances()
    controls = site(FakeLambda(OK), simulator)
    body = json.dumps({"recoveryInstanceIds": [instance["recoveryInstanceID"]]}).encode()
    status, _h, answer = controls.control("POST", "/sandbox/failback-clients", body)
    assert status == 200 and json.loads(answer)["connected"] == [instance["recoveryInstanceID"]]
    [connected] = gateway.recovery_instances()
    assert connected["failback"]["failbackClientID"]
    status, _h, answer = controls.control(
        "POST", "/sandbox/failback-clients", b'{"recoveryInstanceIds": ["i-nope"]}'
    )
    assert status == 400 and "not found" in json.loads(answer)["message"]


def test_requests_follow_one_another_on_one_connection() -> None:
    import http.client

    function = FakeLambda(OK)
    deployment = Deployment("dev", "aws-elasticdrs-orchestrator-dev", "us-east-1")
    deployment.functions["api"] = "aws-elasticdrs-orchestrator-dev-api"
    served = Site(deployment, function, DrsSimulator(), USER, None, dict)
    served.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
        answers, sockets = [], set()
        for method, path, body in (
            ("GET", "/api/executions", None),
            ("OPTIONS", "/api/executions", None),
            ("HEAD", "/api/executions", None),
            ("POST", "/api/protection-groups", b"{}"),
        ):
            connection.request(method, path, body=body, headers={"Authorization": USER.token})
            answer = connection.getresponse()
            answers.append((answer.status, answer.read()))
            sockets.add(connection.sock)  # None once the server has closed it
        connection.close()
    finally:
        served.stop()
    assert answers == [
        (200, b'{"items": []}'),
        (204, b""),  # the preflight, without a body
        (403, b""),  # API Gateway's answer to an undefined method, its body not sent
        (200, b'{"items": []}'),
    ]
    assert [event["httpMethod"] for event in function.events] == ["GET", "POST"]
    assert len(sockets) == 1 and None not in sockets, "the connection was not kept"
