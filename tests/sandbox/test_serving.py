"""The sandbox's HTTP servers keep connections alive, answer as werkzeug's did, and end every
open connection when they stop."""

from __future__ import annotations

import http.client
import socket
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from werkzeug.serving import WSGIRequestHandler as WerkzeugHandler
from werkzeug.serving import make_server

from drsctl.sandbox.gateway import AwsGateway, GatewayServer
from drsctl.sandbox.serving import ServerThread, wsgi_server

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

#: Request variables that differ between two servers for reasons that are not the request.
_PER_SERVER = {"wsgi.input", "wsgi.errors", "werkzeug.socket", "REMOTE_PORT", "SERVER_PORT"}


class Recorder:
    """A WSGI application that keeps what it was given and answers with its body."""

    def __init__(self) -> None:
        self.environs: list[dict[str, Any]] = []
        self.bodies: list[bytes] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.environs.append(dict(environ))
        self.bodies.append(body)
        if environ["PATH_INFO"] == "/fail":
            msg = "the application failed"
            raise RuntimeError(msg)
        answer = b"echo:" + body
        start_response("200 OK", [("Content-Type", "text/plain"), ("Connection", "close")])
        return [answer[:3], answer[3:]]


class PortsSeen(AwsGateway):
    """The gateway, noting the client port of every request (one per connection)."""

    def __init__(self) -> None:
        super().__init__({})
        self.ports: list[int] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        self.ports.append(environ["REMOTE_PORT"])
        return super().__call__(environ, start_response)


def gateway_client(service: str, serving: ServerThread) -> Any:
    """A boto3 client of ``service`` on the gateway (made-up credentials: moto's account)."""
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=serving.url,
        aws_access_key_id="AKIAEXAMPLEKEEPALIVE",
        aws_secret_access_key="example",
    )


def requested(
    serving: ServerThread, path: str
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    """A GET of ``path``: the connection (kept open) and its answer."""
    connection = http.client.HTTPConnection("127.0.0.1", serving.port, timeout=10)
    connection.request("GET", path)
    return connection, connection.getresponse()


@pytest.fixture
def recorder() -> Iterator[tuple[Recorder, ServerThread]]:
    app = Recorder()
    server = wsgi_server(app)
    serving = ServerThread(server, "test-wsgi")
    serving.start()
    yield app, serving
    serving.stop()


def test_aws_calls_share_one_connection() -> None:
    gateway = PortsSeen()
    serving = GatewayServer(gateway)
    serving.start()
    try:
        client = gateway_client("dynamodb", serving)
        for _ in range(10):
            assert client.list_tables()["TableNames"] == []
    finally:
        serving.stop()
    assert len(gateway.ports) == 10
    assert len(set(gateway.ports)) == 1, "each call made a connection of its own"


def test_requests_follow_one_another_on_a_connection(
    recorder: tuple[Recorder, ServerThread],
) -> None:
    app, serving = recorder
    connection = http.client.HTTPConnection("127.0.0.1", serving.port, timeout=10)
    for body in (b"first", b"", b"third" * 1000):
        connection.request("POST", "/echo", body=body)
        answer = connection.getresponse()
        assert answer.status == 200 and answer.read() == b"echo:" + body
        # The application's "Connection: close" is the server's to decide, not the answer's.
        assert answer.getheader("Connection") is None
    connection.close()
    assert app.bodies == [b"first", b"", b"third" * 1000]


def test_a_chunked_body_is_read_whole_and_the_next_request_follows(
    recorder: tuple[Recorder, ServerThread],
) -> None:
    app, serving = recorder
    with socket.create_connection(("127.0.0.1", serving.port), timeout=10) as raw:
        raw.sendall(
            b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
            b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nbye"
        )
        received = b""
        while received.count(b"echo:") < 2:  # noqa: PLR2004 - both answers
            chunk = raw.recv(65536)
            assert chunk, received
            received += chunk
    assert app.bodies == [b"hello world", b"bye"]
    assert app.environs[0]["CONTENT_LENGTH"] == "11"
    assert "HTTP_TRANSFER_ENCODING" not in app.environs[0]


def test_a_failing_application_is_a_500_and_the_connection_closes(
    recorder: tuple[Recorder, ServerThread],
) -> None:
    _, answer = requested(recorder[1], "/fail")
    assert answer.status == 500
    assert answer.getheader("Connection") == "close"
    assert answer.read() == b""


def test_stop_ends_kept_alive_connections_and_frees_the_port(
    recorder: tuple[Recorder, ServerThread],
) -> None:
    serving = recorder[1]
    connection, answer = requested(serving, "/idle")
    answer.read()
    serving.stop()
    assert connection.sock is not None
    assert connection.sock.recv(1) == b"", "the idle connection was ended"
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", serving.port))


def test_moto_is_given_the_environment_werkzeugs_server_built() -> None:
    ours, theirs = Recorder(), Recorder()
    servers = [
        ServerThread(wsgi_server(ours), "ours"),
        ServerThread(
            make_server("127.0.0.1", 0, theirs, threaded=True, request_handler=_Quiet), "werkzeug"
        ),
    ]
    for server in servers:
        server.start()
    try:
        for server in servers:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            connection.request(
                "POST",
                "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/"
                "invocations?Qualifier=%24LATEST&x=%C3%A9",
                body=b'{"a": 1}',
                headers={"Authorization": "AWS4-HMAC-SHA256 Credential=AKIA/x", "X-Two": "1"},
            )
            connection.getresponse().read()
            connection.close()
    finally:
        for server in servers:
            server.stop()
    mine, werkzeugs = ours.environs[0], theirs.environs[0]
    differing = {
        key
        for key in mine.keys() | werkzeugs.keys()
        if key not in _PER_SERVER and mine.get(key) != werkzeugs.get(key)
    }
    # Host names the port; the software names the server.
    assert differing <= {"HTTP_HOST", "SERVER_SOFTWARE"}, {
        k: (mine.get(k), werkzeugs.get(k)) for k in differing
    }
    assert (
        mine["PATH_INFO"]
        == "/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:f/invocations"
    )


def test_head_keeps_the_length_of_the_get_and_sends_no_body() -> None:
    gateway = GatewayServer(AwsGateway({}))
    gateway.start()
    try:
        s3 = gateway_client("s3", gateway)
        s3.create_bucket(Bucket="keep-alive-example")
        # Large enough for botocore to ask "Expect: 100-continue" first.
        s3.put_object(Bucket="keep-alive-example", Key="k", Body=b"x" * 3_000_000)
        assert s3.head_object(Bucket="keep-alive-example", Key="k")["ContentLength"] == 3_000_000
        body = s3.get_object(Bucket="keep-alive-example", Key="k")["Body"].read()
        assert body == b"x" * 3_000_000
    finally:
        gateway.stop()


class _Quiet(WerkzeugHandler):
    def log_request(self, *_: Any) -> None:
        return


def test_dynamodb_requests_go_to_the_application_moto_chose_without_asking_it_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The gateway asks moto's dispatcher which application answers DynamoDB once, then
    goes straight to it; every region's tables stay that region's, and other services (and
    DynamoDB Streams, which signs as DynamoDB) are still dispatched by moto."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    chosen: list[str] = []
    choose = DomainDispatcherApplication.get_application

    def counted(self: Any, environ: dict[str, Any]) -> Any:
        chosen.append(environ.get("HTTP_X_AMZ_TARGET", environ.get("PATH_INFO", "")))
        return choose(self, environ)

    monkeypatch.setattr(DomainDispatcherApplication, "get_application", counted)
    gateway = GatewayServer(AwsGateway({}))
    gateway.start()
    try:
        tables = {}
        for region in ("us-east-1", "eu-west-1"):
            dynamodb = boto3.client(
                "dynamodb",
                region_name=region,
                endpoint_url=gateway.url,
                aws_access_key_id="AKIAEXAMPLEKEEPALIVE",
                aws_secret_access_key="example",
            )
            dynamodb.create_table(
                TableName=f"t-{region}",
                KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            dynamodb.put_item(TableName=f"t-{region}", Item={"k": {"S": region}})
            tables[region] = dynamodb.list_tables()["TableNames"]
        assert tables == {"us-east-1": ["t-us-east-1"], "eu-west-1": ["t-eu-west-1"]}
        assert [t for t in chosen if t.startswith("DynamoDB_")] == ["DynamoDB_20120810.CreateTable"]
        streams = boto3.client(
            "dynamodbstreams",
            region_name="us-east-1",
            endpoint_url=gateway.url,
            aws_access_key_id="AKIAEXAMPLEKEEPALIVE",
            aws_secret_access_key="example",
        )
        assert streams.list_streams()["Streams"] == []
        gateway_client("sqs", gateway).list_queues()
        gateway_client("sqs", gateway).list_queues()
        assert chosen[-3].startswith("DynamoDBStreams_")
        assert len(chosen) == 4, chosen
    finally:
        gateway.stop()
