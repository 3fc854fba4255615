"""Metrics out of the functions, in CloudWatch's embedded metric format (EMF).

Each metric is printed by Powertools as one EMF document on the function's log; CloudWatch
Logs turns it into a metric in ``domain.metrics.NAMESPACE`` with the dimensions
``deployment`` and ``service`` (plus the metric's own). Nothing is called to emit them: a
metric costs no AWS call and cannot fail the work it describes.

Every client the adapters make is counted (``instrument``): its calls, and each attempt
S3/DRS/DynamoDB/... answered as throttled (botocore retries those; its ``needs-retry``
event sees every attempt), so a handler emits per invocation how many calls it made and
how often AWS pushed back.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from drs_orchestrator.domain.metrics import NAMESPACE, Metric, aws_calls

if TYPE_CHECKING:
    from collections.abc import Iterable

#: Error codes AWS services use for "slow down".
THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
    }
)
_UNITS = {"Count": MetricUnit.Count, "Seconds": MetricUnit.Seconds}
_counts: Counter[tuple[str, str]] = Counter()
_lock = threading.Lock()


def _count(service: str, what: str) -> None:
    with _lock:
        _counts[service, what] += 1


def instrument(client: Any) -> Any:
    """Count ``client``'s calls and throttled answers; returns the client."""
    service = client.meta.service_model.service_name

    def called(**_: Any) -> None:
        _count(service, "calls")

    def answered(response: Any = None, **_: Any) -> None:
        if response and isinstance(response, tuple) and len(response) == 2:  # noqa: PLR2004
            code = ((response[1] or {}).get("Error") or {}).get("Code")
            status = getattr(response[0], "status_code", 0)
            if code in THROTTLE_CODES or status == 429:  # noqa: PLR2004
                _count(service, "throttled")

    client.meta.events.register(f"before-call.{service}", called)
    client.meta.events.register(f"needs-retry.{service}", answered)
    return client


def drain() -> dict[str, dict[str, int]]:
    """The counts since the last drain, per service, and start again."""
    with _lock:
        counted = dict(_counts)
        _counts.clear()
    by_service: dict[str, dict[str, int]] = {}
    for (service, what), n in counted.items():
        by_service.setdefault(service, {})[what] = n
    return by_service


class Telemetry:
    """Emits metrics for one function of one deployment."""

    def __init__(self, deployment: str, service: str) -> None:
        self._dimensions = {"deployment": deployment, "service": service}

    def emit(self, metrics: Iterable[Metric]) -> None:
        for metric in metrics:
            with single_metric(
                name=metric.name,
                unit=_UNITS[metric.unit],
                value=metric.value,
                namespace=NAMESPACE,
                default_dimensions=self._dimensions,
            ) as emitted:
                for name, value in metric.dimensions:
                    emitted.add_dimension(name=name, value=value)

    def emit_calls(self) -> None:
        """The calls and throttled answers counted since the last time."""
        self.emit(aws_calls(drain()))
