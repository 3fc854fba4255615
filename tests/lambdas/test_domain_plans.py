"""Plan validation (each rule, cycles, DRS quotas), wave scheduling, transitions, groups."""

from __future__ import annotations

import pytest
from drs_orchestrator.domain.groups import ProtectionGroup, membership_conflicts, resolve
from drs_orchestrator.domain.plans import (
    Action,
    Problem,
    RecoveryPlan,
    Wave,
    heaviest_concurrent_set,
    job_batches,
    ready_waves,
    validate_plan,
)
from drs_orchestrator.domain.states import (
    ExecutionStatus,
    InvalidTransitionError,
    ServerStatus,
    WaveStatus,
    transition,
)


def servers(prefix: str, count: int) -> list[str]:
    return [f"s-{prefix}{n:0{17 - len(prefix)}d}" for n in range(count)]


GROUPS = {"web": servers("a", 3), "app": servers("b", 2), "db": servers("c", 1)}


def plan(*waves: Wave) -> RecoveryPlan:
    return RecoveryPlan("three-tier", waves)


def three_waves() -> RecoveryPlan:
    return plan(
        Wave("db", ("db",)),
        Wave("app", ("app",), depends_on=("db",)),
        Wave("web", ("web",), depends_on=("app",), pause_before=True),
    )


def test_a_valid_plan_has_no_problem() -> None:
    assert validate_plan(three_waves(), GROUPS) == []


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        (plan(), Problem("waves", "a plan needs at least one wave")),
        (
            plan(Wave("a", ("db",)), Wave("a", ("app",))),
            Problem("waves[1].name", "'a' is already the name of waves[0]"),
        ),
        (
            plan(Wave("a", ())),
            Problem("waves[0].protectionGroups", "wave 'a' has no protection group"),
        ),
        (
            plan(Wave("a", ("nope",))),
            Problem("waves[0].protectionGroups[0]", "unknown protection group 'nope'"),
        ),
        (
            plan(Wave("a", ("db",), depends_on=("ghost",))),
            Problem("waves[0].dependsOn[0]", "unknown wave 'ghost'"),
        ),
        (
            plan(Wave("a", ("db",), depends_on=("a",))),
            Problem("waves[0].dependsOn[0]", "wave 'a' cannot depend on itself"),
        ),
        (
            plan(Wave("a", ("db",)), Wave("b", ("db",))),
            Problem(
                "waves[1].protectionGroups",
                f"source server {GROUPS['db'][0]} is in wave 'a' and "
                "wave 'b'; a server can be in one wave only",
            ),
        ),
        (
            plan(Wave("a", ("empty",))),
            Problem("waves[0].protectionGroups", "wave 'a' resolves to no source server"),
        ),
        (
            plan(Wave("a", ("db",), pre_actions=(Action("", max_wait_seconds=0),))),
            Problem("waves[0].preActions[0].document", "must not be empty"),
        ),
        (
            plan(Wave("a", ("db",), post_actions=(Action("DR-Check", max_wait_seconds=0),))),
            Problem(
                "waves[0].postActions[0].maxWaitSeconds", "must be between 1 and 86400 seconds"
            ),
        ),
        (
            plan(Wave("a", ("db",), failback_actions=(Action(" "),))),
            Problem("waves[0].failbackActions[0].document", "must not be empty"),
        ),
    ],
)
def test_each_rule_names_the_field(candidate: RecoveryPlan, expected: Problem) -> None:
    assert expected in validate_plan(candidate, {**GROUPS, "empty": []})


def test_a_cycle_is_named() -> None:
    cyclic = plan(
        Wave("a", ("db",), depends_on=("c",)),
        Wave("b", ("app",), depends_on=("a",)),
        Wave("c", ("web",), depends_on=("b",)),
    )
    assert validate_plan(cyclic, GROUPS) == [Problem("waves", "dependency cycle: a -> c -> b -> a")]


def test_a_wave_over_100_servers_is_split_into_jobs_of_at_most_100() -> None:
    assert [len(batch) for batch in job_batches(servers("d", 250))] == [100, 100, 50]
    big = {"big": servers("d", 250)}
    assert validate_plan(plan(Wave("big", ("big",))), big) == []


def test_independent_waves_that_could_exceed_20_jobs_are_rejected_with_the_numbers() -> None:
    groups = {f"g{i}": servers(f"e{i:02d}", 300 if i < 7 else 1) for i in range(8)}
    waves = tuple(Wave(f"w{i}", (f"g{i}",)) for i in range(8))
    problems = validate_plan(plan(*waves), groups)
    assert (
        Problem(
            "waves",
            "waves w0, w1, w2, w3, w4, w5, w6, w7 can run at the same time with "
            "22 DRS jobs; DRS allows 20 concurrent jobs (a job holds at most 100 servers)",
        )
        in problems
    )
    assert (
        Problem(
            "waves",
            "waves w0, w1, w2, w3, w4, w5, w6, w7 can run at the same time with "
            "2101 servers; DRS allows 500 servers across active jobs",
        )
        in problems
    )


def test_dependent_waves_never_overlap_so_they_may_exceed_the_quota_together() -> None:
    # A plan holds at most 500 servers (one execution item records them all), so the
    # quota dependent waves may exceed together is DRS's 20 concurrent jobs.
    groups = {f"g{i}": servers(f"f{i:02d}", 1) for i in range(30)}
    chain = plan(
        Wave("w0", ("g0",)),
        *(Wave(f"w{i}", (f"g{i}",), depends_on=(f"w{i - 1}",)) for i in range(1, 30)),
    )
    assert validate_plan(chain, groups) == []
    parallel = plan(
        Wave("w0", ("g0",)),
        Wave("w1", ("g1",), depends_on=("w0",)),
        *(Wave(f"w{i}", (f"g{i}",)) for i in range(2, 22)),
    )
    [problem] = validate_plan(parallel, groups)
    assert problem.reason.startswith("waves w0, w10, w11,")
    assert "can run at the same time with 21 DRS jobs" in problem.reason


def test_a_plan_holds_at_most_500_servers_so_its_execution_fits_one_item() -> None:
    groups = {f"g{i}": servers(f"h{i}", 167) for i in range(3)}
    chain = plan(
        Wave("w0", ("g0",)),
        Wave("w1", ("g1",), depends_on=("w0",)),
        Wave("w2", ("g2",), depends_on=("w1",)),
    )
    assert validate_plan(chain, groups) == [
        Problem(
            "waves",
            "the plan resolves to 501 source servers; an execution tracks at most 500 "
            "(split it into several plans)",
        )
    ]
    groups["g2"] = groups["g2"][:166]
    assert validate_plan(chain, groups) == []


def test_heaviest_concurrent_set_respects_transitive_dependencies() -> None:
    edges = {"a": [], "b": ["a"], "c": ["b"], "d": []}
    assert heaviest_concurrent_set(edges, {"a": 5, "b": 1, "c": 5, "d": 2}) == (7, ["a", "d"])


def test_ready_waves_wait_for_every_dependency_to_launch() -> None:
    p = plan(Wave("a", ("db",)), Wave("b", ("app",), depends_on=("a",)), Wave("c", ("web",)))
    launched = {"LAUNCHED", "POST_ACTIONS", "COMPLETED"}
    status = {"a": "PENDING", "b": "PENDING", "c": "PENDING"}
    assert [w.name for w in ready_waves(p, status, launched)] == ["a", "c"]
    status.update(a="LAUNCHING", c="LAUNCHING")
    assert ready_waves(p, status, launched) == []
    status["a"] = "LAUNCHED"
    assert [w.name for w in ready_waves(p, status, launched)] == ["b"]


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (ExecutionStatus.COMPLETED, ExecutionStatus.RUNNING),
        (ExecutionStatus.CANCELLED, ExecutionStatus.RUNNING),
        (WaveStatus.PENDING, WaveStatus.LAUNCHED),
        (WaveStatus.FAILED, WaveStatus.COMPLETED),
        (ServerStatus.TERMINATED, ServerStatus.LAUNCHED),
    ],
)
def test_transitions_outside_the_table_are_refused(current, new) -> None:
    with pytest.raises(InvalidTransitionError, match=f"cannot go from {current} to {new}"):
        transition(current, new)


def test_allowed_transitions_pass() -> None:
    assert transition(ExecutionStatus.RUNNING, ExecutionStatus.PAUSED) is ExecutionStatus.PAUSED
    assert transition(WaveStatus.LAUNCHING, WaveStatus.LAUNCHED) is WaveStatus.LAUNCHED
    assert transition(ServerStatus.LAUNCHED, ServerStatus.TERMINATED) is ServerStatus.TERMINATED


def test_tag_selectors_resolve_against_the_inventory() -> None:
    inventory = [
        {"sourceServerID": "s-1", "tags": {"Role": "web", "Env": "prod"}},
        {"sourceServerID": "s-2", "tags": {"Role": "web", "Env": "test"}},
        {"sourceServerID": "s-3", "tags": {"Role": "db", "Env": "prod"}},
    ]
    group = ProtectionGroup(
        "web",
        "us-east-1",
        source_server_ids=("s-9",),
        tag_selectors={"Role": ["web"], "Env": ["prod", "dr"]},
    )
    assert resolve(group, inventory) == ["s-9", "s-1"]


def test_a_server_in_another_group_is_a_conflict_naming_both() -> None:
    assert membership_conflicts("web", ["s-1", "s-2"], {"db": ["s-2"], "web": ["s-1"]}) == [
        Problem("sourceServerIds", "source server s-2 already belongs to protection group 'db'")
    ]
