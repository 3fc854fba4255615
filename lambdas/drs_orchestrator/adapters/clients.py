"""boto3 clients with the retry behaviour every adapter relies on, one per service.

Throttling is retried by botocore's ``standard`` mode: exponential backoff with jitter on
ThrottlingException, 429 and 5xx, up to ``MAX_ATTEMPTS``. Adapters only see the error when
the retries are spent, and map it by code.

A handler's stores each ask for a client (the API's catalog alone has seven DynamoDB
stores); they share one per service, region and configuration. Making a client is most of
a store's cost (botocore copies its session's event handlers, builds the endpoint rules and
the retry handlers: milliseconds each, on every cold start), and botocore's clients are
thread-safe. Clients are kept per boto3 session: the default session lives as long as the
execution environment, so a warm environment makes none; a new default session (moto starts
one per mock) starts a new set.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

#: Attempts per call, the first included.
MAX_ATTEMPTS = 8

RETRY_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=5,
    read_timeout=30,
)


#: The clients made, per boto3 session: (service, region, endpoints, configuration) -> client.
_made: weakref.WeakKeyDictionary[Any, dict[tuple[str, str | None, str, str], Any]] = (
    weakref.WeakKeyDictionary()
)
_making = threading.Lock()


def client(service: str, config: Config | None = None, region_name: str | None = None) -> Any:
    """The boto3 client for ``service`` (in ``region_name``, else the session's region) with
    the shared retry configuration (and ``config`` on top of it), made on first use."""
    from drs_orchestrator.adapters.telemetry import instrument

    with _making:
        session = _default_session()
        region = region_name or session.region_name
        merged = RETRY_CONFIG.merge(config) if config else RETRY_CONFIG
        key = (service, region, _endpoints_named(), _options(merged))
        made = _made.setdefault(session, {})
        if key not in made:
            made[key] = instrument(session.client(service, region_name=region, config=merged))
        return made[key]


def _default_session() -> boto3.Session:
    """boto3's default session (what ``boto3.client`` uses), made if there is none yet."""
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    return boto3.DEFAULT_SESSION  # type: ignore[return-value]


def _endpoints_named() -> str:
    """The endpoints the environment names (``AWS_ENDPOINT_URL`` and its per-service forms,
    read by botocore when it makes a client: the sandbox sets them)."""
    return repr(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_ENDPOINT_URL")))


def _options(config: Config) -> str:
    """What a configuration sets, as a key: two equal configurations give one client."""
    return repr(sorted(vars(config).items()))


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ClientError; for anything else (a time-out, a
    dropped connection: an answer lost) the exception's class name."""
    response = getattr(exc, "response", None)
    if not response:
        return type(exc).__name__
    return str(response.get("Error", {}).get("Code", "Unknown"))


def pages(
    client: Any,
    operation: str,
    mapped: Callable[[str, Exception], Exception],
    **params: Any,
) -> Iterator[dict[str, Any]]:
    """Every page of a listing call, through botocore's paginator (it follows the
    service's next token); a failure on any page is raised as ``mapped(operation, error)``."""
    found = iter(client.get_paginator(operation).paginate(**params))
    while True:
        try:
            page = next(found)
        except StopIteration:
            return
        except (ClientError, BotoCoreError) as exc:
            raise mapped(operation, exc) from exc
        yield page
