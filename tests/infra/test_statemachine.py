"""The recovery state machine's ASL: valid by statelint, small, and pointed at the runner."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from infra.statemachine import ASL_PATH, definition


def test_statelint_accepts_the_definition(tmp_path: Path) -> None:
    statelint = shutil.which("statelint", path=str(Path(sys.executable).parent))
    assert statelint, "statelint is installed with the dev dependencies"
    filled = tmp_path / "recovery.json"
    filled.write_text(definition("arn:aws:lambda:us-east-1:123456789012:function:x-wave-runner"))
    for path in (ASL_PATH, filled):
        result = subprocess.run([statelint, str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


def test_statelint_would_catch_a_broken_definition(tmp_path: Path) -> None:
    statelint = shutil.which("statelint", path=str(Path(sys.executable).parent))
    broken = json.loads(ASL_PATH.read_text())
    broken["States"]["Wait"]["Next"] = "Nowhere"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    result = subprocess.run([statelint, str(path)], capture_output=True, text=True, check=False)
    assert result.returncode != 0


def test_the_machine_only_loops_waits_pauses_and_ends() -> None:
    states = json.loads(ASL_PATH.read_text())["States"]
    assert {s["Type"] for s in states.values()} == {"Task", "Choice", "Wait", "Succeed", "Fail"}
    tasks = [s for s in states.values() if s["Type"] == "Task"]
    assert {t["Parameters"]["Payload"]["action"] for t in tasks} == {
        "start",
        "tick",
        "awaitApproval",
    }
    approval = states["AwaitApproval"]
    assert approval["Resource"].endswith("lambda:invoke.waitForTaskToken")
    assert approval["Parameters"]["Payload"]["taskToken.$"] == "$$.Task.Token"


def test_every_task_points_at_the_given_runner() -> None:
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:d-wave-runner"
    states = json.loads(definition(arn))["States"]
    assert {s["Parameters"]["FunctionName"] for s in states.values() if s["Type"] == "Task"} == {
        arn
    }
