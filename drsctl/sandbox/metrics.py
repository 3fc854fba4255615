"""The metrics the sandbox's functions would send CloudWatch: read back from their logs.

The functions print each metric as an embedded-metric-format document (one JSON line with
an ``_aws`` member, ``drs_orchestrator.adapters.telemetry``); in AWS, CloudWatch Logs turns
those into metrics. Here the function logs are read (only what was added since the last
read) and summed per metric and dimensions, so ``/sandbox/state`` shows what the
deployment's alarms and dashboard would see.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

#: Dimensions every metric carries; the rest tell one series from another.
_COMMON = frozenset({"deployment"})


def emf_metrics(line: str) -> list[tuple[str, dict[str, str], float]]:
    """The (metric, dimensions, value) an EMF log line holds, or [] for any other line."""
    try:
        document = json.loads(line)
    except ValueError:
        return []
    if not isinstance(document, dict) or "_aws" not in document:
        return []
    found = []
    for definition in document["_aws"].get("CloudWatchMetrics") or []:
        names = {d for group in definition.get("Dimensions") or [] for d in group}
        dimensions = {n: str(document.get(n, "")) for n in sorted(names)}
        for metric in definition.get("Metrics") or []:
            raw = document.get(metric.get("Name"))
            values = raw if isinstance(raw, list) else [raw]
            found += [
                (str(metric["Name"]), dimensions, float(v))
                for v in values
                if isinstance(v, int | float)
            ]
    return found


class EmittedMetrics:
    """Sums, counts and maxima of every metric in the logs of a deployment's functions."""

    def __init__(self, logs: list[Path]) -> None:
        self._logs = logs
        self._offsets: dict[Path, int] = {}
        self._series: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, float]] = {}
        self._lock = threading.Lock()

    def _read(self) -> None:
        for path in self._logs:
            if not path.exists():
                continue
            with path.open(encoding="utf-8", errors="replace") as log:
                log.seek(self._offsets.get(path, 0))
                while True:
                    line = log.readline()
                    if not line.endswith("\n"):
                        break  # written only partly yet: read again next time
                    self._offsets[path] = log.tell()
                    for name, dimensions, value in emf_metrics(line):
                        self._add(name, dimensions, value)

    def _add(self, name: str, dimensions: dict[str, str], value: float) -> None:
        key = (name, tuple(sorted((k, v) for k, v in dimensions.items() if k not in _COMMON)))
        series = self._series.setdefault(key, {"sum": 0.0, "count": 0, "max": value})
        series["sum"] += value
        series["count"] += 1
        series["max"] = max(series["max"], value)

    def snapshot(self) -> list[dict[str, Any]]:
        """Every series so far: its metric, dimensions (the deployment's left out), sum,
        number of values and the largest."""
        with self._lock:
            self._read()
            return [
                {"metric": name, "dimensions": dict(dimensions), **values}
                for (name, dimensions), values in sorted(self._series.items())
            ]
