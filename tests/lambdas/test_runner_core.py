"""The pure core of the wave runner (``domain/runner.py``): decisions without any fake, and
property-based runs over random orders of DRS progress, operator actions and faults, each
ending with every invariant of docs/RELIABILITY.md checked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from drs_orchestrator.domain import runner as core
from drs_orchestrator.domain.plans import Action, RecoveryPlan, Wave
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drsctl.invariants import violations
from tests.lambdas.runner_world import GROUPS, OUTCOMES, START, World, servers

#: The drill of the fault matrix: one wave over 100 servers, one paused, pre/post actions.
THREE_WAVES = RecoveryPlan(
    "three-waves",
    (
        Wave(
            "Data",
            ("big",),
            pre_actions=(Action("DR-Prepare"),),
            post_actions=(Action("DR-Check"),),
        ),
        Wave("App", ("app",), depends_on=("Data",), pause_before=True),
        Wave("Web", ("web",)),
    ),
)


def waves(world: World) -> dict[str, dict]:
    return {w["name"]: w for w in world.item["waves"]}


def test_a_wave_over_100_servers_is_planned_as_batches_with_deterministic_ids() -> None:
    world = World(RecoveryPlan("big", (Wave("all", ("big",)),)), GROUPS)
    decision = world.tick()
    launches = [c for c in decision.commands if isinstance(c, core.StartRecovery)]
    assert [len(c.servers) for c in launches] == [100, 50]
    assert [c.batch_id for c in launches] == [
        core.batch_id("ex-world", "all", 0),
        core.batch_id("ex-world", "all", 1),
    ]
    assert {b["status"] for b in world.item["batches"].values()} == {"STARTED"}
    assert world.item["status"] == "RUNNING"
    assert [m["event"] for m in world.item["outbox"].values()] == ["started"]


def test_a_throttled_second_batch_is_retried_and_the_wave_completes() -> None:
    world = World(RecoveryPlan("big", (Wave("all", ("big",)),)), GROUPS)
    world.tick()
    second = core.batch_id("ex-world", "all", 1)
    # Make the second batch look throttled: DEFERRED, as the shell records it.
    world.item["batches"][second].update(status="DEFERRED", lastError="ThrottlingException")
    world.item["jobs"].pop(world.item["batches"][second].pop("jobId"))
    world.drs_jobs.popitem()
    world.run_to_end()
    assert world.item["status"] == "COMPLETED"
    assert violations(world.item, list(world.drs_jobs.values())) == []
    assert len(world.drs_jobs) == 2


def test_a_batch_drs_never_accepts_fails_the_wave_naming_its_servers() -> None:
    world = World(RecoveryPlan("big", (Wave("all", ("big",)),)), GROUPS)
    world.tick(outcome="ok")
    second = core.batch_id("ex-world", "all", 1)
    world.item["batches"][second].update(status="DEFERRED", lastError="quota")
    world.item["jobs"].pop(world.item["batches"][second].pop("jobId"))
    world.drs_jobs.pop(sorted(world.drs_jobs)[-1])
    world.now += timedelta(hours=2)  # past the quota wait
    world.run_to_end()
    assert world.item["status"] == "FAILED"
    reason = waves(world)["all"]["reason"]
    # Counted and the first named (a reason is bounded, issue 32); the item names each.
    assert reason.startswith("servers did not launch: 50 servers: s-a0000000000000100, ")
    assert reason.endswith(
        " and 45 more (not launched: DRS did not accept it within 1 hour (quota))"
    )
    [refused] = [b for b in world.item["batches"].values() if b["status"] == "REFUSED"]
    assert refused["servers"] == GROUPS["big"][100:]
    assert refused["reason"] == "DRS did not accept it within 1 hour (quota)"
    assert violations(world.item, list(world.drs_jobs.values())) == []


def test_a_launch_whose_answer_was_lost_is_found_by_its_tag_not_launched_again() -> None:
    world = World(RecoveryPlan("one", (Wave("all", ("app",)),)), GROUPS)
    world.tick(outcome="lost")
    [batch] = world.item["batches"].values()
    assert batch["status"] == "INTENDED" and world.item["jobs"] == {}
    world.tick()
    [batch] = world.item["batches"].values()
    assert batch["status"] == "STARTED"
    assert batch["jobId"] in world.item["jobs"]
    assert len(world.drs_jobs) == 1


def test_a_launch_found_already_ended_is_followed_by_the_finder_not_judged_blind() -> None:
    """Found by its tag after its answer was lost, the job had already ended in DRS (the
    runner's retries took longer than the launch). Its servers' launch statuses are not on
    the execution yet: the wave must wait for the finder to record them, not fail them as
    UNKNOWN (found by the chaos benchmark)."""
    world = World(RecoveryPlan("one", (Wave("all", ("app",)),)), GROUPS)
    world.tick(outcome="lost")
    world.drs_progress()
    world.drs_progress()
    [job] = world.drs_jobs.values()
    assert job["status"] == "COMPLETED"
    world.tick()
    [wave] = world.item["waves"]
    assert wave["status"] == "LAUNCHING", wave.get("reason")
    assert world.item["jobs"][job["jobID"]]["status"] != "COMPLETED", "the finder follows it"
    world.finder_poll()
    world.tick()
    [wave] = world.item["waves"]
    assert wave["status"] == "COMPLETED"
    assert {s["launchStatus"] for s in world.item["servers"].values()} == {"LAUNCHED"}


def test_a_crash_before_the_call_launches_the_batch_once_on_the_next_tick() -> None:
    world = World(RecoveryPlan("one", (Wave("all", ("app",)),)), GROUPS)
    world.tick(outcome="crash-before")
    assert world.drs_jobs == {}
    world.tick()  # in doubt: not found, so deferred ...
    world.tick()  # ... and launched
    world.run_to_end()
    assert world.item["status"] == "COMPLETED"
    assert len(world.drs_jobs) == 1


def test_a_conflict_with_another_job_refuses_the_batch_and_fails_the_execution() -> None:
    world = World(RecoveryPlan("gated", (Wave("A", ("app",), pause_before=True),)), GROUPS)
    world.tick()
    assert world.item["status"] == "PAUSED"
    # Someone else's job holds a server of the wave when it is approved.
    world.start_recovery((GROUPS["app"][0],), "someone-else")
    world.resume()
    world.tick()
    world.tick()
    assert world.item["status"] == "FAILED"
    assert "ConflictException" in waves(world)["A"]["reason"]


def test_a_pause_holds_only_its_wave() -> None:
    plan = RecoveryPlan("two", (Wave("A", ("app",), pause_before=True), Wave("B", ("web",))))
    world = World(plan, GROUPS)
    decision = world.tick()
    assert waves(world)["A"]["status"] == "AWAITING_APPROVAL"
    assert waves(world)["B"]["status"] == "LAUNCHING", "an independent wave goes on"
    assert world.item["status"] == "PAUSED"
    assert decision.route == core.Route.WAIT, "the machine keeps ticking while B launches"
    for _ in range(4):
        world.drs_progress()
        world.finder_poll()
        decision = world.tick()
    assert waves(world)["B"]["status"] == "COMPLETED"
    assert decision.route == core.Route.AWAIT_APPROVAL


def test_dependents_wait_for_post_wave_actions() -> None:
    plan = RecoveryPlan(
        "post",
        (
            Wave("A", ("app",), post_actions=(Action("DR-Check"),)),
            Wave("B", ("web",), depends_on=("A",)),
        ),
    )
    world = World(plan, GROUPS)
    world.tick()
    world.drs_progress()
    world.drs_progress()
    world.finder_poll()
    world.tick()
    assert waves(world)["A"]["status"] == "POST_ACTIONS"
    assert waves(world)["B"]["status"] == "PENDING", "A launched but is not ready yet"
    world.run_to_end()
    assert world.item["status"] == "COMPLETED"
    assert waves(world)["B"]["startedAt"] >= waves(world)["A"]["endedAt"]


def test_an_approval_nobody_gives_times_out_and_ends_the_execution() -> None:
    world = World(RecoveryPlan("gated", (Wave("A", ("app",), pause_before=True),)), GROUPS)
    world.tick()
    seconds = core.approval_seconds_left(world.item, world.now, core.Limits())
    assert 7 * 86400 - 60 <= seconds <= 7 * 86400 + 1
    world.tick(seconds=seconds)
    assert world.item["status"] == "FAILED"
    assert waves(world)["A"]["reason"] == (
        "approval timed out: nobody approved it within 7 days; not launched: 3 servers: "
        "s-b0000000000000000, s-b0000000000000001, s-b0000000000000002"
    )


def test_cancel_while_pending_ends_cancelled_without_launching() -> None:
    world = World(RecoveryPlan("one", (Wave("A", ("app",)),)), GROUPS)
    assert world.cancel()
    decision = world.tick()
    assert world.item["status"] == "CANCELLED"
    assert decision.route == core.Route.SUCCEED
    assert world.drs_jobs == {}
    assert any(isinstance(c, core.ReleaseHolds) for c in decision.commands)


def test_cancel_waits_for_a_launch_in_doubt_to_be_reconciled() -> None:
    world = World(RecoveryPlan("one", (Wave("A", ("app",)),)), GROUPS)
    world.tick(outcome="lost")
    world.cancel()
    world.tick()  # the lost launch is found and followed, not forgotten
    assert world.item["status"] == "CANCELLING"
    assert set(world.item["jobs"]) == set(world.drs_jobs)
    world.run_to_end()
    assert world.item["status"] == "CANCELLED"
    assert violations(world.item, list(world.drs_jobs.values())) == []


def test_a_terminal_execution_is_final() -> None:
    world = World(RecoveryPlan("one", (Wave("A", ("app",)),)), GROUPS)
    world.run_to_end()
    ended = dict(world.item)
    decision = core.decide(ended, core.Observations(), START + timedelta(days=30))
    assert decision.changes == {} and decision.new_jobs == {}
    assert core.finalise(ended, "late", START + timedelta(days=30)) == ({}, {})


def test_finalise_ends_any_live_execution_with_its_reason() -> None:
    world = World(THREE_WAVES, GROUPS)
    world.tick()
    changes, notifications = core.finalise(world.item, "the state machine failed: boom", world.now)
    assert changes["status"] == "FAILED" and changes["reason"].endswith("boom")
    assert {w["status"] for w in changes["waves"]} <= {"SKIPPED", "FAILED"}
    assert [m["event"] for m in notifications.values()] == ["failed"]


def test_decide_needs_the_time() -> None:
    with pytest.raises(ValueError, match="needs the time"):
        core.decide(World(THREE_WAVES, GROUPS).item)


# -- properties --------------------------------------------------------------------------

STEP = st.one_of(
    st.tuples(st.just("tick"), st.sampled_from(OUTCOMES)),
    st.tuples(st.just("drs"), st.none()),
    st.tuples(st.just("finder"), st.none()),
    st.tuples(st.just("resume"), st.none()),
    st.tuples(st.just("cancel"), st.none()),
)


@st.composite
def plans(draw: st.DrawFn) -> tuple[RecoveryPlan, dict[str, list[str]]]:
    count = draw(st.integers(1, 4))
    groups: dict[str, list[str]] = {}
    built = []
    for index in range(count):
        name = f"W{index}"
        size = draw(st.sampled_from([1, 3, 101, 130]))
        groups[name] = servers(chr(ord("a") + index), size)
        depends = tuple(f"W{d}" for d in range(index) if draw(st.booleans()))
        actions = (Action("DR-Act"),) if draw(st.booleans()) else ()
        built.append(
            Wave(
                name,
                (name,),
                depends_on=depends,
                pause_before=draw(st.booleans()),
                pre_actions=actions if draw(st.booleans()) else (),
                post_actions=actions,
            )
        )
    return RecoveryPlan("random", tuple(built)), groups


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=plans(), steps=st.lists(STEP, max_size=40), failing=st.booleans())
def test_any_order_of_progress_operators_and_faults_keeps_every_invariant(
    plan: tuple[RecoveryPlan, dict[str, list[str]]], steps: list, failing: bool
) -> None:
    recovery_plan, groups = plan
    doomed = {groups["W0"][0]} if failing else set()
    world = World(recovery_plan, groups, failing=doomed)
    ended_at: dict | None = None
    for action, outcome in steps:
        if action == "tick":
            world.tick(outcome=outcome)
        elif action == "drs":
            world.drs_progress()
        elif action == "finder":
            world.finder_poll()
        elif action == "resume":
            world.resume()
        else:
            world.cancel()
        if world.item["status"] in ("COMPLETED", "FAILED", "CANCELLED") and ended_at is None:
            ended_at = {k: world.item[k] for k in ("status", "endedAt")}
    world.run_to_end()
    # terminal-is-final: once ended, the outcome never changed
    if ended_at is not None:
        assert {k: world.item[k] for k in ("status", "endedAt")} == ended_at
    # more ticks after the end change nothing
    before = dict(world.item)
    world.tick()
    assert world.item == before
    # DRS jobs still running after the end are followed by the finder: let them finish
    for _ in range(3):
        world.drs_progress()
        world.finder_poll()
    assert violations(world.item, list(world.drs_jobs.values())) == []


def test_a_wave_launched_before_batches_existed_is_adopted_and_finished() -> None:
    """An execution that was launching when this version was deployed: its jobs become
    STARTED batches and the servers no job holds are launched, once."""
    world = World(RecoveryPlan("big", (Wave("all", ("big",)),)), GROUPS)
    job = world.start_recovery(tuple(GROUPS["big"][:100]), "pre-upgrade")
    world.item.update(status="RUNNING")
    wave = world.item["waves"][0]
    wave.update(status="LAUNCHING", jobIds=[job["jobID"]], startedAt="2026-11-01T12:00:00.000000Z")
    world.item["jobs"][job["jobID"]] = {
        "jobId": job["jobID"],
        "waveName": "all",
        "status": "PENDING",
        "type": "LAUNCH",
        "servers": GROUPS["big"][:100],
    }
    world.run_to_end()
    assert world.item["status"] == "COMPLETED"
    assert sorted(len(j["participatingServers"]) for j in world.drs_jobs.values()) == [50, 100]
    assert violations(world.item, list(world.drs_jobs.values())) == []
