"""The sandbox's AWS endpoint: one local HTTP server for every service the orchestrator uses.

IAM's policy simulations go to ``drsctl/sandbox/iam.py`` (moto has none). DRS requests (told
apart by the SigV4 credential scope, as AWS routes them) go to a DRS
simulator — one per deployment, chosen by the caller's access key, so two deployments side
by side never see each other's jobs; a request signed with credentials of a role assumed in
another account (moto's STS issued them) goes to the DRS of that account and the request's
region, as in AWS; SSM Automation requests go to the deployment's automation simulator
(``drsctl/sandbox/ssm.py``: moto has no Automation); everything else goes to moto's server
application.
moto is not thread-safe, so its requests are answered one at a time, except Lambda
invocations: those run handlers which call back into moto, and must not hold the lock.
"""

from __future__ import annotations

import io
import json
import re
import threading
from typing import TYPE_CHECKING, Any, TypeVar

from moto.server import DomainDispatcherApplication, create_backend_app

from drsctl.sandbox.iam import PolicySimulator
from drsctl.sandbox.moto_direct import DirectDynamoDb
from drsctl.sandbox.serving import ServerThread, wsgi_server
from drsctl.sandbox.ssm import OPERATIONS as AUTOMATION_OPERATIONS
from drsctl.sandbox.sts import TrustChecker, access_denied

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from drsctl.sandbox.drs import DrsSimulator
    from drsctl.sandbox.ssm import AutomationSimulator

T = TypeVar("T")

_SCOPE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
#: Requests whose moto application their credential scope and target decide alone, by
#: service: moto infers it again from the headers for every request, and DynamoDB's are
#: most of a sandbox's traffic. (DynamoDB Streams signs as "dynamodb" too: other target.)
_DECIDED_BY_SCOPE = {"dynamodb": "DynamoDB_20120810."}
#: Services answered without moto's Flask application around each request, by service
#: (``drsctl/sandbox/moto_direct.py``); the application answers what they do not.
_DIRECT: dict[str, Callable[[Callable], Callable]] = {"dynamodb": DirectDynamoDb}


class AwsGateway:
    """WSGI application: DRS simulators in front of moto."""

    def __init__(
        self,
        simulators: Mapping[str, DrsSimulator],
        targets: Mapping[tuple[str, str], DrsSimulator] | None = None,
        policies: PolicySimulator | None = None,
        automations: Mapping[str, AutomationSimulator] | None = None,
        trust: TrustChecker | None = None,
    ) -> None:
        #: DRS simulator per access key id (each deployment's own account and region).
        self.simulators = dict(simulators)
        #: DRS simulator per (account, region) of a DRS target, reached by assumed roles.
        self.targets = dict(targets or {})
        #: IAM's policy simulation, which moto lacks (``drsctl/sandbox/iam.py``).
        self.policies = policies or PolicySimulator()
        #: SSM Automation per access key id (each deployment's own).
        self.automations = dict(automations or {})
        #: Each function's own access key -> its deployment's (which names its simulators).
        self.aliases: dict[str, str] = {}
        #: STS's AssumeRole held to the role's trust (``drsctl/sandbox/sts.py``).
        self.trust = trust or TrustChecker()
        self._moto = DomainDispatcherApplication(create_backend_app)
        #: moto's application for each service of ``_DECIDED_BY_SCOPE``, once it chose it.
        self._applications: dict[str, Callable] = {}
        self._lock = threading.RLock()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        caller, service = (scope.group(1), scope.group(3)) if scope else ("", "")
        access_key = self.aliases.get(caller, caller)
        if service == "sts":
            refused = self._refused_assume_role(caller, environ)
            if refused is not None:
                start_response(
                    "403 Forbidden",
                    [("Content-Type", "text/xml"), ("Content-Length", str(len(refused)))],
                )
                return [refused]
        if service == "drs":
            region = scope.group(2) if scope else ""
            return self._drs(access_key, region, environ, start_response)
        if service == "iam":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            if b"Action=SimulatePrincipalPolicy" in body:
                with self._lock:  # it reads moto's roles
                    status, raw = self.policies.serve(body.decode())
                start_response(
                    f"{status} {'OK' if status == 200 else 'Error'}",
                    [("Content-Type", "text/xml"), ("Content-Length", str(len(raw)))],
                )
                return [raw]
            environ["wsgi.input"] = io.BytesIO(body)  # read: moto reads it again
        if service == "ssm":
            operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
            if operation in AUTOMATION_OPERATIONS and access_key in self.automations:
                return self._automation(access_key, operation, environ, start_response)
        if service == "lambda" and environ.get("PATH_INFO", "").endswith("/invocations"):
            return self._moto(environ, start_response)
        with self._lock:
            # The whole body is read under the lock: moto builds it lazily.
            return [b"".join(self._application(service, environ)(environ, start_response))]

    def read_moto(self, read: Callable[[], T]) -> T:
        """``read()``'s answer, read from moto's backends while no request changes them."""
        with self._lock:
            return read()

    def _application(self, service: str, environ: dict[str, Any]) -> Callable:
        """moto's application for the request: the one moto chose for the first request
        of a service its scope decides, else moto's dispatcher choosing."""
        target = _DECIDED_BY_SCOPE.get(service)
        if target is None or not environ.get("HTTP_X_AMZ_TARGET", "").startswith(target):
            return self._moto
        if service not in self._applications:
            chosen = self._moto.get_application(environ)
            direct = _DIRECT.get(service)
            self._applications[service] = direct(chosen) if direct else chosen
        return self._applications[service]

    def _refused_assume_role(self, caller: str, environ: dict[str, Any]) -> bytes | None:
        """STS's refusal of an AssumeRole the role's trust does not allow (None: moto
        answers). The body is put back for moto either way."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        with self._lock:  # it reads moto's roles
            reason = self.trust.refusal(caller, body.decode(errors="replace"))
        return None if reason is None else access_denied(reason)

    def _drs(
        self, access_key: str, region: str, environ: dict[str, Any], start_response: Callable
    ) -> list:
        simulator = self.simulators.get(access_key)
        if simulator is None and self.targets:
            from moto.iam.models import get_account_id_from

            with self._lock:
                account = get_account_id_from(access_key)
            simulator = self.targets.get((account, region))
        if simulator is None:
            start_response(
                "403 Forbidden",
                [
                    ("Content-Type", "application/json"),
                    ("x-amzn-ErrorType", "AccessDeniedException"),
                ],
            )
            return [b'{"message": "no DRS simulator serves this access key"}']
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        status, headers, raw = simulator.serve(environ.get("PATH_INFO", "/"), body)
        start_response(f"{status} {'OK' if status == 200 else 'Error'}", list(headers.items()))
        return [raw]

    def _automation(
        self, access_key: str, operation: str, environ: dict[str, Any], start_response: Callable
    ) -> list:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        status, answer = self.automations[access_key].serve(operation, body)
        raw = json.dumps(answer).encode()
        start_response(
            f"{status} {'OK' if status == 200 else 'Error'}",
            [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(raw)))],
        )
        return [raw]


class GatewayServer(ServerThread):
    """The gateway on 127.0.0.1, in a thread of its own."""

    def __init__(self, gateway: AwsGateway, port: int = 0) -> None:
        super().__init__(wsgi_server(gateway, port), "aws-gateway")
