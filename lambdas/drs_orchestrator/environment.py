"""Names of the environment variables the handlers read, and reading them once.

The infrastructure sets these on each function (``infra/components/functions.py`` uses the
same names), so the two sides cannot disagree about a spelling.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from drs_orchestrator.domain.targets import Targets
from drs_orchestrator.errors import ConfigurationError

DEPLOYMENT_NAME = "DEPLOYMENT_NAME"
EXECUTIONS_TABLE = "EXECUTIONS_TABLE"
EXECUTIONS_STATUS_INDEX = "EXECUTIONS_STATUS_INDEX"
JOB_EVENTS_TABLE = "JOB_EVENTS_TABLE"
JOB_EVENTS_RETENTION_DAYS = "JOB_EVENTS_RETENTION_DAYS"
TOPIC_ARN = "TOPIC_ARN"
PROTECTION_GROUPS_TABLE = "PROTECTION_GROUPS_TABLE"
RECOVERY_PLANS_TABLE = "RECOVERY_PLANS_TABLE"
STATE_MACHINE_ARN = "STATE_MACHINE_ARN"
POLL_SECONDS = "POLL_SECONDS"
SERVER_HOLDS_TABLE = "SERVER_HOLDS_TABLE"
APPROVAL_TIMEOUT_SECONDS = "APPROVAL_TIMEOUT_SECONDS"
QUOTA_WAIT_SECONDS = "QUOTA_WAIT_SECONDS"
TARGET_WAIT_SECONDS = "TARGET_WAIT_SECONDS"
TICKS_PER_RUN = "TICKS_PER_RUN"
JANITOR_AFTER_SECONDS = "JANITOR_AFTER_SECONDS"
HOLDS_ABANDONED_AFTER_SECONDS = "HOLDS_ABANDONED_AFTER_SECONDS"
READINESS_TABLE = "READINESS_TABLE"
READINESS_FUNCTION = "READINESS_FUNCTION"
#: The wave runner's role, whose permissions readiness simulates (optional: not checked).
WAVE_RUNNER_ROLE_ARN = "WAVE_RUNNER_ROLE_ARN"
#: The audit trail's table and how many days its records are kept (DynamoDB TTL).
AUDIT_TABLE = "AUDIT_TABLE"
AUDIT_RETENTION_DAYS = "AUDIT_RETENTION_DAYS"
#: The deployment bucket, whose ``reports/`` hold each finished execution's report.
REPORTS_BUCKET = "REPORTS_BUCKET"
#: JSON list of the DRS targets besides home (``domain.targets.Targets.from_json``).
DRS_TARGETS = "DRS_TARGETS"


def home_region() -> str:
    """The function's own region (Lambda sets AWS_REGION)."""
    return os.environ.get("AWS_REGION") or _require("AWS_DEFAULT_REGION")


def deployment_name() -> str:
    """The deployment this function belongs to (every function has it)."""
    return _require(DEPLOYMENT_NAME)


def drs_targets() -> Targets:
    """Where this deployment orchestrates DRS: home, and the targets in ``DRS_TARGETS``."""
    return Targets.from_json(home_region(), os.environ.get(DRS_TARGETS, ""))


def _require(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        msg = f"environment variable {name} is not set"
        raise ConfigurationError(msg)
    return value


def _positive(name: str, default: str | None = None) -> int:
    raw = os.environ.get(name, default or "").strip() if default else _require(name)
    if not raw.isdigit():
        msg = f"{name} must be a whole number, got {raw!r}"
        raise ConfigurationError(msg)
    return int(raw)


@dataclass(frozen=True)
class FinderEnvironment:
    """What the execution finder needs from its environment."""

    deployment_name: str
    executions_table: str
    executions_status_index: str
    job_events_table: str
    job_events_retention_days: int

    @classmethod
    def from_env(cls) -> FinderEnvironment:
        retention = _positive(JOB_EVENTS_RETENTION_DAYS)
        if retention < 1:
            msg = f"{JOB_EVENTS_RETENTION_DAYS} must be a positive whole number, got {retention!r}"
            raise ConfigurationError(msg)
        return cls(
            deployment_name=_require(DEPLOYMENT_NAME),
            executions_table=_require(EXECUTIONS_TABLE),
            executions_status_index=_require(EXECUTIONS_STATUS_INDEX),
            job_events_table=_require(JOB_EVENTS_TABLE),
            job_events_retention_days=retention,
        )


@dataclass(frozen=True)
class WaveRunnerEnvironment:
    """What the wave runner needs: the finder's tables, the holds, the topic, its timing
    and how long it waits for people and for DRS (``domain.runner.Limits``)."""

    finder: FinderEnvironment
    topic_arn: str
    server_holds_table: str
    poll_seconds: int
    approval_timeout_seconds: int
    quota_wait_seconds: int
    target_wait_seconds: int
    ticks_per_run: int

    @classmethod
    def from_env(cls) -> WaveRunnerEnvironment:
        return cls(
            finder=FinderEnvironment.from_env(),
            topic_arn=_require(TOPIC_ARN),
            server_holds_table=_require(SERVER_HOLDS_TABLE),
            poll_seconds=_positive(POLL_SECONDS, "30"),
            approval_timeout_seconds=_positive(APPROVAL_TIMEOUT_SECONDS, "604800"),
            quota_wait_seconds=_positive(QUOTA_WAIT_SECONDS, "3600"),
            target_wait_seconds=_positive(TARGET_WAIT_SECONDS, "3600"),
            ticks_per_run=_positive(TICKS_PER_RUN, "300"),
        )


@dataclass(frozen=True)
class JanitorEnvironment:
    """What the finder's janitor needs to heal executions whose state machine is gone."""

    state_machine_arn: str
    topic_arn: str
    server_holds_table: str
    reports_bucket: str
    janitor_after_seconds: int

    @classmethod
    def from_env(cls) -> JanitorEnvironment:
        return cls(
            state_machine_arn=_require(STATE_MACHINE_ARN),
            topic_arn=_require(TOPIC_ARN),
            server_holds_table=_require(SERVER_HOLDS_TABLE),
            reports_bucket=_require(REPORTS_BUCKET),
            janitor_after_seconds=_positive(JANITOR_AFTER_SECONDS, "300"),
        )


@dataclass(frozen=True)
class ApiEnvironment:
    """What the API needs: every table, the state machine to start executions with, and
    the readiness function it asks to evaluate a plan after a change."""

    finder: FinderEnvironment
    protection_groups_table: str
    recovery_plans_table: str
    state_machine_arn: str
    server_holds_table: str
    readiness_table: str
    readiness_function: str
    reports_bucket: str
    audit_table: str
    audit_retention_days: int
    runner_role_arn: str | None = None
    #: How long a start's holds may stand without its execution written before another
    #: start may take the servers (a start that died left them): a start takes at most
    #: the API function's 29 s.
    abandoned_after_seconds: int = 300

    @classmethod
    def from_env(cls) -> ApiEnvironment:
        return cls(
            finder=FinderEnvironment.from_env(),
            protection_groups_table=_require(PROTECTION_GROUPS_TABLE),
            recovery_plans_table=_require(RECOVERY_PLANS_TABLE),
            state_machine_arn=_require(STATE_MACHINE_ARN),
            server_holds_table=_require(SERVER_HOLDS_TABLE),
            readiness_table=_require(READINESS_TABLE),
            readiness_function=_require(READINESS_FUNCTION),
            reports_bucket=_require(REPORTS_BUCKET),
            audit_table=_require(AUDIT_TABLE),
            audit_retention_days=_positive(AUDIT_RETENTION_DAYS),
            runner_role_arn=os.environ.get(WAVE_RUNNER_ROLE_ARN) or None,
            abandoned_after_seconds=_positive(HOLDS_ABANDONED_AFTER_SECONDS, "300"),
        )


@dataclass(frozen=True)
class ReadinessEnvironment:
    """What the readiness function needs: the groups and plans it evaluates, the history
    it keeps, the topic it notifies, and the wave runner's role it simulates."""

    protection_groups_table: str
    recovery_plans_table: str
    readiness_table: str
    topic_arn: str
    runner_role_arn: str | None = None

    @classmethod
    def from_env(cls) -> ReadinessEnvironment:
        return cls(
            protection_groups_table=_require(PROTECTION_GROUPS_TABLE),
            recovery_plans_table=_require(RECOVERY_PLANS_TABLE),
            readiness_table=_require(READINESS_TABLE),
            topic_arn=_require(TOPIC_ARN),
            runner_role_arn=os.environ.get(WAVE_RUNNER_ROLE_ARN) or None,
        )
