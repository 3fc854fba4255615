"""Traces keep what behaviour is made of and drop what timing changes; the diff names every
difference and the first event where two runs part."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from drsctl.drill.diff import compare, render
from drsctl.drill.trace import Observation, build_trace, collapse_loops, ordered_pairs


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        (
            ["Start", "Wait", "Tick", "Wait", "Tick", "Wait", "Tick", "Done"],
            ["Start", "Wait", "Tick", "Done"],
        ),
        (
            ["Start", "Route", "Wait", "Tick", "Route", "Wait", "Tick", "Route", "Done"],
            ["Start", "Route", "Wait", "Tick", "Route", "Done"],
        ),
        (["A", "A", "A"], ["A"]),
        (["A", "B", "C"], ["A", "B", "C"]),
    ],
)
def test_loops_are_kept_once(states: list[str], expected: list[str]) -> None:
    assert collapse_loops(states) == expected


def item() -> dict[str, Any]:
    return {
        "executionId": "ex-1",
        "status": "COMPLETED",
        "startedAt": "2026-11-25T10:00:00Z",
        "updatedAt": "2026-11-25T10:00:20Z",
        "endedAt": "2026-11-25T10:00:20Z",
        "schedulePolls": 4,
        "waves": [
            {
                "name": "DB",
                "status": "COMPLETED",
                "servers": ["s-1"],
                "jobIds": ["j1"],
                "startedAt": "2026-11-25T10:00:01Z",
                "launchedAt": "2026-11-25T10:00:08Z",
                "endedAt": "2026-11-25T10:00:08Z",
            },
            {
                "name": "App",
                "dependsOn": ["DB"],
                "status": "COMPLETED",
                "servers": ["s-2"],
                "jobIds": ["j2"],
                "startedAt": "2026-11-25T10:00:08Z",
                "launchedAt": "2026-11-25T10:00:15Z",
                "endedAt": "2026-11-25T10:00:15Z",
            },
        ],
        "jobs": {
            "j1": {"jobId": "j1", "waveName": "DB", "status": "COMPLETED"},
            "j2": {"jobId": "j2", "waveName": "App", "status": "COMPLETED"},
        },
        "servers": {
            "s-1": {"launchStatus": "LAUNCHED"},
            "s-2": {"launchStatus": "LAUNCHED"},
        },
    }


def events(failed: str | None = None) -> list[dict[str, Any]]:
    out = []
    for n, (job, server, t) in enumerate((("j1", "s-1", 2), ("j2", "s-2", 9))):
        last = "LAUNCH_FAILED" if server == failed else "LAUNCH_END"
        for k, kind in enumerate(("JOB_START", "LAUNCH_START", last, "JOB_END")):
            event = {
                "eventKey": f"{n}{k}",
                "jobId": job,
                "event": kind,
                "logDateTime": f"2026-11-25T10:00:{t + k:02d}Z",
            }
            if kind.startswith("LAUNCH"):
                event["sourceServerId"] = server
            out.append(event)
    return out


def trace(
    name: str, execution: dict[str, Any], log: list[dict[str, Any]], polled_by: str = "schedule"
):
    observation = Observation(execution, log, [(1.5, polled_by)])
    return build_trace(name, observation, ["Start", "Wait", "Tick", "Wait", "Tick", "Done"])


def test_identical_runs_with_other_ids_and_times_are_the_same_behaviour() -> None:
    other = copy.deepcopy(item())
    other["executionId"] = "ex-2"
    other["schedulePolls"] = 9  # more polls: timing, not behaviour
    comparison = compare(trace("dev", item(), events()), trace("archive-test", other, events()))
    assert comparison.same and comparison.divergence is None
    assert "verdict: SAME BEHAVIOUR" in render(comparison)


def test_a_wave_started_early_is_the_first_divergence() -> None:
    early = copy.deepcopy(item())
    early["waves"][1]["startedAt"] = "2026-11-25T10:00:01Z"  # did not wait for DB
    comparison = compare(trace("dev", item(), events()), trace("archive-test", early, events()))
    assert not comparison.same
    aspects = {d.aspect for d in comparison.differences}
    assert {"wave start order", "overlapping waves"} <= aspects
    divergence = comparison.divergence
    assert divergence is not None and divergence.seconds == 1.0
    assert divergence.first == "wave 'DB' started (+1.0 s)"
    assert divergence.second == "wave 'App' started (+1.0 s)"


def test_waves_the_plan_leaves_unordered_may_overlap_or_not_by_timing() -> None:
    """An independent wave beside App: in one run it ends before App starts, in the other
    it is still launching. Timing, not behaviour: the same verdict. App overlapping DB,
    which it depends on, is a difference (the test above)."""

    def with_batch(launched: str) -> dict[str, Any]:
        run = copy.deepcopy(item())
        run["waves"].append(
            {
                "name": "Batch",
                "status": "COMPLETED",
                "servers": [],
                "jobIds": [],
                "startedAt": "2026-11-25T10:00:01Z",
                "launchedAt": launched,
                "endedAt": launched,
            }
        )
        return run

    quick, slow = with_batch("2026-11-25T10:00:05Z"), with_batch("2026-11-25T10:00:12Z")
    first, second = trace("dev", quick, events()), trace("archive-test", slow, events())
    assert first.overlaps == [["Batch", "DB"]]
    assert second.overlaps == [["App", "Batch"], ["Batch", "DB"]]
    assert first.overlaps_out_of_order == second.overlaps_out_of_order == []
    comparison = compare(first, second)
    assert comparison.same, comparison.differences


def test_the_plans_order_is_followed_through_waves_in_between() -> None:
    waves = [
        {"name": "A"},
        {"name": "B", "dependsOn": ["A"]},
        {"name": "C", "dependsOn": ["B"]},
        {"name": "D"},
    ]
    assert ordered_pairs(waves) == {
        frozenset(("A", "B")),
        frozenset(("B", "C")),
        frozenset(("A", "C")),
    }


def test_a_failed_server_in_one_run_is_reported_on_that_server() -> None:
    failed = copy.deepcopy(item())
    failed["status"] = "FAILED"
    failed["waves"][1]["status"] = "FAILED"
    failed["servers"]["s-2"]["launchStatus"] = "FAILED"
    comparison = compare(
        trace("dev", item(), events()), trace("archive-test", failed, events("s-2"))
    )
    by_aspect = {(d.aspect, d.subject): (d.first, d.second) for d in comparison.differences}
    assert by_aspect[("server launch status", "s-2")] == ("LAUNCHED", "FAILED")
    assert by_aspect[("DRS job event types", "s-2")] == (
        ["LAUNCH_START", "LAUNCH_END"],
        ["LAUNCH_START", "LAUNCH_FAILED"],
    )
    report = render(comparison)
    assert "- server launch status s-2: dev LAUNCHED | archive-test FAILED" in report


def test_progress_kept_by_another_path_is_a_difference() -> None:
    fallback = copy.deepcopy(item())
    fallback.pop("schedulePolls")
    fallback["waveRunnerPolls"] = 3
    comparison = compare(
        trace("dev", item(), events()), trace("archive-test", fallback, events(), "wave-runner")
    )
    [difference] = comparison.differences
    assert difference.aspect == "progress recorded by the scheduled finder"
    assert (difference.first, difference.second) == ("yes", "no (only the wave runner's fallback)")
    assert comparison.divergence is not None
    assert comparison.divergence.first == "progress first recorded by the schedule (+1.5 s)"
    assert comparison.divergence.second == (
        "the scheduled finder never recorded progress; "
        "progress first recorded by the wave-runner (+1.5 s)"
    )


def test_the_wave_runners_fallback_stepping_in_as_well_is_timing_not_behaviour() -> None:
    both = copy.deepcopy(item())
    both["waveRunnerPolls"] = 2
    observation = Observation(both, events(), [(1.5, "schedule"), (4.0, "wave-runner")])
    second = build_trace("archive-test", observation, ["Start", "Wait", "Tick", "Done"])
    assert compare(trace("dev", item(), events()), second).same
