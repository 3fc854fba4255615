"""Bad stack configuration fails before any resource is declared, naming key and rule."""

from __future__ import annotations

import pytest

from drsctl.cli import main
from infra.offline import evaluate
from infra.settings import SettingsError, load_settings, schedule_problem

NS = "drs-orchestrator"


def failing(overrides: dict[str, str | None], stack: str = "dev") -> SettingsError:
    with pytest.raises(SettingsError) as caught:
        evaluate(stack, config_overrides=overrides)
    error = caught.value
    assert error.evaluation.resources == [], "no resource may be declared on bad config"
    assert f"stack '{stack}'" in str(error)
    return error


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({f"{NS}:deploymentName": None}, f"'{NS}:deploymentName': required"),
        ({f"{NS}:adminEmail": None}, f"'{NS}:adminEmail': required"),
        (
            {f"{NS}:adminEmail": "admins-at-example.com"},
            f"'{NS}:adminEmail': 'admins-at-example.com' is not a valid e-mail address",
        ),
        (
            {f"{NS}:pollSchedule": "every minute"},
            f"'{NS}:pollSchedule': 'every minute' must be 'rate(<n> <unit>)' or 'cron(<6 fields>)'",
        ),
        (
            {f"{NS}:pollSchedule": "rate(5 minute)"},
            f"'{NS}:pollSchedule': 'rate(5 minute)' use the plural unit with 5",
        ),
        (
            {f"{NS}:pollSchedule": "cron(0 * * * *)"},
            f"'{NS}:pollSchedule': 'cron(0 * * * *)' a cron expression has 6 fields, this one has 5",
        ),
        (
            {"aws:region": "eu-wset-1"},
            "'aws:region': 'eu-wset-1' is not a region where AWS Elastic Disaster Recovery is "
            "available (did you mean 'eu-west-1'?)",
        ),
        ({"aws:region": None}, "'aws:region': required"),
        (
            {f"{NS}:deploymentName": "Aws_Orchestrator"},
            f"'{NS}:deploymentName': 'Aws_Orchestrator' must be lowercase letters, digits and single "
            "hyphens, starting with a letter",
        ),
        (
            {f"{NS}:deploymentName": "a" * 43, f"{NS}:deploymentBucket": None},
            f"'{NS}:deploymentName': derives IAM role name '{'a' * 43}-execution-finder-role' is 65 "
            "characters; AWS allows at most 64",
        ),
        (
            {f"{NS}:deploymentName": "a" * 48, f"{NS}:deploymentBucket": None},
            f"'{NS}:deploymentName': derives Lambda function name '{'a' * 48}-execution-finder' is 65 "
            "characters; AWS allows at most 64",
        ),
        (
            {f"{NS}:deploymentName": "b" * 57, f"{NS}:deploymentBucket": None},
            f"'{NS}:deploymentName': derives S3 bucket name '{'b' * 57}-bucket' is 64 characters; "
            "S3 allows 3 to 63",
        ),
        (
            {f"{NS}:deploymentBucket": "aws-elasticdrs-orchestrator-dev..bucket"},
            f"'{NS}:deploymentBucket': S3 bucket name 'aws-elasticdrs-orchestrator-dev..bucket' must "
            "not contain two adjacent periods",
        ),
        (
            {f"{NS}:deploymentBucket": "aws-drs-orchestrator-archive-test-bucket"},
            f"'{NS}:deploymentBucket': 'aws-drs-orchestrator-archive-test-bucket' must start with the "
            "deployment name 'aws-elasticdrs-orchestrator-dev-'",
        ),
        (
            {f"{NS}:logRetentionDays": "31"},
            f"'{NS}:logRetentionDays': must be one of the retention periods CloudWatch Logs accepts",
        ),
        (
            {f"{NS}:logRetentionDays": "a month"},
            f"'{NS}:logRetentionDays': must be a whole number, got 'a month'",
        ),
        (
            {f"{NS}:jobEventsRetentionDays": "0"},
            f"'{NS}:jobEventsRetentionDays': must be at least 1, got 0",
        ),
        (
            {f"{NS}:auditRetentionDays": "0"},
            f"'{NS}:auditRetentionDays': must be 1 to 3650 days, got 0",
        ),
        (
            {f"{NS}:auditRetentionDays": "36500"},
            f"'{NS}:auditRetentionDays': must be 1 to 3650 days, got 36500",
        ),
        ({f"{NS}:protectData": "yes"}, f"'{NS}:protectData': must be true or false, got 'yes'"),
        (
            {f"{NS}:pollSchedul": "rate(1 minute)"},
            f"'{NS}:pollSchedul': unknown configuration key (did you mean '{NS}:pollSchedule'?)",
        ),
    ],
)
def test_bad_config_fails_before_any_resource(overrides: dict, expected: str) -> None:
    error = failing(overrides)
    assert any(problem.startswith(expected) for problem in error.problems), error.problems


def test_every_problem_is_reported_at_once() -> None:
    error = failing(
        {f"{NS}:adminEmail": "nobody", f"{NS}:protectData": "maybe", "aws:region": "mars-1"},
        stack="archive-test",
    )
    assert len(error.problems) == 3


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(1 hour)",
        "cron(0/5 * * * ? *)",
        "cron(0 12 ? * MON-FRI *)",
    ],
)
def test_valid_schedules_are_accepted(expression: str) -> None:
    assert schedule_problem(expression) is None


def test_bucket_defaults_to_the_deployment_name() -> None:
    settings = load_settings(
        "s",
        {
            "aws:region": "eu-west-1",
            f"{NS}:deploymentName": "drs-x",
            f"{NS}:adminEmail": "ops@example.com",
        },
    )
    assert settings.deployment_bucket == "drs-x-bucket"
    assert settings.poll_schedule == "rate(1 minute)"
    assert settings.protect_data is True


def test_drsctl_plan_reports_an_unknown_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "production"]) == 2
    err = capsys.readouterr().err
    assert "unknown stack 'production'" in err and "archive-test, dev" in err


def test_a_name_too_long_for_a_state_machine_is_named() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            "s",
            {
                "aws:region": "us-east-1",
                f"{NS}:deploymentName": "c" * 72,
                f"{NS}:adminEmail": "ops@example.com",
            },
        )
    assert (
        f"'{NS}:deploymentName': derives Step Functions state machine name '{'c' * 72}-recovery' "
        "is 81 characters; AWS allows at most 80"
    ) in caught.value.problems
