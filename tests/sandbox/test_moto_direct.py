"""The sandbox's gateway answers DynamoDB without moto's Flask application around each
request (``drsctl/sandbox/moto_direct.py``) and changes no answer: every request of the
stand-in's scenarios (the runtime's own reads, writes, conditions, transactions, index
queries and pages, and refusals) sent through the gateway with moto's application and with
the direct path, every answer's status, headers and body compared as the client got them."""

from __future__ import annotations

import contextlib
import copy
import re
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.backends import get_backend

from drsctl.sandbox import gateway as gateway_module
from drsctl.sandbox.dynamodb_wire import send_dynamodb_results_as_json
from drsctl.sandbox.gateway import AwsGateway, GatewayServer
from drsctl.sandbox.moto_direct import DirectDynamoDb
from infra.tables import create_table_request
from tests.lambdas.dynamodb_scenarios import SCENARIOS, TABLES

#: Headers that differ between any two answers: moto draws a new request id for each.
DRAWN = {"x-amzn-requestid"}
#: A table's description carries the moment it was created (and its checksum with it).
CREATED = re.compile(rb'"CreationDateTime": [0-9.]+')


def _timeless(answer: tuple[int, list[tuple[str, str]], bytes]) -> Any:
    """An answer with the creation time of a table it describes left out (and what
    follows from it: the checksum and, with its digits, the length)."""
    status, headers, body = answer
    if not CREATED.search(body):
        return answer
    kept = [(k, v) for k, v in headers if k.lower() not in {"x-amz-crc32", "content-length"}]
    return status, kept, CREATED.sub(b'"CreationDateTime": "(when)"', body)


def _client(url: str) -> Any:
    return boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="AKIAEXAMPLEDIRECT",
        aws_secret_access_key="example",
    )


@pytest.fixture(scope="module")
def gateways() -> Any:
    """Two gateways, by whether they answer directly: the first kept on moto's application
    for DynamoDB (its first request was sent with no direct path)."""
    restore = send_dynamodb_results_as_json()  # as the sandbox serves
    saved = dict(gateway_module._DIRECT)
    served: dict[bool, tuple[AwsGateway, GatewayServer]] = {}
    try:
        for direct in (False, True):
            if not direct:
                gateway_module._DIRECT.clear()
            gateway = AwsGateway({})
            served[direct] = (gateway, GatewayServer(gateway))
            served[direct][1].start()
            _client(served[direct][1].url).list_tables()  # its application chosen
            gateway_module._DIRECT.update(saved)
        for direct, (gateway, _server) in served.items():
            answering = gateway._applications["dynamodb"]  # noqa: SLF001
            assert isinstance(answering, DirectDynamoDb) is direct
        yield {direct: server.url for direct, (_gateway, server) in served.items()}
    finally:
        gateway_module._DIRECT.update(saved)
        for _gateway, server in served.values():
            server.stop()
        restore()
        get_backend("dynamodb").reset()  # moto's tables are global: none left for others


def answers(url: str, steps: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Each request's answer as the client received it, from tables made afresh."""
    get_backend("dynamodb").reset()
    received: list[Any] = []
    client = _client(url)

    def keep(response_dict: dict[str, Any], **_: Any) -> None:
        headers = [(k, v) for k, v in response_dict["headers"].items() if k.lower() not in DRAWN]
        received.append((response_dict["status_code"], headers, response_dict["body"]))

    client.meta.events.register("before-parse.dynamodb", keep)
    for name, layout in TABLES.items():
        client.create_table(**create_table_request(layout, name))
    for operation, params in steps:
        with contextlib.suppress(ClientError):  # its answer was kept all the same
            client._make_api_call(operation, copy.deepcopy(params))  # noqa: SLF001
    return [_timeless(answer) for answer in received]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_direct_path_answers_as_motos_application(
    gateways: dict[bool, str], scenario: str
) -> None:
    through_flask = answers(gateways[False], SCENARIOS[scenario])
    direct = answers(gateways[True], SCENARIOS[scenario])
    assert len(direct) == len(SCENARIOS[scenario]) + len(TABLES)
    assert direct == through_flask


def test_what_is_not_a_post_to_the_root_goes_to_motos_application() -> None:
    seen: list[str] = []

    def application(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        start_response("200 OK", [])
        return [b""]

    direct = DirectDynamoDb(application)
    for method, path in (("OPTIONS", "/"), ("GET", "/"), ("POST", "/elsewhere")):
        direct({"REQUEST_METHOD": method, "PATH_INFO": path}, lambda *_: None)
    assert seen == ["OPTIONS /", "GET /", "POST /elsewhere"]
