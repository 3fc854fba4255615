"""The core's limits drawn exactly and its reasons counted exactly: waits that expire only
past their time, every batch of a wave judged, every server of a failed wave named, a wave
launched before batches existed adopted, a quiet tick, and reasons bounded.

Found, like test_runner_edges.py, by mutation testing of ``domain/runner.py`` and
``domain/reasons.py`` (``benchmarks/mutation.py core``): a limit reached one second early,
a loop that stopped at its first skipped element, a count one off.
"""

from __future__ import annotations

from datetime import timedelta

from drs_orchestrator.domain import runner as core
from drs_orchestrator.domain.plans import RecoveryPlan, Wave
from drs_orchestrator.domain.reasons import REASON_CHARS, by_reason, named
from drs_orchestrator.domain.reasons import with_servers_not_launched as with_unlaunched
from drs_orchestrator.domain.timestamps import to_iso

from tests.lambdas.runner_world import (
    GROUPS,
    START,
    World,
    apply,
    by_name,
    decide,
    servers,
    stamp,
)

#: A refusal as long as an SCP's deny words it.
DENIED = "AccessDeniedException: " + "explicit deny in a service control policy " * 8


# -- the limits it draws exactly -----------------------------------------------------------


def test_an_approval_expires_only_past_its_timeout_and_an_approved_wave_never_does() -> None:
    plan = RecoveryPlan(
        "gated",
        (Wave("A", ("app",), pause_before=True), Wave("B", ("web",), pause_before=True)),
    )
    world = World(plan, GROUPS)
    apply(world, decide(world))
    limits = core.Limits(approval_timeout=timedelta(minutes=10))
    assert core.approval_seconds_left(world.item, world.now, limits) == 601
    by_name(world.item)["A"]["approved"] = True  # approved, not yet started by a tick
    at_limit = decide(world, seconds=600, limits=limits)
    assert [w["status"] for w in at_limit.changes["waves"]] == ["LAUNCHING", "AWAITING_APPROVAL"]
    assert core.approval_seconds_left(world.item, world.now, limits) == 1
    by_name(world.item)["A"]["status"] = "AWAITING_APPROVAL"  # as the shell still holds it
    over = decide(world, seconds=1, limits=limits)
    waves = by_name(over.changes)
    assert waves["A"]["status"] != "FAILED", "an approved wave does not expire"
    assert waves["B"]["status"] == "FAILED"
    assert waves["B"]["reason"].startswith(
        "approval timed out: nobody approved it within 10 minutes"
    )
    assert core.approval_seconds_left(world.item, world.now + timedelta(days=1), limits) == 1
    assert core.approval_seconds_left({"waves": []}, world.now, limits) == 600


def test_the_approval_wait_counts_from_the_oldest_wave_still_unapproved() -> None:
    """Waves paused before (approved since, or running) do not count."""
    limits = core.Limits(approval_timeout=timedelta(minutes=10))
    old, new = to_iso(START), to_iso(START + timedelta(minutes=4))
    item = {
        "waves": [
            {"status": "COMPLETED", "pausedAt": old, "approved": True},
            {"status": "LAUNCHING", "pausedAt": old},
            {"status": "AWAITING_APPROVAL", "pausedAt": old, "approved": True},
            {"status": "AWAITING_APPROVAL", "pausedAt": new},
        ]
    }
    assert core.approval_seconds_left(item, START + timedelta(minutes=5), limits) == 541


def test_a_batch_id_is_the_same_in_every_release() -> None:
    """An execution in flight when the orchestrator is upgraded finds its batches (and
    their DRS jobs, by tag) under the ids the last release gave them."""
    assert core.batch_id("ex-1", "A", 0) == "batch-af79d15eb073abefa8cb"


def test_a_deferred_batch_is_refused_only_past_the_quota_wait_naming_its_last_error() -> None:
    limits = core.Limits(quota_wait=timedelta(seconds=90))
    world = World(RecoveryPlan("one", (Wave("A", ("app",)),)), GROUPS)
    apply(world, decide(world, limits=limits))
    [(batch_id, batch)] = world.item["batches"].items()
    batch.update(status="DEFERRED", lastError="ThrottlingException")
    assert decide(world, seconds=90, limits=limits).changes["batches"][batch_id]["status"] == (
        "INTENDED"
    ), "at exactly the wait (90 s after it was planned) it is asked again"
    world.item["batches"][batch_id]["status"] = "DEFERRED"
    refused = decide(world, seconds=1, limits=limits).changes["batches"][batch_id]
    assert refused["reason"] == "DRS did not accept it within 90 s (ThrottlingException)"
    world.item["batches"][batch_id].pop("lastError")
    refused = decide(world, seconds=0, limits=limits).changes["batches"][batch_id]
    assert refused["reason"] == "DRS did not accept it within 90 s"
    # Each batch of a wave is judged: a second one past the wait is refused too.
    big = World(RecoveryPlan("big", (Wave("A", ("big",)),)), GROUPS)
    apply(big, decide(big, limits=limits))
    for batch in big.item["batches"].values():
        batch["status"] = "DEFERRED"
    judged = decide(big, seconds=91, limits=limits).changes["batches"]
    assert [b["status"] for b in judged.values()] == ["REFUSED", "REFUSED"]


def test_a_deferred_batch_after_a_started_one_is_asked_again() -> None:
    world = World(RecoveryPlan("big", (Wave("A", ("big",)),)), GROUPS)
    apply(world, decide(world))
    first, second = by_name(world.item)["A"]["batchIds"]
    world.item["batches"][first].update(status="STARTED", jobId="drsjob-x")
    world.item["jobs"]["drsjob-x"] = {"status": "STARTED"}
    world.item["batches"][second]["status"] = "DEFERRED"
    decision = decide(world)
    assert [c.batch_id for c in decision.commands if isinstance(c, core.StartRecovery)] == [second]


def test_every_server_of_a_failed_wave_is_named_whatever_failed_first() -> None:
    """Two batches: the first refused by DRS, the second launched with one server FAILED
    and one never reported. The wave's reason counts all of them."""
    world = World(RecoveryPlan("big", (Wave("A", ("big",)),)), GROUPS)
    apply(world, decide(world))
    first, second = by_name(world.item)["A"]["batchIds"]
    world.save(
        world.item["version"],
        core.record_not_started(world.item, first, DENIED, refused=True, stamp="t"),
    )
    job = world.start_recovery(tuple(world.item["batches"][second]["servers"]), second)
    changes, new_jobs = core.record_started(world.item, second, job, "t")
    world.save(world.item["version"], changes, new_jobs)
    world.item["jobs"][job["jobID"]]["status"] = "COMPLETED"
    tail = world.item["batches"][second]["servers"]
    world.item["servers"] = {s: {"launchStatus": "LAUNCHED"} for s in tail[2:]}
    world.item["servers"][tail[0]] = {"launchStatus": "FAILED"}
    reason = by_name(decide(world).changes)["A"]["reason"]
    assert reason.startswith("servers did not launch: 102 servers — ")
    assert f"(not launched: {DENIED})" in reason
    assert len(reason) > 400 and "more characters" not in reason, "whole up to REASON_CHARS"
    assert f"1 server: {tail[0]} (FAILED)" in reason
    assert f"1 server: {tail[1]} (UNKNOWN)" in reason


def test_a_wave_launched_before_batches_existed_is_adopted_job_by_job() -> None:
    """An execution upgraded in flight: its launching wave lists DRS jobs and no batches.
    Each job becomes a STARTED batch of its servers, the servers in no job (and a job the
    record lost) get batches of their own, launched at once."""
    world = World(RecoveryPlan("one", (Wave("A", ("app",)),)), GROUPS)
    app = GROUPS["app"]
    [wave] = world.item["waves"]
    wave.update(status="LAUNCHING", jobIds=["drsjob-old", "drsjob-gone"], startedAt="t0")
    world.item["jobs"] = {"drsjob-old": {"status": "STARTED", "servers": app[:1]}}
    decision = decide(world)
    now = stamp(world)
    batches = decision.changes["batches"]
    rest = core.batch_id("ex-world", "A", 0)
    assert batches["batch-legacy-drsjob-old"] == {
        "batchId": "batch-legacy-drsjob-old",
        "wave": "A",
        "servers": app[:1],
        "status": "STARTED",
        "jobId": "drsjob-old",
        "plannedAt": now,
    }
    assert batches["batch-legacy-drsjob-gone"]["servers"] == []
    assert batches[rest]["servers"] == app[1:] and batches[rest]["status"] == "INTENDED"
    assert by_name(decision.changes)["A"]["batchIds"] == [
        "batch-legacy-drsjob-old",
        "batch-legacy-drsjob-gone",
        rest,
    ]
    [launch] = [c for c in decision.commands if isinstance(c, core.StartRecovery)]
    assert (launch.batch_id, launch.servers) == (rest, tuple(app[1:]))
    wave.pop("jobIds")
    fresh = decide(world).changes["batches"]
    assert fresh[rest]["servers"] == app, "a wave without a job list adopts every server"


# -- reasons ------------------------------------------------------------------------------


def test_reasons_count_exactly_and_order_ties_by_their_words() -> None:
    five, six = servers("d", 5), servers("d", 6)
    assert named(five, "server") == f"5 servers: {', '.join(five)}"
    assert named(six, "server") == f"6 servers: {', '.join(six[:5])} and 1 more"
    assert by_reason({"s-b": "alpha", "s-a": "beta"}) == (
        "2 servers — 1 server: s-b (alpha); 1 server: s-a (beta)"
    )
    long = "y" * 1000
    assert with_unlaunched(long, []) == long, "a wave's reason keeps up to REASON_CHARS"
    assert with_unlaunched(long, ["s-1"]) == f"{long}; not launched: 1 server: s-1"
    longer = "z" * (REASON_CHARS + 10)
    assert len(with_unlaunched(longer, ["s-1"])) < len(longer) + 60


def test_a_tick_is_quiet_only_when_nothing_but_its_time_would_change() -> None:
    """A quiet tick writes its heartbeat alone (the shell leaves the version, so the
    finder's versioned writes are not made stale); anything else is a save."""
    world = World(RecoveryPlan("one", (Wave("A", ("app",)),)), GROUPS)
    world.tick()
    world.drs_progress()  # the job runs; nothing the record says has changed
    quiet = decide(world)
    assert core.is_quiet(world.item, quiet, dict(quiet.changes))
    moved = dict(quiet.changes, machineRun="run-2")
    assert not core.is_quiet(world.item, quiet, moved), "a new run's name is a change"
    for busy in (
        core.Decision(quiet.changes, {}, {}, [core.ReleaseHolds("ex-world")], quiet.route),
        core.Decision(quiet.changes, {"drsjob-2": {}}, {}, [], quiet.route),
        core.Decision(quiet.changes, {}, core.notification("t", "started"), [], quiet.route),
    ):
        assert not core.is_quiet(world.item, busy, dict(busy.changes))
