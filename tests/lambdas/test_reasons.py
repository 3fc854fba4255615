"""Reasons as an execution stores them (``domain/reasons.py``): counted, the first few named,
grouped by why, bounded, and worded the same for the same set of servers."""

from __future__ import annotations

from datetime import UTC, datetime

from drs_orchestrator.domain import reasons
from drs_orchestrator.domain import runner as core

SERVERS = [f"s-{n:017d}" for n in range(8)]
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_bounded_keeps_a_short_text_whole_and_says_how_much_it_left_out() -> None:
    assert reasons.bounded("x" * 400) == "x" * 400
    assert reasons.bounded("x" * 401) == "x" * 400 + "… (1 more characters)"
    assert reasons.bounded("abcdef", 2) == "ab… (4 more characters)"


def test_named_counts_and_names_the_first_few_in_order() -> None:
    assert reasons.named(["s-2", "s-1"], "server") == "2 servers: s-1, s-2"
    assert reasons.named(["s-1"], "DRS job") == "1 DRS job: s-1"
    assert reasons.named(SERVERS, "server") == (f"8 servers: {', '.join(SERVERS[:5])} and 3 more")


def test_servers_are_grouped_by_why_most_first_the_rest_counted() -> None:
    why = {
        SERVERS[0]: "a",
        SERVERS[1]: "b",
        SERVERS[2]: "b",
        SERVERS[3]: "c",
        SERVERS[4]: "d",
        SERVERS[5]: "e",
    }
    assert reasons.servers_not_launched(why) == (
        "servers did not launch: 6 servers — "
        f"2 servers: {SERVERS[1]}, {SERVERS[2]} (b); 1 server: {SERVERS[0]} (a); "
        f"1 server: {SERVERS[3]} (c); 2 more for 2 other reasons"
    )


def test_one_reason_is_not_totalled_twice() -> None:
    why = dict.fromkeys(SERVERS[:2], "FAILED")
    assert reasons.servers_not_home(why) == (
        f"did not fail back: 2 servers: {SERVERS[0]}, {SERVERS[1]} (FAILED)"
    )


def test_a_reason_with_the_servers_not_launched_stays_within_its_bound() -> None:
    assert reasons.with_servers_not_launched("boom", []) == "boom"
    counted = reasons.with_servers_not_launched("x" * 5000, SERVERS)
    assert counted.endswith(f"; not launched: 8 servers: {', '.join(SERVERS[:5])} and 3 more")
    assert len(counted) <= reasons.REASON_CHARS + len(" (… more characters)") + 5
    assert counted.startswith("x" * 100)


def test_an_ended_execution_ticked_again_frees_its_own_servers_and_changes_nothing() -> None:
    """``terminal-is-final``, and ``servers-held-atomically``: a tick after the end (the
    machine's last, a janitor's) releases this execution's holds, and routes by how it
    ended."""
    for status, route in (("FAILED", "FAIL"), ("COMPLETED", "SUCCEED"), ("CANCELLED", "SUCCEED")):
        item = {"executionId": "ex-9", "status": status, "waves": [], "version": 3}
        decision = core.decide(item, core.Observations(), NOW)
        assert decision.changes == {} and decision.new_jobs == {}
        assert decision.notifications == {}
        assert decision.commands == [core.ReleaseHolds("ex-9")]
        assert decision.route.value == route
