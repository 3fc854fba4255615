"""The pack's ``__main__.py`` as the Pulumi CLI runs it: a gRPC analyzer serving our rules."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import pytest
from drs_policy import POLICIES
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from tests.patience import PATIENCE
from tests.policy.helpers import ARCHIVE, DEV, tags

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "policy"


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """Start the pack exactly as the CLI does (``python __main__.py`` in the pack folder)."""
    process = subprocess.Popen(
        [sys.executable, "__main__.py"],
        cwd=PACK,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        line = process.stdout.readline().decode().strip()
        if not line.isdigit():
            process.kill()
            pytest.fail(f"pack did not start: {line} {process.stderr.read().decode()[-2000:]}")
        channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.kill()
        process.wait(timeout=10)


def test_pack_serves_every_rule(analyzer) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=PATIENCE)
    assert info.name == "drs-orchestrator"
    assert sorted(p.name for p in info.policies) == sorted(p.name for p in POLICIES)


def test_pack_reports_a_violation_through_the_engine_path(analyzer) -> None:
    properties = struct_pb2.Struct()
    properties.update(
        {
            "name": f"{DEV}-executions",
            "pointInTimeRecovery": {"enabled": False},
            "serverSideEncryption": {"enabled": True},
            "tags": tags(),
            "streamArn": f"arn:aws:dynamodb:us-east-1:123456789012:table/{ARCHIVE}-executions",
        }
    )
    response = analyzer.Analyze(
        analyzer_pb2.AnalyzeRequest(
            type="aws:dynamodb/table:Table",
            properties=properties,
            urn="urn:pulumi:dev::drs-orchestrator::aws:dynamodb/table:Table::executions-table",
            name="executions-table",
        ),
        timeout=PATIENCE,
    )
    # The engine path puts the rule's description on the first line of each message.
    found = {(d.policyName, d.message.split("\n", 1)[1]) for d in response.diagnostics}
    assert all(d.enforcementLevel == analyzer_pb2.MANDATORY for d in response.diagnostics)
    assert found == {
        ("dynamodb-point-in-time-recovery", "point-in-time recovery is not enabled"),
        (
            "no-cross-deployment-references",
            f"property 'streamArn' refers to deployment '{ARCHIVE}': "
            f"'arn:aws:dynamodb:us-east-1:123456789012:table/{ARCHIVE}-executions'",
        ),
    }


def test_pack_requirements_pin_the_locked_versions() -> None:
    """policy/requirements.txt (the CLI's pack venv) must match uv.lock, or the two drift."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"]}
    pins = dict(re.findall(r"^([\w-]+)==([\w.]+)", (PACK / "requirements.txt").read_text(), re.M))
    assert pins, "requirements.txt pins its versions"
    assert {name: locked.get(name) for name in pins} == pins


def test_pack_readme_lists_every_rule() -> None:
    readme = (PACK / "README.md").read_text()
    for policy in POLICIES:
        assert f"| `{policy.name}` |" in readme and policy.description in readme, policy.name


def test_example_policy_config_is_accepted_offline(capsys: pytest.CaptureFixture[str]) -> None:
    from drsctl.cli import main

    assert main(["plan", "dev", "--policy-config", str(PACK / "config.example.json")]) == 0
    assert "0 policy violation(s)" in capsys.readouterr().err


def _uv() -> str | None:
    """The uv the README's set-up installed (``DRS_UV``, exported by scripts/ensure-uv.sh,
    which may have put it under .tools/), else one on PATH or beside this interpreter."""
    import shutil as sh

    candidates = [
        os.environ.get("DRS_UV"),
        sh.which("uv"),
        sh.which("uv", path=str(Path(sys.executable).parent)),
        str(ROOT / ".tools" / "uv-venv" / "bin" / "uv"),
    ]
    return next((c for c in candidates if c and Path(c).is_file()), None)


@pytest.mark.slow
def test_pack_starts_in_an_environment_made_from_its_own_requirements(tmp_path: Path) -> None:
    """What the CLI does on first use: a fresh venv from policy/requirements.txt, then the pack."""
    uv = _uv()
    if uv is None:
        if os.environ.get("CI"):
            pytest.fail("uv not found: scripts/test.sh sets DRS_UV to the uv it installed")
        pytest.skip("uv not found (run the suite with ./scripts/test.sh, which sets DRS_UV)")
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            "-r",
            str(PACK / "requirements.txt"),
        ],
        check=True,
    )
    process = subprocess.Popen(
        [str(python), "__main__.py"], cwd=PACK, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        line = process.stdout.readline().decode().strip()
        assert line.isdigit(), process.stderr.read().decode()[-2000:]
    finally:
        process.kill()
        process.wait(timeout=10)
