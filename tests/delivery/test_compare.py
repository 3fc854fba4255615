"""drsctl compare: stacks that match in kind, and each kind of difference reported."""

from __future__ import annotations

import io
import shutil
from dataclasses import replace
from typing import TYPE_CHECKING

from drsctl.cli import main
from drsctl.compare import differences, live_profile, offline_profile, run_compare
from infra.functions import EXECUTION_FINDER
from infra.offline import REPO_ROOT, evaluate
from tests.delivery.test_verify import deployment  # noqa: F401 - fixture
from tests.infra.conftest import evaluated

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from tests.delivery.test_verify import Deployment


def test_the_two_real_stacks_match_in_kind() -> None:
    first, second = offline_profile(evaluated("dev")), offline_profile(evaluated("archive-test"))
    assert differences(first, second) == []
    assert first["function execution-finder memory"] == "256"
    assert "schedule <deployment>-execution-finder-schedule" in first
    assert not any("aws-elasticdrs" in key or "aws-drs" in key for key in first)


def test_drsctl_compare_exits_0_for_matching_stacks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "dev", "archive-test"]) == 0
    assert "dev and archive-test match in kind" in capsys.readouterr().out


def test_a_changed_handler_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    first = offline_profile(evaluated("dev"))
    other = replace(EXECUTION_FINDER, handler="drs_orchestrator.handlers.execution_finder._finder")
    monkeypatch.setattr("infra.components.orchestrator.EXECUTION_FINDER", other)
    second = offline_profile(evaluate("archive-test"))
    found = {d.aspect: (d.first, d.second) for d in differences(first, second)}
    assert found == {
        "function execution-finder handler": (
            "drs_orchestrator.handlers.execution_finder.handler",
            "drs_orchestrator.handlers.execution_finder._finder",
        )
    }


def test_an_added_environment_key_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from infra.components import orchestrator

    real = orchestrator.LambdaFunction

    def with_extra_key(name, args, opts=None):
        if args.package.function == "execution-finder":
            args.environment["FEATURE_FLAG"] = "on"
        return real(name, args, opts)

    first = offline_profile(evaluated("dev"))
    monkeypatch.setattr(orchestrator, "LambdaFunction", with_extra_key)
    second = offline_profile(evaluate("archive-test"))
    [difference] = differences(first, second)
    assert difference.aspect == "function execution-finder environment keys"
    assert "FEATURE_FLAG" in difference.second and "FEATURE_FLAG" not in difference.first


def test_a_changed_schedule_is_reported_with_exit_1(tmp_path: Path) -> None:
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.archive-test.yaml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    stack_file = tmp_path / "Pulumi.archive-test.yaml"
    stack_file.write_text(stack_file.read_text().replace("rate(1 minute)", "rate(5 minutes)"))
    out = io.StringIO()
    assert run_compare("dev", "archive-test", project_dir=tmp_path, out=out) == 1
    text = out.getvalue()
    assert "!= schedule <deployment>-execution-finder-schedule" in text
    assert "rate(5 minutes)" in text
    assert "1 difference(s) in kind between dev and archive-test." in text


def test_live_comparison_reads_the_deployed_functions(deployment: Deployment) -> None:  # noqa: F811
    same = live_profile(deployment.outputs, deployment.clients())
    assert differences(same, same) == []
    assert (
        same["function execution-finder package sha256"]
        == (deployment.outputs["executionFinderPackageSha256"])
    )
    assert same["schedule <deployment>-execution-finder-schedule"] == "rate(1 minute)"
    deployment.lambda_.update_function_configuration(
        FunctionName=deployment.outputs["executionFinderFunctionName"],
        MemorySize=512,
        Environment={"Variables": {"EXTRA": "1"}},
    )
    deployment.events.put_rule(
        Name=deployment.outputs["pollScheduleRuleName"],
        ScheduleExpression="rate(2 minutes)",
        State="ENABLED",
    )
    changed = live_profile(deployment.outputs, deployment.clients())
    assert {d.aspect for d in differences(same, changed)} == {
        "function execution-finder memory",
        "function execution-finder environment keys",
        "schedule <deployment>-execution-finder-schedule",
    }
    offline = offline_profile(evaluated("dev"))
    finder_aspects = {
        k
        for k in offline
        if k.startswith(("function execution-finder", "schedule <deployment>-execution-finder"))
    }
    assert finder_aspects == set(same), "live and offline profiles describe the same aspects"
