"""The pack over whole programs: the real stacks pass, deliberately broken ones are caught."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws
import pytest
from drs_policy.offline import evaluate_across_stacks, evaluate_stack

from drsctl.cli import main
from infra import program
from infra.offline import REPO_ROOT, evaluate
from tests.infra.conftest import STACKS, evaluated
from tests.policy.helpers import ARCHIVE, DEV

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize("stack", STACKS)
def test_real_stacks_have_no_violations(stack: str) -> None:
    assert evaluate_stack(evaluated(stack)) == []


def test_real_stacks_together_have_no_violations() -> None:
    assert evaluate_across_stacks({s: evaluated(s) for s in STACKS}) == []


def _with_extra(monkeypatch: pytest.MonkeyPatch, declare) -> None:
    """Make the program declare one more resource after the real ones."""
    real_build = program.build

    def build():
        orchestrator = real_build()
        declare()
        return orchestrator

    monkeypatch.setattr(program, "build", build)


def _found(stack: str = "dev") -> list[tuple[str, str]]:
    return [(v.policy, v.message) for v in evaluate_stack(evaluate(stack))]


def test_a_bucket_named_for_the_other_deployment_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    _with_extra(
        monkeypatch,
        lambda: aws.s3.Bucket(
            "rogue",
            bucket=f"{ARCHIVE}-bucket",
            tags={
                "drs-orchestrator:deployment": DEV,
                "pulumi:project": "drs-orchestrator",
                "pulumi:stack": "dev",
            },
        ),
    )
    found = _found()
    assert (
        "physical-names-start-with-deployment",
        f"physical name '{ARCHIVE}-bucket' does not start with deployment name '{DEV}'",
    ) in found
    assert (
        "no-cross-deployment-references",
        f"property 'bucket' refers to deployment '{ARCHIVE}': '{ARCHIVE}-bucket'",
    ) in found


def test_a_dynamodb_statement_on_star_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from infra import iam

    real_statement = iam.statement

    def statement(actions, resources):
        if any(a.startswith("dynamodb:") for a in actions):
            resources = "*"
        return real_statement(actions, resources)

    monkeypatch.setattr("infra.components.orchestrator.iam.statement", statement)
    found = [
        v.message
        for v in evaluate_stack(evaluate("dev"))
        if v.policy == "iam-resources-in-deployment-namespace"
        and v.resource == "execution-finder-policy"
    ]
    assert found == [
        "statement 3 allows dynamodb:Query on '*'; only actions in infra/iam.py UNSCOPED_ACTIONS "
        "(with their reason) may use '*'",
        "statement 4 allows dynamodb:GetItem, dynamodb:UpdateItem on '*'; only actions in "
        "infra/iam.py UNSCOPED_ACTIONS (with their reason) may use '*'",
        "statement 5 allows dynamodb:BatchWriteItem, dynamodb:PutItem, dynamodb:Query on '*'; "
        "only actions in infra/iam.py UNSCOPED_ACTIONS (with their reason) may use '*'",
        "statement 7 allows dynamodb:DeleteItem on '*'; only actions in infra/iam.py "
        "UNSCOPED_ACTIONS (with their reason) may use '*'",
    ]


def test_an_environment_variable_naming_the_other_stacks_table_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from infra.components import orchestrator

    real_function = orchestrator.LambdaFunction

    def leaky_function(name, args, opts=None):
        args.environment["LEGACY_TABLE"] = f"{ARCHIVE}-executions"
        return real_function(name, args, opts)

    monkeypatch.setattr(orchestrator, "LambdaFunction", leaky_function)
    assert (
        "no-cross-deployment-references",
        f"property 'environment.variables.LEGACY_TABLE' refers to deployment '{ARCHIVE}': "
        f"'{ARCHIVE}-executions'",
    ) in _found()


def test_a_resource_without_the_deployment_tag_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    _with_extra(
        monkeypatch,
        lambda: aws.cloudwatch.LogGroup(
            "untagged",
            name=f"{DEV}/extra",
            retention_in_days=30,
            tags={"pulumi:project": "drs-orchestrator", "pulumi:stack": "dev"},
        ),
    )
    assert _found() == [
        (
            "deployment-tag-on-taggable-resources",
            f"tag 'drs-orchestrator:deployment' is missing (expected '{DEV}')",
        )
    ]


def test_drsctl_plan_exits_1_and_prints_the_violation(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _with_extra(
        monkeypatch,
        lambda: aws.cloudwatch.LogGroup(
            "untagged", name=f"{DEV}/extra", retention_in_days=30, tags={}
        ),
    )
    assert main(["plan", "dev"]) == 1
    captured = capsys.readouterr()
    assert "deployment-tag-on-taggable-resources  mandatory    untagged" in captured.out
    assert "3 policy violation(s), 3 mandatory, in 1 stack(s)" in captured.err


def test_a_stack_that_reuses_the_other_deployment_name_is_caught(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("Pulumi.yaml", "Pulumi.archive-test.yaml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    dev = (REPO_ROOT / "Pulumi.dev.yaml").read_text()
    (tmp_path / "Pulumi.dev.yaml").write_text(dev.replace(DEV, ARCHIVE))

    assert main(["plan", "--all", "--json", "--project-dir", str(tmp_path)]) == 1

    import json

    document = json.loads(capsys.readouterr().out)
    per_stack = {d["stack"]: {v["policy"] for v in d["violations"]} for d in document["stacks"]}
    assert per_stack == {
        "dev": {"deployment-name-unique"},
        "archive-test": {"deployment-name-unique"},
    }
    across = [(v["policy"], v["message"]) for v in document["acrossStacks"]]
    assert (
        "deployment-name-unique",
        "stack archive-test shares its deployment name with dev",
    ) in across
    assert (
        "stacks-share-no-physical-name",
        f"physical name '{ARCHIVE}-executions' is claimed by stacks archive-test, dev",
    ) in across


def test_pulumi_is_left_usable_after_a_broken_run() -> None:
    """Evaluating after a failed program still works (the runtime is reset per stack)."""
    assert evaluate("dev").outputs["deploymentName"] == DEV
    assert isinstance(pulumi.get_stack(), str)


def test_an_untraced_function_an_alarm_nobody_hears_and_a_dropped_async_failure_are_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from infra.components import function, observability

    # Subclasses, not functions: the policy pack reads each resource class's arguments
    # (``is_taggable``), and a test run alone must find a class there too.
    class Untraced(aws.lambda_.Function):
        def __init__(self, *args, **kwargs):
            if kwargs.get("name", "").endswith("-readiness"):
                kwargs["tracing_config"] = None
            super().__init__(*args, **kwargs)

    class Unheard(aws.cloudwatch.MetricAlarm):
        def __init__(self, *args, **kwargs):
            if kwargs.get("name", "").endswith("-api-5xx"):
                kwargs["alarm_actions"] = []
            super().__init__(*args, **kwargs)

    class Dropped(aws.lambda_.FunctionEventInvokeConfig):
        def __init__(self, resource_name, *args, **kwargs):
            if resource_name == "api-async":
                kwargs["destination_config"] = None
            super().__init__(resource_name, *args, **kwargs)

    monkeypatch.setattr(function.aws.lambda_, "Function", Untraced)
    monkeypatch.setattr(observability.aws.cloudwatch, "MetricAlarm", Unheard)
    monkeypatch.setattr(function.aws.lambda_, "FunctionEventInvokeConfig", Dropped)
    found = {(v.policy, v.message) for v in evaluate_stack(evaluate("dev"))}
    assert (
        "lambda-tracing-active",
        "tracing is 'off', not Active: its calls would not be traced",
    ) in found
    assert (
        "cloudwatch-alarm-has-action",
        f"alarm '{DEV}-api-5xx' notifies no one: it has no alarm action",
    ) in found
    assert (
        "lambda-async-failure-destination",
        f"function '{DEV}-api' has no on-failure destination: an asynchronous invocation "
        "that fails after Lambda's retries would be dropped unseen",
    ) in found
