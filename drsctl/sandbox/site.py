"""One deployment's front door in the sandbox: its API, its console, and the sandbox's own
controls, on one local port.

``/api/...`` plays API Gateway: routes come from the OpenAPI document the deployed REST API
is built from; anything else is answered 403 "Missing Authentication Token" as API Gateway
does; the Cognito authorizer is played by a per-run sandbox token whose user and groups
become the ``cognito:groups`` claims; the request becomes a proxy event and is handed to the
API function through Lambda's Invoke, so it runs in its own execution environment from its
deployment package. A function error is a 502, as on API Gateway.

``/config.json`` is the console's configuration (sandbox sign-in; a deployment's console
gets a Cognito one from the Frontend component). ``/sandbox/...`` reads and steers the DRS
simulator, and reads what the deployment stored (``/sandbox/records``). Every other path is
the console's build output, with ``index.html`` for client routes.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from drs_orchestrator.api import schemas

from drsctl.sandbox.drs_forms import DrsError
from drsctl.sandbox.serving import KeepAliveHandler, KeepAliveServer, ServerThread
from infra.gateway_document import CORS_HEADERS, gateway_document, operations

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from drsctl.sandbox.deploy import Deployment
    from drsctl.sandbox.drs import DrsSimulator

API_PREFIX = "/api"
STAGE = "v1"


@dataclass(frozen=True)
class SandboxUser:
    """The local user the sandbox signs the console in as (never outside the sandbox).

    Its token is shaped like a Cognito ID token (header.payload.signature, base64url JSON)
    so the API reads the groups from it exactly as from a real one; the signature part is
    a per-run secret the site compares, playing the authorizer's verification."""

    username: str
    email: str
    groups: tuple[str, ...]
    secret: str
    issued_at: int = 1_700_000_000

    def token_claims(self) -> dict[str, Any]:
        return {
            "sub": f"sandbox-{self.username}",
            "iat": self.issued_at,
            "token_use": "id",  # nosec B105 - the kind of token, not a secret
            "cognito:username": self.username,
            "email": self.email,
            "cognito:groups": list(self.groups),
        }

    @property
    def token(self) -> str:
        def part(value: dict[str, Any]) -> str:
            raw = json.dumps(value, separators=(",", ":")).encode()
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(self.token_claims())}.{self.secret}"

    def claims(self) -> dict[str, str]:
        """The claims as a REST API's Cognito authorizer hands them over: every value a
        string, the groups array joined by commas."""
        return {
            key: ",".join(value) if isinstance(value, list) else str(value)
            for key, value in self.token_claims().items()
        }


def _route_patterns() -> list[tuple[str, str, re.Pattern[str]]]:
    """The routes of the REST API's body (``infra/gateway_document.py``): what API Gateway
    imports is what the sandbox serves."""
    body = gateway_document(schemas.document(), "sandbox", "sandbox-invoke-arn", "sandbox-pool")
    patterns = []
    for method, resource, _operation in sorted(operations(body)):
        if method == "OPTIONS":
            continue  # answered by the site itself, as API Gateway's mock integration does
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(resource))
        patterns.append((method, resource, re.compile(f"^{regex}$")))
    return patterns


class Site:
    """The API, console and controls of one deployment."""

    def __init__(
        self,
        deployment: Deployment,
        lambda_client: Any,
        simulator: DrsSimulator,
        user: SandboxUser,
        console_dir: Path | None,
        state: Callable[[], dict[str, Any]],
        port: int = 0,
        others: Sequence[SandboxUser] = (),
        records: Callable[[list[str]], dict[str, Any]] | None = None,
    ) -> None:
        self.deployment = deployment
        #: Who the console signs in as first (``--groups``).
        self.user = user
        #: Everyone the console may sign in as (one user per role besides the first), by
        #: token: the authorizer's part.
        self.users = {u.token: u for u in (user, *others)}
        self._lambda = lambda_client
        self._simulator = simulator
        self._console_dir = console_dir
        self._state = state
        #: The deployment's stored items as digests (``drsctl/sandbox/records.py``).
        self._records = records
        self._routes = _route_patterns()
        server = KeepAliveServer(("127.0.0.1", port), _handler_for(self))
        self._serving = ServerThread(server, f"site-{deployment.stack}")
        self.port, self.url = self._serving.port, self._serving.url

    def start(self) -> None:
        self._serving.start()

    def stop(self) -> None:
        self._serving.stop()

    # -- what the console is told ----------------------------------------------------------

    def console_config(self) -> dict[str, Any]:
        return {
            "stack": self.deployment.stack,
            "deploymentName": self.deployment.deployment_name,
            "region": self.deployment.region,
            "apiUrl": f"{self.url}{API_PREFIX}",
            "auth": {
                "mode": "sandbox",
                "token": self.user.token,
                "username": self.user.username,
                "email": self.user.email,
                "groups": list(self.user.groups),
                # The console's user menu signs in as any of them (one per role).
                "users": [
                    {
                        "token": u.token,
                        "username": u.username,
                        "email": u.email,
                        "groups": list(u.groups),
                    }
                    for u in self.users.values()
                ],
            },
        }

    # -- API Gateway -------------------------------------------------------------------------

    def api(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if method == "OPTIONS":
            return 204, dict(CORS_HEADERS), b""
        match = next(
            ((r, m) for verb, r, p in self._routes if verb == method and (m := p.match(path))),
            None,
        )
        if match is None:
            return _json(403, {"message": "Missing Authentication Token"})
        caller = self.users.get(headers.get("authorization", "").removeprefix("Bearer "))
        if caller is None:
            return _json(401, {"message": "Unauthorized"})
        resource, found = match
        pairs = parse_qsl(query, keep_blank_values=True)
        event = {
            "resource": resource,
            "path": path,
            "httpMethod": method,
            "headers": {k.title(): v for k, v in headers.items()},
            "multiValueHeaders": {k.title(): [v] for k, v in headers.items()},
            # API Gateway keeps blank values (``?limit=``) and, for a repeated name, hands
            # the last value in one map and all of them in the other.
            "queryStringParameters": dict(pairs) or None,
            "multiValueQueryStringParameters": _multi(pairs) or None,
            "pathParameters": found.groupdict() or None,
            # A body that is not UTF-8 reaches the function with replacement characters.
            "body": body.decode("utf-8", "replace") if body else None,
            "isBase64Encoded": False,
            "requestContext": {
                "resourcePath": resource,
                "httpMethod": method,
                "path": f"/{STAGE}{path}",
                "stage": STAGE,
                "requestId": str(uuid.uuid4()),
                "authorizer": {"claims": caller.claims()},
            },
        }
        answer = self._lambda.invoke(
            FunctionName=self.deployment.api_function, Payload=json.dumps(event).encode()
        )
        payload = json.loads(answer["Payload"].read() or b"null")
        if answer.get("FunctionError") or not isinstance(payload, dict):
            return _json(502, {"message": "Internal server error"})
        # A proxy answer may give headers in either map (Powertools uses the multi-value one);
        # API Gateway sends both.
        response_headers = {**CORS_HEADERS, **(payload.get("headers") or {})}
        for name, values in (payload.get("multiValueHeaders") or {}).items():
            response_headers[name] = ", ".join(str(v) for v in values)
        return int(payload["statusCode"]), response_headers, (payload.get("body") or "").encode()

    # -- sandbox controls ----------------------------------------------------------------------

    def control(
        self, method: str, path: str, body: bytes, query: str = ""
    ) -> tuple[int, dict[str, str], bytes]:
        if method == "GET" and path == "/sandbox/state":
            return _json(200, self._state())
        if method == "GET" and path == "/sandbox/records" and self._records is not None:
            # ?table=recovery-plans&table=...: those tables only (default: every one).
            wanted = [v for k, v in parse_qsl(query) if k == "table"]
            return _json(200, self._records(wanted))
        if method == "POST" and path == "/sandbox/drs":
            try:
                wanted = json.loads(body or b"{}")
                failing = [str(s) for s in wanted.get("failingServers", [])]
                rate = float(wanted.get("throttleRate", self._simulator.throttle_rate))
            except (ValueError, TypeError, AttributeError) as exc:
                return _json(400, {"message": f"invalid sandbox control: {exc}"})
            if not 0 <= rate <= 1:
                return _json(400, {"message": "throttleRate must be between 0 and 1"})
            self._simulator.failing_servers = set(failing)
            self._simulator.throttle_rate = rate
            return _json(200, self._simulator.snapshot())
        if method == "POST" and path == "/sandbox/failback-clients":
            # The operator's step of an on-premises failback: the failback client booted on
            # the original machine of each recovery instance named connects.
            try:
                instances = [str(i) for i in json.loads(body or b"{}")["recoveryInstanceIds"]]
                for instance in instances:
                    self._simulator.connect_failback_client(instance)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                return _json(400, {"message": f"invalid sandbox control: {exc}"})
            except DrsError as exc:
                return _json(400, {"message": exc.message})
            return _json(200, {"connected": instances})
        return _json(404, {"message": f"no sandbox control at {method} {path}"})

    # -- console -------------------------------------------------------------------------------

    def static(self, path: str) -> tuple[int, dict[str, str], bytes]:
        if path == "/config.json":
            return _json(200, self.console_config())
        if self._console_dir is None:
            return 404, {"Content-Type": "text/plain"}, b"the console was not built (--no-console)"
        root = self._console_dir.resolve()
        candidate = (root / path.lstrip("/")).resolve()
        if not candidate.is_file() or root not in candidate.parents:
            candidate = root / "index.html"
        kind = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
        return 200, {"Content-Type": kind, "Cache-Control": "no-store"}, candidate.read_bytes()


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)
    return values


def _json(status: int, body: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json", **CORS_HEADERS}, json.dumps(body).encode()


def _handler_for(site: Site) -> type[KeepAliveHandler]:
    class Handler(KeepAliveHandler):
        server_version = "drs-orchestrator-sandbox"

        def answer(self) -> None:
            # Every method, PATCH, TRACE and HEAD too: a method the API does not define is
            # answered as API Gateway answers it, not with an HTML 501.
            url = urlsplit(self.path)
            body = self.read_body()
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                if url.path == API_PREFIX or url.path.startswith(API_PREFIX + "/"):
                    path = url.path[len(API_PREFIX) :] or "/"
                    status, out_headers, out = site.api(
                        self.command, path, url.query, headers, body
                    )
                elif url.path.startswith("/sandbox/"):
                    status, out_headers, out = site.control(self.command, url.path, body, url.query)
                elif self.command == "GET":
                    status, out_headers, out = site.static(url.path)
                else:
                    status, out_headers, out = _json(405, {"message": "method not allowed"})
            except Exception as exc:  # noqa: BLE001 - a sandbox bug is reported, not hidden
                status, out_headers, out = _json(500, {"message": f"sandbox error: {exc!r}"})
            self.send_answer(status, HTTPStatus(status).phrase, list(out_headers.items()), out)

    return Handler
