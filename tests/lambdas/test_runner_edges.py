"""The core's decisions at their edges: what it must not touch, the times and messages it
records and the commands it issues (the limits it draws exactly: test_runner_limits.py).

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

from drs_orchestrator.domain import actions
from drs_orchestrator.domain import runner as core
from drs_orchestrator.domain.plans import Action, RecoveryPlan, Wave
from drs_orchestrator.domain.reasons import named
from drs_orchestrator.domain.timestamps import to_iso

from tests.lambdas.runner_world import GROUPS, START, World, apply, by_name, decide, stamp

TARGET = "111122223333/us-west-2"


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
