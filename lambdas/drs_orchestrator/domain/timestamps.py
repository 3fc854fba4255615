"""Parsing of the timestamps DRS sends.

DRS returns ISO-8601 strings in several forms: ``2024-01-01T00:00:00Z``,
``2024-01-01T00:00:00.000Z`` and ``2022-12-07T19:15:39.204086+00:00`` (microseconds and an
offset), so everything is normalised to one UTC form before it is stored or compared.
"""

from __future__ import annotations

from datetime import UTC, datetime


def parse_drs_timestamp(value: str) -> datetime:
    """Parse any ISO-8601 form DRS sends into an aware UTC datetime.

    A value without an offset is taken as UTC, which is what DRS means by it.
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def to_iso(moment: datetime) -> str:
    """The one stored form: UTC with microseconds and a ``Z`` (sorts lexically by time)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalise(value: str) -> str:
    """``value`` in the stored form."""
    return to_iso(parse_drs_timestamp(value))
