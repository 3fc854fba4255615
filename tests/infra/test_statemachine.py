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
    broken["States"]["Sleep"]["Next"] = "Nowhere"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    result = subprocess.run([statelint, str(path)], capture_output=True, text=True, check=False)
    assert result.returncode != 0


def test_the_machine_only_loops_sleeps_pauses_and_ends() -> None:
    states = json.loads(ASL_PATH.read_text())["States"]
    assert {s["Type"] for s in states.values()} == {"Task", "Choice", "Succeed", "Fail"}
    tasks = [s for s in states.values() if s["Type"] == "Task"]
    assert {t["Parameters"]["Payload"]["action"] for t in tasks} == {
        "start",
        "tick",
        "sleep",
        "awaitApproval",
        "finalise",
    }
    approval = states["AwaitApproval"]
    assert approval["Resource"].endswith("lambda:invoke.waitForTaskToken")
    assert approval["Parameters"]["Payload"]["taskToken.$"] == "$$.Task.Token"
    # The approval wait ends when the oldest approval times out; the next tick fails it.
    assert approval["TimeoutSecondsPath"] == "$.runner.approvalTimeoutSeconds"
    assert {"ErrorEquals": ["States.Timeout"], "ResultPath": None, "Next": "Tick"} in approval[
        "Catch"
    ]


def test_between_ticks_the_machine_sleeps_until_woken_or_its_poll_interval_ends() -> None:
    """Event-driven waves: the sleep is a callback task whose token a DRS launch result
    hands back; its timeout is the poll interval and leads to the tick, as being woken
    does; the wake count a tick saw travels to the sleep that follows it."""
    states = json.loads(ASL_PATH.read_text())["States"]
    sleep = states["Sleep"]
    assert sleep["Resource"].endswith("lambda:invoke.waitForTaskToken")
    payload = sleep["Parameters"]["Payload"]
    assert payload["taskToken.$"] == "$$.Task.Token"
    assert payload["wakes.$"] == "$.runner.wakes"
    assert sleep["TimeoutSecondsPath"] == "$.runner.waitSeconds"
    assert sleep["Next"] == "Tick"
    assert sleep["ResultPath"] is None, "a wake's output must not replace the runner's result"
    assert {"ErrorEquals": ["States.Timeout"], "ResultPath": None, "Next": "Tick"} in sleep["Catch"]
    assert states["Route"]["Default"] == "Sleep"
    # A zero interval (the tests' pacing) goes straight to the next tick.
    assert {"Variable": "$.runner.waitSeconds", "NumericEquals": 0, "Next": "Tick"} in states[
        "Route"
    ]["Choices"]
    for ticking in ("Start", "Tick"):
        assert states[ticking]["ResultSelector"]["wakes.$"] == "$.Payload.wakes"


def test_every_task_has_a_catch_that_leads_to_the_reason_written_down() -> None:
    """every-execution-ends: no task error can end the machine without the record knowing."""
    states = json.loads(ASL_PATH.read_text())["States"]
    for name, state in states.items():
        if state["Type"] != "Task":
            continue
        catch_all = [c for c in state.get("Catch", []) if c["ErrorEquals"] == ["States.ALL"]]
        assert catch_all, f"{name} has no Catch for States.ALL"
        # The sleep decides nothing: a failed sleep goes to the tick, whose Catch (checked
        # here too) leads to Finalise.
        expected = {"Finalise": "Failed", "Sleep": "Tick"}.get(name, "Finalise")
        assert catch_all[0]["Next"] == expected, name
    assert states["Finalise"]["Parameters"]["Payload"]["error.$"] == "$.error"


def test_the_machine_counts_its_ticks_and_can_hand_over_to_a_fresh_run() -> None:
    """long-runs-fit: the runner sees how many ticks this run made and ends the run with
    CONTINUE_AS_NEW once it has started the next one."""
    states = json.loads(ASL_PATH.read_text())["States"]
    assert states["Start"]["Parameters"]["Payload"]["run"]["ticks"] == 1
    assert (
        states["Tick"]["Parameters"]["Payload"]["run"]["ticks.$"]
        == "States.MathAdd($.runner.ticks, 1)"
    )
    routes = {
        c["StringEquals"]: c["Next"] for c in states["Route"]["Choices"] if "StringEquals" in c
    }
    assert routes["CONTINUE_AS_NEW"] == "HandedOver"
    assert states["HandedOver"]["Type"] == "Succeed"


def test_every_task_points_at_the_given_runner() -> None:
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:d-wave-runner"
    states = json.loads(definition(arn))["States"]
    assert {s["Parameters"]["FunctionName"] for s in states.values() if s["Type"] == "Task"} == {
        arn
    }
