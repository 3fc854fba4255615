"""``drsctl plan``: one row per resource, totals, outputs; JSON for machines."""

from __future__ import annotations

import json

import pytest

from drsctl.cli import main
from tests.infra.conftest import STACKS
from tests.infra.test_program import EXPECTED_RESOURCES


@pytest.mark.parametrize("stack", STACKS)
def test_plan_json_lists_every_resource_with_totals(
    stack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", stack, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    rows = document["resources"]
    assert document["stack"] == stack
    custom = sum(EXPECTED_RESOURCES.values())
    assert document["totals"]["components"] == 17
    assert document["totals"]["resources"] == custom
    assert sum(document["totals"]["byType"].values()) == custom
    function = next(r for r in rows if r["name"] == "execution-finder-function")
    assert function["physicalName"] == f"{document['deploymentName']}-execution-finder"
    assert function["parent"] == "LambdaFunction"
    assert document["outputs"]["executionFinderFunctionName"] == function["physicalName"]


def test_plan_table_shows_names_parents_and_protection(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "archive-test"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Stack archive-test -> deployment aws-drs-orchestrator-archive-test")
    table_line = next(line for line in out.splitlines() if "executions-table" in line)
    assert "aws-drs-orchestrator-archive-test-executions" in table_line
    assert "Datastore" in table_line and table_line.rstrip().endswith("yes")
    assert f"{sum(EXPECTED_RESOURCES.values())} resources in 17 components" in out


def test_plan_reports_bad_config_with_exit_status_2(
    capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: drs-orchestrator\nruntime: python\n")
    (tmp_path / "Pulumi.broken.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  drs-orchestrator:deploymentName: x\n"
    )
    assert main(["plan", "broken", "--project-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "stack 'broken' has invalid configuration" in err
    assert "'drs-orchestrator:adminEmail': required" in err


def test_plan_rejects_an_unreadable_policy_config(
    capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    bad = tmp_path / "config.json"
    bad.write_text("[1, 2]")
    assert main(["plan", "dev", "--policy-config", str(bad)]) == 2
    assert "must be a JSON object keyed by policy name" in capsys.readouterr().err


def test_a_package_that_cannot_be_built_is_exit_status_2_naming_why(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from drsctl.commands import plan
    from infra.packaging import HandlerProofError

    def refuse(_args: object) -> int:
        msg = "function 'api': handler 'x.handler' does not load from its package"
        raise HandlerProofError(msg)

    monkeypatch.setattr(plan, "run", refuse)
    assert main(["plan", "dev"]) == 2
    assert capsys.readouterr().err == (
        "drsctl plan: function 'api': handler 'x.handler' does not load from its package\n"
    )


def test_any_other_failure_is_not_passed_off_as_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from drsctl.commands import plan

    def fail(_args: object) -> int:
        raise KeyError("a bug")

    monkeypatch.setattr(plan, "run", fail)
    with pytest.raises(KeyError, match="a bug"):
        main(["plan", "dev"])


def test_drsctl_starts_without_pulumi_or_botocore() -> None:
    """A client of a deployment (plans, drills, executions) is not kept waiting for the
    program's evaluator: the command line and its parser load neither."""
    import subprocess
    import sys

    from tests.console.conftest import ROOT

    probe = (
        "import sys; from drsctl.cli import _parser; _parser(); "
        "print(sorted(m for m in ('pulumi', 'botocore', 'boto3', 'moto') if m in sys.modules))"
    )
    run = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "[]"
