"""Readiness: can this plan recover now? A pure evaluation of what DRS says about the plan's
source servers, so a plan that was fine last month is not found broken on the day.

``evaluate`` takes the plan's waves with their servers, what DRS reports for each server
(a DescribeSourceServers item, or None when DRS no longer has it), each server's newest
point-in-time snapshot time and the time now, and returns the plan's state —
``passed``, ``warnings`` or ``actionRequired`` — with every finding naming the server, its
wave and the fix. Checks: the server is in DRS; its data replication is continuous (not
stalled, disconnected, stopped or paused: action required; initiating, syncing or catching
up: a warning); its replication lag is under the plan's threshold; its newest snapshot is
recent; every pre- and post-wave action's SSM document exists and is an Automation
document (the runner starts them with StartAutomationExecution); in each DRS target, the
jobs and servers already in active jobs (other executions', other tools') leave room for
what the plan's waves may need at once under DRS's quotas; a server's DRS launch
configuration is its group's launch settings; every DRS target the plan launches in can be
reached (its role assumed: trust, external id and region as the stacks say).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from drs_orchestrator.domain.plans import MAX_CONCURRENT_JOBS, MAX_SERVERS_IN_ACTIVE_JOBS

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from drs_orchestrator.domain.permissions import Denial

#: Replication states in which a launch would use data that is no longer kept current.
BROKEN_REPLICATION = frozenset({"STALLED", "DISCONNECTED", "STOPPED", "PAUSED"})
#: States on the way to continuous replication: recoverable, but not yet up to date.
CATCHING_UP = frozenset({"INITIATING", "INITIAL_SYNC", "BACKLOG", "CREATING_SNAPSHOT", "RESCAN"})
DEFAULT_MAX_LAG = timedelta(hours=1)
#: A snapshot older than this (DRS takes one every 10 minutes while replicating) is a sign
#: that replication is not producing recovery points.
DEFAULT_MAX_SNAPSHOT_AGE = timedelta(hours=2)

_DURATION = re.compile(
    r"^P(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


class State(StrEnum):
    PASSED = "passed"
    WARNINGS = "warnings"
    ACTION_REQUIRED = "actionRequired"


class Severity(StrEnum):
    WARNING = "warning"
    ACTION_REQUIRED = "actionRequired"


#: DRS's event that a source server's replication stalled or resumed (EventBridge's
#: ``detail-type``): the readiness function evaluates that server's plans on it.
STALLED_CHANGE = "DRS Source Server Data Replication Stalled Change"

#: What a finding can be about (the API document's enumeration is held equal by a test).
CHECKS = (
    "source-server",
    "replication",
    "lag",
    "snapshot",
    "launch-settings",
    "launch-template",
    "ssm-document",
    "quota",
    "target",
    "permissions",
    # Readiness for failback (domain/failback_readiness.py).
    "recovery-instance",
    "failback-origin",
    "failback-client",
    "failback-replication",
)


@dataclass(frozen=True)
class Finding:
    """One thing that would make the plan's recovery fail or fall short, and its fix."""

    severity: Severity
    check: str
    wave: str
    server: str
    message: str
    fix: str

    def __post_init__(self) -> None:
        if self.check not in CHECKS:  # a new check is listed (and documented) first
            msg = f"unknown readiness check {self.check!r}; add it to CHECKS"
            raise ValueError(msg)

    def as_dict(self) -> dict[str, str]:
        return {
            "severity": self.severity.value,
            "check": self.check,
            "wave": self.wave,
            "sourceServerId": self.server,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Thresholds:
    max_lag: timedelta = DEFAULT_MAX_LAG
    max_snapshot_age: timedelta = DEFAULT_MAX_SNAPSHOT_AGE


@dataclass(frozen=True)
class Readiness:
    state: State
    findings: list[Finding] = field(default_factory=list)
    servers: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "servers": self.servers,
            "findings": [f.as_dict() for f in self.findings],
        }


def duration(text: str) -> timedelta | None:
    """An ISO 8601 duration as DRS writes ``lagDuration`` (``PT1H2M3S``, ``P1DT2H``), or
    None when it is not one."""
    match = _DURATION.fullmatch(text or "")
    if match is None or text in ("P", "PT"):
        return None
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return timedelta(**parts)


@dataclass(frozen=True)
class ActionDocument:
    """A wave's pre-wave, post-wave or failback action (``phase``) and the type of its SSM
    document (None: missing)."""

    wave: str
    phase: str
    index: int
    document: str
    document_type: str | None


@dataclass(frozen=True)
class Unreachable:
    """DRS targets whose role cannot be assumed (key -> reason), and the plan's servers in
    them (server -> key): those servers cannot be checked, or launched."""

    targets: Mapping[str, str] = field(default_factory=dict)
    servers: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class TemplateCheck:
    """A server's EC2 launch template as readiness found it: whether it exists, and what its
    default version launches (the instance type counts only when right-sizing is NONE;
    otherwise DRS picks the type itself)."""

    template_id: str
    exists: bool = True
    instance_type: str | None = None
    instance_type_offered: bool = True
    keeps_instance_type: bool = True
    subnet_id: str | None = None
    subnet_exists: bool = True


@dataclass(frozen=True)
class Refusal:
    """A call readiness needed in a DRS target that the role acting there may not make
    (``action``: ``service:Operation``): what it would have checked is not checked there.
    ``home``: the deployment's own account and region (its own function's role refused)."""

    target: str
    action: str
    code: str
    home: bool = False

    def fix(self) -> str:
        if self.home:
            return "deploy this stack again: the function's policy grants every call it makes"
        return (
            "update the target stack (infra/target) in that account: its role grants every "
            "call the deployment makes there (TARGET_ROLE_ACTIONS)"
        )


@dataclass(frozen=True)
class QuotaUse:
    """In one DRS target: what is in active jobs now, and what the plan may need at once."""

    target: str
    active_jobs: int
    active_servers: int
    plan_jobs: int
    plan_servers: int


def evaluate(
    waves: Sequence[tuple[str, Sequence[str]]],
    servers: Mapping[str, Mapping[str, Any] | None],
    newest_snapshot: Mapping[str, datetime | None],
    now: datetime,
    thresholds: Thresholds | None = None,
    actions: Sequence[ActionDocument] = (),
    quotas: Sequence[QuotaUse] = (),
    launch_drift: Mapping[str, Sequence[str]] | None = None,
    unreachable: Unreachable | None = None,
    templates: Mapping[str, TemplateCheck] | None = None,
    refusals: Sequence[Refusal] = (),
    denials: Sequence[Denial] = (),
) -> Readiness:
    """The readiness of a plan whose ``waves`` are (name, source server ids);
    ``launch_drift`` lists, for a server whose group has launch settings, how its DRS
    launch configuration differs from them (``domain/launch.py``); the servers of an
    ``unreachable`` target are not checked one by one, the target is one finding;
    ``templates`` is each server's EC2 launch template (a server DRS does not report has
    none); ``refusals`` are the reads a target's role refused (a target stack older than
    the deployment: what those reads check is not checked there); ``denials`` are the
    actions IAM's simulation says a role acting for the plan may not take."""
    drifted = launch_drift or {}
    template_of = templates or {}
    beyond = unreachable or Unreachable()
    unreachable_findings: list[Finding] = [
        Finding(
            Severity.ACTION_REQUIRED,
            "target",
            "",
            "",
            f"DRS target {key} cannot be reached ({reason}): the plan's servers there can "
            "be neither checked nor launched",
            "deploy or repair the target stack (infra/target) in that account: its role must "
            "trust this deployment's function roles with the stack's external id",
        )
        for key, reason in sorted(beyond.targets.items())
    ]
    limits = thresholds or Thresholds()
    findings: list[Finding] = unreachable_findings + [
        f for a in actions if (f := _action_finding(a))
    ]
    findings += [f for use in quotas for f in _quota_findings(use)]
    findings += [
        Finding(
            Severity.WARNING,
            "permissions",
            "",
            "",
            f"the role in DRS target {r.target} may not call {r.action} ({r.code}): "
            "readiness cannot check what that call reads there",
            r.fix(),
        )
        for r in sorted(set(refusals), key=lambda r: (r.target, r.action))
    ]
    findings += [
        Finding(
            Severity.ACTION_REQUIRED,
            "permissions",
            "",
            "",
            f"{d.need.principal} may not call {d.action}"
            + (f" on {d.need.resource}" if d.need.resource != "*" else "")
            + f" in {d.need.region} (DRS target {d.need.target}): {d.reason()}",
            d.fix(),
        )
        for d in denials
    ]
    count = 0
    for wave, wave_servers in waves:
        for server in wave_servers:
            count += 1
            if server in beyond.servers:
                continue
            findings += _server_findings(
                wave, server, servers.get(server), newest_snapshot.get(server), now, limits
            )
            if server in template_of:
                findings += _template_findings(wave, server, template_of[server])
            if drifted.get(server):
                findings.append(
                    Finding(
                        Severity.WARNING,
                        "launch-settings",
                        wave,
                        server,
                        f"the launch configuration of {server} (wave {wave}) is not its "
                        f"group's launch settings: {'; '.join(drifted[server])}",
                        "apply the group's launch settings (the group editor's Apply, or POST "
                        "/protection-groups/{id}/launch-settings/apply)",
                    )
                )
    if any(f.severity == Severity.ACTION_REQUIRED for f in findings):
        state = State.ACTION_REQUIRED
    elif findings:
        state = State.WARNINGS
    else:
        state = State.PASSED
    return Readiness(state, findings, count)


#: Findings a stored evaluation keeps (a plan of 500 broken servers has 500 or more; the
#: count is stored whole, and an on-demand evaluation lists them all).
STORED_FINDINGS = 100
#: Findings a state-change notification lists (an e-mail, not a report).
NOTIFIED_FINDINGS = 10


def stored(result: Mapping[str, Any], trigger: str, expires_at: int) -> dict[str, Any]:
    """One evaluation as the readiness history keeps it: the state, the count of findings
    by severity and check, and the first ``STORED_FINDINGS`` findings."""
    findings = list(result.get("findings") or [])
    counts: dict[str, int] = {}
    for finding in findings:
        for key in (finding["severity"], f"check:{finding['check']}"):
            counts[key] = counts.get(key, 0) + 1
    return {
        "planId": result["planId"],
        "evaluatedAt": result["evaluatedAt"],
        "planName": result["planName"],
        "state": result["state"],
        "servers": result["servers"],
        "trigger": trigger,
        "findingCount": len(findings),
        "counts": counts,
        "findings": findings[:STORED_FINDINGS],
        "expiresAt": expires_at,
    }


def change_notice(
    previous: Mapping[str, Any] | None, current: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The notification a new evaluation owes, or None: one is owed when the plan's state
    differs from its previous evaluation's, or when a first evaluation is not ``passed``
    (a plan found ready the first time is not news)."""
    before = previous.get("state") if previous else None
    after = current["state"]
    if before == after or (before is None and after == State.PASSED):
        return None
    findings = list(current.get("findings") or [])
    return {
        "subject": f"DRS readiness of {current['planName']}: {after}"[:100],
        "message": {
            "event": "READINESS_CHANGED",
            "planId": current["planId"],
            "planName": current["planName"],
            "previousState": before,
            "state": after,
            "evaluatedAt": current["evaluatedAt"],
            "findingCount": len(findings),
            "findings": [
                {k: f[k] for k in ("severity", "wave", "sourceServerId", "message", "fix")}
                for f in findings[:NOTIFIED_FINDINGS]
            ],
        },
    }


def _quota_findings(use: QuotaUse) -> list[Finding]:
    found = []
    for what, active, needed, quota in (
        ("DRS jobs", use.active_jobs, use.plan_jobs, MAX_CONCURRENT_JOBS),
        (
            "servers in active jobs",
            use.active_servers,
            use.plan_servers,
            MAX_SERVERS_IN_ACTIVE_JOBS,
        ),
    ):
        if needed and active + needed > quota:
            found.append(
                Finding(
                    Severity.WARNING,
                    "quota",
                    "",
                    "",
                    f"in {use.target}: {active} {what} now, and the plan's waves may need "
                    f"{needed} more at once; DRS allows {quota}",
                    "wait for the running jobs to end (launches beyond the quota wait and "
                    "are retried until the quota wait runs out), or split the plan's waves",
                )
            )
    return found


def _action_finding(action: ActionDocument) -> Finding | None:
    kind = "failback action" if action.phase == "failback" else f"{action.phase}-wave action"
    where = f"{kind} {action.index + 1} of wave {action.wave}"
    if action.document_type is None:
        return Finding(
            Severity.ACTION_REQUIRED,
            "ssm-document",
            action.wave,
            "",
            f"{where}: SSM document {action.document} does not exist",
            "create the document, or correct its name in the plan",
        )
    if action.document_type != "Automation":
        return Finding(
            Severity.ACTION_REQUIRED,
            "ssm-document",
            action.wave,
            "",
            f"{where}: SSM document {action.document} is a {action.document_type} document, "
            "not an Automation document",
            "use an Automation document (for a shell command, one whose step runs "
            "aws:runCommand with AWS-RunShellScript)",
        )
    return None


def _server_findings(
    wave: str,
    server: str,
    item: Mapping[str, Any] | None,
    snapshot: datetime | None,
    now: datetime,
    limits: Thresholds,
) -> list[Finding]:
    def finding(severity: Severity, check: str, message: str, fix: str) -> Finding:
        return Finding(severity, check, wave, server, message, fix)

    if item is None:
        return [
            finding(
                Severity.ACTION_REQUIRED,
                "source-server",
                f"source server {server} (wave {wave}) is not in DRS",
                "take it out of its protection group, or install the replication agent again",
            )
        ]
    found: list[Finding] = []
    info = item.get("dataReplicationInfo") or {}
    state = str(info.get("dataReplicationState") or "UNKNOWN")
    error = (info.get("dataReplicationError") or {}).get("error")
    because = f" ({error})" if error else ""
    if state in BROKEN_REPLICATION or state == "UNKNOWN":
        found.append(
            finding(
                Severity.ACTION_REQUIRED,
                "replication",
                f"data replication of {server} (wave {wave}) is {state}{because}",
                "restore replication in the DRS console (agent, network, replication server)",
            )
        )
    elif state in CATCHING_UP:
        found.append(
            finding(
                Severity.WARNING,
                "replication",
                f"data replication of {server} (wave {wave}) is {state}, not yet continuous",
                "wait for continuous replication before relying on this plan",
            )
        )
    lag = duration(str(info.get("lagDuration") or ""))
    if lag is not None and lag > limits.max_lag:
        found.append(
            finding(
                Severity.WARNING,
                "lag",
                f"replication lag of {server} (wave {wave}) is {_words(lag)}, over the plan's "
                f"{_words(limits.max_lag)}",
                "check the replication bandwidth and the server's write rate",
            )
        )
    if snapshot is None:
        found.append(
            finding(
                Severity.ACTION_REQUIRED,
                "snapshot",
                f"{server} (wave {wave}) has no point-in-time snapshot to recover from",
                "let replication reach continuous and take its first snapshot",
            )
        )
    elif now - snapshot > limits.max_snapshot_age:
        found.append(
            finding(
                Severity.WARNING,
                "snapshot",
                f"the newest snapshot of {server} (wave {wave}) is {_words(now - snapshot)} old, "
                f"over {_words(limits.max_snapshot_age)}",
                "check that replication is continuous and snapshots are being taken",
            )
        )
    return found


def _template_findings(wave: str, server: str, template: TemplateCheck) -> list[Finding]:
    """Why DRS could not launch ``server`` from its EC2 launch template as it stands."""

    def finding(message: str, fix: str) -> Finding:
        return Finding(Severity.ACTION_REQUIRED, "launch-template", wave, server, message, fix)

    if not template.exists:
        return [
            finding(
                f"the EC2 launch template {template.template_id} of {server} (wave {wave}) "
                "does not exist: DRS cannot launch the server",
                "restore the server's launch template in DRS (its launch settings name the "
                "template DRS manages for it); do not delete templates DRS manages",
            )
        ]
    found = []
    if template.subnet_id and not template.subnet_exists:
        found.append(
            finding(
                f"the launch template of {server} (wave {wave}) puts the recovery instance in "
                f"subnet {template.subnet_id}, which does not exist",
                "set launchTemplate.subnetId in the group's launch settings and apply them",
            )
        )
    if (
        template.keeps_instance_type
        and template.instance_type
        and not (template.instance_type_offered)
    ):
        found.append(
            finding(
                f"the launch template of {server} (wave {wave}) launches instance type "
                f"{template.instance_type}, which EC2 does not offer in the target's region",
                "set launchTemplate.instanceType in the group's launch settings to a type "
                "offered there and apply them, or let DRS right-size the instance",
            )
        )
    return found


def _words(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds >= 3600:  # noqa: PLR2004
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    if seconds >= 60:  # noqa: PLR2004
        return f"{seconds // 60} min"
    return f"{seconds} s"
