"""Typed, validated stack settings.

The whole stack configuration is checked here before the program declares a single
resource: a missing or bad key stops the program with one message per problem, each naming
the stack, the key and the rule it breaks. That includes names that would only break an AWS
limit once ``infra/naming.py`` derives them from the deployment name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from infra import naming
from infra.targets import DrsTarget, parse_targets

if TYPE_CHECKING:
    from collections.abc import Mapping

from infra.project_config import Declaration, did_you_mean, running_stack_config
from infra.stacks import REPO_ROOT

REGION_KEY = "aws:region"

#: CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
RATE_PATTERN = re.compile(r"^rate\((?P<value>\d+) (?P<unit>minute|minutes|hour|hours|day|days)\)$")
CRON_PATTERN = re.compile(r"^cron\((?P<fields>[^()]+)\)$")


#: The main project's keys, as its ``Pulumi.yaml`` declares them (types, defaults, text).
DECLARATION = Declaration.of(REPO_ROOT / "Pulumi.yaml")


class SettingsError(ValueError):
    """Raised when a stack's configuration is missing a key or breaks a rule."""

    def __init__(self, stack: str, problems: list[str]) -> None:
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"stack '{stack}' has invalid configuration:\n{lines}")


#: Ten years: the longest an audit trail is asked to be kept by the usual regimes.
MAX_AUDIT_RETENTION_DAYS = 3650


@dataclass(frozen=True)
class Settings:
    """Everything the program needs from one stack's configuration, validated."""

    stack: str
    region: str
    deployment_name: str
    admin_email: str
    deployment_bucket: str
    poll_schedule: str
    readiness_schedule: str
    log_retention_days: int
    job_events_retention_days: int
    audit_retention_days: int
    protect_data: bool
    naming: naming.Naming = field(repr=False)
    #: DRS targets besides the deployment's own account and region (``drsTargets``).
    targets: tuple[DrsTarget, ...] = ()

    @property
    def partition(self) -> str:
        return partition_of(self.region)


@cache
def drs_regions() -> dict[str, str]:
    """Regions where AWS DRS has an endpoint, mapped to their partition (botocore's data)."""
    import botocore.session

    session = botocore.session.get_session()
    regions: dict[str, str] = {}
    for partition in session.get_available_partitions():
        for region in session.get_available_regions("drs", partition_name=partition):
            regions[region] = partition
    return regions


def partition_of(region: str) -> str:
    return drs_regions().get(region, "aws")


def schedule_problem(expression: str) -> str | None:
    """Why ``expression`` is not a valid EventBridge schedule, or None when it is."""
    rate = RATE_PATTERN.fullmatch(expression)
    if rate:
        value, unit = int(rate["value"]), rate["unit"]
        if value < 1:
            return "a rate must be at least 1"
        if (value == 1) != (not unit.endswith("s")):
            return f"use the {'singular' if value == 1 else 'plural'} unit with {value}"
        return None
    cron = CRON_PATTERN.fullmatch(expression)
    if cron:
        fields = cron["fields"].split()
        if len(fields) != 6:
            return f"a cron expression has 6 fields, this one has {len(fields)}"
        day_of_month, day_of_week = fields[2], fields[4]
        if (day_of_month == "?") == (day_of_week == "?"):
            return "exactly one of day-of-month and day-of-week must be '?'"
        return None
    return "must be 'rate(<n> <unit>)' or 'cron(<6 fields>)'"


def load_settings(stack: str, config: Mapping[str, str]) -> Settings:
    """Validate a stack's flattened config (``namespace:key`` -> string) into Settings.

    Collects every problem before raising, so one run shows everything to fix.
    """
    config_values = DECLARATION.read(config)
    problems = config_values.problems
    region = str(config.get(REGION_KEY) or "").strip()
    if not region:
        problems.append(f"'{REGION_KEY}': required (the AWS region to deploy to)")
    elif region not in drs_regions():
        hint = did_you_mean(region, drs_regions())
        problems.append(
            f"'{REGION_KEY}': '{region}' is not a region where AWS Elastic Disaster Recovery "
            f"is available{hint}"
        )

    deployment = config_values.string("deploymentName")
    if deployment:
        if not naming.DEPLOYMENT_NAME_PATTERN.fullmatch(deployment):
            config_values.problem(
                "deploymentName",
                f"'{deployment}' must be lowercase letters, digits and single hyphens, "
                "starting with a letter",
            )
        else:
            for derived in naming.Naming(deployment).derived_names():
                for problem in derived.violations():
                    config_values.problem("deploymentName", f"derives {problem}")

    email = config_values.string("adminEmail")
    if email and not EMAIL_PATTERN.fullmatch(email):
        config_values.problem("adminEmail", f"'{email}' is not a valid e-mail address")

    configured_bucket = config_values.string("deploymentBucket")
    derived_bucket = naming.Naming(deployment).deployment_bucket() if deployment else ""
    bucket = configured_bucket or derived_bucket
    if configured_bucket:
        for problem in naming.s3_bucket_violations(bucket):
            config_values.problem("deploymentBucket", problem)
        if deployment and not bucket.startswith(f"{deployment}-"):
            config_values.problem(
                "deploymentBucket",
                f"'{bucket}' must start with the deployment name '{deployment}-' so that no "
                "deployment reads another's packages",
            )

    schedule = config_values.string("pollSchedule")
    reason = schedule_problem(schedule)
    if reason:
        config_values.problem("pollSchedule", f"'{schedule}' {reason}")
    readiness_schedule = config_values.string("readinessSchedule")
    reason = schedule_problem(readiness_schedule)
    if reason:
        config_values.problem("readinessSchedule", f"'{readiness_schedule}' {reason}")

    retention = config_values.integer("logRetentionDays")
    if retention is not None and retention not in LOG_RETENTION_DAYS:
        config_values.problem(
            "logRetentionDays",
            "must be one of the retention periods CloudWatch Logs accepts "
            f"({', '.join(map(str, LOG_RETENTION_DAYS))}), got {retention}",
        )
    events_retention = config_values.integer("jobEventsRetentionDays")
    if events_retention is not None and events_retention < 1:
        config_values.problem(
            "jobEventsRetentionDays", f"must be at least 1, got {events_retention}"
        )
    audit_retention = config_values.integer("auditRetentionDays")
    if audit_retention is not None and not 1 <= audit_retention <= MAX_AUDIT_RETENTION_DAYS:
        config_values.problem(
            "auditRetentionDays",
            f"must be 1 to {MAX_AUDIT_RETENTION_DAYS} days, got {audit_retention}",
        )
    protect_data = config_values.boolean("protectData")

    targets: tuple[DrsTarget, ...] = ()
    listed = config_values.structured("drsTargets")
    if listed is not None:
        targets, target_problems = parse_targets(listed, deployment, region, drs_regions())
        for path, rule in target_problems:
            config_values.problem("drsTargets", rule, path=path)
        for index, target in enumerate(targets):
            rule_name = naming.Naming(deployment).event_forward_rule(target.region)
            for problem in naming.EVENT_RULE.violations(rule_name):
                config_values.problem("drsTargets", f"derives {problem}", path=f"[{index}].region")

    if problems:
        raise SettingsError(stack, problems)
    return Settings(
        stack=stack,
        region=region,
        deployment_name=deployment,
        admin_email=email,
        deployment_bucket=bucket,
        poll_schedule=schedule,
        readiness_schedule=readiness_schedule,
        log_retention_days=retention or 0,
        job_events_retention_days=events_retention or 0,
        audit_retention_days=audit_retention or 0,
        protect_data=bool(protect_data),
        naming=naming.Naming(deployment, project=DECLARATION.project, stack=stack),
        targets=targets,
    )


def from_pulumi() -> Settings:
    """Settings of the stack Pulumi is running, read from its whole configuration."""
    return load_settings(*running_stack_config())
