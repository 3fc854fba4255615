"""The sandbox's local HTTP servers: kept-alive connections, each server in a thread of its own.

Every AWS call a function or a test makes goes to the gateway, and every console or API
request to a site. Served the way werkzeug's development server and ``http.server`` serve by
default, each request was a new TCP connection and a new thread (werkzeug answers every
request with ``Connection: close``); a fuzz run made 18,000 of them. Here a connection stays
open for the next request, as AWS's endpoints and API Gateway keep it, and the server ends
every connection still open when it stops.

``WSGIRequestHandler`` serves a WSGI application (moto's, behind the gateway) over such a
connection, with the environment werkzeug would build, so moto sees the same requests.
"""

from __future__ import annotations

import contextlib
import io
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import unquote, urlsplit

from werkzeug.serving import DechunkedInput

if TYPE_CHECKING:
    from collections.abc import Callable
    from socketserver import BaseServer

#: Statuses whose answers never have a body (RFC 9110).
_NO_BODY = frozenset({204, 304})


class KeepAliveServer(ThreadingHTTPServer):
    """A threaded HTTP server that tracks its open connections and ends them on close.

    ``http.server`` joins every request thread on close (``block_on_close``), which would
    wait for clients to hang up their idle kept-alive connections: here close shuts those
    connections instead, so their threads end at once."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        with self._open_lock:
            still_open = list(self._open)
        for connection in still_open:
            with contextlib.suppress(OSError):  # the client hung up meanwhile
                connection.shutdown(socket.SHUT_RDWR)


class KeepAliveHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with the connection kept for the next request.

    A subclass answers every method in ``answer``, through ``send_answer``, which sends
    status, headers and body in one write with their ``Content-Length`` (no Nagle delay
    between headers and body)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def send_answer(
        self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        self.send_response_only(status, reason)
        for name, value in headers:
            self.send_header(name, value)
        # A HEAD answer keeps the length its application gave (that of the GET's body).
        told = self.command == "HEAD" and any(k.lower() == "content-length" for k, _ in headers)
        if status not in _NO_BODY and not told:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD" and status not in _NO_BODY:
            self._headers_buffer.append(body)
        self.wfile.write(b"".join(self._headers_buffer))
        self._headers_buffer = []

    def answer(self) -> None:
        """Answer the request just parsed, whatever its method (a subclass's)."""
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        # ``http.server`` looks up ``do_<METHOD>``: every method is ``answer``'s to decide.
        if name.startswith("do_"):
            return self.answer
        raise AttributeError(name)

    def read_body(self) -> bytes:
        """The request's whole body (by its length, or chunked): the next request starts
        right after it on a kept-alive connection."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return DechunkedInput(self.rfile).read()  # type: ignore[arg-type]
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


class WSGIRequestHandler(KeepAliveHandler):
    """Serves ``server.app`` (a WSGI application) over kept-alive connections."""

    #: Headers the application may set that describe the connection, not the answer.
    HOP_BY_HOP: ClassVar[frozenset[str]] = frozenset(
        {"connection", "content-length", "transfer-encoding", "keep-alive"}
    )

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except ConnectionError:  # as werkzeug's server: a dropped client ends quietly
            self.close_connection = True

    def answer(self) -> None:
        environ = self.environ(self.read_body())
        answer: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            answer["status"], answer["headers"] = status, headers
            return lambda _data: None  # the body is the iterable's (write() is legacy)

        try:
            result = self.server.app(environ, start_response)  # type: ignore[attr-defined]
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        except Exception:  # noqa: BLE001 - answered 500, as werkzeug's server does
            import traceback

            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            self.send_answer(500, "Internal Server Error", [("Content-Type", "text/plain")], b"")
            return
        code, _, reason = answer["status"].partition(" ")
        headers = answer["headers"]
        dropped = self.HOP_BY_HOP
        if self.command == "HEAD":  # its Content-Length is the GET's, kept
            dropped = dropped - {"content-length"}
        kept = [(k, v) for k, v in headers if k.lower() not in dropped]
        self.send_answer(int(code), reason, kept, body)

    def environ(self, body: bytes) -> dict[str, Any]:
        """The WSGI environment werkzeug's development server builds for this request."""
        url = urlsplit(self.path)
        path = f"/{url.netloc}{url.path}" if not url.scheme and url.netloc else url.path
        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "SERVER_SOFTWARE": self.server_version,
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": _wsgi_string(unquote(path)),
            "QUERY_STRING": _wsgi_string(url.query),
            "REQUEST_URI": _wsgi_string(self.path),
            "RAW_URI": _wsgi_string(self.path),
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": self.client_address[1],
            "SERVER_NAME": host,
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
        }
        for name, value in self.headers.items():
            if "_" in name:  # as werkzeug: never confused with a CGI variable
                continue
            key = name.upper().replace("-", "_")
            value = value.replace("\r\n", "")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
                continue
            key = f"HTTP_{key}"
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        # The body was read whole: its length is what the application may read.
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return environ


def _wsgi_string(text: str) -> str:
    """PEP 3333's native string: the UTF-8 bytes read as latin-1 (werkzeug's dance)."""
    return text.encode().decode("latin1")


def wsgi_server(app: Callable[..., Any], port: int = 0) -> KeepAliveServer:
    """A kept-alive server of the WSGI application ``app`` on 127.0.0.1."""
    server = KeepAliveServer(("127.0.0.1", port), WSGIRequestHandler)
    server.app = app  # type: ignore[attr-defined]
    return server


class ServerThread:
    """Runs ``server.serve_forever`` in a daemon thread; ``stop`` frees the port."""

    def __init__(self, server: BaseServer, name: str) -> None:
        self.server = server
        self.port = int(server.server_address[1])  # type: ignore[index]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, end open connections and free the port (shutdown() would wait
        forever if never started)."""
        if self._thread.is_alive():
            self.server.shutdown()
            self._thread.join(timeout=5)
        self.server.server_close()
