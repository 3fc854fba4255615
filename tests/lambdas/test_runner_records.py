"""What the core writes on an execution, field by field, where other parts read it.

Mutation testing of ``domain/runner.py`` (``benchmarks/mutation.py``) found these records
changed without a unit test noticing: the tracked job the finder, the report and the
console read (its type, wave, batch, target, a job found ended still followed),
``Finalise``'s end of a live execution (CANCELLED when a cancel was under way, its open
batches cancelled, the times), and the intent a batch carries before ``StartRecovery``
(its time, from which a lost launch is looked for by tag, and its attempts). The e2e
tests read them too, end to end; these hold each field where it is written.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from drs_orchestrator.domain import runner as core
from drs_orchestrator.domain.plans import RecoveryPlan, Wave

from tests.lambdas.runner_world import START, World

SERVERS = [f"s-a{n:016d}" for n in range(3)]
STAMP = "2026-11-01T12:05:00.000000Z"


def one_wave() -> World:
    return World(RecoveryPlan("one", (Wave("A", ("app",)),)), {"app": SERVERS})


def intended(world: World) -> tuple[str, dict[str, Any]]:
    """The first tick, its StartRecovery lost: the wave's batch stays INTENDED."""
    world.tick("lost")
    [(batch_id, batch)] = world.item["batches"].items()
    return batch_id, batch


def test_a_batch_carries_its_intent_time_and_attempts_before_start_recovery() -> None:
    """The intent's time is where a lost launch is looked for by tag from (the shell and
    the janitor ask DRS for jobs since then, less 5 minutes); each try counts."""
    world = one_wave()
    batch_id, batch = intended(world)
    assert batch["status"] == "INTENDED"
    assert batch["intendedAt"] == world._stamp(), "the tick's time"
    assert batch["attempts"] == 1
    assert batch["servers"] == SERVERS and batch["wave"] == "A"
    assert batch_id == core.batch_id("ex-world", "A", 0)


def test_a_started_batch_tracks_its_job_as_the_finder_and_the_report_read_it() -> None:
    world = one_wave()
    batch_id, _ = intended(world)
    job = {"jobID": "drsjob-1", "status": "PENDING", "type": "LAUNCH"}
    changes, new_jobs = core.record_started(world.item, batch_id, job, STAMP)
    assert new_jobs == {
        "drsjob-1": {
            "jobId": "drsjob-1",
            "waveName": "A",
            "batchId": batch_id,
            "status": "PENDING",
            "type": "LAUNCH",
            "servers": SERVERS,
            "createdAt": STAMP,
        }
    }
    batch = changes["batches"][batch_id]
    assert (batch["status"], batch["jobId"], batch["startedAt"]) == ("STARTED", "drsjob-1", STAMP)
    assert changes["waves"][0]["jobIds"] == ["drsjob-1"]


def test_a_job_found_ended_is_still_followed_and_keeps_its_target() -> None:
    """A job found by its tag after it ended is tracked as running, so the finder records
    what it launched before the wave is judged; a target's job says which target."""
    world = one_wave()
    batch_id, _ = intended(world)
    world.item["batches"][batch_id]["target"] = "111122223333/us-west-2"
    job = {"jobID": "drsjob-2", "status": "COMPLETED"}
    changes, new_jobs = core.record_started(world.item, batch_id, job, STAMP)
    assert new_jobs["drsjob-2"]["status"] == "STARTED"
    assert new_jobs["drsjob-2"]["type"] == "LAUNCH"
    assert new_jobs["drsjob-2"]["target"] == "111122223333/us-west-2"
    assert "lastError" not in changes["batches"][batch_id]


def test_a_job_recorded_twice_is_recorded_once() -> None:
    world = one_wave()
    batch_id, _ = intended(world)
    job = {"jobID": "drsjob-1", "status": "PENDING"}
    changes, new_jobs = core.record_started(world.item, batch_id, job, STAMP)
    world.item.update(changes)
    world.item["jobs"].update(new_jobs)
    again, more = core.record_started(world.item, batch_id, job, STAMP)
    assert more == {}
    assert again["waves"][0]["jobIds"] == ["drsjob-1"]
    world.item["batches"][batch_id]["status"] = "INTENDED"  # found again after a lost save
    again, more = core.record_started(world.item, batch_id, job, STAMP)
    assert more == {}, "a job the execution tracks already is not tracked again"
    assert again["waves"][0]["jobIds"] == ["drsjob-1"]


def test_finalise_ends_a_cancel_under_way_cancelled_and_cancels_its_open_batches() -> None:
    """A batch waiting for DRS's quota is cancelled; one INTENDED stays in doubt, for the
    janitor to look for its job by tag."""
    world = one_wave()
    world.tick("quota")
    [(batch_id, batch)] = world.item["batches"].items()
    assert batch["status"] == "DEFERRED"
    world.item["status"] = "CANCELLING"
    now = START + timedelta(minutes=5)
    changes, notifications = core.finalise(world.item, "the state machine failed", now)
    assert changes["status"] == "CANCELLED"
    assert [m["event"] for m in notifications.values()] == ["cancelled"]
    assert changes["batches"][batch_id]["status"] == "CANCELLED"
    assert changes["endedAt"] == changes["updatedAt"] == STAMP
    [wave] = changes["waves"]
    assert (wave["status"], wave["endedAt"]) == ("FAILED", STAMP)


def test_finalise_counts_only_the_servers_not_launched_and_bounds_the_reason() -> None:
    world = one_wave()
    batch_id, _ = intended(world)
    world.item["servers"] = {SERVERS[0]: {"launchStatus": "LAUNCHED"}}
    changes, _ = core.finalise(world.item, "x" * 5000, START)
    assert changes["batches"][batch_id]["status"] == "INTENDED", "in doubt: looked for later"
    [wave] = changes["waves"]
    assert wave["reason"].endswith(f"; not launched: 2 servers: {SERVERS[1]}, {SERVERS[2]}")
    assert len(changes["reason"]) <= core.REASON_CHARS + 40
    assert "more characters" in changes["reason"]
    assert changes["status"] == "FAILED"
    assert core.finalise({**world.item, "status": "FAILED"}, "again", START) == ({}, {})
