"""``drsctl compare --drill`` against two deployments of a real sandbox: identical ones
behave the same; an altered wave runner, a disabled finder schedule or a launch failure in
one of them is reported with the first divergent event; no drill instance is left behind."""

from __future__ import annotations

import io
import json
import time
import zipfile
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from drsctl.drill.planfile import load_plan_file
from drsctl.drill.run import run_drill_comparison, sandbox_targets
from infra.functions import WAVE_RUNNER
from infra.packaging import build_package
from tests.console.conftest import RunningSandbox, start_sandbox
from tests.drill.test_planfile import SHIPPED
from tests.patience import PATIENCE

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.sandbox

STACKS = ("dev", "archive-test")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    running = start_sandbox(
        tmp_path_factory.mktemp("compare"),
        *STACKS,
        "--no-seed",
        "--no-console",
        "--time-scale",
        "60",
        "--drs-phase-seconds",
        "1",
    )
    yield running
    running.stop()


def state(sandbox: RunningSandbox, stack: str) -> dict[str, Any]:
    return sandbox.get("/sandbox/state", stack=stack)


def aws(sandbox: RunningSandbox, stack: str, service: str) -> Any:
    info = state(sandbox, stack)["aws"]
    return boto3.client(
        service,
        region_name=info["region"],
        endpoint_url=info["endpoint"],
        aws_access_key_id=info["accessKeyId"],
        aws_secret_access_key="sandbox-secret",
    )


def steer_drs(sandbox: RunningSandbox, stack: str, failing: list[str]) -> None:
    from urllib.request import Request, urlopen

    request = Request(  # noqa: S310 - the sandbox on 127.0.0.1
        sandbox.urls[stack] + "/sandbox/drs",
        data=json.dumps({"failingServers": failing}).encode(),
        method="POST",
    )
    with urlopen(request, timeout=30):  # noqa: S310
        pass


def drill(sandbox: RunningSandbox, tmp_path: Path) -> tuple[int, str, dict[str, Any]]:
    out = io.StringIO()
    report = tmp_path / "compare.json"
    code = run_drill_comparison(
        sandbox_targets(STACKS, sandbox.workdir),
        load_plan_file(SHIPPED),
        json_out=report,
        timeout=PATIENCE,
        out=out,
    )
    for stack in STACKS:
        assert state(sandbox, stack)["drs"]["liveInstances"] == [], f"{stack} kept instances"
    # DRS refuses a new launch for a server still in a job: the next drill waits until the
    # TERMINATE jobs this one asked for are done.
    deadline = time.monotonic() + PATIENCE
    while any(
        job["status"] != "COMPLETED"
        for stack in STACKS
        for job in state(sandbox, stack)["drs"]["jobs"]
    ):
        assert time.monotonic() < deadline, "DRS jobs still running long after the drill"
        time.sleep(0.5)
    return code, out.getvalue(), json.loads(report.read_text())


def test_two_identical_deployments_behave_the_same(sandbox: RunningSandbox, tmp_path: Path) -> None:
    code, text, document = drill(sandbox, tmp_path)
    assert code == 0, text
    assert "verdict: SAME BEHAVIOUR" in text
    assert document["verdict"] == "same behaviour" and document["differences"] == []
    first = document["traces"]["first"]
    assert first["pauses"] == ["App tier"]
    assert first["state_path"][0] == "Start" and first["state_path"][-1] == "Completed"
    # Batch depends on nothing: whether it is still launching when the app tier starts is
    # timing (on a busy machine it is not), so only waves the plan orders are compared,
    # and none of those may overlap.
    assert first["overlaps"] in ([], [["App tier", "Batch"]])
    assert first["overlaps_out_of_order"] == []
    assert "dev: drill instances terminated" in text


def test_a_launch_failure_in_one_deployment_is_reported_on_its_server(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    steer_drs(sandbox, "archive-test", ["s-0ba00000000000002"])
    try:
        code, text, document = drill(sandbox, tmp_path)
    finally:
        steer_drs(sandbox, "archive-test", [])
    assert code == 1
    differences = {(d["aspect"], d["subject"]): d for d in document["differences"]}
    server = differences[("server launch status", "s-0ba00000000000002")]
    assert (server["first"], server["second"]) == ("LAUNCHED", "FAILED")
    assert ("DRS job event types", "s-0ba00000000000002") in differences
    # The failing run parts from the other with a failure (the batch wave's, or the
    # execution's: which comes first depends on how the overlapping waves interleave).
    divergence = document["firstDivergence"]
    assert "FAILED" in divergence["second"] and "FAILED" not in divergence["first"]


def test_a_disabled_finder_schedule_is_reported(sandbox: RunningSandbox, tmp_path: Path) -> None:
    events = aws(sandbox, "archive-test", "events")
    [rule] = [
        r["Name"]
        for r in events.list_rules()["Rules"]
        if r["Name"].endswith("archive-test-execution-finder-schedule")
    ]
    events.disable_rule(Name=rule)
    try:
        code, text, document = drill(sandbox, tmp_path)
    finally:
        events.enable_rule(Name=rule)
    assert code == 1
    [polling] = [
        d
        for d in document["differences"]
        if d["aspect"] == "progress recorded by the scheduled finder"
    ]
    assert (polling["first"], polling["second"]) == ("yes", "no (only the wave runner's fallback)")
    divergence = document["firstDivergence"]
    assert divergence["first"].startswith("progress first recorded by the schedule")
    assert divergence["second"].startswith("the scheduled finder never recorded progress")


def test_a_wave_runner_that_ignores_dependencies_is_reported(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    lambda_ = aws(sandbox, "archive-test", "lambda")
    [name] = [
        f["FunctionName"]
        for f in lambda_.list_functions()["Functions"]
        if f["FunctionName"].endswith("archive-test-wave-runner")
    ]
    package = build_package(WAVE_RUNNER, tmp_path / "build")
    altered = io.BytesIO()
    with zipfile.ZipFile(package.path) as source, zipfile.ZipFile(altered, "w") as target:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "drs_orchestrator/domain/runner.py":
                original = b'wave.get("dependsOn", [])'
                assert original in data
                data = data.replace(original, b"[]")
            target.writestr(entry, data)
    lambda_.update_function_code(FunctionName=name, ZipFile=altered.getvalue())
    try:
        code, text, document = drill(sandbox, tmp_path)
    finally:
        lambda_.update_function_code(FunctionName=name, ZipFile=package.path.read_bytes())
    assert code == 1
    aspects = {d["aspect"] for d in document["differences"]}
    # Without its dependency, the app tier asks for approval at the first tick, beside the
    # databases, instead of after they were ready: that is where the two runs part. (A
    # pause holds only its own wave, so the machine's state path can stay the same while
    # the databases launch; the order and overlap of the waves cannot.)
    assert {"wave start order", "overlapping waves"} <= aspects
    divergence = document["firstDivergence"]
    assert divergence["first"].startswith("wave 'Databases' started")
    assert divergence["second"].startswith("wave 'App tier' paused for approval")
