"""When a termination of a drill's instances keeps the execution watched
(``services/executions.py``'s ``termination_in_flight``, issue 32)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from drs_orchestrator.domain.timestamps import to_iso
from drs_orchestrator.services.executions import termination_in_flight

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def asked(status: str, minutes_ago: int) -> dict:
    stamp = to_iso(NOW - timedelta(minutes=minutes_ago))
    return {"terminations": [{"status": status, "requestedAt": stamp}]}


def test_a_termination_written_down_is_in_flight_until_the_api_could_have_recorded_it() -> None:
    assert termination_in_flight(asked("REQUESTED", 4), NOW)


def test_one_requested_over_five_minutes_ago_died_before_drs_was_asked() -> None:
    assert not termination_in_flight(asked("REQUESTED", 6), NOW)


def test_a_recorded_or_failed_termination_is_not_in_flight() -> None:
    assert not termination_in_flight(asked("STARTED", 0), NOW)
    assert not termination_in_flight(asked("FAILED", 0), NOW)
    assert not termination_in_flight({}, NOW)
