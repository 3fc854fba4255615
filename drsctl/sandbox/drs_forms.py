"""What the DRS simulator answers with, beside its state: the service's errors, made-up
resource ids, and DRS's two timestamp forms. Shared by the simulator's parts
(``drs.py``, ``inventory.py``, ``failback.py``)."""

from __future__ import annotations

import functools
import random
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class DrsError(Exception):
    """An error the service answers with: its code, HTTP status and message."""

    code: str
    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)


def random_id(prefix: str, length: int = 17, alphabet: str = string.hexdigits[:16]) -> str:
    """A made-up resource id (not a secret): ``length`` characters of ``alphabet``, drawn
    as random bytes mapped onto it (a simulator seeds thousands of snapshots; drawing each
    character with ``random.choices`` was most of that)."""
    drawn = random.randbytes(length)  # noqa: S311  # nosec B311
    return prefix + drawn.translate(_byte_map(alphabet)).decode()


@functools.cache
def _byte_map(alphabet: str) -> bytes:
    """Each byte value to a character of ``alphabet`` (its value modulo the size)."""
    return bytes(ord(alphabet[value % len(alphabet)]) for value in range(256))


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


#: Hours of hourly point-in-time snapshots a source server comes with.
SNAPSHOT_HOURS = 24


def zulu(moment: datetime) -> str:
    """The form of DRS's ``ISO8601DatetimeString`` (snapshots, their filters): Z, no offset,
    microseconds (``%Y-%m-%dT%H:%M:%S.%fZ``, written by ``isoformat``: a fifth the cost)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def iso(moment: datetime) -> str:
    """The live service's form: microseconds and a +00:00 offset."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def page(items: list[Any], params: dict[str, Any], default_size: int) -> dict[str, Any]:
    """One page of ``items`` as DRS's list operations answer (``maxResults``, ``nextToken``)."""
    start = int(params.get("nextToken") or 0)
    size = params.get("maxResults", default_size)
    answer: dict[str, Any] = {"items": items[start : start + size]}
    if start + size < len(items):
        answer["nextToken"] = str(start + size)
    return answer
