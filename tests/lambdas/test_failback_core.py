"""The failback core (``domain/failback.py``) driven by a small shell over the DRS simulator
(every call held to botocore's model): a three-wave failback of a real recovery, on-premises
and AWS sources, the cut-over approval, a failback that errs, a cancel, a lost answer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from drs_orchestrator.adapters.drs import DrsGateway
from drs_orchestrator.adapters.ssm import Automations
from drs_orchestrator.domain import actions as wave_actions
from drs_orchestrator.domain import failback as core
from drs_orchestrator.domain.actions import StartAutomation
from drs_orchestrator.services.failback import EXECUTION_TAG

from drsctl.invariants import violations
from tests.fakes.drs import FakeDrs
from tests.fakes.ssm import FakeSsm

ORIGIN_KEY = "444455556666/us-west-2"
DB = ["s-0000000000000db01", "s-0000000000000db02"]
APP = ["s-000000000000app01"]
WEB = ["s-000000000000web01"]


class World:
    """A recovery run in the simulator, then its failback ticked to its end."""

    def __init__(
        self,
        *,
        lose_reverse_answers: int = 0,
        options: dict[str, bool] | None = None,
        actions: dict[str, dict[str, Any]] | None = None,
        lose_action_answers: int = 0,
    ) -> None:
        self.ssm = FakeSsm()
        self.automations = Automations(self.ssm.client())
        #: Per wave, the recovery's ``postActions`` / ``failbackActions``.
        self.actions = actions or {}
        self.lose_action_answers = lose_action_answers
        self.drs = FakeDrs(region="us-east-1")
        self.drs.autopilot = True
        self.origin = FakeDrs(region="us-west-2", account="444455556666")
        self.origin.autopilot = True
        self.drs.origin_drs = lambda region, account: (
            self.origin if (account, region) == ("444455556666", "us-west-2") else None
        )
        for server in (*DB, *WEB):
            self.drs.add_source_server(server)
        for server in APP:
            self.drs.add_source_server(server, origin=("us-west-2", "444455556666"))
        self.home = DrsGateway(self.drs.client())
        self.at_origin = DrsGateway(self.origin.client())
        self.lose_reverse_answers = lose_reverse_answers
        self.reverses: list[str] = []
        self.launches: list[str] = []
        recovery = self._recover()
        origins = {s: ORIGIN_KEY for s in APP}
        self.item = core.new_failback("fb-1", recovery, origins, "2026-11-30T12:00:00Z", options)

    def _recover(self) -> dict[str, Any]:
        """A finished recovery of the three waves, as the execution core records it."""
        servers: dict[str, Any] = {}
        jobs: dict[str, Any] = {}
        for group in (DB, APP, WEB):
            job = self.home.start_recovery(
                group, is_drill=False, tags={"drs-orchestrator:batch": "r"}
            )
            self.drs.start(job["jobID"])
            self.drs.finish(job["jobID"])
            jobs[job["jobID"]] = {"jobId": job["jobID"]}
            for launched in self.drs.jobs[job["jobID"]]["participatingServers"]:
                servers[launched["sourceServerID"]] = {
                    "launchStatus": "LAUNCHED",
                    "recoveryInstanceId": launched["recoveryInstanceID"],
                    "jobId": job["jobID"],
                }
        waves = [
            {"name": "Db", "servers": DB},
            {"name": "App", "servers": APP, "dependsOn": ["Db"]},
            {"name": "Web", "servers": WEB, "dependsOn": ["App"], "pauseBefore": True},
        ]
        for wave in waves:
            wave.update(self.actions.get(str(wave["name"]), {}))
        return {
            "executionId": "rec-1",
            "planId": "rp-1",
            "waves": waves,
            "servers": servers,
            "jobs": jobs,
        }

    def observe(self) -> core.Observations:
        instances = {i["recoveryInstanceID"]: i for i in self.home.recovery_instances()}
        seen: dict[str, core.InstanceView | None] = {}
        for server in self.item["failback"].values():
            found = instances.get(server["instance"])
            seen[server["instance"]] = (
                None
                if found is None
                else core.InstanceView(
                    found["failback"]["state"],
                    (
                        (found.get("dataReplicationInfo") or {}).get("dataReplicationError") or {}
                    ).get("error"),
                )
            )
        job_ids = {s["jobId"] for s in self.item["failback"].values() if s.get("jobId")}
        jobs = {}
        for gateway in (self.home, self.at_origin):
            for job_id, job in gateway.describe_jobs(job_ids).items():
                jobs[job_id] = core.JobView(
                    job.status, {s.source_server_id: s.launch_status for s in job.servers}
                )
        automations = {
            run_id: self.automations.status(run_id)
            for run_id in wave_actions.automations_to_check(self.item)
        }
        return core.Observations(seen, jobs, automations)

    def tick(self, now: str = "2026-11-30T12:01:00Z") -> core.Decision:
        decision = core.decide(self.item, self.observe(), now)
        self.item = {**self.item, **decision.changes}  # saved (versioning is the shell's)
        for command in decision.commands:
            self._carry_out(command)
        return decision

    def _carry_out(self, command: core.Command) -> None:
        if isinstance(command, StartAutomation):
            run_id = self.automations.start(command.document, command.parameters, command.token)
            if self.lose_action_answers:
                self.lose_action_answers -= 1
                return  # the answer was lost: started again (the same run) next tick
            self.item = {
                **self.item,
                **wave_actions.record_automation_started(
                    self.item, command.wave, command.phase, command.index, run_id
                ),
            }
        elif isinstance(command, core.ReverseReplication):
            arn = self.home.reverse_replication(command.instance)
            self.reverses.append(command.server)
            if self.lose_reverse_answers:
                self.lose_reverse_answers -= 1
                return  # the answer was lost: asked again next tick
            self.item = {**self.item, **core.record_reversed(self.item, command.server, arn)}
        elif isinstance(command, core.Protect):
            self.home.start_replication(command.server)
            self.item = {**self.item, **core.record_protected(self.item, command.server)}
        elif isinstance(command, core.Terminate):
            self.home.terminate_recovery_instances(list(command.instances))
        elif isinstance(command, core.FailbackLaunch):
            job = self.home.start_failback_launch(
                list(command.instances), self._tags(command.batch)
            )
            self.launches.append(command.batch)
            self.item = {**self.item, **core.record_launch(self.item, command.batch, job.job_id)}
        else:
            job = self.at_origin.start_recovery(
                list(command.reversed_servers), is_drill=False, tags=self._tags(command.batch)
            )
            self.launches.append(command.batch)
            self.item = {**self.item, **core.record_launch(self.item, command.batch, job["jobID"])}

    def _tags(self, batch: str) -> dict[str, str]:
        return {core.BATCH_TAG: batch, EXECUTION_TAG: self.item["executionId"]}

    def jobs(self) -> list[dict[str, Any]]:
        """Every DRS job of both accounts: what the invariants are checked against."""
        return [*self.drs.jobs.values(), *self.origin.jobs.values()]

    def connect_clients(self, servers: list[str]) -> None:
        for server in servers:
            self.drs.connect_failback_client(self.item["failback"][server]["instance"])

    def run(self, ticks: int = 30, approve: bool = True) -> None:
        for _ in range(ticks):
            decision = self.tick()
            if decision.route == "done":
                return
            if decision.route == "approval" and approve:
                for wave in self.item["waves"]:
                    if wave["status"] == "AWAITING_APPROVAL":
                        wave["approved"] = True

    def wave(self, name: str) -> dict[str, Any]:
        return next(w for w in self.item["waves"] if w["name"] == name)


def test_a_three_wave_failback_brings_every_server_home_in_dependency_order() -> None:
    world = World()
    world.tick()
    assert world.wave("Db")["status"] == "REPLICATING"
    assert {world.item["failback"][s]["step"] for s in DB} == {"AWAITING_CLIENT"}
    assert world.wave("App")["status"] == "PENDING", "after its dependency only"
    for _ in range(3):
        world.tick()
    assert world.wave("Db")["status"] == "REPLICATING", "waits, visibly, for the clients"
    world.connect_clients([*DB, *WEB])
    world.run(approve=False)
    assert world.item["status"] == "PAUSED"
    assert world.wave("Web")["status"] == "AWAITING_APPROVAL", "the cut-over waits"
    assert [w["status"] for w in world.item["waves"][:2]] == ["COMPLETED", "COMPLETED"]
    world.run()
    assert world.item["status"] == "COMPLETED"
    assert {s["step"] for s in world.item["failback"].values()} == {"HOME"}
    assert world.reverses == APP, "reverse replication asked once, for the AWS source"
    assert [b.split("-")[2] for b in world.launches] == ["Db", "App", "Web"]
    assert world.item["failback"][APP[0]]["reversedServer"].startswith("s-")
    assert world.drs.violations == world.origin.violations == []
    assert violations(world.item, world.jobs()) == []


def test_a_reverse_replication_whose_answer_was_lost_is_asked_again() -> None:
    world = World(lose_reverse_answers=1)
    world.connect_clients([*DB, *WEB])
    world.run()
    assert world.item["status"] == "COMPLETED"
    assert world.reverses == APP * 2
    assert world.item["failback"][APP[0]]["reversedServer"]


def test_a_failback_that_errs_fails_its_wave_and_skips_what_depends_on_it() -> None:
    world = World()
    world.connect_clients([DB[0]])
    world.drs.stall_failback(world.item["failback"][DB[1]]["instance"])
    world.connect_clients([DB[1]])
    world.run()
    assert world.item["status"] == "FAILED"
    db = world.wave("Db")
    assert db["status"] == "FAILED" and DB[1] in db["reason"] and DB[0] not in db["reason"]
    assert "FAILBACK_CLIENT_NOT_SEEN" in db["reason"]
    assert [w["status"] for w in world.item["waves"][1:]] == ["SKIPPED", "SKIPPED"]
    assert world.launches == [], "nothing launched: the wave never got ready"


def test_a_cancel_never_abandons_a_launch_under_way() -> None:
    world = World()
    world.connect_clients([*DB, *WEB])
    while world.wave("Db")["status"] != "LAUNCHING":
        world.tick()
    world.item["status"] = "CANCELLING"
    world.run()
    assert world.item["status"] == "CANCELLED"
    assert world.wave("Db")["status"] == "COMPLETED", "its launch was seen to its end"
    assert [w["status"] for w in world.item["waves"][1:]] == ["SKIPPED", "SKIPPED"]


def test_a_gone_recovery_instance_fails_its_server_with_the_reason() -> None:
    world = World()
    world.home.terminate_recovery_instances([world.item["failback"][DB[0]]["instance"]])
    world.run()
    assert "is gone" in world.wave("Db")["reason"]
    assert world.item["status"] == "FAILED"


def test_a_step_the_table_does_not_allow_is_refused() -> None:
    server = {"step": "HOME"}
    with pytest.raises(ValueError, match="HOME -> READY"):
        core._step(server, core.Step.READY)
    assert core.batches_in_doubt(
        {"failback": {"s": {"step": "LAUNCH_INTENDED", "batch": "b"}}}
    ) == {"b"}


def test_a_failback_stopped_by_hand_is_reversed_again() -> None:
    world = World()
    world.connect_clients([*DB, *WEB])
    while world.wave("App")["status"] != "REPLICATING":
        world.tick()  # the tick that starts the wave asks the reverse and records it
    instance = world.item["failback"][APP[0]]["instance"]
    world.home.stop_failback(instance)
    world.run()
    assert world.item["status"] == "COMPLETED"
    assert world.reverses == APP * 2, "asked again once DRS showed it stopped"


def test_once_home_forward_replication_restarts_and_the_recovery_instances_go() -> None:
    world = World(options={"restartReplication": True, "terminateRecoveryInstances": True})
    world.connect_clients([*DB, *WEB])
    world.run()
    assert world.item["status"] == "COMPLETED"
    assert all(s["protected"] for s in world.item["failback"].values())
    assert world.home.recovery_instances() == [], "every recovery instance terminated"
    started = [c[1]["sourceServerID"] for c in world.drs.calls if c[0] == "StartReplication"]
    assert sorted(started) == sorted([*DB, *APP, *WEB]), "each server protected once"
    assert world.drs.violations == []


def test_without_options_the_recovery_instances_stay() -> None:
    world = World()
    world.connect_clients([*DB, *WEB])
    world.run()
    assert world.item["status"] == "COMPLETED"
    assert len(world.home.recovery_instances()) == 4
    assert not any(c[0] == "StartReplication" for c in world.drs.calls)


def started_documents(world: World) -> list[str]:
    return [p["DocumentName"] for op, p in world.ssm.calls if op == "StartAutomationExecution"]


def test_each_wave_runs_its_actions_once_home_before_what_depends_on_it() -> None:
    """Db names failback actions of its own (they run, not its post actions); App has
    post actions only (they run); Web names none after a failback (nothing runs)."""
    world = World(
        actions={
            "Db": {
                "postActions": [{"document": "DR-ToRecovery"}],
                "failbackActions": [{"document": "DR-DnsHome"}, {"document": "DR-Check"}],
            },
            "App": {"postActions": [{"document": "DR-AppCheck", "parameters": {"Tier": ["app"]}}]},
            "Web": {"postActions": [{"document": "DR-ToRecovery"}], "failbackActions": []},
        }
    )
    assert [w["postActions"] for w in world.item["waves"]] == [
        [{"document": "DR-DnsHome"}, {"document": "DR-Check"}],
        [{"document": "DR-AppCheck", "parameters": {"Tier": ["app"]}}],
        [],
    ]
    world.connect_clients([*DB, *WEB])
    while world.wave("Db")["status"] != "POST_ACTIONS":
        world.tick()
    assert world.wave("App")["status"] == "PENDING", "the wave is not done until its actions"
    assert world.wave("Db")["launchedAt"]
    world.run()
    assert world.item["status"] == "COMPLETED"
    assert started_documents(world) == ["DR-DnsHome", "DR-Check", "DR-AppCheck"]
    app_start = next(
        p
        for op, p in world.ssm.calls
        if op == "StartAutomationExecution" and p["DocumentName"] == "DR-AppCheck"
    )
    assert app_start["Parameters"] == {"Tier": ["app"]}
    runs = world.wave("Db")["actionRuns"]
    assert [(r["phase"], r["document"], r["status"]) for r in runs] == [
        ("post", "DR-DnsHome", "Success"),
        ("post", "DR-Check", "Success"),
    ]
    assert "actionRuns" not in world.wave("Web") or world.wave("Web")["actionRuns"] == []
    assert world.ssm.violations == []


def test_a_failed_action_fails_its_wave_home_and_skips_what_depends_on_it() -> None:
    world = World(actions={"Db": {"postActions": [{"document": "DR-Check"}]}})
    world.ssm.failing.add("DR-Check")
    world.connect_clients([*DB, *WEB])
    world.run()
    assert world.item["status"] == "FAILED"
    db = world.wave("Db")
    assert db["status"] == "FAILED"
    assert db["reason"] == (
        "home, but post-wave action DR-Check ended Failed: step 1 of DR-Check failed"
    )
    assert {world.item["failback"][s]["step"] for s in DB} == {"HOME"}, "its servers are home"
    assert [w["status"] for w in world.item["waves"][1:]] == ["SKIPPED", "SKIPPED"]


def test_an_action_whose_start_answer_was_lost_is_started_again_as_the_same_run() -> None:
    world = World(
        actions={"Db": {"postActions": [{"document": "DR-Check"}]}}, lose_action_answers=1
    )
    world.connect_clients([*DB, *WEB])
    world.run()
    assert world.item["status"] == "COMPLETED"
    assert started_documents(world) == ["DR-Check", "DR-Check"], "asked twice"
    assert len(world.ssm.executions) == 1, "one automation: the token made it the same run"
    tokens = {p["ClientToken"] for op, p in world.ssm.calls if op == "StartAutomationExecution"}
    assert len(tokens) == 1


def test_an_action_past_its_max_wait_fails_the_wave_naming_it() -> None:
    world = World(actions={"Db": {"postActions": [{"document": "DR-Slow", "maxWaitSeconds": 60}]}})
    world.ssm.stuck.add("DR-Slow")
    world.connect_clients([*DB, *WEB])
    while world.wave("Db")["status"] != "POST_ACTIONS":
        world.tick()
    world.tick("2026-11-30T12:01:30Z")
    assert world.wave("Db")["status"] == "POST_ACTIONS", "within its max wait"
    world.tick("2026-11-30T12:02:30Z")
    assert world.wave("Db")["status"] == "FAILED"
    assert "DR-Slow still InProgress after its max wait of 60 s" in world.wave("Db")["reason"]


def test_a_cancel_while_a_wave_runs_its_actions_lets_them_end() -> None:
    world = World(actions={"Db": {"postActions": [{"document": "DR-Check"}]}})
    world.connect_clients([*DB, *WEB])
    while world.wave("Db")["status"] != "POST_ACTIONS":
        world.tick()
    world.item["status"] = "CANCELLING"
    world.run()
    assert world.item["status"] == "CANCELLED"
    assert world.wave("Db")["status"] == "COMPLETED"
    assert world.wave("Db")["actionRuns"][0]["status"] == "Success"
    assert [w["status"] for w in world.item["waves"][1:]] == ["SKIPPED", "SKIPPED"]


def test_a_failback_action_token_is_not_the_recovery_s() -> None:
    """The same wave's action in the recovery and in its failback are two runs."""
    recovery_token = wave_actions.action_token("rec-1", "Db", "post", 0)
    world = World(actions={"Db": {"postActions": [{"document": "DR-Check"}]}})
    world.connect_clients([*DB, *WEB])
    world.run()
    tokens = [p["ClientToken"] for op, p in world.ssm.calls if op == "StartAutomationExecution"]
    assert tokens == [wave_actions.action_token("fb-1", "Db", "post", 0)]
    assert recovery_token not in tokens


def test_the_invariants_hold_a_failback_to_its_promises() -> None:
    """drsctl/invariants.py in a failback's terms: each way of breaking a promise is named."""
    world = World(
        options={"restartReplication": True},
        actions={"Db": {"postActions": [{"document": "DR-Check"}]}},
    )
    world.connect_clients([*DB, *WEB])
    world.run()
    item, jobs = world.item, world.jobs()
    assert item["status"] == "COMPLETED"
    assert len([j for j in jobs if (j.get("tags") or {}).get(EXECUTION_TAG) == "fb-1"]) == 3
    assert violations(item, jobs) == []

    def broken(change: Any) -> list[str]:
        copy = json.loads(json.dumps(item))
        more = json.loads(json.dumps(jobs))
        change(copy, more)
        return violations(copy, more)

    def relaunched(_item: dict[str, Any], more: list[dict[str, Any]]) -> None:
        ours = next(j for j in more if (j.get("tags") or {}).get(EXECUTION_TAG) == "fb-1")
        again = json.loads(json.dumps(ours))
        again["jobID"] = "drsjob-again"
        more.append(again)

    found = broken(relaunched)
    assert any(f.startswith("nothing-launched-is-lost: failback job drsjob-again") for f in found)
    assert any(f.startswith("no-partial-wave: batch ") for f in found)

    def not_home(copy: dict[str, Any], _jobs: list[dict[str, Any]]) -> None:
        copy["failback"][DB[0]]["step"] = "LAUNCHING"

    assert f"no-partial-wave: wave Db COMPLETED without ['{DB[0]}']" in broken(not_home)

    def action_failed(copy: dict[str, Any], _jobs: list[dict[str, Any]]) -> None:
        copy["waves"][0]["actionRuns"][0]["status"] = "Failed"

    assert broken(action_failed) == [
        "dependencies-mean-ready: Db COMPLETED with its action DR-Check Failed"
    ]

    def unprotected(copy: dict[str, Any], _jobs: list[dict[str, Any]]) -> None:
        copy["failback"][WEB[0]]["protected"] = False

    assert broken(unprotected) == [f"every-execution-ends: COMPLETED, ['{WEB[0]}'] not protected"]

    def still_running(copy: dict[str, Any], _jobs: list[dict[str, Any]]) -> None:
        copy["status"] = "RUNNING"

    assert broken(still_running) == ["every-execution-ends: still RUNNING"]
