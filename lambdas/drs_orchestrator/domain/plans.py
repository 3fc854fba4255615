"""Protection groups and recovery plans, and the rules a plan must satisfy before it runs.

Validation returns every problem with the field it concerns, so the API can answer one 400
that says everything to fix. The DRS quotas come from the service: at most
``SERVERS_PER_JOB`` servers per job (a larger wave is launched as several jobs), at most
``MAX_CONCURRENT_JOBS`` jobs and ``MAX_SERVERS_IN_ACTIVE_JOBS`` servers in jobs running at
the same time. Waves that do not depend on each other (directly or through other waves)
may run at the same time, so the plan is checked against its worst case: the heaviest set
of mutually independent waves (``domain/concurrency.py``, in polynomial time). DRS counts
its quotas per account and region, so a plan whose groups are bound to several DRS targets
is checked once per target, with only that target's servers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from drs_orchestrator.domain.concurrency import heaviest_concurrent_set

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

SERVERS_PER_JOB = 100
MAX_CONCURRENT_JOBS = 20
MAX_SERVERS_IN_ACTIVE_JOBS = 500
MAX_WAVES = 50
#: An execution records every server's launch on its one DynamoDB item (400 KB at most);
#: 500 servers with the longest names fit with room to spare
#: (``tests/lambdas/test_item_bounds.py`` builds that worst case).
MAX_SERVERS_PER_PLAN = 500
#: Saving a plan updates every group it uses (and every group it stopped using) in one
#: DynamoDB transaction of at most 100 writes.
MAX_GROUPS_PER_PLAN = 40
#: A plan as stored (JSON, UTF-8); keeps a plan and the execution that copies it well
#: under DynamoDB's 400 KB item limit whatever its action parameters hold.
MAX_PLAN_BYTES = 32 * 1024


@dataclass(frozen=True)
class Action:
    """An SSM Automation document run before or after a wave."""

    document: str
    parameters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    max_wait_seconds: int = 900


@dataclass(frozen=True)
class Wave:
    name: str
    protection_groups: tuple[str, ...]
    depends_on: tuple[str, ...] = ()
    pause_before: bool = False
    pre_actions: tuple[Action, ...] = ()
    post_actions: tuple[Action, ...] = ()
    #: Run once the wave is home after a failback; None: its ``post_actions`` run then.
    failback_actions: tuple[Action, ...] | None = None

    def action_lists(self) -> dict[str, tuple[Action, ...]]:
        """The wave's actions by the request field that holds them."""
        lists = {"preActions": self.pre_actions, "postActions": self.post_actions}
        if self.failback_actions is not None:
            lists["failbackActions"] = self.failback_actions
        return lists


@dataclass(frozen=True)
class RecoveryPlan:
    name: str
    waves: tuple[Wave, ...]
    description: str = ""


@dataclass(frozen=True)
class Problem:
    """One reason a request or a plan is invalid, and the field it concerns."""

    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


def job_batches(server_ids: Sequence[str], size: int = SERVERS_PER_JOB) -> list[list[str]]:
    """The DRS jobs a wave needs: its servers in order, at most ``size`` per job."""
    return [list(server_ids[i : i + size]) for i in range(0, len(server_ids), size)]


def find_cycle(edges: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A dependency cycle as a path that returns to its start, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in edges.get(node, ()):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in edges:
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def validate_plan(
    plan: RecoveryPlan,
    group_servers: Mapping[str, Sequence[str]],
    group_targets: Mapping[str, str | None] | None = None,
) -> list[Problem]:
    """Every problem of ``plan``; ``group_servers`` maps each known group to its servers,
    ``group_targets`` each group to the DRS target it is bound to (absent or None: the
    deployment's own account and region)."""
    problems: list[Problem] = []
    if not plan.name.strip():
        problems.append(Problem("name", "must not be empty"))
    if not plan.waves:
        problems.append(Problem("waves", "a plan needs at least one wave"))
        return problems
    if len(plan.waves) > MAX_WAVES:
        problems.append(Problem("waves", f"{len(plan.waves)} waves; at most {MAX_WAVES}"))
        return problems

    names = [w.name for w in plan.waves]
    for index, wave in enumerate(plan.waves):
        where = f"waves[{index}]"
        if not wave.name.strip():
            problems.append(Problem(f"{where}.name", "must not be empty"))
        elif names.index(wave.name) != index:
            problems.append(
                Problem(
                    f"{where}.name",
                    f"'{wave.name}' is already the name of waves[{names.index(wave.name)}]",
                )
            )
        if not wave.protection_groups:
            problems.append(
                Problem(f"{where}.protectionGroups", f"wave '{wave.name}' has no protection group")
            )
        for j, group in enumerate(wave.protection_groups):
            if group not in group_servers:
                problems.append(
                    Problem(f"{where}.protectionGroups[{j}]", f"unknown protection group '{group}'")
                )
        for j, dependency in enumerate(wave.depends_on):
            if dependency == wave.name:
                problems.append(
                    Problem(
                        f"{where}.dependsOn[{j}]", f"wave '{wave.name}' cannot depend on itself"
                    )
                )
            elif dependency not in names:
                problems.append(Problem(f"{where}.dependsOn[{j}]", f"unknown wave '{dependency}'"))
        for list_name, actions in wave.action_lists().items():
            for j, action in enumerate(actions):
                at = f"{where}.{list_name}[{j}]"
                if not action.document.strip():
                    problems.append(Problem(f"{at}.document", "must not be empty"))
                if not 1 <= action.max_wait_seconds <= 86400:
                    problems.append(
                        Problem(f"{at}.maxWaitSeconds", "must be between 1 and 86400 seconds")
                    )

    used_groups = {g for w in plan.waves for g in w.protection_groups}
    if len(used_groups) > MAX_GROUPS_PER_PLAN:
        problems.append(
            Problem(
                "waves",
                f"the plan uses {len(used_groups)} protection groups; at most "
                f"{MAX_GROUPS_PER_PLAN}",
            )
        )

    edges = {w.name: [d for d in w.depends_on if d in names and d != w.name] for w in plan.waves}
    cycle = find_cycle(edges)
    if cycle:
        problems.append(Problem("waves", "dependency cycle: " + " -> ".join(cycle)))

    servers_of: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for index, wave in enumerate(plan.waves):
        servers: list[str] = []
        for group in wave.protection_groups:
            for server in group_servers.get(group, ()):
                if server in owner and owner[server] != wave.name:
                    problems.append(
                        Problem(
                            f"waves[{index}].protectionGroups",
                            f"source server {server} is in wave '{owner[server]}' and wave "
                            f"'{wave.name}'; a server can be in one wave only",
                        )
                    )
                elif server not in servers:
                    owner[server] = wave.name
                    servers.append(server)
        servers_of[wave.name] = servers
        if (
            wave.protection_groups
            and not servers
            and all(g in group_servers for g in wave.protection_groups)
        ):
            problems.append(
                Problem(
                    f"waves[{index}].protectionGroups",
                    f"wave '{wave.name}' resolves to no source server",
                )
            )

    total = sum(len(s) for s in servers_of.values())
    if total > MAX_SERVERS_PER_PLAN:
        problems.append(
            Problem(
                "waves",
                f"the plan resolves to {total} source servers; an execution tracks at most "
                f"{MAX_SERVERS_PER_PLAN} (split it into several plans)",
            )
        )
    if cycle is None:
        by_target = _servers_by_target(plan, servers_of, group_servers, group_targets or {})
        for key, in_target in by_target.items():
            where = "" if len(by_target) == 1 else f" in {key or 'the home account and region'}"
            problems += _quota_problems(edges, in_target, where)
    return problems


def _servers_by_target(
    plan: RecoveryPlan,
    servers_of: Mapping[str, Sequence[str]],
    group_servers: Mapping[str, Sequence[str]],
    group_targets: Mapping[str, str | None],
) -> dict[str | None, dict[str, list[str]]]:
    """For each DRS target the plan launches in: each wave's servers there."""
    target_of = {
        server: group_targets.get(group)
        for wave in plan.waves
        for group in wave.protection_groups
        for server in group_servers.get(group, ())
    }
    keys = sorted({target_of[s] for ss in servers_of.values() for s in ss}, key=lambda k: k or "")
    return {
        key: {w: [s for s in ss if target_of[s] == key] for w, ss in servers_of.items()}
        for key in keys
    }


def wave_servers(wave: Wave, group_servers: Mapping[str, Sequence[str]]) -> list[str]:
    """A wave's servers: its groups' servers in order, each once."""
    servers: list[str] = []
    for group in wave.protection_groups:
        servers += [s for s in group_servers.get(group, ()) if s not in servers]
    return servers


def concurrent_demand(
    plan: RecoveryPlan,
    group_servers: Mapping[str, Sequence[str]],
    group_targets: Mapping[str, str | None] | None = None,
) -> dict[str | None, tuple[int, int]]:
    """For each DRS target the plan launches in (None: home), the most DRS jobs and the most
    servers in active jobs its waves may need there at the same time (an acyclic plan)."""
    servers_of = {wave.name: wave_servers(wave, group_servers) for wave in plan.waves}
    edges = {w.name: list(w.depends_on) for w in plan.waves}
    demand = {}
    for key, in_target in _servers_by_target(
        plan, servers_of, group_servers, group_targets or {}
    ).items():
        jobs, _ = heaviest_concurrent_set(
            edges, {w: math.ceil(len(s) / SERVERS_PER_JOB) for w, s in in_target.items()}
        )
        servers, _ = heaviest_concurrent_set(edges, {w: len(s) for w, s in in_target.items()})
        demand[key] = (jobs, servers)
    return demand


def stored_size_problem(encoded: bytes) -> Problem | None:
    """A problem when a plan stored as ``encoded`` (JSON) would be too large."""
    if len(encoded) <= MAX_PLAN_BYTES:
        return None
    return Problem(
        "body",
        f"the plan takes {len(encoded)} bytes stored; at most {MAX_PLAN_BYTES} "
        "(shorten action parameters or descriptions)",
    )


def _quota_problems(
    edges: Mapping[str, Iterable[str]], servers_of: Mapping[str, Sequence[str]], where: str = ""
) -> list[Problem]:
    """The DRS quotas the heaviest set of concurrent waves would exceed in one target
    (``where`` names it when the plan spans several)."""
    problems = []
    jobs = {w: math.ceil(len(s) / SERVERS_PER_JOB) for w, s in servers_of.items()}
    servers = {w: len(s) for w, s in servers_of.items()}
    total_jobs, job_waves = heaviest_concurrent_set(edges, jobs)
    if total_jobs > MAX_CONCURRENT_JOBS:
        problems.append(
            Problem(
                "waves",
                (
                    f"waves {', '.join(sorted(job_waves))} can run at the same time with "
                    f"{total_jobs} DRS jobs{where}; "
                    f"DRS allows {MAX_CONCURRENT_JOBS} concurrent jobs "
                    f"(a job holds at most {SERVERS_PER_JOB} servers)"
                ),
            )
        )
    total_servers, server_waves = heaviest_concurrent_set(edges, servers)
    if total_servers > MAX_SERVERS_IN_ACTIVE_JOBS:
        problems.append(
            Problem(
                "waves",
                (
                    f"waves {', '.join(sorted(server_waves))} can run at the same time with "
                    f"{total_servers} servers{where}; "
                    f"DRS allows {MAX_SERVERS_IN_ACTIVE_JOBS} servers "
                    "across active jobs"
                ),
            )
        )
    return problems


def ready_waves(
    plan: RecoveryPlan, wave_status: Mapping[str, str], has_launched: Iterable[str]
) -> list[Wave]:
    """Pending waves whose every dependency has launched, in plan order."""
    launched = set(has_launched)
    return [
        wave
        for wave in plan.waves
        if wave_status.get(wave.name) == "PENDING"
        and all(wave_status.get(d) in launched for d in wave.depends_on)
    ]
