"""``drsctl failback``'s following: each server's step as it changes, the approval named."""

from __future__ import annotations

from typing import Any

from drsctl.commands.failback import follow
from drsctl.following import ExitCode, exit_code


def reading(status: str, steps: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "executionId": "fb-1",
        "status": status,
        "waves": [
            {"name": "Web", "status": "AWAITING_APPROVAL" if status == "PAUSED" else "PENDING"}
        ],
        "failback": {s: {"step": step, **extra.get(s, {})} for s, step in steps.items()},
    }


def test_each_change_is_said_once_and_a_cut_over_stops_the_following() -> None:
    readings = iter(
        [
            reading("RUNNING", {"s-1": "AWAITING_CLIENT", "s-2": "WAITING"}),
            reading("RUNNING", {"s-1": "AWAITING_CLIENT", "s-2": "WAITING"}),
            reading("RUNNING", {"s-1": "READY", "s-2": "WAITING"}),
            reading("PAUSED", {"s-1": "HOME", "s-2": "READY"}),
        ]
    )
    said: list[str] = []
    last = follow(lambda: next(readings), 60, said.append, pause=lambda _s: None)
    assert last["status"] == "PAUSED"
    assert said == [
        "  s-1: AWAITING_CLIENT",
        "  s-2: WAITING",
        "  s-1: READY",
        "  s-1: HOME",
        "  s-2: READY",
        "waits for the cut-over approval of Web: approve it in the console, or POST "
        "/executions/fb-1/resume",
    ]


def test_a_failure_says_why_and_a_timeout_is_an_error() -> None:
    said: list[str] = []
    failed = reading(
        "FAILED", {"s-1": "FAILED"}, **{"s-1": {"reason": "failback replication failed: X"}}
    )
    assert follow(lambda: failed, 60, said.append, pause=lambda _s: None)["status"] == "FAILED"
    assert said == ["  s-1: FAILED (failback replication failed: X)", "failback fb-1: FAILED"]
    # Past the timeout the reading as it is, said; the command exits 4 (still running).
    running = reading("RUNNING", {"s-1": "REPLICATING"})
    last = follow(lambda: running, 0, said.append, pause=lambda _s: None)
    assert last["status"] == "RUNNING"
    assert said[-1] == "failback fb-1 is still RUNNING after 0 s"
    assert exit_code(last) == ExitCode.STILL_RUNNING == 4
    assert exit_code(failed) == ExitCode.FAILED == 1


def test_each_wave_action_is_said_as_it_moves_and_a_failed_wave_says_why() -> None:
    def with_run(status: str, run: str, wave: str = "LAUNCHED", **more: Any) -> dict[str, Any]:
        item = reading(status, {"s-1": "HOME"})
        item["waves"] = [
            {
                "name": "Db",
                "status": wave,
                "actionRuns": [{"index": 0, "document": "DR-DnsHome", "status": run, **more}],
                **(
                    {"reason": "home, but post-wave action DR-DnsHome ended Failed"}
                    if wave == "FAILED"
                    else {}
                ),
            }
        ]
        return item

    readings = iter(
        [
            with_run("RUNNING", "Pending", "POST_ACTIONS"),
            with_run("RUNNING", "InProgress", "POST_ACTIONS"),
            with_run("RUNNING", "InProgress", "POST_ACTIONS"),
            with_run("FAILED", "Failed", "FAILED", failure="step 1 failed"),
        ]
    )
    said: list[str] = []
    follow(lambda: next(readings), 60, said.append, pause=lambda _s: None)
    assert said == [
        "  s-1: HOME",
        "  wave Db, once home: DR-DnsHome Pending",
        "  wave Db, once home: DR-DnsHome InProgress",
        "  wave Db, once home: DR-DnsHome Failed (step 1 failed)",
        "failback fb-1: FAILED",
        "  wave Db: home, but post-wave action DR-DnsHome ended Failed",
    ]
