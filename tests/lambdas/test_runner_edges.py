"""The core's decisions at their edges: what it must not touch, the times and messages it
records, the commands it issues, and the limits it draws exactly.

Mutation testing of ``domain/runner.py`` and ``domain/reasons.py``
(``benchmarks/mutation.py core``) changed each of these without a unit test noticing: a
copy made shallow (the core then changed the item the shell holds), a stamp or a
notification's key left out, a launch's drill flag or point-in-time snapshots dropped, a
loop that stopped at its first skipped element, a limit reached one second early. Each
test below names what it holds; docs/RELIABILITY.md lists the mutants left and why.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from drs_orchestrator.domain import actions
from drs_orchestrator.domain import runner as core
from drs_orchestrator.domain.plans import Action, RecoveryPlan, Wave
from drs_orchestrator.domain.reasons import REASON_CHARS, by_reason, named
from drs_orchestrator.domain.reasons import with_servers_not_launched as with_unlaunched
from drs_orchestrator.domain.timestamps import to_iso

from tests.lambdas.runner_world import GROUPS, START, World, servers

TARGET = "111122223333/us-west-2"
#: A refusal as long as an SCP's deny words it.
DENIED = "AccessDeniedException: " + "explicit deny in a service control policy " * 8


def by_name(item: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {w["name"]: w for w in item["waves"]}


def decide(
    world: World,
    observations: core.Observations | None = None,
    seconds: int = 30,
    limits: core.Limits | None = None,
) -> core.Decision:
    """One decision on the world's item as the shell holds it, time moved on; the item
    itself must come out of it unchanged (the shell saves the changes, not the item)."""
    world.now += timedelta(seconds=seconds)
    held = copy.deepcopy(world.item)
    decision = core.decide(world.item, observations, world.now, limits)
    assert world.item == held, "the core changed the item it was given"
    return decision


def apply(world: World, decision: core.Decision) -> None:
    world.save(world.item["version"], decision.changes, decision.new_jobs, decision.notifications)


def stamp(world: World) -> str:
    return to_iso(world.now)


# -- what the core must not touch ---------------------------------------------------------


def test_no_decision_and_no_record_changes_the_item_it_is_given() -> None:
    """The shell keeps the item it read to save against its version; a decision that
    changed it in place (a shallow copy of the waves or batches) would make the shell's
    next look at it wrong. Through a drill with a pause, actions, a quota wait, a lost
    launch, the finder's news and a cancel, every decision and record leaves it alone."""
    plan = RecoveryPlan(
        "edges",
        (
            Wave("A", ("app",), pre_actions=(Action("DR-Prepare"),)),
            Wave("B", ("web",), depends_on=("A",), pause_before=True),
        ),
    )
    world = World(plan, GROUPS)
    apply(world, decide(world))  # A's pre-action starts
    [run] = by_name(world.item)["A"]["actionRuns"]
    world.automations["auto-1"] = "Success"
    run["automationExecutionId"] = "auto-1"
    apply(world, decide(world, core.Observations(automations={"auto-1": ("Success", "")})))
    assert by_name(world.item)["A"]["status"] == "LAUNCHING"
    [(batch_id, batch)] = world.item["batches"].items()
    assert batch["status"] == "INTENDED"
    for record in (
        lambda item: core.record_in_doubt(item, batch_id, "lost", conflict=False),
        lambda item: core.record_not_started(item, batch_id, "quota", refused=False, stamp="t"),
        lambda item: core.record_not_started(item, batch_id, "denied", refused=True, stamp="t"),
        lambda item: core.record_started(item, batch_id, {"jobID": "drsjob-1"}, "t")[0],
        lambda item: core.finalise(item, "the state machine failed", world.now)[0],
    ):
        held = copy.deepcopy(world.item)
        result = record(world.item)
        assert any(result[key] != held.get(key) for key in result), "it changes something"
        assert world.item == held, "a record changed the item it was given"
    world.save(
        world.item["version"],
        core.record_not_started(world.item, batch_id, "quota", refused=False, stamp="t"),
    )
    held = copy.deepcopy(world.item)
    assert core.finalise(world.item, "ended", world.now)[0]["batches"][batch_id]["status"] == (
        "CANCELLED"
    )
    assert world.item == held, "finalise cancelled the open batch of the item it was given"
    apply(world, decide(world))  # asked again: INTENDED
    world.cancel()
    apply(world, decide(world, core.Observations(found_batches={batch_id: None})))
    assert world.item["status"] in ("CANCELLING", "CANCELLED")


# -- the times and messages it records ---------------------------------------------------


def test_every_decision_stamps_its_time_and_a_failure_ends_every_wave_at_it() -> None:
    """A wave whose servers failed to launch fails the execution: the failed wave and the
    wave skipped after it end at the tick's time, the execution's reason names the wave,
    the route is FAIL, the holds are freed, and the notification names the wave."""
    plan = RecoveryPlan("two", (Wave("A", ("app",)), Wave("B", ("web",), depends_on=("A",))))
    world = World(plan, GROUPS, failing={GROUPS["app"][0]})
    first = decide(world)
    assert first.changes["updatedAt"] == first.changes["tickedAt"] == stamp(world)
    assert list(first.notifications) == [f"{stamp(world)}#started#"]
    assert first.notifications[f"{stamp(world)}#started#"] == {
        "event": "started",
        "details": {},
        "queuedAt": stamp(world),
    }
    world.run_to_end()
    world.item["status"] = "RUNNING"  # the end decided again, to read the decision itself
    for wave in world.item["waves"]:
        wave.pop("endedAt", None)
        wave["status"] = "LAUNCHING" if wave["name"] == "A" else "PENDING"
    decision = decide(world)
    now = stamp(world)
    waves = {w["name"]: w for w in decision.changes["waves"]}
    assert (waves["A"]["status"], waves["A"]["endedAt"]) == ("FAILED", now)
    assert (waves["B"]["status"], waves["B"]["endedAt"]) == ("SKIPPED", now)
    assert decision.changes["status"] == "FAILED"
    assert decision.changes["endedAt"] == decision.changes["tickedAt"] == now
    assert decision.changes["reason"] == f"wave A: {waves['A']['reason']}"
    assert "recoveryTime" not in decision.changes, "measured only when it completes"
    assert decision.route == core.Route.FAIL
    assert core.ReleaseHolds("ex-world") in decision.commands
    assert decision.notifications == {
        f"{now}#failed#A": {
            "event": "failed",
            "details": {"wave": "A", "reason": waves["A"]["reason"]},
            "queuedAt": now,
        }
    }


def test_a_cancel_ends_cancelled_with_its_notification_and_no_wave_reason() -> None:
    """A cancel while a wave waits for DRS's quota: the batch is cancelled, the wave fails
    naming its servers ``not launched: cancelled``, the execution ends CANCELLED without a
    reason of its own (it was asked for), and ``cancelled`` is queued."""
    world = World(RecoveryPlan("one", (Wave("A", ("app",)),)), GROUPS)
    world.tick("quota")
    world.cancel()
    decision = decide(world)
    now = stamp(world)
    [wave] = decision.changes["waves"]
    assert wave["status"] == "FAILED" and wave["endedAt"] == now
    assert wave["reason"] == (
        f"servers did not launch: {named(GROUPS['app'], 'server')} (not launched: cancelled)"
    )
    assert decision.changes["status"] == "CANCELLED"
    assert "reason" not in decision.changes
    assert decision.route == core.Route.SUCCEED
    assert decision.notifications == {
        f"{now}#cancelled#": {"event": "cancelled", "details": {}, "queuedAt": now}
    }


def test_a_cancel_cancels_every_open_batch_of_a_wave_in_one_tick() -> None:
    world = World(RecoveryPlan("big", (Wave("A", ("big",)),)), GROUPS)
    apply(world, decide(world))
    for batch in world.item["batches"].values():
        batch["status"] = "DEFERRED"  # DRS's quota was full for both
    world.cancel()
    decision = decide(world)
    assert [b["status"] for b in decision.changes["batches"].values()] == [
        "CANCELLED",
        "CANCELLED",
    ]
    assert decision.changes["status"] == "CANCELLED"


def test_a_paused_wave_is_announced_by_name_and_a_completion_carries_its_recovery_time() -> None:
    plan = RecoveryPlan("gated", (Wave("A", ("app",), pause_before=True),))
    world = World(plan, GROUPS)
    world.item["recoveryTimeObjectiveMinutes"] = 1
    decision = decide(world)
    now = stamp(world)
    assert decision.notifications[f"{now}#waiting for approval#A"] == {
        "event": "waiting for approval",
        "details": {"wave": "A"},
        "queuedAt": now,
    }
    assert by_name(decision.changes)["A"]["pausedAt"] == now
    apply(world, decision)
    world.resume()
    world.now += timedelta(minutes=5)
    for _ in range(10):
        if world.item["status"] == "RUNNING" and all(
            w["status"] == "LAUNCHING" for w in world.item["waves"]
        ):
            world.drs_progress()
            world.finder_poll()
        if world.item["jobs"] and all(
            j["status"] == "COMPLETED" for j in world.item["jobs"].values()
        ):
            break
        world.tick()
    decision = decide(world)
    now = stamp(world)
    assert decision.changes["status"] == "COMPLETED"
    measured = decision.changes["recoveryTime"]
    assert measured["overObjective"] is True
    events = {m["event"]: m for m in decision.notifications.values()}
    assert events["completed"]["details"] == {"recoveryTime": measured}
    assert events[core.OVER_OBJECTIVE]["details"] == {"recoveryTime": measured}
    assert events[core.OVER_OBJECTIVE]["queuedAt"] == now


def test_a_batch_not_launched_records_why_and_when_and_a_late_answer_changes_nothing() -> None:
    world = World(RecoveryPlan("one", (Wave("A", ("app",)),)), GROUPS)
    world.tick("lost")
    [(batch_id, _)] = world.item["batches"].items()
    deferred = core.record_not_started(world.item, batch_id, "x" * 900, refused=False, stamp="t1")
    batch = deferred["batches"][batch_id]
    assert (batch["status"], batch["deferredAt"]) == ("DEFERRED", "t1")
    assert batch["lastError"].startswith("x" * 400) and "500 more characters" in batch["lastError"]
    refused = core.record_not_started(world.item, batch_id, "denied", refused=True, stamp="t2")
    batch = refused["batches"][batch_id]
    assert (batch["status"], batch["reason"], batch["refusedAt"]) == ("REFUSED", "denied", "t2")
    world.item["batches"][batch_id]["status"] = "STARTED"
    late = core.record_not_started(world.item, batch_id, "throttled", refused=False, stamp="t3")
    assert late == {"batches": world.item["batches"]}, "a batch no longer in doubt stays"


def test_a_job_found_for_a_batch_in_doubt_clears_its_error_and_defaults_its_status() -> None:
    world = World(RecoveryPlan("one", (Wave("A", ("app",)),)), GROUPS)
    world.tick("lost")
    [(batch_id, _)] = world.item["batches"].items()
    world.save(
        world.item["version"],
        core.record_in_doubt(world.item, batch_id, "ConflictException", conflict=False),
    )
    assert world.item["batches"][batch_id]["lastError"] == "ConflictException"
    changes, new_jobs = core.record_started(world.item, batch_id, {"jobID": "drsjob-9"}, "t")
    assert "lastError" not in changes["batches"][batch_id]
    assert new_jobs["drsjob-9"]["status"] == "PENDING", "DRS's first status when it says none"
    # The same job on a batch put back INTENDED (a save lost after it was recorded): the
    # batch is STARTED again, the job not tracked twice.
    world.item.update(changes)
    world.item["jobs"].update(new_jobs)
    world.item["batches"][batch_id]["status"] = "INTENDED"
    again, more = core.record_started(world.item, batch_id, {"jobID": "drsjob-9"}, "t")
    assert (again["batches"][batch_id]["status"], more) == ("STARTED", {})
    # Recorded already: the same batches come back, nothing new.
    world.item.update(again)
    same, none = core.record_started(world.item, batch_id, {"jobID": "drsjob-9"}, "later")
    assert (same["batches"], none) == (world.item["batches"], {}), "its start time kept"
    # A STARTED batch told of a different job records that job.
    other, tracked = core.record_started(world.item, batch_id, {"jobID": "drsjob-10"}, "t")
    assert other["batches"][batch_id]["jobId"] == "drsjob-10"
    assert list(tracked) == ["drsjob-10"]


def test_finalise_skips_what_had_not_started_at_its_time_and_queues_its_reason() -> None:
    plan = RecoveryPlan("two", (Wave("A", ("app",)), Wave("B", ("web",), depends_on=("A",))))
    world = World(plan, GROUPS)
    world.tick()
    now = START + timedelta(hours=1)
    changes, notifications = core.finalise(world.item, "the run ended", now)
    waves = by_name(changes)
    assert (waves["B"]["status"], waves["B"]["endedAt"]) == ("SKIPPED", to_iso(now))
    long = "r" * 1000
    assert core.finalise(world.item, long, now)[0]["reason"] == long, "kept up to REASON_CHARS"
    assert notifications == {
        f"{to_iso(now)}#failed#": {
            "event": "failed",
            "details": {"reason": "the run ended"},
            "queuedAt": to_iso(now),
        }
    }


# -- the commands it issues ---------------------------------------------------------------


def test_a_launch_says_drill_or_recovery_and_carries_the_chosen_snapshots() -> None:
    world = World(RecoveryPlan("one", (Wave("A", ("app",)),)), GROUPS)
    chosen = {GROUPS["app"][1]: "pit-0123456789abcdef0"}
    world.item["snapshots"] = chosen
    [launch] = [c for c in decide(world).commands if isinstance(c, core.StartRecovery)]
    assert (launch.wave, launch.is_drill, launch.servers) == ("A", True, tuple(GROUPS["app"]))
    assert launch.snapshots == ((GROUPS["app"][1], "pit-0123456789abcdef0"),)
    recovery = World(RecoveryPlan("one", (Wave("A", ("app",)),)), GROUPS)
    recovery.item["mode"] = "RECOVERY"
    [launch] = [c for c in decide(recovery).commands if isinstance(c, core.StartRecovery)]
    assert (launch.is_drill, launch.snapshots) == (False, ())


def test_each_ask_of_drs_is_counted_and_a_deferred_batch_is_asked_again() -> None:
    world = World(RecoveryPlan("one", (Wave("A", ("app",)),)), GROUPS)
    world.tick("quota")
    world.tick("quota")
    [batch] = world.item["batches"].values()
    assert (batch["status"], batch["attempts"]) == ("DEFERRED", 2)


def test_a_pre_action_starts_under_the_execution_token_and_its_failure_fails_the_wave() -> None:
    plan = RecoveryPlan(
        "pre",
        (
            Wave("A", ("app",), pre_actions=(Action("DR-Prepare"),)),
            Wave("B", ("web",)),
        ),
    )
    world = World(plan, GROUPS)
    decision = decide(world)
    [start] = [c for c in decision.commands if isinstance(c, actions.StartAutomation)]
    assert (start.wave, start.phase, start.document) == ("A", "pre", "DR-Prepare")
    assert start.token == actions.action_token("ex-world", "A", "pre", 0)
    waves = by_name(decision.changes)
    assert waves["A"]["status"] == "PRE_ACTIONS", "waits for its action"
    assert waves["B"]["status"] == "LAUNCHING", "the next ready wave starts in the same tick"
    apply(world, decision)
    by_name(world.item)["A"]["actionRuns"][0]["automationExecutionId"] = "auto-1"
    failed = decide(world, core.Observations(automations={"auto-1": ("Failed", "step 2")}))
    a = by_name(failed.changes)["A"]
    assert a["status"] == "FAILED"
    assert a["reason"].startswith("pre-wave action DR-Prepare ended Failed: step 2")
    assert not [c for c in failed.commands if isinstance(c, core.StartRecovery) and c.wave == "A"]


def test_a_post_action_is_followed_after_the_launch() -> None:
    plan = RecoveryPlan("post", (Wave("A", ("app",), post_actions=(Action("DR-Check"),)),))
    world = World(plan, GROUPS)
    for _ in range(6):
        world.drs_progress()
        world.finder_poll()
        decision = world.tick()
        if by_name(world.item)["A"]["status"] != "LAUNCHING":
            break
    a = by_name(world.item)["A"]
    assert a["status"] == "POST_ACTIONS"
    assert [r["phase"] for r in a["actionRuns"]] == ["post"]
    assert decision is not None
    [start] = [c for c in decision.commands if isinstance(c, actions.StartAutomation)]
    assert (start.phase, start.document) == ("post", "DR-Check"), "started in the same tick"


def test_jobs_found_for_two_batches_in_doubt_are_both_recorded() -> None:
    """Several batches of a wave in doubt are found in one tick: each job is recorded on
    the record the previous one left (the wave's job list and every batch kept), and a
    batch found without a job after DRS's conflict is refused, the others still looked at."""
    world = World(RecoveryPlan("big", (Wave("A", ("big",)),)), GROUPS)
    apply(world, decide(world))
    first, second = by_name(world.item)["A"]["batchIds"]
    for bid, outcome in ((first, "lost"), (second, "lost")):
        job = world.start_recovery(tuple(world.item["batches"][bid]["servers"]), bid)
        assert outcome == "lost" and job["jobID"]
    jobs = {j["tags"][core.BATCH_TAG]: j for j in world.drs_jobs.values()}
    found = decide(
        world, core.Observations(found_batches={first: jobs[first], second: jobs[second]})
    )
    batches = found.changes["batches"]
    assert [batches[b]["status"] for b in (first, second)] == ["STARTED", "STARTED"]
    assert batches[first]["startedAt"] == batches[second]["startedAt"] == stamp(world)
    assert by_name(found.changes)["A"]["jobIds"] == [jobs[first]["jobID"], jobs[second]["jobID"]]
    assert set(found.new_jobs) == {jobs[first]["jobID"], jobs[second]["jobID"]}

    refused = World(RecoveryPlan("big", (Wave("A", ("big",)),)), GROUPS)
    apply(refused, decide(refused))
    first, second = by_name(refused.item)["A"]["batchIds"]
    refused.item["batches"][first]["conflict"] = True
    job = refused.start_recovery(tuple(refused.item["batches"][second]["servers"]), second)
    decision = decide(refused, core.Observations(found_batches={first: None, second: job}))
    batches = decision.changes["batches"]
    assert (batches[first]["status"], batches[first]["reason"]) == ("REFUSED", "conflict")
    assert batches[second]["status"] == "STARTED"
    # Found without a job and no conflict: it was not launched, asked again at once; the
    # next batch is still looked at.
    again = World(RecoveryPlan("big", (Wave("A", ("big",)),)), GROUPS)
    apply(again, decide(again))
    first, second = by_name(again.item)["A"]["batchIds"]
    job = again.start_recovery(tuple(again.item["batches"][second]["servers"]), second)
    decision = decide(again, core.Observations(found_batches={first: None, second: job}))
    batch = decision.changes["batches"][first]
    assert batch["status"] == "INTENDED" and batch["deferredAt"] == stamp(again)
    assert batch["note"] == "no DRS job carries this batch: it was not launched"
    assert batch["attempts"] == 2
    assert decision.changes["batches"][second]["status"] == "STARTED"
    # A batch no longer in doubt is left as it is, and the next one still looked at.
    done = World(RecoveryPlan("big", (Wave("A", ("big",)),)), GROUPS)
    apply(done, decide(done))
    first, second = by_name(done.item)["A"]["batchIds"]
    done.item["batches"][first].update(status="STARTED", jobId="drsjob-x")
    decision = decide(done, core.Observations(found_batches={first: None, second: None}))
    assert decision.changes["batches"][first]["status"] == "STARTED"
    assert decision.changes["batches"][second]["note"].startswith("no DRS job carries")


def test_a_batch_in_doubt_whose_target_stays_out_of_reach_is_refused_naming_why() -> None:
    world = World(RecoveryPlan("one", (Wave("A", ("app",)),)), GROUPS)
    apply(world, decide(world))
    [(batch_id, batch)] = world.item["batches"].items()
    batch["target"] = TARGET
    hour = core.Limits().target_wait
    patient = core.Limits(quota_wait=timedelta(days=1))
    unreachable = core.Observations(unreachable={TARGET: "AccessDenied"})
    apply(world, decide(world, unreachable, seconds=0))
    at_limit = decide(world, unreachable, seconds=int(hour.total_seconds()))
    assert at_limit.changes["batches"][batch_id]["status"] == "INTENDED", "not over the wait yet"
    over = decide(world, unreachable, seconds=1)
    refused = over.changes["batches"][batch_id]
    assert refused["status"] == "REFUSED"
    assert refused["reason"] == (
        f"launch outcome unknown: DRS target {TARGET} could not be reached for over "
        "1 hour (AccessDenied)"
    )
    # Refused though another batch of the wave is asked for in the same tick.
    big = World(RecoveryPlan("big", (Wave("A", ("big",)),)), GROUPS)
    apply(big, decide(big))
    first, second = by_name(big.item)["A"]["batchIds"]
    big.item["batches"][first]["target"] = TARGET
    apply(big, decide(big, unreachable, seconds=0))
    big.item["batches"][second]["status"] = "DEFERRED"
    both = decide(big, unreachable, seconds=int(hour.total_seconds()) + 1, limits=patient)
    assert both.changes["batches"][first]["status"] == "REFUSED"
    assert [c.batch_id for c in both.commands if isinstance(c, core.StartRecovery)] == [second]
    # A batch this tick asks DRS for is not in doubt: asked, not refused.
    world.item["batches"][batch_id]["status"] = "DEFERRED"
    asked = decide(world, unreachable, seconds=0, limits=patient)
    assert asked.changes["batches"][batch_id]["status"] == "INTENDED"
    assert [c.batch_id for c in asked.commands if isinstance(c, core.StartRecovery)] == [batch_id]
    # A target reached that was never out of reach is nothing to forget.
    reached = World(RecoveryPlan("one", (Wave("A", ("app",)),)), GROUPS)
    assert (
        "unreachableTargets"
        not in decide(reached, core.Observations(reached=frozenset({TARGET}))).changes
    )


def test_only_targets_with_work_still_running_are_in_use() -> None:
    item = {
        "batches": {"b1": {"target": TARGET, "status": "STARTED"}},
        "jobs": {
            "j-home": {"status": "STARTED"},
            "j-done": {"target": "444455556666/eu-west-1", "status": "COMPLETED"},
            "j-running": {"target": TARGET, "status": "STARTED"},
        },
    }
    assert core.targets_in_use(item) == [TARGET]
    item["jobs"]["j-running"]["status"] = "COMPLETED"
    assert core.targets_in_use(item) == []


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
