"""Typed, validated stack settings.

The whole stack configuration is checked here before the program declares a single
resource: a missing or bad key stops the program with one message per problem, each naming
the stack, the key and the rule it breaks. That includes names that would only break an AWS
limit once ``infra/naming.py`` derives them from the deployment name.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from infra import naming

if TYPE_CHECKING:
    from collections.abc import Mapping

from infra.stacks import PROJECT

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


@dataclass(frozen=True)
class ConfigKey:
    """A project config key: its name, whether it is required, and its default."""

    name: str
    description: str
    required: bool = False
    default: str | None = None

    @property
    def full_name(self) -> str:
        return f"{PROJECT}:{self.name}"


CONFIG_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey(
        "deploymentName",
        "Prefix of every physical name and value of the deployment tag; unique per stack.",
        required=True,
    ),
    ConfigKey(
        "adminEmail",
        "E-mail of the first administrator (Cognito user, SNS subscription).",
        required=True,
    ),
    ConfigKey(
        "deploymentBucket",
        "Bucket, made by the bootstrap program, that holds this deployment's Lambda packages.",
        default=None,  # derived: <deploymentName>-bucket
    ),
    ConfigKey(
        "pollSchedule",
        "EventBridge schedule expression that runs the execution finder.",
        default="rate(1 minute)",
    ),
    ConfigKey(
        "logRetentionDays",
        "Retention of every log group, in days (a value CloudWatch Logs accepts).",
        default="30",
    ),
    ConfigKey(
        "jobEventsRetentionDays",
        "Days a recorded DRS job event is kept before DynamoDB TTL removes it.",
        default="90",
    ),
    ConfigKey(
        "protectData",
        "Protect the tables: DynamoDB deletion protection and Pulumi protect.",
        default="true",
    ),
)
KNOWN_KEYS = {key.full_name: key for key in CONFIG_KEYS}


class SettingsError(ValueError):
    """Raised when a stack's configuration is missing a key or breaks a rule."""

    def __init__(self, stack: str, problems: list[str]) -> None:
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"stack '{stack}' has invalid configuration:\n{lines}")


@dataclass(frozen=True)
class Settings:
    """Everything the program needs from one stack's configuration, validated."""

    stack: str
    region: str
    deployment_name: str
    admin_email: str
    deployment_bucket: str
    poll_schedule: str
    log_retention_days: int
    job_events_retention_days: int
    protect_data: bool
    naming: naming.Naming = field(repr=False)

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


def _suggest(key: str) -> str:
    close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def load_settings(stack: str, config: Mapping[str, str]) -> Settings:
    """Validate a stack's flattened config (``namespace:key`` -> string) into Settings.

    Collects every problem before raising, so one run shows everything to fix.
    """
    problems: list[str] = []

    for key in config:
        if key.startswith(f"{PROJECT}:") and key not in KNOWN_KEYS:
            problems.append(f"'{key}': unknown configuration key{_suggest(key)}")

    def value(name: str) -> str | None:
        key = KNOWN_KEYS[f"{PROJECT}:{name}"]
        raw = config.get(key.full_name)
        if raw is None or str(raw).strip() == "":
            if key.required:
                problems.append(f"'{key.full_name}': required ({key.description})")
            return key.default
        return str(raw).strip()

    def integer(name: str, allowed: tuple[int, ...] | None = None, minimum: int = 1) -> int:
        raw = value(name)
        full = f"{PROJECT}:{name}"
        try:
            number = int(raw or "")
        except ValueError:
            problems.append(f"'{full}': must be a whole number, got '{raw}'")
            return minimum
        if allowed is not None and number not in allowed:
            problems.append(
                f"'{full}': must be one of the retention periods CloudWatch Logs accepts "
                f"({', '.join(map(str, allowed))}), got {number}"
            )
        elif number < minimum:
            problems.append(f"'{full}': must be at least {minimum}, got {number}")
        return number

    region = str(config.get(REGION_KEY) or "").strip()
    if not region:
        problems.append(f"'{REGION_KEY}': required (the AWS region to deploy to)")
    elif region not in drs_regions():
        close = difflib.get_close_matches(region, drs_regions(), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problems.append(
            f"'{REGION_KEY}': '{region}' is not a region where AWS Elastic Disaster Recovery "
            f"is available{hint}"
        )

    deployment = value("deploymentName") or ""
    if deployment:
        if not naming.DEPLOYMENT_NAME_PATTERN.fullmatch(deployment):
            problems.append(
                f"'{PROJECT}:deploymentName': '{deployment}' must be lowercase letters, digits "
                "and single hyphens, starting with a letter"
            )
        else:
            for derived in naming.Naming(deployment).derived_names():
                problems.extend(
                    f"'{PROJECT}:deploymentName': derives {problem}"
                    for problem in derived.violations()
                )

    email = value("adminEmail") or ""
    if email and not EMAIL_PATTERN.fullmatch(email):
        problems.append(f"'{PROJECT}:adminEmail': '{email}' is not a valid e-mail address")

    bucket = value("deploymentBucket") or (f"{deployment}-bucket" if deployment else "")
    if config.get(f"{PROJECT}:deploymentBucket"):
        problems.extend(
            f"'{PROJECT}:deploymentBucket': {problem}"
            for problem in naming.s3_bucket_violations(bucket)
        )
        if deployment and not bucket.startswith(f"{deployment}-"):
            problems.append(
                f"'{PROJECT}:deploymentBucket': '{bucket}' must start with the deployment name "
                f"'{deployment}-' so that no deployment reads another's packages"
            )

    schedule = value("pollSchedule") or ""
    reason = schedule_problem(schedule)
    if reason:
        problems.append(f"'{PROJECT}:pollSchedule': '{schedule}' {reason}")

    retention = integer("logRetentionDays", allowed=LOG_RETENTION_DAYS)
    events_retention = integer("jobEventsRetentionDays", minimum=1)

    protect_raw = (value("protectData") or "").lower()
    if protect_raw not in ("true", "false"):
        problems.append(f"'{PROJECT}:protectData': must be true or false, got '{protect_raw}'")

    if problems:
        raise SettingsError(stack, problems)
    return Settings(
        stack=stack,
        region=region,
        deployment_name=deployment,
        admin_email=email,
        deployment_bucket=bucket,
        poll_schedule=schedule,
        log_retention_days=retention,
        job_events_retention_days=events_retention,
        protect_data=protect_raw == "true",
        naming=naming.Naming(deployment, project=PROJECT, stack=stack),
    )


def from_pulumi() -> Settings:
    """Settings of the stack Pulumi is running, read from its whole configuration."""
    import pulumi
    from pulumi.runtime.config import CONFIG, get_config_env

    # The engine passes all stack config at once; reading the whole map (not key by key)
    # is what lets a misspelt key be reported instead of silently ignored.
    config = {**get_config_env(), **CONFIG.get()}
    return load_settings(pulumi.get_stack(), {k: str(v) for k, v in config.items()})
