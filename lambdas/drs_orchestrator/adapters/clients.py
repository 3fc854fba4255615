"""boto3 clients with the retry behaviour every adapter relies on.

Throttling is retried by botocore's ``standard`` mode: exponential backoff with jitter on
ThrottlingException, 429 and 5xx, up to ``MAX_ATTEMPTS``. Adapters only see the error when
the retries are spent, and map it by code.
"""

from __future__ import annotations

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


def client(service: str, config: Config | None = None, **kwargs: Any) -> Any:
    """A boto3 client for ``service`` with the shared retry configuration (and ``config``
    on top of it)."""
    from drs_orchestrator.adapters.telemetry import instrument

    merged = RETRY_CONFIG.merge(config) if config else RETRY_CONFIG
    return instrument(boto3.client(service, config=merged, **kwargs))


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
