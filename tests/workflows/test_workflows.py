"""The GitHub Actions workflows: linted, audited, and shaped as the delivery design says."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra.offline import stack_files

ROOT = Path(__file__).resolve().parents[2]
GITHUB = ROOT / ".github"
WORKFLOWS = {p.stem: p for p in sorted((GITHUB / "workflows").glob("*.yml"))}
STACKS = sorted(stack_files(ROOT))


def load(name: str) -> dict:
    document = yaml.safe_load(WORKFLOWS[name].read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads 'on' as true
    return document


def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    assert found, f"{name} is not installed in the environment (uv sync)"
    return found


def test_actionlint_passes() -> None:
    result = subprocess.run(
        [tool("actionlint")], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_offline_audit_passes() -> None:
    result = subprocess.run(
        [tool("zizmor"), "--offline", ".github"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_workflows_exist() -> None:
    assert set(WORKFLOWS) == {"quality", "pull-request", "deploy", "manual", "compare"}


def test_compare_drills_both_stacks_and_uploads_the_report() -> None:
    compare = load("compare")
    assert set(compare["on"]) == {"workflow_dispatch"}
    inputs = compare["on"]["workflow_dispatch"]["inputs"]
    assert inputs["plan-file"]["default"] == "drills/orders-three-tier.yaml"
    assert (ROOT / inputs["plan-file"]["default"]).exists()
    outputs = compare["jobs"]["outputs"]
    assert outputs["environment"] == "${{ matrix.stack }}"
    assert outputs["permissions"]["id-token"] == "write"
    job = compare["jobs"]["compare"]
    assert job["needs"] == "outputs" and "id-token" not in job["permissions"]
    run = next(s["run"] for s in job["steps"] if s.get("name") == "drsctl compare --drill")
    assert "drsctl compare" in run and "--drill" in run and "--json compare-report.json" in run
    upload = job["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact@") and upload["if"] == "always()"


def test_deploy_runs_dev_then_archive_test_one_at_a_time() -> None:
    deploy = load("deploy")
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    job = deploy["jobs"]["deploy"]
    assert job["needs"] == "gates"
    assert job["strategy"]["matrix"]["stack"] == ["dev", "archive-test"]
    assert sorted(job["strategy"]["matrix"]["stack"]) == STACKS
    assert job["strategy"]["max-parallel"] == 1
    assert job["strategy"]["fail-fast"] is False
    assert job["environment"] == "${{ matrix.stack }}"
    assert job["concurrency"] == {
        "group": "deploy-${{ matrix.stack }}",
        "cancel-in-progress": False,
    }
    assert deploy["jobs"]["gates"]["uses"] == "./.github/workflows/quality.yml"


def test_pull_requests_preview_every_stack_after_the_gates() -> None:
    pr = load("pull-request")
    job = pr["jobs"]["preview"]
    assert job["needs"] == "gates"
    assert sorted(job["strategy"]["matrix"]["stack"]) == STACKS
    assert job["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    commands = "\n".join(step.get("run", "") for step in job["steps"])
    assert "gh pr comment" in commands


def test_manual_dispatch_offers_each_stack_and_both_commands() -> None:
    manual = load("manual")
    inputs = manual["on"]["workflow_dispatch"]["inputs"]
    assert sorted(inputs["stack"]["options"]) == STACKS
    assert inputs["command"]["options"] == ["preview", "up"]
    assert manual["jobs"]["run"]["environment"] == "${{ inputs.stack }}"


def test_gates_run_the_readme_test_command_and_every_check() -> None:
    steps = load("quality")["jobs"]["gates"]["steps"]
    commands = [step.get("run", "") for step in steps]
    readme = (ROOT / "README.md").read_text()
    assert "./scripts/test.sh" in commands and "./scripts/test.sh" in readme
    joined = "\n".join(commands)
    for expected in (
        "ruff check",
        "bandit",
        "actionlint",
        "zizmor --offline",
        "./scripts/plan.sh --all",
        "./scripts/plan.sh --bootstrap --all",
    ):
        assert expected in joined, expected


def _all_text() -> str:
    return "\n".join(p.read_text() for p in GITHUB.rglob("*.yml"))


def _run_scripts() -> list[str]:
    scripts = []
    for path in GITHUB.rglob("*.yml"):
        document = yaml.safe_load(path.read_text()) or {}
        jobs = document.get("jobs") or {}
        steps = [s for job in jobs.values() for s in job.get("steps", [])]
        steps += (document.get("runs") or {}).get("steps", [])
        scripts += [step["run"] for step in steps if "run" in step]
    return scripts


def test_every_preview_and_up_uses_the_policy_pack() -> None:
    invocations = re.findall(
        r"^\s*pulumi (?:preview|up)\b[^\n]*", "\n".join(_run_scripts()), re.MULTILINE
    )
    assert len(invocations) >= 4
    for invocation in invocations:
        assert "--policy-pack policy" in invocation, invocation


def test_oidc_permission_only_where_a_role_is_assumed() -> None:
    for name in WORKFLOWS:
        workflow = load(name)
        assert workflow.get("permissions") == {}, f"{name}: top-level permissions must be empty"
        for job_name, job in workflow["jobs"].items():
            uses_oidc = any(
                "configure-aws-credentials" in s.get("uses", "") for s in job.get("steps", [])
            )
            has_token = (job.get("permissions") or {}).get("id-token") == "write"
            assert uses_oidc == has_token, f"{name}.{job_name}"


def test_no_long_lived_aws_keys_anywhere() -> None:
    text = _all_text()
    for forbidden in (
        "aws-access-key-id",
        "aws-secret-access-key",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ):
        assert forbidden not in text


def test_external_actions_are_pinned_to_a_commit_with_a_version_comment() -> None:
    uses = re.findall(r"uses:\s*(\S+)([^\n]*)", _all_text())
    external = [(ref, rest) for ref, rest in uses if not ref.startswith("./")]
    assert external
    for ref, comment in external:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), ref
        assert re.search(r"#\s*v\d+(\.\d+)*", comment), f"{ref} lacks a version comment"


def test_checkouts_do_not_persist_credentials() -> None:
    for name in WORKFLOWS:
        for job in load(name)["jobs"].values():
            for step in job.get("steps", []):
                if "actions/checkout" in step.get("uses", ""):
                    assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("name", ["deploy", "manual"])
def test_deploys_are_verified(name: str) -> None:
    steps = next(iter(j for j in load(name)["jobs"].values() if "steps" in j))["steps"]
    assert any("drsctl verify" in step.get("run", "") for step in steps)


def test_every_job_has_the_lambda_runtimes_python_to_build_packages_with() -> None:
    """Packages carry bytecode for the runtime's Python and are proven with it: the shared
    setup installs that version, so CI builds the same zips as the deploy."""
    from infra.packaging import LAMBDA_PYTHON_VERSION

    setup = yaml.safe_load((ROOT / ".github" / "actions" / "setup" / "action.yml").read_text())
    commands = [step.get("run", "") for step in setup["runs"]["steps"]]
    assert f"uv python install {LAMBDA_PYTHON_VERSION}" in commands


def test_no_workflow_creates_a_stack_unless_asked() -> None:
    """``pulumi stack select --create`` on every deploy would turn a stack the backend lost
    into an empty one, and ``pulumi up`` would then declare every resource again."""
    for name, path in WORKFLOWS.items():
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            if "pulumi stack select" in line and "--create" in line:
                guard = lines[number - 1].strip()
                assert name == "manual", f"{name}.yml line {number + 1} creates a stack"
                assert guard == 'if [ "$CREATE_STACK" = true ]; then', guard
    manual = load("manual")
    create = manual["on"]["workflow_dispatch"]["inputs"]["create-stack"]
    assert create["type"] == "boolean" and create["default"] is False
    deploy = WORKFLOWS["deploy"].read_text()
    assert 'if ! pulumi stack select "$STACK" --non-interactive; then' in deploy


def test_every_job_and_step_has_a_timeout_within_its_jobs() -> None:
    """A hung step ends at its own bound (GitHub's default is six hours), and a step's bound
    never exceeds its job's: the job's would end it first, and the step's would only mislead
    (the gates' suite step once allowed 35 minutes inside a 30-minute job)."""
    for name in WORKFLOWS:
        for job_name, job in load(name)["jobs"].items():
            where = f"{name}.yml job {job_name}"
            if "uses" in job:  # a reusable workflow: its own jobs carry the bounds
                continue
            assert isinstance(job.get("timeout-minutes"), int), f"{where} has no timeout"
            for step in job.get("steps", []):
                bound = step.get("timeout-minutes")
                assert bound is None or bound < job["timeout-minutes"], (
                    f"{where} step {step.get('name') or step.get('uses')}: {bound} minutes "
                    f"in a {job['timeout-minutes']}-minute job"
                )
