"""Fault injection at the AWS call points of the runtime, for the fault matrix and chaos.

Every botocore call made while a handler runs (the wave runner invoked by the state
machine, the finder and its janitor on their schedule, the API) passes through
``FaultInjector``. A fault is armed for one call point (``service:Operation``) and one
occurrence of it, and is one of the kinds of the fault model (docs/RELIABILITY.md):

- ``throttle``: the call is refused as throttled after the client's own retries;
- ``failure``: the service answers with a 5xx;
- ``lost``: the call takes effect, then its answer is lost (a read time-out);
- ``crash-before`` / ``crash-after``: the function dies just before / just after the call.

Two more (``LIFE_KINDS``: the whole-life matrix, tests/e2e/test_life_matrix.py):

- ``lost-retried``: the call takes effect, its answer is lost, and botocore sends the same
  request again (its retry of a read time-out), whose answer the caller gets: a
  conditional write that took effect the first time now fails its condition, a create
  finds what it created;
- ``crash-cold``: the function dies just after the call and its execution environment
  with it: the next invocation starts cold, without the services, stores and clients the
  dead one kept (``drop_warm``).

A crash is a ``SimulatedCrash`` (a ``BaseException``, so no ``except Exception`` in the
code under test can swallow it); the harness reports it to Step Functions as the Lambda
service reports a function that died.
"""

from __future__ import annotations

import contextvars
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError, ReadTimeoutError

if TYPE_CHECKING:
    from collections.abc import Callable

KINDS = ("throttle", "failure", "lost", "crash-before", "crash-after")
#: The kinds of the whole-life matrix: every kind above and the two closest to AWS.
LIFE_KINDS = (*KINDS, "lost-retried", "crash-cold")


def cases(points: dict[str, tuple[int, ...]]) -> list[tuple[str, int, str]]:
    """A fault matrix's cases: every occurrence of every call point, with every kind."""
    return [
        (point, occurrence, kind)
        for point, occurrences in points.items()
        for occurrence in occurrences
        for kind in KINDS
    ]


#: The action a call site names for calls made outside any handler action (the API's).
API = "api"


def site_cases(sites: dict[tuple[str, str], tuple[int, ...]]) -> list[tuple[str, str, int, str]]:
    """A fault matrix by call site: for each (handler action, call point) and each of its
    occurrences within that action, every kind. A site is where the code calls AWS, so
    one point called by two handlers (a tick's save, the approval's save) is two rows."""
    return [
        (action, point, occurrence, kind)
        for (action, point), occurrences in sites.items()
        for occurrence in occurrences
        for kind in KINDS
    ]


def site_scope(action: str) -> frozenset[str | None]:
    """The injector's scope that counts only the calls of ``action``'s handlers."""
    return frozenset({None if action == API else action})


#: Set while a handler runs: only the runtime's own calls meet faults, not the test's reads.
in_handler: contextvars.ContextVar[bool] = contextvars.ContextVar("in_handler", default=False)
#: What the running handler was asked to do (the state machine's ``action``, or
#: ``drs-event`` for an EventBridge event): a matrix can be scoped to some of them.
handler_action: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "handler_action", default=None
)

_THROTTLE_CODES = {
    "dynamodb": "ProvisionedThroughputExceededException",
    "sns": "Throttling",
    "ssm": "ThrottlingException",
    "stepfunctions": "ThrottlingException",
    "drs": "ThrottlingException",
    "sts": "Throttling",
    "ec2": "RequestLimitExceeded",
    "iam": "Throttling",
    "s3": "SlowDown",
}
#: Each service's code for a failure on its side (HTTP 500).
_FAILURE_CODES = {"drs": "InternalServerException", "ec2": "InternalError", "s3": "InternalError"}


class SimulatedCrash(BaseException):  # noqa: N818 - a death, not an error
    """The Lambda function died here."""


def call_point(client: BaseClient, operation: str) -> str:
    return f"{client.meta.service_model.service_name}:{operation}"


@dataclass
class FaultInjector:
    """Counts every call point the runtime reaches and injects the armed fault (or, with
    ``chaos_rate``, a random fault of a random kind at that share of calls)."""

    point: str | None = None
    kind: str | None = None
    occurrence: int = 1
    chaos_rate: float = 0.0
    seed: int = 0
    #: Only calls made by handlers doing one of these (``handler_action``) are counted
    #: and may meet the fault; None: every call of the runtime.
    scope: frozenset[str | None] | None = None
    calls: Counter = field(default_factory=Counter)
    #: Every call counted, by the action of the handler that made it and its call point:
    #: each (action, point) pair is a call site a matrix must reach.
    sites: Counter = field(default_factory=Counter)
    injected: list[tuple[str, str]] = field(default_factory=list)
    #: What a ``crash-cold`` also does: forget the warm objects of the process.
    drop_warm: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(self.seed)  # noqa: S311 - simulated faults, not secrets

    def install(self, monkeypatch: Any) -> None:
        original = BaseClient._make_api_call
        injector = self

        def make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            if not in_handler.get() or (
                injector.scope is not None and handler_action.get() not in injector.scope
            ):
                return original(client, operation, params)
            kind = injector._choose(call_point(client, operation), handler_action.get())
            if kind is None:
                return original(client, operation, params)
            # Each attempt gets the parameters as the caller gave them: botocore's handlers
            # rewrite some in place (an S3 body becomes a stream the first attempt reads
            # to its end), and botocore's own retry sends the request again from its start.
            return injector._inject(
                kind, client, operation, lambda: original(client, operation, dict(params))
            )

        monkeypatch.setattr(BaseClient, "_make_api_call", make_api_call)

    def _choose(self, point: str, action: str | None = None) -> str | None:
        with self._lock:
            self.calls[point] += 1
            self.sites[(action, point)] += 1
            if self.chaos_rate:
                if self._random.random() < self.chaos_rate:
                    kind = self._random.choice(KINDS)
                    self.injected.append((point, kind))
                    return kind
                return None
            if point == self.point and self.calls[point] == self.occurrence:
                self.injected.append((point, str(self.kind)))
                return self.kind
            return None

    def _inject(self, kind: str, client: BaseClient, operation: str, call: Any) -> Any:
        service = client.meta.service_model.service_name
        if kind == "crash-before":
            raise SimulatedCrash(f"died before {service}:{operation}")
        if kind == "throttle":
            raise ClientError(
                {
                    "Error": {
                        "Code": _THROTTLE_CODES.get(service, "ThrottlingException"),
                        "Message": "injected throttle",
                    },
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                },
                operation,
            )
        if kind == "failure":
            code = _FAILURE_CODES.get(service, "InternalServerError")
            raise ClientError(
                {
                    "Error": {"Code": code, "Message": "injected failure"},
                    "ResponseMetadata": {"HTTPStatusCode": 500},
                },
                operation,
            )
        result = call()
        if kind == "lost-retried":
            return call()  # botocore's retry: the same request again; its answer is heard
        if kind == "crash-cold":
            if self.drop_warm is None:
                msg = "a crash-cold fault needs drop_warm"
                raise AssertionError(msg)
            self.drop_warm()
            raise SimulatedCrash(f"died after {service}:{operation}, its environment with it")
        if kind == "crash-after":
            raise SimulatedCrash(f"died after {service}:{operation}")
        raise ReadTimeoutError(endpoint_url=f"https://{service}.invalid/{operation}")
        return result  # pragma: no cover - the answer is what was lost


def refused_in_targets(monkeypatch: Any, service: str, operation: str, code: str) -> None:
    """Make every client the runtime makes in a DRS target refuse ``service``'s
    ``operation`` (``*``: every operation) with ``code``, as a role without the permission
    would (a target stack older than the deployment). Refused before any handler answers."""
    from drs_orchestrator.adapters import targets

    made = targets.assumed_client

    def refusing(wanted: str, target: Any, credentials: dict[str, Any]) -> Any:
        client = made(wanted, target, credentials)
        if wanted == service:

            def refuse(model: Any, **_: Any) -> None:
                error = {"Code": code, "Message": "not authorized (simulated)"}
                metadata = {"HTTPStatusCode": 403}
                raise ClientError({"Error": error, "ResponseMetadata": metadata}, model.name)

            client.meta.events.register(f"before-parameter-build.{service}.{operation}", refuse)
        return client

    monkeypatch.setattr(targets, "assumed_client", refusing)
