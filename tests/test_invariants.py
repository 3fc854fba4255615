"""The invariant checker (``drsctl/invariants.py``) reports a record that breaks a rule.

Each test builds the smallest execution record that breaks one rule and shows the checker
names it, beside the same record kept whole, which it passes."""

from __future__ import annotations

import copy
from typing import Any

from drsctl.invariants import violations

SERVERS = [f"s-{n:017d}" for n in range(7)]


def failed_wave_record() -> dict[str, Any]:
    """A wave of seven servers: two launched, five in a batch DRS refused for good."""
    return {
        "executionId": "ex-1",
        "status": "FAILED",
        "waves": [
            {
                "name": "W",
                "status": "FAILED",
                "servers": SERVERS,
                "reason": (
                    "servers did not launch: 5 servers: s-00000000000000002, "
                    "s-00000000000000003, s-00000000000000004, s-00000000000000005, "
                    "s-00000000000000006 (not launched: AccessDeniedException: denied)"
                ),
            }
        ],
        "batches": {
            "b1": {"wave": "W", "status": "STARTED", "servers": SERVERS[:2], "jobId": "j1"},
            "b2": {
                "wave": "W",
                "status": "REFUSED",
                "servers": SERVERS[2:],
                "reason": "AccessDeniedException: denied",
            },
        },
        "jobs": {"j1": {"status": "COMPLETED"}},
        "servers": {s: {"launchStatus": "LAUNCHED"} for s in SERVERS[:2]},
    }


def test_a_failed_wave_that_accounts_for_every_server_is_kept() -> None:
    assert violations(failed_wave_record(), []) == []


def test_a_failed_wave_the_record_says_nothing_of_a_server_of_is_reported() -> None:
    record = copy.deepcopy(failed_wave_record())
    record["batches"]["b2"]["servers"] = SERVERS[2:6]  # the last server: in no batch
    found = violations(record, [])
    assert f"no-partial-wave: wave W fails without accounting for ['{SERVERS[6]}']" in found


def test_a_server_known_failed_by_drs_is_accounted_for() -> None:
    record = copy.deepcopy(failed_wave_record())
    record["batches"]["b2"]["servers"] = SERVERS[2:6]
    record["servers"][SERVERS[6]] = {"launchStatus": "FAILED"}
    assert violations(record, []) == []


def test_a_failed_wave_that_miscounts_its_servers_is_reported() -> None:
    record = copy.deepcopy(failed_wave_record())
    record["waves"][0]["reason"] = record["waves"][0]["reason"].replace("5 servers", "4 servers")
    found = violations(record, [])
    assert "no-partial-wave: wave W fails without counting its 5 servers not launched" in found
