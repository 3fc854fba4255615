"""Readiness (issue 16): each check of a plan's servers, as a pure evaluation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from drs_orchestrator.domain import readiness
from drs_orchestrator.domain.readiness import Thresholds, duration, evaluate

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
RECENT = NOW - timedelta(minutes=10)


def replicating(state: str = "CONTINUOUS", lag: str = "PT5S", error: str | None = None) -> dict:
    info: dict[str, Any] = {"dataReplicationState": state, "lagDuration": lag}
    if error:
        info["dataReplicationError"] = {"error": error}
    return {"sourceServerID": "s-x", "dataReplicationInfo": info}


def one(item: dict | None, snapshot: datetime | None = RECENT, **limits: Any) -> Any:
    return evaluate([("DB", ["s-1"])], {"s-1": item}, {"s-1": snapshot}, NOW, Thresholds(**limits))


def test_a_server_replicating_continuously_with_a_recent_snapshot_passes() -> None:
    result = one(replicating())
    assert result.state == "passed" and result.findings == [] and result.servers == 1


@pytest.mark.parametrize(
    ("item", "snapshot", "state", "check", "words"),
    [
        (None, RECENT, "actionRequired", "source-server", "s-1 (wave DB) is not in DRS"),
        (
            replicating("STALLED", error="AGENT_NOT_SEEN"),
            RECENT,
            "actionRequired",
            "replication",
            "data replication of s-1 (wave DB) is STALLED (AGENT_NOT_SEEN)",
        ),
        (replicating("DISCONNECTED"), RECENT, "actionRequired", "replication", "DISCONNECTED"),
        (replicating("PAUSED"), RECENT, "actionRequired", "replication", "PAUSED"),
        (
            replicating("INITIAL_SYNC"),
            RECENT,
            "warnings",
            "replication",
            "is INITIAL_SYNC, not yet continuous",
        ),
        (
            replicating(lag="PT1H30M"),
            RECENT,
            "warnings",
            "lag",
            "replication lag of s-1 (wave DB) is 1 h 30 min, over the plan's 1 h 0 min",
        ),
        (replicating(), None, "actionRequired", "snapshot", "has no point-in-time snapshot"),
        (
            replicating(),
            NOW - timedelta(hours=3),
            "warnings",
            "snapshot",
            "the newest snapshot of s-1 (wave DB) is 3 h 0 min old, over 2 h 0 min",
        ),
    ],
)
def test_each_check_names_the_server_its_wave_and_the_fix(
    item: dict | None, snapshot: datetime | None, state: str, check: str, words: str
) -> None:
    result = one(item, snapshot)
    assert result.state == state
    [finding] = result.findings
    assert finding.check == check and finding.server == "s-1" and finding.wave == "DB"
    assert words in finding.message
    assert finding.fix


def test_the_lag_threshold_is_the_plans() -> None:
    assert one(replicating(lag="PT20M")).state == "passed"
    assert one(replicating(lag="PT20M"), max_lag=timedelta(minutes=15)).state == "warnings"


def test_the_worst_finding_decides_the_state() -> None:
    result = evaluate(
        [("DB", ["s-1"]), ("Web", ["s-2"])],
        {"s-1": replicating(lag="PT2H"), "s-2": None},
        {"s-1": RECENT, "s-2": None},
        NOW,
    )
    assert result.state == "actionRequired"
    assert [(f.wave, f.check) for f in result.findings] == [("DB", "lag"), ("Web", "source-server")]


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("PT0S", timedelta(0)),
        ("PT1H2M3S", timedelta(hours=1, minutes=2, seconds=3)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("PT0.5S", timedelta(seconds=0.5)),
        ("PT", None),
        ("", None),
        ("1 hour", None),
    ],
)
def test_drs_lag_durations_are_read(text: str, span: timedelta | None) -> None:
    assert duration(text) == span


def test_each_action_needs_an_existing_automation_document() -> None:
    from drs_orchestrator.domain.readiness import ActionDocument

    actions = [
        ActionDocument("DB", "pre", 0, "DR-Prepare", "Automation"),
        ActionDocument("DB", "post", 0, "AWS-RunShellScript", "Command"),
        ActionDocument("Web", "pre", 1, "Gone", None),
    ]
    result = evaluate(
        [("DB", ["s-1"])], {"s-1": replicating()}, {"s-1": RECENT}, NOW, None, actions
    )
    assert result.state == "actionRequired"
    assert [(f.check, f.wave, f.server) for f in result.findings] == [
        ("ssm-document", "DB", ""),
        ("ssm-document", "Web", ""),
    ]
    assert result.findings[0].message == (
        "post-wave action 1 of wave DB: SSM document AWS-RunShellScript is a Command document, "
        "not an Automation document"
    )
    assert "aws:runCommand" in result.findings[0].fix
    assert (
        result.findings[1].message
        == "pre-wave action 2 of wave Web: SSM document Gone does not exist"
    )


def test_ssm_refuses_to_run_a_command_document_as_an_automation() -> None:
    from drs_orchestrator.adapters.ssm import AutomationError, Automations

    from tests.fakes.ssm import FakeSsm

    ssm = FakeSsm()
    automations = Automations(client=ssm.client())
    with pytest.raises(AutomationError, match="AutomationDefinitionNotFoundException"):
        automations.start("AWS-RunShellScript", {}, "00000000-0000-4000-8000-000000000001")
    assert automations.document_type("AWS-RunShellScript") == "Command"
    assert automations.document_type("DR-Prepare") == "Automation"
    ssm.documents["DR-Gone"] = None
    assert automations.document_type("DR-Gone") is None
    assert automations.start("DR-Prepare", {}, "00000000-0000-4000-8000-000000000002")
    assert ssm.violations == []


def test_quota_headroom_counts_what_is_already_in_active_jobs() -> None:
    from drs_orchestrator.domain.readiness import QuotaUse

    fits = QuotaUse(
        "home/us-east-1", active_jobs=15, active_servers=200, plan_jobs=5, plan_servers=300
    )
    jobs_over = QuotaUse("111122223333/us-west-2", 18, 10, 3, 30)
    servers_over = QuotaUse("home/us-east-1", 2, 450, 1, 60)
    base = ([("DB", ["s-1"])], {"s-1": replicating()}, {"s-1": RECENT}, NOW, None, ())
    assert evaluate(*base, [fits]).state == "passed"
    [jobs] = evaluate(*base, [jobs_over]).findings
    assert (jobs.check, jobs.severity) == ("quota", "warning")
    assert jobs.message == (
        "in 111122223333/us-west-2: 18 DRS jobs now, and the plan's waves may need 3 more at "
        "once; DRS allows 20"
    )
    [servers] = evaluate(*base, [servers_over]).findings
    assert (
        "450 servers in active jobs now" in servers.message and "DRS allows 500" in servers.message
    )


def test_the_concurrent_demand_of_a_plan_is_per_target() -> None:
    from drs_orchestrator.domain.plans import RecoveryPlan, Wave, concurrent_demand

    groups = {"a": [f"s-a{i}" for i in range(150)], "b": ["s-b1"], "c": ["s-c1", "s-c2"]}
    plan = RecoveryPlan("p", (Wave("A", ("a",)), Wave("B", ("b",)), Wave("C", ("c",), ("A",))))
    assert concurrent_demand(plan, groups) == {None: (3, 151)}
    assert concurrent_demand(plan, groups, {"b": "111122223333/us-west-2"}) == {
        None: (2, 150),
        "111122223333/us-west-2": (1, 1),
    }


def _result(state: str, findings: int = 0) -> dict:
    return {
        "planId": "rp-1",
        "planName": "Orders",
        "evaluatedAt": "2026-11-30T12:00:00.000000Z",
        "state": state,
        "servers": 150,
        "findings": [
            {
                "severity": "actionRequired" if n % 2 else "warning",
                "check": "replication" if n % 2 else "lag",
                "wave": "Apps",
                "sourceServerId": f"s-{n:017d}",
                "message": f"finding {n}",
                "fix": "fix it",
            }
            for n in range(findings)
        ],
    }


def test_a_stored_evaluation_counts_every_finding_but_keeps_the_first_hundred() -> None:
    entry = readiness.stored(_result("actionRequired", 150), "schedule", 1_900_000_000)
    assert entry["findingCount"] == 150 and len(entry["findings"]) == readiness.STORED_FINDINGS
    assert entry["counts"] == {
        "actionRequired": 75,
        "warning": 75,
        "check:replication": 75,
        "check:lag": 75,
    }
    assert (entry["trigger"], entry["expiresAt"]) == ("schedule", 1_900_000_000)


@pytest.mark.parametrize(
    ("before", "after", "owed"),
    [
        (None, "passed", False),  # ready the first time: not news
        (None, "warnings", True),
        (None, "actionRequired", True),
        ("passed", "passed", False),
        ("passed", "warnings", True),
        ("warnings", "actionRequired", True),
        ("actionRequired", "actionRequired", False),
        ("actionRequired", "passed", True),  # recovered: news too
    ],
)
def test_a_notice_is_owed_on_a_change_of_state_only(
    before: str | None, after: str, owed: bool
) -> None:
    previous = {"state": before} if before else None
    notice = readiness.change_notice(previous, _result(after, 12))
    assert (notice is not None) == owed
    if notice:
        message = notice["message"]
        assert (message["previousState"], message["state"]) == (before, after)
        assert message["findingCount"] == 12
        assert len(message["findings"]) == readiness.NOTIFIED_FINDINGS
        assert notice["subject"] == f"DRS readiness of Orders: {after}"


def test_servers_in_an_unreachable_target_are_one_finding_not_each_missing() -> None:
    result = evaluate(
        [("DB", ["s-1"]), ("Apps", ["s-2", "s-3"])],
        {"s-1": replicating(), "s-2": None, "s-3": None},
        {"s-1": RECENT, "s-2": None, "s-3": None},
        NOW,
        unreachable=readiness.Unreachable(
            {"111122223333/us-west-2": "AccessDenied: not authorized"},
            {"s-2": "111122223333/us-west-2", "s-3": "111122223333/us-west-2"},
        ),
    )
    assert result.state == "actionRequired" and result.servers == 3
    (finding,) = result.findings
    assert finding.check == "target" and finding.severity == "actionRequired"
    assert "111122223333/us-west-2 cannot be reached (AccessDenied" in finding.message


def test_launch_settings_drift_is_a_warning_naming_each_field() -> None:
    from drs_orchestrator.domain import launch

    wanted = {"launchDisposition": "STOPPED", "licensing": {"osByol": False}, "copyTags": True}
    has = {"launchDisposition": "STARTED", "licensing": {"osByol": True}, "copyTags": True}
    drift = launch.drift(wanted, has)
    assert drift == [
        "launchDisposition: has STARTED, the group wants STOPPED",
        "licensing.osByol: has True, the group wants False",
    ]
    assert launch.drift(wanted, {**has, **wanted}) == []
    result = evaluate(
        [("DB", ["s-1"])], {"s-1": replicating()}, {"s-1": RECENT}, NOW, launch_drift={"s-1": drift}
    )
    assert result.state == "warnings"
    assert [f.check for f in result.findings] == ["launch-settings"]


@pytest.mark.parametrize(
    ("denial", "reason", "fix"),
    [
        ({"decision": "implicitDeny"}, "no policy of the role allows it", "deploy this stack"),
        ({"decision": "explicitDeny"}, "a policy of the role denies it", "deploy this stack"),
        (
            {"decision": "explicitDeny", "by_organization": True},
            "an SCP of the organization denies it",
            "organization's administrators",
        ),
        (
            {"decision": "implicitDeny", "by_boundary": True},
            "the role's permissions boundary does not allow it",
            "deploy this stack",
        ),
    ],
)
def test_a_denied_action_names_the_role_the_region_why_and_the_fix(
    denial: dict[str, Any], reason: str, fix: str
) -> None:
    from drs_orchestrator.domain.permissions import RUNNER, Denial, Need

    need = Need(RUNNER, "home/us-east-1", "us-east-1", ("drs:StartRecovery",))
    result = evaluate(
        [("DB", ["s-1"])],
        {"s-1": replicating()},
        {"s-1": RECENT},
        NOW,
        denials=[Denial(need, "drs:StartRecovery", **denial)],
    )
    (finding,) = result.findings
    assert (finding.check, finding.severity, result.state) == (
        "permissions",
        "actionRequired",
        "actionRequired",
    )
    assert finding.message == (
        "the wave runner's role may not call drs:StartRecovery in us-east-1 "
        f"(DRS target home/us-east-1): {reason}"
    )
    assert fix in finding.fix


def test_a_refused_read_is_one_warning_per_target_and_call_with_the_fix_for_where() -> None:
    refusals = [
        readiness.Refusal("111122223333/us-west-2", "ec2:DescribeSubnets", "UnauthorizedOperation"),
        readiness.Refusal("111122223333/us-west-2", "ec2:DescribeSubnets", "UnauthorizedOperation"),
        readiness.Refusal(
            "home/us-east-1", "drs:GetLaunchConfiguration", "AccessDenied", home=True
        ),
    ]
    result = evaluate(
        [("DB", ["s-1"])], {"s-1": replicating()}, {"s-1": RECENT}, NOW, refusals=refusals
    )
    assert result.state == "warnings"
    target, home = result.findings  # by target key
    assert "home/us-east-1 may not call drs:GetLaunchConfiguration" in home.message
    assert "deploy this stack again" in home.fix
    assert "infra/target" in target.fix


def test_a_new_check_must_be_listed_before_a_finding_can_carry_it() -> None:
    with pytest.raises(ValueError, match="unknown readiness check 'costs'"):
        readiness.Finding(readiness.Severity.WARNING, "costs", "", "", "m", "f")


def test_iam_results_become_denials_only_for_what_is_not_allowed() -> None:
    from drs_orchestrator.domain.permissions import TARGET_ROLE, Need, denials

    need = Need(TARGET_ROLE, "111122223333/us-west-2", "us-west-2", ("drs:StartRecovery",))
    found = denials(
        need,
        [
            {"EvalActionName": "drs:DescribeJobs", "EvalDecision": "allowed"},
            {
                "EvalActionName": "drs:StartRecovery",
                "EvalDecision": "explicitDeny",
                "OrganizationsDecisionDetail": {"AllowedByOrganizations": False},
            },
            {
                "EvalActionName": "drs:TagResource",
                "EvalDecision": "implicitDeny",
                "PermissionsBoundaryDecisionDetail": {"AllowedByPermissionsBoundary": False},
            },
        ],
    )
    assert [(d.action, d.by_organization, d.by_boundary) for d in found] == [
        ("drs:StartRecovery", True, False),
        ("drs:TagResource", False, True),
    ]
    assert "infra/target" in found[1].fix() and "SCP" in found[0].reason()
