"""Recovery time in the pure core: measured from the wave stamps, recorded when an
execution completes, flagged and notified over its objective."""

from __future__ import annotations

from drs_orchestrator.domain.plans import RecoveryPlan, Wave
from drs_orchestrator.domain.recovery_time import OVER_OBJECTIVE, recovery_time, wave_timings

from tests.lambdas.runner_world import World

PLAN = RecoveryPlan("timed", (Wave("A", ("db",)), Wave("B", ("app",), depends_on=("A",))))
GROUPS = {"db": ["s-0000000000000000a"], "app": ["s-0000000000000000b"]}


def drill(objective_minutes: int | None) -> World:
    world = World(PLAN, GROUPS)
    if objective_minutes is not None:
        world.item["recoveryTimeObjectiveMinutes"] = objective_minutes
    world.run_to_end()
    assert world.item["status"] == "COMPLETED"
    return world


def events(world: World) -> list[str]:
    return [entry["event"] for entry in world.item["outbox"].values()]


def test_a_drill_within_its_objective_records_its_time_and_is_not_flagged() -> None:
    world = drill(objective_minutes=60)
    measured = world.item["recoveryTime"]
    # Ticks are 30 s apart in this world: the time is whole ticks from start to B ready.
    assert measured["seconds"] > 0 and measured["seconds"] % 30 == 0
    assert measured == {
        "seconds": measured["seconds"],
        "objectiveSeconds": 3600,
        "overObjective": False,
    }
    assert OVER_OBJECTIVE not in events(world)
    completed = next(e for e in world.item["outbox"].values() if e["event"] == "completed")
    assert completed["details"]["recoveryTime"] == measured


def test_a_drill_over_its_objective_is_flagged_and_notified() -> None:
    world = drill(objective_minutes=1)
    measured = world.item["recoveryTime"]
    assert measured["seconds"] > 60
    assert measured["overObjective"] is True
    assert OVER_OBJECTIVE in events(world)


def test_without_an_objective_only_the_time_is_recorded() -> None:
    world = drill(objective_minutes=None)
    assert set(world.item["recoveryTime"]) == {"seconds"}
    assert OVER_OBJECTIVE not in events(world)


def test_the_recovery_time_ends_at_the_last_wave_ready() -> None:
    item = {"startedAt": "2026-11-30T10:00:00.000000Z", "recoveryTimeObjectiveMinutes": 10}
    waves = [
        {"name": "A", "endedAt": "2026-11-30T10:04:00.000000Z"},
        {"name": "B", "endedAt": "2026-11-30T10:12:30.500000Z"},
    ]
    assert recovery_time(item, waves, "2026-11-30T10:13:00.000000Z") == {
        "seconds": 750.5,
        "objectiveSeconds": 600,
        "overObjective": True,
    }


def test_wave_timings_follow_the_stamps_and_leave_out_what_has_not_happened() -> None:
    item = {
        "startedAt": "2026-11-30T10:00:00.000000Z",
        "waves": [
            {
                "name": "A",
                "status": "COMPLETED",
                "startedAt": "2026-11-30T10:00:01.000000Z",
                "launchedAt": "2026-11-30T10:05:01.000000Z",
                "endedAt": "2026-11-30T10:06:00.000000Z",
            },
            {
                "name": "B",
                "status": "LAUNCHING",
                "pausedAt": "2026-11-30T10:06:00.000000Z",
                "approvedAt": "2026-11-30T10:08:00.000000Z",
                "startedAt": "2026-11-30T10:08:02.000000Z",
            },
            {"name": "C", "status": "PENDING"},
        ],
    }
    assert wave_timings(item) == [
        {"wave": "A", "startedAfter": 1.0, "launch": 300.0, "readyAfter": 360.0},
        {"wave": "B", "startedAfter": 482.0, "awaitingApproval": 120.0},
        {"wave": "C"},
    ]
